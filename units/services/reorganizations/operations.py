"""Which service applies each operation kind, with the reorganization's write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from units.models import (
    NEWEST_REVISION_FIRST,
    Appointment,
    OperationKind,
    OrganizationalUnit,
    Person,
    Post,
    UnitRelationship,
)
from units.services.abolitions import unit_abolish
from units.services.appointments import appointment_end, appointment_start
from units.services.placements import unit_move_to_position
from units.services.posts import post_abolish, post_create, post_revert, post_update
from units.services.refusals import Refusal
from units.services.relationships import relationship_create, relationship_end
from units.services.reorganizations.lineage_operations import LINEAGE_APPLY
from units.services.revisions import Write
from units.services.unit_reverts import unit_reinstate
from units.services.units import unit_create, unit_move, unit_update


def _by_slug(model: type[models.Model], slug: str) -> Any:
    found = model._default_manager.filter(slug=slug).first()
    if found is None:
        raise ValidationError(
            f"No {model._meta.verbose_name} has the slug “{slug}”.",
            code=Refusal.NOT_FOUND,
        )
    return found


def _unit(slug: str | None) -> OrganizationalUnit | None:
    return None if slug is None else _by_slug(OrganizationalUnit, slug)


def _establish(payload: dict[str, Any], write: Write) -> None:
    fields = {key: value for key, value in payload.items() if key != "parent"}
    unit_create(parent=_unit(payload.get("parent")), **write.keywords(), **fields)


def _change(payload: dict[str, Any], write: Write) -> None:
    unit_update(
        unit=_by_slug(OrganizationalUnit, payload["unit"]),
        **write.keywords(),
        **payload["fields"],
    )


def _move(payload: dict[str, Any], write: Write) -> None:
    unit = _by_slug(OrganizationalUnit, payload["unit"])
    if "position" in payload:
        unit_move_to_position(
            unit=unit,
            target=_by_slug(OrganizationalUnit, payload["target"]),
            position=payload["position"],
            reporting_line=payload.get("reporting_line"),
            **write.keywords(),
        )
        return
    unit_move(
        unit=unit,
        new_parent=_unit(payload["parent"]),
        reporting_line=payload.get("reporting_line"),
        **write.keywords(),
    )


def _abolish(payload: dict[str, Any], write: Write) -> None:
    destinations = None
    if "sub_units" in payload:
        destinations = {
            _by_slug(OrganizationalUnit, child).pk: (
                None if target is None else _by_slug(OrganizationalUnit, target).pk
            )
            for child, target in payload["sub_units"].items()
        }
    unit_abolish(
        unit=_by_slug(OrganizationalUnit, payload["unit"]),
        sub_unit_destinations=destinations,
        **write.keywords(),
    )


def _reinstate(payload: dict[str, Any], write: Write) -> None:
    """Back to the unit's last version before its abolition (``unit_reinstate``)."""
    unit_reinstate(
        unit=_by_slug(OrganizationalUnit, payload["unit"]), **write.keywords()
    )


def _last_active_version(instance: Any) -> int:
    """The history_id of a unit's or post's last version before its abolition."""
    before = (
        instance.history.filter(abolished_on__isnull=True)
        .order_by(*NEWEST_REVISION_FIRST)
        .values_list("history_id", flat=True)
        .first()
    )
    if before is None:
        raise ValidationError(
            f"“{instance}” has no recorded version before its abolition.",
            code=Refusal.NOT_FOUND,
        )
    return int(before)


def _appoint(payload: dict[str, Any], write: Write) -> None:
    appointment_start(
        person=_by_slug(Person, payload["person"]),
        post=_by_slug(Post, payload["post"]),
        started_on=write.effective_at.date(),
        note=payload.get("note", ""),
        **write.keywords(),
    )


def _end_appointment(payload: dict[str, Any], write: Write) -> None:
    post = _by_slug(Post, payload["post"])
    holder = Appointment.objects.filter(post=post, ended_on__isnull=True).first()
    if holder is None:
        raise ValidationError(
            f"Nobody holds “{post}”; there is no appointment to end.",
            code=Refusal.ALREADY_ENDED,
        )
    appointment_end(
        appointment=holder,
        ended_on=write.effective_at.date(),
        **write.keywords(),
    )


def _add_dotted_line(payload: dict[str, Any], write: Write) -> None:
    relationship_create(
        source=_by_slug(OrganizationalUnit, payload["source"]),
        target=_by_slug(OrganizationalUnit, payload["target"]),
        kind=payload["kind"],
        description=payload.get("description", ""),
        **write.keywords(),
    )


def _end_dotted_line(payload: dict[str, Any], write: Write) -> None:
    source = _by_slug(OrganizationalUnit, payload["source"])
    target = _by_slug(OrganizationalUnit, payload["target"])
    line = UnitRelationship.objects.filter(
        source=source, target=target, kind=payload["kind"], ended_on__isnull=True
    ).first()
    if line is None:
        raise ValidationError(
            f"“{source}” has no current “{payload['kind']}” line to “{target}”.",
            code=Refusal.ALREADY_ENDED,
        )
    relationship_end(relationship=line, **write.keywords())


def _create_post(payload: dict[str, Any], write: Write) -> None:
    fields = {key: value for key, value in payload.items() if key != "unit"}
    post_create(
        unit=_by_slug(OrganizationalUnit, payload["unit"]), **write.keywords(), **fields
    )


def _change_post(payload: dict[str, Any], write: Write) -> None:
    fields = dict(payload["fields"])
    if "unit" in fields:
        fields["unit"] = _by_slug(OrganizationalUnit, fields["unit"])
    post_update(post=_by_slug(Post, payload["post"]), **write.keywords(), **fields)


def _abolish_post(payload: dict[str, Any], write: Write) -> None:
    post_abolish(post=_by_slug(Post, payload["post"]), **write.keywords())


def _reinstate_post(payload: dict[str, Any], write: Write) -> None:
    """Back to the post's last version before its abolition (``post_revert``)."""
    post = _by_slug(Post, payload["post"])
    if post.is_active:
        raise ValidationError(
            f"The post “{post}” is not abolished; there is nothing to reinstate.",
            code=Refusal.NO_CHANGE,
        )
    before = _last_active_version(post)
    post_revert(post=post, history_id=before, **write.keywords())


APPLY: dict[str, Callable[[dict[str, Any], Write], None]] = {
    OperationKind.ESTABLISH_UNIT: _establish,
    OperationKind.CHANGE_UNIT: _change,
    OperationKind.MOVE_UNIT: _move,
    OperationKind.ABOLISH_UNIT: _abolish,
    OperationKind.REINSTATE_UNIT: _reinstate,
    OperationKind.APPOINT: _appoint,
    OperationKind.END_APPOINTMENT: _end_appointment,
    OperationKind.ADD_DOTTED_LINE: _add_dotted_line,
    OperationKind.END_DOTTED_LINE: _end_dotted_line,
    OperationKind.CREATE_POST: _create_post,
    OperationKind.CHANGE_POST: _change_post,
    OperationKind.ABOLISH_POST: _abolish_post,
    OperationKind.REINSTATE_POST: _reinstate_post,
    # Lineage: merge, split, replace, absorb (lineage_operations).
    **LINEAGE_APPLY,
}

"""Units: establish, change and move (under a new parent).

Every tree write of the registry goes through here (``abolitions``, ``unit_reverts``
and ``placements`` call ``unit_move``), so django-mptt and simple-history are handled
in one place: parents are re-read under the registry lock before mptt computes a move,
moves into a unit's own subtree are refused (now and at every instant since a
backdated move), and each changed unit leaves exactly one history row.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from units.content_languages import (
    UNIT_TRANSLATED,
    clean_translations,
    language_fields,
    translation_fields,
)
from units.dates import moment_text
from units.models import REVISION_ORDER, OrganizationalUnit, ReportingLine
from units.selectors import states_as_of
from units.services.corrections import REQUESTED, asks_for_past_change
from units.services.refusals import Refusal
from units.services.revisions import (
    Actor,
    EffectiveTime,
    apply_changes,
    begin_write,
    check_effective_time,
    check_unit_usable,
    check_version,
    fresh,
    is_correction,
    save_revision,
    unique_slug,
)
from units.services.tree import check_position_free, place_in_tree

# Gap between the sibling orders the services hand out, so a unit can usually be placed
# between two siblings without renumbering them.
SIBLING_ORDER_STEP = 10
# Slugs no unit may take: the API reads them as addresses (POST units/abolish/).
RESERVED_UNIT_SLUGS = frozenset({"abolish"})

UNIT_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "short_name",
        "kind",
        "mandate",
        "location",
        "learn_more_url",
        "provenance",
        "reporting_line",
        "sibling_order",
        *translation_fields(UNIT_TRANSLATED),
    }
)


def locked_new_parent(
    unit: OrganizationalUnit,
    new_parent: OrganizationalUnit | int,
    effective_at: datetime.datetime,
) -> OrganizationalUnit:
    """Re-read and check the parent a unit moves under; refuse cycles."""
    # The locked, re-read parent carries current tree fields; a stale copy would make
    # mptt compute the move from wrong lft/rght values and corrupt the tree.
    new_parent = fresh(OrganizationalUnit, new_parent)
    if new_parent.pk == unit.pk:
        raise ValidationError(f"“{unit}” cannot report to itself.", code=Refusal.CYCLE)
    if is_inside(new_parent, unit):
        raise ValidationError(
            f"“{unit}” cannot report to “{new_parent}”: that unit is inside its own "
            "subtree, which would make a cycle.",
            code=Refusal.CYCLE,
        )
    check_unit_usable(new_parent, effective_at)
    return new_parent


def is_inside(candidate: OrganizationalUnit, unit: OrganizationalUnit) -> bool:
    """Whether ``candidate`` lies in ``unit``'s subtree (``unit`` itself excluded)."""
    return (
        OrganizationalUnit.objects.descendants_of(unit).filter(pk=candidate.pk).exists()
    )


def next_sibling_order(parent: OrganizationalUnit | None) -> int:
    siblings = OrganizationalUnit.objects.children_of(parent)
    highest = siblings.aggregate(models.Max("sibling_order"))["sibling_order__max"]
    return SIBLING_ORDER_STEP if highest is None else highest + SIBLING_ORDER_STEP


@transaction.atomic
def unit_create(
    *,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    name: str,
    kind: str,
    parent: OrganizationalUnit | None = None,
    slug: str = "",
    short_name: str = "",
    mandate: str = "",
    location: str = "",
    learn_more_url: str = "",
    provenance: str = "",
    reporting_line: str = ReportingLine.DIRECT_SUPERVISION,
    sibling_order: int | None = None,
    effective_at: EffectiveTime = None,
    founding_date_known: bool = True,
    translations: Mapping[str, str] | None = None,
) -> OrganizationalUnit:
    """Establish a unit, effective ``effective_at`` (default: now).

    ``translations`` gives French and Spanish texts by field (``{"name_fr": ...}``);
    those not given stay blank (English is shown in their place).

    ``founding_date_known=False`` records a unit that already existed from a date
    that is not known (a seed describing a structure as it stood on some day): its
    ``established_on`` stays empty and its pages say since when it is recorded.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    check_effective_time(None, write.effective_at)
    if parent is not None:
        parent = fresh(OrganizationalUnit, parent)
        check_unit_usable(parent, write.effective_at)
    if slug in RESERVED_UNIT_SLUGS:
        raise ValidationError(
            f"The slug “{slug}” is reserved: the API uses it as an address.",
            code=Refusal.SLUG_TAKEN,
        )
    if sibling_order is not None:
        check_position_free(None, None if parent is None else parent.pk, sibling_order)
    if slug and OrganizationalUnit.objects.filter(slug=slug).exists():
        raise ValidationError(
            f"The slug “{slug}” is already used by another unit.",
            code=Refusal.SLUG_TAKEN,
        )
    unit = OrganizationalUnit(
        name=name.strip(),
        short_name=short_name.strip(),
        slug=slug
        or unique_slug(
            OrganizationalUnit, short_name or name, reserved=RESERVED_UNIT_SLUGS
        ),
        kind=kind,
        parent=parent,
        mandate=mandate.strip(),
        location=location.strip(),
        learn_more_url=learn_more_url.strip(),
        provenance=provenance.strip(),
        reporting_line=reporting_line,
        sibling_order=(
            next_sibling_order(parent) if sibling_order is None else sibling_order
        ),
        established_on=write.effective_at.date() if founding_date_known else None,
        **clean_translations(translations, UNIT_TRANSLATED),
    )
    # The parent was re-read under the lock and the slug found free just above.
    save_revision(unit, write, is_new=True, checked=("parent", "slug"))
    return unit


class _Keep:
    """Marks "leave the parent as it is" (None already means "make it top level")."""

    def __repr__(self) -> str:
        return "KEEP_PARENT"


KEEP_PARENT: Any = _Keep()


@transaction.atomic
def unit_update(
    *,
    unit: OrganizationalUnit | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    new_parent: OrganizationalUnit | int | None = KEEP_PARENT,
    **changes: Any,
) -> OrganizationalUnit:
    """Change a unit in one revision: rename it, edit its mandate, move it, ...

    ``new_parent`` (a unit, its id, or None for top level) moves the unit with its
    subtree; a move into its own subtree is refused, in the present and, for a
    backdated move, at every instant since. The slug never changes. A call that
    changes nothing writes nothing.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    unit = fresh(OrganizationalUnit, unit)
    check_version(unit, expected_version)
    for text_field in (
        *language_fields(UNIT_TRANSLATED),
        "learn_more_url",
    ):
        if isinstance(changes.get(text_field), str):
            changes[text_field] = changes[text_field].strip()
    new_parent_id = (
        unit.parent_id
        if new_parent is KEEP_PARENT
        else new_parent.pk
        if isinstance(new_parent, OrganizationalUnit)
        else new_parent
    )
    moves = new_parent_id != unit.parent_id
    changed = apply_changes(unit, changes, UNIT_UPDATABLE_FIELDS)
    if new_parent is not KEEP_PARENT:
        unit.__dict__[REQUESTED].add("parent")
    if not changed and not moves and not asks_for_past_change(unit, write.effective_at):
        return unit
    check_effective_time(unit, write.effective_at)
    # A correction is checked over the stretch it corrects, not against today's
    # registry: the unit may be abolished now, its new parent too, or today's tree
    # hold the unit elsewhere (``units.services.corrections``).
    correcting = is_correction(unit, write.effective_at)
    if not unit.is_active and not correcting:
        raise ValidationError(
            f"“{unit}” is abolished; it can no longer be changed.",
            code=Refusal.ABOLISHED,
        )
    old_parent_id = unit.parent_id
    if moves:
        if new_parent_id is None:
            parent = None
        elif correcting:
            parent = fresh(OrganizationalUnit, new_parent_id)
        else:
            parent = locked_new_parent(unit, new_parent_id, write.effective_at)
            _check_no_cycle_since(unit, parent, write.effective_at)
        if "sibling_order" not in changes:
            unit.sibling_order = next_sibling_order(parent)
        unit.parent = parent
    if not correcting and (moves or "sibling_order" in changed):
        check_position_free(unit, unit.parent_id, unit.sibling_order)
        place_in_tree(unit, old_parent_id)
    # A new parent was re-read under the lock (``fresh``) when the move was checked.
    save_revision(unit, write, checked=("parent",) if moves else ())
    if moves:
        unit.refresh_from_db()
    return unit


def unit_move(
    *,
    unit: OrganizationalUnit | int,
    new_parent: OrganizationalUnit | int | None,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    reporting_line: str | None = None,
    sibling_order: int | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> OrganizationalUnit:
    """Make ``unit`` (with its whole subtree) report to ``new_parent``."""
    changes: dict[str, Any] = {}
    if reporting_line is not None:
        changes["reporting_line"] = reporting_line
    if sibling_order is not None:
        changes["sibling_order"] = sibling_order
    return unit_update(
        unit=unit,
        new_parent=new_parent,
        user=user,
        reason=reason,
        reason_visibility=reason_visibility,
        effective_at=effective_at,
        expected_version=expected_version,
        **changes,
    )


def _check_no_cycle_since(
    unit: OrganizationalUnit,
    new_parent: OrganizationalUnit,
    effective_at: datetime.datetime,
    *,
    until: datetime.datetime | None = None,
) -> None:
    """Refuse a backdated move that would have made a cycle at some past instant.

    Today's tree (lft/rght) only says the move is fine *now*. Replaying the parent
    links from ``effective_at`` through every later recorded change, with the unit
    under its new parent throughout, finds a loop that existed only in between.
    ``until``: a correction's move holds only until the unit's next recorded move,
    so the replay stops there (None: to the present).
    """
    history = OrganizationalUnit.history
    later_rows = history.filter(history_date__gt=effective_at)
    if until is not None:
        later_rows = later_rows.filter(history_date__lt=until)
    later = list(
        later_rows.order_by(*REVISION_ORDER).values_list(
            "id", "parent_id", "history_date"
        )
    )
    if not later:
        return
    parents = {
        row["id"]: row["parent_id"]
        for row in states_as_of(OrganizationalUnit, effective_at, ("id", "parent_id"))
    }

    def loop_at(instant: datetime.datetime) -> None:
        seen: set[int] = {unit.pk}
        current: int | None = new_parent.pk
        while current is not None:
            if current in seen:
                raise ValidationError(
                    f"“{unit}” cannot report to “{new_parent}” from "
                    f"{moment_text(effective_at)}: on {moment_text(instant)} that unit was "
                    "inside its subtree, which would make a cycle in the past.",
                    code=Refusal.CYCLE,
                )
            seen.add(current)
            current = parents.get(current)

    parents[unit.pk] = new_parent.pk
    loop_at(effective_at)
    for unit_id, parent_id, instant in later:
        if unit_id == unit.pk:
            continue
        parents[unit_id] = parent_id
        loop_at(instant)

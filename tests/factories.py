"""factory_boy factories that write through ``units.services``.

Every object a test makes this way has its first history row, its author and its
reason, exactly as one the admin or the API would have made: no test can stand on a
record the registry could not contain. Each factory's fields are the service's
keyword arguments; ``user`` defaults to the shared test editor and ``reason`` to
"Test setup". Only ``create`` is supported (a service always saves); tests call
``UnitFactory.create(...)``, which mypy types as the model (factory_boy's
``UnitFactory(...)`` does the same but is typed as a factory instance).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, TypeVar

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import models
from django.utils import timezone

from units import services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RelationshipKind,
    Reorganization,
    UnitKind,
    UnitRelationship,
    UnitSuccession,
)

EDITOR_USERNAME = "editor"
EDITOR_PASSWORD = "editor-pass-123"
# Early enough that any later change a test makes is allowed to follow it.
LONG_AGO = datetime.datetime(2000, 1, 1, 12, tzinfo=datetime.UTC)


def editor_user() -> User:
    """The staff user tests write as (conftest's ``editor``), made on first use."""
    user_model = get_user_model()
    existing = user_model.objects.filter(username=EDITOR_USERNAME).first()
    if existing is not None:
        return existing
    return user_model.objects.create_user(
        username=EDITOR_USERNAME,
        password=EDITOR_PASSWORD,
        email="editor@example.org",
        is_staff=True,
    )


ModelT = TypeVar("ModelT")


class ServiceFactory(factory.Factory[ModelT]):
    """A factory whose ``create`` is a service call, never a bare ``save()``."""

    class Meta:
        abstract = True
        strategy = factory.CREATE_STRATEGY

    user = factory.LazyFunction(editor_user)
    reason = "Test setup"

    @classmethod
    def _build(cls, model_class: type, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f"{cls.__name__} writes through the services; use create()."
        )


class UnitFactory(ServiceFactory[OrganizationalUnit]):
    """``services.unit_create``; effective now unless given ``effective_at``."""

    class Meta:
        model = OrganizationalUnit

    name = factory.Sequence(lambda number: f"Unit {number}")
    kind = UnitKind.UNIT
    parent = None

    @classmethod
    def _create(
        cls, model_class: type, *args: Any, **kwargs: Any
    ) -> OrganizationalUnit:
        return services.unit_create(**kwargs)


class PostFactory(ServiceFactory[Post]):
    """``services.post_create`` in a new unit unless given one."""

    class Meta:
        model = Post

    title = factory.Sequence(lambda number: f"Post {number}")
    unit = factory.SubFactory(UnitFactory)

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Post:
        return services.post_create(**kwargs)


class PersonFactory(ServiceFactory[Person]):
    """``services.person_create``."""

    class Meta:
        model = Person

    full_name = factory.Sequence(lambda number: f"Person {number}")

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Person:
        return services.person_create(**kwargs)


class AppointmentFactory(ServiceFactory[Appointment]):
    """``services.appointment_start``; the default post and person exist since 2000,
    so the default start (2020-01-01) may follow them."""

    class Meta:
        model = Appointment

    person = factory.SubFactory(PersonFactory, effective_at=LONG_AGO)
    post = factory.SubFactory(
        PostFactory, effective_at=LONG_AGO, unit__effective_at=LONG_AGO
    )
    started_on = datetime.date(2020, 1, 1)

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> Appointment:
        return services.appointment_start(**kwargs)


class RelationshipFactory(ServiceFactory[UnitRelationship]):
    """``services.relationship_create`` between two new units unless given them."""

    class Meta:
        model = UnitRelationship

    source = factory.SubFactory(UnitFactory)
    target = factory.SubFactory(UnitFactory)
    kind = RelationshipKind.COLLABORATES_WITH

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> UnitRelationship:
        return services.relationship_create(**kwargs)


def submitted_reorganization(
    unit: OrganizationalUnit,
    *,
    author: Any,
    effective_at: datetime.datetime,
    reason: str = "Bulletin",
    reason_visibility: str | None = None,
) -> Reorganization:
    """A reorganization of one operation (``unit``'s location becomes Rome), submitted
    by ``author`` and waiting for an approver."""
    reorganization = services.reorganization_create(
        user=author,
        title="Move to Rome",
        reason=reason,
        reason_visibility=reason_visibility,
        effective_at=effective_at,
    )
    services.operation_add(
        reorganization=reorganization,
        user=author,
        kind="change_unit",
        payload={"unit": unit.slug, "fields": {"location": "Rome"}},
    )
    return services.reorganization_submit(reorganization=reorganization, user=author)


def scheduled_reorganization(unit: OrganizationalUnit) -> Reorganization:
    """A reorganization approved to move ``unit`` to Rome in a year (by the editor,
    approved by a user of "Registry approvers"): public, scheduled, nothing applied."""
    approver = get_user_model().objects.create_user(username="walk-approver")
    approver.groups.add(Group.objects.get(name="Registry approvers"))
    reorganization = submitted_reorganization(
        unit,
        author=editor_user(),
        effective_at=timezone.now() + datetime.timedelta(days=365),
    )
    return services.reorganization_approve(reorganization=reorganization, user=approver)


def applied_reorganization(
    operations: list[tuple[str, dict[str, Any]]],
    *,
    author: Any,
    approver: Any,
    title: str = "Restructure",
    reference: str = "DG bulletin 2026/14",
    reason: str = "Bulletin",
    reason_visibility: str | None = None,
) -> Reorganization:
    """A reorganization of these operations, drafted and submitted by ``author`` and
    approved by ``approver``, effective now: applied at its approval."""
    reorganization = services.reorganization_create(
        user=author,
        title=title,
        reference=reference,
        reason=reason,
        reason_visibility=reason_visibility,
        effective_at=timezone.now(),
    )
    for kind, payload in operations:
        services.operation_add(
            reorganization=reorganization, user=author, kind=kind, payload=payload
        )
    services.reorganization_submit(reorganization=reorganization, user=author)
    applied = services.reorganization_approve(
        reorganization=reorganization, user=approver
    )
    if applied.status != "applied":
        raise AssertionError(f"Not applied: {applied.status} {applied.problems}")
    return applied


def failed_reorganization(
    unit: OrganizationalUnit, *, author: Any, approver: Any, title: str = "Doomed"
) -> Reorganization:
    """A reorganization approved to move ``unit`` to Oslo in an hour, whose unit is
    then abolished, applied (the clock an hour on): failed, nothing of it applied."""
    return fail_when_due(
        doomed_reorganization(unit, author=author, approver=approver, title=title)
    )


def doomed_reorganization(
    unit: OrganizationalUnit, *, author: Any, approver: Any, title: str = "Doomed"
) -> Reorganization:
    """A reorganization approved to move ``unit`` to Oslo in an hour, whose unit is
    then abolished: it will fail."""
    effective_at = timezone.now() + datetime.timedelta(hours=1)
    reorganization = services.reorganization_create(
        user=author,
        title=title,
        reason="Bulletin on Oslo",
        reason_visibility="public",
        effective_at=effective_at,
    )
    services.operation_add(
        reorganization=reorganization,
        user=author,
        kind="change_unit",
        payload={"unit": unit.slug, "fields": {"location": "Oslo"}},
    )
    services.reorganization_submit(reorganization=reorganization, user=author)
    services.reorganization_approve(reorganization=reorganization, user=approver)
    services.unit_abolish(
        unit=OrganizationalUnit.objects.get(pk=unit.pk), user=author, reason="Closed"
    )
    reorganization.refresh_from_db()
    return reorganization


def fail_when_due(reorganization: Reorganization) -> Reorganization:
    """Apply what is due a second after ``reorganization``'s time (the clock moved
    on): it fails, as ``doomed_reorganization`` made sure."""
    from unittest import mock

    later = reorganization.effective_at + datetime.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        services.apply_due_reorganizations()
    reorganization.refresh_from_db()
    if reorganization.status != "failed":
        raise AssertionError(f"Not failed: {reorganization.status}")
    return reorganization


def absorbed_unit(
    successor: OrganizationalUnit,
    *,
    reason: str = "Test setup",
    reason_visibility: str | None = None,
) -> UnitSuccession:
    """A unit established, abolished and recorded as absorbed into ``successor`` (now,
    by the editor): a lineage link, written through the services as any other."""
    write: dict[str, Any] = {
        "user": editor_user(),
        "reason": reason,
        "reason_visibility": reason_visibility,
    }
    closed = services.unit_create(
        name=f"Absorbed into {successor.name}", kind=UnitKind.UNIT, **write
    )
    services.unit_abolish(unit=closed, **write)
    (link,) = services.lineage_record(
        predecessors=[closed],
        successors=[successor],
        closure_reason="absorbed",
        **write,
    )
    return link


def every_change(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes of a change-feed page's entries, each reorganization's among them
    (its entry gathers them under ``changes``)."""
    return [change for entry in entries for change in entry.get("changes", [entry])]


def setup_units(
    editor: Any, effective_at: datetime.datetime
) -> Callable[..., OrganizationalUnit]:
    """A maker of a test's starting units: each written through the service by
    ``editor``, reason "Setup", effective at ``effective_at`` (a past the test's own
    changes can follow)."""

    def unit(
        name: str,
        slug: str,
        parent: OrganizationalUnit | None = None,
        kind: str = UnitKind.UNIT,
        **fields: Any,
    ) -> OrganizationalUnit:
        return UnitFactory.create(
            user=editor,
            reason="Setup",
            name=name,
            slug=slug,
            kind=kind,
            parent=parent,
            effective_at=effective_at,
            **fields,
        )

    return unit


def office_with(
    editor: Any,
    effective_at: datetime.datetime,
    children: dict[str, tuple[str, str]],
    *,
    kind: str = UnitKind.UNIT,
) -> dict[str, OrganizationalUnit]:
    """An office (slug "office") with a unit for each of ``children`` (key: name and
    slug) under it, all of ``kind``; keyed "office" and ``children``'s keys."""
    unit = setup_units(editor, effective_at)
    office = unit("Office", "office", kind=kind)
    return {
        "office": office,
        **{
            key: unit(name, slug, office, kind)
            for key, (name, slug) in children.items()
        },
    }


def departments_a_and_b(editor: Any) -> dict[str, Any]:
    """An office with departments A (units A1, A2) and B (a head post), a month old:
    the starting registry of the reorganization and lineage services' tests."""
    start = timezone.now() - datetime.timedelta(days=30)
    unit = setup_units(editor, start)
    office = unit("Office", "office", kind=UnitKind.OFFICE)
    dept_a = unit("Department A", "dept-a", office, UnitKind.DEPARTMENT)
    dept_b = unit("Department B", "dept-b", office, UnitKind.DEPARTMENT)
    a1 = unit("Unit A1", "a1", dept_a)
    a2 = unit("Unit A2", "a2", dept_a)
    post = services.post_create(
        user=editor,
        reason="Setup",
        unit=dept_b,
        title="Head of B",
        slug="head-of-b",
        is_head=True,
        effective_at=start,
    )
    return {
        "office": office,
        "dept_a": dept_a,
        "dept_b": dept_b,
        "a1": a1,
        "a2": a2,
        "post": post,
    }


def write_correction(
    obj: Any,
    effective_at: datetime.datetime,
    recorded_at: datetime.datetime,
    *,
    reason: str = "Correction",
    **fields: Any,
) -> list[int]:
    """Write a correction of ``obj``'s ``fields`` effective at ``effective_at``, recorded
    at ``recorded_at``, exactly as issue 14's design has the corrections service write
    it: new history rows only (nothing updated or deleted in history), and the live row.

    1. a row at ``effective_at``: the state as of then (as known now) with ``fields``
       applied, ``corrects_revision`` the revision in force then;
    2. a row per later revision (the winner of its instant as known now) whose state a
       still-propagating field changes, at that revision's instant, correcting it; a
       field stops propagating at the first later revision that itself changed it;
    3. the live row gets the fields that propagate to the end; ``version`` bumps once.

    For tests of the reads (histories, feed, compare), written independently of the
    service. Returns the history_ids written, oldest first.
    """
    model = type(obj)
    history = model.history.model._default_manager
    attnames = {name: model._meta.get_field(name).attname for name in fields}
    values = {attnames[name]: value for name, value in fields.items()}
    rows = list(history.filter(id=obj.pk).order_by("history_date", "history_id"))
    winners: dict[datetime.datetime, Any] = {}
    for row in rows:
        winners[row.history_date] = row
    ordered = sorted(winners.values(), key=lambda row: row.history_date)
    in_force = [row for row in ordered if row.history_date <= effective_at]
    if not in_force:
        raise ValueError("A correction cannot take effect before the object existed.")

    def restated(base: Any, at: datetime.datetime, changed: dict[str, Any]) -> int:
        row = history.get(history_id=base.history_id)
        corrects = row.history_id
        row.history_id = None
        row.pk = None
        for attname, value in changed.items():
            setattr(row, attname, value)
        row.history_date = at
        row.recorded_at = recorded_at
        row.history_type = "~"
        row.history_change_reason = reason
        row.corrects_revision = corrects
        row.reverts_revision = None
        row.save(force_insert=True)
        return int(row.history_id)

    written = [restated(in_force[-1], effective_at, values)]
    propagating = dict(values)
    before = in_force[-1]
    for row in ordered:
        if row.history_date <= effective_at:
            continue
        for attname in list(propagating):
            if getattr(row, attname) != getattr(before, attname):
                del propagating[attname]
        before = row
        if not propagating:
            break
        if any(getattr(row, name) != value for name, value in propagating.items()):
            written.append(restated(row, row.history_date, propagating))
    live = model._default_manager.filter(pk=obj.pk)
    live.update(version=models.F("version") + 1, **propagating)
    return written

"""Corrections of the past: a write effective before changes already recorded.

A correction never edits or deletes a history row. It writes new rows, all recorded
now (issue 14, design "Two times per history row"):

1. one row at its own effective time E: the object's state as of E with the corrected
   fields applied; ``corrects_revision`` names the revision in force at E;
2. one row per later revision whose stored state it changes, at that revision's own
   effective time (it wins the tie, being recorded later), ``corrects_revision``
   naming it. A corrected field stops at the first later revision that itself
   changed that field: that later change holds;
3. the live row takes the corrected fields that reach the end (no history row of its
   own); its ``version`` rises once, and only if the live state changes, so the live
   row always equals its latest history row (``history_problems``).

``save_revision`` routes a write here when the object has a revision effective after
the write's time. Before anything is written the corrected stretch is replayed:
a correction effective before the object existed, a cycle, a unit under an abolished
(or not yet recorded) parent, and a second head of one unit or a second holder of
one post at any instant of the stretch are refused, with nothing written.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from units.dates import day_text, moment_text
from units.models import (
    NEWEST_REVISION_FIRST,
    REVISION_ORDER,
    TREE_FIELDS,
    Appointment,
    OrganizationalUnit,
    Post,
    RecordedModel,
    appointment_is_current,
    column_field,
)
from units.selectors.as_of import reading_as_known_at
from units.services.refusals import Refusal

if TYPE_CHECKING:
    from units.services.revisions import Write

# Where ``apply_changes`` notes the fields a write asked for, changed now or not: a
# field set to its current value may still differ at the correction's effective time.
REQUESTED = "_requested_fields"
# The history type of every row a correction writes ("~": a change).
CHANGED = "~"


@dataclass(frozen=True)
class Revision:
    """One history row as plain values: when it took effect and the state it holds."""

    history_id: int
    history_date: datetime.datetime
    history_type: str
    state: dict[str, Any]
    # The version a revert went back to: a row restating this one keeps it, so
    # that it reads as the change this revision made.
    reverts_revision: int | None = None


@dataclass
class Plan:
    """The rows a correction writes and what reaches the live row."""

    at_e: dict[str, Any]
    corrects: int
    restated: list[tuple[Revision, dict[str, Any]]] = field(default_factory=list)
    # Corrected fields that reach the live row.
    live: set[str] = field(default_factory=set)
    # Per corrected field, the effective time of the later revision that stopped it
    # (None: it reaches the end). The stretch of that field is [E, stop).
    stops: dict[str, datetime.datetime | None] = field(default_factory=dict)

    def chain(
        self, effective_at: datetime.datetime
    ) -> list[tuple[datetime.datetime, dict[str, Any]]]:
        """The new rows, in the order they are written: (effective time, state)."""
        return [(effective_at, self.at_e)] + [
            (revision.history_date, state) for revision, state in self.restated
        ]


def tracked_fields(model: type[RecordedModel]) -> list[str]:
    """The columns a history row copies from its object (attnames)."""
    return [f.attname for f in model._meta.concrete_fields if f.name not in TREE_FIELDS]


def later_revision_exists(
    instance: RecordedModel, effective_at: datetime.datetime
) -> bool:
    """Whether ``instance`` has a revision effective after ``effective_at`` (one query).

    Such a write is a correction; a write at the latest revision's own time is not
    (it already wins the tie, being recorded later).
    """
    return instance.history.filter(history_date__gt=effective_at).exists()


def revisions(
    model: type[RecordedModel], condition: Q, names: Sequence[str]
) -> list[Revision]:
    """History rows of ``model`` matching ``condition``, in effective, then record order."""
    rows = (
        model.history.model._default_manager.filter(condition)
        .order_by(*REVISION_ORDER)
        .values(
            "history_id", "history_date", "history_type", "reverts_revision", *names
        )
    )
    return [
        Revision(
            row["history_id"],
            row["history_date"],
            row["history_type"],
            {name: row[name] for name in names},
            row["reverts_revision"],
        )
        for row in rows
    ]


def winners(rows: Iterable[Revision]) -> list[Revision]:
    """Per effective time the revision in force (the later recorded), in time order.

    ``rows`` come in (history_date, history_id) order, so the last one per time wins.
    """
    chosen: dict[datetime.datetime, Revision] = {}
    for row in rows:
        chosen[row.history_date] = row
    return list(chosen.values())


def corrected_fields(instance: RecordedModel, stored: dict[str, Any]) -> set[str]:
    """What the write corrects: the fields it changed against the live row, and the
    fields it asked for (``apply_changes``), which may differ only in the past."""
    names = set(tracked_fields(type(instance))) - {"id", "version"}
    fields = {name for name in names if getattr(instance, name) != stored[name]}
    for name in instance.__dict__.get(REQUESTED, ()):
        attname = column_field(type(instance), name).attname
        if attname in names:
            fields.add(attname)
    return fields


def plan_correction(
    instance: RecordedModel,
    effective_at: datetime.datetime,
    fields: set[str],
    chain: Sequence[Revision],
) -> Plan | None:
    """The rows correcting ``fields`` of ``instance`` from ``effective_at`` on.

    ``chain``: the object's revision in force per effective time (``winners``). None if
    the correction changes nothing (the past already says so). Refuses a correction
    effective before the object's first revision.
    """
    if not chain or effective_at < chain[0].history_date:
        first = chain[0].history_date if chain else effective_at
        raise ValidationError(
            f"“{instance}” is recorded from {moment_text(first)}; a change effective "
            f"{moment_text(effective_at)} would take effect before it existed. Correct "
            "its record from its first recorded change on.",
            code=Refusal.OUT_OF_ORDER,
        )
    base = [revision for revision in chain if revision.history_date <= effective_at][-1]
    new = {name: getattr(instance, name) for name in fields}
    at_e = {**base.state, **new}
    if all(at_e[name] == base.state[name] for name in fields):
        return None
    plan = Plan(at_e=at_e, corrects=base.history_id)
    going = set(fields)
    previous = base.state
    for revision in chain:
        if revision.history_date <= effective_at:
            continue
        stopped = (
            set(going)
            if revision.history_type == "-"
            else {name for name in going if revision.state[name] != previous[name]}
        )
        for name in stopped:
            plan.stops[name] = revision.history_date
        going -= stopped
        previous = revision.state
        if not going:
            break
        if any(revision.state[name] != new[name] for name in going):
            plan.restated.append(
                (revision, {**revision.state, **{name: new[name] for name in going}})
            )
    for name in going:
        plan.stops[name] = None
    plan.live = going
    return plan


def link_state(instance: RecordedModel) -> dict[str, Any]:
    """``instance``'s tracked fields as a history row would hold them."""
    return {name: getattr(instance, name) for name in tracked_fields(type(instance))}


def check_link_dates(
    instance: RecordedModel,
    first: datetime.datetime,
    started_before: datetime.date | None,
) -> None:
    """Refuse corrected dates of an appointment or relationship that cannot hold.

    An end before the start. A start moved before the object's first record: reads
    of the past take an object from its first revision on, so they could not show
    the earlier stretch (a correction writes nothing before the object existed).
    ``started_before``: the start before the correction; a record that already
    starts before its first revision may keep that start.
    """
    started_on = getattr(instance, "started_on", None)
    ended_on = getattr(instance, "ended_on", None)
    if started_on is not None and ended_on is not None and ended_on < started_on:
        raise ValidationError(
            f"“{instance}” cannot end ({day_text(ended_on)}) before it started "
            f"({day_text(started_on)}).",
            code=Refusal.ENDS_BEFORE_START,
        )
    if started_on is not None and started_on != started_before:
        recorded_from = first.date()
        if started_on < recorded_from and (
            started_before is None or started_on < started_before
        ):
            raise ValidationError(
                f"The registry's record of “{instance}” begins on "
                f"{day_text(recorded_from)}; a start on {day_text(started_on)} "
                "would lie before it, and nothing is recorded before an object "
                "existed. Correct the start to that day or later.",
                code=Refusal.OUT_OF_ORDER,
            )


def correction_steps(
    instance: RecordedModel,
    changes: dict[str, Any],
    write: Write,
    *,
    explicit: bool,
) -> list[tuple[Write, dict[str, Any]]]:
    """The writes correcting a record's ``changes``, latest first.

    Told an effective time (``explicit``): one write, then. Otherwise each field is
    corrected from when its value as recorded now began (the revision in force that
    last changed it): an appointment's end from the revision that ended it, its start
    from its first record, so each corrected value reaches the live row (a correction
    from the first record would stop at the later revision that set the end). Latest
    first: the later rows are final when an earlier correction restates them.
    """
    if explicit:
        return [(write, changes)]
    model = type(instance)
    attnames = {name: column_field(model, name).attname for name in changes}
    chain = winners(revisions(model, Q(id=instance.pk), sorted(set(attnames.values()))))
    groups: dict[datetime.datetime, dict[str, Any]] = {}
    for name, value in changes.items():
        attname = attnames[name]
        origin = chain[0].history_date
        for previous, revision in itertools.pairwise(chain):
            if revision.state[attname] != previous.state[attname]:
                origin = revision.history_date
        groups.setdefault(origin, {})[name] = value
    return [
        (replace(write, effective_at=when), groups[when])
        for when in sorted(groups, reverse=True)
    ]


def stretch_end(plan: Plan, names: Iterable[str]) -> datetime.datetime | None:
    """When the last of ``names`` stops being corrected (None: never)."""
    ends = [plan.stops[name] for name in names if name in plan.stops]
    if any(end is None for end in ends):
        return None
    return max((end for end in ends if end is not None), default=None)


def save_correction(
    instance: RecordedModel,
    write: Write,
    *,
    reverts: int | None = None,
) -> None:
    """Record ``instance``'s changes as a correction effective ``write.effective_at``.

    Called by ``save_revision`` under the registry lock, inside the service's
    transaction. ``instance`` holds the values the write asks for; it is left holding
    the live row as saved.
    """
    from units.services.revisions import _applying, _bump_generation, _history_user

    model = type(instance)
    names = tracked_fields(model)
    stored = model._default_manager.filter(pk=instance.pk).values(*names).get()
    fields = corrected_fields(instance, stored)
    chain = winners(revisions(model, Q(id=instance.pk), names))
    plan = plan_correction(instance, write.effective_at, fields, chain)
    if plan is None:
        _restore(instance, stored, set())
        return
    instance.full_clean(validate_unique=True, validate_constraints=True)
    # Writes check against everything recorded, whatever a request's known_at says.
    with reading_as_known_at(None):
        check_stretch(instance, write.effective_at, plan, chain)
    bumps = any(getattr(instance, name) != stored[name] for name in plan.live)
    version = stored["version"] + 1 if bumps else stored["version"]
    _restore(instance, stored, plan.live)
    if bumps:
        instance.version = version
        _save_live(instance, stored)
    history = model.history.model
    recorded_at = timezone.now()
    reorganization = _applying.get()
    common = {
        "history_type": CHANGED,
        "history_user": _history_user(write.user),
        "history_change_reason": write.reason,
        "reason_visibility": write.reason_visibility,
        "recorded_at": recorded_at,
        "reorganization_id": None if reorganization is None else reorganization.pk,
    }
    # The row at the correction's own time is the revert, if it is one; a row
    # restating a later revision reads as that revision's change (its own revert).
    corrects = [(plan.corrects, reverts)] + [
        (revision.history_id, revision.reverts_revision)
        for revision, _ in plan.restated
    ]
    for (when, state), (corrected, reverted) in zip(
        plan.chain(write.effective_at), corrects, strict=True
    ):
        history._default_manager.create(
            **{**state, "version": version},
            history_date=when,
            corrects_revision=corrected,
            reverts_revision=reverted,
            **common,
        )
    _bump_generation()


def _restore(instance: RecordedModel, stored: dict[str, Any], keep: set[str]) -> None:
    """Put back on ``instance`` the live values of every field not in ``keep``."""
    for name, value in stored.items():
        if name not in keep:
            setattr(instance, name, value)


def _save_live(instance: RecordedModel, stored: dict[str, Any]) -> None:
    """Save the live row without a history row of its own; a unit's move through the
    same nested-set update as ``unit_update``."""
    if isinstance(instance, OrganizationalUnit):
        from units.services.tree import check_position_free, place_in_tree

        if (
            instance.parent_id != stored["parent_id"]
            or instance.sibling_order != stored["sibling_order"]
        ):
            check_position_free(instance, instance.parent_id, instance.sibling_order)
            place_in_tree(instance, stored["parent_id"])
    # simple-history writes no row for this save: the rows above are its history.
    instance.__dict__["skip_history_when_saving"] = True
    try:
        instance.save()
    finally:
        instance.__dict__.pop("skip_history_when_saving", None)
    if isinstance(instance, OrganizationalUnit):
        instance.refresh_from_db()


# --- The corrected stretch, replayed -----------------------------------------------


def check_stretch(
    instance: RecordedModel,
    effective_at: datetime.datetime,
    plan: Plan,
    chain: Sequence[Revision],
) -> None:
    """Refuse a correction that makes the registry wrong at some instant it covers."""
    base = [revision for revision in chain if revision.history_date <= effective_at][-1]
    corrected = set(plan.stops)
    if "abolished_on" in base.state and base.state["abolished_on"] is not None:
        if "abolished_on" not in corrected:
            raise ValidationError(
                f"“{instance}” was already abolished on {moment_text(effective_at)}; "
                "a change effective then cannot be recorded.",
                code=Refusal.ABOLISHED,
            )
    if isinstance(instance, OrganizationalUnit) and "parent_id" in corrected:
        parent_id = plan.at_e["parent_id"]
        if parent_id is not None:
            until = plan.stops["parent_id"]
            check_parent_active_over(
                parent_id, effective_at, until, code=Refusal.PARENT_ABOLISHED
            )
            from units.services.units import _check_no_cycle_since

            parent = OrganizationalUnit.objects.get(pk=parent_id)
            if parent.pk == instance.pk:
                raise ValidationError(
                    f"“{instance}” cannot report to itself.", code=Refusal.CYCLE
                )
            _check_no_cycle_since(instance, parent, effective_at, until=until)
    if isinstance(instance, Post) and corrected & {"is_head", "unit_id"}:
        until = stretch_end(plan, corrected & {"is_head", "unit_id"})
        if "unit_id" in corrected:
            check_parent_active_over(
                plan.at_e["unit_id"],
                effective_at,
                plan.stops["unit_id"],
                code=Refusal.UNIT_ABOLISHED,
            )
        check_single_head_over(instance, plan, effective_at, until)
    if isinstance(instance, Appointment) and corrected & {
        "post_id",
        "started_on",
        "ended_on",
    }:
        until = stretch_end(plan, corrected & {"post_id", "started_on", "ended_on"})
        check_single_holder_over(instance, plan, effective_at, until)


def check_parent_active_over(
    parent_id: int,
    start: datetime.datetime,
    until: datetime.datetime | None,
    *,
    code: str,
) -> None:
    """Refuse a link to a unit not yet recorded, or abolished, at some instant of
    [start, until): the one rule of every write (``check_unit_usable``)."""
    from units.services.revisions import check_unit_usable

    check_unit_usable(
        OrganizationalUnit.objects.get(pk=parent_id), start, until, code=code
    )


def _replay(
    rows: Sequence[Revision],
    object_id: int,
    plan: Plan,
    start: datetime.datetime,
    until: datetime.datetime | None,
    extra_instants: Iterable[datetime.datetime] = (),
) -> Iterator[tuple[datetime.datetime, dict[int, dict[str, Any]]]]:
    """Every object's state at each instant of [start, until) where one may change,
    with the corrected object's new rows recorded after every stored one."""
    ordered = list(rows) + [
        Revision(0, when, CHANGED, {**state, "id": object_id})
        for when, state in plan.chain(start)
    ]
    keyed = [(row.history_date, position, row) for position, row in enumerate(ordered)]
    keyed.sort(key=lambda item: (item[0], item[1]))
    instants = sorted(
        {start}
        | {
            when
            for when in itertools.chain(
                (row.history_date for row in ordered), extra_instants
            )
            if start < when and (until is None or when < until)
        }
    )
    for instant in instants:
        states: dict[int, dict[str, Any]] = {}
        for when, _, row in keyed:
            if when > instant:
                break
            if row.history_type == "-":
                states.pop(row.state["id"], None)
            else:
                states[row.state["id"]] = row.state
        yield instant, states


def check_single_head_over(
    post: Post,
    plan: Plan,
    start: datetime.datetime,
    until: datetime.datetime | None,
) -> None:
    """Refuse a correction under which a unit has two active head posts at some
    instant of [start, until)."""
    names = ["id", "unit_id", "is_head", "abolished_on", "title"]
    units = {plan.at_e["unit_id"]} | {state["unit_id"] for _, state in plan.restated}
    others = Post.history.model._default_manager.filter(unit_id__in=units).values("id")
    rows = revisions(Post, Q(id__in=others) | Q(id=post.pk), names)
    for instant, states in _replay(rows, post.pk, plan, start, until):
        mine = states.get(post.pk)
        if mine is None or not mine["is_head"] or mine["abolished_on"] is not None:
            continue
        for pk, state in states.items():
            if (
                pk != post.pk
                and state["unit_id"] == mine["unit_id"]
                and state["is_head"]
                and state["abolished_on"] is None
            ):
                raise ValidationError(
                    f"On {moment_text(instant)} the unit of “{post}” was already "
                    f"headed by the post “{state['title']}”; a unit has one head.",
                    code=Refusal.HEAD_EXISTS,
                )


def check_single_holder_over(
    appointment: Appointment,
    plan: Plan,
    start: datetime.datetime,
    until: datetime.datetime | None,
) -> None:
    """Refuse a correction under which a post has two holders on some day of
    [start, until), as the registry then said."""
    names = ["id", "post_id", "person_id", "started_on", "ended_on"]
    posts = {plan.at_e["post_id"]} | {state["post_id"] for _, state in plan.restated}
    others = Appointment.history.model._default_manager.filter(
        post_id__in=posts
    ).values("id")
    rows = revisions(Appointment, Q(id__in=others) | Q(id=appointment.pk), names)
    days = {
        day
        for revision in [
            *rows,
            *(Revision(0, w, CHANGED, s) for w, s in plan.chain(start)),
        ]
        for day in (revision.state["started_on"], revision.state["ended_on"])
        if day is not None
    }
    boundaries = [
        datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
        for day in days
    ]
    for instant, states in _replay(
        rows, appointment.pk, plan, start, until, boundaries
    ):
        mine = states.get(appointment.pk)
        day = instant.date()
        if mine is None or not appointment_is_current(
            mine["started_on"], mine["ended_on"], day
        ):
            continue
        for pk, state in states.items():
            if (
                pk != appointment.pk
                and state["post_id"] == mine["post_id"]
                and appointment_is_current(state["started_on"], state["ended_on"], day)
            ):
                raise ValidationError(
                    f"On {moment_text(instant)} the post already had another holder "
                    f"(appointment {pk}); a post has one holder at a time.",
                    code=Refusal.POST_OCCUPIED,
                )


def asks_for_past_change(
    instance: RecordedModel, effective_at: datetime.datetime
) -> bool:
    """For a write that changes nothing now: whether it changes the past.

    A field set to its current value may still differ at an earlier effective time
    (the March rename to the name given in April). Costs a query only for a write
    that would otherwise do nothing.
    """
    from units.services.revisions import is_correction

    requested = instance.__dict__.get(REQUESTED)
    if not requested or instance.pk is None:
        return False
    if not is_correction(instance, effective_at):
        return False
    attnames = [column_field(type(instance), name).attname for name in requested]
    row = (
        instance.history.filter(history_date__lte=effective_at)
        .order_by(*NEWEST_REVISION_FIRST)
        .values(*attnames)
        .first()
    )
    # Before the first record: the correction path refuses it with its message.
    return row is None or any(row[name] != getattr(instance, name) for name in attnames)

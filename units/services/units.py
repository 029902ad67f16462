"""Units: establish, change, move (under a parent or at a position), abolish, revert.

Every tree write of the registry lives here, so django-mptt and simple-history are
handled in one place: parents are re-read under the registry lock before mptt computes a
move, moves into a unit's own subtree are refused (now and at every instant since a
backdated move), and each changed unit leaves exactly one history row.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from units.content_languages import (
    UNIT_TRANSLATED,
    clean_translations,
    language_fields,
    translation_fields,
)
from units.dates import day_text, moment_text
from units.models import (
    NEWEST_REVISION_FIRST,
    REVISION_ORDER,
    OrganizationalUnit,
    ReportingLine,
    UnitRelationship,
)
from units.selectors import states_as_of
from units.services.corrections import (
    REQUESTED,
    asks_for_past_change,
    revisions,
    winners,
)
from units.services.posts import post_abolish
from units.services.refusals import Refusal, refusal_code
from units.services.relationships import relationship_end
from units.services.reverts import (
    Correction,
    RevertMode,
    correction_of,
    revert_mode,
)
from units.services.revisions import (
    Actor,
    EffectiveTime,
    Write,
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
from units.services.stretches import states_over
from units.services.tree import check_position_free, keep_tree_place, place_in_tree

SubUnitPolicy = Literal["refuse", "abolish", "move"]
# Where each direct sub-unit of an abolished unit goes: its id -> the unit (or the id of
# the unit) it moves under, or None to abolish it with the unit.
SubUnitDestinations = Mapping[int, "OrganizationalUnit | int | None"]
# Where a unit goes relative to ``target`` in ``unit_move_to_position``.
MovePosition = Literal["first-child", "last-child", "before", "after"]
MOVE_POSITIONS: tuple[MovePosition, ...] = (
    "first-child",
    "last-child",
    "before",
    "after",
)
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


def _locked_new_parent(
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
    if _is_inside(new_parent, unit):
        raise ValidationError(
            f"“{unit}” cannot report to “{new_parent}”: that unit is inside its own "
            "subtree, which would make a cycle.",
            code=Refusal.CYCLE,
        )
    check_unit_usable(new_parent, effective_at)
    return new_parent


def _is_inside(candidate: OrganizationalUnit, unit: OrganizationalUnit) -> bool:
    """Whether ``candidate`` lies in ``unit``'s subtree (``unit`` itself excluded)."""
    return (
        OrganizationalUnit.objects.descendants_of(unit).filter(pk=candidate.pk).exists()
    )


def _next_sibling_order(parent: OrganizationalUnit | None) -> int:
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
            _next_sibling_order(parent) if sibling_order is None else sibling_order
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
            parent = _locked_new_parent(unit, new_parent_id, write.effective_at)
            _check_no_cycle_since(unit, parent, write.effective_at)
        if "sibling_order" not in changes:
            unit.sibling_order = _next_sibling_order(parent)
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


@transaction.atomic
def unit_abolish(
    *,
    unit: OrganizationalUnit | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    sub_units: SubUnitPolicy = "refuse",
    move_sub_units_to: OrganizationalUnit | None = None,
    sub_unit_destinations: SubUnitDestinations | None = None,
    expected_version: int | None = None,
) -> OrganizationalUnit:
    """Abolish a unit: it stays in the registry and in history, marked abolished.

    Active sub-units must be dealt with explicitly: ``sub_units="abolish"`` abolishes the
    whole subtree, ``sub_units="move"`` moves the direct sub-units to
    ``move_sub_units_to`` first. ``sub_unit_destinations`` (which replaces both) says it
    for each direct sub-unit: its id maps to the unit it moves under, or to None to
    abolish it with its subtree. Its posts are abolished, their holders' appointments
    and its dotted-line relationships end on the same date.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    unit = fresh(OrganizationalUnit, unit)
    check_version(unit, expected_version)
    if not unit.is_active:
        raise ValidationError(
            f"“{unit}” was already abolished on {day_text(unit.abolished_on)}.",
            code=Refusal.ABOLISHED,
        )
    check_effective_time(unit, write.effective_at)
    active_children = list(unit.get_children().active())
    if sub_unit_destinations is not None:
        _send_sub_units(unit, active_children, sub_unit_destinations, write)
        unit = fresh(OrganizationalUnit, unit)
    elif active_children:
        if sub_units == "refuse":
            names = ", ".join(str(child) for child in active_children)
            raise ValidationError(
                f"“{unit}” still has active sub-units ({names}). Say what happens to "
                "them: abolish them too, or move them to another unit first.",
                code=Refusal.HAS_ACTIVE_SUB_UNITS,
            )
        if sub_units == "move":
            if move_sub_units_to is None:
                raise ValidationError(
                    "Name the unit that takes over the sub-units.",
                    code=Refusal.MOVE_TARGET_REQUIRED,
                )
            target = fresh(OrganizationalUnit, move_sub_units_to)
            if target.pk == unit.pk or _is_inside(target, unit):
                raise ValidationError(
                    f"The sub-units of “{unit}” cannot be taken over by “{target}”, "
                    "which is the abolished unit itself or one of its sub-units.",
                    code=Refusal.CYCLE,
                )
            for child in active_children:
                unit_move(unit=child, new_parent=move_sub_units_to, **write.keywords())
        elif sub_units == "abolish":
            for child in active_children:
                unit_abolish(unit=child, sub_units="abolish", **write.keywords())
        else:
            raise ValidationError(f"Unknown sub-unit policy “{sub_units}”.")
        unit = fresh(OrganizationalUnit, unit)
    _check_no_sub_units_since(unit, write.effective_at)
    for post in unit.posts.filter(abolished_on__isnull=True):
        post_abolish(post=post, **write.keywords())
    for relationship in UnitRelationship.objects.filter(
        models.Q(source=unit) | models.Q(target=unit), ended_on__isnull=True
    ):
        relationship_end(relationship=relationship, **write.keywords())
    unit.abolished_on = write.effective_at.date()
    save_revision(unit, write)
    return unit


def _check_no_sub_units_since(
    unit: OrganizationalUnit, effective_at: datetime.datetime
) -> None:
    """Refuse to abolish ``unit`` from a time at which, or after which, an active unit
    reported to it: that unit would be left under an abolished unit for a while.

    Today's sub-units are not enough for a backdated abolition: one may have reported
    to it then and moved away (or been abolished) since. Replayed from the history of
    every unit that ever reported to it, after the sub-units have been dealt with.
    """
    ever_under = OrganizationalUnit.history.filter(parent_id=unit.pk).values("id")
    stretches = states_over(
        OrganizationalUnit, ever_under, ("parent_id", "abolished_on"), effective_at
    )
    until: dict[int, datetime.datetime | None] = {}
    for pk, stretch in stretches.items():
        under = [
            index
            for index, held in enumerate(stretch)
            if held.state["parent_id"] == unit.pk and held.state["abolished_on"] is None
        ]
        if under:
            left = next(
                (
                    later.start
                    for later in stretch[under[0] + 1 :]
                    if later.state["parent_id"] != unit.pk
                    or later.state["abolished_on"] is not None
                ),
                None,
            )
            until[pk] = left
    if not until:
        return
    names = dict(
        OrganizationalUnit.objects.filter(pk__in=until).values_list("pk", "name")
    )
    listed = ", ".join(
        f"{names[pk]} (until {moment_text(left)})"
        if left is not None
        else f"{names[pk]} (still)"
        for pk, left in sorted(until.items(), key=lambda item: names[item[0]])
    )
    raise ValidationError(
        f"“{unit}” cannot be abolished from {moment_text(effective_at)}: these units "
        f"reported to it then or since, and would be left under an abolished unit: "
        f"{listed}. Move them to another unit, or abolish them, from that time first.",
        code=Refusal.HAS_ACTIVE_SUB_UNITS,
    )


class SubUnitRefusal(ValidationError):
    """A refusal about where one sub-unit goes; ``sub_unit_id`` names the sub-unit.

    So a form can show it next to that sub-unit's choice rather than at the top.
    """

    def __init__(self, error: ValidationError, sub_unit: OrganizationalUnit) -> None:
        super().__init__(" ".join(error.messages), code=refusal_code(error))
        self.sub_unit_id = sub_unit.pk


def _send_sub_units(
    unit: OrganizationalUnit,
    active_children: list[OrganizationalUnit],
    destinations: SubUnitDestinations,
    write: Write,
) -> None:
    """Move or abolish each active sub-unit of ``unit`` as ``destinations`` says.

    Every active sub-unit must be named, and only those; no sub-unit may move into
    the subtree being abolished. Moves come first, so a refusal leaves nothing done
    (the caller's transaction rolls back whatever came before it).
    """
    children = {child.pk: child for child in active_children}
    strangers = sorted(set(destinations) - set(children))
    if strangers:
        raise ValidationError(
            f"Organizational unit {strangers[0]} is not an active sub-unit of “{unit}”.",
            code=Refusal.INVALID,
        )
    unnamed = [child for child in active_children if child.pk not in destinations]
    if unnamed:
        names = ", ".join(str(child) for child in unnamed)
        raise ValidationError(
            f"“{unit}” has active sub-units nobody said anything about ({names}). Say "
            "for each whether it moves to another unit or is abolished too.",
            code=Refusal.HAS_ACTIVE_SUB_UNITS,
        )
    for child_id, child in children.items():
        destination = destinations[child_id]
        if destination is None:
            continue
        target = fresh(OrganizationalUnit, destination)
        if target.pk == unit.pk or _is_inside(target, unit):
            raise SubUnitRefusal(
                ValidationError(
                    f"“{child}” cannot move to “{target}”: that is “{unit}” itself or "
                    "a unit inside it, which is being abolished.",
                    code=Refusal.CYCLE,
                ),
                child,
            )
        try:
            unit_move(unit=child, new_parent=target, **write.keywords())
        except ValidationError as error:
            raise SubUnitRefusal(error, child) from error
    for child_id, destination in destinations.items():
        if destination is None:
            try:
                unit_abolish(
                    unit=children[child_id], sub_units="abolish", **write.keywords()
                )
            except ValidationError as error:
                raise SubUnitRefusal(error, children[child_id]) from error


@transaction.atomic
def unit_revert(
    *,
    unit: OrganizationalUnit | int,
    history_id: int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    mode: str = RevertMode.UNDO,
) -> OrganizationalUnit:
    """Bring a unit back to the state of one of its versions, as one new change.

    The parent is restored through the same checks as ``unit_move`` and saved on a
    freshly read instance (never ``history.instance.save()``, which would hide the
    parent change from mptt and corrupt the tree). Reverting to a version from before
    the unit was abolished reinstates it. ``mode``: ``undo`` takes effect now (or at
    ``effective_at``); ``correct`` corrects the record from the time of the change that
    followed the version (see ``units.services.reverts``).
    """
    mode = revert_mode(mode)
    # A correction's time is the mistake's own, read below once the unit is locked.
    undo_at = effective_at if mode == RevertMode.UNDO else None
    write = begin_write(user, reason, reason_visibility, undo_at)
    unit = fresh(OrganizationalUnit, unit)
    check_version(unit, expected_version)
    target = unit.history.filter(history_id=history_id).first()
    if target is None:
        raise ValidationError(
            f"Version {history_id} is not a version of “{unit}”.",
            code=Refusal.NOT_FOUND,
        )
    if mode == RevertMode.CORRECT:
        return _unit_correct(unit, target, write, effective_at)
    if target.abolished_on is not None and unit.abolished_on is None:
        return unit_abolish(unit=unit, **write.keywords())
    check_effective_time(unit, write.effective_at)
    if target.parent_id != unit.parent_id:
        if target.parent_id is None:
            unit.parent = None
        else:
            unit.parent = _locked_new_parent(unit, target.parent_id, write.effective_at)
    elif target.abolished_on is None and unit.parent is not None:
        check_unit_usable(unit.parent, write.effective_at)
    old_parent_id, old_order = unit.parent_id, unit.sibling_order
    for field in UNIT_UPDATABLE_FIELDS:
        setattr(unit, field, getattr(target, field))
    unit.abolished_on = target.abolished_on
    if _position_taken(unit):
        # The version's position is another sibling's now: the unit keeps its own
        # place, or goes last under a parent it returns to.
        unit.sibling_order = (
            old_order
            if unit.parent_id == old_parent_id
            else _next_sibling_order(unit.parent)
        )
    if not _differs_from_latest_revision(unit):
        raise ValidationError(
            f"“{unit}” already matches that version; there is nothing to revert.",
            code=Refusal.NO_CHANGE,
        )
    moved = unit.parent_id != old_parent_id or unit.sibling_order != old_order
    # A correction moves the live tree itself, and only if the move reaches the end.
    if moved and not is_correction(unit, write.effective_at):
        place_in_tree(unit, old_parent_id)
    save_revision(unit, write, reverts=history_id)
    unit.refresh_from_db()
    return unit


@transaction.atomic
def unit_reinstate(
    *,
    unit: OrganizationalUnit | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> OrganizationalUnit:
    """Reinstate an abolished unit, effective ``effective_at`` (default: now).

    Like any other change it may be dated in the past, but not before the abolition
    it undoes, nor in the future. The unit takes back its last version before the
    abolition (``unit_revert``), under its parent if that parent was active from
    then on (``check_unit_usable``).
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    unit = fresh(OrganizationalUnit, unit)
    check_version(unit, expected_version)
    if unit.is_active:
        raise ValidationError(
            f"“{unit}” is not abolished; there is nothing to reinstate.",
            code=Refusal.NO_CHANGE,
        )
    before, abolished_at = _abolition(unit)
    if write.effective_at < abolished_at:
        raise ValidationError(
            f"“{unit}” was abolished effective {moment_text(abolished_at)}; its "
            f"reinstatement cannot take effect before that "
            f"({moment_text(write.effective_at)}).",
            code=Refusal.BEFORE_ABOLITION,
        )
    return unit_revert(unit=unit, history_id=before, **write.keywords())


def _abolition(unit: OrganizationalUnit) -> tuple[int, datetime.datetime]:
    """The history_id of the unit's last version before its abolition, and the
    effective time of the abolition (the revision that followed it)."""
    # Per effective time the later recorded row wins (a correction), as in reads.
    rows = winners(revisions(OrganizationalUnit, Q(id=unit.pk), ["abolished_on"]))
    last_active = max(
        (index for index, row in enumerate(rows) if row.state["abolished_on"] is None),
        default=None,
    )
    if last_active is None or last_active + 1 >= len(rows):
        raise ValidationError(
            f"“{unit}” has no recorded version before its abolition.",
            code=Refusal.NOT_FOUND,
        )
    return rows[last_active].history_id, rows[last_active + 1].history_date


# What a unit's revert restores, as columns of its history rows.
UNIT_REVERTED_COLUMNS = (*sorted(UNIT_UPDATABLE_FIELDS), "parent_id", "abolished_on")


def _unit_correct(
    unit: OrganizationalUnit,
    target: Any,
    write: Write,
    effective_at: EffectiveTime,
) -> OrganizationalUnit:
    """Revert by correcting the record: the change after ``target`` is undone from
    its own effective time, as one write recorded now."""
    correction = correction_of(
        unit, target, UNIT_REVERTED_COLUMNS, effective_at=effective_at
    )
    values = dict(correction.values)
    if "abolished_on" in values and target.abolished_on is not None:
        raise ValidationError(
            f"The change after that version reinstated “{unit}”; correcting it would "
            "abolish the unit from then on, with its sub-units. Undo it from now "
            "instead (abolish the unit).",
            code=Refusal.INVALID,
        )
    write = correction.write(write)
    check_effective_time(unit, write.effective_at)
    if is_correction(unit, write.effective_at):
        return _unit_correct_before_later_changes(unit, correction, target, write)
    old_parent_id, old_order = unit.parent_id, unit.sibling_order
    if "parent_id" in values:
        parent_id = values.pop("parent_id")
        unit.parent = (
            None
            if parent_id is None
            else _locked_new_parent(unit, parent_id, write.effective_at)
        )
    elif "abolished_on" in values and unit.parent is not None:
        check_unit_usable(unit.parent, write.effective_at)
    for column, value in values.items():
        setattr(unit, column, value)
    if _position_taken(unit):
        unit.sibling_order = (
            old_order
            if unit.parent_id == old_parent_id
            else _next_sibling_order(unit.parent)
        )
    if unit.parent_id != old_parent_id or unit.sibling_order != old_order:
        place_in_tree(unit, old_parent_id)
    save_revision(
        unit,
        write,
        reverts=target.history_id,
        corrects=correction.mistake.history_id,
    )
    unit.refresh_from_db()
    return unit


def _unit_correct_before_later_changes(
    unit: OrganizationalUnit, correction: Correction, target: Any, write: Write
) -> OrganizationalUnit:
    """The mistake was followed by other changes: the corrections path restates them,
    replays the stretch (cycles, abolished parents) and moves the live unit only if
    the corrected parent reaches today."""
    values = dict(correction.values)
    if "parent_id" in values:
        # No later move: the corrected parent reaches today, and the unit goes last
        # under it if its old place is another sibling's now (as an undo does).
        reaches_today = unit.parent_id == correction.mistake.parent_id
        parent_id = values.pop("parent_id")
        unit.parent = (
            None if parent_id is None else fresh(OrganizationalUnit, parent_id)
        )
        if reaches_today and "sibling_order" in values:
            unit.sibling_order = values.pop("sibling_order")
            if _position_taken(unit):
                unit.sibling_order = _next_sibling_order(unit.parent)
    for column, value in values.items():
        setattr(unit, column, value)
    unit.__dict__[REQUESTED] = set(correction.values)
    save_revision(unit, write, reverts=target.history_id)
    unit.refresh_from_db()
    return unit


def _position_taken(unit: OrganizationalUnit) -> bool:
    siblings = OrganizationalUnit.objects.children_of(unit.parent).exclude(pk=unit.pk)
    return siblings.filter(sibling_order=unit.sibling_order).exists()


def _differs_from_latest_revision(unit: OrganizationalUnit) -> bool:
    latest = unit.history.order_by(*NEWEST_REVISION_FIRST).first()
    fields = [*UNIT_UPDATABLE_FIELDS, "parent_id", "abolished_on"]
    return latest is None or any(
        getattr(latest, field) != getattr(unit, field) for field in fields
    )


# --- Moves to a position among siblings, and abolishing several units -------------------


def _order_between(before: int | None, after: int | None) -> int | None:
    """A sibling order strictly between two neighbours, or None if there is no room."""
    if before is None:
        if after is None:
            return SIBLING_ORDER_STEP
        return after // 2 if after >= 1 else None
    if after is None:
        return before + SIBLING_ORDER_STEP
    if after - before >= 2:
        return (before + after) // 2
    return None


@transaction.atomic
def unit_move_to_position(
    *,
    unit: OrganizationalUnit | int,
    target: OrganizationalUnit | int,
    position: MovePosition,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    reporting_line: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> OrganizationalUnit:
    """Move ``unit`` (with its subtree) to a place relative to ``target``.

    ``first-child``/``last-child`` make it the first or last sub-unit of ``target``;
    ``before``/``after`` make it ``target``'s sibling just before or after it. All
    through ``unit_move``: when the neighbours leave no free sibling order, the siblings
    are renumbered first (each a recorded change with the same reason), in the same
    transaction, so a refused move leaves nothing renumbered.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    if position not in MOVE_POSITIONS:
        raise ValidationError(
            f"Unknown position “{position}”: use one of {', '.join(MOVE_POSITIONS)}.",
            code=Refusal.BAD_POSITION,
        )
    unit = fresh(OrganizationalUnit, unit)
    target = fresh(OrganizationalUnit, target)
    check_version(unit, expected_version)
    check_effective_time(unit, write.effective_at)
    if is_correction(unit, write.effective_at):
        # A backdated move: the place is found in the tree as it stood then, not in
        # today's; the correction path replays the stretch (cycle, abolished parent).
        parent_then, order_then = _position_then(unit, target, position, write)
        return unit_move(
            unit=unit,
            new_parent=parent_then,
            sibling_order=order_then,
            reporting_line=reporting_line,
            expected_version=expected_version,
            **write.keywords(),
        )
    if position == "last-child":
        return unit_move(
            unit=unit,
            new_parent=target,
            reporting_line=reporting_line,
            expected_version=expected_version,
            **write.keywords(),
        )
    if target.pk == unit.pk:
        raise ValidationError(
            f"“{unit}” cannot be placed {position.replace('-', ' ')} itself.",
            code=Refusal.CYCLE if position == "first-child" else Refusal.BAD_POSITION,
        )
    new_parent = target if position == "first-child" else target.parent
    if new_parent is not None:
        # Refuse a cycle or an abolished parent before any sibling is renumbered.
        new_parent = _locked_new_parent(unit, new_parent, write.effective_at)
    siblings = list(
        OrganizationalUnit.objects.children_of(new_parent)
        .exclude(pk=unit.pk)
        .in_tree_order()
    )
    if position == "first-child":
        insert_at = 0
    else:
        index = next(i for i, sibling in enumerate(siblings) if sibling.pk == target.pk)
        insert_at = index if position == "before" else index + 1
    before = siblings[insert_at - 1].sibling_order if insert_at > 0 else None
    after = siblings[insert_at].sibling_order if insert_at < len(siblings) else None
    order = _order_between(before, after)
    if order is None:
        order = _renumber_siblings(
            unit, [*siblings[:insert_at], unit, *siblings[insert_at:]], write
        )
    return unit_move(
        unit=unit,
        new_parent=new_parent,
        sibling_order=order,
        reporting_line=reporting_line,
        expected_version=expected_version,
        **write.keywords(),
    )


def _position_then(
    unit: OrganizationalUnit,
    target: OrganizationalUnit,
    position: MovePosition,
    write: Write,
) -> tuple[int | None, int]:
    """The parent and sibling order a move to ``position`` relative to ``target``
    takes in the tree as of the write's effective time (two queries).

    Siblings are not renumbered in the past: with no free order between the two
    neighbours then, the move is refused with a message.
    """
    when = write.effective_at
    if target.pk == unit.pk:
        raise ValidationError(
            f"“{unit}” cannot be placed {position.replace('-', ' ')} itself.",
            code=Refusal.CYCLE if position.endswith("child") else Refusal.BAD_POSITION,
        )
    fields = ("id", "parent_id", "sibling_order", "name")
    target_then = states_as_of(OrganizationalUnit, when, fields, ids=[target.pk])
    if not target_then:
        raise ValidationError(
            f"“{target}” is not recorded yet on {moment_text(when)}; a unit cannot "
            "be placed beside or under it then.",
            code=Refusal.PARENT_NOT_YET_ESTABLISHED,
        )
    new_parent_id = (
        target.pk if position.endswith("child") else target_then[0]["parent_id"]
    )
    ever_under = OrganizationalUnit.history.filter(parent_id=new_parent_id).values("id")
    siblings = sorted(
        (
            row
            for row in states_as_of(OrganizationalUnit, when, fields, ids=ever_under)
            if row["parent_id"] == new_parent_id and row["id"] != unit.pk
        ),
        key=lambda row: (row["sibling_order"], row["name"], row["id"]),
    )
    if position == "first-child":
        insert_at = 0
    elif position == "last-child":
        insert_at = len(siblings)
    else:
        index = next(i for i, row in enumerate(siblings) if row["id"] == target.pk)
        insert_at = index if position == "before" else index + 1
    before = siblings[insert_at - 1] if insert_at > 0 else None
    after = siblings[insert_at] if insert_at < len(siblings) else None
    order = _order_between(
        None if before is None else before["sibling_order"],
        None if after is None else after["sibling_order"],
    )
    if order is None:
        names = " and ".join(f"“{row['name']}”" for row in (before, after) if row)
        raise ValidationError(
            f"On {moment_text(when)} there is no free position between {names}; "
            "siblings are not renumbered in the past. Give the unit a position of "
            "its own, or place it elsewhere.",
            code=Refusal.POSITION_TAKEN,
        )
    return new_parent_id, order


def _renumber_siblings(
    unit: OrganizationalUnit,
    ordered: list[OrganizationalUnit],
    write: Write,
) -> int:
    """Give the siblings room around ``unit``'s place; return ``unit``'s new order.

    Their order stays what it is, so the tree is not touched: each sibling whose
    position changes gets one revision of its ``sibling_order`` and nothing else.
    Abolished units are frozen: they keep their positions, and the others are spread
    between them (or after the last).
    """
    orders = _spread_positions(ordered, unit)
    text = _("%(reason)s (siblings renumbered to place “%(unit)s”)") % {
        "reason": write.reason,
        "unit": unit,
    }
    for sibling, order in zip(ordered, orders, strict=True):
        if sibling.pk != unit.pk and sibling.sibling_order != order:
            sibling = fresh(OrganizationalUnit, sibling)
            check_effective_time(sibling, write.effective_at)
            sibling.sibling_order = order
            keep_tree_place(sibling)
            save_revision(sibling, replace(write, reason=text))
    return orders[next(i for i, item in enumerate(ordered) if item.pk == unit.pk)]


def _spread_positions(
    ordered: list[OrganizationalUnit], unit: OrganizationalUnit
) -> list[int]:
    """Strictly rising positions for ``ordered``, abolished siblings' kept if they fit."""

    def frozen(item: OrganizationalUnit) -> bool:
        return item.pk != unit.pk and not item.is_active

    orders: list[int] = []
    fixed = [item.sibling_order if frozen(item) else None for item in ordered]
    floor = 0
    index = 0
    while index < len(ordered):
        kept = fixed[index]
        if kept is not None:
            floor = kept
            orders.append(floor)
            index += 1
            continue
        end = index
        while end < len(ordered) and fixed[end] is None:
            end += 1
        count = end - index
        ceiling = fixed[end] if end < len(ordered) else None
        if ceiling is None:
            run = [floor + SIBLING_ORDER_STEP * step for step in range(1, count + 1)]
        elif ceiling - floor - 1 >= count:
            run = [
                floor + (ceiling - floor) * step // (count + 1)
                for step in range(1, count + 1)
            ]
        else:
            # No room between frozen neighbours: every sibling is spaced afresh.
            return [SIBLING_ORDER_STEP * step for step in range(1, len(ordered) + 1)]
        orders.extend(run)
        floor = run[-1]
        index = end
    return orders


@transaction.atomic
def units_abolish(
    *,
    units: Iterable[OrganizationalUnit | int],
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    sub_units: SubUnitPolicy = "refuse",
    move_sub_units_to: OrganizationalUnit | None = None,
    sub_unit_destinations: SubUnitDestinations | None = None,
    expected_versions: dict[int, int] | None = None,
) -> list[OrganizationalUnit]:
    """Abolish several units, all or none, in tree order; return them as abolished.

    Each goes through ``unit_abolish`` with the same reason, time and sub-unit policy;
    ``sub_unit_destinations`` is handed to each unit for its own sub-units, and naming
    a unit that is no sub-unit of any of them is refused. When several are named, a
    unit already abolished (by an earlier one of the batch, with its subtree) is passed
    over. ``expected_versions`` maps a unit's id to the version the caller loaded, for
    the lost-update check.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    wanted = {
        unit.pk if isinstance(unit, OrganizationalUnit) else unit for unit in units
    }
    if not wanted:
        raise ValidationError(
            "Name at least one unit to abolish.", code=Refusal.INVALID
        )
    chosen = list(OrganizationalUnit.objects.filter(pk__in=wanted).in_tree_order())
    missing = wanted - {unit.pk for unit in chosen}
    if missing:
        raise ValidationError(
            f"Organizational unit {min(missing)} does not exist.",
            code=Refusal.NOT_FOUND,
        )
    destinations_of: dict[int, dict[int, Any]] = {unit.pk: {} for unit in chosen}
    if sub_unit_destinations is not None:
        parents = dict(
            OrganizationalUnit.objects.filter(
                pk__in=list(sub_unit_destinations)
            ).values_list("pk", "parent_id")
        )
        for child_id, destination in sub_unit_destinations.items():
            parent_id = parents.get(child_id)
            if parent_id not in destinations_of:
                raise ValidationError(
                    f"Organizational unit {child_id} is not a sub-unit of a unit "
                    "being abolished.",
                    code=Refusal.INVALID,
                )
            destinations_of[parent_id][child_id] = destination
    for unit in chosen:
        if (
            len(chosen) > 1
            and OrganizationalUnit.objects.abolished().filter(pk=unit.pk).exists()
        ):
            continue
        unit_abolish(
            unit=unit,
            **write.keywords(),
            sub_units=sub_units,
            move_sub_units_to=move_sub_units_to,
            sub_unit_destinations=(
                None if sub_unit_destinations is None else destinations_of[unit.pk]
            ),
            expected_version=(expected_versions or {}).get(unit.pk),
        )
    return list(OrganizationalUnit.objects.filter(pk__in=wanted).in_tree_order())

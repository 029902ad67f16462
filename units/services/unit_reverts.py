"""A unit brought back to an earlier version: reverted, or reinstated after its
abolition.

A revert is a new change (undone from now) or a correction of the record from the
time of the mistake (``units.services.reverts``); either way the parent goes back
through the same checks as a move and no version is erased.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from units.dates import moment_text
from units.models import NEWEST_REVISION_FIRST, OrganizationalUnit
from units.services.abolitions import unit_abolish
from units.services.corrections import REQUESTED, revisions, winners
from units.services.refusals import Refusal
from units.services.reverts import (
    Correction,
    RevertMode,
    correction_of,
    revert_mode,
    version_to_revert,
)
from units.services.revisions import (
    Actor,
    EffectiveTime,
    Write,
    begin_write,
    check_effective_time,
    check_unit_usable,
    check_version,
    fresh,
    is_correction,
    save_revision,
)
from units.services.tree import place_in_tree
from units.services.units import (
    UNIT_UPDATABLE_FIELDS,
    locked_new_parent,
    next_sibling_order,
)


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
    target = version_to_revert(unit, history_id)
    if mode == RevertMode.CORRECT:
        return _unit_correct(unit, target, write, effective_at)
    if target.abolished_on is not None and unit.abolished_on is None:
        return unit_abolish(unit=unit, **write.keywords())
    check_effective_time(unit, write.effective_at)
    if target.parent_id != unit.parent_id:
        if target.parent_id is None:
            unit.parent = None
        else:
            unit.parent = locked_new_parent(unit, target.parent_id, write.effective_at)
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
            else next_sibling_order(unit.parent)
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
            else locked_new_parent(unit, parent_id, write.effective_at)
        )
    elif "abolished_on" in values and unit.parent is not None:
        check_unit_usable(unit.parent, write.effective_at)
    for column, value in values.items():
        setattr(unit, column, value)
    if _position_taken(unit):
        unit.sibling_order = (
            old_order
            if unit.parent_id == old_parent_id
            else next_sibling_order(unit.parent)
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
                unit.sibling_order = next_sibling_order(unit.parent)
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

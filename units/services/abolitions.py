"""Abolishing units: one, saying what becomes of its sub-units, or several at once.

A unit is abolished, never deleted: it keeps its history and stays readable at earlier
instants. Its active sub-units are refused, abolished with it, or moved (``unit_move``)
under another unit; several units are abolished together, all or none.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import models, transaction

from units.dates import day_text, moment_text
from units.models import OrganizationalUnit, UnitRelationship
from units.services.posts import post_abolish
from units.services.refusals import Refusal, refusal_code
from units.services.relationships import relationship_end
from units.services.revisions import (
    Actor,
    EffectiveTime,
    Write,
    begin_write,
    check_effective_time,
    check_version,
    fresh,
    save_revision,
)
from units.services.stretches import states_over
from units.services.units import is_inside, unit_move

SubUnitPolicy = Literal["refuse", "abolish", "move"]
# Where each direct sub-unit of an abolished unit goes: its id -> the unit (or the id of
# the unit) it moves under, or None to abolish it with the unit.
SubUnitDestinations = Mapping[int, "OrganizationalUnit | int | None"]


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
            if target.pk == unit.pk or is_inside(target, unit):
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
        if target.pk == unit.pk or is_inside(target, unit):
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

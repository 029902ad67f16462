"""A unit moved to a place among siblings: first or last under a unit, or before or
after a sibling, as the admin's drag and drop and the API's ``position`` ask.

Positions are handed out ``SIBLING_ORDER_STEP`` apart, so a unit usually fits between
two neighbours; when they leave no room, the siblings are renumbered (each a recorded
change with the same reason), without touching the tree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from units.dates import moment_text
from units.models import OrganizationalUnit
from units.selectors import states_as_of
from units.services.refusals import Refusal
from units.services.revisions import (
    Actor,
    EffectiveTime,
    Write,
    begin_write,
    check_effective_time,
    check_version,
    fresh,
    is_correction,
    save_revision,
)
from units.services.tree import keep_tree_place
from units.services.units import SIBLING_ORDER_STEP, locked_new_parent, unit_move

# Where a unit goes relative to ``target`` in ``unit_move_to_position``.
MovePosition = Literal["first-child", "last-child", "before", "after"]
MOVE_POSITIONS: tuple[MovePosition, ...] = (
    "first-child",
    "last-child",
    "before",
    "after",
)


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
        new_parent = locked_new_parent(unit, new_parent, write.effective_at)
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

"""The nested-set arithmetic of a move, done in one statement that touches what changes.

django-mptt keeps the tree (it is the chosen tree library), but its move within a tree
rewrites every row of the tree (``WHERE tree_id = ...``): on PostgreSQL each row gets a
new version even when its values stay, so one move at 100,000 units wrote 100,000
rows. Here the same arithmetic is limited to the rows whose ``lft`` or ``rght`` lies
between where the subtree leaves and where it lands: the subtree itself and the nodes
it passes over. Nothing else in a nested set changes on a move.

Siblings are ordered by ``sibling_order`` alone, and the services keep it distinct
among siblings: a unit's place follows from its parent and its position, never from
its name, so a rename never moves anything.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection

from units.models import OrganizationalUnit
from units.services.refusals import Refusal


def check_position_free(
    unit: OrganizationalUnit | None, parent_id: int | None, sibling_order: int
) -> None:
    """Refuse a position another sub-unit of the same parent already holds.

    Two siblings at one position would fall back to some other order (the name's),
    and a rename would then change what the pages show.
    """
    holder = (
        OrganizationalUnit.objects.filter(
            parent_id=parent_id, sibling_order=sibling_order
        )
        .exclude(pk=None if unit is None else unit.pk)
        .only("name")
        .first()
    )
    if holder is not None:
        where = "the top level" if parent_id is None else "this parent"
        raise ValidationError(
            f"Position {sibling_order} among the units under {where} is already "
            f"held by “{holder}”. Choose a free one, or move the unit before or "
            "after a sibling.",
            code=Refusal.POSITION_TAKEN,
        )


def place_in_tree(unit: OrganizationalUnit, old_parent_id: int | None) -> None:
    """Move ``unit``'s subtree to where its ``parent`` and ``sibling_order`` say.

    Call with the registry lock held, after the cycle checks, before saving ``unit``.
    Moves between units of one tree are done here in one UPDATE; moves from or to the
    top level (a tree of its own) are left to django-mptt's save, which renumbers
    ``tree_id``: they are rare and their cost is the moved tree's size.
    """
    if unit.parent_id is None or old_parent_id is None:
        return
    table = OrganizationalUnit._meta.db_table
    quote = connection.ops.quote_name
    rows = {
        row[0]: row[1:]
        for row in OrganizationalUnit.objects.filter(
            pk__in=[unit.pk, unit.parent_id]
        ).values_list("pk", "lft", "rght", "level", "tree_id")
    }
    left, right, level, tree_id = rows[unit.pk]
    parent_left, parent_right, parent_level, parent_tree_id = rows[unit.parent_id]
    if tree_id != parent_tree_id:
        return
    if left <= parent_left <= right:
        raise ValidationError(
            f"“{unit}” cannot report to a unit inside its own subtree.",
            code=Refusal.CYCLE,
        )
    next_left = (
        OrganizationalUnit.objects.filter(
            parent_id=unit.parent_id, sibling_order__gt=unit.sibling_order
        )
        .exclude(pk=unit.pk)
        .order_by("sibling_order")
        .values_list("lft", flat=True)
        .first()
    )
    # The subtree lands just before ``landing`` (in today's numbering).
    landing = parent_right if next_left is None else next_left
    keep_tree_place(unit)
    if landing == right + 1:
        return  # already there: the position changed, the order did not
    width = right - left + 1
    if landing > right:
        # Moving right: the nodes it passes over move left by its width.
        shift, others = landing - right - 1, -width
        others_from, others_to = right + 1, landing - 1
        low, high = left, landing - 1
    else:
        # Moving left: the nodes it passes over move right by its width.
        shift, others = landing - left, width
        others_from, others_to = landing, left - 1
        low, high = landing, right
    level_change = parent_level + 1 - level
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {quote(table)}
            SET {quote("level")} = CASE WHEN {quote("lft")} BETWEEN %s AND %s
                    THEN {quote("level")} + %s ELSE {quote("level")} END,
                {quote("lft")} = CASE
                    WHEN {quote("lft")} BETWEEN %s AND %s THEN {quote("lft")} + %s
                    WHEN {quote("lft")} BETWEEN %s AND %s THEN {quote("lft")} + %s
                    ELSE {quote("lft")} END,
                {quote("rght")} = CASE
                    WHEN {quote("rght")} BETWEEN %s AND %s THEN {quote("rght")} + %s
                    WHEN {quote("rght")} BETWEEN %s AND %s THEN {quote("rght")} + %s
                    ELSE {quote("rght")} END
            WHERE {quote("tree_id")} = %s
              AND ({quote("lft")} BETWEEN %s AND %s
                   OR {quote("rght")} BETWEEN %s AND %s)
            """,  # noqa: S608 (names quoted, values bound)
            [
                left,
                right,
                level_change,
                left,
                right,
                shift,
                others_from,
                others_to,
                others,
                left,
                right,
                shift,
                others_from,
                others_to,
                others,
                tree_id,
                low,
                high,
                low,
                high,
            ],
        )
    unit.lft, unit.rght, unit.level = left + shift, right + shift, level + level_change


def keep_tree_place(unit: OrganizationalUnit) -> None:
    """Tell django-mptt the tree already holds ``unit`` where it belongs.

    mptt compares the parent and the ordering fields with the values it saw when the
    instance was loaded; when they differ, its save moves the node (across the whole
    tree). Once the move is done here, its save only writes the unit's own fields.
    """
    cached = unit._mptt_cached_fields
    cached["parent"] = unit.parent_id
    cached["sibling_order"] = unit.sibling_order

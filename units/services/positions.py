"""Distinct sibling positions for a registry written before they were required.

Siblings were ordered by (sibling_order, name); they are now ordered by
``sibling_order`` alone, which the services keep distinct among siblings. Migration 0009
and the restore of an older backup give siblings that shared a position the next free
numbers, in the order the pages showed (position, then name), so nothing changes order.

Each unit whose position changes gets one revision (effective now, no author, with
``REASON``), so the history still ends in the unit's stored state and every as-of
answer from then on uses the new positions. If the tree fields disagree with that order
(the database compared names its own way), they are renumbered too; usually no row
needs it. The model classes are parameters: the migration passes its historical ones.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

REASON = (
    "Sibling positions made distinct: siblings are ordered by position only, no "
    "longer by name (the order shown does not change)."
)
BATCH_SIZE = 2_000

Row = dict[str, Any]


def _distinct_positions(
    rows: dict[int, Row],
) -> tuple[dict[Any, list[Row]], dict[int, int]]:
    """Siblings grouped by parent in visible order, and the new positions (id -> order)."""
    groups: dict[Any, list[Row]] = defaultdict(list)
    for row in rows.values():
        groups[row["parent_id"]].append(row)
    changed: dict[int, int] = {}
    for siblings in groups.values():
        siblings.sort(key=lambda row: (row["sibling_order"], row["name"], row["lft"]))
        previous = -1
        for row in siblings:
            if row["sibling_order"] <= previous:
                row["sibling_order"] = previous + 1
                changed[row["id"]] = row["sibling_order"]
            previous = row["sibling_order"]
    return groups, changed


def _nested_sets(groups: dict[Any, list[Row]]) -> dict[int, list[int]]:
    """[lft, rght, level, tree_id] of every unit; each tree keeps its id."""
    places: dict[int, list[int]] = {}
    for root in groups.get(None, []):
        counter = 0
        stack = [(root, 0, True)]
        while stack:
            row, level, entering = stack.pop()
            counter += 1
            if entering:
                places[row["id"]] = [counter, 0, level, root["tree_id"]]
                stack.append((row, level, False))
                stack.extend(
                    (child, level + 1, True)
                    for child in reversed(groups.get(row["id"], []))
                )
            else:
                places[row["id"]][1] = counter
    return places


def make_sibling_positions_distinct(unit_model: Any, history_model: Any) -> int:
    """Renumber siblings that share a position; return how many units changed."""
    fields = ("id", "parent_id", "sibling_order", "name", "lft", "rght", "level")
    rows = {
        row["id"]: row
        for row in unit_model._default_manager.values(*fields, "tree_id").iterator(
            BATCH_SIZE
        )
    }
    groups, changed = _distinct_positions(rows)
    if not changed:
        return 0
    places = _nested_sets(groups)
    if len(places) == len(rows):  # a tree with a cycle or an orphan is left alone
        misplaced = [
            unit_id
            for unit_id, place in places.items()
            if place
            != [rows[unit_id][name] for name in ("lft", "rght", "level", "tree_id")]
        ]
        for start in range(0, len(misplaced), BATCH_SIZE):
            batch = list(
                unit_model._default_manager.filter(
                    pk__in=misplaced[start : start + BATCH_SIZE]
                )
            )
            for unit in batch:
                unit.lft, unit.rght, unit.level, unit.tree_id = places[unit.pk]
            unit_model._default_manager.bulk_update(
                batch, ["lft", "rght", "level", "tree_id"]
            )
    now = timezone.now()
    # The unit's own columns; the history table's bookkeeping columns are set below.
    unit_columns = {field.attname for field in unit_model._meta.concrete_fields}
    copied = [
        field.attname
        for field in history_model._meta.concrete_fields
        if field.attname in unit_columns
    ]
    history_columns = {field.attname for field in history_model._meta.concrete_fields}
    # Renumbering is housekeeping anyone may read about (when the column exists yet).
    visibility = (
        {"reason_visibility": "public"}
        if "reason_visibility" in history_columns
        else {}
    )
    ids = sorted(changed)
    for start in range(0, len(ids), BATCH_SIZE):
        batch = list(
            unit_model._default_manager.filter(pk__in=ids[start : start + BATCH_SIZE])
        )
        for unit in batch:
            unit.sibling_order = changed[unit.pk]
            unit.version += 1
        unit_model._default_manager.bulk_update(batch, ["sibling_order", "version"])
        history_model._default_manager.bulk_create(
            history_model(
                **{name: getattr(unit, name) for name in copied},
                history_date=now,
                recorded_at=now,
                history_type="~",
                history_change_reason=REASON,
                history_user_id=None,
                **visibility,
            )
            for unit in batch
        )
    return len(changed)

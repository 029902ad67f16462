"""Consistency checks: the tree bookkeeping and the history against the tables."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from units.models import (
    TREE_FIELDS,
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    UnitRelationship,
    UnitSuccession,
)
from units.selectors.as_of import _latest_revisions


def tree_problems() -> list[str]:
    """Compare mptt's bookkeeping with the parent links; empty when consistent."""
    rows = list(OrganizationalUnit.objects.values("id", "parent_id", *TREE_FIELDS))
    by_id = {row["id"]: row for row in rows}
    children: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    problems: list[str] = []
    for row in rows:
        if row["parent_id"] is not None and row["parent_id"] not in by_id:
            problems.append(
                f"unit {row['id']}: parent {row['parent_id']} does not exist"
            )
        children[row["parent_id"]].append(row)
    # Cycles: every unit must reach a root by parent links.
    for row in rows:
        seen, current = set(), row
        while current["parent_id"] is not None and current["parent_id"] in by_id:
            if current["id"] in seen:
                problems.append(
                    f"unit {row['id']}: its reporting line contains a cycle"
                )
                break
            seen.add(current["id"])
            current = by_id[current["parent_id"]]
    if problems:
        return problems
    tree_ids = [row["tree_id"] for row in children[None]]
    if len(tree_ids) != len(set(tree_ids)):
        problems.append("two top-level units share one tree_id")
    for root in children[None]:
        problems.extend(_nested_set_problems(root, children))
    reached = sum(1 for root in children[None] for _ in _descendants(root, children))
    if reached != len(rows):
        problems.append(
            f"{len(rows) - reached} units cannot be reached from a top-level unit"
        )
    return problems


def _descendants(
    root: dict[str, Any], children: dict[Any, list[dict[str, Any]]]
) -> Iterable[dict[str, Any]]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children[node["id"]])


def _nested_set_problems(
    root: dict[str, Any], children: dict[Any, list[dict[str, Any]]]
) -> list[str]:
    """Recompute lft/rght/level from parent links in the stored sibling order."""
    problems: list[str] = []
    counter = 0
    # Iterative depth-first numbering: (node, level, entering?).
    stack: list[tuple[dict[str, Any], int, bool]] = [(root, 0, True)]
    expected: dict[int, list[int]] = {}
    while stack:
        node, level, entering = stack.pop()
        if entering:
            counter += 1
            expected[node["id"]] = [counter, 0, level]
            stack.append((node, level, False))
            for child in sorted(
                children[node["id"]], key=lambda row: row["lft"], reverse=True
            ):
                stack.append((child, level + 1, True))
        else:
            counter += 1
            expected[node["id"]][1] = counter
    for node in _descendants(root, children):
        lft, rght, level = expected[node["id"]]
        actual = (node["lft"], node["rght"], node["level"])
        if actual != (lft, rght, level) or node["tree_id"] != root["tree_id"]:
            problems.append(
                f"unit {node['id']}: tree fields (lft, rght, level, tree_id) are "
                f"{(*actual, node['tree_id'])}, parent links give {(lft, rght, level, root['tree_id'])}"
            )
    return problems


HISTORY_CHECKED_MODELS: tuple[type[RecordedModel], ...] = (
    OrganizationalUnit,
    Post,
    Person,
    Appointment,
    UnitRelationship,
    UnitSuccession,
)


def history_problems() -> list[str]:
    """Every current object must equal its latest history row (two queries a model)."""
    problems: list[str] = []
    for model in HISTORY_CHECKED_MODELS:
        tracked = [
            f.attname for f in model._meta.concrete_fields if f.name not in TREE_FIELDS
        ]
        current = {row["id"]: row for row in model._default_manager.values(*tracked)}
        latest = {
            row["id"]: row
            for row in _latest_revisions(
                model, datetime.datetime.max.replace(tzinfo=datetime.UTC)
            ).values("history_type", *tracked)
        }
        label = model._meta.verbose_name
        for pk, row in current.items():
            revision = latest.get(pk)
            if revision is None:
                problems.append(f"{label} {pk}: no history record")
                continue
            differing = [name for name in tracked if row[name] != revision[name]]
            if differing:
                problems.append(
                    f"{label} {pk}: differs from its latest history record in "
                    + ", ".join(differing)
                )
        for pk in set(latest) - set(current):
            if latest[pk]["history_type"] != "-":
                problems.append(
                    f"{label} {pk}: has history but no current row (deleted?)"
                )
    return problems


def lineage_problems() -> list[str]:
    """The lineage never loops back: no unit succeeds itself, even through others
    (``services.lineage`` refuses such a link; a restored file could hold one). One
    query."""
    successors: dict[int, set[int]] = {}
    for before, after in UnitSuccession.objects.values_list(
        "predecessor_id", "successor_id"
    ):
        successors.setdefault(before, set()).add(after)
    problems = []
    for start in sorted(successors):
        seen: set[int] = set()
        frontier = set(successors[start])
        while frontier and start not in seen:
            seen |= frontier
            frontier = {
                after for unit in frontier for after in successors.get(unit, ())
            } - seen
        if start in seen:
            problems.append(f"unit {start}: its lineage loops back to itself")
    return problems


def registry_problems() -> list[str]:
    return tree_problems() + history_problems() + lineage_problems()

"""Parts of a tree: what the pages show of a registry too large to list."""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, overload

from django.db import models
from django.db.models import Q

from units.models import OrganizationalUnit
from units.selectors.as_of import _in_ids, reading_instant
from units.selectors.fields import UNIT_STATE_FIELDS
from units.selectors.flat_trees import _SLUG, _depth_first_as_of
from units.selectors.posts import _current_heads, posts_as_of
from units.selectors.results import UnitNode
from units.selectors.trees import _assemble, _sibling_key, cyclic_gc_paused


@dataclass(slots=True)
class PartialTree:
    """Some levels of a tree, linked, with how many active units lie below each unit.

    ``roots`` are linked down ``levels`` levels, siblings in the order of
    ``unit_tree()``; units on the last loaded level have no children loaded, even
    when they have sub-units. ``descendants`` counts every loaded unit's active
    descendants, loaded or not. ``unit_count`` is the number of active units the part
    was taken from: the whole organization, or the branch below one unit.

    ``unit_tree_levels()`` also fills ``units_per_level``, the active units on each
    level it counted (the part's top level is 0), and ``folded``: for each unit it was
    asked to place that lies below the loaded levels, the slug of the unit on the last
    loaded level whose branch holds it.
    """

    roots: list[UnitNode]
    levels: int
    unit_count: int
    loaded_count: int
    descendants: dict[int, int]
    units_per_level: dict[int, int] = field(default_factory=dict)
    folded: dict[str, str] = field(default_factory=dict)

    @property
    def is_cut(self) -> bool:
        """Whether some units below the loaded levels are left to load on demand."""
        return self.loaded_count < self.unit_count


def levels_that_fit(units_per_level: dict[int, int], max_units: int) -> int:
    """The most top levels (at least one) that hold ``max_units`` units or fewer."""
    levels = shown = 0
    for level in range(max(units_per_level, default=-1) + 1):
        shown += units_per_level.get(level, 0)
        if shown > max_units and levels:
            break
        levels = level + 1
    return max(levels, 1)


def unit_tree_top(
    when: datetime.datetime | None = None, *, max_units: int
) -> PartialTree:
    """The top levels of the tree at ``when`` (default now) holding at most ``max_units``.

    Whole levels are kept (at least the top one), so every shown unit shows all its
    sub-units or none: ``unit_tree_levels()`` chooses them from how many active units
    each level holds.
    """
    return unit_tree_levels(
        when,
        levels=MAX_TREE_LEVELS,
        fit=lambda units_per_level: levels_that_fit(units_per_level, max_units),
    )


def unit_children(
    slug: str, when: datetime.datetime | None = None
) -> PartialTree | None:
    """The active sub-units of the unit ``slug`` at ``when`` (default now), one level.

    None if the unit is not an active part of the structure then. Now: six queries
    that read the unit, its sub-units and their heads, and the abolished units in its
    ``lft``..``rght`` range. As of a past instant: rebuilt from history, as
    ``unit_tree_top()`` does.
    """
    when = reading_instant(when)
    if when is not None:
        units = _depth_first_as_of(when, root_slug=slug)
        if not units:
            return None
        part = _link_depth_first(units, first_depth=1, levels=1)
        _set_heads_as_of(part, when)
        return part
    unit = (
        OrganizationalUnit.objects.active()
        .filter(slug=slug)
        .values("id", "tree_id", "lft", "rght", "level")
        .first()
    )
    if unit is None:
        return None
    below_unit = Q(abolished_on__isnull=True, parent_id=unit["id"])
    rows = list(
        OrganizationalUnit.objects.filter(below_unit)
        .order_by()
        .values(*UNIT_STATE_FIELDS, "tree_id", "lft", "rght")
    )
    heads = _current_heads(below_unit)
    abolished = _abolished_positions(
        within=(unit["tree_id"], unit["lft"], unit["rght"])
    )
    children: list[UnitNode] = []
    descendants: dict[int, int] = {}
    for row in rows:
        span = (row.pop("tree_id"), row.pop("lft"), row.pop("rght"))
        child = UnitNode(**row, level=unit["level"] + 1, head=heads.get(row["id"]))
        descendants[child.id] = _active_descendants(*span, abolished)
        children.append(child)
    children.sort(key=_sibling_key)
    return PartialTree(
        roots=children,
        levels=1,
        unit_count=sum(1 + count for count in descendants.values()),
        loaded_count=len(children),
        descendants=descendants,
    )


# More levels than any tree holds: "every level" for unit_tree_levels().
MAX_TREE_LEVELS = 1000


@overload
def unit_tree_levels(
    when: datetime.datetime | None = None,
    *,
    slug: None = None,
    levels: int,
    fit: Callable[[dict[int, int]], int] | None = None,
    placing: Collection[str] = (),
) -> PartialTree: ...


@overload
def unit_tree_levels(
    when: datetime.datetime | None = None,
    *,
    slug: str,
    levels: int,
    fit: Callable[[dict[int, int]], int] | None = None,
    placing: Collection[str] = (),
) -> PartialTree | None: ...


def unit_tree_levels(
    when: datetime.datetime | None = None,
    *,
    slug: str | None = None,
    levels: int,
    fit: Callable[[dict[int, int]], int] | None = None,
    placing: Collection[str] = (),
) -> PartialTree | None:
    """The top ``levels`` levels of the tree at ``when`` (default now), or of a branch.

    With ``slug`` the part is that unit's branch, the unit included, its levels still
    counted from the top of the whole tree; None if the unit is not an active part of
    the structure then. With ``fit`` the part holds ``fit(units_per_level)`` levels,
    chosen from how many active units each of the first ``levels`` levels holds,
    counted without loading them. ``placing`` names units (by slug) whose place below
    the loaded levels is wanted: ``folded`` gives it.

    Now: the loaded units, their heads and the abolished units of the part, the nested
    sets giving each loaded unit's active descendants; below the loaded levels only a
    count per level (with ``fit``) and the units to place (with ``placing``) are read.
    Six to eight queries. As of a past instant the units are rebuilt from history and
    cut in one pass, as ``unit_tree_top()`` does; only the loaded units' heads are read.
    """
    when = reading_instant(when)
    if when is not None:
        return _tree_levels_as_of(
            when, slug=slug, levels=levels, fit=fit, placing=placing
        )
    part: dict[str, Any] = {"abolished_on__isnull": True}
    within: tuple[int, int, int] | None = None
    top_level = 0
    if slug is not None:
        unit = (
            OrganizationalUnit.objects.active()
            .filter(slug=slug)
            .values("tree_id", "lft", "rght", "level")
            .first()
        )
        if unit is None:
            return None
        within = (unit["tree_id"], unit["lft"], unit["rght"])
        top_level = unit["level"]
        # The branch is its root's range of the (tree_id, lft) index.
        part.update(tree_id=unit["tree_id"], lft__gte=unit["lft"], lft__lt=unit["rght"])
    units_per_level: dict[int, int] = {}
    if fit is not None:
        counted = (
            OrganizationalUnit.objects.filter(**part, level__lt=top_level + levels)
            .order_by()
            .values_list("level")
            .annotate(units=models.Count("id"))
        )
        units_per_level = {level - top_level: units for level, units in counted}
        levels = fit(units_per_level)
    last_level = top_level + levels - 1
    with cyclic_gc_paused():
        rows = list(
            OrganizationalUnit.objects.filter(**part, level__lte=last_level)
            .order_by()
            .values(*UNIT_STATE_FIELDS, "tree_id", "lft", "rght", "level")
        )
        heads = _current_heads(Q(id__in=_in_ids(row["id"] for row in rows)))
    abolished = _abolished_positions(within=within)
    descendants: dict[int, int] = {}
    # The last loaded level's ranges by tree, to find the units below them.
    last_ranges: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for row in rows:
        tree_id, lft, rght = row.pop("tree_id"), row.pop("lft"), row.pop("rght")
        descendants[row["id"]] = _active_descendants(tree_id, lft, rght, abolished)
        if row.pop("level") == last_level:
            last_ranges[tree_id].append((lft, rght, row["slug"]))
    roots = _assemble(rows, heads)
    if top_level:
        for root in roots:
            for node in root.walk():
                node.level += top_level
    folded: dict[str, str] = {}
    if placing:
        for ranges in last_ranges.values():
            ranges.sort()
        below = OrganizationalUnit.objects.filter(
            **part, level__gt=last_level, slug__in=sorted(set(placing))
        ).values_list("slug", "tree_id", "lft")
        for placed, tree_id, lft in below:
            ranges = last_ranges.get(tree_id, [])
            index = bisect.bisect_right(ranges, (lft,)) - 1
            if index >= 0 and lft < ranges[index][1]:
                folded[placed] = ranges[index][2]
    return PartialTree(
        roots=roots,
        levels=levels,
        unit_count=sum(1 + descendants[root.id] for root in roots),
        loaded_count=len(rows),
        descendants=descendants,
        units_per_level=units_per_level,
        folded=folded,
    )


def _tree_levels_as_of(
    when: datetime.datetime,
    *,
    slug: str | None,
    levels: int,
    fit: Callable[[dict[int, int]], int] | None,
    placing: Collection[str],
) -> PartialTree | None:
    """``unit_tree_levels()`` as of a past instant, rebuilt from history."""
    units = _depth_first_as_of(when)
    top = 0
    if slug is not None:
        # A branch is its root's row and the deeper rows right after it.
        start = next(
            (index for index, (_, row) in enumerate(units) if row[_SLUG] == slug), None
        )
        if start is None:
            return None
        top = units[start][0]
        end = next(
            (index for index in range(start + 1, len(units)) if units[index][0] <= top),
            len(units),
        )
        units = units[start:end]
    units_per_level: dict[int, int] = defaultdict(int)
    if fit is not None:
        for depth, _ in units:
            if depth - top < levels:
                units_per_level[depth - top] += 1
        levels = fit(dict(units_per_level))
    part = _link_depth_first(units, first_depth=top, levels=levels)
    _set_heads_as_of(part, when)
    part.units_per_level = dict(units_per_level)
    if placing:
        wanted = set(placing)
        last = top + levels - 1
        holder = ""
        # Depth first, a unit below the last loaded level follows the loaded unit
        # above it, and comes before the next unit on that level.
        for depth, row in units:
            if depth == last:
                holder = row[_SLUG]
            elif depth > last and row[_SLUG] in wanted:
                part.folded[row[_SLUG]] = holder
    return part


def _abolished_positions(
    *, within: tuple[int, int, int] | None = None
) -> dict[int, list[int]]:
    """The sorted ``lft`` of the abolished units in each tree (or in one branch).

    Nested sets count a unit's descendants as (rght - lft - 1) / 2, abolished ones
    included; the abolished ones in its range are subtracted using these positions.
    One query that returns the abolished units alone (a small share of the registry),
    where counting the active units below each unit would scan or sort the whole
    table: ``lft`` has no index. ``within`` is a branch's tree_id, lft and rght.
    """
    units = OrganizationalUnit.objects.abolished().order_by()
    if within is not None:
        tree_id, lft, rght = within
        units = units.filter(tree_id=tree_id, lft__gt=lft, lft__lt=rght)
    positions: dict[int, list[int]] = defaultdict(list)
    for tree_id, lft in units.values_list("tree_id", "lft"):
        positions[tree_id].append(lft)
    for lfts in positions.values():
        lfts.sort()
    return positions


def _active_descendants(
    tree_id: int, lft: int, rght: int, abolished: dict[int, list[int]]
) -> int:
    lfts = abolished.get(tree_id, ())
    gone = bisect.bisect_left(lfts, rght) - bisect.bisect_right(lfts, lft)
    return (rght - lft - 1) // 2 - gone


def _link_depth_first(
    units: list[tuple[int, tuple[Any, ...]]], *, first_depth: int, levels: int
) -> PartialTree:
    """The units from ``first_depth`` down ``levels`` levels of depth-first rows, linked.

    Subtree sizes come from the order in one pass: a unit's descendants are the rows
    after it until the next row at its depth or above. Heads are left to the caller.
    """
    sizes = [0] * len(units)
    open_rows: list[int] = []
    for index, (depth, _) in enumerate(units):
        while open_rows and units[open_rows[-1]][0] >= depth:
            start = open_rows.pop()
            sizes[start] = index - start - 1
        open_rows.append(index)
    for start in open_rows:
        sizes[start] = len(units) - start - 1
    roots: list[UnitNode] = []
    path: list[UnitNode] = []
    descendants: dict[int, int] = {}
    unit_count = 0
    for index, (depth, row) in enumerate(units):
        if depth < first_depth:
            continue
        unit_count += 1
        if depth >= first_depth + levels:
            continue
        node = UnitNode(**dict(zip(UNIT_STATE_FIELDS, row, strict=True)), level=depth)
        descendants[node.id] = sizes[index]
        del path[depth - first_depth :]
        (path[-1].children if path else roots).append(node)
        path.append(node)
    return PartialTree(
        roots=roots,
        levels=levels,
        unit_count=unit_count,
        loaded_count=len(descendants),
        descendants=descendants,
    )


def _set_heads_as_of(part: PartialTree, when: datetime.datetime) -> None:
    """Give the loaded units of ``part`` their heads at ``when`` (three queries)."""
    nodes = [node for root in part.roots for node in root.walk()]
    posts = posts_as_of(when, unit_ids={node.id for node in nodes}, heads_only=True)
    heads = {post.unit_id: post for post in posts}
    for node in nodes:
        node.head = heads.get(node.id)


def parents_down_to(level: int) -> list[tuple[int, str, int]]:
    """``(id, name, level)`` of the units down to ``level`` that have sub-units.

    In tree order: what a "reports to" choice offers without listing every unit.
    """
    return list(
        OrganizationalUnit.objects.filter(level__lte=level)
        .with_sub_units()
        .in_tree_order()
        .values_list("pk", "name", "level")
    )

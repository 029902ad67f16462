"""Trees as rows in depth-first order, for encoders that need no node objects."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, overload

from django.db import models
from django.db.models import FilteredRelation, Q, Subquery
from django.utils import timezone

from units.models import OrganizationalUnit
from units.selectors.as_of import iter_state_rows_as_of, state_rows_as_of
from units.selectors.fields import UNIT_STATE_FIELDS
from units.selectors.posts import _current_heads, posts_as_of
from units.selectors.results import PostState
from units.selectors.trees import cyclic_gc_paused


@dataclass(slots=True)
class FlatTree:
    """A tree as rows in depth-first order, for building large answers fast.

    ``units`` holds ``(depth, row)`` pairs, each unit before its descendants and
    siblings in the order of ``unit_tree()``; ``row`` is a tuple of
    ``UNIT_STATE_FIELDS``. ``heads`` maps unit ids to their head posts. ``slugs``
    names the parent of every unit in ``units`` that has one in the same tree (a
    subtree's root included), like ``unit_tree()``'s nodes would.
    """

    units: list[tuple[int, tuple[Any, ...]]]
    heads: dict[int, PostState]
    slugs: dict[int, str]


_ID, _SLUG, _NAME = 0, 1, 2
_PARENT_ID = UNIT_STATE_FIELDS.index("parent_id")
_SIBLING_ORDER = UNIT_STATE_FIELDS.index("sibling_order")
_ABOLISHED_ON = UNIT_STATE_FIELDS.index("abolished_on")


def _row_sibling_key(row: tuple[Any, ...]) -> tuple[int, str]:
    return (row[_SIBLING_ORDER], row[_NAME])


def depth_first(
    rows: list[tuple[Any, ...]], *, root_slug: str | None = None
) -> list[tuple[int, tuple[Any, ...]]]:
    """Order rows like ``_assemble`` links them: parents first, siblings sorted.

    Only the id, slug, name, parent and sibling order of each row are read.

    Sorting in Python (not by ``lft``) keeps the order of ``unit_tree()`` whatever
    the database's collation, and works for past states, which have no tree fields.
    """
    ids = {row[_ID] for row in rows}
    roots: list[tuple[Any, ...]] = []
    children: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        parent_id = row[_PARENT_ID]
        if parent_id and parent_id in ids:
            children[parent_id].append(row)
        else:
            roots.append(row)
    if root_slug is not None:
        roots = [row for row in rows if row[_SLUG] == root_slug][:1]
    ordered: list[tuple[int, tuple[Any, ...]]] = []
    # Sorted forwards, pushed backwards: equal keys keep their order, as in _assemble.
    roots.sort(key=_row_sibling_key)
    stack = [(0, row) for row in reversed(roots)]
    while stack:
        depth, row = stack.pop()
        ordered.append((depth, row))
        below = children.get(row[_ID])
        if below:
            below.sort(key=_row_sibling_key)
            stack.extend((depth + 1, child) for child in reversed(below))
    return ordered


def unit_tree_flat(*, include_abolished: bool = False) -> FlatTree:
    """``unit_tree()`` as a ``FlatTree``: the same units and heads, four queries."""
    units = OrganizationalUnit.objects.order_by("tree_id", "lft")
    if not include_abolished:
        units = units.active()
    with cyclic_gc_paused():
        rows = list(units.values_list(*UNIT_STATE_FIELDS))
        heads = _current_heads()
        slugs = {row[_ID]: row[_SLUG] for row in rows}
        return FlatTree(depth_first(rows), heads, slugs)


@dataclass(slots=True)
class StoredOrderRows:
    """Current units read lazily in their stored depth-first order, for streaming.

    ``rows`` yields ``UNIT_STATE_FIELDS`` tuples followed by ``HEAD_COLUMNS`` (the
    unit's current head post and holder, None where there is none) by ``(tree_id,
    lft)``: each unit before its descendants, each subtree contiguous, but siblings
    in the order the database filed them, which can differ from ``unit_tree()``'s
    (order, name) when the database collates names differently. A unit the database
    gives two current heads (or a head two open appointments), which the services
    refuse, comes as two adjacent rows. ``root_parent_slug`` is the slug that
    ``unit_tree()`` shows as a branch root's parent (None for whole trees).
    """

    rows: Iterator[tuple[Any, ...]]
    root_parent_slug: str | None = None


# Read in chunks while streaming: enough rows per round trip, few held at once.
STREAM_CHUNK_ROWS = 2000
# A unit's current head post and holder, joined to its row by ``with_current_head``.
HEAD_COLUMNS = (
    "head_post__slug",
    "head_post__title",
    "head_term__person__slug",
    "head_term__person__full_name",
    "head_term__started_on",
    "head_term__ended_on",
    # Last, so the positions of the columns above stay what tuple readers expect.
    "head_post__title_fr",
    "head_post__title_es",
)


def with_current_head(units: models.QuerySet) -> models.QuerySet:
    """Join each unit's current head post and its holder today (LEFT JOINs).

    One query for a whole tree instead of reading heads, appointments and people
    separately and matching them in Python: at 100,000 units that matching, and the
    people query's 100,000 parameters, cost more than reading the units.
    """
    return units.annotate(
        head_post=FilteredRelation(
            "posts",
            condition=Q(posts__is_head=True, posts__abolished_on__isnull=True),
        ),
        head_term=FilteredRelation(
            "head_post__appointments",
            condition=Q(
                head_post__appointments__ended_on__isnull=True,
                head_post__appointments__started_on__lte=timezone.now().date(),
            ),
        ),
    )


def unit_rows_in_stored_order(*, include_abolished: bool = False) -> StoredOrderRows:
    """The rows of ``unit_tree_flat()`` with their heads, unsorted and not held.

    One query, read as the rows are consumed.
    """
    units = OrganizationalUnit.objects.order_by("tree_id", "lft")
    if not include_abolished:
        units = units.active()
    rows = (
        with_current_head(units)
        .values_list(*UNIT_STATE_FIELDS, *HEAD_COLUMNS)
        .iterator(chunk_size=STREAM_CHUNK_ROWS)
    )
    return StoredOrderRows(rows)


def branch_rows_in_stored_order(
    slug: str, *, include_abolished: bool = False
) -> StoredOrderRows | None:
    """The rows of ``subtree_flat()`` with their heads, unsorted and not held.

    One query; None if no such (active) unit. The first row is the branch's root.
    """
    branch_root = OrganizationalUnit.objects.filter(slug=slug)
    branch = Q(
        tree_id=Subquery(branch_root.values("tree_id")),
        lft__gte=Subquery(branch_root.values("lft")),
        rght__lte=Subquery(branch_root.values("rght")),
    )
    units = OrganizationalUnit.objects.filter(branch).order_by("lft")
    if not include_abolished:
        units = units.active()
    fetched = (
        with_current_head(units)
        .values_list(
            *UNIT_STATE_FIELDS, *HEAD_COLUMNS, "parent__slug", "parent__abolished_on"
        )
        .iterator(chunk_size=STREAM_CHUNK_ROWS)
    )
    first = next(fetched, None)
    if first is None:
        return None
    width = len(UNIT_STATE_FIELDS) + len(HEAD_COLUMNS)
    *_, parent_slug, parent_abolished_on = first
    shown_parent = first[_PARENT_ID] and (
        include_abolished or parent_abolished_on is None
    )

    def rows() -> Iterator[tuple[Any, ...]]:
        yield first[:width]
        for row in fetched:
            yield row[:width]

    return StoredOrderRows(rows(), parent_slug if shown_parent else None)


@overload
def unit_tree_as_of_flat(
    when: datetime.datetime, *, include_abolished: bool = ..., root_slug: None = ...
) -> FlatTree: ...
@overload
def unit_tree_as_of_flat(
    when: datetime.datetime, *, include_abolished: bool = ..., root_slug: str
) -> FlatTree | None: ...
def unit_tree_as_of_flat(
    when: datetime.datetime,
    *,
    include_abolished: bool = False,
    root_slug: str | None = None,
) -> FlatTree | None:
    """``unit_tree_as_of()`` as a ``FlatTree``, or the branch of ``root_slug`` in it.

    None when ``root_slug`` names no unit of that tree.
    """
    with cyclic_gc_paused():
        rows = state_rows_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS)
        if not include_abolished:
            rows = [row for row in rows if row[_ABOLISHED_ON] is None]
        ordered = depth_first(rows, root_slug=root_slug)
        if not ordered:
            return None if root_slug is not None else FlatTree([], {}, {})
        heads = {post.unit_id: post for post in posts_as_of(when, heads_only=True)}
        slugs = {row[_ID]: row[_SLUG] for row in rows}
        return FlatTree(ordered, heads, slugs)


def unit_rows_as_of(
    when: datetime.datetime, *, include_abolished: bool = False
) -> Iterator[tuple[Any, ...]]:
    """The unit rows of ``unit_tree_as_of_flat()``, unsorted and not held (one query).

    ``depth_first`` orders them (or narrow copies of them) as that tree does.
    """
    for row in iter_state_rows_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS):
        if include_abolished or row[_ABOLISHED_ON] is None:
            yield row


def subtree_flat(slug: str, *, include_abolished: bool = False) -> FlatTree | None:
    """The current branch under the unit ``slug``, reading only that branch.

    The branch is the unit's ``lft``..``rght`` range, so its cost follows the branch's
    size, not the registry's; four queries. None if no such (active) unit.
    """
    branch_root = OrganizationalUnit.objects.filter(slug=slug)
    branch = Q(
        tree_id=Subquery(branch_root.values("tree_id")),
        lft__gte=Subquery(branch_root.values("lft")),
        rght__lte=Subquery(branch_root.values("rght")),
    )
    units = OrganizationalUnit.objects.filter(branch).order_by("lft")
    if not include_abolished:
        units = units.active()
    with cyclic_gc_paused():
        rows = list(
            units.values_list(
                *UNIT_STATE_FIELDS, "parent__slug", "parent__abolished_on"
            )
        )
        root = next((row for row in rows if row[_SLUG] == slug), None)
        if root is None:
            return None
        slugs = {row[_ID]: row[_SLUG] for row in rows}
        *_, parent_slug, parent_abolished_on = root
        if root[_PARENT_ID] and (include_abolished or parent_abolished_on is None):
            # The parent is outside the branch but in the whole tree, as in unit_tree().
            slugs[root[_PARENT_ID]] = parent_slug
        width = len(UNIT_STATE_FIELDS)
        rows = [row[:width] for row in rows]
        heads = _current_heads(branch)
        return FlatTree(depth_first(rows, root_slug=slug), heads, slugs)


def _depth_first_as_of(
    when: datetime.datetime, *, root_slug: str | None = None
) -> list[tuple[int, tuple[Any, ...]]]:
    """The active units at ``when`` in the order of ``unit_tree_as_of_flat()``.

    The same rows without the heads of every unit, which a page showing some units
    reads for those alone (``_set_heads_as_of``). Empty if ``root_slug`` names no
    active unit then.
    """
    with cyclic_gc_paused():
        rows = [
            row
            for row in state_rows_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS)
            if row[_ABOLISHED_ON] is None
        ]
        return depth_first(rows, root_slug=root_slug)


def units_in_order_as_of(when: datetime.datetime) -> list[tuple[int, str, str]]:
    """Id, slug and name of the active units at ``when``, in the order of the tree."""
    return [(row[_ID], row[_SLUG], row[_NAME]) for _, row in _depth_first_as_of(when)]

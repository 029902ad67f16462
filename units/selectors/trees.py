"""Whole trees of units, with their heads, now or as of an instant."""

from __future__ import annotations

import datetime
import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from units.models import OrganizationalUnit
from units.selectors.as_of import states_as_of
from units.selectors.fields import UNIT_STATE_FIELDS
from units.selectors.posts import _current_heads, posts_as_of
from units.selectors.results import PostState, UnitNode


def _sibling_key(node: UnitNode) -> tuple[int, str]:
    return (node.sibling_order, node.name)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a whole tree is built.

    Building an object or two per unit makes the collector re-scan every object built
    so far, again and again: the time then grows faster than the tree. The tree holds
    no reference cycles, so reference counting alone frees it afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _assemble(
    rows: Iterable[dict[str, Any]], heads: dict[int, PostState]
) -> list[UnitNode]:
    """Link flat unit rows into trees by parent id; return the roots in order."""
    with cyclic_gc_paused():
        return _link(rows, heads)


def _link(
    rows: Iterable[dict[str, Any]], heads: dict[int, PostState]
) -> list[UnitNode]:
    nodes = {row["id"]: UnitNode(**row) for row in rows}
    roots: list[UnitNode] = []
    for node in nodes.values():
        node.head = heads.get(node.id)
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=_sibling_key)
    roots.sort(key=_sibling_key)
    for root in roots:
        _set_levels(root)
    return roots


def _set_levels(root: UnitNode) -> None:
    stack = [(root, 0)]
    while stack:
        node, level = stack.pop()
        node.level = level
        stack.extend((child, level + 1) for child in node.children)


def unit_tree(*, include_abolished: bool = False) -> list[UnitNode]:
    """The current organization as trees with their heads, in four queries."""
    units = OrganizationalUnit.objects.order_by("tree_id", "lft")
    if not include_abolished:
        units = units.active()
    with cyclic_gc_paused():
        rows = list(units.values(*UNIT_STATE_FIELDS))
        heads = _current_heads()
    return _assemble(rows, heads)


def unit_tree_as_of(
    when: datetime.datetime, *, include_abolished: bool = False
) -> list[UnitNode]:
    """The organization as it stood at ``when``, rebuilt from historical parent links."""
    with cyclic_gc_paused():
        rows = states_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS)
        if not include_abolished:
            rows = [row for row in rows if row["abolished_on"] is None]
        heads = {post.unit_id: post for post in posts_as_of(when, heads_only=True)}
    return _assemble(rows, heads)


def subtree(roots: list[UnitNode], slug: str) -> UnitNode | None:
    for root in roots:
        for node in root.walk():
            if node.slug == slug:
                return node
    return None

"""The current tree's answer derived from the previous one instead of rebuilt.

After a write the whole tree is stale, but usually only a few of its units changed:
a rename rewrites one unit's object, a move carries one subtree to another parent. A
unit's object shows nothing of its ancestors but its parent's slug (which never
changes) and nothing of its descendants but their objects, so the new answer is the
previous one with each changed unit's subtree cut out, its own object re-encoded
(``tree_json._opening``) and the subtree put back under its parent, before the first
sibling that follows it in sibling order. Units that left the tree are cut out; new
ones go in with no children.

The previous answer carries its ``TreeBasis``: the history stamp it was built at and
the day (a head's holder depends on today's date). A patch needs the same day and
changes to units alone (``selectors.unit_tree_changes``); anything else, or a
previous answer that does not look as expected, builds the tree whole. The result
equals the whole build byte for byte (tests compare them after every kind of write),
and as a last check the patched answer must hold as many units as the tree has.

Finding a unit in the answer is a search for ``{"slug":"<slug>","name":``: a quote
inside a JSON string is escaped, so that text only occurs where a unit's object
starts (a head's object has a ``title``, a holder no ``slug``). Its end is found by
decoding that one object (``raw_decode``), at the cost of its subtree's size.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from django.utils import timezone

from api.answer_cache import Built
from api.formats.tree_json import (
    _finish,
    _head_of_row,
    _opening,
    current_tree_json,
)
from api.serializers import unit_url_parts
from units import selectors
from units.content_languages import SOURCE_LANGUAGE
from units.selectors.fields import UNIT_STATE_FIELDS

_ID, _SLUG, _NAME = 0, 1, 2
_PARENT_ID = UNIT_STATE_FIELDS.index("parent_id")
_SIBLING_ORDER = UNIT_STATE_FIELDS.index("sibling_order")
_EXTRA = len(UNIT_STATE_FIELDS) + len(selectors.HEAD_COLUMNS)
_PARENT_SLUG, _LEVEL, _CHANGED, _IN_TREE = (
    _EXTRA + selectors.CHANGE_COLUMNS.index(name)
    for name in ("parent__slug", "level", "changed", "in_tree")
)
_CHILDREN = '"children":['
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class TreeBasis:
    """What a tree answer was built from: the registry's stamp, and the day."""

    stamp: selectors.Stamp
    day: datetime.date


class _CannotPatch(Exception):
    """The previous answer does not look as the changes say it should."""


def whole_current_tree(
    *, include_abolished: bool, origin: str, language: str = SOURCE_LANGUAGE
) -> Built:
    """The current tree built whole, with the basis a later patch starts from.

    The stamp is read before the tree: a write landing in between is then past the
    stamp, and the next patch applies it again (re-encoding a unit is idempotent).
    """
    basis = TreeBasis(selectors.stamp_now(), timezone.now().date())
    body = current_tree_json(
        include_abolished=include_abolished, origin=origin, language=language
    )
    return Built(body, basis)


def patched_current_tree(
    previous: bytes,
    basis: object,
    *,
    include_abolished: bool,
    origin: str,
    language: str = SOURCE_LANGUAGE,
) -> Built | None:
    """The current tree derived from ``previous`` (built at ``basis``), or None
    when it must be built whole. One query."""
    if not isinstance(basis, TreeBasis) or basis.day != timezone.now().date():
        return None
    changes = selectors.unit_tree_changes(
        basis.stamp, include_abolished=include_abolished
    )
    if changes is None:
        return None
    new_basis = TreeBasis(changes.stamp, basis.day)
    if not any(row[_CHANGED] for row in changes.rows):
        return Built(previous, new_basis)
    try:
        text = _patched(
            previous.decode(),
            changes.rows,
            url=unit_url_parts(origin),
            language=language,
        )
    except _CannotPatch:
        return None
    if text.count(_CHILDREN) != changes.tree_size:
        return None
    return Built(text.encode(), new_basis)


def _start(text: str, slug: str) -> int:
    """Where ``slug``'s object starts in ``text``, or -1."""
    return text.find('{"slug":' + encode_basestring(slug) + ',"name":')


def _end(text: str, start: int) -> int:
    """Where the object (a unit and its subtree) starting at ``start`` ends."""
    try:
        return _DECODER.raw_decode(text, start)[1]
    except ValueError as error:
        raise _CannotPatch from error


def _cut(text: str, slug: str) -> tuple[str, str | None]:
    """``text`` without ``slug``'s subtree (and one comma beside it), and the
    subtree's text; None if the unit is not in ``text``."""
    start = _start(text, slug)
    if start < 0:
        return text, None
    end = _end(text, start)
    subtree = text[start:end]
    if end < len(text) and text[end] == ",":
        return text[:start] + text[end + 1 :], subtree
    if text[start - 1] == ",":
        return text[: start - 1] + text[end:], subtree
    return text[:start] + text[end:], subtree


def _insert_at(text: str, position: int, subtree: str, *, before: bool) -> str:
    """``subtree`` put in a list at ``position``: before the sibling that starts
    there (``before``), or after the sibling that ends there."""
    if before:
        return text[:position] + subtree + "," + text[position:]
    return text[:position] + "," + subtree + text[position:]


def _children_start(text: str, parent_slug: str | None) -> int:
    """Where the first child of ``parent_slug`` (None: the first root) would go."""
    if parent_slug is None:
        if not text.startswith("["):
            raise _CannotPatch
        return 1
    start = _start(text, parent_slug)
    if start < 0:
        raise _CannotPatch  # the parent is not in the tree
    children = text.find(_CHILDREN, start)
    if children < 0:
        raise _CannotPatch
    return children + len(_CHILDREN)


def _sibling_key(row: tuple[Any, ...]) -> tuple[int, str]:
    return (row[_SIBLING_ORDER], row[_NAME])


def _put_back(
    text: str,
    subtree: str,
    row: tuple[Any, ...],
    siblings: list[tuple[Any, ...]],
) -> str:
    """``subtree`` put among its ``siblings`` (sorted, itself included) in ``text``.

    Every sibling already in ``text`` is in its place (unchanged ones never moved,
    changed ones were put back by this rule), so the first of those that follows the
    unit marks the place; failing that, the end of the last that precedes it; failing
    both, the unit is its parent's only child so far.
    """
    if row[_PARENT_ID] and _start(text, row[_PARENT_SLUG]) < 0:
        raise _CannotPatch  # under a unit the tree leaves out: the whole build decides
    index = next(i for i, sibling in enumerate(siblings) if sibling[_ID] == row[_ID])
    for sibling in siblings[index + 1 :]:
        start = _start(text, sibling[_SLUG])
        if start >= 0:
            return _insert_at(text, start, subtree, before=True)
    for sibling in reversed(siblings[:index]):
        start = _start(text, sibling[_SLUG])
        if start >= 0:
            return _insert_at(text, _end(text, start), subtree, before=False)
    position = _children_start(text, row[_PARENT_SLUG] if row[_PARENT_ID] else None)
    if text[position] != "]":
        raise _CannotPatch  # children the changes do not know of
    return text[:position] + subtree + text[position:]


def _patched(
    text: str,
    rows: list[tuple[Any, ...]],
    *,
    url: tuple[str, str],
    language: str,
) -> str:
    """``text`` with every changed row's unit re-encoded and put where it belongs."""
    changed = [row for row in rows if row[_CHANGED]]
    subtrees: dict[int, str | None] = {}
    # Deepest first, so a changed unit inside another's subtree leaves it first.
    for row in reversed(changed):
        text, subtree = _cut(text, row[_SLUG])
        if subtree is None and any(
            _start(cut, row[_SLUG]) >= 0 for cut in subtrees.values() if cut
        ):
            raise _CannotPatch  # it was deeper before: taken out with an ancestor
        if subtree is not None and not row[_IN_TREE] and subtree.count(_CHILDREN) > 1:
            raise _CannotPatch  # it leaves the tree with sub-units the changes miss
        subtrees[row[_ID]] = subtree
    siblings: dict[int | None, list[tuple[Any, ...]]] = defaultdict(list)
    seen: set[int] = set()
    for row in rows:
        if row[_IN_TREE]:
            if row[_ID] in seen:
                raise _CannotPatch  # two current heads: the whole build sorts it out
            seen.add(row[_ID])
            siblings[row[_PARENT_ID]].append(row)
    for group in siblings.values():
        group.sort(key=_sibling_key)
    # Rows come by level: a parent is back in place before its sub-units.
    for row in changed:
        if not row[_IN_TREE]:
            continue
        parent_slug = row[_PARENT_SLUG] if row[_PARENT_ID] else None
        # The previous text is escaped already (``_finish``): only new text needs it.
        opening = _finish(
            _opening(row, parent_slug, _head_of_row(row, language), url, language)
        ).decode()
        previous = subtrees[row[_ID]]
        if previous is None:
            subtree = opening + "]}"
        else:
            children = previous.find(_CHILDREN)
            if children < 0:
                raise _CannotPatch
            subtree = opening + previous[children + len(_CHILDREN) :]
        text = _put_back(text, subtree, row, siblings[row[_PARENT_ID]])
    return text

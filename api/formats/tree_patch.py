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
import logging
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
_CHILDREN = b'"children":['
_COMMA, _CLOSE = ord(","), ord("]")
_DECODER = json.JSONDecoder()
logger = logging.getLogger(__name__)


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
        body = _patched(
            bytearray(previous),
            changes.rows,
            url=unit_url_parts(origin),
            language=language,
        )
    except _CannotPatch:
        return None
    except Exception:
        # Deriving is a shortcut: a fault in it must cost a whole build, not a 500.
        logger.exception("Deriving the tree from the previous answer failed")
        return None
    if body.count(_CHILDREN) != changes.tree_size:
        return None
    return Built(bytes(body), new_basis)


def _start(body: bytes | bytearray, slug: str) -> int:
    """Where ``slug``'s object starts in ``body``, or -1."""
    return body.find(b'{"slug":' + encode_basestring(slug).encode() + b',"name":')


# The first piece of an object decoded to find its end; doubled until it holds it.
_FIRST_WINDOW = 64 * 1024


def _end(body: bytes | bytearray, start: int) -> int:
    """Where the object (a unit and its subtree) starting at ``start`` ends.

    The object is decoded from a window of the body that doubles until it holds the
    whole object, so the cost follows the subtree's size, not the body's. A window
    may end inside a character: ``ignore`` drops that partial one, and the window
    grows if the object went on past it.
    """
    window = _FIRST_WINDOW
    while True:
        piece = bytes(body[start : start + window])
        text = piece.decode("utf-8", errors="ignore")
        try:
            end = _DECODER.raw_decode(text)[1]
        except ValueError as error:
            if start + window >= len(body):
                raise _CannotPatch from error
            window *= 2
            continue
        return start + len(text[:end].encode())


def _cut(body: bytearray, slug: str) -> bytes | None:
    """Take ``slug``'s subtree (and one comma beside it) out of ``body``; return the
    subtree's bytes, or None if the unit is not in ``body``."""
    start = _start(body, slug)
    if start < 0:
        return None
    end = _end(body, start)
    subtree = bytes(body[start:end])
    if end < len(body) and body[end] == _COMMA:
        del body[start : end + 1]
    elif body[start - 1] == _COMMA:
        del body[start - 1 : end]
    else:
        del body[start:end]
    return subtree


def _children_start(body: bytearray, parent_slug: str | None) -> int:
    """Where the first child of ``parent_slug`` (None: the first root) would go."""
    if parent_slug is None:
        if not body.startswith(b"["):
            raise _CannotPatch
        return 1
    start = _start(body, parent_slug)
    if start < 0:
        raise _CannotPatch  # the parent is not in the tree
    children = body.find(_CHILDREN, start)
    if children < 0:
        raise _CannotPatch
    return children + len(_CHILDREN)


def _sibling_key(row: tuple[Any, ...]) -> tuple[int, str]:
    return (row[_SIBLING_ORDER], row[_NAME])


def _put_back(
    body: bytearray,
    subtree: bytes,
    row: tuple[Any, ...],
    siblings: list[tuple[Any, ...]],
) -> None:
    """Put ``subtree`` among its ``siblings`` (sorted, itself included) in ``body``.

    Every sibling already in ``body`` is in its place (unchanged ones never moved,
    changed ones were put back by this rule), so the first of those that follows the
    unit marks the place; failing that, the end of the last that precedes it; failing
    both, the unit is its parent's only child so far.
    """
    if row[_PARENT_ID] and _start(body, row[_PARENT_SLUG]) < 0:
        raise _CannotPatch  # under a unit the tree leaves out: the whole build decides
    index = next(i for i, sibling in enumerate(siblings) if sibling[_ID] == row[_ID])
    for sibling in siblings[index + 1 :]:
        start = _start(body, sibling[_SLUG])
        if start >= 0:
            body[start:start] = subtree + b","
            return
    for sibling in reversed(siblings[:index]):
        start = _start(body, sibling[_SLUG])
        if start >= 0:
            end = _end(body, start)
            body[end:end] = b"," + subtree
            return
    position = _children_start(body, row[_PARENT_SLUG] if row[_PARENT_ID] else None)
    if body[position] != _CLOSE:
        raise _CannotPatch  # children the changes do not know of
    body[position:position] = subtree


def _patched(
    body: bytearray,
    rows: list[tuple[Any, ...]],
    *,
    url: tuple[str, str],
    language: str,
) -> bytearray:
    """``body`` with every changed row's unit re-encoded and put where it belongs
    (edited in place: each cut or insertion moves the bytes after it, no copy)."""
    changed = [row for row in rows if row[_CHANGED]]
    subtrees: dict[int, bytes | None] = {}
    # Deepest first, so a changed unit inside another's subtree leaves it first.
    for row in reversed(changed):
        subtree = _cut(body, row[_SLUG])
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
    try:
        for group in siblings.values():
            group.sort(key=_sibling_key)
    except TypeError as error:
        raise _CannotPatch from error  # a unit without a position: built whole
    # Rows come by level: a parent is back in place before its sub-units.
    for row in changed:
        if not row[_IN_TREE]:
            continue
        parent_slug = row[_PARENT_SLUG] if row[_PARENT_ID] else None
        # The previous bytes are escaped already (``_finish``): only new ones need it.
        opening = _finish(
            _opening(row, parent_slug, _head_of_row(row, language), url, language)
        )
        previous = subtrees[row[_ID]]
        if previous is None:
            subtree = opening + b"]}"
        else:
            children = previous.find(_CHILDREN)
            if children < 0:
                raise _CannotPatch
            subtree = opening + previous[children + len(_CHILDREN) :]
        _put_back(body, subtree, row, siblings[row[_PARENT_ID]])
    return body

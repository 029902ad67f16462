"""The nested tree answer, encoded straight from unit rows into JSON bytes.

A 100,000-unit tree as node objects, then payload dictionaries, then JSON held three
copies of the registry at once and spent most of its time allocating them. Here each
unit's row becomes one JSON fragment, encoded to UTF-8 at once and written into one
growing buffer, and the nesting comes from the rows' depth-first order. The current
tree is encoded while its rows arrive from the database (``*_in_stored_order``), so
a request holds about the answer's bytes plus a chunk of rows, not the whole registry
as Python objects beside it. The bytes equal DRF's ``JSONRenderer`` output for
``tree_payload`` (a test compares them), so they can be cached and sent as they are.

The texts are in the answer's ``language`` (``units.selectors.languages``), English
where not yet translated; such a unit (or head post) lists those texts in
``untranslated``, a member left out when there are none, and so from English answers,
whose bytes stay what they were.
"""

from __future__ import annotations

import datetime
import io
from json.encoder import encode_basestring
from typing import Any

from api.formats.state import RegistryAt
from api.serializers import unit_url_parts
from units import selectors
from units.content_languages import (
    POST_TRANSLATED,
    SOURCE_LANGUAGE,
    UNIT_TRANSLATED,
    language_fields,
)
from units.selectors import FlatTree, PostState, StoredOrderRows, cyclic_gc_paused
from units.selectors.languages import localized_texts

_ID, _SLUG, _NAME = 0, 1, 2
_PARENT_ID = selectors.UNIT_STATE_FIELDS.index("parent_id")
_UNIT_WIDTH = len(selectors.UNIT_STATE_FIELDS)
_SIBLING_ORDER = selectors.UNIT_STATE_FIELDS.index("sibling_order")
# Where a row's texts are, in every language (what ``localized_texts`` reads of it).
_UNIT_TEXTS = tuple(
    (field, selectors.UNIT_STATE_FIELDS.index(field))
    for field in language_fields(UNIT_TRANSLATED)
)
# Where a streamed row's head columns are (``selectors.HEAD_COLUMNS``, after the unit's).
_HEAD_AT = {
    name: _UNIT_WIDTH + index for index, name in enumerate(selectors.HEAD_COLUMNS)
}
_HEAD_TITLES = tuple(
    (field, _HEAD_AT[f"head_post__{field}"])
    for field in language_fields(POST_TRANSLATED)
)


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _day(value: datetime.date | None) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


def _untranslated(names: list[str]) -> str:
    """An object's ``untranslated`` member and its comma; nothing when it has none."""
    if not names:
        return ""
    return '"untranslated":[' + ",".join(f'"{name}"' for name in names) + "],"


def _head(
    slug: str | None,
    title: str | None,
    person_slug: str | None,
    person_name: str | None,
    started_on: datetime.date | None,
    ended_on: datetime.date | None,
    untranslated: str = "",
) -> str:
    """A head post (its title in the answer's language) and its holder as a JSON
    object; ``untranslated`` is ``_untranslated``'s member."""
    if slug is None:
        return "null"
    holder = (
        "null"
        if person_slug is None
        else f'{{"person":{_text(person_slug)},"name":{_text(person_name)},'
        f'"started_on":{_day(started_on)},"ended_on":{_day(ended_on)}}}'
    )
    return (
        f'{{"slug":{_text(slug)},"title":{_text(title)},'
        f'{untranslated}"holder":{holder}}}'
    )


def _head_of(post: PostState | None, language: str) -> str:
    if post is None:
        return "null"
    title, untranslated = post.title, ""
    if language != SOURCE_LANGUAGE:
        (title,), names = localized_texts(post, POST_TRANSLATED, language)
        untranslated = _untranslated(names)
    holder = post.holder
    if holder is None:
        return _head(post.slug, title, None, None, None, None, untranslated)
    return _head(
        post.slug,
        title,
        holder.person_slug,
        holder.person_name,
        holder.started_on,
        holder.ended_on,
        untranslated,
    )


def _head_of_row(row: tuple[Any, ...], language: str) -> str:
    """The head joined to a streamed row (``selectors.HEAD_COLUMNS``), as JSON."""
    slug = row[_HEAD_AT["head_post__slug"]]
    if slug is None:
        return "null"
    title, untranslated = row[_HEAD_AT["head_post__title"]], ""
    if language != SOURCE_LANGUAGE:
        titles = {field: row[index] for field, index in _HEAD_TITLES}
        (title,), names = localized_texts(titles, POST_TRANSLATED, language)
        untranslated = _untranslated(names)
    return _head(
        slug,
        title,
        row[_HEAD_AT["head_term__person__slug"]],
        row[_HEAD_AT["head_term__person__full_name"]],
        row[_HEAD_AT["head_term__started_on"]],
        row[_HEAD_AT["head_term__ended_on"]],
        untranslated,
    )


def _opening_parts(
    row: tuple[Any, ...], head: str, url: tuple[str, str], language: str
) -> tuple[bytes, bytes]:
    """A unit's object up to its open ``children`` list, as UTF-8 JSON, in two parts:
    up to ``"parent":`` and after the parent's slug (which the caller puts between).

    The text columns are NOT NULL in the unit and history tables, so they go to the
    C encoder directly; U+2028/U+2029 are escaped once for the whole body (``_finish``).
    The translated texts are in ``language``, English where not yet translated.
    """
    (
        _unit_id,
        slug,
        name,
        short_name,
        kind,
        mandate,
        location,
        learn_more_url,
        _parent_id,
        reporting_line,
        sibling_order,
        established_on,
        abolished_on,
        *_translations,
    ) = row[:_UNIT_WIDTH]
    untranslated = ""
    if language != SOURCE_LANGUAGE:
        texts, names = localized_texts(
            {field: row[index] for field, index in _UNIT_TEXTS},
            UNIT_TRANSLATED,
            language,
        )
        name, short_name, mandate, location = texts
        untranslated = _untranslated(names)
    before = (
        f'{{"slug":{encode_basestring(slug)},"name":{encode_basestring(name)},'
        f'"short_name":{encode_basestring(short_name)},'
        f'"kind":{encode_basestring(kind)},'
        f'"mandate":{encode_basestring(mandate)},'
        f'"location":{encode_basestring(location)},{untranslated}'
        f'"learn_more_url":{encode_basestring(learn_more_url)},'
        '"parent":'
    ).encode()
    after = (
        f',"reporting_line":{encode_basestring(reporting_line)},'
        f'"sibling_order":{"null" if sibling_order is None else sibling_order},'
        f'"established_on":{_day(established_on)},'
        f'"abolished_on":{_day(abolished_on)},'
        f'"status":"{"active" if abolished_on is None else "abolished"}",'
        f'"url":{encode_basestring(f"{url[0]}{slug}{url[1]}")},'
        f'"head":{head},"children":['
    ).encode()
    return before, after


def _opening(
    row: tuple[Any, ...],
    parent_slug: str | None,
    head: str,
    url: tuple[str, str],
    language: str,
) -> bytes:
    """A unit's object up to its open ``children`` list, as UTF-8 JSON."""
    before, after = _opening_parts(row, head, url, language)
    return before + _text(parent_slug).encode() + after


_LINE_SEPARATORS = ("\u2028".encode(), "\u2029".encode())


def _finish(body: bytes) -> bytes:
    """Escape U+2028 and U+2029 as DRF's JSONRenderer does (valid JSON, but they end
    lines in JavaScript). Both are rare, so the body is only copied when one occurs."""
    for separator in _LINE_SEPARATORS:
        if separator in body:
            escaped = separator.decode().encode("unicode_escape")
            body = body.replace(separator, escaped)
    return body


def tree_json(
    tree: FlatTree,
    *,
    single_root: bool = False,
    origin: str = "",
    language: str = SOURCE_LANGUAGE,
) -> bytes:
    """The ``TreeNodeSerializer`` list of ``tree``'s roots, as compact UTF-8 JSON.

    With ``single_root`` the answer is the one root object (a subtree), not a list.
    ``origin`` makes the units' addresses absolute (``unit_url_parts``). The texts
    are in ``language`` (a content language), English where not yet translated.
    """
    url = unit_url_parts(origin)
    heads, slugs = tree.heads, tree.slugs
    out = io.BytesIO()
    write = out.write
    if not single_root:
        write(b"[")
    previous_depth = -1
    with cyclic_gc_paused():
        for depth, row in tree.units:
            if depth <= previous_depth:
                # Close the previous unit and its open descendants, then a sibling.
                write(b"]}" * (previous_depth - depth + 1) + b",")
            previous_depth = depth
            parent_id = row[_PARENT_ID]
            parent_slug = slugs.get(parent_id) if parent_id else None
            head = _head_of(heads.get(row[_ID]), language)
            write(_opening(row, parent_slug, head, url, language))
        if previous_depth >= 0:
            write(b"]}" * (previous_depth + 1))
    if not single_root:
        write(b"]")
    # The buffer's own bytes are handed over, not copied.
    return _finish(out.getvalue())


# A finished child's sibling key and where its bytes start: (order, name, start).
_Span = tuple[int, str, int]


def _sibling_key(span: _Span) -> tuple[int, str]:
    return (span[0], span[1])


def _put_in_sibling_order(out: io.BytesIO, spans: list[_Span], end: int) -> None:
    """Reorder finished sibling subtrees in place if the database filed them otherwise.

    Each subtree's bytes are contiguous and siblings are separated by one comma (the
    last one ends at ``end``), so the region keeps its length. Sorting is stable, as
    ``depth_first``'s is.
    """
    keys = [_sibling_key(span) for span in spans]
    if all(earlier <= later for earlier, later in zip(keys, keys[1:], strict=False)):
        return
    ends = [span[2] - 1 for span in spans[1:]] + [end]
    start = spans[0][2]
    order = sorted(range(len(spans)), key=keys.__getitem__)
    with out.getbuffer() as view:
        region = bytes(view[start:end])  # one copy of the region, then in place
        position = start
        for index in order:
            if position > start:
                view[position] = ord(",")
                position += 1
            first, last = spans[index][2] - start, ends[index] - start
            view[position : position + last - first] = region[first:last]
            position += last - first


class _OutOfShape(Exception):
    """The stored rows do not form the tree ``unit_tree()`` would build from them."""


_NOT_A_UNIT = -1  # the id of the list of roots at the bottom of the stack


def _stream(
    stored: StoredOrderRows,
    *,
    root_slug: str | None,
    url: tuple[str, str],
    language: str,
) -> bytes | None:
    """Encode rows as they arrive; raise ``_OutOfShape`` if they are not a clean tree.

    None when ``root_slug`` is given and its unit is not in the rows. The open units
    (the current unit's ancestors) are kept as three parallel stacks: ids, slugs and
    the spans of their finished children (None until a unit has a child).
    """
    out = io.BytesIO()
    write, tell = out.write, out.tell
    previous_id = _NOT_A_UNIT
    ids: list[int | None] = [_NOT_A_UNIT]
    slugs: list[str | None] = [None]
    spans: list[list[_Span] | None] = [None]

    def close() -> None:
        ids.pop()
        slugs.pop()
        children = spans.pop()
        if children is not None and len(children) > 1:
            _put_in_sibling_order(out, children, tell())
        write(b"]}")

    if root_slug is None:
        write(b"[")
    for row in stored.rows:
        unit_id = row[_ID]
        if unit_id == previous_id:
            raise _OutOfShape  # two current heads, or a head with two holders
        previous_id = unit_id
        parent_id = row[_PARENT_ID]
        if root_slug is not None and len(ids) == 1:
            if spans[0] is not None or row[_SLUG] != root_slug:
                raise _OutOfShape  # a second root, or the branch root came late
            parent_slug = stored.root_parent_slug
        else:
            while len(ids) > 1 and ids[-1] != parent_id:
                close()
            if len(ids) == 1 and parent_id is not None:
                raise _OutOfShape  # an orphan, or a parent already closed
            parent_slug = slugs[-1]
        siblings = spans[-1]
        span = (row[_SIBLING_ORDER], row[_NAME], tell() + (siblings is not None))
        if siblings is None:
            spans[-1] = [span]
        else:
            write(b",")
            siblings.append(span)
        write(_opening(row, parent_slug, _head_of_row(row, language), url, language))
        ids.append(unit_id)
        slugs.append(row[_SLUG])
        spans.append(None)
    while len(ids) > 1:
        close()
    roots = spans[0]
    if root_slug is not None:
        return None if roots is None else _finish(out.getvalue())
    if roots is not None and len(roots) > 1:
        _put_in_sibling_order(out, roots, tell())
    write(b"]")
    return _finish(out.getvalue())


def current_tree_json(
    *,
    include_abolished: bool = False,
    origin: str = "",
    language: str = SOURCE_LANGUAGE,
) -> bytes:
    """``tree_json(unit_tree_flat(...))``, streamed from the database as it is read.

    One query; four more only if the stored rows do not form a clean tree (an active
    unit under an abolished one, a unit with two current heads), when the rows are
    read again and sorted.
    """
    stored = selectors.unit_rows_in_stored_order(include_abolished=include_abolished)
    with cyclic_gc_paused():
        try:
            body = _stream(
                stored, root_slug=None, url=unit_url_parts(origin), language=language
            )
        except _OutOfShape:
            body = None
    if body is not None:
        return body
    del stored
    return tree_json(
        selectors.unit_tree_flat(include_abolished=include_abolished),
        origin=origin,
        language=language,
    )


def current_branch_json(
    slug: str,
    *,
    include_abolished: bool = False,
    origin: str = "",
    language: str = SOURCE_LANGUAGE,
) -> bytes | None:
    """``tree_json(subtree_flat(slug, ...), single_root=True)``, streamed; None if
    there is no such (active) unit."""
    stored = selectors.branch_rows_in_stored_order(
        slug, include_abolished=include_abolished
    )
    if stored is None:
        return None
    with cyclic_gc_paused():
        try:
            return _stream(
                stored, root_slug=slug, url=unit_url_parts(origin), language=language
            )
        except _OutOfShape:
            pass
    del stored
    branch = selectors.subtree_flat(slug, include_abolished=include_abolished)
    if branch is None:
        return None
    return tree_json(branch, single_root=True, origin=origin, language=language)


def _narrow(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """What ``selectors.depth_first`` reads of a row, the long texts left out."""
    narrow = [None] * _UNIT_WIDTH
    for index in (_ID, _SLUG, _NAME, _PARENT_ID, _SIBLING_ORDER):
        narrow[index] = row[index]
    return tuple(narrow)


def as_of_tree_json(
    when: datetime.datetime,
    *,
    include_abolished: bool = False,
    root_slug: str | None = None,
    origin: str = "",
    language: str = SOURCE_LANGUAGE,
) -> bytes | None:
    """``tree_json(unit_tree_as_of_flat(...))``, each unit encoded as its row arrives.

    Past states have no stored order, so the rows cannot be written as they come:
    each is encoded at once into its two byte strings (``_opening_parts``) and only
    what ordering needs is kept beside them; the bytes are then written in tree
    order and let go. A request holds about twice the answer's bytes, not the
    registry as tuples (five times its JSON). With ``root_slug`` the answer is that
    unit's branch (None if the tree has no such unit). Four queries, as
    ``unit_tree_as_of_flat``.
    """
    url = unit_url_parts(origin)
    with cyclic_gc_paused():
        heads = {
            post.unit_id: _head_of(post, language)
            for post in selectors.posts_as_of(when, heads_only=True)
        }
        parts: dict[int, tuple[bytes, bytes]] = {}
        narrow_rows = []
        for row in selectors.unit_rows_as_of(when, include_abolished=include_abolished):
            unit_id = row[_ID]
            head = heads.pop(unit_id, "null")
            parts[unit_id] = _opening_parts(row, head, url, language)
            narrow_rows.append(_narrow(row))
        del heads
        slugs = {row[_ID]: row[_SLUG] for row in narrow_rows}
        ordered = selectors.depth_first(narrow_rows, root_slug=root_slug)
        del narrow_rows
        if root_slug is not None and not ordered:
            return None
        out = io.BytesIO()
        write = out.write
        if root_slug is None:
            write(b"[")
        previous_depth = -1
        for depth, row in ordered:
            if depth <= previous_depth:
                write(b"]}" * (previous_depth - depth + 1) + b",")
            previous_depth = depth
            parent_id = row[_PARENT_ID]
            before, after = parts.pop(row[_ID])
            write(before)
            write(_text(slugs.get(parent_id) if parent_id else None).encode())
            write(after)
        if previous_depth >= 0:
            write(b"]}" * (previous_depth + 1))
        if root_slug is None:
            write(b"]")
    return _finish(out.getvalue())


def whole_tree_json(
    state: RegistryAt,
    origin: str,
    *,
    include_abolished: bool = True,
    language: str = SOURCE_LANGUAGE,
) -> bytes:
    """The whole tree at ``state``'s instant: the answer of ``tree/`` and a snapshot's
    ``tree.json`` (abolished units included unless told otherwise). A snapshot keeps
    the default, English: the same instant must make the same bytes in any language.
    """
    if state.when is None:
        # Encoded while the rows arrive: no registry-sized list beside the JSON.
        return current_tree_json(
            include_abolished=include_abolished, origin=origin, language=language
        )
    body = as_of_tree_json(
        state.when,
        include_abolished=include_abolished,
        origin=origin,
        language=language,
    )
    assert body is not None  # a whole tree, never None  # noqa: S101
    return body

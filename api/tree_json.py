"""The nested tree answer, encoded straight from a ``FlatTree`` into JSON bytes.

A 100,000-unit tree as node objects, then payload dictionaries, then JSON held three
copies of the registry at once and spent most of its time allocating them. Here each
unit's row becomes one JSON fragment, and the nesting comes from the rows' depth-first
order. The bytes equal DRF's ``JSONRenderer`` output for ``tree_payload`` (a test
compares them), so the rendered body can be cached and sent as it is.
"""

from __future__ import annotations

import datetime
from json.encoder import encode_basestring
from typing import Any

from django.urls import reverse

from units.selectors import FlatTree, cyclic_gc_paused


def _text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _day(value: datetime.date | None) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


def _head(post: Any) -> str:
    if post is None:
        return "null"
    holder = post.holder
    holder_json = (
        "null"
        if holder is None
        else f'{{"person":{_text(holder.person_slug)},'
        f'"name":{_text(holder.person_name)},'
        f'"started_on":{_day(holder.started_on)},'
        f'"ended_on":{_day(holder.ended_on)}}}'
    )
    return (
        f'{{"slug":{_text(post.slug)},"title":{_text(post.title)},'
        f'"holder":{holder_json}}}'
    )


def tree_json(tree: FlatTree, *, single_root: bool = False) -> bytes:
    """The ``TreeNodeSerializer`` list of ``tree``'s roots, as compact UTF-8 JSON.

    With ``single_root`` the answer is the one root object (a subtree), not a list.
    """
    url_prefix, url_suffix = reverse("api:unit-detail", kwargs={"slug": "SLUG"}).split(
        "SLUG"
    )
    heads, slugs = tree.heads, tree.slugs
    parts: list[str] = [] if single_root else ["["]
    append = parts.append
    previous_depth = -1
    with cyclic_gc_paused():
        for depth, row in tree.units:
            (
                unit_id,
                slug,
                name,
                short_name,
                kind,
                mandate,
                location,
                learn_more_url,
                parent_id,
                reporting_line,
                sibling_order,
                established_on,
                abolished_on,
            ) = row
            if depth <= previous_depth:
                # Close the previous unit and its open descendants, then a sibling.
                append("]}" * (previous_depth - depth + 1) + ",")
            previous_depth = depth
            parent_slug = slugs.get(parent_id) if parent_id else None
            append(
                f'{{"slug":{_text(slug)},"name":{_text(name)},'
                f'"short_name":{_text(short_name)},"kind":{_text(kind)},'
                f'"mandate":{_text(mandate)},"location":{_text(location)},'
                f'"learn_more_url":{_text(learn_more_url)},'
                f'"parent":{_text(parent_slug)},'
                f'"reporting_line":{_text(reporting_line)},'
                f'"sibling_order":{"null" if sibling_order is None else sibling_order},'
                f'"established_on":{_day(established_on)},'
                f'"abolished_on":{_day(abolished_on)},'
                f'"status":"{"active" if abolished_on is None else "abolished"}",'
                f'"url":{_text(f"{url_prefix}{slug}{url_suffix}")},'
                f'"head":{_head(heads.get(unit_id))},"children":['
            )
        if previous_depth >= 0:
            append("]}" * (previous_depth + 1))
        if not single_root:
            append("]")
        body = "".join(parts)
    del parts
    # As DRF's JSONRenderer: these two are valid JSON but end lines in JavaScript.
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()

"""Searching the registry: units by the words of their names, acronyms and mandates,
posts by their titles, people by their names, all as they stood at an instant."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from units.content_languages import TRANSLATION_LANGUAGES, field_in, language_fields
from units.models import OrganizationalUnit, Person, Post
from units.selectors.as_of import (
    reading_instant,
    state_rows_as_of,
    states_as_of,
    texts_as_of,
)
from units.selectors.fields import UNIT_STATE_FIELDS
from units.selectors.instants import LATEST
from units.selectors.languages import content_language, localized
from units.selectors.results import UnitNode

# The texts a unit is found by: its names in every language first (a match there
# ranks first), then its acronyms and mandates in every language.
NAME_TEXTS = language_fields(("name",))
SEARCHED_UNIT_TEXTS = (*NAME_TEXTS, *language_fields(("short_name", "mandate")))
# Units' texts fetched per round trip while searching: few trips, a few MB in flight.
SEARCH_CHUNK_ROWS = 10_000


@dataclass(slots=True)
class SearchHit:
    node: UnitNode
    matched_fields: list[str]
    mandate_excerpt: str


def _unit_matches(
    words: Sequence[str], when: datetime.datetime | None, language: str
) -> tuple[list[tuple[bool, str, int]], dict[int, dict[str, Any]]]:
    """Units matching every word, as (not named, name in ``language``, id), and, as
    of a past ``when``, their states by id (one query; now, the texts alone, one)."""
    states: dict[int, dict[str, Any]] = {}
    when = reading_instant(when)
    if when is None:
        rows: Iterable[tuple[Any, ...]] = (
            OrganizationalUnit.objects.active()
            .order_by()
            .values_list("id", *SEARCHED_UNIT_TEXTS)
            .iterator(chunk_size=SEARCH_CHUNK_ROWS)
        )
    else:
        states = {
            row["id"]: row
            for row in states_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS)
            if row["abolished_on"] is None
        }
        rows = (
            (row["id"], *(row[field] for field in SEARCHED_UNIT_TEXTS))
            for row in states.values()
        )
    found: list[tuple[bool, str, int]] = []
    names = len(NAME_TEXTS)
    for unit_id, *texts in rows:
        # A unit is found by its name, acronym or mandate in any of its languages.
        folded_names = " ".join(text.casefold() for text in texts[:names])
        haystack = (
            f"{folded_names} {' '.join(text.casefold() for text in texts[names:])}"
        )
        if all(word in haystack for word in words):
            # Name matches first: a reader searching "data" wants the Data unit
            # before units that merely mention data in their mandate.
            named = any(word in folded_names for word in words)
            name = localized(
                dict(zip(NAME_TEXTS, texts, strict=False)), "name", language
            )
            found.append((not named, name[0], unit_id))
    return found, states


def _unit_hits(
    listed: Sequence[int],
    states: dict[int, dict[str, Any]],
    words: Sequence[str],
    when: datetime.datetime | None,
) -> dict[int, SearchHit]:
    """The listed units' hits; now, their rows read in one query."""
    when = reading_instant(when)
    if when is None and listed:
        states = {
            row["id"]: row
            for row in OrganizationalUnit.objects.filter(pk__in=listed).values(
                *UNIT_STATE_FIELDS
            )
        }
    hits = {}
    for unit_id in listed:
        node = UnitNode(**states[unit_id])
        fields = {
            label: " ".join(getattr(node, field) for field in language_fields((name,)))
            for label, name in (
                ("name", "name"),
                ("acronym", "short_name"),
                ("mandate", "mandate"),
            )
        }
        matched = [
            label
            for label, text in fields.items()
            if any(word in text.casefold() for word in words)
        ]
        hits[unit_id] = SearchHit(
            node=node,
            matched_fields=matched,
            mandate_excerpt=_excerpt(node.mandate, words),
        )
    return hits


def _words(query: str) -> list[str]:
    return [word.casefold() for word in query.split() if word.strip()]


def search_units(
    query: str, when: datetime.datetime | None, *, limit: int
) -> tuple[list[SearchHit], int]:
    """Active units at ``when`` (default now) whose name, acronym or mandate contains
    every word of ``query``: the first ``limit`` hits, and how many there are.

    The texts are matched in Python, so case folding is the same on every database,
    and no tree is built. Now: two queries, the texts of every active unit and the
    rows of the hits listed; as of a past date: the units' states from history, one.
    """
    words = _words(query)
    if not words:
        return [], 0
    found, states = _unit_matches(words, when, content_language())
    found.sort()
    listed = [unit_id for _, _, unit_id in found[:limit]]
    hits = _unit_hits(listed, states, words, when)
    return [hits[unit_id] for unit_id in listed], len(found)


# What a result of the registry search is, in the order results of equal rank come.
SearchType = Literal["unit", "post", "person"]
SEARCH_TYPES: tuple[SearchType, ...] = ("unit", "post", "person")
# A post's title in every language: found by any, listed by the reader's.
_POST_TITLES = language_fields(("title",))
_POST_SEARCH_FIELDS = (
    "id",
    "slug",
    "unit_id",
    "is_head",
    "abolished_on",
    *_POST_TITLES,
)
_PERSON_SEARCH_FIELDS = ("id", "slug", "full_name")


@dataclass(slots=True)
class RegistryHit:
    """One result of ``search_registry``: a unit, a post or a person, by ``type``.

    ``unit`` is set for a unit; ``unit_slug``/``unit_name`` for a post (its unit at
    the same instant). The texts are in English, their translations beside them
    (``name_fr``, blank: not yet translated): read them through
    ``units.selectors.languages.localized``. A person's name is not translated.
    """

    type: SearchType
    slug: str
    name: str
    matched_fields: list[str]
    excerpt: str = ""
    unit: UnitNode | None = None
    unit_slug: str = ""
    unit_name: str = ""
    is_head: bool = False
    short_name: str = ""
    name_fr: str = ""
    name_es: str = ""
    short_name_fr: str = ""
    short_name_es: str = ""
    excerpt_fr: str = ""
    excerpt_es: str = ""
    unit_name_fr: str = ""
    unit_name_es: str = ""


def _translations(name: str, texts: Sequence[str]) -> dict[str, Any]:
    """``texts`` (French, Spanish) as the hit's fields of ``name``, keyword arguments
    of ``RegistryHit`` (typed Any: mypy checks ``**`` against every field)."""
    return {
        field_in(name, language): text or ""
        for language, text in zip(TRANSLATION_LANGUAGES, texts, strict=True)
    }


def _unit_registry_hit(hit: SearchHit, words: Sequence[str]) -> RegistryHit:
    node = hit.node
    texts: dict[str, Any] = {}
    for name in ("name", "short_name"):
        texts |= _translations(
            name,
            [getattr(node, field_in(name, code)) for code in TRANSLATION_LANGUAGES],
        )
    texts |= _translations(
        "excerpt",
        [
            _excerpt(getattr(node, field_in("mandate", code)), words)
            for code in TRANSLATION_LANGUAGES
        ],
    )
    return RegistryHit(
        type="unit",
        slug=node.slug,
        name=node.name,
        short_name=node.short_name,
        matched_fields=hit.matched_fields,
        excerpt=hit.mandate_excerpt,
        unit=node,
        **texts,
    )


def search_registry(
    query: str,
    when: datetime.datetime | None,
    *,
    types: Iterable[SearchType] = SEARCH_TYPES,
    offset: int = 0,
    limit: int,
    language: str | None = None,
) -> tuple[list[RegistryHit], int]:
    """Units, posts and people as they stood at ``when`` (default now) matching every
    word of ``query``: hits ``offset`` to ``offset + limit``, and how many there are.

    Units match by name, acronym or mandate (as ``search_units``), active posts by
    title, each in any language; people by full name. Name matches come first, then
    units, posts, people, each by name in ``language`` (default: the active one;
    English where not translated). At most five queries whatever the number of hits:
    units' texts and rows, posts' and people's states (from history, through the
    as-of engine), and the names of the listed posts' units.
    """
    words = _words(query)
    wanted = set(types)
    if not words or not wanted:
        return [], 0
    language = content_language(language)
    # (not named, type rank, folded name, id) → type, id
    found: list[tuple[bool, int, str, int, SearchType]] = []
    unit_states: dict[int, dict[str, Any]] = {}
    if "unit" in wanted:
        unit_found, unit_states = _unit_matches(words, when, language)
        rank = SEARCH_TYPES.index("unit")
        found.extend(
            (not_named, rank, name.casefold(), unit_id, "unit")
            for not_named, name, unit_id in unit_found
        )
    posts: dict[int, dict[str, Any]] = {}
    if "post" in wanted:
        rank = SEARCH_TYPES.index("post")
        for row in state_rows_as_of(Post, when or LATEST, _POST_SEARCH_FIELDS):
            titles = " ".join(text.casefold() for text in row[5:] if text)
            if row[4] is None and all(word in titles for word in words):
                post = dict(zip(_POST_SEARCH_FIELDS, row, strict=True))
                posts[row[0]] = post
                title = localized(post, "title", language)[0]
                found.append((False, rank, title.casefold(), row[0], "post"))
    people: dict[int, tuple[Any, ...]] = {}
    if "person" in wanted:
        rank = SEARCH_TYPES.index("person")
        for row in state_rows_as_of(Person, when or LATEST, _PERSON_SEARCH_FIELDS):
            name = row[2].casefold()
            if all(word in name for word in words):
                people[row[0]] = row
                found.append((False, rank, name, row[0], "person"))
    found.sort()
    listed = found[offset : offset + limit]
    units = _unit_hits(
        [pk for *_, pk, kind in listed if kind == "unit"], unit_states, words, when
    )
    post_units = texts_as_of(
        OrganizationalUnit,
        when,
        {posts[pk]["unit_id"] for *_, pk, kind in listed if kind == "post"},
        ("slug", *NAME_TEXTS),
    )
    hits = []
    for *_, pk, kind in listed:
        if kind == "unit":
            hits.append(_unit_registry_hit(units[pk], words))
        elif kind == "post":
            post = posts[pk]
            unit_slug, unit_name, *unit_names = post_units.get(
                post["unit_id"], ("", "", *("" for _ in TRANSLATION_LANGUAGES))
            )
            hits.append(
                RegistryHit(
                    type="post",
                    slug=post["slug"],
                    name=post["title"],
                    matched_fields=["title"],
                    unit_slug=unit_slug,
                    unit_name=unit_name,
                    is_head=post["is_head"],
                    **_translations(
                        "name", [post[field] for field in _POST_TITLES[1:]]
                    ),
                    **_translations("unit_name", unit_names),
                )
            )
        else:
            _, slug, full_name = people[pk]
            hits.append(
                RegistryHit(
                    type="person", slug=slug, name=full_name, matched_fields=["name"]
                )
            )
    return hits, len(found)


def _excerpt(text: str, words: Sequence[str], width: int = 220) -> str:
    """A window of ``text`` around the first matching word."""
    if len(text) <= width:
        return text
    folded = text.casefold()
    positions = [folded.find(word) for word in words if word in folded]
    if not positions:
        return text[:width].rsplit(" ", 1)[0] + "…"
    start = max(0, min(positions) - width // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    end = min(len(text), start + width)
    excerpt = text[start:end]
    if end < len(text):
        excerpt = excerpt.rsplit(" ", 1)[0] + "…"
    return ("…" if start else "") + excerpt

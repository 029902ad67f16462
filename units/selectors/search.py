"""Searching units by the words of their names, acronyms and mandates."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from units.models import OrganizationalUnit
from units.selectors.as_of import states_as_of
from units.selectors.fields import UNIT_STATE_FIELDS
from units.selectors.results import UnitNode

# Units' texts fetched per round trip while searching: few trips, a few MB in flight.
SEARCH_CHUNK_ROWS = 10_000


@dataclass(slots=True)
class SearchHit:
    node: UnitNode
    matched_fields: list[str]
    mandate_excerpt: str


def search_units(
    query: str, when: datetime.datetime | None, *, limit: int
) -> tuple[list[SearchHit], int]:
    """Active units at ``when`` (default now) whose name, acronym or mandate contains
    every word of ``query``: the first ``limit`` hits, and how many there are.

    The texts are matched in Python, so case folding is the same on every database,
    and no tree is built. Now: two queries, the texts of every active unit and the
    rows of the hits listed; as of a past date: the units' states from history, one.
    """
    words = [word.casefold() for word in query.split() if word.strip()]
    if not words:
        return [], 0
    states: dict[int, dict[str, Any]] = {}
    if when is None:
        texts: Iterable[tuple[int, str, str, str]] = (
            OrganizationalUnit.objects.active()
            .order_by()
            .values_list("id", "name", "short_name", "mandate")
            .iterator(chunk_size=SEARCH_CHUNK_ROWS)
        )
    else:
        states = {
            row["id"]: row
            for row in states_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS)
            if row["abolished_on"] is None
        }
        texts = (
            (row["id"], row["name"], row["short_name"], row["mandate"])
            for row in states.values()
        )
    found: list[tuple[bool, str, int]] = []
    for unit_id, name, short_name, mandate in texts:
        folded_name = name.casefold()
        haystack = f"{folded_name} {short_name.casefold()} {mandate.casefold()}"
        if all(word in haystack for word in words):
            # Name matches first: a reader searching "data" wants the Data unit
            # before units that merely mention data in their mandate.
            named = any(word in folded_name for word in words)
            found.append((not named, name, unit_id))
    found.sort()
    listed = [unit_id for _, _, unit_id in found[:limit]]
    if when is None:
        states = {
            row["id"]: row
            for row in OrganizationalUnit.objects.filter(pk__in=listed).values(
                *UNIT_STATE_FIELDS
            )
        }
    hits = []
    for unit_id in listed:
        node = UnitNode(**states[unit_id])
        fields = {
            "name": node.name,
            "acronym": node.short_name,
            "mandate": node.mandate,
        }
        matched = [
            label
            for label, text in fields.items()
            if any(word in text.casefold() for word in words)
        ]
        hits.append(
            SearchHit(
                node=node,
                matched_fields=matched,
                mandate_excerpt=_excerpt(node.mandate, words),
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

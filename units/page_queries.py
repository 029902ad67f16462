"""Reads the public pages need that ``units.selectors`` does not offer (yet).

Each function runs a fixed number of queries whatever the size of the registry: rows are
fetched with ``.values()`` and joined in Python. Past states are read from history rows
in the same way as the selectors do: the latest revision of each object effective at or
before the instant (ties broken by the later-recorded revision) wins.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RelationshipKind,
    UnitRelationship,
)
from units.selectors import UNIT_STATE_FIELDS, UnitNode, states_as_of


@dataclass(slots=True)
class UnitRef:
    slug: str
    name: str
    short_name: str


@dataclass(slots=True)
class RelationshipLine:
    """A dotted line as seen from one unit: ``kind`` reads from source to target."""

    id: int
    kind: str
    kind_label: str
    description: str
    started_on: datetime.date | None
    source: UnitRef
    target: UnitRef


@dataclass(slots=True)
class Tenure:
    """One person's time in one post."""

    post_id: int
    post_slug: str
    post_title: str
    unit_slug: str
    unit_name: str
    person_slug: str
    person_name: str
    started_on: datetime.date
    ended_on: datetime.date | None

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


def _latest_history_rows(
    model: type[models.Model],
    when: datetime.datetime,
    fields: Sequence[str],
    **filters: Any,
) -> list[dict[str, Any]]:
    """Each object's state at ``when`` from its history, one query; deleted ones dropped."""
    history = model.history.model  # type: ignore[attr-defined]
    rows = (
        history.objects.filter(history_date__lte=when, **filters)
        .order_by("history_date", "history_id")
        .values("history_type", *fields)
    )
    latest: dict[int, dict[str, Any]] = {}
    for row in rows:
        latest[row["id"]] = row
    return [row for row in latest.values() if row["history_type"] != "-"]


def relationships_as_of(
    when: datetime.datetime | None, *, unit_id: int | None = None
) -> list[RelationshipLine]:
    """Dotted-line relationships in force at ``when`` (default now), two queries."""
    fields = ("id", "source_id", "target_id", "kind", "description", "started_on")
    if when is None:
        rows = UnitRelationship.objects.filter(ended_on__isnull=True)
        if unit_id is not None:
            rows = rows.filter(
                models.Q(source_id=unit_id) | models.Q(target_id=unit_id)
            )
        found = list(rows.values(*fields))
    else:
        filters: dict[str, Any] = {}
        if unit_id is not None:
            # Only the revisions of relationships that ever touched the unit.
            touching = UnitRelationship.history.filter(  # type: ignore[attr-defined]
                models.Q(source_id=unit_id) | models.Q(target_id=unit_id)
            ).values("id")
            filters["id__in"] = models.Subquery(touching)
        found = [
            row
            for row in _latest_history_rows(
                UnitRelationship, when, (*fields, "ended_on"), **filters
            )
            if row["ended_on"] is None or row["ended_on"] > when.date()
        ]
        if unit_id is not None:
            found = [
                row for row in found if unit_id in (row["source_id"], row["target_id"])
            ]
    units = _unit_refs(
        {row["source_id"] for row in found} | {row["target_id"] for row in found}
    )
    labels = dict(RelationshipKind.choices)
    return [
        RelationshipLine(
            id=row["id"],
            kind=row["kind"],
            kind_label=str(labels.get(row["kind"], row["kind"])),
            description=row["description"],
            started_on=row["started_on"],
            source=units[row["source_id"]],
            target=units[row["target_id"]],
        )
        for row in found
        if row["source_id"] in units and row["target_id"] in units
    ]


def _unit_refs(unit_ids: Iterable[int]) -> dict[int, UnitRef]:
    """Slugs and names of units (current names: slugs never change)."""
    ids = set(unit_ids)
    if not ids:
        return {}
    return {
        row["id"]: UnitRef(row["slug"], row["name"], row["short_name"])
        for row in OrganizationalUnit.objects.filter(pk__in=ids).values(
            "id", "slug", "name", "short_name"
        )
    }


def tenures(
    when: datetime.datetime | None,
    *,
    post_ids: Iterable[int] | None = None,
    person_ids: Iterable[int] | None = None,
) -> list[Tenure]:
    """Who held which post up to ``when`` (default now), newest first; three queries.

    Appointments recorded after ``when`` are not known at ``when``, and an end date
    later than ``when`` had not happened yet, so it is shown as still running.
    """
    fields = ("id", "person_id", "post_id", "started_on", "ended_on")
    filters: dict[str, Any] = {}
    if post_ids is not None:
        filters["post_id__in"] = list(post_ids)
    if person_ids is not None:
        filters["person_id__in"] = list(person_ids)
    if when is None:
        rows = list(Appointment.objects.filter(**filters).values(*fields))
        day = timezone.now().date()
    else:
        rows = _latest_history_rows(Appointment, when, fields, **filters)
        day = when.date()
    rows = [row for row in rows if row["started_on"] <= day]
    posts = {
        row["id"]: row
        for row in Post.objects.filter(pk__in={row["post_id"] for row in rows}).values(
            "id", "slug", "title", "unit__slug", "unit__name"
        )
    }
    people = {
        row["id"]: row
        for row in Person.objects.filter(
            pk__in={row["person_id"] for row in rows}
        ).values("id", "slug", "full_name")
    }
    result = []
    for row in rows:
        post, person = posts.get(row["post_id"]), people.get(row["person_id"])
        if post is None or person is None:
            continue
        ended_on = row["ended_on"]
        if ended_on is not None and ended_on > day:
            ended_on = None
        result.append(
            Tenure(
                post_id=post["id"],
                post_slug=post["slug"],
                post_title=post["title"],
                unit_slug=post["unit__slug"],
                unit_name=post["unit__name"],
                person_slug=person["slug"],
                person_name=person["full_name"],
                started_on=row["started_on"],
                ended_on=ended_on,
            )
        )
    result.sort(key=lambda tenure: tenure.started_on, reverse=True)
    return result


def unit_exists(slug: str) -> bool:
    """Whether a unit with this slug was ever recorded (units are never deleted)."""
    return OrganizationalUnit.objects.filter(slug=slug).exists()


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

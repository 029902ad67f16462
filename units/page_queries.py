"""Reads the public pages need that ``units.selectors`` does not offer (yet).

Each function runs a fixed number of queries whatever the size of the registry: rows are
fetched with ``.values()`` and joined in Python. Past states are read from history rows
in the same way as the selectors do: the latest revision of each object effective at or
before the instant (ties broken by the later-recorded revision) wins.
"""

from __future__ import annotations

import datetime
from collections import Counter
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
from units.selectors import (
    UNIT_STATE_FIELDS,
    PostState,
    UnitNode,
    posts_as_of,
    states_as_of,
    units_in_order_as_of,
)


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


@dataclass(slots=True)
class PageOf:
    """Where one page stands in a long list; ``missing`` is a page asked for in vain."""

    number: int
    count: int
    missing: int | None = None


def _page_of(total: int, per_page: int, number: int) -> PageOf:
    """Page ``number`` of ``total`` items, or the first if there is no such page."""
    count = max(1, -(-total // per_page))
    if number > count:
        return PageOf(1, count, missing=number)
    return PageOf(number, count)


@dataclass(slots=True)
class PostGroup:
    """A unit's posts, head first, each with its past holders (newest first)."""

    unit_slug: str
    unit_name: str
    posts: list[tuple[PostState, list[Tenure]]]


@dataclass(slots=True)
class PostsPage:
    groups: list[PostGroup]
    page: PageOf
    unit_count: int  # units with posts, on every page
    post_count: int


def posts_page(
    when: datetime.datetime | None,
    *,
    number: int,
    per_page: int,
    unit_id: int | None = None,
) -> PostsPage:
    """One page of the units that have posts at ``when`` (default now), in tree order.

    Now: the page's units are chosen in the database, so the cost follows the page,
    not the registry (ten queries). As of a past date, the units' order and which of
    them had posts come from history for the whole registry, then only the page's
    posts and holders are read. ``unit_id`` keeps that unit alone.
    """
    if when is None:
        has_posts = models.Exists(
            Post.objects.filter(unit=models.OuterRef("pk"), abolished_on__isnull=True)
        )
        units = OrganizationalUnit.objects.active().filter(has_posts)
        posts = Post.objects.filter(
            abolished_on__isnull=True, unit__abolished_on__isnull=True
        )
        if unit_id is not None:
            units = units.filter(pk=unit_id)
            posts = posts.filter(unit_id=unit_id)
        unit_count = units.count()
        post_count = posts.count()
        page = _page_of(unit_count, per_page, number)
        start = (page.number - 1) * per_page
        listed = list(
            units.order_by("tree_id", "lft").values_list("id", "slug", "name")[
                start : start + per_page
            ]
        )
    else:
        posts_per_unit = Counter(
            row["unit_id"]
            for row in states_as_of(Post, when, ("id", "unit_id", "abolished_on"))
            if row["abolished_on"] is None
        )
        ordered = [
            unit
            for unit in units_in_order_as_of(when)
            if unit[0] in posts_per_unit and unit_id in (None, unit[0])
        ]
        unit_count = len(ordered)
        post_count = sum(posts_per_unit[unit[0]] for unit in ordered)
        page = _page_of(unit_count, per_page, number)
        start = (page.number - 1) * per_page
        listed = ordered[start : start + per_page]
    post_states = posts_as_of(when, unit_ids={unit[0] for unit in listed})
    past: dict[int, list[Tenure]] = {}
    for tenure in tenures(when, post_ids=[post.id for post in post_states]):
        if not tenure.is_current:
            past.setdefault(tenure.post_id, []).append(tenure)
    by_unit: dict[int, list[tuple[PostState, list[Tenure]]]] = {}
    for post in sorted(post_states, key=lambda post: (not post.is_head, post.title)):
        by_unit.setdefault(post.unit_id, []).append((post, past.get(post.id, [])))
    groups = [
        PostGroup(unit_slug=slug, unit_name=name, posts=by_unit[unit])
        for unit, slug, name in listed
        if unit in by_unit
    ]
    return PostsPage(groups, page, unit_count, post_count)


@dataclass(slots=True)
class PersonTenures:
    slug: str
    name: str
    current: list[Tenure]
    past: list[Tenure]


@dataclass(slots=True)
class PeoplePage:
    people: list[PersonTenures]
    page: PageOf
    person_count: int


def people_page(
    when: datetime.datetime | None,
    *,
    number: int,
    per_page: int,
    person_id: int | None = None,
) -> PeoplePage:
    """One page of the people who held a post up to ``when`` (default now), by name.

    Now: the page's people are chosen in the database (five queries). As of a past
    date, who had started in a post then comes from the appointments' history for
    the whole registry, then only the page's people are read in full. ``person_id``
    keeps that person alone.
    """
    if when is None:
        today = timezone.now().date()
        held = models.Exists(
            Appointment.objects.filter(
                person=models.OuterRef("pk"), started_on__lte=today
            )
        )
        people = Person.objects.filter(held)
        if person_id is not None:
            people = people.filter(pk=person_id)
        person_count = people.count()
        page = _page_of(person_count, per_page, number)
        start = (page.number - 1) * per_page
        listed = list(
            people.order_by("full_name", "id").values_list("id", "slug")[
                start : start + per_page
            ]
        )
    else:
        day = when.date()
        started = {
            row["person_id"]
            for row in _latest_history_rows(
                Appointment, when, ("id", "person_id", "started_on")
            )
            if row["started_on"] <= day and person_id in (None, row["person_id"])
        }
        # Names as recorded now, as everywhere on the people page.
        named = sorted(
            (name, pk, slug)
            for pk, name, slug in Person.objects.values_list("id", "full_name", "slug")
            if pk in started
        )
        person_count = len(named)
        page = _page_of(person_count, per_page, number)
        start = (page.number - 1) * per_page
        listed = [(pk, slug) for _, pk, slug in named[start : start + per_page]]
    by_person: dict[str, PersonTenures] = {}
    for tenure in tenures(when, person_ids=[pk for pk, _ in listed]):
        person = by_person.setdefault(
            tenure.person_slug,
            PersonTenures(tenure.person_slug, tenure.person_name, [], []),
        )
        (person.current if tenure.is_current else person.past).append(tenure)
    people_listed = [by_person[slug] for _, slug in listed if slug in by_person]
    return PeoplePage(people_listed, page, person_count)


def unit_id_of(slug: str) -> int | None:
    return (
        OrganizationalUnit.objects.filter(slug=slug)
        .values_list("id", flat=True)
        .first()
    )


def person_id_of(slug: str) -> int | None:
    return Person.objects.filter(slug=slug).values_list("id", flat=True).first()


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

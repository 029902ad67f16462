"""The posts, people and relationships pages: lists of a registry too large to show whole.

Each function runs a fixed number of queries whatever the size of the registry: rows
are fetched with ``.values()`` and joined in Python; past states come from ``as_of``.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.utils import timezone

from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RelationshipKind,
    UnitRelationship,
    appointment_is_current,
)
from units.selectors.as_of import _ever_matched, state_rows_as_of, states_as_of
from units.selectors.fields import APPOINTMENT_FIELDS
from units.selectors.flat_trees import units_in_order_as_of
from units.selectors.posts import posts_as_of
from units.selectors.results import PostState


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
        # Only the relationships that ever touched the unit.
        touching = (
            None
            if unit_id is None
            else _ever_matched(
                UnitRelationship, Q(source_id=unit_id) | Q(target_id=unit_id)
            )
        )
        found = [
            row
            for row in states_as_of(
                UnitRelationship, when, (*fields, "ended_on"), ids=touching
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
    # An appointment's post and person never change: filtering on them picks the
    # same appointments in every revision.
    wanted = Q()
    if post_ids is not None:
        wanted &= Q(post_id__in=list(post_ids))
    if person_ids is not None:
        wanted &= Q(person_id__in=list(person_ids))
    if when is None:
        day = timezone.now().date()
        rows = list(
            Appointment.objects.filter(wanted, started_on__lte=day).values(
                *APPOINTMENT_FIELDS
            )
        )
    else:
        day = when.date()
        rows = states_as_of(
            Appointment,
            when,
            APPOINTMENT_FIELDS,
            ids=_ever_matched(Appointment, wanted) if wanted else None,
            started_by=day,
        )
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
        # An end later than ``day`` had not happened yet: still running then.
        running = appointment_is_current(row["started_on"], row["ended_on"], day)
        ended_on = None if running else row["ended_on"]
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
            person
            for (person,) in state_rows_as_of(
                Appointment, when, ("person_id",), started_by=day
            )
            if person_id in (None, person)
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

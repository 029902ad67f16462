"""Lists of a registry too large to show whole: the posts, people and relationships
pages, and the API's lists of units, posts, people, appointments and relationships.

Each function runs a fixed number of queries whatever the size of the registry: rows
are fetched with ``.values()`` and joined in Python; past states come from ``as_of``.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from units.content_languages import (
    POST_TRANSLATED,
    RELATIONSHIP_TRANSLATED,
    language_fields,
)
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    RelationshipKind,
    UnitRelationship,
    appointment_is_current,
)
from units.selectors.as_of import (
    _ever_matched,
    current_known_at,
    current_rows,
    reading_instant,
    records_as_of,
    state_rows_as_of,
    states_as_of,
    texts_as_of,
)
from units.selectors.fields import (
    APPOINTMENT_SHOWN_FIELDS,
    PERSON_FIELDS,
    RECORD_FIELDS,
)
from units.selectors.flat_trees import units_in_order_as_of
from units.selectors.posts import people_as_of, posts_as_of
from units.selectors.results import PostState, UnitNode
from units.selectors.trees import unit_tree, unit_tree_as_of


@dataclass(slots=True)
class UnitRef:
    slug: str
    name: str
    short_name: str
    # Read through ``units.selectors.languages.localized`` (blank: not translated).
    name_fr: str = ""
    name_es: str = ""


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
    description_fr: str = ""
    description_es: str = ""


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
    note: str = ""
    # The post's title and its unit's name in French and Spanish, blank where not
    # yet translated: read them with ``localized(tenure, "post_title")``.
    post_title_fr: str = ""
    post_title_es: str = ""
    unit_name_fr: str = ""
    unit_name_es: str = ""

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


def relationships_as_of(
    when: datetime.datetime | None, *, unit_id: int | None = None
) -> list[RelationshipLine]:
    """Dotted-line relationships in force at ``when`` (default now), two queries."""
    fields = (
        "id",
        "source_id",
        "target_id",
        "kind",
        *language_fields(RELATIONSHIP_TRANSLATED),
        "started_on",
    )
    when = reading_instant(when)
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
            description_fr=row["description_fr"],
            description_es=row["description_es"],
        )
        for row in found
        if row["source_id"] in units and row["target_id"] in units
    ]


def _unit_refs(unit_ids: Iterable[int]) -> dict[int, UnitRef]:
    """Slugs and names of units (current names: slugs never change)."""
    ids = set(unit_ids)
    if not ids:
        return {}
    fields = ("id", "slug", "name", "short_name", "name_fr", "name_es")
    return {
        row["id"]: UnitRef(
            row["slug"],
            row["name"],
            row["short_name"],
            name_fr=row["name_fr"],
            name_es=row["name_es"],
        )
        for row in current_rows(OrganizationalUnit, fields, ids)
    }


def _post_refs(post_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Posts' slug and title with their unit's slug and name (current names), by id.

    One query; two as known at an earlier instant (names as recorded by then).
    """
    ids = set(post_ids)
    if not ids:
        return {}
    titles = language_fields(POST_TRANSLATED)
    unit_names = language_fields(("name",))
    if current_known_at() is None:
        return {
            row["id"]: dict(row)
            for row in Post.objects.filter(pk__in=ids).values(
                "id",
                "slug",
                *titles,
                "unit__slug",
                *(f"unit__{name}" for name in unit_names),
            )
        }
    posts = current_rows(Post, ("id", "slug", *titles, "unit_id"), ids)
    units = {
        row["id"]: row
        for row in current_rows(
            OrganizationalUnit,
            ("id", "slug", *unit_names),
            {row["unit_id"] for row in posts},
        )
    }
    return {
        row["id"]: {
            **row,
            "unit__slug": units[row["unit_id"]]["slug"],
            **{f"unit__{name}": units[row["unit_id"]][name] for name in unit_names},
        }
        for row in posts
        if row["unit_id"] in units
    }


def tenures(
    when: datetime.datetime | None,
    *,
    post_ids: Iterable[int] | None = None,
    person_ids: Iterable[int] | None = None,
) -> list[Tenure]:
    """Who held which post up to ``when`` (default now), newest first; three queries
    (four when a holder was recorded after ``when``).

    Appointments recorded after ``when`` are not known at ``when``, and an end date
    later than ``when`` had not happened yet, so it is shown as still running. Holders
    are named as they were at ``when`` (``people_as_of``).
    """
    # An appointment's post and person never change: filtering on them picks the
    # same appointments in every revision.
    wanted = Q()
    if post_ids is not None:
        wanted &= Q(post_id__in=list(post_ids))
    if person_ids is not None:
        wanted &= Q(person_id__in=list(person_ids))
    when = reading_instant(when)
    if when is None:
        day = timezone.now().date()
        rows = list(
            Appointment.objects.filter(wanted, started_on__lte=day).values(
                *APPOINTMENT_SHOWN_FIELDS
            )
        )
    else:
        day = when.date()
        rows = states_as_of(
            Appointment,
            when,
            APPOINTMENT_SHOWN_FIELDS,
            ids=_ever_matched(Appointment, wanted) if wanted else None,
            started_by=day,
        )
    posts = _post_refs({row["post_id"] for row in rows})
    person_ids = {row["person_id"] for row in rows}
    # Now: the current names. As of ``when``: each holder's name then, never a later
    # rename's (``people_as_of``).
    people = (
        [
            (row["id"], row["slug"], row["full_name"])
            for row in current_rows(Person, PERSON_FIELDS, person_ids)
        ]
        if when is None
        else people_as_of(when, person_ids).values()
    )
    names = {pk: (slug, full_name) for pk, slug, full_name in people}
    result = []
    for row in rows:
        post, person = posts.get(row["post_id"]), names.get(row["person_id"])
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
                person_slug=person[0],
                person_name=person[1],
                started_on=row["started_on"],
                ended_on=ended_on,
                note=row["note"],
                post_title_fr=post["title_fr"],
                post_title_es=post["title_es"],
                unit_name_fr=post["unit__name_fr"],
                unit_name_es=post["unit__name_es"],
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
    when = reading_instant(when)
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
    when = reading_instant(when)
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
        # Names as they were then, as the tenures below show them.
        named = sorted(
            (name, pk, slug) for pk, slug, name in people_as_of(when, started).values()
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


# --- The API's lists: every object as of an instant, filtered, searched, ordered ---------
#
# The API validates the filters (api/filters.py) and pages the result; the choice of rows
# and their order are made here. Each list is one query for the rows, one per related
# model whose names ``q`` searches, whatever the size of the registry.

Row = dict[str, Any]
RowKey = Callable[[Row], Any]


class MissingAtInstant(LookupError):
    """A filter names an object the registry did not hold at the instant asked for."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def by_text(field: str) -> RowKey:
    return lambda row: row[field].casefold()


def by_date(field: str, *, missing: datetime.date) -> RowKey:
    """Order on a date that may be absent; ``missing`` says where absent dates go."""
    return lambda row: row[field] or missing


def by_field(field: str) -> RowKey:
    return lambda row: row[field]


# Ordering key → sort key, in the order the API documents them; ties are broken by id.
POST_ORDERINGS: dict[str, RowKey] = {
    "id": by_field("id"),
    "title": by_text("title"),
    "slug": by_field("slug"),
    "established_on": by_date("established_on", missing=datetime.date.min),
}
PERSON_ORDERINGS: dict[str, RowKey] = {
    "full_name": by_text("full_name"),
    "slug": by_field("slug"),
    "id": by_field("id"),
}
APPOINTMENT_ORDERINGS: dict[str, RowKey] = {
    "started_on": by_field("started_on"),
    # An appointment still running ends after every ended one.
    "ended_on": by_date("ended_on", missing=datetime.date.max),
    "id": by_field("id"),
}
RELATIONSHIP_ORDERINGS: dict[str, RowKey] = {
    "id": by_field("id"),
    "kind": by_field("kind"),
    "started_on": by_date("started_on", missing=datetime.date.min),
    # A relationship still running ends after every ended one.
    "ended_on": by_date("ended_on", missing=datetime.date.max),
}
# Units keep tree order unless asked otherwise (``tree``), and sort stably from it.
UNIT_ORDERINGS: dict[str, Callable[[UnitNode], Any]] = {
    "name": lambda node: node.name.casefold(),
    "slug": lambda node: node.slug,
    "kind": lambda node: node.kind,
    "established_on": lambda node: node.established_on or datetime.date.min,
}


def text_matches(query: str | None, *texts: str) -> bool:
    """Whether any text contains ``query``, ignoring case; no query matches all."""
    if not query:
        return True
    needle = query.casefold()
    return any(needle in text.casefold() for text in texts)


@dataclass(frozen=True, slots=True)
class RecordSearch:
    """What ``q`` searches in a list: the row's own texts, and texts of related
    objects read as of the same instant (model, row fields holding its ids, its
    fields to search)."""

    own: tuple[str, ...] = ()
    related: tuple[
        tuple[type[RecordedModel], tuple[str, ...], tuple[str, ...]], ...
    ] = ()


def _records_listed(
    model: type[RecordedModel],
    when: datetime.datetime | None,
    *,
    keep: Callable[[Row], bool],
    query: str | None,
    search: RecordSearch,
    ordering: str,
    orderings: dict[str, RowKey],
) -> list[Row]:
    rows = [
        row for row in records_as_of(model, when, RECORD_FIELDS[model]) if keep(row)
    ]
    if query:
        rows = _searched(rows, query, when, search)
    key = orderings[ordering.removeprefix("-")]
    rows.sort(key=lambda row: (key(row), row["id"]), reverse=ordering.startswith("-"))
    return rows


def _searched(
    rows: list[Row], query: str, when: datetime.datetime | None, search: RecordSearch
) -> list[Row]:
    """The rows whose own or related texts contain ``query`` (one query per model)."""
    related = [
        (
            id_fields,
            texts_as_of(
                model, when, {row[field] for row in rows for field in id_fields}, fields
            ),
        )
        for model, id_fields, fields in search.related
    ]

    def texts(row: Row) -> list[str]:
        found = [row[field] for field in search.own]
        for id_fields, texts_by_id in related:
            for field in id_fields:
                found.extend(texts_by_id.get(row[field], ()))
        return found

    return [row for row in rows if text_matches(query, *texts(row))]


def post_records(
    when: datetime.datetime | None,
    *,
    unit_id: int | None = None,
    status: str | None = None,
    is_head: bool | None = None,
    query: str | None = None,
    ordering: str | None = None,
) -> list[Row]:
    """Posts as of ``when`` (None: now), in a unit, ``active``/``abolished``, heads."""

    def keep(row: Row) -> bool:
        return (
            (unit_id is None or row["unit_id"] == unit_id)
            and (
                status is None or (status == "active") == (row["abolished_on"] is None)
            )
            and (is_head is None or row["is_head"] == is_head)
        )

    return _records_listed(
        Post,
        when,
        keep=keep,
        query=query,
        # A title in any language finds the post, as a unit's name does.
        search=RecordSearch(own=language_fields(POST_TRANSLATED)),
        ordering=ordering or "id",
        orderings=POST_ORDERINGS,
    )


def person_records(
    when: datetime.datetime | None,
    *,
    query: str | None = None,
    ordering: str | None = None,
) -> list[Row]:
    """People as of ``when`` (None: now), by full name unless ordered otherwise."""
    return _records_listed(
        Person,
        when,
        keep=lambda row: True,
        query=query,
        search=RecordSearch(own=("full_name",)),
        ordering=ordering or "full_name",
        orderings=PERSON_ORDERINGS,
    )


def appointment_records(
    when: datetime.datetime | None,
    *,
    person_id: int | None = None,
    post_id: int | None = None,
    current: bool | None = None,
    query: str | None = None,
    ordering: str | None = None,
) -> list[Row]:
    """Appointments as of ``when``, of a person, to a post, running (or not) then."""
    day = (when or timezone.now()).date()

    def keep(row: Row) -> bool:
        return (
            (person_id is None or row["person_id"] == person_id)
            and (post_id is None or row["post_id"] == post_id)
            and (
                current is None
                or appointment_is_current(row["started_on"], row["ended_on"], day)
                == current
            )
        )

    return _records_listed(
        Appointment,
        when,
        keep=keep,
        query=query,
        search=RecordSearch(
            related=(
                (Person, ("person_id",), ("full_name",)),
                (Post, ("post_id",), ("title",)),
            )
        ),
        ordering=ordering or "-started_on",
        orderings=APPOINTMENT_ORDERINGS,
    )


def relationship_records(
    when: datetime.datetime | None,
    *,
    unit_id: int | None = None,
    kind: str | None = None,
    status: str | None = None,
    query: str | None = None,
    ordering: str | None = None,
) -> list[Row]:
    """Dotted lines as of ``when``, touching a unit, of a kind, ``active``/``ended``."""

    def keep(row: Row) -> bool:
        return (
            (unit_id is None or unit_id in (row["source_id"], row["target_id"]))
            and (kind is None or row["kind"] == kind)
            and (status is None or (status == "active") == (row["ended_on"] is None))
        )

    return _records_listed(
        UnitRelationship,
        when,
        keep=keep,
        query=query,
        search=RecordSearch(
            own=language_fields(RELATIONSHIP_TRANSLATED),
            related=(
                (
                    OrganizationalUnit,
                    ("source_id", "target_id"),
                    ("name", "short_name"),
                ),
            ),
        ),
        ordering=ordering or "id",
        orderings=RELATIONSHIP_ORDERINGS,
    )


@dataclass(slots=True)
class UnitList:
    """The units a list shows, and the slug of every unit of that instant (parents)."""

    units: list[UnitNode]
    slugs: dict[int, str]


def unit_list(
    when: datetime.datetime | None,
    *,
    kind: str | None = None,
    status: str | None = None,
    parent: str | None = None,
    query: str | None = None,
    ordering: str | None = None,
) -> UnitList:
    """Every unit at ``when``, abolished ones too, in tree order unless ordered.

    ``parent`` is a slug: the units directly under it. A parent the registry did not
    hold at ``when`` is refused (MissingAtInstant), not answered with an empty list.
    """
    when = reading_instant(when)
    roots = (
        unit_tree(include_abolished=True)
        if when is None
        else unit_tree_as_of(when, include_abolished=True)
    )
    nodes = [node for root in roots for node in root.walk()]
    slugs = {node.id: node.slug for node in nodes}
    parent_id = None
    if parent is not None:
        parent_id = next((pk for pk, slug in slugs.items() if slug == parent), None)
        if parent_id is None:
            raise MissingAtInstant(
                "parent", f"No unit “{parent}” exists at that instant."
            )
    units = [
        node
        for node in nodes
        if (kind is None or node.kind == kind)
        and (status is None or (status == "active") == node.is_active)
        and (parent is None or node.parent_id == parent_id)
        and text_matches(query, node.name, node.short_name, node.mandate)
    ]
    if ordering and ordering != "tree":
        key = UNIT_ORDERINGS[ordering.removeprefix("-")]
        units.sort(key=key, reverse=ordering.startswith("-"))
    return UnitList(units, slugs)

"""The change feed a page at a time: cursors, the Atom feed, and their cost at scale.

``changes_page`` and ``changes_page_before`` must give exactly what ``changes_between``
gives, in the same order, whatever the window, page size and starting point; the
history here is built so that the order's tie-breakers are all exercised: many
revisions at one instant in every table, revisions that record two changes or none,
and revisions of three tables sharing both instant and history_id.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management.color import no_style
from django.db import connection, transaction
from rest_framework.test import APIClient

from api.formats import feeds
from benchmarks.generate import generate
from tests.conftest import ScriptedHistory, record_unchanged
from units import selectors, services
from units.change_cursor import change_cursor
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    ReportingLine,
    UnitKind,
    UnitRelationship,
)
from units.selectors import Change, ChangeKey, InvalidInstant

pytestmark = pytest.mark.django_db

API = "/api/v1/"
ATOM = "{http://www.w3.org/2005/Atom}"
UTC = datetime.UTC
T0 = datetime.datetime(2021, 1, 1, 12, tzinfo=UTC)
T1 = datetime.datetime(2022, 1, 1, 12, tzinfo=UTC)
T2 = datetime.datetime(2023, 1, 1, 12, tzinfo=UTC)
TICK = datetime.timedelta(microseconds=1)
BEGINNING = datetime.datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime.datetime(9999, 12, 30, tzinfo=UTC)
HISTORY_MODELS: tuple[
    type[OrganizationalUnit | Appointment | UnitRelationship], ...
] = (
    OrganizationalUnit,
    Appointment,
    UnitRelationship,
)


@dataclass
class TiedHistory:
    shared_history_id: int
    changes: list[Change]


@pytest.fixture
def tied_history(editor: User) -> TiedHistory:
    """Everything at three instants, so effective time alone orders nothing.

    T0: three departments, four units, two held head posts, two relationships.
    T1: a rename with a new mandate (two changes in one revision), a revision that
        changes nothing (the feed lists nothing for it), a move with a rename, an
        appointment ended and the next begun, a relationship ended.
    T2: a unit abolished (its holder's appointment ends with it), a reporting line
        changed, a relationship added; the last revision of each table then shares
        one history_id, as revisions of different tables can.
    """

    def write(function: Any, **arguments: Any) -> Any:
        return function(user=editor, reason="Scripted", **arguments)

    def unit(name: str, parent: OrganizationalUnit | None, kind: str) -> Any:
        return write(
            services.unit_create,
            name=name,
            parent=parent,
            kind=kind,
            mandate=f"{name} works.",
            effective_at=T0,
        )

    root = unit("Headquarters", None, UnitKind.OFFICE)
    a, b, c = (unit(f"Department {x}", root, UnitKind.DEPARTMENT) for x in "ABC")
    u1, u2 = unit("Unit One", a, UnitKind.UNIT), unit("Unit Two", a, UnitKind.UNIT)
    u3, u4 = unit("Unit Three", b, UnitKind.UNIT), unit("Unit Four", c, UnitKind.UNIT)
    heads = [
        write(
            services.post_create,
            title=f"Head of {u.name}",
            unit=u,
            is_head=True,
            effective_at=T0,
        )
        for u in (u1, u4)
    ]
    people = [
        write(services.person_create, full_name=name, effective_at=T0)
        for name in ("Ana Lima", "Ben Okoro", "Chen Wang")
    ]
    for person, post in zip(people, heads, strict=False):
        write(
            services.appointment_start,
            person=person,
            post=post,
            started_on=T0.date(),
            effective_at=T0,
        )
    supports = write(
        services.relationship_create,
        source=a,
        target=b,
        kind="supports",
        effective_at=T0,
    )
    write(
        services.relationship_create,
        source=u1,
        target=u2,
        kind="advises",
        effective_at=T0,
    )

    write(
        services.unit_update, unit=u1, name="Unit Uno", mandate="New.", effective_at=T1
    )
    record_unchanged(u2, editor, T1)
    write(
        services.unit_update, unit=u3, new_parent=c, name="Unit Tres", effective_at=T1
    )
    write(
        services.appointment_end,
        appointment=Appointment.objects.get(person=people[0]),
        ended_on=T1.date(),
        effective_at=T1,
    )
    write(
        services.appointment_start,
        person=people[2],
        post=heads[0],
        started_on=T1.date(),
        effective_at=T1,
    )
    write(services.relationship_end, relationship=supports, effective_at=T1)

    write(services.unit_abolish, unit=u4, effective_at=T2)
    write(
        services.unit_update,
        unit=u2,
        reporting_line=ReportingLine.OVERSIGHT,
        effective_at=T2,
    )
    write(
        services.relationship_create,
        source=b,
        target=c,
        kind="advises",
        effective_at=T2,
    )

    # The latest revision of each table is at T2; give all three one history_id.
    latest = [model.history.latest() for model in HISTORY_MODELS]
    assert {revision.history_date for revision in latest} == {T2}
    shared = 1 + max(
        model.history.order_by("-history_id").values_list("history_id", flat=True)[0]
        for model in HISTORY_MODELS
    )
    for model, revision in zip(HISTORY_MODELS, latest, strict=True):
        model.history.filter(history_id=revision.history_id).update(history_id=shared)
    # Later writes must not be handed an id now taken (PostgreSQL's sequences).
    history_models = [model.history.model for model in HISTORY_MODELS]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), history_models):
            cursor.execute(sql)
    changes = selectors.changes_between(BEGINNING, LATEST)
    # The tie-breakers at work: the shared id orders by table, then within a revision.
    tied = [(c.kind, c.history_id) for c in changes if c.effective_at == T2]
    assert tied[-3:] == [
        ("reporting_line_changed", shared),
        ("appointment_ended", shared),
        ("relationship_added", shared),
    ]
    return TiedHistory(shared, changes)


def read_forward(
    since: datetime.datetime,
    until: datetime.datetime,
    limit: int,
    after: ChangeKey | None = None,
    *,
    most_pages: int | None = None,
) -> tuple[list[Change], list[selectors.ChangePage]]:
    """Every change from ``after`` on, following ``later`` to the end; and the pages.

    ``most_pages`` stops the read after that many pages.
    """
    pages = [selectors.changes_page(since, until, after=after, limit=limit)]
    while pages[-1].later is not None and len(pages) != most_pages:
        assert len(pages) < 500, "the pages do not come to an end"
        after = pages[-1].later
        pages.append(selectors.changes_page(since, until, after=after, limit=limit))
    return [change for page in pages for change in page.changes], pages


def read_back(
    since: datetime.datetime,
    until: datetime.datetime,
    limit: int,
    before: ChangeKey | None = None,
) -> tuple[list[Change], list[selectors.ChangePage]]:
    """Every change before ``before``, following ``earlier`` to the start."""
    pages = [selectors.changes_page_before(since, until, before=before, limit=limit)]
    while pages[-1].earlier is not None:
        assert len(pages) < 500, "the pages do not come to an end"
        before = pages[-1].earlier
        pages.append(
            selectors.changes_page_before(since, until, before=before, limit=limit)
        )
    return [change for page in reversed(pages) for change in page.changes], pages


def change_keys(changes: list[Change]) -> list[ChangeKey]:
    """Each change's key, worked out from the change alone (the test's oracle)."""
    keys: list[ChangeKey] = []
    for change in changes:
        source = selectors.OBJECT_TYPES.index(change.object_type)
        place = (change.effective_at, change.history_id, source)
        ordinal = 1 + sum(
            (key.effective_at, key.history_id, key.source) == place for key in keys
        )
        keys.append(ChangeKey(*place, ordinal))
    return keys


# Just before and at each instant of the history: every way a window's end can fall
# on its ties (a window is (since, until]). BEGINNING and LATEST hold the same changes
# as T0 - TICK and T2, so every window between them would be read twice over; the
# widest window, the one the API's defaults read, is read once.
INSTANTS = [T0 - TICK, T0, T1 - TICK, T1, T2 - TICK, T2]
WINDOWS = [
    *[(since, until) for i, since in enumerate(INSTANTS) for until in INSTANTS[i:]],
    (BEGINNING, LATEST),
]


@pytest.mark.slow
def test_pages_read_either_way_are_the_window_in_order(
    tied_history: TiedHistory,
) -> None:
    # Every limit in one test: the history is built once and each window's
    # changes_between read once, not once per limit.
    for since, until in WINDOWS:
        window = selectors.changes_between(since, until)
        for limit in (1, 3, 5, 1000):
            where = (since, until, limit)
            forward, pages = read_forward(since, until, limit)
            assert forward == window, where
            back, back_pages = read_back(since, until, limit)
            assert back == window, where
            for page in pages + back_pages:
                assert len(page.changes) <= limit, where
            # A page falls short while more follow only when its read met a revision
            # that records no change: here only the unchanged revision at T1.
            if not since < T1 <= until:
                for page in pages[:-1] + back_pages[:-1]:
                    assert len(page.changes) == limit, where


@pytest.mark.slow
def test_reading_on_or_back_from_any_change_gives_the_rest_in_order(
    tied_history: TiedHistory,
) -> None:
    changes = tied_history.changes
    keys = change_keys(changes)
    # changes_between's order is the keys' order.
    assert keys == sorted(keys)
    for index, key in enumerate(keys):
        # Pages of seven: starting from every change, a page boundary still falls at
        # every place (in a tie, inside a revision), in a third of the pages of three.
        assert read_forward(BEGINNING, LATEST, 7, after=key)[0] == changes[index + 1 :]
        assert read_back(BEGINNING, LATEST, 7, before=key)[0] == changes[:index]
        # One at a time, the next changes: reading on to the end from every change
        # is quadratic, and the whole window one at a time is read by the test above.
        following = read_forward(BEGINNING, LATEST, 1, after=key, most_pages=3)[0]
        assert following == changes[index + 1 : index + 1 + len(following)]
        # Three pages hold two changes at least: one revision alone records none.
        assert len(following) >= min(2, len(changes) - index - 1)
        # A page points back at its own start: reading back from there gives
        # everything up to the change it was read after. Its start is the next
        # change's key, which the next turn reads back from (above); only after the
        # last change is it a key of no change, read back from here.
        page = selectors.changes_page(BEGINNING, LATEST, after=key, limit=3)
        assert page.earlier is not None
        if index + 1 < len(keys):
            assert page.earlier == keys[index + 1]
        else:
            assert not page.changes
            assert read_back(BEGINNING, LATEST, 3, before=page.earlier)[0] == changes


def test_a_revision_that_records_two_changes_can_be_split_across_pages(
    tied_history: TiedHistory,
) -> None:
    changes = tied_history.changes
    first = next(i for i, c in enumerate(changes) if c.kind == "renamed")
    assert changes[first + 1].kind == "mandate_changed"
    assert changes[first + 1].history_id == changes[first].history_id
    keys = change_keys(changes)
    assert keys[first].ordinal == 1
    assert keys[first + 1].ordinal == 2
    page = selectors.changes_page(BEGINNING, LATEST, after=keys[first], limit=1)
    assert [c.kind for c in page.changes] == ["mandate_changed"]


def test_the_latest_page_reads_back_from_until(tied_history: TiedHistory) -> None:
    changes = tied_history.changes
    latest = selectors.changes_page_before(BEGINNING, LATEST, limit=4)
    assert latest.changes == changes[-4:]
    assert latest.later is None
    upto_t1 = selectors.changes_page_before(BEGINNING, T1, limit=3)
    assert upto_t1.changes == [c for c in changes if c.effective_at <= T1][-3:]


def test_pages_refuse_reversed_windows_and_empty_pages(
    tied_history: TiedHistory,
) -> None:
    with pytest.raises(InvalidInstant, match="until must not be earlier"):
        selectors.changes_page(T1, T0, limit=5)
    with pytest.raises(InvalidInstant, match="until must not be earlier"):
        selectors.changes_page_before(T1, T0, limit=5)
    with pytest.raises(ValueError, match="at least one change"):
        selectors.changes_page(T0, T1, limit=0)


# --- The API ---------------------------------------------------------------------------


def cursor_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def summaries(results: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(r["kind"], r["effective_at"], r["summary"]) for r in results]


def expected(changes: list[Change]) -> list[tuple[str, str, str]]:
    return [
        (c.kind, c.effective_at.isoformat().replace("+00:00", "Z"), c.summary)
        for c in changes
    ]


def test_following_next_links_reads_the_whole_window(
    client: APIClient, tied_history: TiedHistory
) -> None:
    response = client.get(f"{API}changes/", {"limit": "3", "since": "2021-01-01"})
    body = response.json()
    assert body["count"] is None
    assert body["previous"] is None
    seen = body["results"]
    while body["next"] is not None:
        assert "since=2021-01-01" in body["next"] and "limit=3" in body["next"]
        body = client.get(body["next"]).json()
        assert len(body["results"]) <= 3
        seen += body["results"]
    assert summaries(seen) == expected(
        selectors.changes_between(T0 - datetime.timedelta(days=1), LATEST)
    )


def test_previous_link_returns_to_the_page_before(
    client: APIClient, tied_history: TiedHistory
) -> None:
    first = client.get(f"{API}changes/", {"limit": "4"}).json()
    second = client.get(first["next"]).json()
    assert second["previous"] is not None
    again = client.get(second["previous"]).json()
    assert again["results"] == first["results"]
    # From a page read backwards, next goes forward again.
    assert client.get(again["next"]).json()["results"] == second["results"]


def test_the_last_page_has_no_next_link(
    client: APIClient, tied_history: TiedHistory
) -> None:
    body = client.get(f"{API}changes/", {"limit": "1000"}).json()
    assert summaries(body["results"]) == expected(tied_history.changes)
    assert body["next"] is None


def test_a_cursor_stays_valid_after_a_write_and_reads_on_to_new_changes(
    client: APIClient, tied_history: TiedHistory, editor: User
) -> None:
    first = client.get(f"{API}changes/", {"limit": "5"}).json()
    services.unit_update(
        unit=OrganizationalUnit.objects.get(name="Unit Uno"),
        user=editor,
        reason="Renamed again",
        name="Unit Eins",
    )
    seen, link = first["results"], first["next"]
    while link is not None:
        body = client.get(link).json()
        seen, link = seen + body["results"], body["next"]
    assert summaries(seen) == expected(selectors.changes_between(BEGINNING, LATEST))
    assert seen[-1]["summary"] == "Unit Uno renamed Unit Eins"


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "",
        "W10:abc",
        # Well-formed positions this API never signed.
        base64.urlsafe_b64encode(b'["after","2022-01-01T12:00:00+00:00",1,0,0]')
        .decode()
        .rstrip("="),
    ],
)
def test_a_malformed_cursor_is_a_400_saying_why(
    client: APIClient, tied_history: TiedHistory, cursor: str
) -> None:
    response = client.get(f"{API}changes/", {"cursor": cursor})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "is not a cursor of this feed" in response.json()["cursor"]


def test_a_tampered_or_cut_cursor_is_a_400(
    client: APIClient, tied_history: TiedHistory
) -> None:
    first = client.get(f"{API}changes/", {"limit": "2"}).json()
    cursor = cursor_of(first["next"])
    payload, signature = cursor.rsplit(":", 1)
    position = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    moved = position.replace(b'"after"', b'"before"')
    assert moved != position
    forged = base64.urlsafe_b64encode(moved).decode().rstrip("=")
    for bad in (f"{forged}:{signature}", cursor[:-3], cursor + "x"):
        response = client.get(f"{API}changes/", {"cursor": bad})
        assert response.status_code == HTTPStatus.BAD_REQUEST, bad
        assert "Use the next and previous links as given" in response.json()["cursor"]


def test_a_signed_cursor_with_an_impossible_position_is_a_400(
    client: APIClient, tied_history: TiedHistory
) -> None:
    key = ChangeKey(T1, 1, 0, 0)
    good = change_cursor("after", key)
    assert client.get(f"{API}changes/", {"cursor": good}).status_code == HTTPStatus.OK
    for impossible in (
        change_cursor("sideways", key),
        change_cursor("after", ChangeKey(T1, 1, len(selectors.FEED_SOURCES), 0)),
        change_cursor("after", ChangeKey(T1, -1, 0, 0)),
        change_cursor("after", ChangeKey(T1.replace(tzinfo=None), 1, 0, 0)),
    ):
        response = client.get(f"{API}changes/", {"cursor": impossible})
        assert response.status_code == HTTPStatus.BAD_REQUEST


OFFSET_REMOVED = (
    "The change feed no longer pages by offset (deprecated, now removed: each page "
    "cost the whole window). Page by cursor: request the first page without offset "
    "and follow next."
)


@pytest.mark.parametrize("offset", ["0", "2", "", "-1", "x"])
def test_offset_paging_is_refused_pointing_to_the_cursor(
    client: APIClient, tied_history: TiedHistory, offset: str
) -> None:
    response = client.get(f"{API}changes/", {"offset": offset, "limit": "3"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"offset": OFFSET_REMOVED}


def test_offset_with_a_cursor_is_refused_too(
    client: APIClient, tied_history: TiedHistory
) -> None:
    first = client.get(f"{API}changes/", {"limit": "2"}).json()
    response = client.get(
        f"{API}changes/", {"cursor": cursor_of(first["next"]), "offset": "2"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"offset": OFFSET_REMOVED}


def test_pages_answer_304_until_the_registry_changes(
    client: APIClient, tied_history: TiedHistory, editor: User
) -> None:
    first = client.get(f"{API}changes/", {"limit": "2"}).json()
    url = first["next"]
    response = client.get(url)
    etag = response["ETag"]
    assert (
        client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == HTTPStatus.NOT_MODIFIED
    )
    services.unit_update(
        unit=OrganizationalUnit.objects.get(name="Unit Uno"),
        user=editor,
        reason="Renamed again",
        name="Unit Eins",
    )
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == HTTPStatus.OK
    assert again["ETag"] != etag
    # The page is a place in the feed, so it holds the same changes as before (with
    # the units' current names).
    assert [
        (r["kind"], r["effective_at"], r["history_id"]) for r in again.json()["results"]
    ] == [
        (r["kind"], r["effective_at"], r["history_id"])
        for r in response.json()["results"]
    ]


def test_the_schema_documents_cursor_and_the_removed_offset(client: APIClient) -> None:
    schema = client.get(f"{API}schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/changes/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert "cursor" in parameters
    assert parameters["offset"].get("deprecated") is True
    assert parameters["offset"]["description"].startswith("Removed")
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["$ref"].endswith("/ChangePage")
    count = schema["components"]["schemas"]["ChangePage"]["properties"]["count"]
    assert count.get("nullable") is True


# --- The Atom feed ---------------------------------------------------------------------


def atom_titles(content: bytes) -> list[str]:
    from xml.etree import ElementTree

    feed = ElementTree.fromstring(content)  # noqa: S314 - our own output
    titles = []
    for entry in feed.iter(f"{ATOM}entry"):
        title = entry.find(f"{ATOM}title")
        assert title is not None and title.text is not None
        titles.append(title.text)
    return titles


def test_atom_lists_the_latest_changes_newest_first(
    client: APIClient,
    scripted_history: ScriptedHistory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feeds, "FEED_SIZE", 3)
    every = selectors.changes_between(BEGINNING, LATEST)
    titles = atom_titles(client.get(f"{API}changes.atom").content)
    assert titles == [change.summary for change in every[-3:][::-1]]
    cache.clear()
    titles = atom_titles(
        client.get(f"{API}changes.atom", {"until": "2022-06-01"}).content
    )
    upto = [c for c in every if c.effective_at.date() <= datetime.date(2022, 6, 1)]
    assert titles == [change.summary for change in upto[-3:][::-1]]


# --- Cost ------------------------------------------------------------------------------


def page_queries(
    client: APIClient, assert_num_queries: Any, expected: dict[str, int]
) -> dict[str, int]:
    """Queries of a first page, a page from a cursor, the page back and the Atom feed."""
    measured: dict[str, int] = {}

    def measure(name: str, path: str, query: dict[str, str] | None = None) -> Any:
        cache.clear()
        with assert_num_queries(expected[name], info=name) as queries:
            response = client.get(path, query)
        assert response.status_code == HTTPStatus.OK, response.content[:300]
        measured[name] = len(queries.captured_queries)
        return response

    query = {"since": "2015-01-01", "limit": "200"}
    first = measure("first page", f"{API}changes/", query).json()
    assert len(first["results"]) > 0
    second = measure("next page", first["next"]).json()
    measure("previous page", second["previous"])
    measure("atom", f"{API}changes.atom")
    return measured


# One read of the registry generation; six history reads (one per table, lineage
# links the sixth), the states before the rows read (none for a table with no rows on
# the page: the generated registry has no relationships and no lineage) and the
# posts, units and people the changes name (none of a kind no change names). So a page
# costs at most 16 queries whatever the registry's size; which of them a page needs
# follows the kinds of record on it (the Atom feed's latest changes at 44 units name no
# one, say).
PAGE_AT_MOST = dict.fromkeys(("first page", "next page", "previous page", "atom"), 16)
# The pages from a cursor hold every kind the generator writes, at either size.
CURSOR_PAGES = {"first page": 13, "next page": 13, "previous page": 13}


@pytest.mark.scale
@pytest.mark.slow
def test_a_page_costs_as_many_queries_at_1000_units_as_at_44(
    client: APIClient, django_assert_max_num_queries: Any
) -> None:
    # 1,000 units write some 6,000 revisions: a window of them fills many pages of
    # 200 and outgrows every batch a read could fetch in (it was 3,000, for nothing
    # more than 1,000 show but the time to generate them).
    with transaction.atomic():
        generate(44, seed=5)
        small = page_queries(client, django_assert_max_num_queries, PAGE_AT_MOST)
        transaction.set_rollback(True)
    assert not OrganizationalUnit.history.exists()
    assert not Person.objects.exists()
    generate(1000, seed=5)
    assert OrganizationalUnit.history.count() > 5000
    large = page_queries(client, django_assert_max_num_queries, PAGE_AT_MOST)
    for measured in (small, large):
        assert {name: measured[name] for name in CURSOR_PAGES} == CURSOR_PAGES


# --- Windows of whole days -----------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "until", "window"),
    [
        # A date at either end is the whole day: the window opens just before it.
        (
            "2024-03-01",
            "2024-03-01",
            (
                datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
                datetime.datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
            ),
        ),
        # Instants stay instants: since exclusive, until inclusive.
        (
            "2024-03-01T12:00:00Z",
            "2024-03-02T08:00:00+02:00",
            (
                datetime.datetime(2024, 3, 1, 12, tzinfo=UTC),
                datetime.datetime(2024, 3, 2, 6, tzinfo=UTC),
            ),
        ),
        # Nothing lies before year 1: the first day starts the window.
        (
            "0001-01-01",
            None,
            (datetime.datetime(1, 1, 1, tzinfo=UTC), LATEST),
        ),
    ],
)
def test_a_change_window_holds_whole_days_and_exact_instants(
    since: str, until: str | None, window: tuple[datetime.datetime, datetime.datetime]
) -> None:
    assert (
        selectors.change_window(
            since, until, default_since=BEGINNING, default_until=LATEST
        )
        == window
    )


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2024-03-02", "2024-03-01", "until must not be earlier than since."),
        # The day before "since" ends where the window starts: still before it.
        ("2024-03-02", "2024-03-01T23:59:59.999999Z", "until must not be earlier"),
        ("2024-03-01T12:00Z", "2024-03-01T11:59Z", "until must not be earlier"),
        ("2024-02-30", None, "since: “2024-02-30” is not a valid date"),
        (None, "soon", "until: “soon” is not an ISO 8601 date"),
    ],
)
def test_a_change_window_refuses_a_reversed_or_malformed_window(
    since: str | None, until: str | None, message: str
) -> None:
    with pytest.raises(InvalidInstant, match=message):
        selectors.change_window(
            since, until, default_since=BEGINNING, default_until=LATEST
        )


def test_a_day_window_holds_the_changes_of_its_first_midnight_not_the_night_before(
    editor: User, make_unit: Any
) -> None:
    unit = make_unit("Desk", slug="desk", effective_at=T0)
    midnight = datetime.datetime(2024, 3, 1, tzinfo=UTC)
    for effective_at, name in (
        (midnight - TICK, "Desk the night before"),
        (midnight, "Desk at midnight"),
        (midnight + datetime.timedelta(days=1) - TICK, "Desk at the day's end"),
        (midnight + datetime.timedelta(days=1), "Desk the next day"),
    ):
        services.unit_update(
            unit=unit, user=editor, reason=name, effective_at=effective_at, name=name
        )
    since, until = selectors.change_window(
        "2024-03-01", "2024-03-01", default_since=BEGINNING, default_until=LATEST
    )
    assert [change.reason for change in selectors.changes_between(since, until)] == [
        "Desk at midnight",
        "Desk at the day's end",
    ]

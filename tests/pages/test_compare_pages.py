"""The compare page a page at a time: cursors, links, counts it can vouch for, cost.

A window holding more changes than ``COMPARE_PAGE_CHANGES`` is read a page at a time
from a signed cursor, as the API's change feed is; these tests shrink the page to a few
changes so that the small histories of the fixtures span many pages.
"""

from __future__ import annotations

import base64
import datetime
import html
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.test import Client

from api.views import MAX_PAGE_SIZE
from tests.conftest import ScriptedHistory, at, record_unchanged
from units import services
from units.change_cursor import (
    InvalidChangeCursor,
    change_cursor,
    read_change_cursor,
)
from units.models import UnitKind
from units.selectors import (
    Change,
    ChangeKey,
    changes_between,
    parse_instant,
    parse_window_start,
)
from units.views import compare_pages as compare_page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]

# The whole scripted history (2020-2023) and the rounds after it (February 2024).
WHOLE = "/compare/?from=2019-12-31&to=2024-12-31"
# The rounds alone: one unit, its head post, a person, an appointment and a dotted
# line added on each of ROUNDS days, so every page of five changes touches all five
# history tables whatever the history ids.
ROUNDS = 8
ROUNDS_WINDOW = "/compare/?from=2024-01-31&to=2024-12-31"
# One day: both ends are that day, whole.
ONE_ROUND = "/compare/?from=2024-02-03&to=2024-02-03"
# A compare page's queries: each of the six history tables (lineage links the sixth)
# read by index, the states before, and the units, posts and people its changes name.
COMPARE_QUERIES = 14


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(compare_page, "COMPARE_PAGE_CHANGES", 3)
    return 3


@pytest.fixture
def rounds(editor: User, scripted_history: ScriptedHistory) -> None:
    previous = scripted_history.department_b
    for number in range(1, ROUNDS + 1):
        effective_at = at(f"2024-02-{number:02}")
        write: dict[str, Any] = {
            "user": editor,
            "reason": "Round",
            "effective_at": effective_at,
        }
        unit = services.unit_create(
            name=f"Team {number}",
            slug=f"team-{number}",
            kind=UnitKind.UNIT,
            parent=scripted_history.department_b,
            **write,
        )
        post = services.post_create(
            title=f"Lead of team {number}", unit=unit, is_head=True, **write
        )
        person = services.person_create(full_name=f"Person {number}", **write)
        services.appointment_start(
            person=person, post=post, started_on=effective_at.date(), **write
        )
        services.relationship_create(
            source=unit, target=previous, kind="supports", **write
        )
        previous = unit


def page_text(response: Any) -> str:
    """The page as text without tags or repeated whitespace, to assert on sentences."""
    markup = response.content.decode()
    markup = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", markup, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup))


def link_to(response: Any, name: str) -> str:
    """The address of the page's first link named ``name``; the test fails without it."""
    address = link(response, name)
    assert address is not None, f"no link named {name!r}"
    return address


def link(response: Any, name: str) -> str | None:
    """The address of the page's first link named ``name``, unescaped; None if absent."""
    found = re.search(
        rf'<a href="([^"]+)"[^>]*>{re.escape(name)}</a>', response.content.decode()
    )
    return html.unescape(found.group(1)) if found else None


def cursor_of(url: str | None) -> str:
    assert url is not None
    return parse_qs(urlsplit(url).query)["cursor"][0]


def change_id(change: Change) -> tuple[Any, ...]:
    return (change.effective_at, change.history_id, change.kind, change.summary)


def listed(response: Any) -> list[tuple[Any, ...]]:
    """The changes the page lists (grouped by kind, so in no particular order)."""
    return sorted(
        change_id(change)
        for section in response.context["sections"]
        for change in section.changes
    )


def window_changes(raw_from: str, raw_to: str) -> list[Change]:
    return changes_between(
        parse_window_start(raw_from, parameter="from"),
        parse_instant(raw_to, parameter="to"),
    )


def read_pages(client: Client, url: str) -> list[Any]:
    """Every page of a window, following "Later changes" from ``url``."""
    pages = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == HTTPStatus.OK, next_url
        pages.append(response)
        assert len(pages) < 100, "the Later changes links go round in circles"
        next_url = link(response, "Later changes")
    return pages


# --- Paging ------------------------------------------------------------------------------


@pytest.mark.usefixtures("rounds")
def test_paging_forward_visits_every_change_of_the_window_once_in_order(
    client: Client, small_pages: int
) -> None:
    expected = window_changes("2019-12-31", "2024-12-31")
    pages = read_pages(client, WHOLE)
    assert len(pages) == -(-len(expected) // small_pages) > 3
    start = 0
    for number, response in enumerate(pages):
        changes = listed(response)
        # Each page is the next stretch of the window, full but for the last.
        assert changes == sorted(
            change_id(change) for change in expected[start : start + small_pages]
        )
        start += len(changes)
        text = page_text(response)
        assert "Changes between 31 December 2019 and 31 December 2024" in text
        place = (
            "first" if number == 0 else "last" if number == len(pages) - 1 else "next"
        )
        assert f"These are the {place} {len(changes)} change" in text
        assert (link(response, "Earlier changes") is None) == (number == 0)
        assert (link(response, "Later changes") is None) == (number == len(pages) - 1)
    assert start == len(expected)
    # The first page holds the three units established on the first day.
    assert "These are the first 3 changes, all on 1 January 2020; more follow." in (
        page_text(pages[0])
    )
    assert "; earlier ones come before." in page_text(pages[-1])


@pytest.mark.usefixtures("rounds")
def test_earlier_changes_gives_the_previous_page_again(
    client: Client, small_pages: int
) -> None:
    # The rounds alone: five changes a day in five tables, so pages of three end
    # within days and across tables, as the whole history's do, in fewer pages.
    pages = read_pages(client, ROUNDS_WINDOW)
    assert len(pages) == -(-5 * ROUNDS // small_pages)
    for number in range(1, len(pages)):
        earlier = link(pages[number], "Earlier changes")
        assert earlier is not None
        assert "cursor=" in earlier
        response = client.get(earlier)
        assert response.status_code == HTTPStatus.OK
        assert listed(response) == listed(pages[number - 1])
        # And forward again from there.
        later = client.get(link_to(response, "Later changes"))
        assert listed(later) == listed(pages[number])


def test_a_window_of_one_page_reads_as_before_with_exact_counts(
    client: Client, scripted_history: ScriptedHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four changes: a rename and a new mandate in one revision, a move, an abolition.
    monkeypatch.setattr(compare_page, "COMPARE_PAGE_CHANGES", 4)
    response = client.get("/compare/?from=2020-12-31&to=2022-12-31")
    text = page_text(response)
    assert "4 changes between 31 December 2020 and 31 December 2022" in text
    assert "Units abolished 1" in text
    assert "on this page" not in text
    assert "These are the" not in text
    assert link(response, "Later changes") is None
    assert link(response, "Earlier changes") is None


def test_a_window_just_over_a_page_says_which_part_it_shows(
    client: Client, scripted_history: ScriptedHistory, small_pages: int
) -> None:
    response = client.get("/compare/?from=2020-12-31&to=2022-12-31")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "Changes between 31 December 2020 and 31 December 2022" in text
    assert (
        "These are the first 3 changes, from 1 March 2021 to 1 January 2022; "
        "more follow." in text
    )
    # No total: the page has not counted the window.
    assert "4 changes" not in text
    assert "Units renamed 1 on this page" in text
    last = client.get(link_to(response, "Later changes"))
    last_text = page_text(last)
    assert (
        "These are the last 1 change, all on 1 June 2022; earlier ones come before."
        in last_text
    )
    assert "Department A closed" in last_text
    assert "Nothing changed between these dates" not in last_text


def test_a_page_whose_revisions_list_nothing_still_says_more_follow(
    client: Client,
    scripted_history: ScriptedHistory,
    editor: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two revisions that change nothing (the page lists nothing for them), a rename.
    unit = scripted_history.unit_y
    record_unchanged(unit, editor, at("2024-03-01"))
    record_unchanged(unit, editor, at("2024-03-02"))
    services.unit_update(
        unit=unit,
        user=editor,
        reason="Renamed",
        effective_at=at("2024-03-03"),
        name="Unit Why",
    )
    monkeypatch.setattr(compare_page, "COMPARE_PAGE_CHANGES", 1)
    pages = read_pages(client, "/compare/?from=2024-02-29&to=2024-03-31")
    first = page_text(pages[0])
    assert "This part of the window holds no changes to list; more follow." in first
    assert "Nothing changed between these dates" not in first
    assert sum("Unit Y renamed Unit Why" in page_text(page) for page in pages) == 1


# --- Cost --------------------------------------------------------------------------------


@pytest.mark.usefixtures("rounds")
def test_a_page_of_a_long_window_costs_the_queries_of_a_short_one(
    client: Client, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    # One round a page: every page reads from each of the six tables.
    monkeypatch.setattr(compare_page, "COMPARE_PAGE_CHANGES", 5)
    with django_assert_num_queries(COMPARE_QUERIES):
        short = client.get(ONE_ROUND)
    assert "5 changes between 3 February 2024 and 3 February 2024" in page_text(short)
    assert len(window_changes("2024-01-31", "2024-12-31")) == 5 * ROUNDS
    with django_assert_num_queries(COMPARE_QUERIES):
        first = client.get(ROUNDS_WINDOW)
    assert "These are the first 5 changes" in page_text(first)
    with django_assert_num_queries(COMPARE_QUERIES):
        middle = client.get(link_to(first, "Later changes"))
    with django_assert_num_queries(COMPARE_QUERIES):
        back = client.get(link_to(middle, "Earlier changes"))
    assert listed(back) == listed(first)
    url = link(middle, "Later changes")
    while url is not None:
        with django_assert_num_queries(COMPARE_QUERIES):
            last = client.get(url)
        url = link(last, "Later changes")
    assert "These are the last 5 changes" in page_text(last)


def test_the_page_size_is_one_page_of_the_change_feed() -> None:
    # The page links its changes as one page of the feed, which serves at most this.
    assert 500 <= compare_page.COMPARE_PAGE_CHANGES <= MAX_PAGE_SIZE


# --- One cursor for the page and the feed ------------------------------------------------


@pytest.mark.usefixtures("rounds")
def test_the_page_and_the_change_feed_read_the_same_cursors(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two rounds a page, one change listed per kind: every section links the rest.
    monkeypatch.setattr(compare_page, "COMPARE_PAGE_CHANGES", 6)
    monkeypatch.setattr(compare_page, "COMPARE_SECTION_CHANGES", 1)
    first = client.get(ROUNDS_WINDOW)
    middle = client.get(link_to(first, "Later changes"))
    assert "And 1 more on this page, not listed here" in page_text(middle)
    feed_url = link(middle, "these 6 changes in the change feed")
    assert feed_url is not None
    assert "cursor" in parse_qs(urlsplit(feed_url).query)
    feed = client.get(feed_url).json()
    # The feed's page holds this page's changes, no more.
    assert [
        (
            datetime.datetime.fromisoformat(change["effective_at"]),
            change["history_id"],
            change["kind"],
            change["summary"],
        )
        for change in feed["results"]
    ] == [
        change_id(change) for change in window_changes("2024-01-31", "2024-12-31")[6:12]
    ]
    # The feed's next cursor opens the page after this one on the compare page.
    cursor = parse_qs(urlsplit(feed["next"]).query)["cursor"][0]
    after = client.get(f"{ROUNDS_WINDOW}&{urlencode({'cursor': cursor})}")
    assert after.status_code == HTTPStatus.OK
    assert listed(after) == listed(client.get(link_to(middle, "Later changes")))


def test_the_cursor_codec_keeps_the_salt_of_the_cursors_already_issued() -> None:
    key = ChangeKey(at("2022-01-01"), 7, 1, 2)
    issued = signing.Signer(salt="api.changes.cursor").sign_object(
        ["before", key.effective_at.isoformat(), 7, 1, 2]
    )
    assert read_change_cursor(issued) == ("before", key)
    assert read_change_cursor(change_cursor("after", key)) == ("after", key)
    with pytest.raises(InvalidChangeCursor) as refused:
        read_change_cursor(issued[:-2])
    assert refused.value.text == issued[:-2]


# --- Bad cursors, echoed input, the page date ------------------------------------------


def tampered(cursor: str) -> str:
    payload, signature = cursor.rsplit(":", 1)
    position = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    moved = position.replace(b'"after"', b'"before"')
    assert moved != position
    return base64.urlsafe_b64encode(moved).decode().rstrip("=") + ":" + signature


@pytest.mark.parametrize(
    "make_bad",
    [
        pytest.param(lambda good: "", id="empty"),
        pytest.param(lambda good: "W10:abc", id="made-up"),
        pytest.param(
            lambda good: (
                base64.urlsafe_b64encode(b'["after","2022-01-01T12:00:00+00:00",1,0,0]')
                .decode()
                .rstrip("=")
            ),
            id="unsigned",
        ),
        pytest.param(lambda good: good[:-3], id="cut"),
        pytest.param(lambda good: good + "x", id="lengthened"),
        pytest.param(tampered, id="tampered"),
    ],
)
def test_a_bad_cursor_is_a_400_page_saying_what_to_do(
    client: Client, scripted_history: ScriptedHistory, small_pages: int, make_bad: Any
) -> None:
    good = cursor_of(link(client.get(WHOLE), "Later changes"))
    response = client.get(
        "/compare/",
        {"from": "2019-12-31", "to": "2024-12-31", "cursor": make_bad(good)},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    text = page_text(response)
    assert (
        "The link you followed points to no place in the list of changes: it was "
        "changed, cut short or not made by this site." in text
    )
    assert "Changes between" not in text and "These are the" not in text
    assert (
        link(response, "Show the first changes between these dates")
        == "/compare/?from=2019-12-31&to=2024-12-31"
    )


@pytest.mark.usefixtures("rounds")
@pytest.mark.parametrize(
    ("window", "first_day"),
    [
        # The cursor lies in 2024, after this window's end.
        ("from=2019-12-31&to=2021-12-31", "1 January 2020"),
        # The cursor lies in 2024, before this window's start.
        # "from" is a whole day: its changes open the window.
        ("from=2024-02-05&to=2024-12-31", "5 February 2024"),
    ],
)
def test_a_cursor_outside_the_window_starts_the_window_again_and_says_so(
    client: Client, small_pages: int, window: str, first_day: str
) -> None:
    page = client.get(ROUNDS_WINDOW)
    page = client.get(link_to(page, "Later changes"))  # 2 February 2024
    cursor = cursor_of(link(page, "Later changes"))
    response = client.get(f"/compare/?{window}&{urlencode({'cursor': cursor})}")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert (
        "The link you followed belongs to other dates, so this page starts again "
        "from the first changes between these." in text
    )
    assert f"These are the first 3 changes, all on {first_day}" in text
    assert listed(response) == listed(client.get(f"/compare/?{window}"))


def test_links_carry_the_dates_and_the_page_date(
    client: Client, scripted_history: ScriptedHistory, small_pages: int
) -> None:
    # Without "to", the window ends on the page date.
    response = client.get("/compare/?from=2019-12-31&as_of=2022-12-31")
    later = link_to(response, "Later changes")
    assert later.startswith("/compare/?from=2019-12-31&as_of=2022-12-31&cursor=")
    following = client.get(later)
    assert following.status_code == HTTPStatus.OK
    text = page_text(following)
    assert "Past view" in text
    assert "Changes between 31 December 2019 and 31 December 2022" in text
    earlier = link_to(following, "Earlier changes")
    assert earlier.startswith("/compare/?from=2019-12-31&as_of=2022-12-31&cursor=")
    # With "to", both dates are carried as given.
    response = client.get("/compare/?from=2019-12-31&to=2022-12-31&as_of=2023-06-01")
    assert link_to(response, "Later changes").startswith(
        "/compare/?from=2019-12-31&to=2022-12-31&as_of=2023-06-01&cursor="
    )


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2019-12-31", "cursor": '"><script>alert(1)</script>'},
        {"from": "<script>alert(1)</script>", "cursor": "x"},
        {"from": "2019-12-31", "as_of": '"><script>alert(1)</script>', "cursor": "x"},
    ],
)
def test_whatever_the_page_echoes_is_escaped(
    client: Client, scripted_history: ScriptedHistory, query: dict[str, str]
) -> None:
    response = client.get("/compare/", query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    markup = response.content.decode()
    assert "<script>alert(1)</script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup

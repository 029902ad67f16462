"""Corrections of the past in the API's change feed, its Atom views, the compare page
and the history pages (issue 14, "show corrections")."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import UnitFactory, editor_user, write_correction
from tests.selectors.test_correction_reads import APR, MAR, scripted_unit
from units import services

pytestmark = pytest.mark.django_db

API = "/api/v1/"
ATOM = "{http://www.w3.org/2005/Atom}"


def _unit_results(body: dict) -> list[tuple[str, str, dict | None]]:
    return [
        (entry["effective_at"][:10], entry["kind"], entry["correction"])
        for entry in body["results"]
        if entry["object"]["type"] == "unit"
    ]


def test_the_feed_marks_a_correction_at_its_effective_time(client) -> None:
    _unit, _before, recorded = scripted_unit()
    response = client.get(f"{API}changes/")
    assert response.status_code == HTTPStatus.OK
    results = _unit_results(response.json())
    assert [(day, kind) for day, kind, _ in results] == [
        ("2024-01-01", "added"),
        ("2024-03-01", "renamed"),
        ("2024-04-01", "mandate_changed"),
        ("2024-05-01", "renamed"),
    ]
    correction = results[1][2]
    assert correction is not None
    assert correction["previous"] == {"name": "Finance"}
    assert correction["previous_display"] == {"name": "Finance"}
    assert correction["corrected_on"] == correction["recorded_at"]
    assert correction["corrected_on"].startswith(recorded.date().isoformat())
    assert [item[2] for item in results if item[1] != "renamed"] == [None, None]


def test_recorded_since_reads_what_was_learned_whatever_the_effective_time(
    client,
) -> None:
    _unit, before, recorded = scripted_unit()
    response = client.get(
        f"{API}changes/", {"recorded_since": before.isoformat(), "limit": 1}
    )
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [(day, kind) for day, kind, _ in _unit_results(body)] == [
        ("2024-03-01", "renamed")
    ]
    # Paging on by cursor keeps the window: nothing else was learned.
    seen = _unit_results(body)
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += _unit_results(body)
    assert len(seen) == 1
    until = client.get(f"{API}changes/", {"recorded_until": before.isoformat()})
    assert [kind for _, kind, _ in _unit_results(until.json())] == [
        "added",
        "mandate_changed",
        "renamed",
    ]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"recorded_since": "June"}, "recorded_since"),
        ({"recorded_until": "2024-13-01"}, "recorded_until"),
        (
            {"recorded_since": "2024-06-03", "recorded_until": "2024-06-01"},
            "recorded_until must not be earlier than recorded_since",
        ),
    ],
)
def test_a_bad_recorded_window_is_a_clear_400(client, query, named) -> None:
    for path in ("changes/", "changes.atom", "changes.recorded.atom"):
        response = client.get(f"{API}{path}", query)
        assert response.status_code == HTTPStatus.BAD_REQUEST, path
        assert named in response.content.decode()


def _atom_titles(response) -> list[str]:
    feed = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    return [entry.findtext(f"{ATOM}title") or "" for entry in feed.iter(f"{ATOM}entry")]


def test_atom_by_effective_time_and_by_recorded_time(client) -> None:
    scripted_unit()
    effective = client.get(f"{API}changes.atom")
    assert effective.status_code == HTTPStatus.OK
    titles = _atom_titles(effective)
    corrected = [title for title in titles if "correction recorded on" in title]
    assert len(corrected) == 1
    assert "name was Finance" in corrected[0]
    feed = ElementTree.fromstring(effective.content)  # noqa: S314
    related = [
        link.get("href") or ""
        for link in feed.findall(f"{ATOM}link")
        if link.get("rel") == "related"
    ]
    assert related and related[0].endswith("/api/v1/changes.recorded.atom")
    recorded = client.get(related[0])
    assert recorded.status_code == HTTPStatus.OK
    assert recorded["ETag"] != effective["ETag"]
    # Newest recorded first: the correction, recorded last, leads; April's row that
    # carried it forward is no entry of its own (what it records was learned before).
    recorded_titles = _atom_titles(recorded)
    assert "correction recorded on" in recorded_titles[0]
    assert not any("mandate" in title.lower() for title in recorded_titles)
    assert len(recorded_titles) == len(titles) - 1


def test_compare_two_known_at_instants_for_one_as_of_date(client) -> None:
    _unit, before, recorded = scripted_unit()
    query = {
        "as_of": "2024-03-15",
        "known_from": before.isoformat(),
        "known_to": (recorded + datetime.timedelta(seconds=1)).isoformat(),
    }
    response = client.get("/compare/", query)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "1 correction about" in page
    assert "Budget office" in page
    assert "name was Finance" in page
    # Known at the same instant twice: nothing was corrected.
    same = client.get("/compare/", {**query, "known_to": query["known_from"]})
    assert "Nothing about that date was corrected" in same.content.decode()
    # As of a date the correction does not reach (before March): nothing either.
    early = client.get("/compare/", {**query, "as_of": "2024-02-01"})
    assert "Nothing about that date was corrected" in early.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"known_from": ""},
        {"known_from": "June"},
        {"known_from": "2024-06-02", "known_to": "2024-06-01"},
        {"known_to": "2024-06-01"},
    ],
)
def test_compare_refuses_bad_known_instants(client, query) -> None:
    response = client.get("/compare/", query)
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_the_unit_page_and_object_history_mark_the_correction(client) -> None:
    unit, _before, _recorded = scripted_unit()
    page = client.get(f"/units/{unit.slug}/").content.decode()
    assert "corrected on" in page
    assert "was Finance" in page
    history = client.get(f"{API}units/{unit.slug}/history/")
    assert history.status_code == HTTPStatus.OK
    body = history.json()
    versions = body["results"] if isinstance(body, dict) else body
    march = next(v for v in versions if v["effective_at"].startswith("2024-03-01"))
    assert march["corrected_on"] is not None
    (change,) = march["changes"]
    assert change["was_display"] == "Finance"
    assert [v["effective_at"][:10] for v in versions] == [
        "2024-05-01",
        "2024-04-01",
        "2024-03-01",
        "2024-01-01",
    ]


def _atom_ids(response) -> dict[str, str]:
    feed = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    return {
        entry.findtext(f"{ATOM}title") or "": entry.findtext(f"{ATOM}id") or ""
        for entry in feed.iter(f"{ATOM}entry")
    }


def test_a_change_carried_forward_keeps_its_atom_id(client) -> None:
    """Feed readers must not see April's change as new when a correction restates
    the revision that made it."""

    unit = UnitFactory.create(name="Finance", mandate="Counts.", effective_at=MAR)
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="New mandate",
        effective_at=APR,
        mandate="Counts and pays.",
    )
    before = _atom_ids(client.get(f"{API}changes.atom"))
    write_correction(
        unit, MAR + datetime.timedelta(days=3), timezone.now(), name="Budget office"
    )
    after = _atom_ids(client.get(f"{API}changes.atom"))
    (mandate_before,) = [i for t, i in before.items() if "Mandate" in t]
    (mandate_after,) = [i for t, i in after.items() if "Mandate" in t]
    assert mandate_before == mandate_after
    assert len(after) == len(before) + 1


def test_an_api_page_costs_the_same_however_many_corrections(
    client, django_assert_num_queries
) -> None:

    _unit, _before, recorded = scripted_unit()
    with CaptureQueriesContext(connection) as first:
        assert client.get(f"{API}changes/").status_code == HTTPStatus.OK
    for number in range(4):
        other = UnitFactory.create(name=f"Audit {number}", effective_at=MAR)
        write_correction(other, APR, recorded, name=f"Internal audit {number}")

    cache.clear()
    with django_assert_num_queries(len(first)):
        assert client.get(f"{API}changes/").status_code == HTTPStatus.OK

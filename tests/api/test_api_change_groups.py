"""The change feed as JSON and Atom: a reorganization's changes as one entry, its
reason and author as the audience rule allows, pages that keep it whole, the ``type``
and ``unit`` filters and their refusals, and a cost that does not grow with groups."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.conftest import ReorganizedHistory, change_unit
from tests.factories import (
    applied_reorganization,
    doomed_reorganization,
    fail_when_due,
    failed_reorganization,
)
from units import services
from units.roles import AUDITORS
from units.selectors import changes_between

pytestmark = pytest.mark.django_db
API = "/api/v1/"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def auditor_client(db: None) -> Client:
    user = User.objects.create_user(username="auditor", password="auditor-pass-123")
    user.groups.add(Group.objects.get(name=AUDITORS))
    client = Client()
    client.force_login(user)
    return client


def feed(client: Client, history: ReorganizedHistory, **query: str) -> Any:
    response = client.get(
        f"{API}changes/", {"since": history.since.isoformat(), **query}
    )
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    return response.json()


def groups(results: list[dict]) -> list[dict]:
    return [entry for entry in results if "reorganization" in entry]


def test_the_feed_gathers_a_reorganizations_changes_in_one_entry(
    client: Client, reorganized_history: ReorganizedHistory
) -> None:
    history = reorganized_history
    results = feed(client, history)["results"]

    public = groups(results)[0]
    assert set(public) == {"reorganization", "effective_at", "changes"}
    heading = public["reorganization"]
    assert heading["id"] == history.public.pk
    assert heading["title"] == "Move five units"
    assert heading["reference"] == "DG bulletin 2026/14"
    assert heading["reason"] == "Bulletin on Rome"
    assert heading["reason_visibility"] == "public"
    assert heading["status"] == "applied"
    assert heading["url"] == (
        f"http://testserver{API}reorganizations/{history.public.pk}/"
    )
    assert client.get(heading["url"]).status_code == HTTPStatus.OK
    assert public["effective_at"] == heading["effective_at"]
    assert [change["object"]["slug"] for change in public["changes"]] == [
        f"u{number}" for number in range(2, 7)
    ]
    assert {change["kind"] for change in public["changes"]} == {"location_changed"}
    # Changes made outside any reorganization stay as they were.
    singles = [entry for entry in results if "reorganization" not in entry]
    assert {"kind", "object", "summary", "reason"} <= set(singles[0])
    # Every change of the window, each in one entry, in feed order.
    every = changes_between(history.since, timezone.now())
    assert flattened([{"results": results}]) == [
        (change.history_id, change.kind) for change in every
    ]
    assert [g["reorganization"]["title"] for g in groups(results)] == [
        "Move five units",
        "Rename one",
        "To Lisbon",
    ]


def test_internal_reasons_and_authors_of_reorganizations_are_for_staff(
    client: Client, auditor_client: Client, reorganized_history: ReorganizedHistory
) -> None:
    history = reorganized_history
    public_view = groups(feed(client, history)["results"])
    internal = public_view[1]
    assert internal["reorganization"]["reason"] is None
    assert internal["reorganization"]["reason_visibility"] == "internal"
    assert all(g["reorganization"]["author"] is None for g in public_view)
    assert [c["reason"] for c in internal["changes"]] == [None]
    assert "Secret bulletin" not in str(public_view)

    staff_view = groups(feed(auditor_client, history)["results"])
    assert staff_view[1]["reorganization"]["reason"] == "Secret bulletin"
    assert {g["reorganization"]["author"] for g in staff_view} == {"editor"}


def follow(client: Client, first: dict) -> list[dict]:
    pages = [first]
    while pages[-1]["next"]:
        response = client.get(pages[-1]["next"])
        assert response.status_code == HTTPStatus.OK
        pages.append(response.json())
    return pages


def flattened(pages: list[dict]) -> list[tuple[int, str]]:
    return [
        (change["history_id"], change["kind"])
        for page in pages
        for entry in page["results"]
        for change in entry.get("changes", [entry])
    ]


@pytest.mark.parametrize("limit", ["3", "6", "7"])
def test_following_next_reads_every_change_once_and_groups_whole_when_they_fit(
    client: Client, reorganized_history: ReorganizedHistory, limit: str
) -> None:
    history = reorganized_history
    whole = feed(client, history, limit="1000")
    pages = follow(client, feed(client, history, limit=limit))
    assert flattened(pages) == flattened([whole])
    seen: dict[int, int] = {}
    for page in pages:
        for group in groups(page["results"]):
            seen[group["reorganization"]["id"]] = (
                seen.get(group["reorganization"]["id"], 0) + 1
            )
    if int(limit) >= 5:
        assert set(seen.values()) == {1}
    else:
        # Five changes do not fit a page of three: the entry goes on, same id.
        assert seen[history.public.pk] == 2
    # Reading back from the last page gives the same changes.
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(client.get(back[-1]["previous"]).json())
    assert flattened(back[::-1]) == flattened([whole])


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        (
            {"type": "department"},
            "type",
            "“department” is not one of: unit, appointment, relationship, post, "
            "person, lineage, reorganization.",
        ),
        (
            {"unit": "atlantis"},
            "unit",
            "No organizational unit has the slug “atlantis”.",
        ),
        (
            {"unit_posts": "perhaps"},
            "unit_posts",
            "“perhaps” is not a boolean; use true or false.",
        ),
    ],
)
def test_a_bad_filter_is_a_400_naming_it_on_json_and_atom(
    client: Client,
    reorganized_history: ReorganizedHistory,
    query: dict[str, str],
    parameter: str,
    message: str,
) -> None:
    response = client.get(f"{API}changes/", query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {parameter: message}
    atom = client.get(f"{API}changes.atom", query)
    assert atom.status_code == HTTPStatus.BAD_REQUEST
    assert atom.content.decode() == f"{parameter}: {message}"


def test_the_filters_keep_what_they_name(
    client: Client, reorganized_history: ReorganizedHistory
) -> None:
    history = reorganized_history
    only_reorganizations = feed(client, history, type="reorganization")["results"]
    assert only_reorganizations == groups(only_reorganizations)
    assert len(only_reorganizations) == 3
    posts = feed(client, history, type="post")["results"]
    assert {entry["object"]["type"] for entry in posts} == {"post"}
    u1 = feed(client, history, unit="u1")["results"]
    kinds = [c["kind"] for e in u1 for c in e.get("changes", [e])]
    assert kinds == ["added", "location_changed", "renamed"]
    with_posts = feed(client, history, unit="u1", unit_posts="true")["results"]
    types = {c["object"]["type"] for e in with_posts for c in e.get("changes", [e])}
    assert types == {"unit", "post"}
    # The links keep the filter.
    first = feed(client, history, type="unit", limit="2")
    assert "type=unit" in first["next"]
    second = client.get(first["next"]).json()
    assert {e["object"]["type"] for e in second["results"]} == {"unit"}
    # Each filter keys its own cached answer.
    assert feed(client, history, type="unit")["results"] != posts


def atom_entries(client: Client, **query: str) -> list[Any]:
    response = client.get(f"{API}changes.atom", query)
    assert response.status_code == HTTPStatus.OK
    feed_element = ElementTree.fromstring(response.content)  # noqa: S314 - ours
    return list(feed_element.iter(f"{ATOM}entry"))


def text(entry: Any, name: str) -> str:
    element = entry.find(f"{ATOM}{name}")
    return "" if element is None else (element.text or "")


def test_atom_has_one_entry_per_reorganization_with_its_changes(
    client: Client, auditor_client: Client, reorganized_history: ReorganizedHistory
) -> None:
    history = reorganized_history
    entries = atom_entries(client)
    by_id = {text(entry, "id"): entry for entry in entries}
    public = by_id[f"orgregistry:reorganization:{history.public.pk}"]
    assert (
        text(public, "title") == "Reorganization: Move five units (DG bulletin 2026/14)"
    )
    summary = text(public, "summary")
    assert "Reason: Bulletin on Rome" in summary
    assert summary.count("<li>") == 5
    link = public.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href").endswith(f"{API}reorganizations/{history.public.pk}/")
    internal = by_id[f"orgregistry:reorganization:{history.internal.pk}"]
    assert text(internal, "title") == "Reorganization: Rename one"
    assert "reason not public" in text(internal, "summary")
    assert all(entry.find(f"{ATOM}author") is None for entry in entries)
    assert b"Secret bulletin" not in client.get(f"{API}changes.atom").content
    # Newest first; the single changes stay entries of their own.
    assert text(entries[0], "id") == f"orgregistry:reorganization:{history.later.pk}"
    assert any(text(entry, "id").startswith("orgregistry:change:") for entry in entries)

    staff = {text(e, "id"): e for e in atom_entries(auditor_client)}
    staff_internal = staff[f"orgregistry:reorganization:{history.internal.pk}"]
    assert "Secret bulletin (internal)" in text(staff_internal, "summary")
    assert text(staff_internal.find(f"{ATOM}author"), "name") == "editor"
    # Filtered, as the JSON feed.
    only = atom_entries(client, type="reorganization")
    assert [text(e, "id").split(":")[1] for e in only] == ["reorganization"] * 3


def page_queries(
    client: Client, history: ReorganizedHistory, assert_queries: Any
) -> int:
    cache.clear()
    with assert_queries as queries:
        feed(client, history)
    return len(queries.captured_queries)


def test_a_page_costs_the_same_however_many_groups_and_changes_each_holds(
    client: Client,
    reorganized_history: ReorganizedHistory,
    editor: User,
    approver: User,
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    history = reorganized_history
    before = page_queries(client, history, django_assert_max_num_queries(100))
    # Two more reorganizations, one of many changes, and more single changes.
    for number in range(7, 12):
        services.unit_create(
            user=editor,
            reason="More",
            name=f"Unit {number}",
            slug=f"u{number}",
            kind="unit",
            parent=history.units["office"],
        )
    applied_reorganization(
        [change_unit(f"u{number}", location="Oslo") for number in range(1, 12)],
        author=editor,
        approver=approver,
        title="Oslo",
    )
    applied_reorganization(
        [change_unit("u3", mandate="Data.")],
        author=editor,
        approver=approver,
        title="Data",
    )
    assert timezone.now() > history.since
    results = feed(client, history)["results"]
    assert len(groups(results)) == 5
    assert max(len(g["changes"]) for g in groups(results)) == 11
    cache.clear()
    with django_assert_num_queries(before):
        feed(client, history)
    for query in ({"type": "reorganization"}, {"unit": "u2"}):
        cache.clear()
        with django_assert_max_num_queries(before + 1):
            feed(client, history, **query)


# --- Failed reorganizations: to editors and auditors, never to the public ---------------


@pytest.fixture
def failed(
    reorganized_history: ReorganizedHistory, editor: User, approver: User
) -> Any:
    return failed_reorganization(
        reorganized_history.units["u3"], author=editor, approver=approver
    )


def until_after(reorganization: Any) -> str:
    return (reorganization.effective_at + datetime.timedelta(days=1)).isoformat()


def test_a_failed_reorganization_is_listed_with_its_reasons_to_staff_only(
    client: Client,
    auditor_client: Client,
    reorganized_history: ReorganizedHistory,
    failed: Any,
) -> None:
    history = reorganized_history
    until = until_after(failed)
    public = feed(client, history, until=until)["results"]
    assert failed.pk not in {g["reorganization"]["id"] for g in groups(public)}
    assert "Oslo" not in str(public)

    staff = feed(auditor_client, history, until=until)["results"]
    entry = staff[-1]
    assert entry["reorganization"]["id"] == failed.pk
    assert entry["reorganization"]["status"] == "failed"
    assert entry["reorganization"]["title"] == "Doomed"
    assert entry["changes"] == []
    [problem] = entry["reorganization"]["problems"]
    assert problem["operation"] == 0
    assert "abolished" in problem["message"]
    # Applied ones have none; the public never reads any.
    assert all(g["reorganization"]["problems"] == [] for g in groups(public))
    # Kept by type=reorganization, left out by type=unit and unit.
    only = feed(auditor_client, history, until=until, type="reorganization")
    assert only["results"][-1]["reorganization"]["id"] == failed.pk
    for query in ({"type": "unit"}, {"unit": "u3"}):
        kept = feed(auditor_client, history, until=until, **query)["results"]
        assert failed.pk not in {g["reorganization"]["id"] for g in groups(kept)}


@pytest.mark.parametrize("limit", ["1", "2", "4", "50"])
def test_pages_read_either_way_list_a_failed_reorganization_once(
    auditor_client: Client,
    reorganized_history: ReorganizedHistory,
    failed: Any,
    limit: str,
) -> None:
    history = reorganized_history
    until = until_after(failed)
    pages = follow(
        auditor_client, feed(auditor_client, history, until=until, limit=limit)
    )
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(auditor_client.get(back[-1]["previous"]).json())
    for read in (pages, back):
        ids = [
            g["reorganization"]["id"]
            for page in read
            for g in groups(page["results"])
            if g["reorganization"]["status"] == "failed"
        ]
        assert ids == [failed.pk]


def test_atom_lists_a_failed_reorganization_to_staff_only(
    client: Client,
    auditor_client: Client,
    reorganized_history: ReorganizedHistory,
    failed: Any,
) -> None:
    until = until_after(failed)
    public = atom_entries(client, until=until)
    assert f"orgregistry:reorganization:{failed.pk}" not in [
        text(e, "id") for e in public
    ]
    staff = {text(e, "id"): e for e in atom_entries(auditor_client, until=until)}
    entry = staff[f"orgregistry:reorganization:{failed.pk}"]
    assert text(entry, "title") == "Reorganization failed: Doomed"
    assert "Operation 1:" in text(entry, "summary")
    assert "abolished" in text(entry, "summary")


def test_a_reorganization_failing_refreshes_the_staff_feed_it_joins(
    auditor_client: Client,
    reorganized_history: ReorganizedHistory,
    editor: User,
    approver: User,
) -> None:
    history = reorganized_history
    until = (timezone.now() + datetime.timedelta(days=2)).isoformat()
    doomed = doomed_reorganization(
        history.units["u3"], author=editor, approver=approver
    )
    before = auditor_client.get(f"{API}changes/", {"until": until})
    assert before.status_code == HTTPStatus.OK
    failed = fail_when_due(doomed)
    assert failed.status == "failed"
    # Not a cached page from before: the failure changed what staff read.
    after = auditor_client.get(
        f"{API}changes/", {"until": until}, HTTP_IF_NONE_MATCH=before["ETag"]
    )
    assert after.status_code == HTTPStatus.OK
    assert after["ETag"] != before["ETag"]
    assert groups(after.json()["results"])[-1]["reorganization"]["id"] == failed.pk

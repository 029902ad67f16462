"""``known_at`` on every read: what the registry had recorded by an instant.

The history below is written through the services, then its ``recorded_at`` is set
back (and one correction row is written straight into history, as the corrections
helper's path will), so that "what was known on R" differs from now:

- 2024-01-02: Finance (effective 2024-01-01) and Legal under it are recorded; a head
  post in Finance, its holder Ann Example;
- 2024-06-15: the rename of Finance to Treasury, effective 2024-03-01, is recorded;
- 2024-09-01: a correction: the rename of 2024-03-01 was to "Finance Office";
- now: Audit is created (recorded now).
"""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from orgregistry.known_at import KNOWN_AT_HEADER
from tests.conftest import at
from units import selectors, services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    UnitKind,
)

API = "/api/v1/"
CREATED = at("2024-01-02")
RENAME_RECORDED = at("2024-06-15")
CORRECTED = at("2024-09-01")
BEFORE_RENAME = "2024-05-01"  # known_at: the rename not yet recorded
AFTER_RENAME = "2024-07-01"  # known_at: the rename recorded, not its correction


def _backdate(model: Any, recorded_at: datetime.datetime, **condition: Any) -> None:
    model.history.model.objects.filter(**condition).update(recorded_at=recorded_at)


def _correct_name(
    unit: OrganizationalUnit, name: str, recorded: datetime.datetime
) -> None:
    """A correction as the design writes one: a new row at the corrected revision's
    effective time, recorded later, pointing at it; the live row takes the name."""
    history = OrganizationalUnit.history.model
    corrected = history.objects.filter(id=unit.pk).order_by("-history_id").first()
    assert corrected is not None
    values = {
        field.attname: getattr(corrected, field.attname)
        for field in history._meta.concrete_fields
        if field.attname != "history_id"
    }
    values.update(
        name=name, recorded_at=recorded, corrects_revision=corrected.history_id
    )
    history.objects.create(**values)
    OrganizationalUnit.objects.filter(pk=unit.pk).update(name=name)


@pytest.fixture
def known(db: None, editor: Any) -> dict[str, Any]:
    finance = services.unit_create(
        user=editor,
        reason="Set up",
        name="Finance",
        kind=UnitKind.DEPARTMENT,
        effective_at=at("2024-01-01"),
    )
    legal = services.unit_create(
        user=editor,
        reason="Set up",
        name="Legal",
        kind=UnitKind.UNIT,
        parent=finance,
        effective_at=at("2024-01-01"),
    )
    post = services.post_create(
        user=editor,
        reason="Set up",
        unit=finance,
        title="Director",
        is_head=True,
        effective_at=at("2024-01-01"),
    )
    person = services.person_create(
        user=editor,
        reason="Set up",
        full_name="Ann Example",
        effective_at=at("2024-01-01"),
    )
    services.appointment_start(
        user=editor,
        reason="Set up",
        post=post,
        person=person,
        started_on=datetime.date(2024, 1, 1),
        effective_at=at("2024-01-01"),
    )
    for model in (OrganizationalUnit, Post, Person, Appointment):
        _backdate(model, CREATED)
    services.unit_update(
        unit=finance,
        user=editor,
        reason="Renamed",
        name="Treasury",
        effective_at=at("2024-03-01"),
    )
    _backdate(OrganizationalUnit, RENAME_RECORDED, id=finance.pk, name="Treasury")
    _correct_name(finance, "Finance Office", CORRECTED)
    audit = services.unit_create(
        user=editor, reason="New", name="Audit", kind=UnitKind.UNIT
    )
    cache.clear()
    return {"finance": finance, "legal": legal, "audit": audit, "post": post}


def names(roots: list[selectors.UnitNode]) -> list[str]:
    return sorted(node.name for root in roots for node in root.walk())


def known_at(day: str) -> datetime.datetime:
    return selectors.parse_instant(day)


# --- Selectors ----------------------------------------------------------------------


def test_the_tree_now_as_known_then(known: dict[str, Any]) -> None:
    assert names(selectors.unit_tree()) == ["Audit", "Finance Office", "Legal"]
    with selectors.reading_as_known_at(known_at(BEFORE_RENAME)):
        assert names(selectors.unit_tree_as_of(selectors.LATEST)) == [
            "Finance",
            "Legal",
        ]
        top = selectors.unit_tree_top(max_units=100)
        assert names(top.roots) == ["Finance", "Legal"]
    with selectors.reading_as_known_at(known_at(AFTER_RENAME)):
        assert names(selectors.unit_tree_top(max_units=100).roots) == [
            "Legal",
            "Treasury",
        ]


def test_as_of_and_known_at_together(known: dict[str, Any]) -> None:
    march = selectors.parse_instant("2024-03-15")
    february = selectors.parse_instant("2024-02-01")
    expected = {
        (BEFORE_RENAME, march): "Finance",
        (AFTER_RENAME, march): "Treasury",
        ("2024-10-01", march): "Finance Office",
        (AFTER_RENAME, february): "Finance",
    }
    for (recorded, effective), name in expected.items():
        with selectors.reading_as_known_at(known_at(recorded)):
            unit = selectors.unit_as_of(known["finance"].slug, effective)
        assert unit is not None and unit.name == name, (recorded, effective)


def test_unit_detail_list_and_search_as_known_then(known: dict[str, Any]) -> None:
    finance, audit = known["finance"], known["audit"]
    with selectors.reading_as_known_at(known_at(AFTER_RENAME)):
        unit = selectors.unit_as_of(finance.slug)
        assert unit is not None and unit.name == "Treasury"
        assert unit.head is not None and unit.head.holder is not None
        assert unit.head.holder.person_name == "Ann Example"
        assert selectors.unit_as_of(audit.slug) is None
        family = selectors.unit_family(known["legal"].slug)
        assert family is not None
        assert [node.name for node in family.ancestors] == ["Treasury"]
        listed = selectors.unit_list(None)
        assert sorted(node.name for node in listed.units) == ["Legal", "Treasury"]
        hits, count = selectors.search_units("treasury", None, limit=10)
        assert count == 1 and hits[0].node.name == "Treasury"
        assert selectors.search_units("office", None, limit=10)[1] == 0
    hits, count = selectors.search_units("office", None, limit=10)
    assert count == 1


def test_histories_and_feed_keep_what_was_recorded_then(known: dict[str, Any]) -> None:
    finance = known["finance"]
    with selectors.reading_as_known_at(known_at(BEFORE_RENAME)):
        assert len(selectors.unit_history(finance.pk)) == 1
        feed = selectors.changes_page(
            selectors.parse_instant("2023-12-31"), selectors.LATEST, limit=50
        )
    # Known now: the correction replaces the rename it corrects, at the rename's own
    # time, and says what it replaced.
    history = selectors.unit_history(finance.pk)
    assert len(history) == 2
    corrected = next(revision for revision in history if revision.corrections)
    assert [change.was_display for change in corrected.corrections] == ["Treasury"]
    everything = selectors.changes_page(
        selectors.parse_instant("2023-12-31"), selectors.LATEST, limit=50
    )
    assert len(feed.changes) < len(everything.changes)
    assert not any(change.unit_slug == known["audit"].slug for change in feed.changes)


# --- API ----------------------------------------------------------------------------


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def tree_names(data: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        found.append(node["name"])
        for child in node["children"]:
            walk(child)

    for root in data:
        walk(root)
    return sorted(found)


def test_api_tree_and_lists_as_known_then(
    known: dict[str, Any], api: APIClient
) -> None:
    now = api.get(f"{API}tree/")
    assert tree_names(now.json()) == ["Audit", "Finance Office", "Legal"]
    then = api.get(f"{API}tree/?known_at={BEFORE_RENAME}")
    assert then.status_code == HTTPStatus.OK
    assert tree_names(then.json()) == ["Finance", "Legal"]
    assert then[KNOWN_AT_HEADER].startswith("2024-05-01T23:59:59")
    corrected = api.get(f"{API}tree/?known_at={AFTER_RENAME}&as_of=2024-03-15")
    assert tree_names(corrected.json()) == ["Legal", "Treasury"]
    units = api.get(f"{API}units/?known_at={AFTER_RENAME}").json()
    assert sorted(unit["name"] for unit in units["results"]) == ["Legal", "Treasury"]
    detail = api.get(f"{API}units/{known['finance'].slug}/?known_at={AFTER_RENAME}")
    assert detail.json()["name"] == "Treasury"
    absent = api.get(f"{API}units/{known['audit'].slug}/?known_at={AFTER_RENAME}")
    assert absent.status_code == HTTPStatus.NOT_FOUND
    branch = api.get(
        f"{API}units/{known['finance'].slug}/tree/?known_at={AFTER_RENAME}"
    )
    assert tree_names([branch.json()]) == ["Legal", "Treasury"]
    search = api.get(f"{API}search/?q=treasury&known_at={AFTER_RENAME}").json()
    assert [hit["name"] for hit in search["results"]] == ["Treasury"]


def test_api_feed_and_exports_as_known_then(
    known: dict[str, Any], api: APIClient
) -> None:
    feed = api.get(f"{API}changes/?known_at={BEFORE_RENAME}&limit=100").json()
    now = api.get(f"{API}changes/?limit=100").json()
    assert len(feed["results"]) < len(now["results"])
    assert "Treasury" not in str(feed["results"])
    csv = api.get(f"{API}export/units.csv?known_at={AFTER_RENAME}")
    assert csv.status_code == HTTPStatus.OK
    body = b"".join(csv.streaming_content) if csv.streaming else csv.content  # type: ignore[attr-defined]
    assert b"Treasury" in body and b"Audit" not in body


def test_api_refuses_a_bad_known_at(known: dict[str, Any], api: APIClient) -> None:
    malformed = api.get(f"{API}tree/?known_at=June")
    assert malformed.status_code == HTTPStatus.BAD_REQUEST
    assert malformed.json()["code"] == "invalid_instant"
    assert "known_at" in malformed.json()["detail"]
    early = api.get(f"{API}units/?known_at=2023-01-01")
    assert early.status_code == HTTPStatus.BAD_REQUEST
    assert "first record" in early.json()["detail"]


def test_a_future_known_at_is_now(known: dict[str, Any], api: APIClient) -> None:
    future = api.get(f"{API}tree/?known_at=2999-01-01")
    assert future.status_code == HTTPStatus.OK
    assert tree_names(future.json()) == ["Audit", "Finance Office", "Legal"]
    assert KNOWN_AT_HEADER not in future


def test_cache_keys_and_etags_name_known_at(
    known: dict[str, Any], api: APIClient
) -> None:
    now = api.get(f"{API}tree/")
    before = api.get(f"{API}tree/?known_at={BEFORE_RENAME}")
    after = api.get(f"{API}tree/?known_at={AFTER_RENAME}")
    assert len({now["ETag"], before["ETag"], after["ETag"]}) == 3
    again = api.get(f"{API}tree/?known_at={BEFORE_RENAME}")
    assert again["ETag"] == before["ETag"]
    assert tree_names(again.json()) == ["Finance", "Legal"]
    # An answer as known at a past instant outlives writes: nothing later enters it.
    services.unit_create(
        user=known["finance"].history.first().history_user,
        reason="Another",
        name="Payroll",
        kind=UnitKind.UNIT,
    )
    unchanged = api.get(
        f"{API}tree/?known_at={BEFORE_RENAME}", HTTP_IF_NONE_MATCH=before["ETag"]
    )
    assert unchanged.status_code == HTTPStatus.NOT_MODIFIED
    detail = api.get(f"{API}units/{known['finance'].slug}/")
    detail_then = api.get(
        f"{API}units/{known['finance'].slug}/?known_at={AFTER_RENAME}"
    )
    assert detail["ETag"] != detail_then["ETag"]


def test_known_at_reads_cost_the_same_whatever_the_size(
    known: dict[str, Any], api: APIClient, editor: Any
) -> None:
    def counted(url: str) -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == HTTPStatus.OK
        return len(queries)

    urls = [
        f"{API}tree/?known_at=2030-01-01T00:00:00Z&as_of=2024-03-15",
        f"{API}units/?known_at={AFTER_RENAME}",
        f"{API}tree/?known_at={AFTER_RENAME}",
    ]
    small = [counted(url.replace("2030-01-01T00:00:00Z", AFTER_RENAME)) for url in urls]
    for number in range(5):
        unit = services.unit_create(
            user=editor,
            reason="More",
            name=f"Desk {number}",
            kind=UnitKind.UNIT,
            parent=known["legal"],
            effective_at=at("2024-01-01"),
        )
        _backdate(OrganizationalUnit, CREATED, id=unit.pk)
    large = [counted(url.replace("2030-01-01T00:00:00Z", AFTER_RENAME)) for url in urls]
    assert small == large


# --- Pages --------------------------------------------------------------------------


def test_pages_as_known_then_with_banner_and_links(
    known: dict[str, Any], client: Any
) -> None:
    page = client.get(f"/?known_at={AFTER_RENAME}&as_of=2024-03-15")
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "Treasury" in text and "Finance Office" not in text and "Audit" not in text
    assert "as of 15 March 2024, as recorded on 1 July 2024" in text
    assert f"known_at={AFTER_RENAME}" in text
    assert 'name="known_at" value="2024-07-01"' in text
    detail = client.get(f"/units/{known['finance'].slug}/?known_at={BEFORE_RENAME}")
    assert detail.status_code == HTTPStatus.OK
    assert "Finance Office" not in detail.content.decode()
    assert (
        f"/units/{known['legal'].slug}/?known_at={BEFORE_RENAME}"
        in detail.content.decode()
    )
    search = client.get(f"/search/?q=treasury&known_at={AFTER_RENAME}")
    assert "1 result" in search.content.decode()
    now = client.get("/")
    assert "Finance Office" in now.content.decode()
    assert "as recorded on" not in now.content.decode().split("<main")[1]


def test_pages_refuse_a_bad_known_at(known: dict[str, Any], client: Any) -> None:
    page = client.get("/?known_at=soon")
    assert page.status_code == HTTPStatus.BAD_REQUEST
    text = page.content.decode()
    assert "known_at" in text and "Showing the registry as recorded today" in text
    early = client.get(f"/units/{known['finance'].slug}/?known_at=2020-01-01")
    assert early.status_code == HTTPStatus.BAD_REQUEST
    assert "first record" in early.content.decode()


def test_a_snapshot_names_its_known_at_and_verifies_against_it(
    known: dict[str, Any], api: APIClient
) -> None:
    from api.formats.snapshot_checks import read_package, registry_differences

    then = api.get(f"{API}export/snapshot.zip?as_of=2024-03-15&known_at={AFTER_RENAME}")
    assert then.status_code == HTTPStatus.OK
    package = read_package(then.content)
    assert package.descriptor["registry"]["known_at"] == "2024-07-01T23:59:59.999999Z"
    assert b"Treasury" in package.files["units.csv"]
    # Checked against the registry as recorded then, it is what the registry makes.
    assert registry_differences(package) == []
    now = read_package(api.get(f"{API}export/snapshot.zip?as_of=2024-03-15").content)
    assert "known_at" not in now.descriptor["registry"]
    assert b"Finance Office" in now.files["units.csv"]


def test_known_at_adds_no_query_to_an_as_of_read(
    known: dict[str, Any], django_assert_num_queries: Any
) -> None:
    march = selectors.parse_instant("2024-03-15")
    with CaptureQueriesContext(connection) as plain:
        selectors.unit_tree_as_of(march)
        selectors.posts_as_of(march)
        selectors.unit_family(known["legal"].slug, march)
    with (
        selectors.reading_as_known_at(known_at(AFTER_RENAME)),
        django_assert_num_queries(len(plain)),
    ):
        selectors.unit_tree_as_of(march)
        selectors.posts_as_of(march)
        selectors.unit_family(known["legal"].slug, march)


def test_listing_pages_and_chart_as_known_then(
    known: dict[str, Any], client: Any
) -> None:
    posts = client.get(f"/posts/?known_at={AFTER_RENAME}").content.decode()
    assert "Treasury" in posts and "Finance Office" not in posts
    people = client.get(f"/people/?known_at={AFTER_RENAME}").content.decode()
    assert "Ann Example" in people and "Finance Office" not in people
    assert f"known_at={AFTER_RENAME}" in people
    chart = client.get(f"/chart/?known_at={BEFORE_RENAME}")
    assert chart.status_code == HTTPStatus.OK
    text = chart.content.decode()
    assert "Finance" in text and "Treasury" not in text and "Audit" not in text
    assert 'name="known_at" value="2024-05-01"' in text

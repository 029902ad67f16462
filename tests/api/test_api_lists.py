"""Every API list follows the same conventions: q, ordering, limit/offset, as_of.

Each list searches its own sensible texts (and those of what it links, as they stood at
``as_of``), orders by the keys it documents, refuses an unknown ordering or a malformed
or oversized page with a 400 that says why, and costs a fixed number of queries.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.conftest import ScriptedHistory, at
from units import services
from units.models import OrganizationalUnit, Post, UnitRelationship

API = "/api/v1/"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def registry(editor, scripted_history: ScriptedHistory) -> ScriptedHistory:
    """The scripted history plus two more posts, a person and two relationships."""
    services.post_create(
        user=editor,
        reason="New post",
        title="Registry Clerk",
        unit=scripted_history.department_b,
        slug="registry-clerk",
        effective_at=at("2021-01-01"),
    )
    services.post_create(
        user=editor,
        reason="New post",
        title="archivist",
        unit=scripted_history.unit_y,
        slug="archivist",
        effective_at=at("2023-06-01"),
    )
    services.person_create(
        user=editor,
        reason="New person",
        full_name="Carla Zed",
        slug="carla-zed",
        effective_at=at("2023-06-01"),
    )
    services.relationship_create(
        user=editor,
        reason="Joint work",
        source=scripted_history.unit_x,
        target=scripted_history.department_b,
        kind="works_in_conjunction_with",
        description="Share the primary archive",
        effective_at=at("2020-07-01"),
    )
    services.relationship_create(
        user=editor,
        reason="Advice",
        source=scripted_history.unit_y,
        target=scripted_history.root,
        kind="advises",
        description="Advises on records",
        effective_at=at("2023-07-01"),
    )
    return scripted_history


def listed(client: APIClient, path: str, query: dict[str, Any]) -> list[Any]:
    response = client.get(f"{API}{path}", query)
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    return response.json()["results"]


def slugs(results: list[dict[str, Any]]) -> list[str]:
    return [result["slug"] for result in results]


def pairs(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    if results and "person" in results[0]:
        return [(result["person"], result["post"]) for result in results]
    return [(result["source"], result["target"]) for result in results]


# --- Search ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("posts/", {"q": "CLERK"}, ["registry-clerk"]),
        ("posts/", {"q": "of x"}, ["head-of-x"]),
        ("posts/", {"q": "clerk", "as_of": "2020-12-31"}, []),
        ("people/", {"q": "lima"}, ["ana-lima"]),
        ("people/", {"q": "zed", "as_of": "2023-01-01"}, []),
    ],
)
def test_posts_and_people_search_their_titles_and_names(
    client, registry, path, query, expected
):
    assert slugs(listed(client, path, query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "primary ARCHIVE"}, [("unit-x", "department-b")]),
        ({"q": "headquarters"}, [("unit-y", "hq")]),
        ({"q": "unit ex"}, [("unit-x", "department-b")]),
        # The name the unit had at the instant, not today's.
        ({"q": "unit ex", "as_of": "2020-12-31"}, []),
        ({"q": "unit x", "as_of": "2020-12-31"}, [("unit-x", "department-b")]),
        ({"q": "nothing like this"}, []),
    ],
)
def test_relationships_search_description_and_unit_names_as_of(
    client, registry, query, expected
):
    assert pairs(listed(client, "relationships/", query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "okoro"}, [("ben-okoro", "head-of-x")]),
        ({"q": "HEAD OF"}, [("ben-okoro", "head-of-x"), ("ana-lima", "head-of-x")]),
        ({"q": "head", "current": "true"}, [("ben-okoro", "head-of-x")]),
        ({"q": "clerk"}, []),
    ],
)
def test_appointments_search_person_names_and_post_titles(
    client, registry, query, expected
):
    assert pairs(listed(client, "appointments/", query)) == expected


def test_appointment_search_sees_names_as_they_stood(client, registry, editor):
    services.person_update(
        person=registry.ana,
        user=editor,
        reason="Name corrected",
        full_name="Ana Lima Souza",
    )
    assert pairs(listed(client, "appointments/", {"q": "souza"})) == [
        ("ana-lima", "head-of-x")
    ]
    assert listed(client, "appointments/", {"q": "souza", "as_of": "2022-01-01"}) == []


# --- Ordering -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["head-of-x", "registry-clerk", "archivist"]),
        ({"ordering": "title"}, ["archivist", "head-of-x", "registry-clerk"]),
        ({"ordering": "-title"}, ["registry-clerk", "head-of-x", "archivist"]),
        ({"ordering": "slug"}, ["archivist", "head-of-x", "registry-clerk"]),
        (
            {"ordering": "-established_on"},
            ["archivist", "registry-clerk", "head-of-x"],
        ),
        ({"ordering": "-id"}, ["archivist", "registry-clerk", "head-of-x"]),
        ({"ordering": "title", "limit": "1", "offset": "1"}, ["head-of-x"]),
    ],
)
def test_posts_order(client, registry, query, expected):
    assert slugs(listed(client, "posts/", query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["ana-lima", "ben-okoro", "carla-zed"]),
        ({"ordering": "-full_name"}, ["carla-zed", "ben-okoro", "ana-lima"]),
        ({"ordering": "-slug"}, ["carla-zed", "ben-okoro", "ana-lima"]),
        ({"ordering": "id"}, ["ana-lima", "ben-okoro", "carla-zed"]),
    ],
)
def test_people_order(client, registry, query, expected):
    assert slugs(listed(client, "people/", query)) == expected


def test_people_order_by_name_ignores_case(client, registry, editor):
    services.person_create(
        user=editor, reason="New person", full_name="bea Ruiz", slug="bea-ruiz"
    )
    assert slugs(listed(client, "people/", {"ordering": "full_name"})) == [
        "ana-lima",
        "bea-ruiz",
        "ben-okoro",
        "carla-zed",
    ]


ANA = ("ana-lima", "head-of-x")
BEN = ("ben-okoro", "head-of-x")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [BEN, ANA]),
        ({"ordering": "started_on"}, [ANA, BEN]),
        # Ben's appointment still runs, so it ends after Ana's.
        ({"ordering": "ended_on"}, [ANA, BEN]),
        ({"ordering": "-ended_on"}, [BEN, ANA]),
        ({"ordering": "-id"}, [BEN, ANA]),
    ],
)
def test_appointments_order(client, registry, query, expected):
    assert pairs(listed(client, "appointments/", query)) == expected


X_B = ("unit-x", "department-b")
Y_HQ = ("unit-y", "hq")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [X_B, Y_HQ]),
        ({"ordering": "-id"}, [Y_HQ, X_B]),
        ({"ordering": "kind"}, [Y_HQ, X_B]),
        ({"ordering": "-started_on"}, [Y_HQ, X_B]),
        ({"ordering": "ended_on"}, [X_B, Y_HQ]),
    ],
)
def test_relationships_order(client, registry, query, expected):
    assert pairs(listed(client, "relationships/", query)) == expected


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (
            "units/",
            "tree, name, slug, kind, established_on, -name, -slug, -kind, "
            "-established_on",
        ),
        (
            "posts/",
            "id, title, slug, established_on, -id, -title, -slug, -established_on",
        ),
        ("people/", "full_name, slug, id, -full_name, -slug, -id"),
        ("appointments/", "started_on, ended_on, id, -started_on, -ended_on, -id"),
        (
            "relationships/",
            "id, kind, started_on, ended_on, -id, -kind, -started_on, -ended_on",
        ),
    ],
)
@pytest.mark.parametrize("bad", ["bogus", "-", "title;drop", "--id"])
def test_an_unknown_ordering_is_a_400_naming_the_allowed_values(
    client, registry, path, allowed, bad
):
    response = client.get(f"{API}{path}", {"ordering": bad})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["ordering"] == f"“{bad}” is not one of: {allowed}."


# --- Pages ----------------------------------------------------------------------------


PAGED_LISTS = [
    "units/",
    "posts/",
    "people/",
    "appointments/",
    "relationships/",
    "units/unit-x/history/",
]


@pytest.mark.parametrize("path", PAGED_LISTS)
def test_the_largest_page_is_accepted(client, registry, path):
    response = client.get(f"{API}{path}", {"limit": "1000", "offset": "0"})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["next"] is None


@pytest.mark.parametrize("path", PAGED_LISTS)
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "1001"}, "1001 is more than the largest page, 1000; read the"),
        ({"limit": "9" * 5000}, "is more than the largest page, 1000;"),
        ({"limit": "0"}, "“0” is not a whole number from 1 to 1000."),
        ({"limit": "-5"}, "“-5” is not a whole number from 1 to 1000."),
        ({"limit": "ten"}, "“ten” is not a whole number from 1 to 1000."),
        ({"limit": "1e3"}, "“1e3” is not a whole number"),
        ({"offset": "-1"}, "“-1” is not a whole number from 0 upwards."),
        ({"offset": "2.5"}, "“2.5” is not a whole number"),
    ],
)
def test_a_bad_page_window_is_a_400_saying_why(client, registry, path, query, message):
    response = client.get(f"{API}{path}", query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    ((parameter, problem),) = response.json().items()
    assert parameter == next(iter(query))
    assert message in problem


def test_an_offset_past_the_end_is_an_empty_page(client, registry):
    body = client.get(f"{API}posts/", {"offset": "500"}).json()
    assert body["count"] == 3
    assert body["results"] == []


def test_pages_of_a_sorted_search_hold_together(client, registry):
    """next links keep q and ordering, so paging walks the same sorted list."""
    first = client.get(
        f"{API}posts/", {"q": "r", "ordering": "-title", "limit": "1"}
    ).json()
    assert first["count"] == 2
    second = client.get(first["next"]).json()
    assert slugs(first["results"] + second["results"]) == [
        "registry-clerk",
        "archivist",
    ]
    assert second["next"] is None


# --- If-Match: strong comparison ------------------------------------------------------


@pytest.fixture
def editor_client(editor) -> APIClient:
    from tests.api.test_api import EDITOR_PERMISSIONS, grant

    client = APIClient()
    client.force_login(grant(editor, *EDITOR_PERMISSIONS))
    return client


def test_a_weak_if_match_never_matches_and_changes_nothing(editor_client, registry):
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    before = list(OrganizationalUnit.objects.values_list("pk", "name", "version"))
    revisions = OrganizationalUnit.history.count()
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"name": "Unit Why", "reason": "Better name"},
        format="json",
        HTTP_IF_MATCH=f"W/{etag}",
    )
    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert f"If-Match W/{etag}: a weak ETag never matches" in response.json()["detail"]
    assert list(OrganizationalUnit.objects.values_list("pk", "name", "version")) == (
        before
    )
    assert OrganizationalUnit.history.count() == revisions


def test_a_weak_if_match_refuses_ending_a_relationship(editor_client, registry):
    relationship = UnitRelationship.objects.get(kind="advises")
    etag = editor_client.get(f"{API}relationships/{relationship.pk}/")["ETag"]
    response = editor_client.post(
        f"{API}relationships/{relationship.pk}/end/",
        {"reason": "No longer"},
        format="json",
        HTTP_IF_MATCH=f"W/{etag}",
    )
    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    relationship.refresh_from_db()
    assert relationship.ended_on is None


def test_a_strong_tag_beside_a_weak_one_still_matches(editor_client, registry):
    etag = editor_client.get(f"{API}posts/archivist/")["ETag"]
    response = editor_client.patch(
        f"{API}posts/archivist/",
        {"title": "Archivist", "reason": "Capitalised"},
        format="json",
        HTTP_IF_MATCH=f'W/"post-0-v1", {etag}',
    )
    assert response.status_code == HTTPStatus.OK
    assert Post.objects.get(slug="archivist").title == "Archivist"


def test_if_none_match_still_compares_weakly(client, registry):
    """Reads keep the weak comparison RFC 9110 prescribes for If-None-Match."""
    etag = client.get(f"{API}people/ana-lima/")["ETag"]
    assert client.get(
        f"{API}people/ana-lima/", HTTP_IF_NONE_MATCH=f"W/{etag}"
    ).status_code == (HTTPStatus.NOT_MODIFIED)


# --- Query counts ---------------------------------------------------------------------


# --- What an offset costs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        *[(path, {}) for path in PAGED_LISTS],
        ("posts/head-of-x/history/", {}),
        ("search/", {"q": "unit"}),
    ],
)
def test_a_deep_offset_costs_no_more_queries_than_the_first_page(
    client, registry, path, query
):
    """Nothing anonymous costs more for reading far into a list: every list is built
    in a fixed number of queries and sliced, so an offset adds no database work (the
    change feed, whose old offset pages computed the whole window, pages by cursor)."""
    counts = []
    for offset in ("0", "1000000"):
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{API}{path}", {**query, "offset": offset})
        assert response.status_code == HTTPStatus.OK
        assert response.json()["count"] > 0
        counts.append(len(queries))
    first_page, deep_page = counts
    assert deep_page <= first_page
    if not path.startswith(("search/", "units/")):
        # Search builds only the hits of the page, and the unit list reads only its
        # page's lineage: an empty page may cost less.
        assert deep_page == first_page

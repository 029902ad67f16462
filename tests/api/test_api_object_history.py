"""Issue 16: posts, people, appointments and relationships have a history endpoint.

Each lists the object's versions newest first with field-level changes (links to other
objects by slug), paged like a unit's history, at a number of queries that does not
grow with the number of versions.
"""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.api.test_api import EDITOR_PERMISSIONS, grant
from tests.conftest import ScriptedHistory, at
from tests.factories import RelationshipFactory
from units import services
from units.models import Appointment, UnitRelationship

API = "/api/v1/"


@pytest.fixture
def registry(scripted_history: ScriptedHistory) -> ScriptedHistory:
    RelationshipFactory(
        source=scripted_history.unit_x,
        target=scripted_history.unit_y,
        reason="Joint work",
        effective_at=at("2023-07-01"),
    )
    return scripted_history


def changes(revision: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        change["field"]: (change["old"], change["new"])
        for change in revision["changes"]
    }


def test_a_posts_history_lists_its_versions_newest_first(registry) -> None:
    services.post_update(
        post=registry.head_of_x,
        user=None,
        reason="Retitled",
        reason_visibility="public",
        effective_at=at("2023-08-01"),
        title="Head of Unit Ex",
    )

    response = APIClient().get(f"{API}posts/head-of-x/history/")

    assert response.status_code == HTTPStatus.OK
    page = response.json()
    assert page["count"] == 2
    newest, created = page["results"]
    assert (newest["type"], newest["reason"]) == ("changed", "Retitled")
    assert changes(newest) == {"title": ("Head of X", "Head of Unit Ex")}
    assert newest["effective_at"] == "2023-08-01T12:00:00Z"
    assert created["type"] == "created"
    assert changes(created)["unit"] == (None, "unit-x")
    assert changes(created)["is_head"] == (None, True)


def test_a_persons_history_shows_the_name_corrected(registry) -> None:
    services.person_update(
        person=registry.ana,
        user=None,
        reason="Typo",
        reason_visibility="public",
        full_name="Ana Lima Souza",
    )

    results = APIClient().get(f"{API}people/ana-lima/history/").json()["results"]

    assert [revision["reason"] for revision in results] == ["Typo", "New person"]
    assert changes(results[0]) == {"full_name": ("Ana Lima", "Ana Lima Souza")}


def test_an_appointments_history_names_the_person_and_post_by_slug(registry) -> None:
    appointment = Appointment.objects.get(person=registry.ana)

    results = (
        APIClient()
        .get(f"{API}appointments/{appointment.pk}/history/")
        .json()["results"]
    )

    ended, started = results
    assert changes(ended) == {"ended_on": (None, "2023-01-01")}
    assert ended["reason"] == "End of term"
    assert changes(started)["person"] == (None, "ana-lima")
    assert changes(started)["post"] == (None, "head-of-x")
    displayed = {c["field"]: c["new_display"] for c in started["changes"]}
    assert displayed["person"] == "Ana Lima"
    assert displayed["post"] == "Head of X"


def test_a_relationships_history_shows_it_ended(registry) -> None:
    relationship = UnitRelationship.objects.get()
    services.relationship_end(
        relationship=relationship,
        user=None,
        reason="Over",
        effective_at=at("2023-09-01"),
    )

    results = (
        APIClient()
        .get(f"{API}relationships/{relationship.pk}/history/")
        .json()["results"]
    )

    assert changes(results[0]) == {"ended_on": (None, "2023-09-01")}
    assert changes(results[1])["source"] == (None, "unit-x")
    assert changes(results[1])["target"] == (None, "unit-y")


def test_history_as_of_leaves_out_later_versions_and_pages(registry) -> None:
    appointment = Appointment.objects.get(person=registry.ana)
    url = f"{API}appointments/{appointment.pk}/history/"

    before_end = APIClient().get(url, {"as_of": "2022-12-31"}).json()
    first_page = APIClient().get(url, {"limit": 1}).json()

    assert [r["type"] for r in before_end["results"]] == ["created"]
    assert first_page["count"] == 2
    assert len(first_page["results"]) == 1
    assert first_page["next"].startswith("http://testserver/")
    assert "limit=1" in first_page["next"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"{API}posts/no-such-post/history/", "No post has the slug “no-such-post”."),
        (f"{API}people/nobody/history/", "No person has the slug “nobody”."),
        (f"{API}appointments/999999/history/", "No appointment has the id 999999."),
        (f"{API}relationships/999999/history/", "No relationship has the id 999999."),
        (
            f"{API}relationships/{2**63}/history/",
            f"Relationship {2**63} does not exist.",
        ),
    ],
)
def test_history_of_an_unknown_object_is_404(registry, url: str, message: str) -> None:
    response = APIClient().get(url)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["detail"] == message


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"as_of": "2023-13-01"}, None),
        ({"limit": "0"}, "limit"),
        ({"offset": "x"}, "offset"),
    ],
)
def test_history_refuses_malformed_parameters(registry, query, parameter) -> None:
    response = APIClient().get(f"{API}people/ana-lima/history/", query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    if parameter:
        assert parameter in response.json()
    else:
        assert response.json()["code"] == "invalid_instant"


def test_authors_are_shown_to_editors_only(registry, editor) -> None:
    editor_client = APIClient()
    editor_client.force_login(grant(editor, *EDITOR_PERMISSIONS))
    url = f"{API}posts/head-of-x/history/"

    assert APIClient().get(url).json()["results"][0]["author"] is None
    cache.clear()
    assert editor_client.get(url).json()["results"][0]["author"] == editor.username


def test_the_history_endpoints_are_in_the_schema(db) -> None:
    paths = APIClient().get(f"{API}schema/", {"format": "json"}).json()["paths"]

    for path in (
        "/api/v1/posts/{slug}/history/",
        "/api/v1/people/{slug}/history/",
        "/api/v1/appointments/{id}/history/",
        "/api/v1/relationships/{id}/history/",
    ):
        operation = paths[path]["get"]
        assert set(paths[path]) == {"get", "parameters"} or set(paths[path]) == {"get"}
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("PaginatedRevisionList")
        assert {p["name"] for p in operation["parameters"]} >= {"as_of", "limit"}


def revise(registry: ScriptedHistory, times: int) -> None:
    """Add ``times`` versions to the post, the person, the appointment and the link."""
    day = datetime.date(2024, 1, 1)
    for number in range(times):
        moment = at((day + datetime.timedelta(days=number)).isoformat())
        services.post_update(
            post=registry.head_of_x,
            user=None,
            reason="Retitle",
            effective_at=moment,
            title=f"Head {number}",
        )
        services.person_update(
            person=registry.ben,
            user=None,
            reason="Rename",
            effective_at=moment,
            full_name=f"Ben {number}",
        )
        relationship = RelationshipFactory.create(
            source=registry.unit_y,
            target=registry.department_b,
            reason="Link",
            effective_at=moment,
        )
        services.relationship_end(
            relationship=relationship, user=None, reason="Unlink", effective_at=moment
        )


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # Generation, slug → id, the history, linked names, linked slugs.
        ("posts/head-of-x/history/", 5),
        ("people/ben-okoro/history/", 3),
        ("appointments/{appointment}/history/", 6),
        ("relationships/{relationship}/history/", 4),
    ],
)
def test_history_costs_the_same_queries_however_many_versions(
    registry, django_assert_num_queries, url: str, queries: int
) -> None:
    appointment = Appointment.objects.get(person=registry.ben)
    relationship = UnitRelationship.objects.order_by("pk").first()
    assert relationship is not None
    address = API + url.format(appointment=appointment.pk, relationship=relationship.pk)
    client = APIClient()
    for times in (0, 5):
        revise(registry, times)
        cache.clear()
        with django_assert_num_queries(queries):
            response = client.get(address)
        assert response.status_code == HTTPStatus.OK

"""The registry search (/api/v1/search/): units, posts and people as they stood at
``as_of``, each result saying what it is."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.conftest import ScriptedHistory, at
from tests.factories import AppointmentFactory, PersonFactory, PostFactory
from units import services
from units.models import OrganizationalUnit, UnitKind

SEARCH = "/api/v1/search/"


def search(query: str) -> Any:
    response = APIClient().get(f"{SEARCH}?{query}", HTTP_ACCEPT="application/json")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def test_search_finds_people_posts_and_units_each_saying_what_it_is(
    scripted_history: ScriptedHistory,
) -> None:
    found = search("q=okoro")
    assert found["count"] == 1
    assert found["results"] == [
        {
            "type": "person",
            "slug": "ben-okoro",
            "name": "Ben Okoro",
            "kind": None,
            "short_name": None,
            "unit": None,
            "is_head": None,
            "matched_fields": ["name"],
            "excerpt": "",
            "url": "http://testserver/api/v1/people/ben-okoro/",
        }
    ]
    (post,) = search("q=head+of")["results"]
    assert post["type"] == "post"
    assert post["url"] == "http://testserver/api/v1/posts/head-of-x/"
    assert (post["unit"], post["is_head"]) == ("unit-x", True)
    (unit,) = search("q=registry")["results"]
    assert unit["type"] == "unit"
    assert (unit["slug"], unit["kind"], unit["url"]) == (
        "unit-x",
        UnitKind.UNIT,
        "http://testserver/api/v1/units/unit-x/",
    )
    assert unit["matched_fields"] == ["mandate"]
    assert unit["excerpt"] == "Unit Ex keeps the registry and publishes it."


def test_search_puts_name_matches_first_then_units_posts_people(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    setup: dict[str, Any] = {
        "user": editor,
        "reason": "Setup",
        "effective_at": at("2023-02-01"),
    }
    services.unit_update(
        unit=scripted_history.department_b,
        mandate="Keeps the chiefs busy.",
        **setup,
    )
    PersonFactory(full_name="Xavier Chief", slug="xavier-chief", **setup)
    for title, slug in (("Deputy chief", "deputy"), ("Chief of staff", "staff")):
        PostFactory(title=title, unit=scripted_history.department_b, slug=slug, **setup)
    results = search("q=chief")["results"]
    assert [(hit["type"], hit["slug"]) for hit in results] == [
        ("post", "staff"),  # by name: posts before people, each by name
        ("post", "deputy"),
        ("person", "xavier-chief"),
        ("unit", "department-b"),  # by its mandate only
    ]
    assert results[3]["matched_fields"] == ["mandate"]


def test_search_reads_names_as_they_stood_at_as_of(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    services.person_update(
        person=scripted_history.ben,
        user=editor,
        reason="Name corrected",
        full_name="Benedict Okoro",
    )
    assert search("q=benedict")["count"] == 1
    assert search("q=benedict&as_of=2024-01-01")["count"] == 0
    assert search("q=ben+okoro&as_of=2024-01-01")["results"][0]["name"] == "Ben Okoro"
    # Unit X was renamed Unit Ex in 2021: its post is found in the unit of that time.
    (post,) = search("q=head+of&as_of=2020-07-01")["results"]
    assert post["unit"] == "unit-x"
    (unit,) = search("q=unit+x&as_of=2020-07-01&type=unit")["results"]
    assert unit["name"] == "Unit X"
    # Nobody was recorded yet at the start of 2020; Department A is abolished now.
    assert search("q=ana&as_of=2020-01-01")["count"] == 0
    now = {hit["slug"] for hit in search("q=department&type=unit")["results"]}
    assert now == {"department-b"}
    then = search("q=department&type=unit&as_of=2021-01-01")["results"]
    assert {hit["slug"] for hit in then} == {"department-a", "department-b"}


def test_search_leaves_out_abolished_posts(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    services.post_abolish(
        post=scripted_history.head_of_x,
        user=editor,
        reason="No longer needed",
        effective_at=at("2024-01-01"),
    )
    assert search("q=head+of")["count"] == 0
    assert search("q=head+of&as_of=2023-12-01")["count"] == 1


def test_search_keeps_one_type_and_pages(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    setup: dict[str, Any] = {
        "user": editor,
        "reason": "Setup",
        "effective_at": at("2023-02-01"),
    }
    for number in range(5):
        PersonFactory(full_name=f"Okoro {number}", **setup)
    assert {hit["type"] for hit in search("q=okoro&type=person")["results"]} == {
        "person"
    }
    assert search("q=okoro&type=unit")["count"] == 0
    first = search("q=okoro&type=person&limit=2")
    assert first["count"] == 6
    assert (
        first["next"]
        == "http://testserver/api/v1/search/?limit=2&offset=2&q=okoro&type=person"
    )
    assert first["previous"] is None
    names = [hit["name"] for hit in first["results"]]
    rest = search("q=okoro&type=person&limit=2&offset=2")
    assert rest["previous"] is not None
    names += [hit["name"] for hit in rest["results"]]
    names += [hit["name"] for hit in search("q=okoro&limit=2&offset=4")["results"]]
    assert names == ["Ben Okoro", *(f"Okoro {number}" for number in range(5))]


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("q=x&type=unitz", {"type": "“unitz” is not one of: unit, post, person."}),
        (
            "q=x&limit=1001",
            {
                "limit": "1001 is more than the largest page, 1000; read the rest "
                "with offset."
            },
        ),
        ("q=x&offset=-1", {"offset": "“-1” is not a whole number from 0 upwards."}),
    ],
)
def test_search_refuses_bad_parameters(
    scripted_history: ScriptedHistory, query: str, answer: dict[str, str]
) -> None:
    response = APIClient().get(f"{SEARCH}?{query}", HTTP_ACCEPT="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == answer


def test_search_without_words_finds_nothing(scripted_history: ScriptedHistory) -> None:
    for query in ("", "q=", "q=+++"):
        assert search(query) == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }


def test_search_refuses_a_malformed_as_of(scripted_history: ScriptedHistory) -> None:
    response = APIClient().get(f"{SEARCH}?q=x&as_of=yesterday")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "invalid_instant"


def grow(editor: User, count: int) -> None:
    """More units, posts and people that all match "team"; the units and posts with
    French names too (so a French search reads and names them in French)."""
    setup: dict[str, Any] = {
        "user": editor,
        "reason": "Growth",
        "effective_at": at("2023-08-01"),
    }
    parent = OrganizationalUnit.objects.get(slug="department-b")
    for number in range(count):
        unit = services.unit_create(
            name=f"Team {number}",
            kind=UnitKind.UNIT,
            parent=parent,
            translations={"name_fr": f"Équipe {number}"},
            **setup,
        )
        AppointmentFactory(
            user=editor,
            reason="Growth",
            person=PersonFactory(full_name=f"Team member {number}", **setup),
            post=PostFactory(
                title=f"Lead of team {number}",
                unit=unit,
                translations={"title_fr": f"Chef de l'équipe {number}"},
                **setup,
            ),
            started_on=at("2023-08-01").date(),
        )


# Query, its queries (generation; units' texts, listed units' rows; posts; people;
# posts' units) and the results each unit grown (with its post and person) adds.
SEARCH_COSTS = [
    ("q=team", 6, 3),
    ("q=team&as_of=2024-01-01", 5, 3),
    ("q=team&type=person", 2, 1),
    ("q=team&type=post&as_of=2024-01-01", 3, 1),
    # The same in French: named in French, found by the French words too.
    ("q=team&lang=fr", 6, 3),
    ("q=%C3%A9quipe&lang=fr&as_of=2024-01-01", 5, 2),
    ("q=team&type=post&lang=fr", 3, 1),
]


def test_search_costs_a_fixed_number_of_queries(
    scripted_history: ScriptedHistory,
    editor: User,
    django_assert_num_queries: Any,
) -> None:
    # Every query at both sizes in one test: the registry grows twice in all, not
    # twice for each query (23 units, posts, people and appointments each time).
    grow(editor, 3)
    for query, queries, per_group in SEARCH_COSTS:
        cache.clear()
        with django_assert_num_queries(queries):
            assert search(query)["count"] == 3 * per_group, query
    grow(editor, 20)
    for query, queries, per_group in SEARCH_COSTS:
        cache.clear()
        with django_assert_num_queries(queries):
            found = search(query + "&limit=1000")
        assert found["count"] == 23 * per_group, query
        if "lang=fr" in query:
            named = [hit for hit in found["results"] if hit["type"] != "person"]
            assert {hit["name"].split()[0] for hit in named} <= {"Équipe", "Chef"}
            assert not any("untranslated" in hit for hit in named)

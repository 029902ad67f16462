"""Issue 16: every write answers with what it recorded, or says it recorded nothing.

The write operations are walked from the published schema, so a new write that does
not say what it recorded (or has no example here) fails the walk.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.test_api import EDITOR_PERMISSIONS, grant
from tests.api.test_api_reorganizations import REORGANIZATION_WRITES
from tests.conftest import ScriptedHistory, at
from tests.factories import PostFactory, RelationshipFactory
from units import services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    UnitRelationship,
)

API = "/api/v1/"
# Writes that are not changes of the registry (they record no version).
NOT_REGISTRY_WRITES = {
    ("post", "/api/v1/token/"),
    ("delete", "/api/v1/token/"),
    # A reorganization's steps answer with the reorganization itself (its status,
    # `scheduled`, `applied_at`); its revisions are written when it applies.
    *REORGANIZATION_WRITES,
}


@pytest.fixture
def editor_client(editor) -> APIClient:
    client = APIClient()
    client.force_login(grant(editor, *EDITOR_PERMISSIONS))
    return client


@pytest.fixture
def registry(scripted_history: ScriptedHistory) -> ScriptedHistory:
    """The scripted history with a dotted line, so every kind of write has a target."""
    RelationshipFactory(source=scripted_history.unit_x, target=scripted_history.unit_y)
    return scripted_history


@dataclass(frozen=True)
class Write:
    """One example of a write operation: its address, body and what it records."""

    url: Callable[[ScriptedHistory], str]
    # The body, or a function of the history that makes it.
    body: dict[str, Any] | Callable[[ScriptedHistory], dict[str, Any]]
    model: type[RecordedModel]
    # The written object's id, from the answer (an object, or a list for a batch).
    written_id: Callable[[Any], int]


def unit_id(data: dict[str, Any]) -> int:
    return OrganizationalUnit.objects.get(slug=data["slug"]).pk


def post_id(data: dict[str, Any]) -> int:
    return Post.objects.get(slug=data["slug"]).pk


def person_id(data: dict[str, Any]) -> int:
    return Person.objects.get(slug=data["slug"]).pk


def open_appointment(history: ScriptedHistory) -> int:
    return Appointment.objects.get(post=history.head_of_x, ended_on=None).pk


def with_free_post(history: ScriptedHistory) -> str:
    """The appointments list, once a post nobody holds exists (slug ``analyst``)."""
    PostFactory(
        title="Analyst",
        slug="analyst",
        unit=history.unit_y,
        effective_at=at("2023-12-01"),
    )
    return f"{API}appointments/"


def renamed_unit_y(history: ScriptedHistory) -> str:
    """Unit Y's revert address, once it has a version to go back from."""
    services.unit_update(
        unit=history.unit_y, user=None, reason="Renamed", name="Unit Why"
    )
    return f"{API}units/unit-y/revert/"


def abolished_unit_y(history: ScriptedHistory) -> str:
    """Unit Y's reinstate address, once it has been abolished."""
    services.unit_abolish(unit=history.unit_y, user=None, reason="Closed")
    return f"{API}units/unit-y/reinstate/"


def first_relationship(history: ScriptedHistory) -> int:
    return UnitRelationship.objects.get().pk


WRITES: dict[tuple[str, str], Write] = {
    ("post", "/api/v1/units/"): Write(
        lambda h: f"{API}units/",
        {"name": "Data Office", "kind": "office", "parent": "hq", "reason": "New"},
        OrganizationalUnit,
        unit_id,
    ),
    ("patch", "/api/v1/units/{slug}/"): Write(
        lambda h: f"{API}units/unit-y/",
        {"mandate": "Keeps data.", "reason": "Mandate agreed"},
        OrganizationalUnit,
        unit_id,
    ),
    ("post", "/api/v1/units/{slug}/move/"): Write(
        lambda h: f"{API}units/unit-y/move/",
        {"parent": "hq", "reason": "Reports to HQ"},
        OrganizationalUnit,
        unit_id,
    ),
    ("post", "/api/v1/units/{slug}/abolish/"): Write(
        lambda h: f"{API}units/unit-y/abolish/",
        {"reason": "Closed"},
        OrganizationalUnit,
        unit_id,
    ),
    ("post", "/api/v1/units/{slug}/revert/"): Write(
        renamed_unit_y,
        lambda h: {
            "history_id": h.unit_y.history.order_by("history_id").first().history_id,
            "reason": "Back to the first version",
        },
        OrganizationalUnit,
        unit_id,
    ),
    ("post", "/api/v1/units/{slug}/reinstate/"): Write(
        abolished_unit_y,
        {"reason": "Reopened"},
        OrganizationalUnit,
        unit_id,
    ),
    ("post", "/api/v1/units/abolish/"): Write(
        lambda h: f"{API}units/abolish/",
        {"units": ["unit-y"], "reason": "Closed"},
        OrganizationalUnit,
        lambda data: unit_id(data[0]),
    ),
    ("post", "/api/v1/posts/"): Write(
        lambda h: f"{API}posts/",
        {"title": "Analyst", "unit": "unit-y", "reason": "New post"},
        Post,
        post_id,
    ),
    ("patch", "/api/v1/posts/{slug}/"): Write(
        lambda h: f"{API}posts/head-of-x/",
        {"title": "Head of Unit Ex", "reason": "Retitled"},
        Post,
        post_id,
    ),
    ("post", "/api/v1/posts/{slug}/abolish/"): Write(
        lambda h: f"{API}posts/head-of-x/abolish/",
        {"reason": "Post cut"},
        Post,
        post_id,
    ),
    ("post", "/api/v1/people/"): Write(
        lambda h: f"{API}people/",
        {"full_name": "Cleo Ndiaye", "reason": "New person"},
        Person,
        person_id,
    ),
    ("patch", "/api/v1/people/{slug}/"): Write(
        lambda h: f"{API}people/ana-lima/",
        {"full_name": "Ana Lima Souza", "reason": "Name corrected"},
        Person,
        person_id,
    ),
    ("post", "/api/v1/appointments/"): Write(
        with_free_post,
        {
            "person": "ana-lima",
            "post": "analyst",
            "started_on": "2024-01-01",
            "reason": "Appointed",
        },
        Appointment,
        lambda data: data["id"],
    ),
    ("patch", "/api/v1/appointments/{id}/"): Write(
        lambda h: f"{API}appointments/{open_appointment(h)}/",
        {"note": "Acting head", "reason": "Note was missing"},
        Appointment,
        lambda data: data["id"],
    ),
    ("post", "/api/v1/appointments/{id}/end/"): Write(
        lambda h: f"{API}appointments/{open_appointment(h)}/end/",
        {"ended_on": "2023-12-31", "reason": "End of term"},
        Appointment,
        lambda data: data["id"],
    ),
    ("post", "/api/v1/relationships/"): Write(
        lambda h: f"{API}relationships/",
        {
            "source": "unit-y",
            "target": "department-b",
            "kind": "works_in_conjunction_with",
            "reason": "Joint work",
        },
        UnitRelationship,
        lambda data: data["id"],
    ),
    ("patch", "/api/v1/relationships/{id}/"): Write(
        lambda h: f"{API}relationships/{first_relationship(h)}/",
        {"description": "Shares the data desk", "reason": "Description was missing"},
        UnitRelationship,
        lambda data: data["id"],
    ),
    ("post", "/api/v1/relationships/{id}/end/"): Write(
        lambda h: f"{API}relationships/{first_relationship(h)}/end/",
        {"reason": "Joint work over"},
        UnitRelationship,
        lambda data: data["id"],
    ),
}


def schema_writes() -> dict[tuple[str, str], dict[str, Any]]:
    schema = APIClient().get(f"{API}schema/", {"format": "json"}).json()
    return {
        (method, path): operation
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "patch", "put", "delete"}
        and (method, path) not in NOT_REGISTRY_WRITES
    }


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@pytest.mark.django_db
def test_every_write_in_the_schema_documents_recorded_and_has_an_example() -> None:
    schema = APIClient().get(f"{API}schema/", {"format": "json"}).json()
    writes = schema_writes()

    assert set(writes) == set(WRITES)
    for (method, path), operation in writes.items():
        success = next(code for code in operation["responses"] if code.startswith("2"))
        body = operation["responses"][success]["content"]["application/json"]["schema"]
        if body.get("type") == "array":
            body = body["items"]
        properties = resolve(schema, body)["properties"]
        recorded = properties["recorded"]
        assert recorded.get("nullable") is True or "null" in str(recorded), (
            method,
            path,
        )
        assert "nothing was recorded" in recorded["description"]
        shape = resolve(schema, recorded.get("allOf", [recorded])[0])
        assert set(shape["properties"]) == {"history_id", "effective_at", "recorded_at"}


def latest_revision(model: type[RecordedModel], pk: int) -> Any:
    return model.history.filter(id=pk).order_by("-history_date", "-history_id").first()


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("operation", list(WRITES), ids="{0[0]} {0[1]}".format)
def test_a_write_answers_with_the_version_it_recorded(
    editor_client: APIClient, registry: ScriptedHistory, operation: tuple[str, str]
) -> None:
    write = WRITES[operation]
    send = getattr(editor_client, operation[0])

    url = write.url(registry)
    body = write.body(registry) if callable(write.body) else write.body
    response = send(url, body, format="json")

    assert response.status_code in {HTTPStatus.OK, HTTPStatus.CREATED}, response.json()
    data = response.json()
    pk = write.written_id(data)
    answered = data[0] if isinstance(data, list) else data
    latest = latest_revision(write.model, pk)
    assert answered["recorded"] == {
        "history_id": latest.history_id,
        "effective_at": iso(latest.history_date),
        "recorded_at": iso(latest.recorded_at),
    }


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (f"{API}units/unit-y/", {"name": "Unit Y", "reason": "Same name"}),
        (f"{API}units/unit-y/move/", {"parent": "department-b", "reason": "Same"}),
        (f"{API}posts/head-of-x/", {"title": "Head of X", "reason": "Same title"}),
        (f"{API}people/ana-lima/", {"full_name": "Ana Lima", "reason": "Same"}),
    ],
)
def test_a_write_that_changes_nothing_says_it_recorded_nothing(
    editor_client: APIClient, registry: ScriptedHistory, url: str, body: dict[str, Any]
) -> None:
    before = editor_client.get(url.removesuffix("move/")).json()
    revisions = {
        model: model.history.count() for model in (OrganizationalUnit, Post, Person)
    }

    method = editor_client.post if url.endswith("move/") else editor_client.patch
    response = method(url, body, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["recorded"] is None
    assert response.json()["version"] == before["version"]
    assert {
        model: model.history.count() for model in (OrganizationalUnit, Post, Person)
    } == revisions


def test_a_revert_that_changes_nothing_is_refused_with_no_change(
    editor_client: APIClient, registry: ScriptedHistory
) -> None:
    latest = latest_revision(OrganizationalUnit, registry.unit_y.pk)
    count = OrganizationalUnit.history.count()

    response = editor_client.post(
        f"{API}units/unit-y/revert/",
        {"history_id": latest.history_id, "reason": "Undo"},
        format="json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "no_change"
    assert OrganizationalUnit.history.count() == count


def test_abolishing_several_units_says_what_each_recorded(
    editor_client: APIClient, registry: ScriptedHistory
) -> None:
    """A unit abolished with an earlier one's subtree still reports its revision."""
    response = editor_client.post(
        f"{API}units/abolish/",
        {"units": ["department-b", "unit-y"], "sub_units": "abolish", "reason": "Cut"},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK, response.json()
    for answered in response.json():
        latest = latest_revision(OrganizationalUnit, unit_id(answered))
        assert answered["recorded"]["history_id"] == latest.history_id


def test_an_appointment_takes_effect_at_its_dates_by_default_not_now(
    editor_client: APIClient, registry: ScriptedHistory
) -> None:
    """As the tour says: an appointment is dated by its start and end, not by today."""
    started = editor_client.post(
        with_free_post(registry),
        {
            "person": "ana-lima",
            "post": "analyst",
            "started_on": "2024-01-01",
            "reason": "In",
        },
        format="json",
    ).json()
    ended = editor_client.post(
        f"{API}appointments/{started['id']}/end/",
        {"ended_on": "2024-03-31", "reason": "Out"},
        format="json",
    ).json()

    assert started["recorded"]["effective_at"] == "2024-01-01T00:00:00Z"
    assert ended["recorded"]["effective_at"] == "2024-03-31T00:00:00Z"

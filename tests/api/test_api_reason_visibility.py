"""Issue 16: every API write takes ``reason_visibility`` beside its reason.

Walked over every write operation of the API (the examples of
``test_api_write_answers``, themselves checked against the published schema): the
visibility asked for is the one recorded, and a value that is neither public nor
internal is a 400 that says so, with nothing written.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.test_api_write_answers import (
    API,
    WRITES,
    editor_client,  # noqa: F401 (a fixture)
    latest_revision,
    registry,  # noqa: F401 (a fixture)
)
from tests.conftest import ScriptedHistory
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RegistryState,
    UnitRelationship,
)

pytestmark = pytest.mark.django_db
HISTORIES = (OrganizationalUnit, Post, Person, Appointment, UnitRelationship)


def history_counts() -> dict[str, int]:
    return {model.__name__: model.history.count() for model in HISTORIES}


def body_of(operation: tuple[str, str], history: ScriptedHistory) -> dict[str, Any]:
    write = WRITES[operation]
    return dict(write.body(history) if callable(write.body) else write.body)


@pytest.mark.parametrize("visibility", ["public", "internal"])
@pytest.mark.parametrize("operation", list(WRITES), ids="{0[0]} {0[1]}".format)
def test_every_write_records_the_visibility_it_was_given(
    editor_client: APIClient,  # noqa: F811
    registry: ScriptedHistory,  # noqa: F811
    operation: tuple[str, str],
    visibility: str,
) -> None:
    write = WRITES[operation]
    url = write.url(registry)
    body = {**body_of(operation, registry), "reason_visibility": visibility}

    response = getattr(editor_client, operation[0])(url, body, format="json")

    assert response.status_code in {HTTPStatus.OK, HTTPStatus.CREATED}, response.json()
    pk = write.written_id(response.json())
    assert latest_revision(write.model, pk).reason_visibility == visibility


@pytest.mark.parametrize("operation", list(WRITES), ids="{0[0]} {0[1]}".format)
def test_a_bad_visibility_is_a_400_that_says_so_and_writes_nothing(
    editor_client: APIClient,  # noqa: F811
    registry: ScriptedHistory,  # noqa: F811
    operation: tuple[str, str],
) -> None:
    write = WRITES[operation]
    url = write.url(registry)
    body = {**body_of(operation, registry), "reason_visibility": "secret"}
    before = history_counts()
    generation = RegistryState.objects.get().generation

    response = getattr(editor_client, operation[0])(url, body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "“secret” is not a reason visibility" in str(response.json())
    assert history_counts() == before
    assert RegistryState.objects.get().generation == generation


def test_a_write_without_a_visibility_records_the_default(
    editor_client: APIClient,  # noqa: F811
    registry: ScriptedHistory,  # noqa: F811
    settings: Any,
) -> None:
    settings.REASON_VISIBILITY_DEFAULT = "public"
    response = editor_client.patch(
        f"{API}units/unit-y/", {"mandate": "Keeps data.", "reason": "Agreed"}
    )

    assert response.status_code == HTTPStatus.OK
    assert latest_revision(
        OrganizationalUnit, registry.unit_y.pk
    ).reason_visibility == ("public")


def test_the_schema_documents_the_visibility_of_writes_and_of_history() -> None:
    schema = APIClient().get(f"{API}schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]

    for name in ("UnitCreate", "AppointmentEnd", "Revision", "Change"):
        field = components[name]["properties"]["reason_visibility"]
        assert "internal" in field.get("description", ""), name
    reason = components["Revision"]["properties"]["reason"]
    assert reason.get("nullable") is True
    assert "null when the reason is internal" in reason["description"]

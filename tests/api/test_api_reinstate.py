"""Reinstating a unit through the API, now or from a past date (issue 14)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.api.test_api import API, EDITOR_PERMISSIONS, grant
from tests.conftest import at
from units import services
from units.models import OrganizationalUnit, UnitKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(editor: User) -> APIClient:
    client = APIClient()
    client.force_login(grant(editor, *EDITOR_PERMISSIONS))
    return client


@pytest.fixture
def closed_office(editor: User) -> OrganizationalUnit:
    """Office established 2020-01-01, abolished effective 2021-01-01."""
    office = services.unit_create(
        user=editor,
        reason="Establish",
        name="Office",
        kind=UnitKind.OFFICE,
        slug="office",
        effective_at=at("2020-01-01"),
    )
    services.unit_abolish(
        unit=office, user=editor, reason="Closed", effective_at=at("2021-01-01")
    )
    return office


def reinstate(client: APIClient, body: dict[str, Any]) -> Any:
    return client.post(f"{API}units/office/reinstate/", body, format="json")


def test_a_dated_reinstatement(
    editor_client: APIClient, closed_office: OrganizationalUnit
) -> None:
    response = reinstate(
        editor_client,
        {"reason": "Reopened", "effective_at": "2021-03-01T12:00:00Z"},
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "active"
    back_then = editor_client.get(f"{API}units/office/", {"as_of": "2021-02-01"})
    since = editor_client.get(f"{API}units/office/", {"as_of": "2021-04-01"})
    assert back_then.json()["status"] == "abolished"
    assert since.json()["status"] == "active"


def test_a_reinstatement_before_the_abolition_is_a_400_and_writes_nothing(
    editor_client: APIClient, closed_office: OrganizationalUnit
) -> None:
    versions = OrganizationalUnit.history.count()

    response = reinstate(
        editor_client,
        {"reason": "Too early", "effective_at": "2020-06-01T12:00:00Z"},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "before_abolition"
    assert OrganizationalUnit.history.count() == versions
    assert not OrganizationalUnit.objects.get(slug="office").is_active


def test_reinstating_an_active_unit_is_a_400(
    editor_client: APIClient, editor: User
) -> None:
    services.unit_create(
        user=editor,
        reason="Establish",
        name="Office",
        kind=UnitKind.OFFICE,
        slug="office",
    )

    response = reinstate(editor_client, {"reason": "Nothing to do"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "no_change"


def test_reinstating_needs_the_permission_to_change_units(
    closed_office: OrganizationalUnit, other_editor: User
) -> None:
    client = APIClient()
    client.force_login(other_editor)

    response = reinstate(client, {"reason": "Reopened"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not OrganizationalUnit.objects.get(slug="office").is_active

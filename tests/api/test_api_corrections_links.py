"""PATCH on an appointment or a relationship corrects its record (issue 14): new
versions only; a refusal is a 409 or 400 with a message, and nothing written."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from tests.conftest import at
from units import services
from units.models import Appointment, UnitRelationship

pytestmark = pytest.mark.django_db

API = "/api/v1/"


@pytest.fixture
def api(editor: Any) -> APIClient:
    editor.groups.add(Group.objects.get(name="Registry editors"))
    client = APIClient()
    client.force_login(editor)
    return client


@pytest.fixture
def records(editor: Any) -> dict[str, Any]:
    unit = services.unit_create(
        user=editor,
        reason="r",
        name="Unit",
        kind="department",
        effective_at=at("2024-01-01"),
    )
    other = services.unit_create(
        user=editor,
        reason="r",
        name="Other",
        kind="department",
        effective_at=at("2024-01-01"),
    )
    post = services.post_create(
        user=editor, reason="r", title="Clerk", unit=unit, effective_at=at("2024-01-01")
    )
    ana, ben = (
        services.person_create(
            user=editor, reason="r", full_name=name, effective_at=at("2024-01-01")
        )
        for name in ("Ana", "Ben")
    )
    first = services.appointment_start(
        person=ana,
        post=post,
        started_on=datetime.date(2024, 1, 1),
        user=editor,
        reason="r",
    )
    services.appointment_end(
        appointment=first, ended_on=datetime.date(2024, 3, 1), user=editor, reason="r"
    )
    services.appointment_start(
        person=ben,
        post=post,
        started_on=datetime.date(2024, 4, 1),
        user=editor,
        reason="r",
    )
    link = services.relationship_create(
        source=unit,
        target=other,
        kind="supports",
        user=editor,
        reason="r",
        effective_at=at("2024-02-01"),
    )
    return {"first": first, "link": link}


def test_patching_an_appointment_corrects_its_end(
    api: APIClient, records: dict
) -> None:
    first = records["first"]
    response = api.patch(
        f"{API}appointments/{first.pk}/",
        {"ended_on": "2024-03-20", "reason": "Ended later"},
        format="json",
    )
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["ended_on"] == "2024-03-20"
    assert response.json()["recorded"]
    now = api.get(f"{API}appointments/{first.pk}/", {"as_of": "2024-03-15"}).json()
    assert now["ended_on"] == "2024-03-20"
    # New versions only: the end first recorded is still in the history.
    assert Appointment.history.filter(
        id=first.pk, ended_on=datetime.date(2024, 3, 1)
    ).exists()
    before = api.get(f"{API}appointments/{first.pk}/", {"as_of": "2024-02-15"})
    assert before.json()["ended_on"] is None


def test_an_appointment_correction_giving_two_holders_is_409(
    api: APIClient, records: dict
) -> None:
    first = records["first"]
    rows = Appointment.history.count()
    response = api.patch(
        f"{API}appointments/{first.pk}/",
        {"ended_on": None, "reason": "Never ended"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert "one holder" in response.json()["detail"]
    assert Appointment.history.count() == rows


def test_an_appointment_ending_before_it_started_is_400(
    api: APIClient, records: dict
) -> None:
    first = records["first"]
    rows = Appointment.history.count()
    response = api.patch(
        f"{API}appointments/{first.pk}/",
        {"ended_on": "2023-01-01", "reason": "r"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "before it started" in response.json()["detail"]
    assert Appointment.history.count() == rows


def test_patching_a_relationship_corrects_its_dates(
    api: APIClient, records: dict
) -> None:
    link = records["link"]
    response = api.patch(
        f"{API}relationships/{link.pk}/",
        {"started_on": "2024-02-10", "description": "Corrected", "reason": "r"},
        format="json",
    )
    assert response.status_code == HTTPStatus.OK, response.json()
    live = UnitRelationship.objects.get(pk=link.pk)
    assert (live.started_on, live.description) == (
        datetime.date(2024, 2, 10),
        "Corrected",
    )


def test_a_relationship_start_before_its_record_is_409(
    api: APIClient, records: dict
) -> None:
    link = records["link"]
    rows = UnitRelationship.history.count()
    response = api.patch(
        f"{API}relationships/{link.pk}/",
        {"started_on": "2024-01-10", "reason": "r"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert "begins on" in response.json()["detail"]
    assert UnitRelationship.history.count() == rows


def test_correcting_needs_the_change_permission(records: dict) -> None:
    response = APIClient().patch(
        f"{API}appointments/{records['first'].pk}/",
        {"note": "x", "reason": "r"},
        format="json",
    )
    assert response.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)

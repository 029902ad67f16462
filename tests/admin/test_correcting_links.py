"""Correcting an appointment's or a relationship's record from the admin (issue 14):
the "Correct…" link of a person's posts held and of a unit's dotted lines leads to a
form whose save corrects the record; a refusal is shown on the form, nothing written."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import at
from units import services
from units.models import Appointment, UnitKind, UnitRelationship

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(editor: Any) -> dict[str, Any]:
    unit = services.unit_create(
        user=editor,
        reason="r",
        name="Unit",
        kind=UnitKind.DEPARTMENT,
        effective_at=at("2024-01-01"),
    )
    other = services.unit_create(
        user=editor,
        reason="r",
        name="Other",
        kind=UnitKind.DEPARTMENT,
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
    first = services.appointment_end(
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
    return {"unit": unit, "ana": ana, "first": first, "link": link}


def appointment_url(records: dict[str, Any]) -> str:
    return reverse(
        "admin:units_person_correct_appointment",
        args=[records["ana"].pk, records["first"].pk],
    )


def test_the_persons_page_links_to_the_correction(
    editor_client: Client, records: dict[str, Any]
) -> None:
    page = editor_client.get(
        reverse("admin:units_person_change", args=[records["ana"].pk])
    )
    assert appointment_url(records) in page.content.decode()
    unit_page = editor_client.get(
        reverse("admin:units_organizationalunit_change", args=[records["unit"].pk])
    )
    assert "/relationships/" in unit_page.content.decode()


def test_an_appointments_end_is_corrected_from_the_admin(
    editor_client: Client, records: dict[str, Any]
) -> None:
    first = records["first"]
    response = editor_client.post(
        appointment_url(records),
        {
            "started_on": "2024-01-01",
            "ended_on": "2024-03-20",
            "note": "",
            "reason": "Ended later",
            "reason_visibility": "public",
            "expected_version": first.version,
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert Appointment.objects.get(pk=first.pk).ended_on == datetime.date(2024, 3, 20)


def test_a_refused_correction_is_shown_on_the_form(
    editor_client: Client, records: dict[str, Any]
) -> None:
    first = records["first"]
    rows = Appointment.history.count()
    response = editor_client.post(
        appointment_url(records),
        {
            "started_on": "2024-01-01",
            "ended_on": "",
            "note": "",
            "reason": "Never ended",
            "reason_visibility": "public",
            "expected_version": first.version,
        },
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert "one holder" in response.content.decode()
    assert Appointment.history.count() == rows


def test_a_relationships_start_is_corrected_from_the_admin(
    editor_client: Client, records: dict[str, Any]
) -> None:
    link = records["link"]
    url = reverse(
        "admin:units_organizationalunit_correct_relationship",
        args=[records["unit"].pk, link.pk],
    )
    assert editor_client.get(url).status_code == HTTPStatus.OK
    response = editor_client.post(
        url,
        {
            "started_on": "2024-02-10",
            "ended_on": "",
            "description": "",
            "reason": "Started later",
            "reason_visibility": "public",
            "expected_version": link.version,
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert UnitRelationship.objects.get(pk=link.pk).started_on == datetime.date(
        2024, 2, 10
    )


def test_a_record_of_another_object_is_not_found(
    editor_client: Client, records: dict[str, Any]
) -> None:
    url = reverse(
        "admin:units_organizationalunit_correct_relationship",
        args=[records["unit"].pk + 1, records["link"].pk],
    )
    assert editor_client.get(url).status_code == HTTPStatus.NOT_FOUND

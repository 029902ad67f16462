"""Reinstating from an abolished unit's page, now or from a past date (issue 14)."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.conftest import at
from units import selectors, services
from units.models import OrganizationalUnit, UnitKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_office(editor: User) -> OrganizationalUnit:
    """Office established 2020-01-01, abolished effective 2021-01-01."""
    office = services.unit_create(
        user=editor,
        reason="Establish",
        name="Office",
        kind=UnitKind.OFFICE,
        effective_at=at("2020-01-01"),
    )
    services.unit_abolish(
        unit=office, user=editor, reason="Closed", effective_at=at("2021-01-01")
    )
    return OrganizationalUnit.objects.get(pk=office.pk)


def reinstate_url(unit: OrganizationalUnit) -> str:
    return reverse("admin:units_organizationalunit_reinstate", args=[unit.pk])


def test_an_abolished_unit_offers_reinstating(
    editor_client: Client, closed_office: OrganizationalUnit
) -> None:
    page = editor_client.get(
        reverse("admin:units_organizationalunit_change", args=[closed_office.pk])
    )

    assert reinstate_url(closed_office) in page.content.decode()


def test_a_dated_reinstatement_from_the_admin(
    editor_client: Client, closed_office: OrganizationalUnit
) -> None:
    response = editor_client.post(
        reinstate_url(closed_office),
        {
            "reason": "Reopened in March",
            "reason_visibility": "public",
            "effective_date": "2021-03-01",
            "expected_version": closed_office.version,
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    office = OrganizationalUnit.objects.get(pk=closed_office.pk)
    assert office.is_active
    for day, active in (("2021-02-01", False), ("2021-03-02", True)):
        node = selectors.unit_as_of(office.slug, at(day))
        assert node is not None
        assert node.is_active is active


def test_a_reinstatement_before_the_abolition_is_shown_at_the_date(
    editor_client: Client, closed_office: OrganizationalUnit
) -> None:
    versions = OrganizationalUnit.history.count()

    response = editor_client.post(
        reinstate_url(closed_office),
        {
            "reason": "Too early",
            "reason_visibility": "public",
            "effective_date": "2020-06-01",
            "expected_version": closed_office.version,
        },
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "abolished effective 1 January 2021" in " ".join(
        response.context["form"].errors["effective_date"]
    )
    assert OrganizationalUnit.history.count() == versions


def test_a_reinstatement_in_the_future_is_refused_by_the_form(
    editor_client: Client, closed_office: OrganizationalUnit
) -> None:
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)

    response = editor_client.post(
        reinstate_url(closed_office),
        {
            "reason": "Not yet",
            "reason_visibility": "public",
            "effective_date": tomorrow.isoformat(),
            "expected_version": closed_office.version,
        },
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not OrganizationalUnit.objects.get(pk=closed_office.pk).is_active

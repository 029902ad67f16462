"""The admin's history and version pages mark what a correction of the past changed."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from tests.selectors.test_correction_reads import scripted_unit
from units.models import OrganizationalUnit

pytestmark = pytest.mark.django_db


def test_history_and_version_pages_say_corrected_on_and_what_it_was(
    editor_client: Client,
) -> None:
    unit, _before, _recorded = scripted_unit()
    page = editor_client.get(
        reverse("admin:units_organizationalunit_history", args=[unit.pk])
    )
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    # March (the correction) and April (whose recorded state it corrected); only
    # March's field change is marked, April's change is its own mandate.
    assert text.count("Corrected on") == 2
    assert text.count("corrected on") == 1
    assert "was Finance" in text
    # Four versions as known now (January, March, April, May), not five rows.
    assert text.count('class="revision"') == 4
    restated = (
        OrganizationalUnit.history.filter(id=unit.pk, corrects_revision__isnull=False)
        .order_by("-history_id")
        .first()
    )
    assert restated is not None
    version = editor_client.get(
        reverse(
            "admin:units_organizationalunit_version",
            args=[unit.pk, restated.history_id],
        )
    )
    assert version.status_code == HTTPStatus.OK
    # April's version: its state's name was corrected, though April changed only the
    # mandate.
    body = version.content.decode()
    assert "corrected on" in body
    assert "was Finance" in body

"""The admin's revert page: undo from now, or correct the record, chosen plainly."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.admin.test_admin import snapshot, version_url
from tests.conftest import assert_tree_matches_rebuild, at
from tests.factories import PersonFactory, UnitFactory
from units import services
from units.models import OrganizationalUnit, Person, UnitKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def misnamed(editor: User) -> OrganizationalUnit:
    unit = UnitFactory.create(
        user=editor,
        name="Archives",
        kind=UnitKind.OFFICE,
        effective_at=at("2024-01-10"),
    )
    services.unit_update(
        unit=unit,
        user=editor,
        reason="Renamed",
        name="Archive Services",
        effective_at=at("2024-03-01"),
    )
    return OrganizationalUnit.objects.get(pk=unit.pk)


def test_the_revert_form_offers_both_ways_each_explained(
    editor_client: Client, misnamed: OrganizationalUnit
) -> None:
    original = misnamed.history.order_by("history_id").first()
    html = editor_client.get(
        version_url(misnamed, original.history_id)
    ).content.decode()
    for text in (
        'name="mode" value="undo"',
        'name="mode" value="correct"',
        "Undo from now",
        "the history keeps the mistake and shows it undone.",
        "Correct the record",
        "reports printed before today still show it.",
    ):
        assert text in html
    # Undo is what the form did before the choice existed, so it stays the default.
    assert 'value="undo" id="id_mode_0" checked' in html


def test_choosing_correct_corrects_the_record_from_the_mistakes_time(
    editor_client: Client, misnamed: OrganizationalUnit, editor: User
) -> None:
    original, mistake = misnamed.history.order_by("history_id")
    response = editor_client.post(
        version_url(misnamed, original.history_id),
        {
            "mode": "correct",
            "reason": "The rename never happened",
            "expected_version": misnamed.version,
        },
        follow=True,
    )
    assert response.status_code == HTTPStatus.OK
    assert (
        "The record of “Archives” was corrected: the change after the version of "
        "10 January 2024, 12:00 UTC no longer holds from when it took effect."
    ) in response.content.decode()
    correction = misnamed.history.order_by("-history_id").first()
    assert (correction.history_date, correction.corrects_revision) == (
        mistake.history_date,
        mistake.history_id,
    )
    assert (correction.history_user, correction.name) == (editor, "Archives")
    assert_tree_matches_rebuild()


def test_choosing_undo_takes_effect_now(
    editor_client: Client, misnamed: OrganizationalUnit
) -> None:
    original, mistake = misnamed.history.order_by("history_id")
    response = editor_client.post(
        version_url(misnamed, original.history_id),
        {"mode": "undo", "reason": "Undone", "expected_version": misnamed.version},
    )
    assert response.status_code == HTTPStatus.FOUND
    undo = misnamed.history.order_by("-history_id").first()
    assert undo.history_date > mistake.history_date
    assert undo.corrects_revision is None


def test_an_unknown_way_is_refused_and_changes_nothing(
    editor_client: Client, misnamed: OrganizationalUnit
) -> None:
    original = misnamed.history.order_by("history_id").first()
    before = snapshot()
    response = editor_client.post(
        version_url(misnamed, original.history_id),
        {"mode": "erase", "reason": "Gone", "expected_version": misnamed.version},
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Select a valid choice." in response.content.decode()
    assert snapshot() == before


def test_a_person_is_corrected_from_the_admin(
    editor_client: Client, editor: User
) -> None:
    person = PersonFactory.create(
        user=editor, full_name="Ana Lima", effective_at=at("2024-01-01")
    )
    services.person_update(
        person=person,
        user=editor,
        reason="Misspelt",
        full_name="Ana Lim",
        effective_at=at("2024-02-01"),
    )
    original, mistake = person.history.order_by("history_id")
    url = reverse("admin:units_person_simple_history", args=[person.pk, original.pk])
    response = editor_client.post(
        url,
        {"mode": "correct", "reason": "Typo", "expected_version": 2},
    )
    assert response.status_code == HTTPStatus.FOUND
    correction = person.history.order_by("-history_id").first()
    assert correction.history_date == mistake.history_date
    assert Person.objects.get(pk=person.pk).full_name == "Ana Lima"

"""A word diff per language in the history (issue 17, history).

A revision that changed a translation shows it under its own label ("Nom
(français)" on a French page), its old and new values marked with their language
(``lang="fr"``), and a translated mandate as a word diff like the English one: on the
unit's page, in the admin's history and version pages, and on the compare page.
"""

from __future__ import annotations

import datetime
import re
from http import HTTPStatus

import pytest
from django.test import Client

from tests.conftest import page_text
from tests.factories import UnitFactory, editor_user
from units import selectors, services
from units.admin.diffs import displayed_changes
from units.models import OrganizationalUnit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]

JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
MAR = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
JUN = datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)


def renamed_in_french() -> OrganizationalUnit:
    """Finance, given French texts in March and renamed in French in June."""
    unit = UnitFactory.create(
        name="Finance", mandate="Counts.", slug="finance", effective_at=JAN
    )
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="French texts",
        effective_at=MAR,
        name_fr="Finances",
        mandate_fr="Tient les comptes.",
    )
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="French rename",
        effective_at=JUN,
        name_fr="Finances et budget",
        mandate_fr="Tient les comptes et le budget.",
    )
    return unit


def test_each_changed_language_is_its_own_change_with_its_language() -> None:
    unit = renamed_in_french()
    latest = selectors.unit_history(unit)[0]
    assert [
        (change.field, change.text, change.language) for change in latest.changes
    ] == [
        ("name_fr", "name", "fr"),
        ("mandate_fr", "mandate", "fr"),
    ]
    name, mandate = displayed_changes(latest)
    assert (name.label, name.language) == ("name (French)", "fr")
    assert name.diff == "Finances<ins> et budget</ins>"
    assert mandate.diff == ("Tient les comptes<ins> et le budget</ins>.")
    # The creation: the English texts say so; a field that is no text, nothing.
    created = {
        change.field: change for change in selectors.unit_history(unit)[-1].changes
    }
    assert (created["name"].text, created["name"].language) == ("name", "en")
    assert (created["kind"].text, created["kind"].language) == ("", "")


def test_a_french_unit_page_labels_and_diffs_the_french_rename(client: Client) -> None:
    unit = renamed_in_french()
    response = client.get(f"/fr/units/{unit.slug}/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    text = page_text(response)
    assert "Nom (français) Finances → Finances et budget" in text
    assert (
        '<del lang="fr">Finances</del> → <ins lang="fr">Finances et budget</ins>'
        in (html)
    )
    # The French mandate is a word diff, as the English one is, marked French.
    assert re.search(
        r'<span class="diff" lang="fr">Tient les comptes<ins> et le budget</ins>\.',
        html,
    )
    assert "Mandat (français)" in text
    # The English name the unit was created with says it is English.
    assert '<span lang="en">Finance</span>' in html


def test_the_english_page_labels_the_french_change_in_english(client: Client) -> None:
    unit = renamed_in_french()
    text = page_text(client.get(f"/units/{unit.slug}/"))
    assert "Name (French) Finances → Finances et budget" in text


def test_the_compare_page_diffs_a_french_mandate_marked_french(client: Client) -> None:
    renamed_in_french()
    response = client.get("/fr/compare/?from=2024-04-01&to=2024-12-31")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert (
        '<del lang="fr">Finances</del> → <ins lang="fr">Finances et budget</ins>'
        in html
    )
    assert (
        '<p class="diff" lang="fr">Tient les comptes<ins> et le budget</ins>.</p>'
        in html
    )
    # The whole old and new French mandates are not repeated beside the diff.
    assert '<del lang="fr">Tient les comptes.</del>' not in html

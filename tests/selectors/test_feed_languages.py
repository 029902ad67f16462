"""The change feed's sentences in the reader's language (issue 17, history).

Summaries are translated sentences that name units and posts in the reader's
language, in English where no translation is recorded; the machine fields (kinds,
field names, the values changed) stay what they were.
"""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import UnitFactory, editor_user
from units import selectors, services
from units.models import OperationKind, OrganizationalUnit
from units.selectors.reorganizations import operations_in_words

pytestmark = pytest.mark.django_db

JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
MAR = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
BEGINNING = datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


def moved_finance() -> OrganizationalUnit:
    """Finance (French: Finances) moves in March from Policy (untranslated) to
    Administration (French: Administration générale)."""
    policy = UnitFactory.create(name="Policy", slug="policy", effective_at=JAN)
    administration = UnitFactory.create(
        name="Administration",
        slug="administration",
        translations={"name_fr": "Administration générale"},
        effective_at=JAN,
    )
    finance = UnitFactory.create(
        name="Finance",
        slug="finance",
        parent=policy,
        translations={"name_fr": "Finances"},
        effective_at=JAN,
    )
    services.unit_move(
        unit=finance,
        new_parent=administration,
        user=editor_user(),
        reason="Regrouped",
        effective_at=MAR,
    )
    return finance


def moves() -> list[selectors.Change]:
    return [
        change
        for change in selectors.changes_between(BEGINNING, LATEST)
        if change.kind == "moved"
    ]


def test_a_move_reads_in_french_with_french_names_and_english_fallbacks() -> None:
    moved_finance()
    with translation.override("fr"):
        (move,) = moves()
    # Policy has no French name: its English one stands in.
    assert move.summary == "Finances déplacée de Policy vers Administration générale"
    assert move.kind == "moved"
    assert move.object_name == "Finances"
    (english,) = moves()
    assert english.summary == "Finance moved from Policy to Administration"
    assert english.object_name == "Finance"


def test_a_french_rename_keeps_its_machine_fields_and_quotes_the_values() -> None:
    unit = UnitFactory.create(name="Finance", slug="finance", effective_at=JAN)
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="French name",
        effective_at=MAR,
        name_fr="Finances",
    )
    with translation.override("fr"):
        (change,) = [
            change
            for change in selectors.changes_between(BEGINNING, LATEST)
            if change.kind == "name_fr_changed"
        ]
    assert change.summary == "Nom (français) de Finances\u00a0: de — à Finances"
    assert change.details["field"] == "name_fr"
    assert (change.details["old"], change.details["new"]) == ("", "Finances")
    assert change.fields == ("name_fr",)


def test_the_api_feed_answers_in_the_language_asked_for(client: Client) -> None:
    moved_finance()
    answers = {
        language: client.get(
            "/api/v1/changes/",
            {"since": "2024-02-01", "lang": language},
        )
        for language in ("en", "fr", "es")
    }
    summaries = {}
    for language, answer in answers.items():
        assert answer.status_code == HTTPStatus.OK
        (entry,) = [row for row in answer.json()["results"] if row["kind"] == "moved"]
        summaries[language] = entry["summary"]
    assert summaries == {
        "en": "Finance moved from Policy to Administration",
        "fr": "Finances déplacée de Policy vers Administration générale",
        # No Spanish names: the English ones, in a Spanish sentence.
        "es": "Finance trasladada de Policy a Administration",
    }
    assert answers["fr"]["ETag"] != answers["en"]["ETag"]


def test_a_reorganization_reads_in_french_with_french_names() -> None:
    finance = moved_finance()
    user = editor_user()
    reorganization = services.reorganization_create(
        user=user,
        title="Budget reform",
        reason="Reform",
        effective_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
    )
    services.operation_add(
        reorganization=reorganization,
        user=user,
        kind=OperationKind.MOVE_UNIT,
        payload={"unit": finance.slug, "parent": "policy"},
    )
    services.operation_add(
        reorganization=reorganization,
        user=user,
        kind=OperationKind.ABOLISH_UNIT,
        payload={"unit": "administration"},
    )
    with translation.override("fr"):
        french = operations_in_words([reorganization])[reorganization.pk]
    assert french == [
        "Déplacer «\u00a0Finances\u00a0» sous «\u00a0Policy\u00a0»",
        "Supprimer «\u00a0Administration générale\u00a0»",
    ]
    assert operations_in_words([reorganization])[reorganization.pk] == [
        "Move “Finance” under “Policy”",
        "Abolish “Administration”",
    ]

"""French and Spanish texts of units, posts and relationships (issue 17, content).

Each translation is a plain field beside the English one, so it is part of the object's
history like any field: these tests read a French rename as of before and after it, as
known before and after a correction, and check the refusals per language.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.factories import PostFactory, RelationshipFactory, UnitFactory, editor_user
from units import services
from units.models import OrganizationalUnit, Post, UnitRelationship
from units.selectors.as_of import reading_as_known_at, records_as_of

pytestmark = pytest.mark.django_db

JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
FEB = datetime.datetime(2024, 2, 1, tzinfo=datetime.UTC)
MAR = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
APR = datetime.datetime(2024, 4, 1, tzinfo=datetime.UTC)

LANGUAGE_FIELDS = ("name", "name_fr", "name_es", "short_name_fr", "short_name_es")


def names_as_of(unit: OrganizationalUnit, when: datetime.datetime) -> dict[str, str]:
    [row] = records_as_of(
        OrganizationalUnit, when, ("id", *LANGUAGE_FIELDS), ids=[unit.pk]
    )
    return {name: row[name] for name in LANGUAGE_FIELDS}


def test_a_unit_starts_with_blank_translations_unless_given() -> None:
    plain = UnitFactory.create(name="Finance", effective_at=JAN)
    assert (plain.name_fr, plain.name_es, plain.mandate_fr) == ("", "", "")
    translated = UnitFactory.create(
        name="International Organization for Migration",
        short_name="IOM",
        translations={
            "name_fr": " Organisation internationale pour les migrations ",
            "short_name_fr": "OIM",
            "short_name_es": "OIM",
        },
        effective_at=JAN,
    )
    translated.refresh_from_db()
    assert translated.name_fr == "Organisation internationale pour les migrations"
    assert (translated.short_name_fr, translated.short_name_es) == ("OIM", "OIM")
    assert translated.name_es == ""


def test_a_french_rename_is_a_revision_read_as_of_before_and_after() -> None:
    unit = UnitFactory.create(name="Finance", effective_at=JAN)
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="French name agreed",
        effective_at=MAR,
        name_fr="Finances",
    )
    revision = unit.history.order_by("-history_id").first()
    assert revision is not None
    assert revision.history_change_reason == "French name agreed"
    assert revision.history_user == editor_user()
    assert names_as_of(unit, FEB)["name_fr"] == ""
    after = names_as_of(unit, APR)
    assert after["name_fr"] == "Finances"
    # The other languages are untouched by a French rename.
    assert (after["name"], after["name_es"]) == ("Finance", "")


def test_a_corrected_translation_is_read_as_known_before_and_after() -> None:
    unit = UnitFactory.create(name="Finance", effective_at=JAN)
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="Nombre",
        effective_at=MAR,
        name_es="Finanzas",
    )
    before_correction = timezone.now()
    # Backdated: the Spanish name was in fact in use from February, as "Hacienda".
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="The Spanish name was used from February",
        effective_at=FEB,
        name_es="Hacienda",
    )
    feb_15 = FEB + datetime.timedelta(days=14)
    assert names_as_of(unit, feb_15)["name_es"] == "Hacienda"
    assert names_as_of(unit, APR)["name_es"] == "Finanzas"
    with reading_as_known_at(before_correction):
        assert names_as_of(unit, feb_15)["name_es"] == ""
        assert names_as_of(unit, APR)["name_es"] == "Finanzas"


def test_post_titles_and_relationship_descriptions_have_their_languages() -> None:
    post = PostFactory.create(
        title="Director",
        translations={"title_fr": "Directeur"},
        effective_at=JAN,
        unit__effective_at=JAN,
    )
    services.post_update(
        post=post,
        user=editor_user(),
        reason="Título",
        effective_at=MAR,
        title_es="Director",
    )
    [before] = records_as_of(Post, FEB, ("id", "title_fr", "title_es"), ids=[post.pk])
    [after] = records_as_of(Post, APR, ("id", "title_fr", "title_es"), ids=[post.pk])
    assert (before["title_fr"], before["title_es"]) == ("Directeur", "")
    assert (after["title_fr"], after["title_es"]) == ("Directeur", "Director")
    link = RelationshipFactory.create(
        description="Shares staff",
        translations={"description_fr": "Partage du personnel"},
    )
    [row] = records_as_of(
        UnitRelationship,
        None,
        ("id", "description_fr", "description_es"),
        ids=[link.pk],
    )
    assert (row["description_fr"], row["description_es"]) == (
        "Partage du personnel",
        "",
    )


def test_the_english_name_cannot_be_blanked_but_a_translation_can() -> None:
    unit = UnitFactory.create(
        name="Finance", translations={"name_fr": "Finances"}, effective_at=JAN
    )
    with pytest.raises(ValidationError) as refusal:
        services.unit_update(unit=unit, user=editor_user(), reason="Blank", name="  ")
    assert "name" in refusal.value.message_dict
    services.unit_update(unit=unit, user=editor_user(), reason="Withdrawn", name_fr="")
    unit.refresh_from_db()
    assert (unit.name, unit.name_fr) == ("Finance", "")


@pytest.mark.parametrize(
    ("field", "limit"),
    [("name_fr", 255), ("name_es", 255), ("short_name_fr", 64), ("location_es", 128)],
)
def test_a_translation_longer_than_its_field_is_refused_naming_that_language(
    field: str, limit: int
) -> None:
    unit = UnitFactory.create(name="Finance", effective_at=JAN)
    before = unit.history.count()
    changes: dict[str, Any] = {field: "x" * (limit + 1)}
    with pytest.raises(ValidationError) as refusal:
        services.unit_update(
            unit=unit, user=editor_user(), reason="Too long", **changes
        )
    assert list(refusal.value.message_dict) == [field]
    assert unit.history.count() == before
    assert getattr(OrganizationalUnit.objects.get(pk=unit.pk), field) == ""


def test_a_control_character_in_a_translation_is_refused() -> None:
    unit = UnitFactory.create(name="Finance", effective_at=JAN)
    with pytest.raises(ValidationError) as refusal:
        services.unit_update(
            unit=unit, user=editor_user(), reason="Bad", name_es="Fi\x1bnanzas"
        )
    assert list(refusal.value.message_dict) == ["name_es"]


def test_an_unknown_translation_field_is_refused_on_creation() -> None:
    with pytest.raises(ValidationError) as refusal:
        UnitFactory.create(name="Finance", translations={"name_de": "Finanzen"})
    assert "name_de" in str(refusal.value)
    assert not OrganizationalUnit.objects.filter(name="Finance").exists()


def test_blanking_the_english_title_is_refused_with_nothing_written() -> None:
    post = PostFactory.create(title="Director", translations={"title_fr": "Directeur"})
    before = post.history.count()
    with pytest.raises(ValidationError) as refusal:
        services.post_update(post=post, user=editor_user(), reason="Blank", title="  ")
    assert list(refusal.value.message_dict) == ["title"]
    assert post.history.count() == before
    assert Post.objects.get(pk=post.pk).title == "Director"


def test_a_corrected_french_description_is_read_as_of_before_and_after() -> None:
    link = RelationshipFactory.create(
        description="Shares staff",
        effective_at=JAN,
        source__effective_at=JAN,
        target__effective_at=JAN,
    )
    services.relationship_correct(
        relationship=link,
        user=editor_user(),
        reason="Traduction",
        effective_at=MAR,
        description_fr=" Partage du personnel ",
    )

    def french(when: datetime.datetime) -> str:
        [row] = records_as_of(
            UnitRelationship, when, ("id", "description_fr"), ids=[link.pk]
        )
        return str(row["description_fr"])

    assert french(FEB) == ""
    assert french(APR) == "Partage du personnel"


def test_a_translation_without_its_english_text_is_refused() -> None:
    with pytest.raises(ValidationError) as refusal:
        RelationshipFactory.create(translations={"description_fr": "Partage"})
    assert list(refusal.value.message_dict) == ["description"]
    assert not UnitRelationship.objects.exists()
    link = RelationshipFactory.create(
        description="Shares staff", translations={"description_es": "Comparte"}
    )
    before = link.history.count()
    with pytest.raises(ValidationError) as refusal:
        services.relationship_correct(
            relationship=link, user=editor_user(), reason="Blank", description=""
        )
    assert "cannot be blank" in refusal.value.message_dict["description"][0]
    assert link.history.count() == before
    # Withdrawing the translation with it leaves a dotted line without a text.
    services.relationship_correct(
        relationship=link,
        user=editor_user(),
        reason="No text",
        description="",
        description_es="",
    )
    link.refresh_from_db()
    assert (link.description, link.description_es) == ("", "")

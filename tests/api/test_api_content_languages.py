"""API writes of the French and Spanish texts (issue 17, content)."""

from __future__ import annotations

from http import HTTPStatus

from rest_framework.test import APIClient

from tests.api.test_api import API, editor_client  # noqa: F401 (fixture)
from tests.conftest import ScriptedHistory
from units.models import OrganizationalUnit, Post


def test_a_patch_sets_a_french_name_as_one_revision(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    response = editor_client.patch(
        f"{API}units/unit-y/?lang=fr",
        {"name_fr": "Unité Y", "short_name_es": "UY", "reason": "Traduction"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.OK, response.content
    answer = response.json()
    assert answer["name"] == "Unité Y"
    assert answer["languages"]["short_name"]["es"] == "UY"
    unit = OrganizationalUnit.objects.get(slug="unit-y")
    latest = unit.history.order_by("-history_id").first()
    assert latest is not None
    assert (latest.name_fr, latest.history_change_reason) == ("Unité Y", "Traduction")


def test_a_too_long_translation_is_refused_naming_its_field(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"short_name_fr": "x" * 65, "reason": "Too long"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "short_name_fr" in response.json()
    assert OrganizationalUnit.objects.get(slug="unit-y").short_name_fr == ""


def test_creating_a_unit_and_a_post_with_translations(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    response = editor_client.post(
        f"{API}units/",
        {
            "name": "Migration",
            "name_es": "Migración",
            "kind": "unit",
            "parent": "hq",
            "reason": "New",
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    unit = OrganizationalUnit.objects.get(name="Migration")
    assert (unit.name_es, unit.name_fr) == ("Migración", "")
    response = editor_client.post(
        f"{API}posts/",
        {"title": "Chief", "title_fr": "Chef", "unit": unit.slug, "reason": "New"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert Post.objects.get(title="Chief").title_fr == "Chef"


def test_a_unit_takes_its_texts_by_language_as_its_answer_gives_them(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    response = editor_client.patch(
        f"{API}units/unit-y/?lang=fr",
        {
            "name": {"fr": "Unité Y", "es": "Unidad Y"},
            "short_name": {"en": "UY", "fr": "UY"},
            "reason": "Traduction",
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.OK, response.content
    languages = response.json()["languages"]
    assert languages["name"] == {"en": "Unit Y", "fr": "Unité Y", "es": "Unidad Y"}
    assert languages["short_name"] == {"en": "UY", "fr": "UY", "es": None}
    response = editor_client.post(
        f"{API}units/",
        {
            "name": {"en": "Migration", "es": "Migración"},
            "kind": "unit",
            "parent": "hq",
            "reason": "New",
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    unit = OrganizationalUnit.objects.get(name="Migration")
    assert (unit.name_es, unit.name_fr) == ("Migración", "")


def test_a_unit_without_its_english_name_is_refused(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    units = OrganizationalUnit.objects.count()
    response = editor_client.post(
        f"{API}units/",
        {"name": {"fr": "Migrations"}, "kind": "unit", "parent": "hq", "reason": "New"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["name"] == ["The English name is required."]
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"name": {"en": " ", "fr": "Unité Y"}, "reason": "Blank"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["name"]) == ["en"]
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"short_name": {"es": "x" * 65}, "reason": "Too long"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["short_name"]) == ["es"]
    unit = OrganizationalUnit.objects.get(slug="unit-y")
    assert (unit.name, unit.name_fr, unit.short_name_es) == ("Unit Y", "", "")
    assert OrganizationalUnit.objects.count() == units

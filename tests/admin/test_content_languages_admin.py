"""Editors edit the three texts side by side and find what is not yet translated
(issue 17, content)."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.admin.test_admin import ADD, CHANGELIST, change_url, form_data
from tests.factories import PostFactory, RelationshipFactory, UnitFactory
from units.models import OrganizationalUnit, UnitRelationship

pytestmark = pytest.mark.django_db

POSTS = reverse("admin:units_post_changelist")


def test_the_form_shows_each_text_with_its_translations_on_one_row(
    editor_client: Client,
) -> None:
    unit = UnitFactory.create(name="Finance", translations={"name_fr": "Finances"})
    html = editor_client.get(change_url(unit)).content.decode()
    for text in ("name", "short_name", "mandate", "location"):
        row = re.search(rf'<div class="form-row[^"]*field-{text} [^"]*"', html)
        assert row is not None, text
        assert f"field-{text}_fr" in row.group(0)
        assert f"field-{text}_es" in row.group(0)
    assert 'value="Finances"' in html


def test_adding_a_unit_with_a_french_name_records_it(
    editor_client: Client, editor: User
) -> None:
    data = form_data(
        editor_client.get(ADD),
        name="International Organization for Migration",
        name_fr="Organisation internationale pour les migrations",
        short_name="IOM",
        short_name_fr="OIM",
        short_name_es="OIM",
        kind="organization",
        reason="Founded",
    )
    response = editor_client.post(ADD, data)
    assert response.status_code == HTTPStatus.FOUND
    unit = OrganizationalUnit.objects.get(short_name="IOM")
    assert unit.name_fr == "Organisation internationale pour les migrations"
    assert (unit.short_name_fr, unit.short_name_es, unit.name_es) == ("OIM", "OIM", "")
    (revision,) = unit.history.all()
    assert revision.name_fr == unit.name_fr


def test_editing_a_spanish_name_is_one_revision_with_its_reason(
    editor_client: Client,
) -> None:
    unit = UnitFactory.create(name="Finance")
    page = editor_client.get(change_url(unit))
    response = editor_client.post(
        change_url(unit),
        form_data(page, name_es="Finanzas", reason="Spanish name agreed"),
    )
    assert response.status_code == HTTPStatus.FOUND
    latest = unit.history.order_by("-history_id").first()
    assert latest is not None
    assert (latest.name_es, latest.history_change_reason) == (
        "Finanzas",
        "Spanish name agreed",
    )


def test_the_missing_translation_filter(editor_client: Client) -> None:
    UnitFactory.create(name="Finance", translations={"name_fr": "Finances"})
    UnitFactory.create(name="Legal")
    french = editor_client.get(CHANGELIST, {"missing": "fr"})
    assert french.status_code == HTTPStatus.OK
    assert [unit.name for unit in french.context["cl"].result_list] == ["Legal"]
    spanish = editor_client.get(CHANGELIST, {"missing": "es"})
    names = sorted(unit.name for unit in spanish.context["cl"].result_list)
    assert names == ["Finance", "Legal"]
    assert "Missing French" in french.content.decode()
    PostFactory.create(title="Director", translations={"title_es": "Director"})
    posts = editor_client.get(POSTS, {"missing": "es"})
    assert list(posts.context["cl"].result_list) == []
    assert (
        len(editor_client.get(POSTS, {"missing": "fr"}).context["cl"].result_list) == 1
    )


def test_an_unknown_language_in_the_filter_is_refused(editor_client: Client) -> None:
    response = editor_client.get(CHANGELIST, {"missing": "de"})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_the_post_form_shows_the_title_with_its_translations_on_one_row(
    editor_client: Client,
) -> None:
    post = PostFactory.create(title="Director", translations={"title_fr": "Directeur"})
    html = editor_client.get(
        reverse("admin:units_post_change", args=[post.pk])
    ).content.decode()
    row = re.search(r'<div class="form-row[^"]*field-title [^"]*"', html)
    assert row is not None
    assert "field-title_fr" in row.group(0)
    assert "field-title_es" in row.group(0)
    assert 'value="Directeur"' in html


def test_a_dotted_line_is_drawn_with_its_description_in_three_languages(
    editor_client: Client,
) -> None:
    source = UnitFactory.create(name="Finance")
    target = UnitFactory.create(name="Audit")
    page = editor_client.get(change_url(source))
    html = page.content.decode()
    for name in ("description", "description_fr", "description_es"):
        assert f'name="outgoing_relationships-__prefix__-{name}"' in html
    data = form_data(page, reason="Joint programme")
    data.update(
        {
            "outgoing_relationships-TOTAL_FORMS": "1",
            "outgoing_relationships-0-target": target.pk,
            "outgoing_relationships-0-kind": "collaborates_with",
            "outgoing_relationships-0-description": "Shares staff",
            "outgoing_relationships-0-description_fr": "Partage du personnel",
        }
    )
    response = editor_client.post(change_url(source), data)
    assert response.status_code == HTTPStatus.FOUND
    link = UnitRelationship.objects.get(source=source, target=target)
    assert (link.description, link.description_fr, link.description_es) == (
        "Shares staff",
        "Partage du personnel",
        "",
    )
    (revision,) = link.history.all()
    assert revision.description_fr == "Partage du personnel"


def correct_url(link: UnitRelationship) -> str:
    return reverse(
        "admin:units_organizationalunit_correct_relationship",
        args=[link.source_id, link.pk],
    )


def correction(link: UnitRelationship, **texts: str) -> dict[str, object]:
    return {
        "started_on": link.started_on.isoformat() if link.started_on else "",
        "ended_on": "",
        "description": link.description,
        "description_fr": link.description_fr,
        "description_es": link.description_es,
        "reason": "Traduction",
        "reason_visibility": "public",
        "expected_version": link.version,
        **texts,
    }


def test_a_dotted_lines_translation_is_corrected_from_the_admin(
    editor_client: Client,
) -> None:
    link = RelationshipFactory.create(description="Shares staff")
    page = editor_client.get(correct_url(link)).content.decode()
    assert 'name="description_fr"' in page
    assert 'name="description_es"' in page
    response = editor_client.post(
        correct_url(link), correction(link, description_es="Comparte personal")
    )
    assert response.status_code == HTTPStatus.FOUND
    link.refresh_from_db()
    assert (link.description, link.description_es) == (
        "Shares staff",
        "Comparte personal",
    )
    latest = link.history.order_by("-history_id").first()
    assert latest is not None
    assert latest.description_es == "Comparte personal"


def test_blanking_a_translated_english_description_is_refused_in_the_admin(
    editor_client: Client,
) -> None:
    link = RelationshipFactory.create(
        description="Shares staff",
        translations={"description_fr": "Partage du personnel"},
    )
    rows = link.history.count()
    response = editor_client.post(correct_url(link), correction(link, description=""))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "The English description cannot be blank" in response.content.decode()
    link.refresh_from_db()
    assert link.description == "Shares staff"
    assert link.history.count() == rows

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
from tests.factories import PostFactory, UnitFactory
from units.models import OrganizationalUnit

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

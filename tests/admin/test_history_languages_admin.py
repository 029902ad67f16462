"""The admin's history shows a word diff per language (issue 17, history)."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PostFactory, UnitFactory, editor_user
from tests.pages.test_history_languages import renamed_in_french
from units import selectors, services

pytestmark = pytest.mark.django_db

JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def test_the_admin_history_diffs_each_language_and_marks_it(
    editor_client: Client,
) -> None:
    unit = renamed_in_french()
    url = reverse("admin:units_organizationalunit_history", args=[unit.pk])
    response = editor_client.get(url)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    # The admin is in English; the French values say they are French.
    assert "<strong>Name (French):</strong>" in html
    assert (
        '<div class="registry-diff" lang="fr">Finances<ins> et budget</ins></div>'
        in html
    )
    assert '<div class="registry-diff" lang="fr">Tient les comptes<ins>' in html
    # Created with English texts only: shown, not diffed, and said to be English.
    assert '<span lang="en">Finance</span>' in html
    latest = selectors.unit_history(unit)[0]
    version = reverse(
        "admin:units_organizationalunit_version",
        args=[unit.pk, latest.history_id],
    )
    html = editor_client.get(version).content.decode()
    assert (
        '<div class="registry-diff" lang="fr">Finances<ins> et budget</ins></div>'
        in html
    )
    # The version's whole state marks each text's language too.
    assert '<td class="registry-diff" lang="fr">Finances et budget</td>' in html
    assert '<td class="registry-diff" lang="en">Finance</td>' in html
    assert '<td class="registry-diff">Unit</td>' in html  # the kind: no text


def test_a_post_title_translation_says_its_language_in_the_admin(
    editor_client: Client,
) -> None:
    post = PostFactory.create(
        title="Treasurer", unit=UnitFactory.create(effective_at=JAN), effective_at=JAN
    )
    services.post_update(
        post=post, user=editor_user(), reason="French", title_fr="Trésorier"
    )
    url = reverse("admin:units_post_history", args=[post.pk])
    html = editor_client.get(url).content.decode()
    assert '&rarr; <span lang="fr">Trésorier</span>' in html

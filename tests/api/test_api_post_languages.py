"""Posts' titles and dotted lines' descriptions in the API, per language (issue 17).

Answers give the text in the answer's language (English where not yet translated)
and every language in ``languages``; writes take the texts as a plain English string,
as ``title_fr``-style fields, or as an object by language; the refusals name the field
and the language and change nothing.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.test_api import API, editor_client  # noqa: F401 (fixture)
from tests.conftest import ScriptedHistory, at
from tests.factories import editor_user
from units import services
from units.models import Post, UnitRelationship


def translate_head_of_x(history: ScriptedHistory, when: str = "2024-01-01") -> None:
    services.post_update(
        post=history.head_of_x,
        user=editor_user(),
        reason="Traduction",
        effective_at=at(when),
        title_fr="Chef de X",
    )


def dotted_line(history: ScriptedHistory, **translations: str) -> UnitRelationship:
    return services.relationship_create(
        source=history.unit_y,
        target=history.root,
        kind="collaborates_with",
        user=None,
        reason="Shared staff",
        description="Shares staff",
        effective_at=at("2023-07-01"),
        translations=translations,
    )


def post_etag(client: APIClient, slug: str = "head-of-x") -> str:
    return str(client.get(f"{API}posts/{slug}/")["ETag"])


def relationship_etag(client: APIClient, pk: int) -> str:
    return str(client.get(f"{API}relationships/{pk}/")["ETag"])


# --- Reads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "title"),
    [
        ({"lang": "fr"}, "Chef de X"),
        ({"lang": "es"}, "Head of X"),  # not yet translated: English
        ({}, "Head of X"),
    ],
)
def test_a_post_answers_its_title_in_the_asked_language_with_every_language(
    scripted_history: ScriptedHistory, asked: dict[str, str], title: str
) -> None:
    translate_head_of_x(scripted_history)
    client = APIClient()
    detail = client.get(f"{API}posts/head-of-x/", asked).json()
    assert detail["title"] == title
    assert detail["languages"] == {
        "title": {"en": "Head of X", "fr": "Chef de X", "es": None}
    }
    [listed] = [
        post
        for post in client.get(f"{API}posts/", asked).json()["results"]
        if post["slug"] == "head-of-x"
    ]
    assert listed["title"] == title
    assert listed["languages"] == detail["languages"]


def test_accept_language_chooses_the_title_too(
    scripted_history: ScriptedHistory,
) -> None:
    translate_head_of_x(scripted_history)
    answer = APIClient().get(f"{API}posts/head-of-x/", HTTP_ACCEPT_LANGUAGE="fr-CH")
    assert answer.json()["title"] == "Chef de X"


def test_an_unknown_language_is_a_400_on_a_post(
    scripted_history: ScriptedHistory,
) -> None:
    answer = APIClient().get(f"{API}posts/head-of-x/", {"lang": "de"})
    assert answer.status_code == HTTPStatus.BAD_REQUEST


def test_a_post_read_as_of_gives_the_french_title_of_then(
    scripted_history: ScriptedHistory,
) -> None:
    translate_head_of_x(scripted_history, "2024-01-01")
    client = APIClient()
    before = client.get(
        f"{API}posts/head-of-x/", {"lang": "fr", "as_of": "2023-12-31"}
    ).json()
    after = client.get(
        f"{API}posts/head-of-x/", {"lang": "fr", "as_of": "2024-01-02"}
    ).json()
    assert (before["title"], before["languages"]["title"]["fr"]) == ("Head of X", None)
    assert (after["title"], after["languages"]["title"]["fr"]) == (
        "Chef de X",
        "Chef de X",
    )


def test_a_unit_answer_gives_its_head_post_title_in_the_asked_language(
    scripted_history: ScriptedHistory,
) -> None:
    translate_head_of_x(scripted_history)
    client = APIClient()
    [unit_x] = [
        unit
        for unit in client.get(f"{API}units/", {"lang": "fr"}).json()["results"]
        if unit["slug"] == "unit-x"
    ]
    assert unit_x["head"]["title"] == "Chef de X"
    children = client.get(f"{API}units/department-b/children/", {"lang": "fr"}).json()
    heads = {unit["slug"]: unit["head"] for unit in children}
    assert heads["unit-x"]["title"] == "Chef de X"
    english = client.get(f"{API}units/department-b/children/").json()
    assert {unit["slug"]: unit["head"] for unit in english}["unit-x"][
        "title"
    ] == "Head of X"


@pytest.mark.parametrize(
    ("asked", "description"),
    [
        ({"lang": "fr"}, "Partage du personnel"),
        ({"lang": "es"}, "Shares staff"),
        ({}, "Shares staff"),
    ],
)
def test_a_dotted_line_answers_its_description_in_the_asked_language(
    scripted_history: ScriptedHistory, asked: dict[str, str], description: str
) -> None:
    link = dotted_line(scripted_history, description_fr="Partage du personnel")
    client = APIClient()
    detail = client.get(f"{API}relationships/{link.pk}/", asked).json()
    assert detail["description"] == description
    assert detail["languages"] == {
        "description": {
            "en": "Shares staff",
            "fr": "Partage du personnel",
            "es": None,
        }
    }
    [listed] = client.get(f"{API}relationships/", asked).json()["results"]
    assert (listed["description"], listed["languages"]) == (
        description,
        detail["languages"],
    )


def test_a_list_search_finds_a_post_by_its_french_title(
    scripted_history: ScriptedHistory,
) -> None:
    translate_head_of_x(scripted_history)
    found = APIClient().get(f"{API}posts/", {"q": "chef de"}).json()["results"]
    assert [post["slug"] for post in found] == ["head-of-x"]


def test_the_post_list_cache_keeps_each_language_apart(
    scripted_history: ScriptedHistory,
) -> None:
    translate_head_of_x(scripted_history)
    client = APIClient()
    english = client.get(f"{API}posts/")
    french = client.get(f"{API}posts/", {"lang": "fr"})
    assert english["ETag"] != french["ETag"]
    again = client.get(
        f"{API}posts/", {"lang": "fr"}, HTTP_IF_NONE_MATCH=english["ETag"]
    )
    assert again.status_code == HTTPStatus.OK
    assert {post["title"] for post in again.json()["results"]} == {"Chef de X"}
    assert {post["title"] for post in client.get(f"{API}posts/").json()["results"]} == {
        "Head of X"
    }


# --- Writes -------------------------------------------------------------------------


def test_a_patch_by_language_changes_the_french_title_as_one_revision(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    post = scripted_history.head_of_x
    revisions = post.history.count()
    response = editor_client.patch(
        f"{API}posts/head-of-x/?lang=fr",
        {
            "title": {"fr": "Chef de X", "es": "Jefe de X"},
            "reason": "Traduction",
            "effective_at": "2024-01-01",
        },
        format="json",
        HTTP_IF_MATCH=post_etag(editor_client),
    )
    assert response.status_code == HTTPStatus.OK, response.content
    answer = response.json()
    assert answer["title"] == "Chef de X"
    assert answer["languages"]["title"] == {
        "en": "Head of X",
        "fr": "Chef de X",
        "es": "Jefe de X",
    }
    assert post.history.count() == revisions + 1
    latest = post.history.order_by("-history_id").first()
    assert latest is not None
    assert (latest.title, latest.title_fr, latest.title_es) == (
        "Head of X",
        "Chef de X",
        "Jefe de X",
    )
    assert latest.history_change_reason == "Traduction"
    client = APIClient()
    before = client.get(
        f"{API}posts/head-of-x/", {"lang": "fr", "as_of": "2023-12-31"}
    ).json()
    after = client.get(
        f"{API}posts/head-of-x/", {"lang": "fr", "as_of": "2024-01-02"}
    ).json()
    assert (before["title"], after["title"]) == ("Head of X", "Chef de X")
    history = client.get(f"{API}posts/head-of-x/history/").json()["results"]
    changed = {change["field"] for change in history[0]["changes"]}
    assert {"title_fr", "title_es"} <= changed


def test_a_null_or_blank_translation_withdraws_it(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    translate_head_of_x(scripted_history)
    response = editor_client.patch(
        f"{API}posts/head-of-x/",
        {"title": {"fr": None}, "reason": "Wrong translation"},
        format="json",
        HTTP_IF_MATCH=post_etag(editor_client),
    )
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["languages"]["title"]["fr"] is None
    assert Post.objects.get(slug="head-of-x").title_fr == ""


def test_a_plain_string_title_is_the_english_one(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    translate_head_of_x(scripted_history)
    response = editor_client.patch(
        f"{API}posts/head-of-x/",
        {"title": "Chief of X", "reason": "Renamed"},
        format="json",
        HTTP_IF_MATCH=post_etag(editor_client),
    )
    assert response.status_code == HTTPStatus.OK, response.content
    post = Post.objects.get(slug="head-of-x")
    assert (post.title, post.title_fr) == ("Chief of X", "Chef de X")


def test_creating_a_post_and_a_dotted_line_by_language(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    response = editor_client.post(
        f"{API}posts/?lang=es",
        {
            "title": {"en": "Registrar", "es": "Registrador"},
            "unit": "unit-y",
            "reason": "New post",
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["title"] == "Registrador"
    post = Post.objects.get(slug=response.json()["slug"])
    assert (post.title, post.title_fr, post.title_es) == (
        "Registrar",
        "",
        "Registrador",
    )
    response = editor_client.post(
        f"{API}relationships/",
        {
            "source": "unit-y",
            "target": "hq",
            "kind": "collaborates_with",
            "description": {"en": "Shares staff", "fr": "Partage du personnel"},
            "description_es": "Comparte personal",
            "reason": "Linked",
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["languages"]["description"] == {
        "en": "Shares staff",
        "fr": "Partage du personnel",
        "es": "Comparte personal",
    }


def test_correcting_a_dotted_lines_french_description_reads_as_of_before_and_after(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    link = dotted_line(scripted_history)
    response = editor_client.patch(
        f"{API}relationships/{link.pk}/",
        {
            "description": {"fr": "Partage du personnel"},
            "reason": "Traduction",
            "effective_at": "2024-01-01",
        },
        format="json",
        HTTP_IF_MATCH=relationship_etag(editor_client, link.pk),
    )
    assert response.status_code == HTTPStatus.OK, response.content
    client = APIClient()
    url = f"{API}relationships/{link.pk}/"
    before = client.get(url, {"lang": "fr", "as_of": "2023-12-31"}).json()
    after = client.get(url, {"lang": "fr", "as_of": "2024-01-02"}).json()
    assert (before["description"], after["description"]) == (
        "Shares staff",
        "Partage du personnel",
    )
    link.refresh_from_db()
    assert (link.description, link.description_fr) == (
        "Shares staff",
        "Partage du personnel",
    )


# --- Refusals: a 400 naming the field and the language, and nothing changed --------


def post_unchanged(history: ScriptedHistory, revisions: int) -> None:
    post = Post.objects.get(slug="head-of-x")
    assert (post.title, post.title_fr, post.title_es) == ("Head of X", "", "")
    assert post.history.count() == revisions


@pytest.mark.parametrize(
    "title",
    [{"en": ""}, {"en": "   "}, {"en": None}, "", {"en": "  ", "fr": "Chef de X"}],
)
def test_blanking_the_english_title_is_refused(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
    title: Any,
) -> None:
    revisions = scripted_history.head_of_x.history.count()
    response = editor_client.patch(
        f"{API}posts/head-of-x/",
        {"title": title, "reason": "Blank"},
        format="json",
        HTTP_IF_MATCH=post_etag(editor_client),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert "title" in response.json()
    if isinstance(title, dict) and title["en"] is not None:
        assert response.json()["title"] == {
            "en": [
                "The English title cannot be blank: it is the text shown wherever "
                "a translation is missing."
            ]
        }
    post_unchanged(scripted_history, revisions)


@pytest.mark.parametrize(
    ("body", "field", "language"),
    [
        ({"title": {"fr": "x" * 256}}, "title", "fr"),
        ({"title": {"en": "Head", "es": "x" * 256}}, "title", "es"),
        ({"title": {"en": "x" * 256}}, "title", "en"),
    ],
)
def test_a_too_long_title_is_refused_naming_its_language(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
    body: dict[str, Any],
    field: str,
    language: str,
) -> None:
    revisions = scripted_history.head_of_x.history.count()
    response = editor_client.patch(
        f"{API}posts/head-of-x/",
        {**body, "reason": "Too long"},
        format="json",
        HTTP_IF_MATCH=post_etag(editor_client),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    errors = response.json()[field]
    assert list(errors) == [language]
    assert "256 characters" in errors[language][0]
    assert "at most 255" in errors[language][0]
    post_unchanged(scripted_history, revisions)


def test_a_too_long_flat_translation_is_refused_naming_its_field(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    revisions = scripted_history.head_of_x.history.count()
    response = editor_client.patch(
        f"{API}posts/head-of-x/",
        {"title_es": "x" * 256, "reason": "Too long"},
        format="json",
        HTTP_IF_MATCH=post_etag(editor_client),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["title_es"]
    post_unchanged(scripted_history, revisions)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": {"de": "Leiter"}}, "Unknown languages: de."),
        ({"title": {}}, "Give a text, or an object of texts by language"),
        ({"title": ["Head"]}, "Give a text, or an object of texts by language"),
        ({"title": {"fr": 3}}, "The French title must be a text."),
        (
            {"title": {"fr": "Chef"}, "title_fr": "Directeur"},
            "Given twice, differently: in title.fr and in title_fr.",
        ),
    ],
)
def test_malformed_texts_by_language_are_refused(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
    body: dict[str, Any],
    message: str,
) -> None:
    revisions = scripted_history.head_of_x.history.count()
    response = editor_client.patch(
        f"{API}posts/head-of-x/",
        {**body, "reason": "Malformed"},
        format="json",
        HTTP_IF_MATCH=post_etag(editor_client),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert message in str(response.json())
    post_unchanged(scripted_history, revisions)


def test_creating_a_post_without_an_english_title_is_refused(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    response = editor_client.post(
        f"{API}posts/",
        {"title": {"fr": "Greffier"}, "unit": "unit-y", "reason": "New post"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert response.json()["title"] == ["The English title is required."]
    assert not Post.objects.filter(title_fr="Greffier").exists()


def test_blanking_a_translated_english_description_is_refused(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    link = dotted_line(scripted_history, description_fr="Partage du personnel")
    revisions = link.history.count()
    response = editor_client.patch(
        f"{API}relationships/{link.pk}/",
        {"description": "", "reason": "Blank"},
        format="json",
        HTTP_IF_MATCH=relationship_etag(editor_client, link.pk),
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert "The English description cannot be blank" in response.json()["detail"]
    link.refresh_from_db()
    assert (link.description, link.description_fr) == (
        "Shares staff",
        "Partage du personnel",
    )
    assert link.history.count() == revisions
    # Blank in every language at once: an untranslated dotted line without a text.
    response = editor_client.patch(
        f"{API}relationships/{link.pk}/",
        {"description": {"en": "", "fr": None}, "reason": "No description"},
        format="json",
        HTTP_IF_MATCH=relationship_etag(editor_client, link.pk),
    )
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["languages"]["description"] == {
        "en": None,
        "fr": None,
        "es": None,
    }


def test_creating_a_dotted_line_translated_but_blank_in_english_is_refused(
    editor_client: APIClient,  # noqa: F811
    scripted_history: ScriptedHistory,
) -> None:
    response = editor_client.post(
        f"{API}relationships/",
        {
            "source": "unit-y",
            "target": "hq",
            "kind": "collaborates_with",
            "description": {"fr": "Partage du personnel"},
            "reason": "Linked",
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert "description" in response.json()["errors"]
    assert not UnitRelationship.objects.exists()

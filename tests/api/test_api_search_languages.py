"""The registry search in the reader's language (issue 17): units and posts named in
it, English where not yet translated (listed in ``untranslated``), posts found by
their title in any language, and one cache entry and ETag per language."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.conftest import ScriptedHistory, at
from tests.factories import PostFactory
from units import services

SEARCH = "/api/v1/search/"


def search(query: str, **headers: Any) -> Any:
    response = APIClient().get(
        f"{SEARCH}?{query}", HTTP_ACCEPT="application/json", **headers
    )
    assert response.status_code == HTTPStatus.OK, response.content
    return response


@pytest.fixture
def translated(scripted_history: ScriptedHistory, editor: User) -> ScriptedHistory:
    """Unit Ex with a French name and mandate (no French acronym), Head of X with a
    French title; nothing in Spanish."""
    services.unit_update(
        unit=scripted_history.unit_x,
        user=editor,
        reason="French texts",
        short_name="UX",
        name_fr="Unité Ex",
        mandate_fr="L'unité Ex tient le registre et le publie.",
    )
    services.post_update(
        post=scripted_history.head_of_x,
        user=editor,
        reason="French title",
        title_fr="Chef de l'unité X",
    )
    cache.clear()
    return scripted_history


def test_a_unit_is_named_in_the_asked_language_and_its_fallbacks_listed(
    translated: ScriptedHistory,
) -> None:
    (french,) = search("q=registry&type=unit&lang=fr").json()["results"]
    assert (french["name"], french["short_name"]) == ("Unité Ex", "UX")
    assert french["excerpt"] == "L'unité Ex tient le registre et le publie."
    assert french["untranslated"] == ["short_name"]
    assert french["matched_fields"] == ["mandate"]
    (spanish,) = search("q=registry&type=unit&lang=es").json()["results"]
    assert (spanish["name"], spanish["excerpt"]) == (
        "Unit Ex",
        "Unit Ex keeps the registry and publishes it.",
    )
    assert spanish["untranslated"] == ["name", "short_name", "excerpt"]
    (english,) = search("q=registry&type=unit").json()["results"]
    assert english["name"] == "Unit Ex"
    assert "untranslated" not in english


def test_a_post_is_found_by_its_french_title_and_named_in_the_asked_language(
    translated: ScriptedHistory,
) -> None:
    for query in ("q=chef+de&lang=fr", "q=chef+de", "q=head+of&lang=fr"):
        (post,) = search(query).json()["results"]
        assert (post["type"], post["slug"]) == ("post", "head-of-x"), query
        assert post["matched_fields"] == ["title"]
    (french,) = search("q=chef&lang=fr").json()["results"]
    assert french["name"] == "Chef de l'unité X"
    assert "untranslated" not in french
    (english,) = search("q=chef").json()["results"]
    assert english["name"] == "Head of X"
    (spanish,) = search("q=chef", HTTP_ACCEPT_LANGUAGE="es").json()["results"]
    assert (spanish["name"], spanish["untranslated"]) == ("Head of X", ["name"])
    # A person's name is not translated: never listed as untranslated.
    (person,) = search("q=okoro&lang=es").json()["results"]
    assert (person["name"], "untranslated" in person) == ("Ben Okoro", False)


def test_the_french_title_is_found_only_from_when_it_was_given(
    translated: ScriptedHistory,
) -> None:
    assert search("q=chef&as_of=2024-01-01").json()["count"] == 0
    (post,) = search("q=head+of&as_of=2024-01-01&lang=fr").json()["results"]
    assert (post["name"], post["untranslated"]) == ("Head of X", ["name"])


def test_results_are_ordered_by_their_names_in_the_asked_language(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    setup: dict[str, Any] = {
        "user": editor,
        "reason": "Setup",
        "effective_at": at("2023-02-01"),
    }
    unit = scripted_history.department_b
    PostFactory(
        title="Alpha clerk",
        slug="alpha",
        unit=unit,
        translations={"title_fr": "Zêta commis"},
        **setup,
    )
    PostFactory(title="Beta clerk", slug="beta", unit=unit, **setup)
    PostFactory(
        title="Gamma clerk",
        slug="gamma",
        unit=unit,
        translations={"title_fr": "Commis gamma"},
        **setup,
    )

    def order(query: str) -> list[str]:
        return [hit["slug"] for hit in search(query).json()["results"]]

    assert order("q=clerk") == ["alpha", "beta", "gamma"]
    # French: "Beta clerk" (English, not yet translated), "Commis gamma", "Zêta commis".
    assert order("q=clerk&lang=fr") == ["beta", "gamma", "alpha"]
    assert order("q=commis&lang=fr") == ["gamma", "alpha"]


def test_each_language_has_its_own_cache_entry_and_etag(
    translated: ScriptedHistory,
) -> None:
    english = search("q=chef")
    french = search("q=chef&lang=fr")
    by_header = search("q=chef", HTTP_ACCEPT_LANGUAGE="fr")
    assert english["ETag"] != french["ETag"]
    assert by_header["ETag"] == french["ETag"]
    assert french.json()["results"][0]["name"] == "Chef de l'unité X"
    assert by_header.json()["results"][0]["name"] == "Chef de l'unité X"
    assert english.json()["results"][0]["name"] == "Head of X"
    assert english["Content-Language"] == "en"
    assert french["Content-Language"] == "fr"
    assert "Accept-Language" in french["Vary"]
    # The English tag does not answer a French request with a 304, nor the reverse.
    again = search("q=chef&lang=fr", HTTP_IF_NONE_MATCH=english["ETag"])
    assert again.json()["results"][0]["name"] == "Chef de l'unité X"
    back = search("q=chef", HTTP_IF_NONE_MATCH=french["ETag"])
    assert back.json()["results"][0]["name"] == "Head of X"
    unchanged = APIClient().get(
        f"{SEARCH}?q=chef&lang=fr", HTTP_IF_NONE_MATCH=french["ETag"]
    )
    assert unchanged.status_code == HTTPStatus.NOT_MODIFIED


def test_a_french_title_given_later_changes_the_french_answer(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    before = search("q=head+of&lang=fr")
    assert before.json()["results"][0]["name"] == "Head of X"
    services.post_update(
        post=scripted_history.head_of_x,
        user=editor,
        reason="French title",
        title_fr="Chef de X",
    )
    after = search("q=head+of&lang=fr")
    assert after["ETag"] != before["ETag"]
    assert after.json()["results"][0]["name"] == "Chef de X"


def test_search_refuses_an_unknown_language(scripted_history: ScriptedHistory) -> None:
    response = APIClient().get(f"{SEARCH}?q=head&lang=de")
    assert response.status_code == HTTPStatus.BAD_REQUEST

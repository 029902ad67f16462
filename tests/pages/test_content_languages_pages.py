"""Pages in French and Spanish show the texts in that language (issue 17, content).

A translated name is shown as it is; a missing one falls back to English, marked
``lang="en"`` with a discreet "not yet translated"; as-of pages read the translation
the registry held then.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import PostFactory, UnitFactory, editor_user
from units import selectors, services
from units.models import OrganizationalUnit
from units.selectors.languages import all_languages, localized
from units.templatetags.registry_languages import localized_html

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]

JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
MAR = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)


def finance() -> OrganizationalUnit:
    unit = UnitFactory.create(
        name="Finance", mandate="Counts.", slug="finance", effective_at=JAN
    )
    PostFactory.create(title="Treasurer", unit=unit, is_head=True, effective_at=JAN)
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="French name",
        effective_at=MAR,
        name_fr="Finances",
        mandate_fr="Compte.",
    )
    return unit


def test_localized_picks_the_language_and_says_when_it_fell_back() -> None:
    row = {"name": "Finance", "name_fr": "Finances", "name_es": " "}
    assert localized(row, "name", "fr") == ("Finances", "fr")
    assert localized(row, "name", "es") == ("Finance", "en")
    assert localized(row, "name", "en") == ("Finance", "en")
    assert localized(row, "name", "de") == ("Finance", "en")
    with translation.override("fr"):
        assert localized(row, "name") == ("Finances", "fr")
    assert all_languages(row, "name") == {"en": "Finance", "fr": "Finances", "es": None}


def test_a_fallback_is_marked_english_and_not_yet_translated() -> None:
    row = {"name": "R&D", "name_fr": ""}
    with translation.override("fr"):
        html = localized_html(row, "name")
    assert html.startswith('<span lang="en">R&amp;D</span>')
    assert 'class="untranslated"' in html
    assert localized_html(row, "name", "en") == "R&amp;D"
    assert localized_html({"name": "x", "name_fr": "<b>"}, "name", "fr") == "&lt;b&gt;"


def test_a_french_page_shows_the_french_name_and_marks_english_fallbacks(
    client: Client,
) -> None:
    unit = finance()
    html = client.get(f"/fr/units/{unit.slug}/").content.decode()
    assert "<h1>Finances" in html
    assert "Compte." in html
    # The post has no French title: English, marked.
    assert '<span lang="en">Treasurer</span>' in html
    assert 'class="untranslated"' in html
    spanish = client.get(f"/es/units/{unit.slug}/").content.decode()
    assert '<h1><span lang="en">Finance</span>' in spanish
    english = client.get(f"/units/{unit.slug}/").content.decode()
    assert "<h1>Finance</h1>" in english
    assert "untranslated" not in english


def test_an_as_of_page_reads_the_translation_held_then(client: Client) -> None:
    unit = finance()
    before = client.get(f"/fr/units/{unit.slug}/?as_of=2024-02-01").content.decode()
    assert '<h1><span lang="en">Finance</span>' in before
    after = client.get(f"/fr/units/{unit.slug}/?as_of=2024-04-01").content.decode()
    assert "<h1>Finances" in after


def test_the_tree_shows_names_in_the_page_language(client: Client) -> None:
    finance()
    french = client.get("/fr/").content.decode()
    assert ">Finances</a>" in french
    spanish = client.get("/es/").content.decode()
    assert '<span lang="en">Finance</span>' in spanish


def test_search_finds_a_unit_by_its_name_in_any_language(client: Client) -> None:
    unit = finance()
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="Spanish texts",
        name_es="Hacienda",
        short_name_es="HAC",
    )
    UnitFactory.create(name="Legal", mandate="Advises on finances.", effective_at=JAN)
    for query in ("finances", "hacienda", "hac", "finance"):
        hits, count = selectors.search_units(query, None, limit=10)
        assert hits and hits[0].node.slug == "finance", query
    hits, _count = selectors.search_units("hacienda", None, limit=10)
    assert hits[0].matched_fields == ["name"]
    # As of before the French name, the French word finds only the mandate that has it.
    past, _count = selectors.search_units(
        "finances", MAR - datetime.timedelta(days=1), limit=10
    )
    assert [hit.node.name for hit in past] == ["Legal"]
    answer = client.get("/api/v1/search/?q=hacienda", HTTP_ACCEPT="application/json")
    assert [hit["slug"] for hit in answer.json()["results"]] == ["finance"]


def test_the_api_answers_plain_fields_in_the_asked_language_and_every_language(
    client: Client,
) -> None:
    unit = finance()
    url = f"/api/v1/units/{unit.slug}/"
    french = client.get(f"{url}?lang=fr", HTTP_ACCEPT="application/json").json()
    assert (french["name"], french["mandate"]) == ("Finances", "Compte.")
    assert french["languages"]["name"] == {
        "en": "Finance",
        "fr": "Finances",
        "es": None,
    }
    assert french["languages"]["location"] == {"en": None, "fr": None, "es": None}
    spanish = client.get(
        url, HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="es"
    ).json()
    assert spanish["name"] == "Finance"
    english = client.get(url, HTTP_ACCEPT="application/json").json()
    assert english["name"] == "Finance"
    assert english["languages"] == french["languages"]
    past = client.get(
        f"{url}?lang=fr&as_of=2024-02-01", HTTP_ACCEPT="application/json"
    ).json()
    assert past["name"] == "Finance"
    assert past["languages"]["name"]["fr"] is None
    listed = client.get("/api/v1/units/?lang=fr", HTTP_ACCEPT="application/json")
    assert [item["name"] for item in listed.json()["results"]] == ["Finances"]


def test_the_search_page_names_units_and_posts_in_the_page_language(
    client: Client,
) -> None:
    unit = finance()
    post = unit.posts.get()
    services.post_update(
        post=post, user=editor_user(), reason="French title", title_fr="Trésorier"
    )
    french = client.get("/fr/search/?q=tr%C3%A9sorier").content.decode()
    # Found by its French title, highlighted in it; its unit named in French too.
    assert "><mark>Trésorier</mark></a></h3>" in french
    assert ">Finances</a></p>" in french
    assert "untranslated" not in french
    unit_hit = client.get("/fr/search/?q=finance").content.decode()
    assert "><mark>Finance</mark>s</a></h3>" in unit_hit
    # Spanish: nothing translated, the English texts marked, the note outside links.
    spanish = client.get("/es/search/?q=treasurer").content.decode()
    assert (
        '><span lang="en"><mark>Treasurer</mark></span></a> <span class="untranslated">'
        in (spanish)
    )
    assert '><span lang="en">Finance</span></a> <span class="untranslated">' in spanish
    english = client.get("/search/?q=counts").content.decode()
    assert '<p class="excerpt"><mark>Counts</mark>.</p>' in english
    assert "untranslated" not in english
    spanish_unit = client.get("/es/search/?q=counts").content.decode()
    assert '<p class="excerpt"><span lang="en"><mark>Counts</mark>.</span>' in (
        spanish_unit
    )

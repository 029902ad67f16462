"""The tree in the answer's language, and ETags and the cache per language (issue 17).

Translations are written through the services, as editors write them; the seed and
the scripted history are English only.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import translation
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from api.formats.tree_json import (
    as_of_tree_json,
    current_branch_json,
    current_tree_json,
    tree_json,
)
from api.serializers import TreeNodeSerializer, tree_payload
from benchmarks.generate import generate
from tests.api.test_api import editor_client  # noqa: F401 (fixture)
from tests.api.test_tree_json import traced_peak
from tests.conftest import ScriptedHistory, at
from units import selectors, services
from units.models import OrganizationalUnit

API = "/api/v1/"
BEFORE = "2023-12-01"  # before the French texts below took effect
AFTER = "2024-06-01"


@pytest.fixture
def translated(scripted_history: ScriptedHistory, editor: User) -> ScriptedHistory:
    """Unit X ("Unit Ex") and its head post get French texts from 2024-01-01 on."""
    services.unit_update(
        unit=scripted_history.unit_x,
        user=editor,
        reason="Traduction",
        effective_at=at("2024-01-01"),
        name_fr="Unité Ex",
        short_name_fr="UEx",
    )
    services.post_update(
        post=scripted_history.head_of_x,
        user=editor,
        reason="Traduction",
        effective_at=at("2024-01-01"),
        title_fr="Chef de X",
    )
    cache.clear()
    return scripted_history


def walk(nodes: list[dict[str, Any]] | dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = list(nodes) if isinstance(nodes, list) else [nodes]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node["children"])


def node(nodes: list[dict[str, Any]] | dict[str, Any], slug: str) -> dict[str, Any]:
    return next(found for found in walk(nodes) if found["slug"] == slug)


def rendered(roots: list[selectors.UnitNode], language: str, branch: str = "") -> bytes:
    """DRF's JSON renderer over ``tree_payload`` in ``language``."""
    slugs = {unit.id: unit.slug for root in roots for unit in root.walk()}
    if not branch:
        return JSONRenderer().render(tree_payload(roots, slugs, language=language))
    top = selectors.subtree(roots, branch)
    assert top is not None
    return JSONRenderer().render(tree_payload([top], slugs, language=language)[0])


@pytest.mark.django_db
def test_a_french_tree_names_units_in_french_and_lists_what_is_still_english(
    translated: ScriptedHistory,
) -> None:
    response = APIClient().get(f"{API}tree/", {"lang": "fr"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Language"] == "fr"
    tree = response.json()
    unit_x = node(tree, "unit-x")
    assert (unit_x["name"], unit_x["short_name"]) == ("Unité Ex", "UEx")
    # Its mandate has no French text: the English one, named as such.
    assert unit_x["mandate"] == "Unit Ex keeps the registry and publishes it."
    assert unit_x["untranslated"] == ["mandate"]
    assert unit_x["head"]["title"] == "Chef de X"
    assert "untranslated" not in unit_x["head"]
    hq = node(tree, "hq")
    assert hq["name"] == OrganizationalUnit.objects.get(slug="hq").name
    assert "name" in hq["untranslated"]
    # An empty English text has nothing to translate: not listed.
    assert OrganizationalUnit.objects.get(slug="hq").location == ""
    assert "location" not in hq["untranslated"]


@pytest.mark.django_db
def test_an_english_tree_marks_nothing_and_accept_language_chooses_french(
    translated: ScriptedHistory,
) -> None:
    client = APIClient()
    english = client.get(f"{API}tree/").json()
    assert node(english, "unit-x")["name"] == "Unit Ex"
    assert node(english, "unit-x")["head"]["title"] == "Head of X"
    assert not any("untranslated" in unit for unit in walk(english))
    assert not any("untranslated" in (unit["head"] or {}) for unit in walk(english))
    french = client.get(f"{API}tree/", HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9")
    assert french["Content-Language"] == "fr"
    assert node(french.json(), "unit-x")["name"] == "Unité Ex"
    spanish = client.get(f"{API}tree/", {"lang": "es"}).json()
    assert node(spanish, "unit-x")["name"] == "Unit Ex"
    assert node(spanish, "unit-x")["untranslated"] == ["name", "mandate"]
    assert node(spanish, "unit-x")["head"]["untranslated"] == ["title"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["tree/", "units/department-b/tree/"])
def test_a_french_tree_as_of_reads_the_french_text_recorded_then(
    translated: ScriptedHistory, path: str
) -> None:
    client = APIClient()
    before = node(
        client.get(f"{API}{path}", {"lang": "fr", "as_of": BEFORE}).json(), "unit-x"
    )
    after = node(
        client.get(f"{API}{path}", {"lang": "fr", "as_of": AFTER}).json(), "unit-x"
    )
    assert (before["name"], before["untranslated"]) == ("Unit Ex", ["name", "mandate"])
    assert before["head"]["title"] == "Head of X"
    assert before["head"]["untranslated"] == ["title"]
    assert (after["name"], after["untranslated"]) == ("Unité Ex", ["mandate"])
    assert after["head"]["title"] == "Chef de X"
    current = node(client.get(f"{API}{path}", {"lang": "fr"}).json(), "unit-x")
    assert current["name"] == "Unité Ex"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_every_tree_encoding_equals_the_payload_in_each_language(
    translated: ScriptedHistory, language: str
) -> None:
    """The streamed, sorted and past encoders give ``tree_payload``'s bytes."""
    roots = selectors.unit_tree(include_abolished=True)
    expected = rendered(roots, language)
    assert current_tree_json(include_abolished=True, language=language) == expected
    flat = selectors.unit_tree_flat(include_abolished=True)
    assert tree_json(flat, language=language) == expected
    branch = current_branch_json("department-b", language=language)
    assert branch == rendered(selectors.unit_tree(), language, "department-b")
    past = selectors.unit_tree_as_of(at(AFTER))
    assert as_of_tree_json(at(AFTER), language=language) == rendered(past, language)
    past_branch = as_of_tree_json(at(AFTER), root_slug="unit-x", language=language)
    assert past_branch == rendered(past, language, "unit-x")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_tree_payload_keeps_the_documented_shape_in_each_language(
    translated: ScriptedHistory, language: str
) -> None:
    roots = selectors.unit_tree(include_abolished=True)
    slugs = {unit.id: unit.slug for root in roots for unit in root.walk()}
    with translation.override(language):
        documented = TreeNodeSerializer(
            roots, many=True, context={"unit_slugs": slugs}
        ).data
    payload = tree_payload(roots, slugs, language=language)
    assert json.loads(json.dumps(payload)) == json.loads(json.dumps(documented))
    assert any("untranslated" in unit for unit in walk(payload))


@pytest.mark.django_db
def test_a_french_tree_costs_the_queries_an_english_one_does(
    translated: ScriptedHistory, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        current_tree_json(language="fr")
    with django_assert_num_queries(1):
        current_branch_json("department-b", language="fr")
    with django_assert_num_queries(4):
        as_of_tree_json(at(AFTER), language="fr")
    client = APIClient()
    # The generation, the stamp a later answer is derived from, the streamed rows.
    with django_assert_num_queries(3):
        client.get(f"{API}tree/", {"lang": "fr"})
    with django_assert_num_queries(1):  # the generation: the French answer is cached
        again = client.get(f"{API}tree/", {"lang": "fr"})
    assert node(again.json(), "unit-x")["name"] == "Unité Ex"


# --- ETags and the cache: one per language ---


TREE_READS = [
    ("tree/", {}),
    ("tree/", {"as_of": AFTER}),
    ("units/department-b/tree/", {}),
    ("units/department-b/tree/", {"as_of": AFTER}),
    ("units/", {}),
    ("units/unit-x/", {}),
    ("units/unit-x/", {"as_of": AFTER}),
]


def unit_x_name(body: Any) -> str:
    """Unit X's name in a tree, a branch, a page of the list or the unit."""
    if isinstance(body, dict) and "results" in body:
        return next(
            unit["name"] for unit in body["results"] if unit["slug"] == "unit-x"
        )
    if isinstance(body, dict) and "children" not in body:
        return str(body["name"])
    return str(node(body, "unit-x")["name"])


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "query"), TREE_READS)
def test_english_and_french_answers_never_share_an_etag_or_a_cache_entry(
    translated: ScriptedHistory, path: str, query: dict[str, str]
) -> None:
    client = APIClient()
    english = client.get(f"{API}{path}", query)
    french = client.get(f"{API}{path}", query, HTTP_ACCEPT_LANGUAGE="fr")
    assert english.status_code == french.status_code == HTTPStatus.OK
    assert english["ETag"] != french["ETag"]
    assert unit_x_name(english.json()) == "Unit Ex"
    assert unit_x_name(french.json()) == "Unité Ex"
    for response in (english, french):
        assert "Accept-Language" in response["Vary"]
    # The English tag sent with a French request: the French answer, not a 304.
    crossed = client.get(
        f"{API}{path}",
        query,
        HTTP_ACCEPT_LANGUAGE="fr",
        HTTP_IF_NONE_MATCH=english["ETag"],
    )
    assert crossed.status_code == HTTPStatus.OK
    assert crossed["ETag"] == french["ETag"]
    assert unit_x_name(crossed.json()) == "Unité Ex"
    crossed = client.get(f"{API}{path}", query, HTTP_IF_NONE_MATCH=french["ETag"])
    assert crossed.status_code == HTTPStatus.OK
    assert unit_x_name(crossed.json()) == "Unit Ex"
    # Its own tag (French asked for by ?lang= this time): 304, still varying.
    not_modified = client.get(
        f"{API}{path}",
        {**query, "lang": "fr"},
        HTTP_IF_NONE_MATCH=french["ETag"],
    )
    assert not_modified.status_code == HTTPStatus.NOT_MODIFIED
    assert "Accept-Language" in not_modified["Vary"]
    # Served from the cache now: each language still gets its own answer.
    assert unit_x_name(client.get(f"{API}{path}", query).json()) == "Unit Ex"
    again = client.get(f"{API}{path}", query, HTTP_ACCEPT_LANGUAGE="fr")
    assert unit_x_name(again.json()) == "Unité Ex"


@pytest.mark.django_db
def test_a_french_etag_is_a_version_to_write_against(
    translated: ScriptedHistory,
    editor_client: APIClient,  # noqa: F811
) -> None:
    read = editor_client.get(f"{API}units/unit-y/", {"lang": "fr"})
    assert read["ETag"].endswith('-fr"')
    written = editor_client.patch(
        f"{API}units/unit-y/?lang=fr",
        {"name_fr": "Unité Y", "reason": "Traduction"},
        format="json",
        HTTP_IF_MATCH=read["ETag"],
    )
    assert written.status_code == HTTPStatus.OK, written.content
    assert written["ETag"].endswith('-fr"')
    assert written["ETag"] != read["ETag"]
    # The tag read before that write names an older version: refused, nothing changed.
    stale = editor_client.patch(
        f"{API}units/unit-y/",
        {"name_fr": "Autre", "reason": "Traduction"},
        format="json",
        HTTP_IF_MATCH=read["ETag"],
    )
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert OrganizationalUnit.objects.get(slug="unit-y").name_fr == "Unité Y"


@pytest.mark.django_db
def test_an_unknown_language_is_refused_and_caches_nothing(
    translated: ScriptedHistory, django_assert_num_queries: Any
) -> None:
    client = APIClient()
    with django_assert_num_queries(0):
        refused = client.get(f"{API}tree/", {"lang": "xx"})
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert "en, fr, es" in refused.json()["lang"]
    assert "Accept-Language" in refused["Vary"]


@pytest.mark.django_db
def test_a_snapshots_tree_is_the_same_bytes_in_every_language(
    translated: ScriptedHistory,
) -> None:
    """A snapshot's hashes identify it for good: its tree never follows ``lang``."""
    client = APIClient()

    def tree_of(language: str) -> bytes:
        response = client.get(
            f"{API}export/snapshot.zip", {"as_of": AFTER, "lang": language}
        )
        assert response.status_code == HTTPStatus.OK
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return archive.read("tree.json")

    english = tree_of("en")
    assert tree_of("fr") == english
    assert "Unité Ex" not in english.decode()


@pytest.mark.django_db
@pytest.mark.slow
def test_a_french_tree_holds_as_little_beside_its_json_as_an_english_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bounds of ``test_tree_json``'s memory tests, for an untranslated registry
    read in French (every node then lists its English texts)."""
    generate(1000)
    streamed_peak, body = traced_peak(lambda: current_tree_json(language="fr"))
    assert b'"untranslated":["name"' in body
    assert streamed_peak < 3.5 * len(body), f"{streamed_peak} for {len(body)} bytes"
    monkeypatch.setattr("units.selectors.as_of.CHUNK_ROWS", 50)
    when = at("2019-01-01")
    past_peak, past = traced_peak(lambda: as_of_tree_json(when, language="fr"))
    assert past_peak < 3 * len(past), f"{past_peak} for {len(past)} bytes"

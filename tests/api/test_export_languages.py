"""The exports in three languages (issue 17): JSON-LD language-tagged labels, Popolo
other_names with ``lang``, French and Spanish columns in the CSV and the workbook, and
the import reading them back."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook
from rdflib import Graph, Literal, Namespace, URIRef
from rest_framework.test import APIClient

from api.formats.exports import CSV_COLUMNS
from tests.api.test_api import API
from tests.api.test_api_import import editor_client  # noqa: F401 (fixture)
from tests.conftest import ScriptedHistory
from units import services
from units.models import OrganizationalUnit, RelationshipKind

SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCT = Namespace("http://purl.org/dc/terms/")
# The columns of units.csv before the translations were added: they keep their places.
ENGLISH_COLUMNS = (
    "slug",
    "name",
    "short_name",
    "kind",
    "parent",
    "reporting_line",
    "level",
    "status",
    "established_on",
    "abolished_on",
    "location",
    "mandate",
    "head_post",
    "head_holder",
)


@pytest.fixture
def translated(scripted_history: ScriptedHistory, editor: User) -> ScriptedHistory:
    """Unit X with a French name, acronym and mandate (no Spanish); its head post with
    a French title; a dotted line with a Spanish description."""
    services.unit_update(
        unit=scripted_history.unit_x,
        user=editor,
        reason="Traduction",
        name_fr="Unité X",
        short_name="UX",
        short_name_fr="UXF",
        mandate="Runs X",
        mandate_fr="Dirige X",
    )
    services.post_update(
        post=scripted_history.head_of_x,
        user=editor,
        reason="Traduction",
        title_fr="Chef de X",
    )
    services.relationship_create(
        source=OrganizationalUnit.objects.get(slug="unit-x"),
        target=OrganizationalUnit.objects.get(slug="unit-y"),
        kind=RelationshipKind.SUPPORTS,
        description="Shared desk",
        translations={"description_es": "Mesa compartida"},
        user=editor,
        reason="Dotted line",
    )
    return scripted_history


def unit(slug: str) -> URIRef:
    return URIRef(f"http://testserver/api/v1/units/{slug}/")


# --- JSON-LD ---------------------------------------------------------------------------


def test_jsonld_labels_are_literals_tagged_with_their_language(translated) -> None:
    response = APIClient().get(f"{API}export/org.jsonld")
    assert response.status_code == HTTPStatus.OK
    graph = Graph().parse(data=response.content, format="json-ld")
    labels = set(graph.objects(unit("unit-x"), SKOS.prefLabel))
    # Only the languages that have a text: no Spanish label, no untagged one.
    assert labels == {Literal("Unit Ex", lang="en"), Literal("Unité X", lang="fr")}
    assert set(graph.objects(unit("unit-x"), SKOS.altLabel)) == {
        Literal("UX", lang="en"),
        Literal("UXF", lang="fr"),
    }
    assert set(graph.objects(unit("unit-x"), DCT.description)) == {
        Literal("Runs X", lang="en"),
        Literal("Dirige X", lang="fr"),
    }
    post = URIRef("http://testserver/api/v1/posts/head-of-x/")
    assert set(graph.objects(post, SKOS.prefLabel)) == {
        Literal("Head of X", lang="en"),
        Literal("Chef de X", lang="fr"),
    }
    # An untranslated unit has its English label alone.
    assert set(graph.objects(unit("unit-y"), SKOS.prefLabel)) == {
        Literal("Unit Y", lang="en")
    }


def test_jsonld_as_of_gives_the_labels_of_that_instant(translated) -> None:
    past = APIClient().get(f"{API}export/org.jsonld", {"as_of": "2020-12-31"})
    graph = Graph().parse(data=past.content, format="json-ld")
    assert set(graph.objects(unit("unit-x"), SKOS.prefLabel)) == {
        Literal("Unit X", lang="en")
    }


def test_jsonld_is_the_same_in_every_answer_language(translated) -> None:
    client = APIClient()
    english = client.get(f"{API}export/org.jsonld")
    french = client.get(f"{API}export/org.jsonld", {"lang": "fr"})
    assert english.content == french.content
    assert french["Content-Language"] == "fr"
    assert "Accept-Language" in french["Vary"]


# --- Popolo ----------------------------------------------------------------------------


def test_popolo_other_names_carry_each_translation_with_its_lang(translated) -> None:
    body = APIClient().get(f"{API}export/popolo.json").json()
    organizations = {row["id"]: row for row in body["organizations"]}
    unit_x = organizations["unit-x"]
    assert unit_x["name"] == "Unit Ex"
    assert unit_x["other_names"] == [
        {"name": "Unité X", "lang": "fr", "note": "multilingual"},
        {"name": "UX", "lang": "en", "note": "acronym"},
        {"name": "UXF", "lang": "fr", "note": "acronym"},
    ]
    assert organizations["unit-y"]["other_names"] == []


# --- CSV and workbook ------------------------------------------------------------------


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_csv_has_a_column_per_language_after_the_english_columns(translated) -> None:
    response = APIClient().get(f"{API}export/units.csv")
    header = next(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(header) == CSV_COLUMNS
    assert tuple(header[: len(ENGLISH_COLUMNS)]) == ENGLISH_COLUMNS
    assert header[len(ENGLISH_COLUMNS) :] == [
        "name_fr",
        "name_es",
        "short_name_fr",
        "short_name_es",
        "location_fr",
        "location_es",
        "mandate_fr",
        "mandate_es",
        "head_post_fr",
        "head_post_es",
    ]
    rows = {row["slug"]: row for row in csv_rows(response.content)}
    unit_x = rows["unit-x"]
    assert (unit_x["name"], unit_x["name_fr"], unit_x["name_es"]) == (
        "Unit Ex",
        "Unité X",
        "",
    )
    assert (unit_x["short_name_fr"], unit_x["mandate_fr"]) == ("UXF", "Dirige X")
    assert (unit_x["head_post"], unit_x["head_post_fr"]) == ("Head of X", "Chef de X")
    # Missing: blank, never the English text.
    assert rows["unit-y"]["name_fr"] == ""


def test_workbook_sheets_have_the_translations(translated) -> None:
    content = APIClient().get(f"{API}export/units.xlsx").content
    book = load_workbook(io.BytesIO(content))
    posts = list(book["Posts"].iter_rows(values_only=True))
    assert posts[0][-2:] == ("title_fr", "title_es")
    assert posts[1][1] == "head-of-x"
    assert posts[1][-2:] == ("Chef de X", None)
    lines = list(book["Dotted lines"].iter_rows(values_only=True))
    assert lines[0][-2:] == ("description_fr", "description_es")
    assert lines[1][-2:] == (None, "Mesa compartida")
    units = list(book["Units"].iter_rows(values_only=True))
    assert units[0] == CSV_COLUMNS
    unit_x = next(row for row in units if row[0] == "unit-x")
    assert unit_x[CSV_COLUMNS.index("name_fr")] == "Unité X"


# --- The import reads the columns back -------------------------------------------------

IMPORT = f"{API}reorganizations/import/"


def upload(rows: list[dict[str, str]]) -> io.BytesIO:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    file = io.BytesIO(buffer.getvalue().encode())
    file.name = "units.csv"
    return file


def test_the_translated_export_read_back_has_no_difference(
    translated,
    editor_client: Client,  # noqa: F811
) -> None:
    rows = csv_rows(editor_client.get(f"{API}export/units.csv").content)
    response = editor_client.post(f"{IMPORT}?dry_run=true", {"file": upload(rows)})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["operations"] == []


def test_an_import_changes_and_establishes_translations(
    translated,
    editor_client: Client,  # noqa: F811
) -> None:
    rows = csv_rows(editor_client.get(f"{API}export/units.csv").content)
    for row in rows:
        if row["slug"] == "unit-y":
            row["name_es"] = "Unidad Y"
    rows.append(
        {
            **dict.fromkeys(rows[0], ""),
            "name": "Migration",
            "name_fr": "Migrations",
            "kind": "unit",
            "parent": "hq",
        }
    )
    response = editor_client.post(f"{IMPORT}?dry_run=true", {"file": upload(rows)})
    assert response.status_code == HTTPStatus.OK, response.content
    operations = {op["kind"]: op["payload"] for op in response.json()["operations"]}
    assert operations["change_unit"] == {
        "unit": "unit-y",
        "fields": {"name_es": "Unidad Y"},
    }
    assert operations["establish_unit"]["translations"] == {"name_fr": "Migrations"}
    # Drafted, its try-out applies both without a problem.
    drafted = editor_client.post(
        IMPORT, {"file": upload(rows), "title": "Traductions", "reason": "Import"}
    )
    assert drafted.status_code == HTTPStatus.CREATED, drafted.content
    assert drafted.json()["problems"] == []


def test_an_import_refuses_a_too_long_translation_naming_its_column(
    translated,
    editor_client: Client,  # noqa: F811
) -> None:
    rows = csv_rows(editor_client.get(f"{API}export/units.csv").content)
    rows[0]["short_name_fr"] = "x" * 500
    response = editor_client.post(f"{IMPORT}?dry_run=true", {"file": upload(rows)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    problems = response.json()["problems"]
    assert [problem["field"] for problem in problems] == ["short_name_fr"]
    assert OrganizationalUnit.objects.get(slug=rows[0]["slug"]).short_name_fr == ""


# --- Bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "export/units.csv",
        "export/units.xlsx",
        "export/org.jsonld",
        "export/popolo.json",
        "export/snapshot.zip",
        "changes.atom",
    ],
)
def test_an_unknown_language_on_an_export_is_a_400_listing_the_codes(
    scripted_history, path: str
) -> None:
    response = APIClient().get(f"{API}{path}", {"lang": "xx"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    message = response.json()["lang"]
    assert "“xx”" in message
    assert "en, fr, es" in message


# --- Atom feeds ------------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.mark.parametrize("path", ["changes.atom", "changes.recorded.atom"])
def test_a_feed_says_its_language_and_tags_each_language_apart(
    scripted_history, path: str
) -> None:
    client = APIClient()
    english = client.get(f"{API}{path}")
    french = client.get(f"{API}{path}", HTTP_ACCEPT_LANGUAGE="fr")
    spanish = client.get(f"{API}{path}", {"lang": "es"})
    for response, language in ((english, "en"), (french, "fr"), (spanish, "es")):
        assert response.status_code == HTTPStatus.OK
        root = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
        assert root.get(XML_LANG) == language
        assert response["Content-Language"] == language
        assert "Accept-Language" in response["Vary"]
    assert len({english["ETag"], french["ETag"], spanish["ETag"]}) == 3
    # The English copy is not the French one: no 304 for it.
    again = client.get(
        f"{API}{path}", HTTP_ACCEPT_LANGUAGE="fr", HTTP_IF_NONE_MATCH=english["ETag"]
    )
    assert again.status_code == HTTPStatus.OK
    assert again["ETag"] == french["ETag"]
    cached = client.get(
        f"{API}{path}", HTTP_ACCEPT_LANGUAGE="fr", HTTP_IF_NONE_MATCH=french["ETag"]
    )
    assert cached.status_code == HTTPStatus.NOT_MODIFIED


def test_a_feed_reads_its_words_in_the_answer_language(
    scripted_history, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feed's words go through gettext in the answer's language (the catalogue's
    French is the lead's to write: a stand-in catalogue shows the lookup)."""
    from api.formats import feeds

    asked: list[str] = []

    def french_only(message: str) -> str:
        asked.append(translation.get_language() or "")
        return f"[fr] {message}" if translation.get_language() == "fr" else message

    monkeypatch.setattr(feeds, "_", french_only)
    french = APIClient().get(f"{API}changes.atom", {"lang": "fr"})
    assert french.status_code == HTTPStatus.OK
    summaries = [
        entry.findtext(f"{ATOM}summary") or ""
        for entry in ElementTree.fromstring(french.content).iter(f"{ATOM}entry")  # noqa: S314
    ]
    assert summaries
    assert all("[fr] Reason:" in summary for summary in summaries)
    assert set(asked) == {"fr"}

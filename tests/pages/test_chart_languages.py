"""The chart and its downloads in the page's language (issue 17, the chart).

Names and head post titles are read in the page's language, English where not yet
translated and marked ``lang="en"``; the picture says its language; the downloads
are reached under the page's prefix, and a French file is not an English one (nor
shares its cached answer or ETag).
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ElementTree
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.conftest import ScriptedHistory, at
from tests.pages.test_chart_pages import page_svg
from tests.services.test_reorganizations import FIVE_OPERATIONS, registry, scheduled
from units import services
from units.chart import svg as chart_svg

pytestmark = pytest.mark.usefixtures("plain_static_files")

__all__ = ["registry"]  # the fixture, shared
SVG = "{http://www.w3.org/2000/svg}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def parsed(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 -- the registry's own markup


def box(svg: ElementTree.Element, slug: str, part: str) -> ElementTree.Element:
    """The ``name`` or ``head`` text of the box of ``slug``."""
    found = svg.find(f".//{SVG}g[@data-slug='{slug}']//{SVG}text[@class='{part}']")
    assert found is not None, (slug, part)
    return found


def text_of(element: ElementTree.Element) -> str:
    """An element's text as drawn: its lines (tspans with a position) apart."""
    lines = element.findall(f"{SVG}tspan")
    return " / ".join("".join(line.itertext()) for line in lines) or "".join(
        element.itertext()
    )


def english_runs(element: ElementTree.Element) -> list[str]:
    """The texts marked English inside ``element`` (itself included)."""
    return [
        "".join(marked.itertext())
        for marked in element.iter()
        if marked.get("lang") == "en"
    ]


@pytest.fixture
def translated(scripted_history: ScriptedHistory, editor: User) -> ScriptedHistory:
    """Headquarters and Department B have French names; Unit X and the post
    heading it have none."""
    for unit, name in (
        (scripted_history.root, "Siège"),
        (scripted_history.department_b, "Département B"),
    ):
        services.unit_update(unit=unit, user=editor, reason="French name", name_fr=name)
    return scripted_history


def test_a_french_chart_shows_french_names_and_marks_english_ones(
    client: Client, translated: ScriptedHistory
) -> None:
    svg = parsed(page_svg(client.get("/fr/chart/").content.decode()))
    assert svg.get("lang") == "fr"
    assert svg.get(XML_LANG) == "fr"
    department = box(svg, "department-b", "name")
    assert text_of(department) == "Département B"
    assert english_runs(department) == []
    # Not yet translated: the English name, marked English on its text.
    unit_x = box(svg, "unit-x", "name")
    assert text_of(unit_x) == "Unit Ex"
    assert unit_x.get("lang") == "en"
    # The heading names the organization in French.
    heading = svg.find(f".//{SVG}text[@class='chart-heading']")
    assert heading is not None
    assert "".join(heading.itertext()) == "Siège"
    assert heading.get("lang") is None


def test_an_english_title_inside_a_french_sentence_is_marked_alone(
    client: Client, translated: ScriptedHistory, editor: User
) -> None:
    svg = parsed(page_svg(client.get("/fr/chart/").content.decode()))
    head = box(svg, "unit-x", "head")
    assert text_of(head) == "Head of X : Ben Okoro"
    assert head.get("lang") is None
    assert english_runs(head) == ["Head of X"]
    services.post_update(
        post=translated.head_of_x,
        user=editor,
        reason="French title",
        title_fr="Chef de X",
    )
    svg = parsed(page_svg(client.get("/fr/chart/").content.decode()))
    head = box(svg, "unit-x", "head")
    assert text_of(head) == "Chef de X : Ben Okoro"
    assert english_runs(head) == []


def test_an_english_chart_marks_nothing(
    client: Client, translated: ScriptedHistory
) -> None:
    svg = parsed(page_svg(client.get("/chart/").content.decode()))
    assert svg.get("lang") == "en"
    assert text_of(box(svg, "department-b", "name")) == "Department B"
    assert [element.tag for element in svg.iter() if element.get("lang") == "en"] == [
        f"{SVG}svg"
    ]


def test_an_opened_branch_is_named_in_french(
    client: Client, translated: ScriptedHistory
) -> None:
    page = client.get("/fr/chart/?root=department-b").content.decode()
    assert "<h1>Organigramme\u00a0: Département B" in page
    breadcrumbs = re.search(
        r'<nav aria-label="[^"]*" class="breadcrumbs">.*?</nav>', page, re.S
    )
    assert breadcrumbs is not None
    assert ">Siège</a>" in breadcrumbs.group(0)
    subheading = parsed(page_svg(page)).find(f".//{SVG}text[@class='chart-subheading']")
    assert subheading is not None
    assert "".join(subheading.itertext()).startswith(
        "Organigramme\u00a0: Département B — au "
    )
    # Opened on an untranslated unit: its English name marked inside the sentence.
    page = client.get("/fr/chart/?root=unit-x").content.decode()
    assert '<h1>Organigramme\u00a0: <span lang="en">Unit Ex</span>' in page
    subheading = parsed(page_svg(page)).find(f".//{SVG}text[@class='chart-subheading']")
    assert subheading is not None
    assert english_runs(subheading) == ["Unit Ex"]


def test_dotted_lines_are_named_in_the_page_language(
    client: Client, translated: ScriptedHistory, editor: User
) -> None:
    services.relationship_create(
        source=translated.unit_y,
        target=translated.department_b,
        kind="advises",
        user=editor,
        reason="Working arrangement",
        effective_at=at("2023-07-01"),
    )
    svg = parsed(page_svg(client.get("/fr/chart/").content.decode()))
    line = svg.find(f".//{SVG}g[@class='relationship']/{SVG}title")
    assert line is not None
    assert line.text == "Unit Y conseille Département B"
    english = parsed(page_svg(client.get("/chart/").content.decode()))
    line = english.find(f".//{SVG}g[@class='relationship']/{SVG}title")
    assert line is not None
    assert line.text == "Unit Y advises Department B"


def test_the_downloads_are_offered_and_drawn_in_the_page_language(
    client: Client, translated: ScriptedHistory
) -> None:
    page = client.get("/fr/chart/?root=department-b").content.decode()
    links = re.findall(r'href="([^"]*/download\.[a-z]+\?[^"]*)"', page)
    assert len(links) == 4
    assert all(link.startswith("/fr/chart/download.") for link in links)
    unit_page = client.get("/fr/units/department-b/").content.decode()
    assert 'href="/fr/chart/download.pdf?root=department-b' in unit_page

    svg = client.get("/fr/chart/download.svg?root=department-b")
    assert svg.status_code == HTTPStatus.OK
    assert svg["Content-Language"] == "fr"
    assert 'filename="org-chart-department-b-' in svg["Content-Disposition"]
    assert svg["Content-Disposition"].endswith('-fr.svg"')
    drawn = parsed(svg.content.decode())
    assert drawn.get("lang") == "fr"
    assert text_of(box(drawn, "department-b", "name")) == "Département B"
    assert box(drawn, "unit-x", "name").get("lang") == "en"
    desc = drawn.find(f"{SVG}desc")
    assert desc is not None
    # Described in French, as the catalog says it (English until translated).
    with translation.override("fr"):
        assert desc.text == chart_svg._description()

    for file_format in ("png", "pdf"):
        french = client.get(f"/fr/chart/download.{file_format}?as_of=2024-01-01")
        english = client.get(f"/chart/download.{file_format}?as_of=2024-01-01")
        assert french.status_code == english.status_code == HTTPStatus.OK
        assert french.content != english.content, file_format
        assert french["Content-Language"] == "fr"
        assert english["Content-Disposition"].endswith(f'2024-01-01.{file_format}"')


def pdf_title(pdf: bytes) -> str:
    """The PDF's title (its Info dictionary), as cairo writes it: UTF-16 in hex."""
    found = re.search(rb"/Title\s*<FEFF([0-9A-Fa-f]*)>", pdf)
    assert found is not None
    return bytes.fromhex(found.group(1).decode()).decode("utf-16-be")


def test_the_pdf_is_titled_in_the_page_language(
    client: Client, translated: ScriptedHistory
) -> None:
    french = pdf_title(client.get("/fr/chart/download.pdf").content)
    assert french.startswith("Siège — ")
    assert re.search(r", \d+ [a-zéû]+ \d{4}$", french), french  # "3 décembre 2026"
    english = pdf_title(client.get("/chart/download.pdf").content)
    assert english.startswith("Headquarters — organization chart, ")
    # As of a day before the French name was given: the English one.
    then = pdf_title(client.get("/fr/chart/download.pdf?as_of=2024-01-01").content)
    assert then.startswith("Headquarters — ")
    assert then.endswith("1 janvier 2024")


@pytest.mark.parametrize("path", ["/chart/", "/chart/download.svg"])
def test_a_french_chart_reads_as_many_queries_as_an_english_one(
    client: Client,
    translated: ScriptedHistory,
    editor: User,
    django_assert_num_queries: Any,
    path: str,
) -> None:
    services.relationship_create(
        source=translated.unit_y,
        target=translated.department_b,
        kind="advises",
        user=editor,
        reason="Working arrangement",
        effective_at=at("2023-07-01"),
    )
    with CaptureQueriesContext(connection) as english:
        assert client.get(path).status_code == HTTPStatus.OK
    with django_assert_num_queries(len(english.captured_queries)):
        assert client.get(f"/fr{path}").status_code == HTTPStatus.OK


def test_a_planned_download_is_cached_and_etagged_per_language(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    """A future chart is built once and kept (orgregistry.planned_reads): the French
    file is kept apart from the English one, under its own ETag."""
    services.unit_update(
        unit=registry["dept_b"], user=editor, reason="French name", name_fr="Dépt B"
    )
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    day = (reorganization.effective_at + datetime.timedelta(days=1)).date()
    path = f"chart/download.svg?as_of={day.isoformat()}"
    english = client.get(f"/{path}")
    french = client.get(f"/fr/{path}")
    assert english.status_code == french.status_code == HTTPStatus.OK
    assert english["Registry-Planned"] == french["Registry-Planned"] == "true"
    assert english["ETag"] != french["ETag"]
    assert "Dépt B" in french.content.decode()
    assert "Dépt B" not in english.content.decode()
    # Asked again, each is its own kept answer; the other's ETag does not match.
    again = client.get(f"/fr/{path}")
    assert again.content == french.content
    assert again["ETag"] == french["ETag"]
    assert (
        client.get(f"/fr/{path}", HTTP_IF_NONE_MATCH=french["ETag"]).status_code
        == HTTPStatus.NOT_MODIFIED
    )
    assert (
        client.get(f"/fr/{path}", HTTP_IF_NONE_MATCH=english["ETag"]).status_code
        == HTTPStatus.OK
    )
    assert "Dépt B" not in client.get(f"/{path}").content.decode()

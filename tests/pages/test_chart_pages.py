"""The org chart page and its downloads: what the picture says, sizes, branches."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ElementTree
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import ScriptedHistory, at
from tests.factories import (
    AppointmentFactory,
    PersonFactory,
    PostFactory,
    UnitFactory,
)
from units.chart import SMALLEST_TEXT, document_size
from units.chart.pages import MIN_TEXT_PT, PAGE_SIZES, tiling
from units.models import OrganizationalUnit, UnitKind

SVG = "{http://www.w3.org/2000/svg}"


def headings(svg: str) -> tuple[str, str]:
    """The chart's heading and subheading, as drawn in the picture."""
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- the registry's own markup
    heading = tree.find(f".//{SVG}text[@class='chart-heading']")
    subheading = tree.find(f".//{SVG}text[@class='chart-subheading']")
    assert heading is not None
    assert subheading is not None
    return heading.text or "", subheading.text or ""


def page_svg(html: str) -> str:
    drawn = re.search(r'<svg [^>]*class="org-chart".*?</svg>', html, re.S)
    assert drawn is not None
    return drawn.group(0)


def test_the_chart_names_the_organization_and_the_date_it_shows(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    today = f"{timezone.now().date():%-d %B %Y}"
    now = page_svg(client.get("/chart/").content.decode())
    assert headings(now) == ("Headquarters", f"Organization chart — as of {today}")
    then = client.get("/chart/download.svg?as_of=2021-01-01").content.decode()
    assert headings(then) == (
        "Headquarters",
        "Organization chart — as of 1 January 2021",
    )


def test_a_branch_chart_names_the_organization_it_belongs_to(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    svg = client.get("/chart/download.svg?root=department-b").content.decode()
    assert headings(svg)[0] == "Headquarters"
    assert headings(svg)[1].startswith("Organization chart: Department B — as of ")


def test_a_registry_of_several_top_units_is_named_by_the_setting(
    client: Client,
    scripted_history: ScriptedHistory,
    make_unit: object,
    settings: object,
) -> None:
    settings.REGISTRY_NAME = "Two Agencies Registry"  # type: ignore[attr-defined]
    make_unit("Second Agency", slug="second-agency")  # type: ignore[operator]
    svg = page_svg(client.get("/chart/").content.decode())
    assert headings(svg)[0] == "Two Agencies Registry"


def head_lines(svg: str) -> dict[str, str]:
    """Each box's head line, by unit slug."""
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- the registry's own markup
    lines = {}
    for unit in tree.iter(f"{SVG}g"):
        if unit.get("class") == "unit":
            head = unit.find(f".//{SVG}text[@class='head']")
            lines[unit.get("data-slug", "")] = (
                "" if head is None else " ".join(head.itertext())
            )
    return lines


@pytest.mark.parametrize(
    ("as_of", "head_of_x"),
    [
        ("", "Head of X: Ben Okoro"),
        ("?as_of=2021-01-01", "Head of X: Ana Lima"),
        ("?as_of=2020-03-01", None),  # before Unit X was established
    ],
)
def test_boxes_show_the_head_post_and_its_holder_on_the_charts_date(
    client: Client, scripted_history: ScriptedHistory, as_of: str, head_of_x: str
) -> None:
    lines = head_lines(page_svg(client.get(f"/chart/{as_of}").content.decode()))
    assert lines.get("unit-x") == head_of_x
    # Units without a head post show no head line (and not their kind instead).
    assert lines["hq"] == ""
    assert lines["department-b"] == ""


def test_a_vacant_head_post_is_named_as_vacant(
    client: Client, scripted_history: ScriptedHistory, editor: AbstractBaseUser
) -> None:
    PostFactory(
        user=editor,
        reason="Head post for B",
        title="Director of B",
        unit=scripted_history.department_b,
        is_head=True,
        slug="director-of-b",
    )
    lines = head_lines(page_svg(client.get("/chart/").content.decode()))
    assert lines["department-b"] == "Head post vacant: Director of B"


def add_headed_units(
    editor: AbstractBaseUser, parent: OrganizationalUnit, count: int
) -> None:
    """Units under ``parent``, each with a head post and someone holding it."""
    for number in range(count):
        unit = UnitFactory(
            user=editor,
            reason="Test setup",
            name=f"Section {parent.slug} {number}",
            parent=parent,
            kind=UnitKind.UNIT,
            effective_at=at("2020-02-01"),
        )
        post = PostFactory(
            user=editor,
            reason="Head post",
            title=f"Chief {number}",
            unit=unit,
            is_head=True,
            effective_at=at("2020-02-01"),
        )
        person = PersonFactory(
            user=editor,
            reason="New person",
            full_name=f"Person {parent.slug} {number}",
            effective_at=at("2020-02-01"),
        )
        AppointmentFactory(
            user=editor,
            reason="Appointed",
            person=person,
            post=post,
            started_on=datetime.date(2020, 2, 1),
            effective_at=at("2020-02-01"),
        )


@pytest.mark.parametrize("as_of", ["", "?as_of=2024-01-01"])
def test_the_heads_are_read_in_a_number_of_queries_that_does_not_grow(
    client: Client,
    scripted_history: ScriptedHistory,
    editor: AbstractBaseUser,
    django_assert_num_queries: Any,
    as_of: str,
) -> None:
    url = f"/chart/{as_of}"
    add_headed_units(editor, scripted_history.department_b, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == HTTPStatus.OK
    add_headed_units(editor, scripted_history.root, 12)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    lines = head_lines(page_svg(response.content.decode()))
    headed = [line for line in lines.values() if line.startswith("Chief ")]
    assert len(headed) == 14
    assert "Chief 11: Person hq 11" in lines.values()


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's width and height in points, read from its MediaBox."""
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(
        rb"/Type\s*/Page\b(?!s).*?/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+"
        rb"([\d.]+)\s*\]",
        pdf,
        re.S,
    )
    if not boxes:  # MediaBox written before /Type
        boxes = re.findall(
            rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf
        )
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    sizes = [
        (float(right) - float(left), float(top) - float(bottom))
        for left, bottom, right, top in boxes
    ]
    assert len(sizes) == pages, (sizes, pages)
    return sizes


A4 = (841.89, 595.28)
A3 = (1190.55, 841.89)


@pytest.mark.parametrize(
    ("query", "size"),
    [("", A4), ("&page=a4", A4), ("&page=A3", A3), ("&page=a3", A3)],
)
def test_the_pdf_is_on_a4_or_a3_landscape_pages(
    client: Client, scripted_history: ScriptedHistory, query: str, size: tuple
) -> None:
    response = client.get(f"/chart/download.pdf?as_of=2021-01-01{query}")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/pdf"
    pages = pdf_pages(response.content)
    # A chart of five units fits one page legibly.
    assert len(pages) == 1
    assert pages[0] == pytest.approx(size, abs=0.01)


@pytest.mark.parametrize("page", ["b5", "a4 portrait", "letter", ""])
def test_an_unknown_page_size_is_refused_with_a_message(
    client: Client, scripted_history: ScriptedHistory, page: str
) -> None:
    response = client.get(f"/chart/download.pdf?page={page}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"].startswith("text/plain")
    assert f"The page size “{page}” is not offered; choose A4 or A3" in (
        response.content.decode()
    )


def test_a_chart_too_wide_for_one_page_is_split_over_several(
    client: Client, scripted_history: ScriptedHistory, editor: AbstractBaseUser
) -> None:
    add_headed_units(editor, scripted_history.root, 12)
    svg = client.get("/chart/download.svg").content.decode()
    width, height = document_size(svg)
    a4 = client.get("/chart/download.pdf?page=a4").content
    a3 = client.get("/chart/download.pdf?page=a3").content
    a4_pages, a3_pages = pdf_pages(a4), pdf_pages(a3)
    assert all(page == pytest.approx(A4, abs=0.01) for page in a4_pages)
    assert all(page == pytest.approx(A3, abs=0.01) for page in a3_pages)
    # Scaled to one A4 page the text would be too small: it takes more pages, A3
    # fewer, each at least as legible as the set minimum.
    expected = tiling(width, height, PAGE_SIZES["a4"])
    assert expected.scale * SMALLEST_TEXT >= MIN_TEXT_PT
    assert len(a4_pages) == expected.pages > 1
    assert len(a3_pages) < len(a4_pages)


def test_the_chart_page_offers_the_pdf_on_a4_and_a3(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    html = client.get("/chart/?root=department-b").content.decode()
    assert 'download.pdf?depth=3&amp;root=department-b&amp;page=a4"' in html
    assert 'download.pdf?depth=3&amp;root=department-b&amp;page=a3"' in html


def branch_links(html: str) -> list[str]:
    """The unit page's links to the chart of its branch and its downloads."""
    section = re.search(r'<p class="branch-chart">.*?</p>', html, re.S)
    if section is None:
        return []
    return [
        link.replace("&amp;", "&")
        for link in re.findall(r'href="([^"]+)"', section.group(0))
    ]


@pytest.mark.parametrize("as_of", ["", "2023-08-01"])
def test_a_unit_page_links_to_the_chart_of_its_branch_and_its_downloads(
    client: Client, scripted_history: ScriptedHistory, as_of: str
) -> None:
    query = f"?as_of={as_of}" if as_of else ""
    links = branch_links(client.get(f"/units/department-b/{query}").content.decode())
    assert [link.split("?")[0] for link in links] == [
        "/chart/",
        "/chart/download.svg",
        "/chart/download.png",
        "/chart/download.pdf",
        "/chart/download.pdf",
    ]
    assert all("root=department-b" in link for link in links)
    assert all((f"as_of={as_of}" in link) == bool(as_of) for link in links)
    chart_page = page_svg(client.get(links[0]).content.decode())
    download = client.get(links[1])
    assert download.status_code == HTTPStatus.OK
    for drawn in (chart_page, download.content.decode()):
        slugs = set(head_lines(drawn))
        # The branch: the unit and what is below it, nothing beside or above it.
        assert slugs == {"department-b", "unit-x", "unit-y"}
        assert headings(drawn)[1].startswith("Organization chart: Department B")
    for link, size in ((links[3], A4), (links[4], A3)):
        response = client.get(link)
        assert response.status_code == HTTPStatus.OK
        assert pdf_pages(response.content) == [pytest.approx(size, abs=0.01)]


def test_an_abolished_unit_offers_no_chart_of_its_branch(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    html = client.get("/units/department-a/").content.decode()
    assert "This unit was abolished" in html
    assert branch_links(html) == []
    before = client.get("/units/department-a/?as_of=2021-06-01").content.decode()
    assert branch_links(before)[0] == "/chart/?root=department-a&as_of=2021-06-01"

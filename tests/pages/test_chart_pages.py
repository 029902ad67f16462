"""The org chart page and its downloads: what the picture says, sizes, branches."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from django.test import Client
from django.utils import timezone

from tests.conftest import ScriptedHistory

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

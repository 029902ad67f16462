"""The org chart's dotted lines in a real headless Chromium: routed between the boxes.

Runs on the seed organization with more dotted-line relationships than it ships with
(between neighbours, within a column, across the chart, from the top unit down), and
checks the picture the browser draws: Chromium's own geometry of each path must not
enter a box other than the two it joins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import screenshot
from units import services
from units.models import OrganizationalUnit
from units.seed import load_structure

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "iom_structure.json"
MORE_RELATIONSHIPS = [
    (
        "office-of-staff-security",
        "department-of-operations-and-emergencies",
        "collaborates_with",
    ),
    (
        "office-of-the-inspector-general",
        "office-of-the-ombudsperson",
        "coordinates_with",
    ),
    (
        "risk-management-unit",
        "operational-compliance-unit",
        "works_in_conjunction_with",
    ),
    ("department-of-legal-affairs", "office-of-the-inspector-general", "advises"),
    (
        "monitoring-and-evaluation-unit",
        "department-of-policy-and-research",
        "collaborates_with",
    ),
    ("media-and-communications-unit", "department-of-external-relations", "supports"),
    ("office-of-the-director-general", "global-data-institute", "advises"),
    (
        "ethics-and-conduct-unit",
        "office-of-the-ombudsperson",
        "works_in_conjunction_with",
    ),
    (
        "global-compact-on-migration-unit",
        "united-nations-network-on-migration-secretariat",
        "supports",
    ),
]

pytestmark = pytest.mark.usefixtures("transactional_db", "plain_static_files")


@pytest.fixture
def organization(editor: User) -> None:
    """The seed with its three dotted lines and nine more."""
    load_structure(SEED, user=editor)
    for source, target, kind in MORE_RELATIONSHIPS:
        services.relationship_create(
            source=OrganizationalUnit.objects.get(slug=source),
            target=OrganizationalUnit.objects.get(slug=target),
            kind=kind,
            user=editor,
            reason="Working arrangement",
        )


# For each dotted line: where the browser puts points along it every 2 pixels that
# fall inside a box (or "+N" badge) other than its two ends, or inside one of its ends
# rather than on the border.
POINTS_INSIDE_BOXES = """
() => {
  const boxes = [...document.querySelectorAll('[data-chart] g.unit')].map(unit => ({
    slug: unit.dataset.slug,
    rects: [...unit.querySelectorAll('rect')].map(rect => rect.getBBox()),
  }));
  return [...document.querySelectorAll('[data-chart] g.relationship')].map(group => {
    const path = group.querySelector('path.edge-relationship');
    const length = path.getTotalLength();
    const inside = [];
    for (let at = 0; at <= length; at += 2) {
      const point = path.getPointAtLength(at);
      for (const box of boxes) {
        const own = box.slug === group.dataset.from || box.slug === group.dataset.to;
        // Its own boxes it may touch on the border; others it must not even touch.
        const margin = own ? 0.5 : -0.5;
        for (const rect of box.rects) {
          if (point.x > rect.x + margin && point.x < rect.x + rect.width - margin
              && point.y > rect.y + margin && point.y < rect.y + rect.height - margin) {
            inside.push(`${Math.round(point.x)},${Math.round(point.y)} in ${box.slug}`);
          }
        }
      }
    }
    return {
      from: group.dataset.from,
      to: group.dataset.to,
      title: group.querySelector('title').textContent,
      path: path.getAttribute('d'),
      inside: inside,
    };
  });
}
"""


def corners(path: str) -> list[tuple[float, float]]:
    return [
        (float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", path)
    ]


def test_dotted_lines_run_between_the_boxes_in_chromium(
    page: Page, live_server: LiveServer, organization: None
) -> None:
    page.goto(f"{live_server.url}/chart/")
    page.locator("[data-chart] svg").wait_for()
    assert page.locator("[data-chart] g.unit").count() == 44
    lines = page.evaluate(POINTS_INSIDE_BOXES)
    assert len(lines) == 12
    for line in lines:
        assert line["inside"] == [], line["title"]
        points = corners(line["path"])
        assert all(
            start[0] == end[0] or start[1] == end[1]
            for start, end in zip(points, points[1:], strict=False)
        ), line["title"]
    titles = {line["title"] for line in lines}
    assert "PRIMA Unit works in conjunction with Department of Information and " in (
        " ".join(sorted(titles))
    )
    assert "Office of the Director General advises Global Data Institute" in titles, (
        titles
    )

    # Dotted, with an arrow, and drawn over white casings: unlike the solid lines.
    style = page.evaluate(
        """() => {
          const dotted = document.querySelector('[data-chart] .edge-relationship');
          const solid = document.querySelector('[data-chart] .edge-supervision');
          return {
            dotted: getComputedStyle(dotted).strokeDasharray,
            solid: getComputedStyle(solid).strokeDasharray,
            arrow: dotted.getAttribute('marker-end'),
            casings: document.querySelectorAll(
              '[data-chart] .relationship-casings path').length,
          };
        }"""
    )
    assert style["dotted"] not in ("", "none")
    assert style["solid"] == "none"
    assert style["arrow"] == "url(#relationship-arrow)"
    assert style["casings"] == 12

    # Neighbours side by side are joined by one straight piece.
    neighbours = next(
        line
        for line in lines
        if line["from"] == "office-of-the-inspector-general"
        and line["to"] == "office-of-the-ombudsperson"
    )
    assert len(corners(neighbours["path"])) == 2

    # The whole picture, fitted to the frame and not cut at its height, to look at.
    page.get_by_role("button", name="Fit").click()
    page.evaluate("document.querySelector('[data-chart]').style.maxHeight = 'none'")
    screenshot(page, "page-chart-relationships")

    # The downloads draw the same routes.
    download = page.request.get(f"{live_server.url}/chart/download.svg")
    assert download.ok
    assert download.text().count('class="edge edge-relationship"') == 12
    for file_format, magic in (("png", b"\x89PNG"), ("pdf", b"%PDF")):
        response = page.request.get(f"{live_server.url}/chart/download.{file_format}")
        assert response.ok
        assert response.body().startswith(magic)


# The least size, in screen pixels, of any text of the chart at "Fit" (pages.js).
READABLE_TEXT_PX = 10

# Every text of the chart: its size on screen (its font size times the zoom), and for
# each line of a box whether it runs past the box's inner edge.
TEXT_ON_SCREEN = """
() => {
  const svg = document.querySelector('[data-chart] svg');
  const zoom = svg.getScreenCTM().a;
  const sizes = [...svg.querySelectorAll('text')].map(
    text => parseFloat(getComputedStyle(text).fontSize) * zoom);
  const overflowing = [];
  for (const unit of svg.querySelectorAll('g.unit')) {
    const box = unit.querySelector('rect.box').getBBox();
    for (const span of unit.querySelectorAll('text.name tspan, text.head tspan')) {
      const line = span.getBBox();
      if (line.x + line.width > box.x + box.width - 4
          || line.y + line.height > box.y + box.height) {
        overflowing.push(`${unit.dataset.slug}: ${span.textContent}`);
      }
    }
  }
  return {zoom, smallest: Math.min(...sizes), overflowing,
    width: svg.getBoundingClientRect().width,
    frame: document.querySelector('[data-chart]').clientWidth,
    ellipses: svg.textContent.includes('…')};
}
"""


def test_text_stays_readable_at_fit_and_no_name_is_cut(
    page: Page, live_server: LiveServer, organization: None
) -> None:
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/chart/?depth=all")
    page.locator("[data-chart] svg").wait_for()
    opened = page.evaluate(TEXT_ON_SCREEN)
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Fit").click()
    fitted = page.evaluate(TEXT_ON_SCREEN)
    for drawn in (opened, fitted):
        assert drawn["smallest"] >= READABLE_TEXT_PX - 0.01, drawn
        assert drawn["overflowing"] == []
        assert not drawn["ellipses"]
    # The seed is wider than the window at a readable size: "Fit" zooms out only as
    # far as the text allows, and the rest of the width scrolls.
    assert fitted["zoom"] == pytest.approx(READABLE_TEXT_PX / 12, abs=0.01)
    assert fitted["width"] > fitted["frame"]
    screenshot(page, "page-chart-fit", full_page=False)
    # A branch narrower than the window is shown whole, at full size.
    page.goto(f"{live_server.url}/chart/?root=department-of-operations-and-emergencies")
    page.get_by_role("button", name="Fit").click()
    branch = page.evaluate(TEXT_ON_SCREEN)
    assert branch["overflowing"] == []
    assert branch["width"] <= branch["frame"]
    assert branch["smallest"] >= READABLE_TEXT_PX
    screenshot(page, "page-chart-branch")
    assert errors == []


def test_printing_the_chart_page_prints_the_chart_alone(
    page: Page, live_server: LiveServer, organization: None
) -> None:
    page.goto(f"{live_server.url}/chart/")
    page.locator("[data-chart] svg").wait_for()
    page.get_by_role("button", name="Zoom in").click()
    page.emulate_media(media="print")
    shown = page.evaluate(
        """() => {
          const visible = element => element.getClientRects().length > 0;
          const main = document.querySelector('main');
          const svg = document.querySelector('[data-chart] svg');
          return {
            header: visible(document.querySelector('.site-header')),
            footer: visible(document.querySelector('.site-footer')),
            dateBar: visible(document.querySelector('.date-bar')),
            others: [...main.children].filter(
              child => !child.matches('[data-chart]') && visible(child)
            ).map(child => child.outerHTML.slice(0, 60)),
            chart: visible(svg),
            chartWidth: svg.getBoundingClientRect().width,
            mainWidth: main.getBoundingClientRect().width,
          };
        }"""
    )
    assert shown["chart"]
    assert not shown["header"]
    assert not shown["footer"]
    assert not shown["dateBar"]
    assert shown["others"] == []
    # Zoomed in on screen, the chart still prints at the paper's width.
    assert shown["chartWidth"] == pytest.approx(shown["mainWidth"], abs=2)
    screenshot(page, "page-chart-print")
    pdf = page.pdf(format="A4", landscape=True)
    assert pdf.startswith(b"%PDF")

"""The chart of a future date in Chromium: "planned" in its title, the banner, and the
unit a scheduled reorganization moves drawn in its new place (the worker not running:
the reorganization is still only approved)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.browser.conftest import screenshot
from units import services
from units.models import OperationKind, OrganizationalUnit, ReorganizationStatus
from units.seed import load_structure

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "iom_structure.json"
pytestmark = pytest.mark.usefixtures("transactional_db", "plain_static_files")

BOX = """(slug) => {
  const unit = document.querySelector(`[data-chart] g.unit[data-slug="${slug}"] rect`);
  const box = unit.getBBox();
  return {x: box.x, y: box.y, width: box.width, height: box.height};
}"""


def test_the_chart_of_a_future_date_shows_the_plan(
    page: Page,
    live_server: LiveServer,
    editor: User,
    approver: User,
    browser_problems: object,
) -> None:
    load_structure(SEED, user=editor)
    effective = timezone.now() + datetime.timedelta(days=10)
    reorganization = services.reorganization_create(
        user=editor,
        title="Data under External Relations",
        reference="DG bulletin 2026/14",
        reason="DG bulletin 2026/14",
        reason_visibility="public",
        effective_at=effective,
    )
    for kind, payload in (
        (
            OperationKind.ESTABLISH_UNIT,
            {
                "name": "Data and Insight Division",
                "kind": "division",
                "slug": "data-and-insight-division",
                "parent": "department-of-external-relations",
            },
        ),
        (
            OperationKind.MOVE_UNIT,
            {"unit": "global-data-institute", "parent": "data-and-insight-division"},
        ),
    ):
        services.operation_add(
            reorganization=reorganization, user=editor, kind=kind, payload=payload
        )
    services.reorganization_submit(reorganization=reorganization, user=editor)
    services.reorganization_approve(reorganization=reorganization, user=approver)
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.APPROVED

    day = (effective + datetime.timedelta(days=1)).date().isoformat()
    page.goto(f"{live_server.url}/chart/?as_of={day}&depth=all")
    page.locator("[data-chart] svg").wait_for()
    banner = page.locator("#planned-notice")
    notice = banner.text_content() or ""
    assert "Planned:" in notice
    assert "Data under External Relations" in notice
    heading = page.locator("[data-chart] svg").inner_html()
    assert "planned for" in heading
    top = screenshot(page, "page-chart-planned-heading", full_page=False)
    assert top.exists()
    division = page.evaluate(BOX, "data-and-insight-division")
    institute = page.evaluate(BOX, "global-data-institute")
    # The institute sits one level below the new division, beneath it (its only
    # sub-unit, drawn under it rather than under the Director General's office).
    assert institute["y"] > division["y"] + division["height"]
    middle = institute["x"] + institute["width"] / 2
    assert division["x"] < middle < division["x"] + division["width"]
    page.locator(
        '[data-chart] g.unit[data-slug="global-data-institute"]'
    ).scroll_into_view_if_needed()
    shot = screenshot(page, "page-chart-planned", full_page=False)
    assert shot.exists()

    # Today's chart is as recorded: no division, the institute where it was.
    page.goto(f"{live_server.url}/chart/?depth=all")
    page.locator("[data-chart] svg").wait_for()
    assert (
        page.locator(
            '[data-chart] g.unit[data-slug="data-and-insight-division"]'
        ).count()
        == 0
    )
    assert page.locator("#planned-notice").count() == 0
    # Nothing of the plan was kept.
    assert not OrganizationalUnit.objects.filter(
        slug="data-and-insight-division"
    ).exists()

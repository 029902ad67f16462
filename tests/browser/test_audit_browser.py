"""What an auditor checks in Chromium: yesterday's changes, a new kind, a sub-unit.

On the seed organization, yesterday: a unit becomes a division and a new unit is
established under an office. Comparing "yesterday to today" must show both, and the
office's timeline must show its new sub-unit.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import screenshot
from tests.browser.test_pages_browser import assert_accessible
from units import services
from units.models import OrganizationalUnit, ReasonVisibility, UnitKind
from units.seed import load_structure

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "fixtures" / "iom_structure.json"

pytestmark = pytest.mark.usefixtures("transactional_db", "plain_static_files")


@pytest.fixture
def yesterday(editor: User) -> datetime.date:
    """The seed, and two changes that took effect early yesterday (UTC).

    Their reasons are public: the auditor reads the public pages, where an internal
    reason shows as "Reason not public".
    """
    load_structure(SEED, user=editor)
    day = timezone.now().date() - datetime.timedelta(days=1)
    early = datetime.datetime.combine(day, datetime.time(0, 30), tzinfo=datetime.UTC)
    services.unit_update(
        unit=OrganizationalUnit.objects.get(slug="global-compact-on-migration-unit"),
        user=editor,
        reason="Raised to a division by the 2025 review",
        reason_visibility=ReasonVisibility.PUBLIC,
        effective_at=early,
        kind=UnitKind.DIVISION,
    )
    services.unit_create(
        user=editor,
        reason="New climate mobility work",
        reason_visibility=ReasonVisibility.PUBLIC,
        name="Climate Mobility Unit",
        slug="climate-mobility-unit",
        kind=UnitKind.UNIT,
        parent=OrganizationalUnit.objects.get(
            slug="office-of-the-deputy-director-general-for-operations"
        ),
        effective_at=early + datetime.timedelta(hours=1),
    )
    return day


def test_an_auditor_sees_yesterdays_kind_change_and_new_sub_unit(
    page: Page, live_server: LiveServer, yesterday: datetime.date
) -> None:
    today = timezone.now().date()
    page.goto(f"{live_server.url}/compare/")
    hint = page.locator("#compare-hint").inner_text()
    assert "Both days are included" in hint
    page.get_by_label("From").fill(yesterday.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Compare", exact=True).click()
    page.locator(".compare-summary").wait_for()
    window = page.locator("#compare-window").inner_text()
    assert f"from the start of {yesterday:%-d %B %Y}" in window
    assert f"to the end of {today:%-d %B %Y} (UTC)" in window
    assert page.get_by_role("heading", name="Kind changed").is_visible()
    kind = page.locator(".change-kind_changed li").inner_text()
    assert re.search(r"Global Compact on Migration Unit:\s+kind Unit → Division", kind)
    assert "Raised to a division by the 2025 review" in kind
    added = page.locator(".change-added li").inner_text()
    assert "Climate Mobility Unit established under" in added
    screenshot(page, "page-compare-kind-and-sub-unit")
    assert_accessible(page)

    page.get_by_role(
        "link", name="Office of the Deputy Director General for Operations"
    ).first.click()
    page.locator("#timeline-heading").wait_for()
    # The newest entry; the seed's sub-units joined when it was loaded, below.
    joined = page.locator(".timeline > li").first
    assert "timeline-sub-unit-joined" in (joined.get_attribute("class") or "")
    text = joined.inner_text()
    assert "Sub-unit joined: Climate Mobility Unit, established under this unit" in text
    assert f"{yesterday:%-d %B %Y}" in text
    assert "New climate mobility work" in text
    joined.scroll_into_view_if_needed()
    screenshot(page, "page-unit-timeline-sub-unit", full_page=False)
    assert_accessible(page)

    page.goto(f"{live_server.url}/units/global-compact-on-migration-unit/")
    latest = page.locator(".timeline > li").first.inner_text()
    assert re.search(r"Kind\s+Unit\s+→\s+Division", latest)
    assert "Raised to a division by the 2025 review" in latest

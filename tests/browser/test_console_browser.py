"""No page logs a console error or a failed request in Chromium (issue 16).

Every page used to log a 404 for /favicon.ico. The walk of every page, collecting each
console error, uncaught script error and answer of 400 or more (the icon's included)
with nothing excused, is test_csp_browser.py's, which visits the same pages with the
same collector; here, that the collector catches each kind of complaint, and the icon.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.browser.conftest import BrowserProblems
from tests.conftest import at
from tests.factories import (
    AppointmentFactory,
    PersonFactory,
    PostFactory,
    UnitFactory,
)
from units.models import UnitKind

pytestmark = pytest.mark.usefixtures("transactional_db", "plain_static_files")

PASSWORD = "root-pass-123"


@pytest.fixture
def unit_slug(transactional_db: None) -> str:
    """A small registry (a unit with a held post), written by a superuser."""
    root_user = get_user_model().objects.create_superuser(
        username="root", password=PASSWORD, email="root@example.org"
    )
    day = at("2024-01-01")
    office = UnitFactory.create(
        user=root_user, name="Head Office", kind=UnitKind.OFFICE, effective_at=day
    )
    AppointmentFactory.create(
        user=root_user,
        post=PostFactory.create(
            user=root_user,
            unit=office,
            title="Director",
            is_head=True,
            effective_at=day,
        ),
        person=PersonFactory.create(
            user=root_user, full_name="Ana Example", effective_at=day
        ),
        started_on=datetime.date(2024, 1, 1),
        effective_at=day,
    )
    return office.slug


def test_the_collector_reports_console_and_script_errors_failures_and_violations(
    page: Any, live_server: Any, unit_slug: str, browser_problems: BrowserProblems
) -> None:
    """The check above can fail: each kind of complaint planted on a page is caught."""
    assert browser_problems.visit(f"{live_server.url}/") == []

    page.evaluate("console.error('planted console error')")
    page.evaluate("setTimeout(() => { throw new Error('planted script error'); })")
    page.evaluate(
        "() => { const script = document.createElement('script');"
        " script.textContent = 'window.planted = 1';"
        " document.body.append(script); }"
    )
    page.evaluate("() => fetch('/no-such-page/')")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)
    found = "\n".join(browser_problems.collected())

    assert "console: planted console error" in found
    assert "script: planted script error" in found
    assert "csp: script-src" in found
    assert f"404 {live_server.url}/no-such-page/" in found
    assert browser_problems.visit(f"{live_server.url}/units/no-such-unit/") == [
        f"404 {live_server.url}/units/no-such-unit/"
    ]


def test_the_icon_is_linked_and_favicon_ico_leads_to_it(
    page: Any, live_server: Any, unit_slug: str
) -> None:
    page.goto(f"{live_server.url}/")
    icon = page.locator('link[rel="icon"]').get_attribute("href")

    linked = page.request.get(f"{live_server.url}{icon}")
    asked = page.goto(f"{live_server.url}/favicon.ico")

    assert linked.status == 200
    assert linked.headers["content-type"].startswith("image/svg+xml")
    assert asked.status == 200
    assert asked.url == f"{live_server.url}{icon}"
    assert asked.headers["content-type"].startswith("image/svg+xml")

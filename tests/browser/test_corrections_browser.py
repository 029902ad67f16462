"""Issue 14 in a real headless Chromium: an editor corrects the past in the admin, and
the unit page answers both questions: what held on a date as known now, and what the
registry said about that date before the correction (``known_at``)."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tests.browser.conftest import screenshot
from tests.conftest import assert_tree_matches_rebuild
from units import services
from units.models import OrganizationalUnit, UnitKind

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "editor-pass-123"
JANUARY = datetime.datetime(2024, 1, 10, 12, tzinfo=datetime.UTC)
APRIL = datetime.datetime(2024, 4, 1, 12, tzinfo=datetime.UTC)


@pytest.fixture
def archives(transactional_db: None) -> OrganizationalUnit:
    """Archives since January; its mandate changed in April, already recorded."""
    user = get_user_model().objects.create_user(
        username="hr-editor", password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name="Registry editors"))
    root = services.unit_create(
        user=user,
        reason="Initial structure",
        name="Office of the Director General",
        kind=UnitKind.OFFICE,
        effective_at=JANUARY,
    )
    unit = services.unit_create(
        user=user,
        reason="Initial structure",
        name="Archives",
        kind=UnitKind.DEPARTMENT,
        parent=root,
        effective_at=JANUARY,
    )
    services.unit_update(
        unit=unit,
        user=user,
        reason="Mandate of April",
        mandate="Keeps the records of the organization.",
        effective_at=APRIL,
    )
    return OrganizationalUnit.objects.get(pk=unit.pk)


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", "hr-editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")


def heading(page: Any, url: str, browser_problems: Any) -> str:
    assert browser_problems.visit(url) == []
    return str(page.inner_text("h1")).strip()


def last_recorded(unit: OrganizationalUnit) -> str:
    """When the registry last recorded something of ``unit``, as a known_at value."""
    latest = unit.history.order_by("-recorded_at").first()
    return quote(latest.recorded_at.isoformat())


def test_editor_corrects_a_rename_and_the_unit_page_shows_both_answers(
    page: Any, live_server: Any, archives: OrganizationalUnit, browser_problems: Any
) -> None:
    base = live_server.url
    before_correction = last_recorded(archives)
    log_in(page, base)

    # The rename took effect on 1 March, before the April change already recorded.
    page.goto(f"{base}/admin/units/organizationalunit/{archives.pk}/change/")
    page.fill("#id_name", "Archive Services")
    page.fill("#id_effective_date", "2024-03-01")
    page.fill("#id_reason", "Renamed by the March decision, found in the minutes")
    screenshot(page, "correction-admin-form")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    stored = OrganizationalUnit.objects.get(pk=archives.pk)
    assert (stored.name, stored.mandate) == (
        "Archive Services",
        "Keeps the records of the organization.",
    )
    # Nothing overwritten: the correction wrote rows of its own, recorded now.
    assert stored.history.filter(corrects_revision__isnull=False).count() == 2
    assert_tree_matches_rebuild()

    unit_page = f"{base}/units/{archives.slug}/"
    # As known now: the new name holds from 1 March, under the April mandate too.
    assert heading(page, f"{unit_page}?as_of=2024-03-15", browser_problems) == (
        "Archive Services"
    )
    screenshot(page, "correction-unit-as-of")
    assert heading(page, f"{unit_page}?as_of=2024-05-01", browser_problems) == (
        "Archive Services"
    )
    assert heading(page, f"{unit_page}?as_of=2024-02-15", browser_problems) == (
        "Archives"
    )
    # As the registry said before the correction: the old name, and the banner says so.
    before = f"{unit_page}?as_of=2024-03-15&known_at={before_correction}"
    assert heading(page, before, browser_problems) == "Archives"
    assert "as recorded on" in page.inner_text("#known-notice")
    screenshot(page, "correction-unit-known-at")


def test_editor_corrects_the_record_from_the_revert_page(
    page: Any, live_server: Any, archives: OrganizationalUnit, browser_problems: Any
) -> None:
    """A rename recorded by mistake is corrected from its own time, not undone now."""
    services.unit_update(
        unit=archives,
        user=None,
        reason="Renamed",
        name="Archive Office",
        effective_at=datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC),
    )
    before_correction = last_recorded(archives)
    base = live_server.url
    log_in(page, base)

    page.goto(f"{base}/admin/units/organizationalunit/{archives.pk}/history/")
    page.locator("tr.revision", has_text="Mandate of April").locator("a").click()
    page.wait_for_selector("#revert-form")
    assert page.is_checked("#revert-form input[value=undo]")
    page.check("#revert-form input[value=correct]")
    page.fill("#revert-form textarea[name=reason]", "The May rename never happened")
    screenshot(page, "correction-revert-choice")
    page.click("#revert-form input[name=revert]")
    page.wait_for_selector(".messagelist .success")
    assert "was corrected" in page.inner_text(".messagelist")

    unit_page = f"{base}/units/{archives.slug}/"
    assert heading(page, f"{unit_page}?as_of=2024-06-01", browser_problems) == (
        "Archives"
    )
    before = f"{unit_page}?as_of=2024-06-01&known_at={before_correction}"
    assert heading(page, before, browser_problems) == "Archive Office"
    screenshot(page, "correction-revert-known-at")

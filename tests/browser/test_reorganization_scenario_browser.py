"""Issue 13's scenario in a real headless Chromium: an editor drafts a five-operation
reorganization in the admin (a division established, one unit renamed, someone
appointed, a dotted line ended, typed in its form; a unit moved, dragged in the tree
and added to the draft from the move dialog), dated two days ahead, and submits it; an approver approves it; the clock is moved past its effective time (as the
services' tests move it: every ``timezone.now()`` reads the chosen moment) and the
public pages show the new structure, which they did not show a second before. Before
submitting, the editor previews it (what it changes and the chart after it); once it is
approved, the chart of a date after it shows it, marked as planned.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.browser.conftest import BrowserProblems, screenshot
from tests.browser.test_admin_browser import PASSWORD, browser_editor
from tests.browser.test_move_dialog_browser import drag
from tests.conftest import assert_tree_matches_rebuild
from units import services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Reorganization,
    ReorganizationStatus,
    UnitKind,
    UnitRelationship,
)

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["browser_editor"]  # the fixture

APPROVER_PASSWORD = "approver-pass-123"
# A unit page's breadcrumbs: the line it reports through.
REPORTING_LINE = "nav[aria-label='Reporting line']"
SINCE = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC)
# Typed in the reorganization's form; the fifth, a move, is dragged in the tree.
OPERATIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "establish_unit",
        {
            "name": "Division of Data Partnerships",
            "kind": "division",
            "slug": "data-partnerships",
            "parent": "external-relations",
        },
    ),
    (
        "change_unit",
        {"unit": "policy-unit", "fields": {"name": "Policy and Research Unit"}},
    ),
    ("appoint", {"person": "ada-lovelace", "post": "ddg-operations"}),
    (
        "end_dotted_line",
        {
            "source": "global-data-institute",
            "target": "policy-unit",
            "kind": "supports",
        },
    ),
]


@contextmanager
def clock_at(moment: datetime.datetime) -> Iterator[None]:
    """Every ``timezone.now()`` reads ``moment``, the live server's too (one process;
    no worker runs: the first request at or after the time applies what is due)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def registry(browser_editor: Any) -> dict[str, Any]:
    """External Relations and Operations under the Director General's office; the
    Global Data Institute in Operations supports the Policy Unit; a vacant post of
    Deputy Director General for Operations; Ada Lovelace, holding nothing."""
    write = {
        "user": browser_editor,
        "reason": "Initial structure",
        "effective_at": SINCE,
    }

    def unit(name: str, slug: str, parent: Any, kind: str) -> OrganizationalUnit:
        return services.unit_create(
            name=name, slug=slug, parent=parent, kind=kind, **write
        )

    root = unit("Office of the Director General", "odg", None, UnitKind.OFFICE)
    external = unit(
        "Department of External Relations",
        "external-relations",
        root,
        UnitKind.DEPARTMENT,
    )
    operations = unit(
        "Department of Operations", "operations", root, UnitKind.DEPARTMENT
    )
    institute = unit(
        "Global Data Institute", "global-data-institute", operations, UnitKind.UNIT
    )
    policy = unit("Policy Unit", "policy-unit", external, UnitKind.UNIT)
    services.relationship_create(
        source=institute, target=policy, kind="supports", **write
    )
    services.post_create(
        title="Deputy Director General for Operations",
        slug="ddg-operations",
        unit=root,
        **write,
    )
    services.person_create(full_name="Ada Lovelace", slug="ada-lovelace", **write)
    approver = get_user_model().objects.create_user(
        username="approver", password=APPROVER_PASSWORD, is_staff=True
    )
    approver.groups.add(Group.objects.get(name="Registry approvers"))
    return {"institute": institute, "policy": policy, "approver": approver}


def log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")


def take_step(page: Any, base: str, reorganization: Reorganization, step: str) -> str:
    """Choose ``reorganization`` on the list, run the action ``step``; the message."""
    page.goto(f"{base}/admin/units/reorganization/")
    page.check(f"input[name=_selected_action][value='{reorganization.pk}']")
    page.select_option("select[name=action]", step)
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    return page.inner_text(".messagelist")


def test_a_five_operation_reorganization_is_drafted_approved_and_takes_effect(
    browser: Any,
    page: Any,
    live_server: Any,
    registry: dict[str, Any],
    browser_editor: Any,
    browser_problems: BrowserProblems,
) -> None:
    base = live_server.url
    effective = (timezone.now() + datetime.timedelta(days=2)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )

    # --- The editor drafts it in the admin, operations inline ------------------------
    log_in(page, base, "hr-editor", PASSWORD)
    assert browser_problems.visit(f"{base}/admin/units/reorganization/add/") == []
    page.fill("#id_title", "Data partnerships")
    page.fill("#id_reference", "DG bulletin 2026/14")
    page.fill("#id_reason", "The Director General's bulletin 2026/14")
    page.check("input[name=reason_visibility][value=public]")
    page.fill("#id_effective_at_0", effective.date().isoformat())
    page.fill("#id_effective_at_1", "12:00:00")
    for index, (kind, payload) in enumerate(OPERATIONS):
        page.click("#operations-group .add-row a")
        page.fill(f"#id_operations-{index}-position", str(index + 1))
        page.select_option(f"#id_operations-{index}-kind", kind)
        page.fill(f"#id_operations-{index}-payload", json.dumps(payload))
    screenshot(page, "admin-reorganization-draft")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    reorganization = Reorganization.objects.get(title="Data partnerships")
    assert reorganization.status == ReorganizationStatus.DRAFT
    assert reorganization.effective_at == effective
    assert reorganization.operations.count() == 4

    # The fifth: the Global Data Institute dragged under External Relations in the
    # tree (just before its Policy Unit: the tree offers no "under" on a unit that
    # has sub-units), and added to the draft from the dialog.
    page.goto(f"{base}/admin/units/organizationalunit/")
    drag(page, "Global Data Institute", "Policy Unit", at=0.15)
    assert page.inner_text("#move-dialog-what") == (
        "“Global Data Institute” moves before “Policy Unit”."
    )
    page.check("#id_move_mode_1")
    page.select_option("#id_move_draft", str(reorganization.pk))
    with page.expect_navigation():
        page.click("#move-dialog-submit")
    assert "added to the draft “Data partnerships”" in page.inner_text(
        ".messagelist .success"
    )
    assert OrganizationalUnit.objects.get(
        pk=registry["institute"].pk
    ).parent == OrganizationalUnit.objects.get(slug="operations")

    page.goto(f"{base}/admin/units/reorganization/{reorganization.pk}/change/")
    reorganization.refresh_from_db()
    assert reorganization.operations.count() == 5
    # Tried out against the registry as it will stand: nothing stands in its way.
    assert reorganization.problems == []
    assert page.locator(".field-problems_shown .readonly").inner_text() == "—"
    screenshot(page, "admin-reorganization-five-operations")

    # --- The editor previews it: what changes, and the chart after it -----------------
    histories_before = OrganizationalUnit.history.count()
    page.click("text=Preview: the structure after it and what it changes")
    page.wait_for_selector("#preview-changes")
    changes = page.inner_text("#preview-changes")
    assert "Division of Data Partnerships" in changes
    assert "Global Data Institute" in changes
    # The chart after it is drawn on the server: the picture loads.
    width = page.locator("#preview-chart").evaluate(
        "img => img.decode().then(() => img.naturalWidth)"
    )
    assert width > 0
    screenshot(page, "admin-reorganization-preview")
    page.click("#preview-chart-link")
    page.locator("[data-chart] svg").wait_for()
    assert (
        page.locator('[data-chart] g.unit[data-slug="data-partnerships"]').count() == 1
    )
    # Tried out and rolled back: nothing of it was written.
    assert OrganizationalUnit.history.count() == histories_before
    assert not OrganizationalUnit.objects.filter(slug="data-partnerships").exists()

    assert "was submitted" in take_step(page, base, reorganization, "submit")
    # An editor does not approve (the approvers do, and never their own).
    message = take_step(page, base, reorganization, "approve")
    assert "Only registry approvers approve" in message
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.SUBMITTED

    # --- A second person approves it ---------------------------------------------------
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    approver_page = context.new_page()
    try:
        log_in(approver_page, base, "approver", APPROVER_PASSWORD)
        message = take_step(approver_page, base, reorganization, "approve")
        assert "was approved" in message
        approver_page.goto(
            f"{base}/admin/units/reorganization/{reorganization.pk}/change/"
        )
        assert approver_page.locator(".field-scheduled img").get_attribute("alt") == (
            "True"
        )
        screenshot(approver_page, "admin-reorganization-scheduled")
    finally:
        context.close()
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.APPROVED
    assert reorganization.approver == registry["approver"]

    # --- The chart of a later date shows it, planned ----------------------------------
    day_after = (effective + datetime.timedelta(days=1)).date().isoformat()
    page.goto(f"{base}/chart/?as_of={day_after}&depth=all")
    page.locator("[data-chart] svg").wait_for()
    assert "Data partnerships" in (page.locator("#planned-notice").text_content() or "")
    assert "planned for" in page.locator("[data-chart] svg").inner_html()
    assert (
        page.locator('[data-chart] g.unit[data-slug="data-partnerships"]').count() == 1
    )
    screenshot(page, "page-chart-planned-scenario", full_page=False)

    # --- It takes effect at its time, with nobody acting --------------------------------
    institute_page = f"{base}/units/{registry['institute'].slug}/"
    with clock_at(effective - datetime.timedelta(seconds=1)):
        page.goto(f"{base}/")
        assert "Division of Data Partnerships" not in page.inner_text("main")
        page.goto(institute_page)
        assert "Department of Operations" in page.inner_text(REPORTING_LINE)
    assert Reorganization.objects.get().status == ReorganizationStatus.APPROVED
    assert not OrganizationalUnit.objects.filter(slug="data-partnerships").exists()

    with clock_at(effective + datetime.timedelta(seconds=1)):
        page.goto(f"{base}/")
        structure = page.inner_text("main")
        assert "Division of Data Partnerships" in structure
        assert "Policy and Research Unit" in structure
        screenshot(page, "page-structure-after-reorganization")
        page.goto(institute_page)
        line = page.inner_text(REPORTING_LINE)
        assert "Department of External Relations" in line
        assert "Department of Operations" not in line
        # Its timeline says what the reorganization did, with its public reason.
        assert "The Director General's bulletin 2026/14" in page.inner_text("main")
        screenshot(page, "page-unit-after-reorganization")

    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.APPLIED
    institute = OrganizationalUnit.objects.get(pk=registry["institute"].pk)
    assert [unit.slug for unit in institute.get_ancestors()] == [
        "odg",
        "external-relations",
    ]
    division = OrganizationalUnit.objects.get(slug="data-partnerships")
    assert [unit.slug for unit in division.get_ancestors()] == [
        "odg",
        "external-relations",
    ]
    assert (
        OrganizationalUnit.objects.get(pk=registry["policy"].pk).name
        == "Policy and Research Unit"
    )
    appointment = Appointment.objects.get(post__slug="ddg-operations")
    assert appointment.person.slug == "ada-lovelace"
    assert UnitRelationship.objects.get().ended_on is not None
    # Every revision it wrote names it and carries its time.
    moved = institute.history.order_by("-history_id").first()
    assert (moved.reorganization_id, moved.history_date) == (
        reorganization.pk,
        effective,
    )
    assert_tree_matches_rebuild()

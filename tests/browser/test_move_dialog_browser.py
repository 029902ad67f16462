"""The tree's drag-and-drop dialog in a real headless Chromium: it opens labelled with
the focus inside and kept there, refuses an empty reason without sending anything,
closes on Escape with nothing moved, applies a move at once (a one-operation
reorganization) or adds it to one of the editor's drafts, with no policy violation
or script error on the way."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import BrowserProblems, screenshot
from tests.browser.test_admin_browser import (
    browser_editor,
    log_in,
    row_of,
    structure,
)
from tests.browser.test_pages_browser import AXE
from tests.conftest import assert_tree_matches_rebuild
from units import services
from units.models import OrganizationalUnit, ReorganizationStatus

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["browser_editor", "structure"]  # the fixtures

CHANGELIST = "/admin/units/organizationalunit/"


def drag(page: Any, name: str, onto: str, *, at: float = 0.5) -> None:
    """Drag the unit ``name`` onto the row of ``onto``, ``at`` that fraction of its
    height: the middle third makes it its last sub-unit (when it has none yet: the
    draggable tree's rule), the top third puts it just before."""
    handle = row_of(page, name).locator(".drag-handle")
    target = row_of(page, onto).locator("th")
    handle_box, target_box = handle.bounding_box(), target.bounding_box()
    page.mouse.move(handle_box["x"] + 5, handle_box["y"] + 5)
    page.mouse.down()
    page.mouse.move(
        target_box["x"] + 40, target_box["y"] + target_box["height"] * at, steps=12
    )
    page.mouse.up()
    page.wait_for_selector("#move-dialog[open]")


def dialog_violations(page: Any) -> list[str]:
    """Serious or critical axe-core violations inside the open dialog."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => await axe.run('#move-dialog', {resultTypes: ['violations']})"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}"
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def focused_id(page: Any) -> str:
    return page.evaluate("() => document.activeElement.id")


def test_the_dialog_is_labelled_keeps_the_focus_refuses_an_empty_reason_and_escapes(
    page: Any,
    live_server: Any,
    structure: dict[str, OrganizationalUnit],
    browser_problems: BrowserProblems,
) -> None:
    log_in(page, live_server.url)
    assert browser_problems.visit(f"{live_server.url}{CHANGELIST}") == []
    posted: list[str] = []
    page.on(
        "request",
        lambda request: (
            posted.append(request.url) if request.method == "POST" else None
        ),
    )

    drag(page, "Department of Policy", "Department of Operations")

    dialog = page.locator("#move-dialog")
    labelled_by = dialog.get_attribute("aria-labelledby")
    assert page.inner_text(f"#{labelled_by}") == "Move a unit"
    assert page.inner_text("#move-dialog-what") == (
        "“Department of Policy” moves under “Department of Operations”."
    )
    assert focused_id(page) == "id_move_reason"
    assert not page.locator("#move-dialog-error").is_visible()
    assert dialog_violations(page) == []
    screenshot(page, "admin-move-dialog", full_page=False)

    # The focus stays inside: past the last control it comes back to the first.
    page.focus("#move-dialog-cancel")
    page.keyboard.press("Tab")
    inside = page.evaluate(
        "() => document.getElementById('move-dialog').contains(document.activeElement)"
    )
    assert inside
    assert focused_id(page) == "id_move_mode_0"
    page.keyboard.press("Shift+Tab")
    assert focused_id(page) == "move-dialog-cancel"

    # An empty reason is refused in the dialog, and nothing is sent.
    page.fill("#id_move_reason", "   ")
    page.click("#move-dialog-submit")
    error = page.locator("#move-dialog-error")
    assert error.is_visible()
    assert "Give the reason" in error.inner_text()
    assert error.get_attribute("role") == "alert"
    assert dialog_violations(page) == []
    assert posted == []
    assert dialog.evaluate("element => element.open")

    # Escape closes it; the dragged row goes back; nothing was sent or moved.
    page.keyboard.press("Escape")
    page.wait_for_selector("#move-dialog", state="hidden")
    assert page.locator("#drag-line").count() == 0
    assert posted == []
    policy = OrganizationalUnit.objects.get(pk=structure["right"].pk)
    assert policy.parent == structure["root"]
    assert policy.history.count() == 1
    assert browser_problems.collected() == []


def test_a_move_applied_from_the_dialog_is_a_one_operation_reorganization(
    page: Any,
    live_server: Any,
    structure: dict[str, OrganizationalUnit],
    browser_editor: Any,
    browser_problems: BrowserProblems,
) -> None:
    log_in(page, live_server.url)
    assert browser_problems.visit(f"{live_server.url}{CHANGELIST}") == []

    drag(page, "Department of Policy", "Department of Operations")
    page.fill("#id_move_reason", "Policy now answers to Operations")
    page.check("#move-dialog input[name=reason_visibility][value=public]")
    yesterday = timezone.now().date() - datetime.timedelta(days=1)
    page.fill("#id_move_effective_date", yesterday.isoformat())
    page.select_option("#id_move_reporting_line", "oversight")
    with page.expect_navigation():
        page.click("#move-dialog-submit")
    page.wait_for_selector(".messagelist .success")
    assert "now reports to “Department of Operations”" in page.inner_text(
        ".messagelist"
    )

    policy = OrganizationalUnit.objects.get(pk=structure["right"].pk)
    assert (policy.parent, policy.reporting_line) == (structure["left"], "oversight")
    latest = policy.history.order_by("-history_id").first()
    assert latest.reorganization.status == ReorganizationStatus.APPLIED
    assert latest.reorganization.approver == browser_editor
    assert (
        latest.history_change_reason,
        latest.reason_visibility,
        latest.history_date.date(),
    ) == ("Policy now answers to Operations", "public", yesterday)
    assert_tree_matches_rebuild()
    assert browser_problems.collected() == []


def test_a_move_added_to_a_draft_from_the_dialog_moves_nothing_yet(
    page: Any,
    live_server: Any,
    structure: dict[str, OrganizationalUnit],
    browser_editor: Any,
    browser_problems: BrowserProblems,
) -> None:
    draft = services.reorganization_create(
        user=browser_editor,
        title="DG bulletin 2026/14",
        reason="The bulletin's restructuring",
        effective_at=timezone.now() + datetime.timedelta(days=30),
    )
    log_in(page, live_server.url)
    assert browser_problems.visit(f"{live_server.url}{CHANGELIST}") == []

    drag(page, "Department of Policy", "Department of Operations")
    # Until a draft is chosen as the destination, its list rests.
    assert page.locator("#id_move_draft").is_disabled()
    page.check("#id_move_mode_1")
    # The draft's own reason and time apply: those fields rest instead.
    assert page.locator("#id_move_reason").is_disabled()
    page.select_option("#id_move_draft", str(draft.pk))
    screenshot(page, "admin-move-dialog-draft", full_page=False)
    with page.expect_navigation():
        page.click("#move-dialog-submit")
    page.wait_for_selector(".messagelist .success")
    assert "added to the draft “DG bulletin 2026/14”" in page.inner_text(".messagelist")

    policy = OrganizationalUnit.objects.get(pk=structure["right"].pk)
    assert policy.parent == structure["root"]
    assert policy.history.count() == 1
    operation = draft.operations.get()
    assert operation.payload == {
        "unit": policy.slug,
        "position": "last-child",
        "target": structure["left"].slug,
    }
    draft.refresh_from_db()
    assert draft.status == ReorganizationStatus.DRAFT
    assert browser_problems.collected() == []

"""The tree's drag-and-drop dialog, server side: a move applied at once is a
one-operation reorganization with the dialog's reason, visibility, date and reporting
line; or it is added to one of the editor's drafts; every bad answer is a 400 with a
message and nothing written. (The dialog itself: tests/browser/test_move_dialog_browser.py.)"""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.admin.test_admin import (
    CHANGELIST,
    auditor,
    auditor_client,
    fresh,
    snapshot,
)
from units import services
from units.models import (
    OperationKind,
    Reorganization,
    ReorganizationStatus,
)

pytestmark = pytest.mark.django_db
__all__ = ["auditor", "auditor_client"]  # the fixtures


def drag(client: Client, unit: Any, target: Any, **answers: Any) -> Any:
    return client.post(
        CHANGELIST,
        {
            "cmd": "move_node",
            "position": "last-child",
            "cut_item": unit.pk,
            "pasted_on": target.pk,
            **answers,
        },
    )


def everything() -> tuple[Any, ...]:
    return (
        snapshot(),
        list(Reorganization.objects.order_by("pk").values()),
        [
            list(reorganization.operations.values("kind", "payload", "position"))
            for reorganization in Reorganization.objects.order_by("pk")
        ],
    )


def a_draft(user: User, title: str = "Bulletin 2026/14") -> Reorganization:
    return services.reorganization_create(
        user=user,
        title=title,
        reason="DG bulletin 2026/14",
        effective_at=timezone.now() + datetime.timedelta(days=20),
    )


def test_applied_at_once_it_is_a_reorganization_of_one_operation(
    editor_client: Client, editor: User, make_unit: Any
) -> None:
    # Recorded ten days ago, so the move may be dated yesterday.
    since = timezone.now() - datetime.timedelta(days=10)
    root = make_unit("Root Office", effective_at=since)
    right = make_unit("Right Department", root, effective_at=since)
    leaf = make_unit("Leaf Unit", root, effective_at=since)
    day = timezone.now().date() - datetime.timedelta(days=1)
    response = drag(
        editor_client,
        leaf,
        right,
        mode="apply",
        reason="Belongs to the right",
        reason_visibility="public",
        effective_date=day.isoformat(),
        reporting_line="oversight",
    )

    assert response.status_code == HTTPStatus.OK, response.content
    assert "now reports to “Right Department”" in response.content.decode()
    leaf = fresh(leaf)
    assert (leaf.parent, leaf.reporting_line) == (right, "oversight")
    latest = leaf.history.order_by("-history_id").first()
    reorganization = latest.reorganization
    assert reorganization.status == ReorganizationStatus.APPLIED
    assert (reorganization.author, reorganization.approver) == (editor, editor)
    assert reorganization.title == "Move “Leaf Unit”"
    assert reorganization.operations.get().payload == {
        "unit": leaf.slug,
        "position": "last-child",
        "target": right.slug,
        "reporting_line": "oversight",
    }
    assert (
        latest.history_change_reason,
        latest.reason_visibility,
        latest.history_date.date(),
    ) == ("Belongs to the right", "public", day)


def test_added_to_a_draft_it_becomes_the_drafts_last_operation_and_moves_nothing(
    editor_client: Client, editor: User, small_tree: tuple
) -> None:
    root, left, right, leaf = small_tree
    draft = a_draft(editor)
    before = snapshot()

    response = drag(
        editor_client,
        leaf,
        right,
        mode="draft",
        draft=draft.pk,
        # The draft's own reason and time apply; these are not sent by the dialog,
        # and ignored if they are.
        reason="",
        reporting_line="direct_supervision",
    )

    assert response.status_code == HTTPStatus.OK, response.content
    assert "added to the draft “Bulletin 2026/14”" in response.content.decode()
    assert snapshot() == before
    operation = draft.operations.get()
    assert (operation.kind, operation.payload) == (
        OperationKind.MOVE_UNIT,
        {
            "unit": leaf.slug,
            "position": "last-child",
            "target": right.slug,
            "reporting_line": "direct_supervision",
        },
    )
    draft.refresh_from_db()
    assert draft.status == ReorganizationStatus.DRAFT
    assert draft.problems == []


def test_a_move_that_does_not_apply_to_the_draft_is_kept_and_said_so(
    editor_client: Client, editor: User, small_tree: tuple
) -> None:
    root, left, right, leaf = small_tree
    draft = a_draft(editor)
    before = snapshot()

    response = drag(editor_client, left, leaf, mode="draft", draft=draft.pk)

    # Added, as every draft's operation is, with what stands in its way.
    assert response.status_code == HTTPStatus.OK
    text = response.content.decode()
    assert "added to the draft" in text
    assert "As the draft stands, it does not apply" in text and "cycle" in text
    assert snapshot() == before
    draft.refresh_from_db()
    assert [problem["operation"] for problem in draft.problems] == [0]
    assert draft.problems[0]["code"] == "cycle"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"mode": "apply", "reason": ""}, "A reason is required"),
        ({"mode": "apply", "reason": " \u200b "}, "A reason is required"),
        (
            {"mode": "apply", "reason": "Why", "reason_visibility": "secret"},
            "is not a reason visibility",
        ),
        (
            {"mode": "apply", "reason": "Why", "effective_date": "2999-01-01"},
            "is in the future",
        ),
        (
            {"mode": "apply", "reason": "Why", "effective_date": "yesterday"},
            "Enter a valid date",
        ),
        (
            {"mode": "apply", "reason": "Why", "reporting_line": "sideways"},
            "Select a valid choice",
        ),
        ({"mode": "sometimes", "reason": "Why"}, "Select a valid choice"),
        ({"mode": "draft"}, "Choose the draft to add the move to"),
        ({"mode": "draft", "draft": "999999"}, "Select a valid choice"),
        ({"mode": "draft", "draft": "one"}, "Select a valid choice"),
    ],
)
def test_a_bad_answer_is_a_400_that_says_why_and_writes_nothing(
    editor_client: Client,
    editor: User,
    small_tree: tuple,
    answers: dict[str, str],
    message: str,
) -> None:
    root, left, right, leaf = small_tree
    a_draft(editor)
    before = everything()

    response = drag(editor_client, leaf, right, **answers)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.content.decode()
    assert everything() == before


def test_only_the_editors_own_drafts_are_offered_and_taken(
    editor_client: Client, editor: User, other_editor: User, small_tree: tuple
) -> None:
    root, left, right, leaf = small_tree
    mine = a_draft(editor, "Mine")
    theirs = a_draft(other_editor, "Theirs")
    submitted = a_draft(editor, "Submitted already")
    services.operation_add(
        reorganization=submitted,
        user=editor,
        kind=OperationKind.CHANGE_UNIT,
        payload={"unit": root.slug, "fields": {"location": "Geneva"}},
    )
    services.reorganization_submit(reorganization=submitted, user=editor)

    page = editor_client.get(CHANGELIST)
    offered = list(page.context["move_dialog"].fields["draft"].queryset)
    assert offered == [mine]
    html = page.content.decode()
    assert (
        '<dialog id="move-dialog"' in html
        and 'aria-labelledby="move-dialog-title"' in html
    )

    before = everything()
    for draft in (theirs, submitted):
        response = drag(editor_client, leaf, right, mode="draft", draft=draft.pk)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Select a valid choice" in response.content.decode()
    assert everything() == before


def test_a_move_that_does_not_apply_is_refused_with_its_own_status(
    editor_client: Client, small_tree: tuple
) -> None:
    root, left, right, leaf = small_tree
    before = everything()
    response = drag(editor_client, left, leaf, mode="apply", reason="Loop")
    assert response.status_code == HTTPStatus.CONFLICT
    assert "cycle" in response.content.decode()
    assert everything() == before


def test_auditors_get_no_dialog_and_cannot_move(
    auditor_client: Client, small_tree: tuple
) -> None:
    root, left, right, leaf = small_tree
    page = auditor_client.get(CHANGELIST)
    assert "move_dialog" not in page.context
    assert "move-dialog" not in page.content.decode()
    before = everything()
    response = drag(auditor_client, leaf, right, mode="apply", reason="x")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert everything() == before

"""The reorganizations' admin: a draft with its operations saved through the services,
each operation's problem beside it, and the actions submit, approve, reject, cancel."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from units import services
from units.models import (
    OrganizationalUnit,
    Reorganization,
    ReorganizationOperation,
    ReorganizationStatus,
)

pytestmark = pytest.mark.django_db
ADD = reverse("admin:units_reorganization_add")
CHANGELIST = reverse("admin:units_reorganization_changelist")


def change_url(reorganization: Reorganization) -> str:
    return reverse("admin:units_reorganization_change", args=[reorganization.pk])


def act(
    client: Client, action: str, reorganization: Reorganization, **fields: str
) -> str:
    """Run the list's ``action`` on ``reorganization``; the page it ends on."""
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [reorganization.pk], **fields},
        follow=True,
    ).content.decode()


def inline(rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "operations-TOTAL_FORMS": str(len(rows)),
        "operations-INITIAL_FORMS": str(initial),
        "operations-MIN_NUM_FORMS": "0",
        "operations-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"operations-{index}-{key}": value for key, value in row.items()})
    return data


@pytest.fixture
def small_tree(make_unit: Any) -> tuple[OrganizationalUnit, ...]:
    """Root Office above Left and Right Department; Leaf Unit in Left: since
    yesterday, so that a reorganization effective a minute ago comes after them."""
    since = timezone.now() - datetime.timedelta(days=1)
    root = make_unit("Root Office", effective_at=since)
    left = make_unit("Left Department", root, effective_at=since)
    right = make_unit("Right Department", root, effective_at=since)
    leaf = make_unit("Leaf Unit", left, effective_at=since)
    return root, left, right, leaf


def draft_data(**fields: Any) -> dict[str, Any]:
    moment = timezone.now() - datetime.timedelta(minutes=1)
    return {
        "title": "Move Leaf",
        "reference": "DG 2026/14",
        "reason": "Bulletin 2026/14",
        "effective_at_0": moment.date().isoformat(),
        "effective_at_1": moment.strftime("%H:%M:%S"),
        **fields,
    }


@pytest.fixture
def approver_client(approver: User) -> Client:
    client = Client()
    client.force_login(approver)
    return client


def move_leaf_to(parent: str) -> dict[str, Any]:
    return {
        "position": "1",
        "kind": "move_unit",
        "payload": f'{{"unit": "leaf-unit", "parent": "{parent}"}}',
    }


def test_a_draft_and_its_operations_are_saved_through_the_services(
    editor_client: Client, small_tree: tuple, editor: User
) -> None:
    answer = editor_client.post(
        ADD, {**draft_data(), **inline([move_leaf_to("right-department")])}
    )
    assert answer.status_code == HTTPStatus.FOUND, (
        answer.context and answer.context["errors"]
    )
    reorganization = Reorganization.objects.get()
    assert reorganization.author == editor
    assert reorganization.status == ReorganizationStatus.DRAFT
    assert reorganization.operations.get().payload["parent"] == "right-department"
    assert reorganization.problems == []
    page = editor_client.get(change_url(reorganization))
    assert page.status_code == HTTPStatus.OK


def test_a_malformed_payload_is_an_error_on_its_row_and_nothing_is_saved(
    editor_client: Client, small_tree: tuple
) -> None:
    row = {"position": "1", "kind": "move_unit", "payload": '{"parent": "x"}'}
    answer = editor_client.post(ADD, {**draft_data(), **inline([row])})
    assert answer.status_code == HTTPStatus.OK
    formset = answer.context["inline_admin_formsets"][0].formset
    assert "needs unit" in str(formset.forms[0].errors["payload"])
    assert Reorganization.objects.count() == 0


def test_each_problem_is_shown_beside_its_operation(
    editor_client: Client, small_tree: tuple
) -> None:
    editor_client.post(ADD, {**draft_data(), **inline([move_leaf_to("no-such-unit")])})
    reorganization = Reorganization.objects.get()
    assert reorganization.problems[0]["operation"] == 0
    page = editor_client.get(change_url(reorganization)).content.decode()
    assert "Operation 1: No organizational unit has the slug “no-such-unit”." in page


def test_the_actions_submit_and_approve_and_refuse_self_approval(
    editor_client: Client,
    approver_client: Client,
    small_tree: tuple,
    approver: User,
) -> None:
    editor_client.post(
        ADD, {**draft_data(), **inline([move_leaf_to("right-department")])}
    )
    reorganization = Reorganization.objects.get()
    act(editor_client, "submit", reorganization)
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.SUBMITTED

    # The editor is no approver: refused, with the reason, and nothing applied.
    assert "Only registry approvers" in act(editor_client, "approve", reorganization)
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.SUBMITTED

    assert "was approved" in act(approver_client, "approve", reorganization)
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.APPLIED
    leaf = OrganizationalUnit.objects.get(slug="leaf-unit")
    assert leaf.parent == small_tree[2]
    # Applied: read-only, no operation can be added any more.
    page = approver_client.get(change_url(reorganization))
    assert page.status_code == HTTPStatus.OK
    assert not page.context["inline_admin_formsets"][0].has_add_permission


def test_reject_takes_the_reason_typed_beside_the_action(
    editor: User, approver_client: Client, small_tree: tuple
) -> None:
    reorganization = services.reorganization_create(
        user=editor,
        title="Plan",
        reason="r",
        effective_at=timezone.now() + datetime.timedelta(days=2),
    )
    services.operation_add(
        reorganization=reorganization,
        user=editor,
        kind="change_unit",
        payload={"unit": "leaf-unit", "fields": {"location": "Rome"}},
    )
    services.reorganization_submit(reorganization=reorganization, user=editor)
    refused = act(approver_client, "reject", reorganization, reason="")
    assert "A reason is required" in refused
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.SUBMITTED
    act(approver_client, "reject", reorganization, reason="Not this year")
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.REJECTED
    assert reorganization.rejection_reason == "Not this year"


def test_cancel_from_the_list(editor_client: Client, small_tree: tuple) -> None:
    editor_client.post(
        ADD, {**draft_data(), **inline([move_leaf_to("right-department")])}
    )
    reorganization = Reorganization.objects.get()
    act(editor_client, "cancel", reorganization)
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.CANCELLED
    assert ReorganizationOperation.objects.count() == 1
    assert OrganizationalUnit.objects.get(slug="leaf-unit").parent == small_tree[1]


def test_the_approvers_group_holds_the_approve_permission() -> None:
    approvers = Group.objects.get(name="Registry approvers")
    assert approvers.permissions.filter(codename="approve_reorganization").exists()


def test_an_operation_is_taken_out_of_a_draft(
    editor_client: Client, small_tree: tuple
) -> None:
    editor_client.post(
        ADD, {**draft_data(), **inline([move_leaf_to("right-department")])}
    )
    reorganization = Reorganization.objects.get()
    operation = reorganization.operations.get()
    row = {**move_leaf_to("right-department"), "id": str(operation.pk)}
    row["reorganization"] = str(reorganization.pk)
    row["DELETE"] = "on"
    answer = editor_client.post(
        change_url(reorganization), {**draft_data(), **inline([row], initial=1)}
    )
    assert answer.status_code == HTTPStatus.FOUND
    assert reorganization.operations.count() == 0


def applied_move(editor_client: Client, approver_client: Client) -> Reorganization:
    editor_client.post(
        ADD, {**draft_data(), **inline([move_leaf_to("right-department")])}
    )
    reorganization = Reorganization.objects.get()
    act(editor_client, "submit", reorganization)
    act(approver_client, "approve", reorganization)
    reorganization.refresh_from_db()
    assert reorganization.status == ReorganizationStatus.APPLIED
    return reorganization


def revert_url(reorganization: Reorganization) -> str:
    return reverse("admin:units_reorganization_revert", args=[reorganization.pk])


def test_an_applied_reorganization_is_reverted_with_a_reason(
    editor_client: Client, approver_client: Client, small_tree: tuple
) -> None:
    original = applied_move(editor_client, approver_client)
    page = editor_client.get(change_url(original)).content.decode()
    assert revert_url(original) in page
    assert "Revert…" in page

    form = editor_client.get(revert_url(original))
    assert form.status_code == HTTPStatus.OK
    answer = editor_client.post(
        revert_url(original), {"reason": "Withdrawn", "reason_visibility": "public"}
    )

    revert = Reorganization.objects.get(reverts=original)
    assert answer.status_code == HTTPStatus.FOUND
    assert answer["Location"] == change_url(revert)
    assert revert.title == "Reverts Move Leaf"
    assert revert.status == ReorganizationStatus.DRAFT
    assert [operation.payload for operation in revert.operations.all()] == [
        {
            "unit": "leaf-unit",
            "reporting_line": "direct_supervision",
            "position": "first-child",
            "target": "left-department",
        }
    ]
    # Labelled as a revert on its page and in the list; a draft has no button.
    page = editor_client.get(change_url(revert)).content.decode()
    assert "This reorganization reverts “Move Leaf”." in page
    assert "reverts Move Leaf" in page
    assert revert_url(revert) not in page
    listed = editor_client.get(CHANGELIST).content.decode()
    assert "reverts Move Leaf" in listed

    # Then the normal life cycle, a second person approving.
    act(editor_client, "submit", revert)
    assert "was approved" in act(approver_client, "approve", revert)
    leaf = OrganizationalUnit.objects.get(slug="leaf-unit")
    assert leaf.parent == small_tree[1]


def test_what_cannot_be_restored_is_shown_on_the_draft(
    editor_client: Client, approver_client: Client, small_tree: tuple, editor: User
) -> None:
    original = applied_move(editor_client, approver_client)
    services.unit_move(
        unit=small_tree[3], new_parent=small_tree[0], user=editor, reason="Later"
    )
    editor_client.post(revert_url(original), {"reason": "Undo"})
    revert = Reorganization.objects.get(reverts=original)
    page = editor_client.get(change_url(revert)).content.decode()
    assert "what it cannot restore" in page.lower()
    assert "“Leaf Unit” was moved again since; it is not moved back." in page


@pytest.mark.parametrize(
    ("data", "status", "shown"),
    [
        ({}, HTTPStatus.BAD_REQUEST, "This field is required."),
        ({"reason": "Un\x0bdo"}, HTTPStatus.BAD_REQUEST, "control character"),
        ({"reason": "Undo", "effective_at_0": "soon"}, HTTPStatus.BAD_REQUEST, "date"),
    ],
)
def test_a_bad_revert_form_is_refused_and_nothing_written(
    editor_client: Client,
    approver_client: Client,
    small_tree: tuple,
    data: dict[str, str],
    status: int,
    shown: str,
) -> None:
    original = applied_move(editor_client, approver_client)
    answer = editor_client.post(revert_url(original), data)
    assert answer.status_code == status
    assert shown in answer.content.decode()
    assert Reorganization.objects.count() == 1


def test_reverting_a_draft_is_refused_with_its_reason(
    editor_client: Client, small_tree: tuple
) -> None:
    editor_client.post(ADD, {**draft_data(), **inline([])})
    draft = Reorganization.objects.get()
    assert (
        revert_url(draft) not in editor_client.get(change_url(draft)).content.decode()
    )
    answer = editor_client.post(revert_url(draft), {"reason": "Undo"})
    assert answer.status_code == HTTPStatus.CONFLICT
    assert "cannot be reverted" in answer.content.decode()
    assert Reorganization.objects.count() == 1


def test_a_reader_without_the_add_permission_cannot_revert(
    editor_client: Client, approver_client: Client, small_tree: tuple
) -> None:
    original = applied_move(editor_client, approver_client)
    # An approver approves; drafting is the editors'.
    assert (
        revert_url(original)
        not in approver_client.get(change_url(original)).content.decode()
    )
    answer = approver_client.post(revert_url(original), {"reason": "Undo"})
    assert answer.status_code == HTTPStatus.FORBIDDEN
    assert Reorganization.objects.count() == 1


def test_the_revert_page_offers_to_correct_the_record(
    editor_client: Client, approver_client: Client, small_tree: tuple
) -> None:
    original = applied_move(editor_client, approver_client)
    form = editor_client.get(revert_url(original)).content.decode()
    assert 'name="mode" value="correct"' in form
    assert "reports printed before today still show it." in form

    answer = editor_client.post(
        revert_url(original), {"reason": "Never moved", "mode": "correct"}
    )

    assert answer.status_code == HTTPStatus.FOUND
    revert = Reorganization.objects.get(reverts=original)
    assert revert.effective_at == original.effective_at

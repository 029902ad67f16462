"""One change as a one-operation reorganization: approved by its author, applied at
once through the reorganizations' apply path, so its history rows name it; a refusal
writes nothing, neither the change nor the reorganization."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.conftest import assert_tree_matches_rebuild
from tests.services.test_reorganizations import RECORDED, registry, snapshot
from units import services
from units.models import (
    OperationKind,
    OrganizationalUnit,
    Reorganization,
    ReorganizationStatus,
)
from units.services.refusals import Refusal, refusal_code, refusal_status

pytestmark = pytest.mark.django_db
__all__ = ["registry"]  # the fixture, shared with the reorganizations' tests


def everything() -> tuple[Any, ...]:
    return (
        *snapshot(),
        Reorganization.objects.count(),
        Reorganization.history.count(),
    )


def move(editor: Any, unit: str, parent: str | None, **arguments: Any) -> Any:
    return services.single_operation_apply(
        user=editor,
        kind=OperationKind.MOVE_UNIT,
        payload={"unit": unit, "parent": parent},
        **{"reason": "Policy owns data", **arguments},
    )


@pytest.mark.parametrize("self_approval", [False, True])
def test_a_move_is_one_operation_approved_by_its_author_and_applied(
    registry: dict[str, Any], editor: User, settings: Any, self_approval: bool
) -> None:
    # Whatever the setting for drafts, the author approves a one-operation change.
    settings.REORGANIZATION_SELF_APPROVAL = self_approval
    reorganization = move(editor, "a1", "dept-b", reason_visibility="public")

    assert reorganization.status == ReorganizationStatus.APPLIED
    assert (reorganization.author, reorganization.approver) == (editor, editor)
    assert reorganization.title == "Move a unit: a1"
    assert [(op.kind, op.payload) for op in reorganization.operations.all()] == [
        (OperationKind.MOVE_UNIT, {"unit": "a1", "parent": "dept-b"})
    ]
    a1 = OrganizationalUnit.objects.get(slug="a1")
    assert a1.parent == registry["dept_b"]
    latest = a1.history.order_by("-history_id").first()
    assert latest.reorganization == reorganization
    assert (
        latest.history_change_reason,
        latest.reason_visibility,
        latest.history_user,
        latest.history_date,
    ) == ("Policy owns data", "public", editor, reorganization.effective_at)
    rows = [
        row
        for model in RECORDED
        for row in model.history.filter(reorganization=reorganization)
    ]
    assert rows == [latest]
    assert list(
        reorganization.history.order_by("history_id").values_list(
            "history_change_reason", flat=True
        )
    ) == ["One operation, approved by its author", "Applied"]
    assert_tree_matches_rebuild()


def test_a_backdated_change_takes_its_date_and_the_nature_of_the_line(
    registry: dict[str, Any], editor: User
) -> None:
    day = (timezone.now() - datetime.timedelta(days=3)).date()
    reorganization = services.single_operation_apply(
        user=editor,
        kind=OperationKind.MOVE_UNIT,
        payload={"unit": "a2", "parent": "dept-b", "reporting_line": "oversight"},
        reason="Oversight only",
        effective_at=day,
    )
    a2 = OrganizationalUnit.objects.get(slug="a2")
    assert (a2.parent, a2.reporting_line) == (registry["dept_b"], "oversight")
    latest = a2.history.order_by("-history_id").first()
    assert latest.history_date == reorganization.effective_at
    assert latest.history_date.date() == day


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        # Into its own subtree.
        ({"unit": "dept-a", "parent": "a1"}, Refusal.CYCLE),
        # No such unit.
        ({"unit": "nowhere", "parent": "dept-b"}, Refusal.NOT_FOUND),
        # A payload of the wrong shape.
        ({"unit": "a1"}, Refusal.INVALID),
        # No reason.
        (
            {"unit": "a1", "parent": "dept-b", "reason": " \u200b"},
            Refusal.REASON_REQUIRED,
        ),
        # Effective later: that is a draft's, approved by a second person.
        (
            {
                "unit": "a1",
                "parent": "dept-b",
                "effective_at": timezone.now() + datetime.timedelta(days=2),
            },
            Refusal.FUTURE_EFFECTIVE_TIME,
        ),
        # Before the unit existed (a time after its first record is a correction).
        (
            {
                "unit": "a1",
                "parent": "dept-b",
                "effective_at": datetime.date(2001, 1, 1),
            },
            Refusal.OUT_OF_ORDER,
        ),
    ],
)
def test_a_refusal_writes_nothing_and_keeps_its_own_code(
    registry: dict[str, Any], editor: User, arguments: dict[str, Any], code: str
) -> None:
    before = everything()
    arguments = dict(arguments)
    payload = {
        key: arguments.pop(key) for key in ("unit", "parent") if key in arguments
    }

    with pytest.raises(ValidationError) as refusal:
        services.single_operation_apply(
            user=editor,
            kind=OperationKind.MOVE_UNIT,
            payload=payload,
            **{"reason": "Policy owns data", **arguments},
        )

    assert refusal_code(refusal.value) == code
    assert everything() == before


def test_the_refusal_says_what_the_operation_met_and_answers_its_status(
    registry: dict[str, Any], editor: User
) -> None:
    with pytest.raises(ValidationError) as refusal:
        move(editor, "dept-a", "a1")
    assert "cycle" in " ".join(refusal.value.messages)
    assert not " ".join(refusal.value.messages).startswith("Operation 1")
    assert refusal_status(refusal.value) == 409


def test_nobody_signed_in_cannot_record_a_change(registry: dict[str, Any]) -> None:
    before = everything()
    with pytest.raises(ValidationError):
        move(AnonymousUser(), "a1", "dept-b")
    with pytest.raises(ValidationError):
        move(None, "a1", "dept-b")
    assert everything() == before

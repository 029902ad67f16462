"""Lineage: merge, split, replace and absorb close units through the unit services and
leave typed, dated links from predecessors to successors; every refusal leaves nothing."""

from __future__ import annotations

import datetime
import uuid
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.conftest import assert_tree_matches_rebuild
from tests.factories import departments_a_and_b
from units import selectors, services
from units.models import (
    Appointment,
    ClosureReason,
    OperationKind,
    OrganizationalUnit,
    Post,
    Reorganization,
    ReorganizationStatus,
    UnitRelationship,
    UnitSuccession,
)
from units.services.lineage import lineage_record
from units.services.refusals import refusal_code, refusal_status
from units.services.reorganizations.lineage_operations import conflict_note

pytestmark = pytest.mark.django_db
Operations = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def registry(editor: User) -> dict[str, Any]:
    """An office with departments A (units A1, A2) and B (a head post)."""
    return departments_a_and_b(editor)


def applied(editor: User, approver: User, operations: Operations) -> Reorganization:
    reorganization = services.reorganization_create(
        user=editor,
        title="Lineage",
        reason="DG bulletin 2026/20",
        effective_at=timezone.now(),
    )
    for kind, payload in operations:
        services.operation_add(
            reorganization=reorganization, user=editor, kind=kind, payload=payload
        )
    services.reorganization_submit(reorganization=reorganization, user=editor)
    reorganization = services.reorganization_approve(
        reorganization=reorganization, user=approver
    )
    assert reorganization.status == ReorganizationStatus.APPLIED
    return reorganization


def unit(slug: str) -> OrganizationalUnit:
    return OrganizationalUnit.objects.get(slug=slug)


def links() -> list[tuple[str, str, str]]:
    return sorted(
        UnitSuccession.objects.values_list(
            "predecessor__slug", "successor__slug", "closure_reason"
        )
    )


NEW_C = {
    "name": "Department C",
    "kind": "department",
    "slug": "dept-c",
    "parent": "office",
}


def test_merging_two_units_into_a_new_one(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = applied(
        editor,
        approver,
        [
            (
                OperationKind.MERGE_UNITS,
                {"units": ["dept-a", "dept-b"], "into": "dept-c", "establish": [NEW_C]},
            )
        ],
    )
    dept_c = unit("dept-c")
    assert dept_c.parent == registry["office"]
    assert not unit("dept-a").is_active and not unit("dept-b").is_active
    # A's sub-units went to the successor; B's post closed with B.
    assert {child.slug for child in dept_c.get_children()} == {"a1", "a2"}
    assert not Post.objects.get(slug="head-of-b").is_active
    assert links() == [
        ("dept-a", "dept-c", ClosureReason.MERGED),
        ("dept-b", "dept-c", ClosureReason.MERGED),
    ]
    # One event, dated, each link a revision of the reorganization, with its reason.
    rows = UnitSuccession.history.all()
    assert len({row.event for row in rows}) == 1
    assert {row.effective_on for row in rows} == {reorganization.effective_at.date()}
    assert {row.reorganization_id for row in rows} == {reorganization.pk}
    assert {row.history_change_reason for row in rows} == {"DG bulletin 2026/20"}
    assert {row.history_user for row in rows} == {editor}
    assert_tree_matches_rebuild()


def test_merging_a_unit_into_an_existing_one(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    applied(
        editor,
        approver,
        [(OperationKind.MERGE_UNITS, {"units": ["dept-a"], "into": "dept-b"})],
    )
    assert unit("dept-b").is_active
    assert {child.slug for child in unit("dept-b").get_children()} == {"a1", "a2"}
    assert links() == [("dept-a", "dept-b", ClosureReason.MERGED)]


def test_splitting_a_unit_into_a_new_one_and_an_existing_one(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    applied(
        editor,
        approver,
        [
            (
                OperationKind.SPLIT_UNIT,
                {
                    "unit": "dept-a",
                    "into": ["dept-c", "dept-b"],
                    "establish": [NEW_C],
                    "sub_units": {"a2": "dept-b"},
                },
            )
        ],
    )
    # Unnamed sub-units go to the first successor, named ones where they are sent.
    assert unit("a1").parent == unit("dept-c")
    assert unit("a2").parent == unit("dept-b")
    assert links() == [
        ("dept-a", "dept-b", ClosureReason.SPLIT),
        ("dept-a", "dept-c", ClosureReason.SPLIT),
    ]
    assert_tree_matches_rebuild()


def test_splitting_a_unit_into_its_own_sub_units_puts_them_in_its_place(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    applied(
        editor,
        approver,
        [(OperationKind.SPLIT_UNIT, {"unit": "dept-a", "into": ["a1", "a2"]})],
    )
    assert unit("a1").parent == registry["office"]
    assert unit("a2").parent == registry["office"]
    assert unit("a1").is_active and not unit("dept-a").is_active
    assert links() == [
        ("dept-a", "a1", ClosureReason.SPLIT),
        ("dept-a", "a2", ClosureReason.SPLIT),
    ]
    assert_tree_matches_rebuild()


def test_replacing_a_unit_with_a_new_one_under_a_new_name(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    applied(
        editor,
        approver,
        [
            (
                OperationKind.REPLACE_UNIT,
                {
                    "unit": "dept-b",
                    "by": "dept-c",
                    "establish": [NEW_C],
                    "closure_reason": ClosureReason.CHANGED_NAME,
                },
            )
        ],
    )
    assert links() == [("dept-b", "dept-c", ClosureReason.CHANGED_NAME)]
    assert not unit("dept-b").is_active


def test_absorbing_a_unit_into_another(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    applied(
        editor,
        approver,
        [(OperationKind.ABSORB_UNIT, {"unit": "dept-a", "into": "dept-b"})],
    )
    assert links() == [("dept-a", "dept-b", ClosureReason.ABSORBED)]
    assert unit("a1").parent == unit("dept-b")


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        (OperationKind.MERGE_UNITS, {"units": "dept-a", "into": "x"}, "wrong type"),
        (OperationKind.MERGE_UNITS, {"units": [], "into": "x"}, "names the"),
        (OperationKind.MERGE_UNITS, {"units": [3], "into": "x"}, "slugs of units"),
        (
            OperationKind.MERGE_UNITS,
            {"units": ["dept-a"], "into": "dept-c", "establish": [NEW_C]},
            "replacement",
        ),
        (OperationKind.SPLIT_UNIT, {"unit": "dept-a", "into": ["a1"]}, "two units"),
        (
            OperationKind.SPLIT_UNIT,
            {"unit": "dept-a", "into": ["a1", "a1"]},
            "named twice",
        ),
        (OperationKind.ABSORB_UNIT, {"unit": "dept-a", "into": "dept-a"}, "itself"),
        (
            OperationKind.REPLACE_UNIT,
            {"unit": "dept-a", "by": "x", "closure_reason": "merged"},
            "closure_reason",
        ),
        (
            OperationKind.REPLACE_UNIT,
            {"unit": "dept-a", "by": "x", "establish": [NEW_C]},
            "not one of the successors",
        ),
        (
            OperationKind.REPLACE_UNIT,
            {"unit": "dept-a", "by": "dept-c", "establish": [{"name": "C"}]},
            r"establish\[0\].*needs",
        ),
        (
            OperationKind.ABSORB_UNIT,
            {"unit": "dept-a", "into": "dept-b", "establish": [NEW_C]},
            "does not take establish",
        ),
        (
            OperationKind.ABSORB_UNIT,
            {"unit": "dept-a", "into": "dept-b", "sub_units": {"a1": 3}},
            "sub_units",
        ),
    ],
)
def test_a_malformed_lineage_operation_is_refused_and_not_added(
    registry: dict[str, Any], editor: User, kind: str, payload: Any, message: str
) -> None:
    reorganization = services.reorganization_create(
        user=editor, title="Bad", reason="Why", effective_at=timezone.now()
    )
    with pytest.raises(ValidationError, match=message) as refusal:
        services.operation_add(
            reorganization=reorganization, user=editor, kind=kind, payload=payload
        )
    assert refusal_status(refusal.value) == HTTPStatus.BAD_REQUEST
    assert reorganization.operations.count() == 0


def test_a_control_character_in_a_list_of_slugs_is_refused_naming_it(
    registry: dict[str, Any], editor: User
) -> None:
    reorganization = services.reorganization_create(
        user=editor, title="Bad", reason="Why", effective_at=timezone.now()
    )
    with pytest.raises(ValidationError) as refusal:
        services.operation_add(
            reorganization=reorganization,
            user=editor,
            kind=OperationKind.MERGE_UNITS,
            payload={"units": ["dept-a", "dept\x00b"], "into": "dept-c"},
        )
    assert refusal_code(refusal.value) == "invalid_text"
    assert "units[1]" in " ".join(refusal.value.messages)
    assert reorganization.operations.count() == 0


def everything() -> tuple[Any, ...]:
    return (
        list(OrganizationalUnit.objects.order_by("pk").values()),
        list(Post.objects.order_by("pk").values()),
        list(Appointment.objects.order_by("pk").values()),
        list(UnitRelationship.objects.order_by("pk").values()),
        OrganizationalUnit.history.count(),
        UnitSuccession.history.count(),
    )


@pytest.mark.parametrize(
    ("operations", "failing", "message"),
    [
        # The successor does not exist.
        (
            [(OperationKind.ABSORB_UNIT, {"unit": "dept-a", "into": "nowhere"})],
            0,
            "nowhere",
        ),
        # Conflicting operations: the second closes a unit the first closed.
        (
            [
                (OperationKind.ABSORB_UNIT, {"unit": "dept-a", "into": "dept-b"}),
                (OperationKind.MERGE_UNITS, {"units": ["dept-a"], "into": "office"}),
            ],
            1,
            "already abolished",
        ),
        # The successor is closed by an earlier operation.
        (
            [
                (OperationKind.ABSORB_UNIT, {"unit": "dept-b", "into": "office"}),
                (OperationKind.ABSORB_UNIT, {"unit": "dept-a", "into": "dept-b"}),
            ],
            1,
            "abolished",
        ),
        # A unit moved after an operation closed it.
        (
            [
                (OperationKind.ABSORB_UNIT, {"unit": "dept-a", "into": "dept-b"}),
                (OperationKind.MOVE_UNIT, {"unit": "dept-a", "parent": "dept-b"}),
            ],
            1,
            "abolished",
        ),
        # A named sub-unit that is not one.
        (
            [
                (
                    OperationKind.ABSORB_UNIT,
                    {"unit": "dept-a", "into": "dept-b", "sub_units": {"dept-b": None}},
                )
            ],
            0,
            "not an active sub-unit",
        ),
    ],
)
def test_a_lineage_operation_that_does_not_apply_is_named_and_writes_nothing(
    registry: dict[str, Any],
    editor: User,
    operations: Operations,
    failing: int,
    message: str,
) -> None:
    before = everything()
    reorganization = services.reorganization_create(
        user=editor, title="Conflict", reason="Why", effective_at=timezone.now()
    )
    for kind, payload in operations:
        services.operation_add(
            reorganization=reorganization, user=editor, kind=kind, payload=payload
        )
    reorganization.refresh_from_db()
    assert [problem["operation"] for problem in reorganization.problems] == [failing]
    assert message in reorganization.problems[0]["message"]
    if failing:
        # The conflict names the earlier operation that closed the unit.
        assert "(Operation 1 closes “" in reorganization.problems[0]["message"]
    with pytest.raises(services.ReorganizationRefusal) as refusal:
        services.reorganization_submit(reorganization=reorganization, user=editor)
    assert f"Operation {failing + 1}:" in refusal.value.messages[0]
    assert everything() == before
    assert UnitSuccession.objects.count() == 0


def test_a_lineage_that_would_loop_back_is_refused(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    applied(
        editor,
        approver,
        [(OperationKind.ABSORB_UNIT, {"unit": "a1", "into": "a2"})],
    )
    applied(editor, approver, [(OperationKind.REINSTATE_UNIT, {"unit": "a1"})])
    before = everything()
    reorganization = services.reorganization_create(
        user=editor, title="Loop", reason="Why", effective_at=timezone.now()
    )
    services.operation_add(
        reorganization=reorganization,
        user=editor,
        kind=OperationKind.ABSORB_UNIT,
        payload={"unit": "a2", "into": "a1"},
    )
    reorganization.refresh_from_db()
    assert "loop back" in reorganization.problems[0]["message"]
    assert everything() == before


def test_the_lineage_service_validates_on_its_own(
    registry: dict[str, Any], editor: User
) -> None:
    before = everything()
    write: dict[str, Any] = {"user": editor, "reason": "Lineage"}

    def refusal(**arguments: Any) -> ValidationError:
        with pytest.raises(ValidationError) as caught:
            lineage_record(**write, **arguments)
        return caught.value

    # The predecessor has not closed.
    error = refusal(
        predecessors=[registry["dept_a"]],
        successors=[registry["dept_b"]],
        closure_reason=ClosureReason.ABSORBED,
    )
    assert refusal_code(error) == "predecessor_active"
    assert refusal_status(error) == HTTPStatus.CONFLICT
    # Successors required, as many as the reason says.
    error = refusal(
        predecessors=[registry["dept_a"]],
        successors=[],
        closure_reason=ClosureReason.REPLACED,
    )
    assert refusal_code(error) == "successor_required"
    error = refusal(
        predecessors=[registry["dept_a"]],
        successors=[registry["dept_b"]],
        closure_reason=ClosureReason.SPLIT,
    )
    assert "at least 2 successor" in error.messages[0]
    # Not a reason of the list; not its own successor.
    assert (
        "closure reason"
        in refusal(
            predecessors=[registry["dept_a"]],
            successors=[registry["dept_b"]],
            closure_reason="vanished",
        ).messages[0]
    )
    error = refusal(
        predecessors=[registry["dept_a"]],
        successors=[registry["dept_a"]],
        closure_reason=ClosureReason.REPLACED,
    )
    assert refusal_code(error) == "self_succession"
    # An abolished successor.
    for closed in ("a1", "a2"):
        services.unit_abolish(unit=registry[closed], user=editor, reason="Closed")
    error = refusal(
        predecessors=[registry["a1"]],
        successors=[registry["a2"]],
        closure_reason=ClosureReason.ABSORBED,
    )
    assert "cannot be a successor" in error.messages[0]
    assert UnitSuccession.objects.count() == 0
    assert everything()[1:4] == before[1:4]


def test_a_control_character_in_a_unit_to_establish_is_refused_naming_it(
    registry: dict[str, Any], editor: User
) -> None:
    reorganization = services.reorganization_create(
        user=editor, title="Bad", reason="Why", effective_at=timezone.now()
    )
    with pytest.raises(ValidationError) as refusal:
        services.operation_add(
            reorganization=reorganization,
            user=editor,
            kind=OperationKind.REPLACE_UNIT,
            payload={
                "unit": "dept-a",
                "by": "dept-c",
                "establish": [{**NEW_C, "name": "Department\x07C"}],
            },
        )
    assert refusal_code(refusal.value) == "invalid_text"
    (message,) = refusal.value.message_dict["payload"]
    assert message.startswith("“establish[0].name”")
    assert reorganization.operations.count() == 0


def test_a_conflict_names_the_earlier_operation_that_closed_the_unit() -> None:
    operations: Operations = [
        (OperationKind.ABOLISH_UNIT, {"unit": "dept-a"}),
        (OperationKind.MERGE_UNITS, {"units": ["dept-b", "a1"], "into": "x"}),
        (OperationKind.MOVE_UNIT, {"unit": "a1", "parent": "dept-a"}),
        (OperationKind.REINSTATE_UNIT, {"unit": "dept-a"}),
    ]
    assert conflict_note(operations, 2) == "(Operation 1 closes “dept-a”.)"
    # An earlier operation that was refused closed nothing.
    assert conflict_note(operations, 2, refused={0}) == ("(Operation 2 closes “a1”.)")
    assert conflict_note(operations, 2, refused={0, 1}) == ""
    # A reinstatement names a closed unit on purpose.
    assert conflict_note(operations, 3) == ""
    assert conflict_note(operations, 0) == ""


def test_the_consistency_check_finds_a_lineage_that_loops_back(
    registry: dict[str, Any], editor: User
) -> None:
    assert selectors.registry_problems() == []
    # As a restored file could hold it: links written past the service's checks.
    for before, after in (("a1", "a2"), ("a2", "dept-a"), ("dept-a", "a1")):
        UnitSuccession.objects.create(
            predecessor=unit(before),
            successor=unit(after),
            closure_reason=ClosureReason.ABSORBED,
            effective_on=datetime.date(2026, 1, 1),
            event=uuid.uuid4(),
        )
    problems = selectors.lineage_problems()
    assert len(problems) == 3
    assert f"unit {registry['a1'].pk}: its lineage loops back to itself" in problems

"""Reorganizations: drafted, validated per operation, approved by a second person,
applied all or nothing at their time, with the worker running or stopped."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import assert_tree_matches_rebuild
from tests.factories import departments_a_and_b
from units import services
from units.models import (
    Appointment,
    OperationKind,
    OrganizationalUnit,
    Person,
    Post,
    Reorganization,
    ReorganizationOperation,
    ReorganizationStatus,
    UnitRelationship,
)
from units.services.refusals import refusal_code, refusal_status
from units.tasks import apply_due_reorganizations_task

pytestmark = pytest.mark.django_db
Status = ReorganizationStatus
RECORDED = (OrganizationalUnit, Post, Person, Appointment, UnitRelationship)


def history_count() -> int:
    return sum(model.history.count() for model in RECORDED)


def snapshot() -> tuple[Any, ...]:
    """Everything a refused or failed reorganization must leave untouched."""
    return (
        list(OrganizationalUnit.objects.order_by("pk").values()),
        list(Post.objects.order_by("pk").values()),
        list(Appointment.objects.order_by("pk").values()),
        list(UnitRelationship.objects.order_by("pk").values()),
        history_count(),
    )


@contextmanager
def clock_at(moment: datetime.datetime) -> Iterator[None]:
    """Every ``timezone.now()`` reads ``moment`` (no worker runs meanwhile)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def registry(editor: User) -> dict[str, Any]:
    """An office with two departments; A has two units, B a head post; one person."""
    person = services.person_create(
        user=editor, reason="Setup", full_name="Ada Lovelace", slug="ada"
    )
    return {**departments_a_and_b(editor), "person": person}


def draft(
    editor: User,
    operations: list[tuple[str, dict[str, Any]]],
    *,
    effective_at: datetime.datetime | None = None,
) -> Reorganization:
    reorganization = services.reorganization_create(
        user=editor,
        title="Restructure B",
        reference="DG bulletin 2026/14",
        reason="DG bulletin 2026/14",
        effective_at=effective_at or timezone.now(),
    )
    for kind, payload in operations:
        services.operation_add(
            reorganization=reorganization, user=editor, kind=kind, payload=payload
        )
    reorganization.refresh_from_db()
    return reorganization


def submitted(
    author: User, operations: list[tuple[str, dict[str, Any]]]
) -> Reorganization:
    """Drafted and submitted by ``author`` (the draft's object: refresh to read on)."""
    reorganization = draft(author, operations)
    services.reorganization_submit(reorganization=reorganization, user=author)
    return reorganization


FIVE_OPERATIONS: list[tuple[str, dict[str, Any]]] = [
    (
        OperationKind.ESTABLISH_UNIT,
        {
            "name": "New Division",
            "kind": "division",
            "slug": "new-div",
            "parent": "dept-b",
        },
    ),
    (OperationKind.CHANGE_UNIT, {"unit": "a1", "fields": {"mandate": "Data."}}),
    (OperationKind.MOVE_UNIT, {"unit": "a2", "parent": "new-div"}),
    (OperationKind.APPOINT, {"person": "ada", "post": "head-of-b"}),
    (
        OperationKind.ADD_DOTTED_LINE,
        {"source": "a1", "target": "new-div", "kind": "supports"},
    ),
]


def test_a_reorganization_applies_every_operation_as_one(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = draft(editor, FIVE_OPERATIONS)
    assert reorganization.problems == []
    services.reorganization_submit(reorganization=reorganization, user=editor)
    reorganization = services.reorganization_approve(
        reorganization=reorganization, user=approver
    )

    assert reorganization.status == Status.APPLIED
    assert reorganization.approver == approver
    new_division = OrganizationalUnit.objects.get(slug="new-div")
    assert new_division.parent == registry["dept_b"]
    assert OrganizationalUnit.objects.get(slug="a2").parent == new_division
    assert OrganizationalUnit.objects.get(slug="a1").mandate == "Data."
    assert registry["post"].appointments.get().person == registry["person"]
    assert UnitRelationship.objects.get().target == new_division
    # Every revision it wrote names it, with its reason, time and author.
    rows = [
        row
        for model in RECORDED
        for row in model.history.filter(reorganization=reorganization)
    ]
    assert len(rows) == 5
    assert {row.history_change_reason for row in rows} == {"DG bulletin 2026/14"}
    assert {row.history_date for row in rows} == {reorganization.effective_at}
    assert {row.history_user for row in rows} == {editor}
    assert registry["office"].history.filter(reorganization__isnull=False).count() == 0
    assert_tree_matches_rebuild()


def test_each_problem_is_reported_next_to_its_operation(
    registry: dict[str, Any], editor: User
) -> None:
    before = snapshot()
    reorganization = draft(
        editor,
        [
            (OperationKind.CHANGE_UNIT, {"unit": "a1", "fields": {"name": "A one"}}),
            (OperationKind.MOVE_UNIT, {"unit": "dept-a", "parent": "a1"}),
            (OperationKind.APPOINT, {"person": "ada", "post": "no-such-post"}),
        ],
    )
    assert [problem["operation"] for problem in reorganization.problems] == [1, 2]
    assert "cycle" in reorganization.problems[0]["message"]
    assert "no-such-post" in reorganization.problems[1]["message"]

    with pytest.raises(services.ReorganizationRefusal) as refusal:
        services.reorganization_submit(reorganization=reorganization, user=editor)
    assert refusal_status(refusal.value) == HTTPStatus.CONFLICT
    assert "Operation 2:" in refusal.value.messages[0]
    assert [problem["operation"] for problem in refusal.value.problems] == [1, 2]
    reorganization.refresh_from_db()
    assert reorganization.status == Status.DRAFT
    assert snapshot() == before


def test_an_empty_draft_cannot_be_submitted(editor: User) -> None:
    reorganization = draft(editor, [])
    with pytest.raises(services.ReorganizationRefusal, match="no operation"):
        services.reorganization_submit(reorganization=reorganization, user=editor)


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        ("rename_planet", {}, "Unknown operation kind"),
        (OperationKind.MOVE_UNIT, {"parent": "dept-b"}, "needs unit"),
        (OperationKind.MOVE_UNIT, {"unit": "a1"}, "either the new"),
        (OperationKind.CHANGE_UNIT, {"unit": "a1", "fields": {"slug": "x"}}, "fields"),
        (OperationKind.APPOINT, {"person": 3, "post": "p"}, "wrong type"),
        (OperationKind.REINSTATE_UNIT, {"unit": "a1", "colour": "red"}, "colour"),
        (
            OperationKind.ADD_DOTTED_LINE,
            {"source": "a", "target": "b", "kind": "x"},
            "kind",
        ),
        (OperationKind.CREATE_POST, {"unit": "a1"}, "needs title"),
        (OperationKind.CREATE_POST, {"unit": "a1", "title": "T", "is_head": 1}, "type"),
        (
            OperationKind.CREATE_POST,
            {"unit": "a1", "title": "T", "term_years": True},
            "wrong type",
        ),
        (
            OperationKind.CREATE_POST,
            {"unit": "a1", "title": "T", "filling_method": "lottery"},
            "filling_method",
        ),
        (
            OperationKind.CREATE_POST,
            {"unit": "a1", "title": "T", "term_years": 0},
            "term_years",
        ),
        (OperationKind.CHANGE_POST, {"post": "p", "fields": {}}, "fields"),
        (OperationKind.CHANGE_POST, {"post": "p", "fields": {"slug": "x"}}, "fields"),
        (
            OperationKind.CHANGE_POST,
            {"post": "p", "fields": {"is_head": "yes"}},
            "fields.is_head",
        ),
        (OperationKind.ABOLISH_POST, {"post": "p", "unit": "a1"}, "unit"),
    ],
)
def test_a_malformed_operation_is_refused_and_not_added(
    registry: dict[str, Any], editor: User, kind: str, payload: Any, message: str
) -> None:
    reorganization = draft(editor, [])
    with pytest.raises(ValidationError, match=message) as refusal:
        services.operation_add(
            reorganization=reorganization, user=editor, kind=kind, payload=payload
        )
    assert refusal_status(refusal.value) == HTTPStatus.BAD_REQUEST
    assert reorganization.operations.count() == 0


def reorganization_rows() -> tuple[Any, ...]:
    """Every reorganization and operation, with their history."""
    return (
        list(Reorganization.objects.order_by("pk").values()),
        list(ReorganizationOperation.objects.order_by("pk").values()),
        Reorganization.history.count(),
        ReorganizationOperation.history.count(),
    )


def refused_text(call: Any) -> dict[str, list[str]]:
    """The field errors of a write refused for a text (``invalid_text``, a 400);
    nothing of the registry or of any reorganization is written."""
    before = (snapshot(), reorganization_rows())
    with pytest.raises(ValidationError) as refusal:
        call()
    assert refusal_code(refusal.value) == "invalid_text"
    assert refusal_status(refusal.value) == HTTPStatus.BAD_REQUEST
    assert (snapshot(), reorganization_rows()) == before
    return refusal.value.message_dict


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("title", "Restructure\x0bB", "The title holds a control character (U+000B)"),
        ("title", "Restructure\nB", "The title holds a line break (U+000A)"),
        ("reference", "DG\x1f14", "The reference holds a control character (U+001F)"),
        ("reason", "Because\x07", "The reason holds a control character (U+0007)"),
    ],
)
def test_a_control_character_in_a_draft_is_refused_naming_the_field(
    editor: User, field: str, value: str, shown: str
) -> None:
    fields = {"title": "Plan", "reference": "", "reason": "Reform", field: value}
    errors = refused_text(
        lambda: services.reorganization_create(user=editor, effective_at=None, **fields)
    )
    assert errors[field][0].startswith(shown)

    reorganization = draft(editor, [])
    errors = refused_text(
        lambda: services.reorganization_update(
            reorganization=reorganization, user=editor, **{field: value}
        )
    )
    assert errors[field][0].startswith(shown)


def test_a_control_character_in_a_rejection_reason_is_refused(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = submitted(editor, FIVE_OPERATIONS)

    errors = refused_text(
        lambda: services.reorganization_reject(
            reorganization=reorganization, user=approver, reason="Not\x0byet"
        )
    )

    assert "control character (U+000B)" in errors["reason"][0]
    reorganization.refresh_from_db()
    assert reorganization.status == Status.SUBMITTED


@pytest.mark.parametrize(
    ("kind", "payload", "shown"),
    [
        (
            OperationKind.ESTABLISH_UNIT,
            {"name": "New\x0bDivision", "kind": "division", "slug": "new-div"},
            "“name”: The name holds a control character (U+000B)",
        ),
        (
            OperationKind.ESTABLISH_UNIT,
            {"name": "New", "kind": "division", "slug": "n", "short_name": "N\nD"},
            "“short_name”: The acronym or short name holds a line break (U+000A)",
        ),
        (
            OperationKind.CHANGE_UNIT,
            {"unit": "a1", "fields": {"location": "Ro\x1fme"}},
            "“fields.location”: The location holds a control character (U+001F)",
        ),
        (
            OperationKind.ABOLISH_UNIT,
            {"unit": "dept-a", "sub_units": {"a1": "dept\x07b"}},
            "“sub_units.a1”: The slug holds a control character (U+0007)",
        ),
        (
            OperationKind.APPOINT,
            {"person": "ada", "post": "head-of-b", "note": "Acting\x0b"},
            "“note”: The note holds a control character (U+000B)",
        ),
        (
            OperationKind.ADD_DOTTED_LINE,
            {"source": "a1", "target": "a\x1f2", "kind": "supports"},
            "“target”: The target holds a control character (U+001F)",
        ),
        (
            OperationKind.CREATE_POST,
            {"unit": "a1", "title": "Head\x0bof A1"},
            "“title”: The title holds a control character (U+000B)",
        ),
        (
            OperationKind.CHANGE_POST,
            {"post": "head-of-b", "fields": {"term_note": "Five\nyears"}},
            "“fields.term_note”: The term holds a line break (U+000A)",
        ),
        (
            OperationKind.ABOLISH_POST,
            {"post": "head\x07of-b"},
            "“post”: The post holds a control character (U+0007)",
        ),
    ],
)
def test_a_control_character_in_a_payload_is_refused_naming_its_key(
    registry: dict[str, Any],
    editor: User,
    kind: str,
    payload: dict[str, Any],
    shown: str,
) -> None:
    reorganization = draft(editor, [(OperationKind.REINSTATE_UNIT, {"unit": "a1"})])
    operation = reorganization.operations.get()

    added = refused_text(
        lambda: services.operation_add(
            reorganization=reorganization, user=editor, kind=kind, payload=payload
        )
    )
    changed = refused_text(
        lambda: services.operation_update(
            operation=operation, user=editor, kind=kind, payload=payload
        )
    )

    assert added == changed
    (message,) = added["payload"]
    assert message.startswith(shown), message


def test_line_breaks_stay_allowed_in_a_payload_text_that_is_multi_line(
    registry: dict[str, Any], editor: User
) -> None:
    mandate = "Keeps the data.\nAnswers questions."
    reorganization = draft(
        editor,
        [
            (
                OperationKind.ESTABLISH_UNIT,
                {"name": "New", "kind": "division", "slug": "n", "mandate": mandate},
            ),
            (
                OperationKind.ADD_DOTTED_LINE,
                {
                    "source": "a1",
                    "target": "a2",
                    "kind": "supports",
                    "description": "Two\nlines",
                },
            ),
        ],
    )

    assert reorganization.problems == []
    assert reorganization.operations.count() == 2


def test_approving_your_own_is_refused(
    registry: dict[str, Any], approver: User
) -> None:
    reorganization = submitted(approver, FIVE_OPERATIONS)
    before = snapshot()
    with pytest.raises(ValidationError, match="someone else must approve") as refusal:
        services.reorganization_approve(reorganization=reorganization, user=approver)
    assert refusal_status(refusal.value) == HTTPStatus.FORBIDDEN
    reorganization.refresh_from_db()
    assert reorganization.status == Status.SUBMITTED
    assert snapshot() == before


def test_a_one_person_registry_may_allow_self_approval(
    registry: dict[str, Any], approver: User, settings: Any
) -> None:
    settings.REORGANIZATION_SELF_APPROVAL = True
    reorganization = submitted(approver, FIVE_OPERATIONS)
    approved = services.reorganization_approve(
        reorganization=reorganization, user=approver
    )
    assert approved.status == Status.APPLIED


@pytest.mark.parametrize(
    ("step", "fields"),
    [
        (services.reorganization_approve, {}),
        (services.reorganization_reject, {"reason": "No."}),
    ],
    ids=["approve", "reject"],
)
def test_only_approvers_approve_or_reject(
    registry: dict[str, Any],
    editor: User,
    other_editor: User,
    step: Callable[..., Reorganization],
    fields: dict[str, str],
) -> None:
    reorganization = submitted(editor, FIVE_OPERATIONS)
    with pytest.raises(ValidationError) as refusal:
        step(reorganization=reorganization, user=other_editor, **fields)
    assert refusal_code(refusal.value) == "not_an_approver"
    assert refusal_status(refusal.value) == HTTPStatus.FORBIDDEN
    reorganization.refresh_from_db()
    assert reorganization.status == Status.SUBMITTED


def test_approval_is_refused_when_the_registry_changed_since_submission(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = submitted(editor, FIVE_OPERATIONS)
    services.unit_abolish(unit=registry["dept_b"], user=editor, reason="Closed")
    before = snapshot()

    with pytest.raises(services.ReorganizationRefusal, match="abolished") as refusal:
        services.reorganization_approve(reorganization=reorganization, user=approver)
    assert refusal.value.problems[0]["operation"] == 0
    reorganization.refresh_from_db()
    assert reorganization.status == Status.SUBMITTED
    assert snapshot() == before


def scheduled(
    editor: User, approver: User, operations: list[tuple[str, dict[str, Any]]]
) -> Reorganization:
    """Drafted, submitted and approved to take effect in ten days."""
    reorganization = draft(
        editor, operations, effective_at=timezone.now() + datetime.timedelta(days=10)
    )
    assert reorganization.problems == []
    services.reorganization_submit(reorganization=reorganization, user=editor)
    return services.reorganization_approve(reorganization=reorganization, user=approver)


def test_a_future_reorganization_is_scheduled_not_applied(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    before = snapshot()
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    assert reorganization.status == Status.APPROVED
    assert reorganization.is_scheduled
    assert snapshot() == before


def test_with_the_worker_stopped_a_read_after_the_effective_time_applies_it(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    second = datetime.timedelta(seconds=1)

    with clock_at(reorganization.effective_at - second):
        answer = client.get("/api/v1/units/a2/")
    assert answer.json()["parent"] == "dept-a"
    reorganization.refresh_from_db()
    assert reorganization.status == Status.APPROVED

    with clock_at(reorganization.effective_at + second):
        answer = client.get("/api/v1/units/a2/")
    assert answer.json()["parent"] == "new-div"
    reorganization.refresh_from_db()
    assert reorganization.status == Status.APPLIED
    assert OrganizationalUnit.history.get(slug="new-div").history_date == (
        reorganization.effective_at
    )


def test_a_read_before_anything_is_due_costs_no_query(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    with clock_at(reorganization.effective_at - datetime.timedelta(seconds=1)):
        with mock.patch(
            "units.selectors.reorganizations.next_due_from_database"
        ) as query:
            client.get("/api/v1/")
    query.assert_not_called()


def test_the_task_applies_it_at_its_time(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    with clock_at(reorganization.effective_at - datetime.timedelta(seconds=1)):
        assert apply_due_reorganizations_task.call() == 0
    with clock_at(reorganization.effective_at + datetime.timedelta(seconds=1)):
        assert apply_due_reorganizations_task.call() == 1
    reorganization.refresh_from_db()
    assert reorganization.status == Status.APPLIED
    assert OrganizationalUnit.objects.get(slug="a2").parent == (
        OrganizationalUnit.objects.get(slug="new-div")
    )


# The worker closes its database connection after each task, as a process of its own
# does; a test transaction would not survive that on PostgreSQL. No serialized
# rollback: restoring content types under their old ids after another transactional
# test clashes with those made again since, and its flush (without post_migrate) would
# leave the next test no permissions. The approver fixture writes the role again.
@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_the_task_enqueued_at_approval(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    with clock_at(reorganization.effective_at - datetime.timedelta(seconds=1)):
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    reorganization.refresh_from_db()
    assert reorganization.status == Status.APPROVED

    with clock_at(reorganization.effective_at + datetime.timedelta(seconds=1)):
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    reorganization.refresh_from_db()
    assert reorganization.status == Status.APPLIED


def test_a_reorganization_that_no_longer_applies_fails_whole(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    # Meanwhile, the unit the new division goes under is abolished.
    services.unit_abolish(unit=registry["dept_b"], user=editor, reason="Closed")
    before = snapshot()

    with clock_at(reorganization.effective_at + datetime.timedelta(seconds=1)):
        services.apply_due_reorganizations()
    reorganization.refresh_from_db()
    assert reorganization.status == Status.FAILED
    assert reorganization.problems[0]["operation"] == 0
    assert "abolished" in reorganization.problems[0]["message"]
    assert snapshot() == before


def test_a_cancelled_reorganization_never_applies(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    services.reorganization_cancel(reorganization=reorganization, user=editor)
    before = snapshot()
    with clock_at(reorganization.effective_at + datetime.timedelta(days=1)):
        assert services.apply_due_reorganizations() == []
    reorganization.refresh_from_db()
    assert reorganization.status == Status.CANCELLED
    assert snapshot() == before
    with pytest.raises(ValidationError, match="cancelled; it cannot be submitted"):
        services.reorganization_submit(reorganization=reorganization, user=editor)


def test_only_its_author_or_an_approver_cancels(
    registry: dict[str, Any], editor: User, other_editor: User
) -> None:
    reorganization = draft(editor, FIVE_OPERATIONS)
    with pytest.raises(ValidationError, match="Only registry approvers"):
        services.reorganization_cancel(reorganization=reorganization, user=other_editor)


def test_reject_needs_a_reason_and_ends_the_reorganization(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = submitted(editor, FIVE_OPERATIONS)
    with pytest.raises(ValidationError, match="reason is required"):
        services.reorganization_reject(
            reorganization=reorganization, user=approver, reason=" "
        )
    rejected = services.reorganization_reject(
        reorganization=reorganization, user=approver, reason="Wait for the budget."
    )
    assert rejected.status == Status.REJECTED
    assert rejected.rejection_reason == "Wait for the budget."
    with pytest.raises(ValidationError, match="rejected; it cannot be approved"):
        services.reorganization_approve(reorganization=reorganization, user=approver)
    assert not OrganizationalUnit.objects.filter(slug="new-div").exists()


def test_a_submitted_draft_is_no_longer_edited(
    registry: dict[str, Any], editor: User
) -> None:
    reorganization = submitted(editor, FIVE_OPERATIONS)
    with pytest.raises(ValidationError, match="cannot be edited"):
        services.operation_add(
            reorganization=reorganization,
            user=editor,
            kind=OperationKind.REINSTATE_UNIT,
            payload={"unit": "a1"},
        )


def test_validation_counts_reorganizations_approved_for_earlier_dates(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    first = scheduled(editor, approver, FIVE_OPERATIONS)
    later = draft(
        editor,
        [(OperationKind.MOVE_UNIT, {"unit": "a1", "parent": "new-div"})],
        effective_at=first.effective_at + datetime.timedelta(days=1),
    )
    assert later.problems == []
    earlier = draft(
        editor,
        [(OperationKind.MOVE_UNIT, {"unit": "a1", "parent": "new-div"})],
        effective_at=first.effective_at - datetime.timedelta(days=1),
    )
    assert "new-div" in earlier.problems[0]["message"]


def test_abolishing_says_where_each_sub_unit_goes(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = draft(
        editor,
        [
            (
                OperationKind.ABOLISH_UNIT,
                {"unit": "dept-a", "sub_units": {"a1": "dept-b", "a2": None}},
            ),
        ],
    )
    services.reorganization_submit(reorganization=reorganization, user=editor)
    services.reorganization_approve(reorganization=reorganization, user=approver)
    units = {unit.slug: unit for unit in OrganizationalUnit.objects.all()}
    assert units["dept-a"].abolished_on is not None
    assert units["a1"].parent == registry["dept_b"]
    assert units["a1"].abolished_on is None
    assert units["a2"].abolished_on is not None


def test_abolishing_without_saying_where_sub_units_go_is_a_problem(
    registry: dict[str, Any], editor: User
) -> None:
    reorganization = draft(editor, [(OperationKind.ABOLISH_UNIT, {"unit": "dept-a"})])
    assert "active sub-units" in reorganization.problems[0]["message"]


def test_reinstating_brings_an_abolished_unit_back(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    services.unit_abolish(unit=registry["a1"], user=editor, reason="Closed")
    reorganization = draft(editor, [(OperationKind.REINSTATE_UNIT, {"unit": "a1"})])
    services.reorganization_submit(reorganization=reorganization, user=editor)
    services.reorganization_approve(reorganization=reorganization, user=approver)
    a1 = OrganizationalUnit.objects.get(slug="a1")
    assert a1.abolished_on is None
    assert a1.parent == registry["dept_a"]


def test_ending_an_appointment_and_a_dotted_line(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    first = submitted(editor, FIVE_OPERATIONS)
    services.reorganization_approve(reorganization=first, user=approver)
    second = draft(
        editor,
        [
            (OperationKind.END_APPOINTMENT, {"post": "head-of-b"}),
            (
                OperationKind.END_DOTTED_LINE,
                {"source": "a1", "target": "new-div", "kind": "supports"},
            ),
        ],
        effective_at=timezone.now() + datetime.timedelta(seconds=1),
    )
    assert second.problems == []
    services.reorganization_submit(reorganization=second, user=editor)
    with clock_at(timezone.now() + datetime.timedelta(seconds=2)):
        applied = services.reorganization_approve(reorganization=second, user=approver)
    assert applied.status == Status.APPLIED
    assert Appointment.objects.get().ended_on is not None
    assert UnitRelationship.objects.get().ended_on is not None


def test_the_life_cycle_is_recorded_in_its_history(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = draft(editor, FIVE_OPERATIONS[:1])
    services.reorganization_submit(reorganization=reorganization, user=editor)
    services.reorganization_approve(reorganization=reorganization, user=approver)
    steps = list(
        reorganization.history.order_by("history_id").values_list(
            "status", "history_change_reason"
        )
    )
    assert steps[0] == (Status.DRAFT, "Drafted")
    assert steps[-3:] == [
        (Status.SUBMITTED, "Submitted"),
        (Status.APPROVED, "Approved"),
        (Status.APPLIED, "Applied"),
    ]


def test_posts_are_created_changed_and_abolished_by_operations(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    reorganization = submitted(
        editor,
        [
            (
                OperationKind.CREATE_POST,
                {
                    "unit": "a1",
                    "title": "Head of A1",
                    "slug": "head-of-a1",
                    "is_head": True,
                    "term_years": 4,
                },
            ),
            (
                OperationKind.CHANGE_POST,
                {"post": "head-of-b", "fields": {"title": "Chief of B", "unit": "a2"}},
            ),
            (OperationKind.APPOINT, {"person": "ada", "post": "head-of-a1"}),
        ],
    )
    services.reorganization_approve(reorganization=reorganization, user=approver)

    created = Post.objects.get(slug="head-of-a1")
    assert (created.unit, created.is_head, created.term_years) == (
        registry["a1"],
        True,
        4,
    )
    changed = Post.objects.get(slug="head-of-b")
    assert (changed.title, changed.unit) == ("Chief of B", registry["a2"])
    assert {row.reorganization_id for row in created.history.all()} == {
        reorganization.pk
    }

    abolishing = submitted(
        editor, [(OperationKind.ABOLISH_POST, {"post": "head-of-a1"})]
    )
    services.reorganization_approve(reorganization=abolishing, user=approver)
    created.refresh_from_db()
    assert created.abolished_on is not None
    # Its holder's appointment ended with it.
    assert Appointment.objects.get(post=created).ended_on is not None


def test_a_post_operation_the_registry_refuses_is_a_problem_of_its_operation(
    registry: dict[str, Any], editor: User
) -> None:
    reorganization = draft(
        editor,
        [
            # Department B already has a head post.
            (
                OperationKind.CREATE_POST,
                {"unit": "dept-b", "title": "Head", "is_head": True},
            ),
            (
                OperationKind.CHANGE_POST,
                {"post": "no-such-post", "fields": {"title": "X"}},
            ),
            (OperationKind.ABOLISH_POST, {"post": "head-of-b"}),
            (OperationKind.ABOLISH_POST, {"post": "head-of-b"}),
        ],
    )
    assert [problem["operation"] for problem in reorganization.problems] == [0, 1, 3]
    assert "already headed" in reorganization.problems[0]["message"]
    assert "already abolished" in reorganization.problems[2]["message"]

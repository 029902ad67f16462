"""Undoing a reorganization: a new draft that restores, whole, the state before it."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.conftest import assert_tree_matches_rebuild
from tests.factories import setup_units
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
    UnitKind,
    UnitRelationship,
)
from units.selectors import states_as_of
from units.selectors.as_of import reading_as_known_at
from units.services.refusals import refusal_code, refusal_status

pytestmark = pytest.mark.django_db
Status = ReorganizationStatus
SUB_UNITS = ("s1", "s2", "s3", "s4", "s5", "s6")


@pytest.fixture
def registry(editor: User) -> dict[str, Any]:
    """An office; department D with six units, a head post held by Ada and a dotted
    line to department E; E has one unit of its own."""
    start = timezone.now() - datetime.timedelta(days=30)
    unit = setup_units(editor, start)
    office = unit("Office", "office", kind=UnitKind.OFFICE)
    dept_d = unit("Department D", "dept-d", office, kind=UnitKind.DEPARTMENT)
    dept_e = unit("Department E", "dept-e", office, kind=UnitKind.DEPARTMENT)
    for slug in SUB_UNITS:
        unit(f"Unit {slug.upper()}", slug, dept_d)
    unit("Unit E1", "e1", dept_e)
    post = services.post_create(
        user=editor,
        reason="Setup",
        unit=dept_d,
        title="Head of D",
        slug="head-of-d",
        is_head=True,
        effective_at=start,
    )
    ada = services.person_create(
        user=editor, reason="Setup", full_name="Ada Lovelace", slug="ada"
    )
    services.person_create(
        user=editor, reason="Setup", full_name="Grace Hopper", slug="grace"
    )
    services.appointment_start(
        person=ada,
        post=post,
        started_on=start.date(),
        user=editor,
        reason="Setup",
        effective_at=start,
    )
    services.relationship_create(
        source=dept_d,
        target=dept_e,
        kind="works_in_conjunction_with",
        description="Joint programmes",
        user=editor,
        reason="Setup",
        effective_at=start,
    )
    return {"office": office, "dept_d": dept_d, "dept_e": dept_e}


def applied(
    author: User,
    approver: User,
    operations: list[tuple[str, dict[str, Any]]],
    title: str = "Dissolve D",
) -> Reorganization:
    reorganization = services.reorganization_create(
        user=author, title=title, reason="DG bulletin", effective_at=timezone.now()
    )
    for kind, payload in operations:
        services.operation_add(
            reorganization=reorganization, user=author, kind=kind, payload=payload
        )
    services.reorganization_submit(reorganization=reorganization, user=author)
    done = services.reorganization_approve(reorganization=reorganization, user=approver)
    assert done.status == Status.APPLIED, done.problems
    return done


def approve_revert(
    revert: Reorganization, author: User, approver: User
) -> Reorganization:
    assert revert.problems == [], revert.problems
    services.reorganization_submit(reorganization=revert, user=author)
    done = services.reorganization_approve(reorganization=revert, user=approver)
    assert done.status == Status.APPLIED, done.problems
    return done


DISSOLUTION: list[tuple[str, dict[str, Any]]] = [
    (
        OperationKind.ABOLISH_UNIT,
        {"unit": "dept-d", "sub_units": dict.fromkeys(SUB_UNITS, "dept-e")},
    )
]


def children(slug: str) -> list[str]:
    return [
        unit.slug
        for unit in OrganizationalUnit.objects.get(slug=slug)
        .get_children()
        .active()
        .in_tree_order()
    ]


def kinds(revert: Reorganization) -> list[str]:
    return list(revert.operations.order_by("position").values_list("kind", flat=True))


def test_undoing_a_dissolution_restores_the_department_whole(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(editor, approver, DISSOLUTION)
    assert children("dept-e") == ["e1", *SUB_UNITS]
    assert not Appointment.objects.filter(ended_on__isnull=True).exists()

    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="The bulletin was withdrawn"
    )

    assert revert.title == "Reverts Dissolve D"
    assert revert.reverts == original
    assert revert.status == Status.DRAFT
    assert revert.not_restored == []
    # The department (and its post) first, its units back in order, then the holder
    # and the dotted line.
    assert kinds(revert) == [
        OperationKind.REINSTATE_UNIT,
        OperationKind.REINSTATE_POST,
        *[OperationKind.MOVE_UNIT] * 6,
        OperationKind.APPOINT,
        OperationKind.ADD_DOTTED_LINE,
    ]
    approve_revert(revert, editor, approver)

    dept_d = OrganizationalUnit.objects.get(slug="dept-d")
    assert dept_d.is_active
    assert children("dept-d") == list(SUB_UNITS)
    assert children("dept-e") == ["e1"]
    post = Post.objects.get(slug="head-of-d")
    assert post.is_active
    holder = Appointment.objects.get(post=post, ended_on__isnull=True)
    assert holder.person.slug == "ada"
    line = UnitRelationship.objects.get(ended_on__isnull=True)
    assert (line.source, line.target, line.kind, line.description) == (
        dept_d,
        registry["dept_e"],
        "works_in_conjunction_with",
        "Joint programmes",
    )
    # Every revision the undo wrote names it.
    assert OrganizationalUnit.history.filter(reorganization=revert).count() == 7
    assert_tree_matches_rebuild()


def test_undoing_a_move_a_rename_and_an_appointment(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(
        editor,
        approver,
        [
            (
                OperationKind.MOVE_UNIT,
                {"unit": "s3", "parent": "dept-e", "reporting_line": "oversight"},
            ),
            (
                OperationKind.CHANGE_UNIT,
                {"unit": "s1", "fields": {"name": "Unit One", "mandate": "New."}},
            ),
            (OperationKind.END_APPOINTMENT, {"post": "head-of-d"}),
            (OperationKind.APPOINT, {"person": "grace", "post": "head-of-d"}),
        ],
        title="Reshuffle",
    )
    assert children("dept-e") == ["e1", "s3"]

    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="Undo"
    )
    changes = {
        operation.kind: operation.payload
        for operation in revert.operations.order_by("position")
    }
    # Only the fields it changed.
    assert changes[OperationKind.CHANGE_UNIT] == {
        "unit": "s1",
        "fields": {"mandate": "", "name": "Unit S1"},
    }
    assert changes[OperationKind.MOVE_UNIT] == {
        "unit": "s3",
        "reporting_line": "direct_supervision",
        "position": "after",
        "target": "s2",
    }
    assert kinds(revert)[-2:] == [OperationKind.END_APPOINTMENT, OperationKind.APPOINT]
    approve_revert(revert, editor, approver)

    assert children("dept-d") == list(SUB_UNITS)
    s3 = OrganizationalUnit.objects.get(slug="s3")
    assert s3.reporting_line == "direct_supervision"
    s1 = OrganizationalUnit.objects.get(slug="s1")
    assert (s1.name, s1.mandate) == ("Unit S1", "")
    holder = Appointment.objects.get(post__slug="head-of-d", ended_on__isnull=True)
    assert holder.person.slug == "ada"


def test_undoing_what_it_established(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(
        editor,
        approver,
        [
            (
                OperationKind.ESTABLISH_UNIT,
                {"name": "New", "kind": "division", "slug": "new", "parent": "office"},
            ),
            (
                OperationKind.ESTABLISH_UNIT,
                {"name": "Newer", "kind": "unit", "slug": "newer", "parent": "new"},
            ),
            (OperationKind.MOVE_UNIT, {"unit": "s6", "parent": "new"}),
            (
                OperationKind.CREATE_POST,
                {"unit": "new", "title": "Head of New", "slug": "head-of-new"},
            ),
            (OperationKind.APPOINT, {"person": "grace", "post": "head-of-new"}),
            (
                OperationKind.ADD_DOTTED_LINE,
                {"source": "new", "target": "dept-e", "kind": "supports"},
            ),
        ],
    )
    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="Undo"
    )
    assert kinds(revert) == [
        OperationKind.MOVE_UNIT,
        OperationKind.END_APPOINTMENT,
        OperationKind.END_DOTTED_LINE,
        OperationKind.ABOLISH_POST,
        OperationKind.ABOLISH_UNIT,
        OperationKind.ABOLISH_UNIT,
    ]
    # The deeper one first.
    assert [
        operation.payload["unit"]
        for operation in revert.operations.filter(kind=OperationKind.ABOLISH_UNIT)
    ] == ["newer", "new"]
    approve_revert(revert, editor, approver)
    assert not OrganizationalUnit.objects.get(slug="new").is_active
    assert not OrganizationalUnit.objects.get(slug="newer").is_active
    assert children("dept-d") == list(SUB_UNITS)
    assert not Post.objects.get(slug="head-of-new").is_active
    assert not UnitRelationship.objects.filter(
        ended_on__isnull=True, kind="supports"
    ).exists()


def test_what_cannot_be_restored_is_listed_before_approval(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(
        editor,
        approver,
        [
            (OperationKind.MOVE_UNIT, {"unit": "s2", "parent": "dept-e"}),
            (OperationKind.CHANGE_UNIT, {"unit": "s1", "fields": {"name": "One"}}),
            (OperationKind.END_APPOINTMENT, {"post": "head-of-d"}),
            (
                OperationKind.END_DOTTED_LINE,
                {
                    "source": "dept-d",
                    "target": "dept-e",
                    "kind": "works_in_conjunction_with",
                },
            ),
        ],
    )
    # Since: s2 moved on, s1 renamed again, the post filled, the line drawn again.
    services.unit_move(
        unit=OrganizationalUnit.objects.get(slug="s2"),
        new_parent=registry["office"],
        user=editor,
        reason="Later",
    )
    services.unit_update(
        unit=OrganizationalUnit.objects.get(slug="s1"),
        name="Uno",
        user=editor,
        reason="Later",
    )
    services.appointment_start(
        person=Person.objects.get(slug="grace"),
        post=Post.objects.get(slug="head-of-d"),
        started_on=timezone.now().date(),
        user=editor,
        reason="Later",
    )
    services.relationship_create(
        source=registry["dept_d"],
        target=registry["dept_e"],
        kind="works_in_conjunction_with",
        user=editor,
        reason="Later",
    )

    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="Undo"
    )

    messages = sorted(item["message"] for item in revert.not_restored)
    assert messages == [
        "The appointment of Ada Lovelace as Head of D is not restored: the post is "
        "held by someone else now.",
        "The dotted line from “Department D” to “Department E” was drawn again "
        "since; it is not added twice.",
        "The name of “Uno” was changed again since; it is not restored.",
        "“Unit S2” was moved again since; it is not moved back.",
    ]
    # Nothing else to do: the draft says so rather than pretending.
    assert revert.operations.count() == 0
    assert revert.problems == [
        {"operation": None, "message": "Nothing of it can be restored."}
    ]
    reloaded = Reorganization.objects.get(pk=revert.pk)
    assert reloaded.not_restored == revert.not_restored


def snapshot() -> tuple[Any, ...]:
    return (
        list(Reorganization.objects.order_by("pk").values()),
        list(ReorganizationOperation.objects.order_by("pk").values()),
        Reorganization.history.count(),
        OrganizationalUnit.history.count(),
    )


def refused(call: Any) -> ValidationError:
    before = snapshot()
    with pytest.raises(ValidationError) as refusal:
        call()
    assert snapshot() == before
    return refusal.value


def test_only_an_applied_reorganization_is_reverted(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    draft = services.reorganization_create(
        user=editor, title="Plan", reason="r", effective_at=None
    )
    error = refused(
        lambda: services.reorganization_revert(
            reorganization=draft, user=editor, reason="Undo"
        )
    )
    assert refusal_code(error) == "wrong_status"
    assert refusal_status(error) == HTTPStatus.CONFLICT
    assert "is draft; it cannot be reverted" in error.messages[0]


def test_reverting_a_reorganization_that_does_not_exist_is_refused(
    editor: User,
) -> None:
    error = refused(
        lambda: services.reorganization_revert(
            reorganization=987654, user=editor, reason="Undo"
        )
    )
    assert refusal_code(error) == "not_found"
    assert refusal_status(error) == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("reason", "code"),
    [("Undo\x0bit", "invalid_text"), ("   ", "reason_required")],
)
def test_a_bad_reason_is_refused_and_nothing_written(
    registry: dict[str, Any], editor: User, approver: User, reason: str, code: str
) -> None:
    original = applied(editor, approver, DISSOLUTION)
    error = refused(
        lambda: services.reorganization_revert(
            reorganization=original, user=editor, reason=reason
        )
    )
    assert refusal_code(error) == code
    assert refusal_status(error) == HTTPStatus.BAD_REQUEST


def test_an_anonymous_user_cannot_revert(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(editor, approver, DISSOLUTION)
    error = refused(
        lambda: services.reorganization_revert(
            reorganization=original, user=AnonymousUser(), reason="Undo"
        )
    )
    assert refusal_status(error) == HTTPStatus.BAD_REQUEST


def test_undoing_a_reorder_puts_the_unit_back_and_leaves_renumbered_siblings(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(
        editor,
        approver,
        [
            (
                OperationKind.MOVE_UNIT,
                {"unit": "s6", "position": "first-child", "target": "dept-d"},
            ),
            # A new number, the same place among its siblings.
            (
                OperationKind.CHANGE_UNIT,
                {"unit": "s1", "fields": {"sibling_order": 11}},
            ),
        ],
    )
    assert children("dept-d") == ["s6", "s1", "s2", "s3", "s4", "s5"]

    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="Undo"
    )

    assert [operation.payload for operation in revert.operations.all()] == [
        {
            "unit": "s6",
            "reporting_line": "direct_supervision",
            "position": "after",
            "target": "s5",
        }
    ]
    approve_revert(revert, editor, approver)
    assert children("dept-d") == list(SUB_UNITS)


def test_a_unit_abolished_since_is_not_abolished_again(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(
        editor,
        approver,
        [
            (
                OperationKind.ESTABLISH_UNIT,
                {"name": "New", "kind": "unit", "slug": "new", "parent": "office"},
            )
        ],
    )
    services.unit_abolish(
        unit=OrganizationalUnit.objects.get(slug="new"), user=editor, reason="Gone"
    )
    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="Undo"
    )
    assert revert.operations.count() == 0


def test_undoing_post_operations(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(
        editor,
        approver,
        [
            (
                OperationKind.CREATE_POST,
                {"unit": "dept-e", "title": "Head of E", "slug": "head-of-e"},
            ),
            (
                OperationKind.CHANGE_POST,
                {
                    "post": "head-of-d",
                    "fields": {"title": "Chief of D", "unit": "s1", "term_years": 4},
                },
            ),
        ],
    )
    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="Undo"
    )
    assert [(op.kind, op.payload) for op in revert.operations.all()] == [
        (
            OperationKind.CHANGE_POST,
            {
                "post": "head-of-d",
                "fields": {"term_years": None, "title": "Head of D", "unit": "dept-d"},
            },
        ),
        (OperationKind.ABOLISH_POST, {"post": "head-of-e"}),
    ]
    approve_revert(revert, editor, approver)
    post = Post.objects.get(slug="head-of-d")
    assert (post.title, post.unit.slug, post.term_years) == (
        "Head of D",
        "dept-d",
        None,
    )
    # Its holder was left alone: the original did not touch the appointment.
    assert (
        Appointment.objects.get(post=post, ended_on__isnull=True).person.slug == "ada"
    )
    assert not Post.objects.get(slug="head-of-e").is_active


def test_undoing_the_abolition_of_a_whole_branch_reinstates_parents_first(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(
        editor,
        approver,
        [
            (
                OperationKind.ABOLISH_UNIT,
                {"unit": "dept-d", "sub_units": dict.fromkeys(SUB_UNITS)},
            )
        ],
    )
    assert children("dept-d") == []

    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="Undo"
    )
    reinstated = [
        operation.payload["unit"]
        for operation in revert.operations.filter(kind=OperationKind.REINSTATE_UNIT)
    ]
    assert reinstated[0] == "dept-d"
    assert sorted(reinstated[1:]) == list(SUB_UNITS)
    approve_revert(revert, editor, approver)
    assert children("dept-d") == list(SUB_UNITS)
    assert Appointment.objects.filter(ended_on__isnull=True).count() == 1
    assert UnitRelationship.objects.filter(ended_on__isnull=True).count() == 1


# --- Issue 14: a revert that corrects the record from the original's own time ---------


def test_a_correcting_revert_takes_effect_at_the_originals_time(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    """Applied, it corrects the record: the original's rename never held, while a
    mandate recorded after it still does; the registry as known before still shows
    the rename."""
    when = timezone.now() - datetime.timedelta(days=10)
    original = services.reorganization_create(
        user=editor, title="Rename S1", reason="DG bulletin", effective_at=when
    )
    services.operation_add(
        reorganization=original,
        user=editor,
        kind=OperationKind.CHANGE_UNIT,
        payload={"unit": "s1", "fields": {"name": "Unit One"}},
    )
    services.reorganization_submit(reorganization=original, user=editor)
    original = services.reorganization_approve(reorganization=original, user=approver)
    assert original.status == Status.APPLIED, original.problems
    s1 = OrganizationalUnit.objects.get(slug="s1")
    services.unit_update(
        unit=s1,
        user=editor,
        reason="Mandate",
        mandate="Keeps S1.",
        effective_at=when + datetime.timedelta(days=5),
    )
    known_before = timezone.now()

    revert = services.reorganization_revert(
        reorganization=original, user=editor, reason="Never renamed", mode="correct"
    )

    assert revert.effective_at == original.effective_at
    approve_revert(revert, editor, approver)
    s1 = OrganizationalUnit.objects.get(slug="s1")
    assert (s1.name, s1.mandate) == ("Unit S1", "Keeps S1.")
    between = when + datetime.timedelta(days=1)
    assert OrganizationalUnit.history.filter(
        id=s1.pk, history_date=original.effective_at, corrects_revision__isnull=False
    ).exists()
    assert states_as_of(OrganizationalUnit, between, ["name"], ids=[s1.pk]) == [
        {"name": "Unit S1"}
    ]
    with reading_as_known_at(known_before):
        assert states_as_of(OrganizationalUnit, between, ["name"], ids=[s1.pk]) == [
            {"name": "Unit One"}
        ]
    assert_tree_matches_rebuild()


def test_a_correcting_revert_takes_no_time_of_its_own(
    registry: dict[str, Any], editor: User, approver: User
) -> None:
    original = applied(
        editor,
        approver,
        [(OperationKind.CHANGE_UNIT, {"unit": "s1", "fields": {"name": "One"}})],
    )
    count = Reorganization.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.reorganization_revert(
            reorganization=original,
            user=editor,
            reason="Corrected",
            mode="correct",
            effective_at=timezone.now(),
        )
    assert "effective_at" in refused.value.error_dict
    with pytest.raises(ValidationError):
        services.reorganization_revert(
            reorganization=original, user=editor, reason="Corrected", mode="erase"
        )
    assert Reorganization.objects.count() == count

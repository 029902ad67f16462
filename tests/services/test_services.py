"""Writes: one history row per changed object with user, reason and effective time,
consistent tree fields after every kind of write, and every refusal."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.conftest import ScriptedHistory, assert_tree_matches_rebuild, at
from units import services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Post,
    ReportingLine,
    UnitKind,
    UnitRelationship,
)

pytestmark = pytest.mark.django_db


def history_count() -> int:
    return sum(
        model.history.count()
        for model in (OrganizationalUnit, Post, Appointment, UnitRelationship)
    )


def snapshot() -> tuple:
    """Everything a refused write must leave untouched."""
    return (
        list(OrganizationalUnit.objects.order_by("pk").values()),
        list(Post.objects.order_by("pk").values()),
        list(Appointment.objects.order_by("pk").values()),
        history_count(),
    )


@pytest.fixture
def small_tree(make_unit):
    root = make_unit("Root", kind=UnitKind.OFFICE)
    left = make_unit("Left", root, kind=UnitKind.DEPARTMENT)
    right = make_unit("Right", root, kind=UnitKind.DEPARTMENT)
    leaf = make_unit("Leaf", left)
    return root, left, right, leaf


@pytest.fixture
def old_unit(editor) -> OrganizationalUnit:
    """A unit recorded since 2019, with a post of its own since then."""
    unit = services.unit_create(
        user=editor,
        reason="r",
        name="Old",
        kind=UnitKind.UNIT,
        effective_at=at("2019-01-01"),
    )
    services.post_create(
        user=editor,
        reason="r",
        title="Director",
        unit=unit,
        effective_at=at("2019-01-01"),
    )
    return unit


# --- Creating ---------------------------------------------------------------------------


def test_unit_create_records_one_revision_with_user_reason_and_time(editor) -> None:
    unit = services.unit_create(
        user=editor, reason="New office", name="Office of Tests", kind=UnitKind.OFFICE
    )
    (revision,) = unit.history.all()
    assert revision.history_user == editor
    assert revision.history_change_reason == "New office"
    assert revision.history_type == "+"
    assert abs(revision.history_date - timezone.now()) < datetime.timedelta(seconds=5)
    assert abs(revision.recorded_at - revision.history_date) < datetime.timedelta(
        seconds=5
    )
    assert unit.slug == "office-of-tests"
    assert unit.established_on == timezone.now().date()


def test_unit_create_backdated_keeps_both_times(editor) -> None:
    unit = services.unit_create(
        user=editor,
        reason="Loaded late",
        name="Old Office",
        kind=UnitKind.OFFICE,
        effective_at=at("2019-05-01"),
    )
    revision = unit.history.get()
    assert revision.history_date == at("2019-05-01")
    assert revision.recorded_at.date() == timezone.now().date()
    assert unit.established_on == datetime.date(2019, 5, 1)


def test_a_unit_or_post_of_unknown_founding_date_leaves_established_on_empty(
    editor,
) -> None:
    write = {"user": editor, "reason": "Recorded from a description"}
    unit = services.unit_create(
        name="Old Office",
        kind=UnitKind.OFFICE,
        effective_at=at("2019-05-01"),
        founding_date_known=False,
        **write,
    )
    post = services.post_create(
        title="Head", unit=unit, founding_date_known=False, **write
    )
    unit.refresh_from_db()
    post.refresh_from_db()
    assert (unit.established_on, post.established_on) == (None, None)
    assert unit.history.get().established_on is None
    assert unit.history.get().history_date == at("2019-05-01")
    # It can still be abolished: no founding date to compare the abolition with.
    services.unit_abolish(unit=unit, **write)
    unit.refresh_from_db()
    assert unit.abolished_on == timezone.now().date()


def test_slug_survives_a_rename_and_is_unique(make_unit, editor) -> None:
    first = make_unit("Risk Unit")
    second = make_unit("Risk Unit")
    assert (first.slug, second.slug) == ("risk-unit", "risk-unit-2")
    services.unit_update(
        unit=first, user=editor, reason="Rename", name="Risk Management Unit"
    )
    first.refresh_from_db()
    assert first.slug == "risk-unit"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_every_write_requires_a_reason(editor, reason) -> None:
    with pytest.raises(ValidationError, match="A reason is required") as error:
        services.unit_create(user=editor, reason=reason, name="X", kind=UnitKind.UNIT)
    assert error.value.code == "reason_required"
    assert OrganizationalUnit.objects.count() == 0


def test_unit_create_rejects_an_invalid_kind_and_writes_nothing(editor) -> None:
    with pytest.raises(ValidationError, match="kind"):
        services.unit_create(user=editor, reason="r", name="X", kind="castle")
    assert OrganizationalUnit.objects.count() == 0
    assert OrganizationalUnit.history.count() == 0


def test_unit_create_rejects_a_taken_slug(make_unit, editor) -> None:
    make_unit("One", slug="taken")
    before = snapshot()
    with pytest.raises(ValidationError, match="already used"):
        services.unit_create(
            user=editor, reason="r", name="Two", kind=UnitKind.UNIT, slug="taken"
        )
    assert snapshot() == before


def test_unit_create_refuses_an_abolished_parent(small_tree, editor) -> None:
    _, _, right, _ = small_tree
    services.unit_abolish(unit=right, user=editor, reason="Closed")
    before = snapshot()
    with pytest.raises(ValidationError, match="abolished"):
        services.unit_create(
            user=editor, reason="r", name="Child", kind=UnitKind.UNIT, parent=right
        )
    assert snapshot() == before


def test_unit_create_refuses_a_parent_that_did_not_exist_yet(
    small_tree, editor
) -> None:
    root, *_ = small_tree
    with pytest.raises(ValidationError, match="did not exist yet") as error:
        services.unit_create(
            user=editor,
            reason="r",
            name="Early",
            kind=UnitKind.UNIT,
            parent=root,
            effective_at=at("2001-01-01"),
        )
    assert error.value.code == "parent_not_yet_established"


def test_future_effective_time_is_refused(editor) -> None:
    with pytest.raises(ValidationError, match="in the future"):
        services.unit_create(
            user=editor,
            reason="r",
            name="Later",
            kind=UnitKind.UNIT,
            effective_at=timezone.now() + datetime.timedelta(days=2),
        )
    assert OrganizationalUnit.objects.count() == 0


# --- Updating ---------------------------------------------------------------------------


def test_unit_update_writes_one_revision_and_raises_the_version(
    small_tree, editor
) -> None:
    _, left, _, _ = small_tree
    services.unit_update(
        unit=left, user=editor, reason="Mandate rewritten", mandate="Does left things."
    )
    left.refresh_from_db()
    assert left.version == 2
    assert left.history.count() == 2
    assert left.history.first().history_change_reason == "Mandate rewritten"
    assert_tree_matches_rebuild()


def test_unit_update_without_changes_writes_nothing(small_tree, editor) -> None:
    _, left, _, _ = small_tree
    before = snapshot()
    services.unit_update(unit=left, user=editor, reason="No-op", name="Left")
    assert snapshot() == before


def test_unit_update_refuses_fields_it_does_not_own(small_tree, editor) -> None:
    _, left, right, _ = small_tree
    before = snapshot()
    with pytest.raises(ValidationError, match="cannot be changed here: parent, slug"):
        services.unit_update(
            unit=left, user=editor, reason="r", parent=right, slug="new"
        )
    assert snapshot() == before


def test_unit_update_rejects_a_stale_version_and_says_who_changed_it(
    small_tree, editor, other_editor
) -> None:
    _, left, _, _ = small_tree
    services.unit_update(
        unit=left,
        user=other_editor,
        reason="Their edit",
        expected_version=1,
        name="Left Wing",
    )
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        services.unit_update(
            unit=left,
            user=editor,
            reason="My edit",
            expected_version=1,
            name="Left Side",
        )
    assert error.value.code == "stale_version"
    message = error.value.messages[0]
    assert "version 1" in message and "version 2" in message
    assert "other-editor" in message and "Their edit" in message
    assert snapshot() == before


def test_backdated_change_before_the_unit_existed_is_refused(
    small_tree, editor
) -> None:
    """Before a recorded change it would be a correction (tests/services/
    test_corrections.py); before the unit's first record it is refused."""
    _, left, _, _ = small_tree
    services.unit_update(
        unit=left,
        user=editor,
        reason="Renamed",
        name="Left 2",
        effective_at=timezone.now(),
    )
    before = snapshot()
    with pytest.raises(ValidationError, match="before it existed") as error:
        services.unit_update(
            unit=left,
            user=editor,
            reason="Late",
            mandate="x",
            effective_at=at("2020-01-01"),
        )
    assert error.value.code == "out_of_order"
    assert snapshot() == before


def test_backdated_change_after_the_latest_change_is_accepted(editor) -> None:
    unit = services.unit_create(
        user=editor,
        reason="r",
        name="Archive",
        kind=UnitKind.UNIT,
        effective_at=at("2018-01-01"),
    )
    services.unit_update(
        unit=unit,
        user=editor,
        reason="Renamed in 2019",
        name="Archives",
        effective_at=at("2019-01-01"),
    )
    assert [row.history_date for row in unit.history.order_by("history_date")] == [
        at("2018-01-01"),
        at("2019-01-01"),
    ]


# --- Moving -----------------------------------------------------------------------------


def test_unit_move_moves_the_subtree_and_keeps_tree_fields_consistent(
    small_tree, editor
) -> None:
    root, left, right, leaf = small_tree
    services.unit_move(
        unit=left, new_parent=right, user=editor, reason="Merge under Right"
    )
    leaf.refresh_from_db()
    assert leaf.get_ancestors().filter(pk=right.pk).exists()
    assert left.history.count() == 2
    assert leaf.history.count() == 1, "descendants' tree shifts are not revisions"
    assert_tree_matches_rebuild()


def test_unit_move_to_top_level_and_back(small_tree, editor) -> None:
    root, left, _, _ = small_tree
    services.unit_move(unit=left, new_parent=None, user=editor, reason="Independent")
    assert_tree_matches_rebuild()
    services.unit_move(unit=left, new_parent=root, user=editor, reason="Back")
    assert_tree_matches_rebuild()


def test_unit_move_can_change_the_nature_of_the_reporting_line(
    small_tree, editor
) -> None:
    _, left, right, _ = small_tree
    moved = services.unit_move(
        unit=left,
        new_parent=right,
        user=editor,
        reason="Oversight only",
        reporting_line=ReportingLine.OVERSIGHT,
    )
    assert moved.reporting_line == ReportingLine.OVERSIGHT


def test_unit_move_reorders_siblings(small_tree, editor) -> None:
    root, left, right, _ = small_tree
    services.unit_move(
        unit=right, new_parent=root, user=editor, reason="First", sibling_order=1
    )
    root.refresh_from_db()
    assert [child.name for child in root.get_children()] == ["Right", "Left"]
    assert_tree_matches_rebuild()


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_unit_move_rejects_own_descendant(make_unit, editor, target) -> None:
    root = make_unit("Root")
    child = make_unit("Child", root)
    grandchild = make_unit("Grandchild", child)
    new_parent = {"self": root, "child": child, "grandchild": grandchild}[target]
    before = snapshot()
    with pytest.raises(ValidationError, match="cannot report to") as error:
        services.unit_move(unit=root, new_parent=new_parent, user=editor, reason="Loop")
    assert error.value.code == "cycle"
    assert snapshot() == before


def test_unit_move_with_a_stale_parent_instance_does_not_corrupt_the_tree(
    small_tree, make_unit, editor
) -> None:
    root, left, right, _ = small_tree
    stale_right = OrganizationalUnit.objects.get(pk=right.pk)
    for index in range(3):  # shift Right's lft/rght in the database
        make_unit(f"New {index}", left)
    services.unit_move(
        unit=left, new_parent=stale_right, user=editor, reason="Stale parent"
    )
    assert_tree_matches_rebuild()


def test_unit_move_that_changes_nothing_writes_nothing(small_tree, editor) -> None:
    root, left, _, _ = small_tree
    before = snapshot()
    services.unit_move(unit=left, new_parent=root, user=editor, reason="Same place")
    assert snapshot() == before


def test_unit_move_refuses_an_abolished_unit(small_tree, editor) -> None:
    root, _, right, _ = small_tree
    services.unit_abolish(unit=right, user=editor, reason="Closed")
    with pytest.raises(ValidationError, match="abolished"):
        services.unit_move(unit=right, new_parent=None, user=editor, reason="r")


# --- Abolishing -------------------------------------------------------------------------


def test_unit_abolish_refuses_while_sub_units_are_active(small_tree, editor) -> None:
    _, left, _, _ = small_tree
    before = snapshot()
    with pytest.raises(
        ValidationError, match="still has active sub-units \\(Leaf\\)"
    ) as error:
        services.unit_abolish(unit=left, user=editor, reason="Close")
    assert error.value.code == "has_active_sub_units"
    assert snapshot() == before


def test_unit_abolish_with_its_sub_units(small_tree, editor) -> None:
    _, left, _, leaf = small_tree
    services.unit_abolish(unit=left, user=editor, reason="Close", sub_units="abolish")
    left.refresh_from_db()
    leaf.refresh_from_db()
    assert not left.is_active and not leaf.is_active
    assert OrganizationalUnit.objects.filter(pk=left.pk).exists(), "never deleted"
    assert_tree_matches_rebuild()


def test_unit_abolish_moving_sub_units_elsewhere(small_tree, editor) -> None:
    _, left, right, leaf = small_tree
    services.unit_abolish(
        unit=left,
        user=editor,
        reason="Merged into Right",
        sub_units="move",
        move_sub_units_to=right,
    )
    leaf.refresh_from_db()
    assert leaf.parent_id == right.pk and leaf.is_active
    assert leaf.history.first().history_change_reason == "Merged into Right"
    assert_tree_matches_rebuild()


def test_unit_abolish_move_requires_a_target(small_tree, editor) -> None:
    _, left, _, _ = small_tree
    before = snapshot()
    with pytest.raises(ValidationError, match="takes over"):
        services.unit_abolish(unit=left, user=editor, reason="r", sub_units="move")
    assert snapshot() == before


def test_unit_abolish_ends_posts_appointments_and_relationships(
    small_tree, editor
) -> None:
    _, left, right, leaf = small_tree
    post = services.post_create(
        user=editor, reason="r", title="Head of Leaf", unit=leaf, is_head=True
    )
    person = services.person_create(user=editor, reason="r", full_name="Kim Park")
    appointment = services.appointment_start(
        user=editor,
        reason="r",
        person=person,
        post=post,
        started_on=timezone.now().date(),
    )
    link = services.relationship_create(
        user=editor, reason="r", source=leaf, target=right, kind="supports"
    )
    services.unit_abolish(unit=leaf, user=editor, reason="Leaf closed")
    post.refresh_from_db()
    appointment.refresh_from_db()
    link.refresh_from_db()
    today = timezone.now().date()
    assert post.abolished_on == today
    assert appointment.ended_on == today
    assert link.ended_on == today


def test_unit_abolish_twice_is_refused(small_tree, editor) -> None:
    _, _, right, _ = small_tree
    services.unit_abolish(unit=right, user=editor, reason="Closed")
    with pytest.raises(ValidationError, match="already abolished"):
        services.unit_abolish(unit=right, user=editor, reason="Again")


# --- Reverting --------------------------------------------------------------------------


def test_unit_revert_of_a_move_goes_through_the_tree(small_tree, editor) -> None:
    root, left, right, leaf = small_tree
    original = left.history.get()
    services.unit_move(unit=left, new_parent=right, user=editor, reason="Move")
    services.unit_update(unit=left, user=editor, reason="Rename", name="Left Renamed")
    reverted = services.unit_revert(
        unit=left,
        history_id=original.history_id,
        user=editor,
        reason="Undo reorganization",
    )
    assert reverted.parent_id == root.pk and reverted.name == "Left"
    assert reverted.history.count() == 4, "a revert is one new revision, not an erasure"
    assert reverted.history.first().history_change_reason == "Undo reorganization"
    assert_tree_matches_rebuild()


def test_unit_revert_reinstates_an_abolished_unit(small_tree, editor) -> None:
    _, _, right, _ = small_tree
    original = right.history.get()
    services.unit_abolish(unit=right, user=editor, reason="Closed")
    reverted = services.unit_revert(
        unit=right, history_id=original.history_id, user=editor, reason="Reopened"
    )
    assert reverted.is_active


def test_unit_revert_refuses_a_version_of_another_unit(small_tree, editor) -> None:
    _, left, right, _ = small_tree
    before = snapshot()
    with pytest.raises(ValidationError, match="is not a version of"):
        services.unit_revert(
            unit=left,
            history_id=right.history.get().history_id,
            user=editor,
            reason="r",
        )
    assert snapshot() == before


def test_unit_revert_refuses_when_nothing_would_change(small_tree, editor) -> None:
    _, left, _, _ = small_tree
    with pytest.raises(ValidationError, match="nothing to revert"):
        services.unit_revert(
            unit=left, history_id=left.history.get().history_id, user=editor, reason="r"
        )


def test_unit_revert_refuses_a_move_into_its_own_subtree(
    small_tree, make_unit, editor
) -> None:
    root, left, right, leaf = small_tree
    services.unit_move(unit=right, new_parent=leaf, user=editor, reason="Under leaf")
    version_under_leaf = right.history.first()
    services.unit_move(unit=right, new_parent=root, user=editor, reason="Back up")
    services.unit_move(
        unit=left, new_parent=right, user=editor, reason="Left under right"
    )
    before = snapshot()
    with pytest.raises(ValidationError, match="cycle"):
        services.unit_revert(
            unit=right,
            history_id=version_under_leaf.history_id,
            user=editor,
            reason="r",
        )
    assert snapshot() == before


# --- Posts, people, appointments, relationships ---------------------------------------


def test_a_unit_has_one_head_post(small_tree, editor) -> None:
    _, left, _, _ = small_tree
    services.post_create(
        user=editor, reason="r", title="Director", unit=left, is_head=True
    )
    with pytest.raises(ValidationError, match="already headed by"):
        services.post_create(
            user=editor, reason="r", title="Co-director", unit=left, is_head=True
        )


def test_a_post_has_one_holder_at_a_time(old_unit, editor) -> None:
    post = old_unit.posts.get()
    first = services.person_create(user=editor, reason="r", full_name="First Holder")
    second = services.person_create(user=editor, reason="r", full_name="Second Holder")
    appointment = services.appointment_start(
        user=editor,
        reason="r",
        person=first,
        post=post,
        started_on=datetime.date(2021, 1, 1),
    )
    before = snapshot()
    with pytest.raises(ValidationError, match="is held by First Holder") as error:
        services.appointment_start(
            user=editor,
            reason="r",
            person=second,
            post=post,
            started_on=datetime.date(2022, 1, 1),
        )
    assert error.value.code == "post_occupied"
    assert snapshot() == before
    services.appointment_end(
        appointment=appointment,
        user=editor,
        reason="Term over",
        ended_on=datetime.date(2022, 1, 1),
    )
    services.appointment_start(
        user=editor,
        reason="r",
        person=second,
        post=post,
        started_on=datetime.date(2022, 1, 1),
    )
    assert post.appointments.count() == 2


def test_appointment_cannot_end_before_it_started(old_unit, editor) -> None:
    post = old_unit.posts.get()
    person = services.person_create(user=editor, reason="r", full_name="P")
    appointment = services.appointment_start(
        user=editor,
        reason="r",
        person=person,
        post=post,
        started_on=datetime.date(2021, 5, 1),
    )
    with pytest.raises(ValidationError, match="before it started"):
        services.appointment_end(
            appointment=appointment,
            user=editor,
            reason="r",
            ended_on=datetime.date(2021, 1, 1),
        )


def test_appointment_takes_effect_on_its_start_date(editor) -> None:
    unit = services.unit_create(
        user=editor,
        reason="r",
        name="Old",
        kind=UnitKind.UNIT,
        effective_at=at("2019-01-01"),
    )
    post = services.post_create(
        user=editor,
        reason="r",
        title="Director",
        unit=unit,
        effective_at=at("2020-01-01"),
    )
    person = services.person_create(user=editor, reason="r", full_name="P")
    appointment = services.appointment_start(
        user=editor,
        reason="r",
        person=person,
        post=post,
        started_on=datetime.date(2021, 5, 1),
    )
    assert appointment.history.get().history_date == datetime.datetime(
        2021, 5, 1, tzinfo=datetime.UTC
    )


def test_relationship_refuses_self_links_and_duplicates(small_tree, editor) -> None:
    _, left, right, _ = small_tree
    with pytest.raises(ValidationError, match="two different units"):
        services.relationship_create(
            user=editor, reason="r", source=left, target=left, kind="supports"
        )
    services.relationship_create(
        user=editor, reason="r", source=left, target=right, kind="supports"
    )
    with pytest.raises(ValidationError, match="already has this relationship"):
        services.relationship_create(
            user=editor, reason="r", source=left, target=right, kind="supports"
        )
    assert UnitRelationship.objects.count() == 1


def test_relationship_end_keeps_the_link_in_history(small_tree, editor) -> None:
    _, left, right, _ = small_tree
    link = services.relationship_create(
        user=editor,
        reason="r",
        source=left,
        target=right,
        kind="works_in_conjunction_with",
    )
    services.relationship_end(relationship=link, user=editor, reason="No longer")
    link.refresh_from_db()
    assert link.ended_on is not None
    assert link.history.count() == 2
    with pytest.raises(ValidationError, match="already ended"):
        services.relationship_end(relationship=link, user=editor, reason="Again")


def test_every_write_in_the_scripted_history_left_a_consistent_registry(
    scripted_history: ScriptedHistory,
) -> None:
    from units.selectors import registry_problems

    assert registry_problems() == []
    assert_tree_matches_rebuild()


def test_check_registry_command_reports_and_exits_non_zero(
    scripted_history, capsys
) -> None:
    from django.core.management import call_command

    call_command("check_registry")
    assert "The registry is consistent." in capsys.readouterr().out
    OrganizationalUnit.objects.filter(pk=scripted_history.unit_x.pk).update(rght=2)
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_registry")
    assert exit_info.value.code == 1
    output = capsys.readouterr().out
    assert "Tree: " in output and f"unit {scripted_history.unit_x.pk}" in output


def test_a_post_cannot_be_held_before_it_existed(small_tree, editor) -> None:
    _, left, _, _ = small_tree
    post = services.post_create(user=editor, reason="r", title="Director", unit=left)
    person = services.person_create(user=editor, reason="r", full_name="P")
    before = snapshot()
    with pytest.raises(ValidationError, match="did not exist yet") as error:
        services.appointment_start(
            user=editor,
            reason="r",
            person=person,
            post=post,
            started_on=datetime.date(2021, 5, 1),
        )
    assert error.value.code == "not_yet_established"
    assert snapshot() == before


def test_a_post_created_today_can_be_filled_from_today(small_tree, editor) -> None:
    _, left, _, _ = small_tree
    post = services.post_create(user=editor, reason="r", title="Director", unit=left)
    person = services.person_create(user=editor, reason="r", full_name="P")
    today = timezone.now().date()
    appointment = services.appointment_start(
        user=editor, reason="r", person=person, post=post, started_on=today
    )
    services.appointment_end(
        appointment=appointment, user=editor, reason="Interim only", ended_on=today
    )
    appointment.refresh_from_db()
    assert appointment.ended_on == today


def test_a_person_recorded_later_is_shown_holding_an_earlier_post(
    old_unit, editor
) -> None:
    from units import selectors

    person = services.person_create(
        user=editor, reason="Recorded today", full_name="Lee"
    )
    services.appointment_start(
        user=editor,
        reason="r",
        person=person,
        post=old_unit.posts.get(),
        started_on=datetime.date(2020, 1, 1),
    )
    (post,) = selectors.posts_as_of(at("2021-01-01"), unit_ids=[old_unit.pk])
    assert post.holder is not None
    assert post.holder.person_name == "Lee"


def test_a_move_and_a_rename_together_are_one_revision(small_tree, editor) -> None:
    _, left, right, _ = small_tree
    unit = services.unit_update(
        unit=left, new_parent=right, user=editor, reason="Reform", name="Left Wing"
    )
    assert (unit.parent_id, unit.name) == (right.pk, "Left Wing")
    assert unit.history.count() == 2
    assert_tree_matches_rebuild()


def test_backdated_move_that_made_a_cycle_in_the_past_is_refused(
    make_unit, editor
) -> None:
    root = services.unit_create(
        user=editor,
        reason="r",
        name="Root",
        kind=UnitKind.OFFICE,
        effective_at=at("2024-01-01"),
    )
    x = services.unit_create(
        user=editor,
        reason="r",
        name="X",
        kind=UnitKind.UNIT,
        parent=root,
        effective_at=at("2024-01-01"),
    )
    p = services.unit_create(
        user=editor,
        reason="r",
        name="P",
        kind=UnitKind.UNIT,
        parent=x,
        effective_at=at("2024-01-02"),
    )
    services.unit_move(
        unit=p,
        new_parent=root,
        user=editor,
        reason="Out",
        effective_at=at("2024-06-01"),
    )
    before = snapshot()
    with pytest.raises(ValidationError, match="cycle in the past") as error:
        services.unit_move(
            unit=x,
            new_parent=p,
            user=editor,
            reason="Backdated",
            effective_at=at("2024-03-01"),
        )
    assert error.value.code == "cycle"
    assert snapshot() == before
    # After P left X, the same move is fine.
    services.unit_move(
        unit=x, new_parent=p, user=editor, reason="Later", effective_at=at("2024-07-01")
    )
    assert_tree_matches_rebuild()


def test_abolish_cannot_hand_sub_units_to_itself_or_its_subtree(
    small_tree, editor
) -> None:
    _, left, _, leaf = small_tree
    before = snapshot()
    for target in (left, leaf):
        with pytest.raises(ValidationError, match="cannot be taken over"):
            services.unit_abolish(
                unit=left,
                user=editor,
                reason="r",
                sub_units="move",
                move_sub_units_to=target,
            )
    assert snapshot() == before


# --- Moves to a position and abolishing several units -----------------------------------


def children_names(parent: OrganizationalUnit | None) -> list[str]:
    return list(
        OrganizationalUnit.objects.children_of(parent)
        .in_tree_order()
        .values_list("name", flat=True)
    )


@pytest.mark.parametrize(
    ("position", "target_name", "expected"),
    [
        ("first-child", "Root", ["Leaf", "Left", "Right"]),
        ("last-child", "Root", ["Left", "Right", "Leaf"]),
        ("before", "Right", ["Left", "Leaf", "Right"]),
        ("after", "Left", ["Left", "Leaf", "Right"]),
        ("before", "Left", ["Leaf", "Left", "Right"]),
    ],
)
def test_unit_move_to_position_places_the_unit_among_the_targets_siblings(
    editor, small_tree, position, target_name, expected
):
    root, _left, _right, leaf = small_tree
    target = OrganizationalUnit.objects.get(name=target_name)
    moved = services.unit_move_to_position(
        unit=leaf, target=target, position=position, user=editor, reason="Placed"
    )
    assert moved.parent_id == root.pk
    assert children_names(root) == expected
    assert leaf.history.latest("history_id").history_change_reason == "Placed"
    assert_tree_matches_rebuild()


def test_unit_move_to_position_renumbers_siblings_when_there_is_no_room(
    editor, make_unit
):
    root = make_unit("Root", kind=UnitKind.OFFICE)
    first = make_unit("First", root, sibling_order=0)
    make_unit("Second", root, sibling_order=1)
    mover = make_unit("Mover", root)
    services.unit_move_to_position(
        unit=mover, target=first, position="after", user=editor, reason="Squeeze in"
    )
    assert children_names(root) == ["First", "Mover", "Second"]
    orders = dict(
        OrganizationalUnit.objects.children_of(root).values_list(
            "name", "sibling_order"
        )
    )
    assert orders == {"First": 10, "Mover": 20, "Second": 30}
    second = OrganizationalUnit.objects.get(name="Second")
    assert second.history.latest("history_id").history_change_reason == (
        "Squeeze in (siblings renumbered to place “Mover”)"
    )
    assert_tree_matches_rebuild()


@pytest.mark.parametrize(
    ("position", "target_name", "code", "message"),
    [
        ("first-child", "Leaf", "cycle", "inside its own subtree"),
        ("last-child", "Left", "cycle", "cannot report to itself"),
        ("before", "Leaf", "cycle", "cannot report to itself"),
        ("after", "Left", "bad_position", "cannot be placed after itself"),
        ("sideways", "Root", "bad_position", "Unknown position “sideways”"),
    ],
)
def test_unit_move_to_position_refusals_change_nothing(
    editor, small_tree, position, target_name, code, message
):
    left = small_tree[1]
    target = OrganizationalUnit.objects.get(name=target_name)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.unit_move_to_position(
            unit=left, target=target, position=position, user=editor, reason="Try"
        )
    assert refused.value.code == code
    assert message in " ".join(refused.value.messages)
    assert snapshot() == before


def test_unit_move_to_position_refuses_a_cycle_before_renumbering(editor, make_unit):
    root = make_unit("Root", kind=UnitKind.OFFICE)
    mover = make_unit("Mover", root)
    first = make_unit("First", mover, sibling_order=0)
    make_unit("Second", mover, sibling_order=1)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.unit_move_to_position(
            unit=mover, target=first, position="after", user=editor, reason="Loop"
        )
    assert refused.value.code == "cycle"
    assert snapshot() == before


def test_units_abolish_abolishes_all_in_tree_order(editor, small_tree):
    root, _left, right, leaf = small_tree
    abolished = services.units_abolish(units=[right, leaf], user=editor, reason="R")
    assert [unit.name for unit in abolished] == ["Leaf", "Right"]
    assert all(not unit.is_active for unit in abolished)
    assert OrganizationalUnit.objects.get(pk=root.pk).is_active


def test_units_abolish_passes_over_units_abolished_with_an_earlier_subtree(
    editor, small_tree
):
    _root, left, _right, leaf = small_tree
    services.units_abolish(
        units=[leaf.pk, left.pk], user=editor, reason="Closing", sub_units="abolish"
    )
    assert leaf.history.filter(abolished_on__isnull=False).count() == 1


def test_units_abolish_is_all_or_none(editor, small_tree):
    _root, left, right, _leaf = small_tree
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.units_abolish(units=[right, left], user=editor, reason="Closing")
    assert refused.value.code == "has_active_sub_units"
    assert "still has active sub-units (Leaf)" in refused.value.messages[0]
    assert snapshot() == before


def test_units_abolish_refuses_an_unknown_unit_or_none(editor, small_tree):
    before = snapshot()
    with pytest.raises(ValidationError) as unknown:
        services.units_abolish(units=[small_tree[3], 999_999], user=editor, reason="R")
    assert unknown.value.code == "not_found"
    with pytest.raises(ValidationError) as empty:
        services.units_abolish(units=[], user=editor, reason="R")
    assert "at least one unit" in empty.value.messages[0]
    assert snapshot() == before


def test_the_abolish_slug_is_reserved_for_the_api(editor):
    with pytest.raises(ValidationError) as refused:
        services.unit_create(
            user=editor, reason="r", name="X", kind=UnitKind.UNIT, slug="abolish"
        )
    assert refused.value.code == "slug_taken"
    unit = services.unit_create(user=editor, reason="r", name="Abolish", kind="unit")
    assert unit.slug == "abolish-2"


def test_tree_queryset_methods(small_tree):
    root, left, right, leaf = small_tree
    units = OrganizationalUnit.objects
    assert set(units.descendants_of(root)) == {left, right, leaf}
    assert set(units.descendants_of(left, include_self=True)) == {left, leaf}
    assert list(units.descendants_of(leaf)) == []
    assert list(units.children_of(root).in_tree_order()) == [left, right]
    assert set(units.with_sub_units()) == {root, left}
    counts = dict(units.with_descendant_count().values_list("name", "descendant_count"))
    assert counts == {"Root": 3, "Left": 1, "Right": 0, "Leaf": 0}


def test_post_end_holder_ends_the_open_appointment_on_the_day_given(
    scripted_history: ScriptedHistory, editor
) -> None:
    post = scripted_history.head_of_x
    holder = post.appointments.get(ended_on__isnull=True)
    ended = services.post_end_holder(
        post=post, ended_on=datetime.date(2024, 3, 1), user=editor, reason="Left"
    )
    assert ended.pk == holder.pk
    assert ended.ended_on == datetime.date(2024, 3, 1)
    revision = ended.history.first()
    assert revision.history_change_reason == "Left"
    assert revision.history_user == editor
    assert not post.appointments.filter(ended_on__isnull=True).exists()


def test_post_end_holder_of_a_vacant_post_is_refused(old_unit, editor) -> None:
    post = old_unit.posts.get()
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        services.post_end_holder(
            post=post, ended_on=datetime.date(2024, 3, 1), user=editor, reason="x"
        )
    assert error.value.messages == [
        f"Nobody holds the post “{post}”, so no appointment can end."
    ]
    assert error.value.code == "not_found"
    assert snapshot() == before

"""Corrections of the past (issue 14): a write effective before changes already
recorded is accepted, written as new rows only, and read back at every (as_of,
known_at) instant as a reference replay of the writes says; the refusals over the
corrected stretch write nothing."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.conftest import assert_tree_matches_rebuild, at
from units import services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    UnitKind,
    UnitRelationship,
)
from units.selectors import records_as_of, states_as_of
from units.selectors.as_of import reading_as_known_at
from units.selectors.consistency import history_problems
from units.selectors.trees import unit_tree_as_of

pytestmark = pytest.mark.django_db

MODELS = (OrganizationalUnit, Post, Person, Appointment, UnitRelationship)


def history_rows() -> dict[str, list[dict[str, Any]]]:
    """Every history row of every model, as stored."""
    return {
        model.__name__: list(model.history.order_by("history_id").values())
        for model in MODELS
    }


def everything() -> tuple[Any, ...]:
    """What a refused write must leave untouched: live rows and history rows."""
    return (
        {
            model.__name__: list(model.objects.order_by("pk").values())
            for model in MODELS
        },
        history_rows(),
    )


def create(editor: Any, name: str, day: str, parent: Any = None, **kw: Any) -> Any:
    return services.unit_create(
        user=editor,
        reason=f"Establish {name}",
        name=name,
        kind=UnitKind.DEPARTMENT,
        parent=parent,
        effective_at=at(day),
        **kw,
    )


def update(editor: Any, unit: Any, day: str, **changes: Any) -> OrganizationalUnit:
    return services.unit_update(
        unit=unit, user=editor, reason="Change", effective_at=at(day), **changes
    )


def state(unit: Any, day: str, known_at: datetime.datetime | None = None) -> dict:
    with reading_as_known_at(known_at):
        (row,) = records_as_of(
            OrganizationalUnit,
            at(day),
            ("id", "name", "mandate", "parent_id"),
            ids=[unit.pk],
        )
    return row


# --- The example ------------------------------------------------------------


def test_a_march_rename_recorded_after_an_april_mandate_change_is_a_correction(
    editor,
) -> None:
    unit = create(editor, "Old name", "2024-01-01", mandate="Old mandate")
    update(editor, unit, "2024-04-01", mandate="New mandate")
    before_correction = timezone.now()
    old_rows = history_rows()

    unit = update(editor, unit, "2024-03-01", name="New name")

    march, april = state(unit, "2024-03-15"), state(unit, "2024-04-15")
    assert (march["name"], march["mandate"]) == ("New name", "Old mandate")
    assert (april["name"], april["mandate"]) == ("New name", "New mandate")
    assert state(unit, "2024-02-01")["name"] == "Old name"
    # What the registry said before the correction is still there to read.
    assert state(unit, "2024-03-15", before_correction)["name"] == "Old name"
    assert state(unit, "2024-04-15", before_correction)["name"] == "Old name"
    live = OrganizationalUnit.objects.get(pk=unit.pk)
    assert (live.name, live.mandate, live.version) == ("New name", "New mandate", 3)
    # Two new rows (March, and April restated), recorded now, nothing rewritten.
    new_rows = history_rows()
    assert new_rows["OrganizationalUnit"][:2] == old_rows["OrganizationalUnit"]
    first, april_row = old_rows["OrganizationalUnit"]
    added = new_rows["OrganizationalUnit"][2:]
    assert [(row["history_date"], row["corrects_revision"]) for row in added] == [
        (at("2024-03-01"), first["history_id"]),
        (at("2024-04-01"), april_row["history_id"]),
    ]
    assert all(row["recorded_at"] > before_correction for row in added)
    assert all(row["history_change_reason"] == "Change" for row in added)
    assert history_problems() == []


def test_a_write_at_the_latest_revisions_own_time_is_a_plain_save(editor) -> None:
    unit = create(editor, "Unit", "2024-01-01")
    update(editor, unit, "2024-04-01", mandate="m")
    count = unit.history.count()
    update(editor, unit, "2024-04-01", name="Renamed")
    row = unit.history.order_by("-history_id").first()
    assert unit.history.count() == count + 1
    assert row.corrects_revision is None and row.history_type == "~"
    assert OrganizationalUnit.objects.get(pk=unit.pk).name == "Renamed"


def test_a_correction_at_an_existing_revisions_time_corrects_that_revision(
    editor,
) -> None:
    unit = create(editor, "Unit", "2024-01-01")
    update(editor, unit, "2024-04-01", name="Wrong")
    wrong = unit.history.order_by("-history_id").first()
    update(editor, unit, "2024-05-01", mandate="m")
    update(editor, unit, "2024-04-01", name="Right")
    assert state(unit, "2024-04-01")["name"] == "Right"
    assert state(unit, "2024-03-01")["name"] == "Unit"
    row = unit.history.get(history_date=at("2024-04-01"), name="Right")
    assert row.corrects_revision == wrong.history_id
    assert OrganizationalUnit.objects.get(pk=unit.pk).name == "Right"
    assert history_problems() == []


def test_a_correction_stops_at_the_next_change_of_that_field(editor) -> None:
    unit = create(editor, "A", "2024-01-01")
    update(editor, unit, "2024-05-01", name="C")
    update(editor, unit, "2024-06-01", mandate="later")
    version = OrganizationalUnit.objects.get(pk=unit.pk).version
    count = unit.history.count()
    update(editor, unit, "2024-03-01", name="B")
    assert [state(unit, day)["name"] for day in ("2024-02-01", "2024-03-01")] == [
        "A",
        "B",
    ]
    assert state(unit, "2024-05-02")["name"] == "C"
    # One row (March); nothing later changes, so the live row and version stay.
    assert unit.history.count() == count + 1
    live = OrganizationalUnit.objects.get(pk=unit.pk)
    assert (live.name, live.version) == ("C", version)
    assert history_problems() == []


def test_a_field_set_to_its_current_value_corrects_the_past(editor) -> None:
    unit = create(editor, "A", "2024-01-01")
    update(editor, unit, "2024-05-01", name="B")
    update(editor, unit, "2024-06-01", mandate="m")
    update(editor, unit, "2024-03-01", name="B")
    assert state(unit, "2024-03-15")["name"] == "B"
    assert state(unit, "2024-02-15")["name"] == "A"


# --- Every kind -------------------------------------------------------------------


def test_a_backdated_move_with_later_revisions_moves_the_live_tree(editor) -> None:
    root = create(editor, "Root", "2024-01-01")
    left = create(editor, "Left", "2024-01-01", root)
    right = create(editor, "Right", "2024-01-01", root)
    team = create(editor, "Team", "2024-01-10", left)
    update(editor, team, "2024-05-01", mandate="m")
    services.unit_move(
        unit=team,
        new_parent=right,
        user=editor,
        reason="Moved",
        effective_at=at("2024-03-01"),
    )
    assert state(team, "2024-02-01")["parent_id"] == left.pk
    assert state(team, "2024-03-01")["parent_id"] == right.pk
    assert state(team, "2024-05-02")["parent_id"] == right.pk
    assert OrganizationalUnit.objects.get(pk=team.pk).parent_id == right.pk
    assert_tree_matches_rebuild()
    assert history_problems() == []


def test_a_backdated_move_undone_later_leaves_the_live_tree(editor) -> None:
    root = create(editor, "Root", "2024-01-01")
    left = create(editor, "Left", "2024-01-01", root)
    right = create(editor, "Right", "2024-01-01", root)
    other = create(editor, "Other", "2024-01-01", root)
    team = create(editor, "Team", "2024-01-10", left)
    services.unit_move(
        unit=team,
        new_parent=other,
        user=editor,
        reason="M",
        effective_at=at("2024-05-01"),
    )
    tree_before = list(OrganizationalUnit.objects.values_list("pk", "lft", "rght"))
    services.unit_move(
        unit=team,
        new_parent=right,
        user=editor,
        reason="C",
        effective_at=at("2024-03-01"),
    )
    assert state(team, "2024-04-01")["parent_id"] == right.pk
    assert state(team, "2024-05-02")["parent_id"] == other.pk
    assert list(OrganizationalUnit.objects.values_list("pk", "lft", "rght")) == (
        tree_before
    )
    assert history_problems() == []


def test_posts_and_people_take_corrections(
    editor,
) -> None:
    unit = create(editor, "Unit", "2024-01-01")
    post = services.post_create(
        user=editor, reason="r", title="Clerk", unit=unit, effective_at=at("2024-01-01")
    )
    services.post_update(
        post=post,
        user=editor,
        reason="r",
        term_note="later",
        effective_at=at("2024-05-01"),
    )
    services.post_update(
        post=post,
        user=editor,
        reason="c",
        title="Senior clerk",
        effective_at=at("2024-03-01"),
    )
    person = services.person_create(
        user=editor, reason="r", full_name="Ana", effective_at=at("2024-01-01")
    )
    services.person_update(
        person=person,
        user=editor,
        reason="r",
        full_name="Ana B",
        effective_at=at("2024-06-01"),
    )
    services.person_update(
        person=person,
        user=editor,
        reason="c",
        full_name="Ana A",
        effective_at=at("2024-02-01"),
    )

    def title(day: str) -> str:
        return states_as_of(Post, at(day), ("title",), ids=[post.pk])[0]["title"]

    def name(day: str) -> str:
        rows = states_as_of(Person, at(day), ("full_name",), ids=[person.pk])
        return rows[0]["full_name"]

    assert (title("2024-02-01"), title("2024-04-01"), title("2024-06-01")) == (
        "Clerk",
        "Senior clerk",
        "Senior clerk",
    )
    assert Post.objects.get(pk=post.pk).term_note == "later"
    assert (name("2024-01-15"), name("2024-03-01"), name("2024-07-01")) == (
        "Ana",
        "Ana A",
        "Ana B",
    )
    assert Person.objects.get(pk=person.pk).full_name == "Ana B"
    assert history_problems() == []


def test_a_backdated_abolition_of_a_post_is_a_correction(editor) -> None:
    unit = create(editor, "Unit", "2024-01-01")
    post = services.post_create(
        user=editor, reason="r", title="Clerk", unit=unit, effective_at=at("2024-01-01")
    )
    services.post_update(
        post=post,
        user=editor,
        reason="r",
        title="Clerk 2",
        effective_at=at("2024-05-01"),
    )
    services.post_abolish(
        post=post, user=editor, reason="c", effective_at=at("2024-03-01")
    )
    rows = states_as_of(Post, at("2024-04-01"), ("abolished_on",), ids=[post.pk])
    assert rows[0]["abolished_on"] == datetime.date(2024, 3, 1)
    assert Post.objects.get(pk=post.pk).abolished_on == datetime.date(2024, 3, 1)
    assert history_problems() == []


# --- Refusals: a message, and nothing written --------------------------------------


def refused(call: Callable[[], Any], code: str, match: str) -> None:
    before = everything()
    with pytest.raises(ValidationError, match=match) as error:
        call()
    assert error.value.code == code
    assert everything() == before


def test_a_correction_before_the_object_existed_is_refused(editor) -> None:
    unit = create(editor, "Unit", "2024-03-01")
    update(editor, unit, "2024-05-01", mandate="m")
    refused(
        lambda: update(editor, unit, "2024-02-01", name="Too early"),
        "out_of_order",
        "before it existed",
    )


def test_a_correction_making_a_cycle_within_its_stretch_is_refused(editor) -> None:
    root = create(editor, "Root", "2024-01-01")
    a = create(editor, "A", "2024-01-01", root)
    b = create(editor, "B", "2024-01-01", root)
    services.unit_move(
        unit=b, new_parent=a, user=editor, reason="r", effective_at=at("2024-05-01")
    )
    services.unit_move(
        unit=b, new_parent=root, user=editor, reason="r", effective_at=at("2024-08-01")
    )
    update(editor, a, "2024-09-01", mandate="later")
    # Fine today and on 1 March; from May to August A would be inside its own subtree.
    refused(
        lambda: services.unit_move(
            unit=a, new_parent=b, user=editor, reason="c", effective_at=at("2024-03-01")
        ),
        "cycle",
        "cycle",
    )


def test_a_correction_stretch_ends_at_the_next_move(editor) -> None:
    root = create(editor, "Root", "2024-01-01")
    a = create(editor, "A", "2024-01-01", root)
    b = create(editor, "B", "2024-01-01", root)
    c = create(editor, "C", "2024-01-01", root)
    services.unit_move(
        unit=a, new_parent=c, user=editor, reason="r", effective_at=at("2024-04-01")
    )
    services.unit_move(
        unit=b, new_parent=a, user=editor, reason="r", effective_at=at("2024-05-01")
    )
    # A under B holds only until A's own move in April, before B moved under A.
    services.unit_move(
        unit=a, new_parent=b, user=editor, reason="c", effective_at=at("2024-03-01")
    )
    assert state(a, "2024-03-15")["parent_id"] == b.pk
    assert state(a, "2024-04-15")["parent_id"] == c.pk
    assert OrganizationalUnit.objects.get(pk=a.pk).parent_id == c.pk
    assert_tree_matches_rebuild()
    assert history_problems() == []


def test_a_correction_under_a_parent_abolished_within_its_stretch_is_refused(
    editor,
) -> None:
    root = create(editor, "Root", "2024-01-01")
    parent = create(editor, "Closing", "2024-01-01", root)
    unit = create(editor, "Unit", "2024-01-01", root)
    services.unit_abolish(
        unit=parent, user=editor, reason="r", effective_at=at("2024-05-01")
    )
    update(editor, unit, "2024-06-01", mandate="later")
    refused(
        lambda: services.unit_move(
            unit=unit,
            new_parent=parent,
            user=editor,
            reason="c",
            effective_at=at("2024-03-01"),
        ),
        "parent_abolished",
        "abolished",
    )


def test_a_correction_under_a_parent_before_it_existed_is_refused(editor) -> None:
    root = create(editor, "Root", "2024-01-01")
    unit = create(editor, "Unit", "2024-01-01", root)
    late = create(editor, "Late", "2024-04-01", root)
    update(editor, unit, "2024-06-01", mandate="later")
    refused(
        lambda: services.unit_move(
            unit=unit,
            new_parent=late,
            user=editor,
            reason="c",
            effective_at=at("2024-03-01"),
        ),
        "parent_not_yet_established",
        "did not exist yet",
    )


def test_a_correction_under_a_parent_abolished_after_its_stretch_is_accepted(
    editor,
) -> None:
    root = create(editor, "Root", "2024-01-01")
    parent = create(editor, "Closing", "2024-01-01", root)
    home = create(editor, "Home", "2024-01-01", root)
    unit = create(editor, "Unit", "2024-01-01", home)
    services.unit_move(
        unit=unit,
        new_parent=root,
        user=editor,
        reason="r",
        effective_at=at("2024-04-01"),
    )
    services.unit_abolish(
        unit=parent, user=editor, reason="r", effective_at=at("2024-05-01")
    )
    services.unit_move(
        unit=unit,
        new_parent=parent,
        user=editor,
        reason="c",
        effective_at=at("2024-03-01"),
    )
    assert state(unit, "2024-03-15")["parent_id"] == parent.pk
    assert state(unit, "2024-04-15")["parent_id"] == root.pk
    assert history_problems() == []


def test_a_correction_making_two_heads_within_its_stretch_is_refused(editor) -> None:
    unit = create(editor, "Unit", "2024-01-01")
    services.post_create(
        user=editor,
        reason="r",
        title="Head",
        unit=unit,
        is_head=True,
        effective_at=at("2024-01-01"),
    )
    deputy = services.post_create(
        user=editor,
        reason="r",
        title="Deputy",
        unit=unit,
        effective_at=at("2024-01-01"),
    )
    services.post_update(
        post=deputy,
        user=editor,
        reason="r",
        term_note="t",
        effective_at=at("2024-06-01"),
    )
    refused(
        lambda: services.post_update(
            post=deputy,
            user=editor,
            reason="c",
            is_head=True,
            effective_at=at("2024-03-01"),
        ),
        "head_exists",
        "one head",
    )


def test_a_correction_of_a_unit_abolished_at_that_time_is_refused(editor) -> None:
    root = create(editor, "Root", "2024-01-01")
    unit = create(editor, "Unit", "2024-01-01", root)
    services.unit_abolish(
        unit=unit, user=editor, reason="r", effective_at=at("2024-03-01")
    )
    services.unit_revert(
        unit=unit,
        history_id=unit.history.order_by("history_id").first().history_id,
        user=editor,
        reason="Reinstated",
        effective_at=at("2024-06-01"),
    )
    refused(
        lambda: update(editor, unit, "2024-04-01", name="Ghost"),
        "abolished",
        "already abolished",
    )


# --- The grid: every (as_of, known_at) answer against a reference replay ------------


@dataclass
class Written:
    """One write as the test made it: which unit, its effective day, the fields set."""

    unit: str
    day: str
    fields: dict[str, Any]


def reference(
    writes: list[Written], as_of: datetime.datetime, count: int
) -> dict[str, dict[str, Any]]:
    """Each unit's fields as of ``as_of`` from the first ``count`` writes: per field,
    the write effective latest at or before ``as_of``, the later written on a tie."""
    answer: dict[str, dict[str, Any]] = {}
    chosen: dict[tuple[str, str], tuple[datetime.datetime, int]] = {}
    for order, write in enumerate(writes[:count]):
        when = at(write.day)
        if when > as_of:
            continue
        for name, value in write.fields.items():
            key = (write.unit, name)
            if key not in chosen or chosen[key] <= (when, order):
                chosen[key] = (when, order)
                answer.setdefault(write.unit, {})[name] = value
    return answer


def test_corrections_read_back_at_a_grid_of_instants_as_a_reference_replay_says(
    editor,
) -> None:
    units: dict[str, OrganizationalUnit] = {}
    writes: list[Written] = []
    known: list[datetime.datetime] = []

    def make(key: str, day: str, parent: str | None, mandate: str = "") -> None:
        units[key] = create(editor, key, day, units.get(parent or ""), mandate=mandate)
        fields = {"name": key, "mandate": mandate, "parent": parent}
        writes.append(Written(key, day, fields))
        known.append(timezone.now())

    def change(key: str, day: str, **fields: Any) -> None:
        arguments = dict(fields)
        if "parent" in arguments:
            parent = arguments.pop("parent")
            arguments["new_parent"] = None if parent is None else units[parent].pk
        services.unit_update(
            unit=units[key], user=editor, reason="c", effective_at=at(day), **arguments
        )
        writes.append(Written(key, day, fields))
        known.append(timezone.now())

    make("Root", "2024-01-01", None)
    make("A", "2024-01-01", "Root", "a0")
    make("B", "2024-01-01", "Root")
    make("Team", "2024-01-10", "A")
    change("A", "2024-04-01", name="A2")
    change("A", "2024-05-01", mandate="a5")
    change("Team", "2024-06-01", parent="B")
    change("A", "2024-03-01", name="A3")  # stops at the April rename
    change("Team", "2024-02-01", parent="Root")  # stops at the June move
    change("A", "2024-02-15", mandate="a2")  # through April, stops in May
    change("A", "2024-04-01", name="A4")  # corrects the April rename itself
    change("Team", "2024-01-20", name="Team X")  # to the end
    change("B", "2024-07-01", name="B7")  # a plain write after them all
    change("Team", "2024-06-15", mandate="t")  # between corrected rows
    change(
        "Team", "2024-03-01", parent="A", mandate="t3"
    )  # stops at June, t at June 15

    ids = {unit.pk: key for key, unit in units.items()}
    # Answers change only at the writes' effective days. The grid reads each of them
    # (a write counts from its own instant), the day before the first, and a day
    # inside a stretch only where the stretch begins on a day not read (2024-01-10)
    # and in the last, open-ended one: inside the others the answer is the one of
    # their first day (reading one more day in each took 19 days, not 13).
    effective_days = {write.day for write in writes}
    days = [
        "2023-12-31", "2024-01-01", "2024-01-15", "2024-01-20", "2024-02-01",
        "2024-02-15", "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01",
        "2024-06-15", "2024-07-01", "2024-12-31",
    ]  # fmt: skip
    assert effective_days - {"2024-01-10"} <= set(days)
    checked = 0
    for count, known_at in enumerate(known, start=1):
        for day in days:
            expected = reference(writes, at(day), count)
            with reading_as_known_at(known_at):
                rows = states_as_of(
                    OrganizationalUnit, at(day), ("id", "name", "mandate", "parent_id")
                )
                tree = unit_tree_as_of(at(day))
            got = {
                ids[row["id"]]: {
                    "name": row["name"],
                    "mandate": row["mandate"],
                    "parent": ids.get(row["parent_id"]),
                }
                for row in rows
            }
            assert got == expected, (day, count)
            edges = {
                (node.name, child.name) for root in tree for node in root.walk()
                for child in node.children
            }  # fmt: skip
            assert edges == {
                (expected[fields["parent"]]["name"], fields["name"])
                for fields in expected.values()
                if fields["parent"] is not None
            }, (day, count)
            checked += 1
    assert checked == len(known) * len(days)
    live = {
        ids[row["id"]]: (row["name"], ids.get(row["parent_id"]))
        for row in OrganizationalUnit.objects.values("id", "name", "parent_id")
    }
    final = reference(writes, at("2030-01-01"), len(writes))
    assert live == {key: (f["name"], f["parent"]) for key, f in final.items()}
    assert_tree_matches_rebuild()
    assert history_problems() == []


def test_a_correction_only_adds_history_rows(editor) -> None:
    root = create(editor, "Root", "2024-01-01")
    unit = create(editor, "Unit", "2024-01-01", root, mandate="m0")
    update(editor, unit, "2024-04-01", mandate="m4")
    update(editor, unit, "2024-05-01", location="Geneva")
    before = history_rows()
    update(editor, unit, "2024-03-01", name="Renamed", mandate="m3")
    after = history_rows()
    for model, rows in before.items():
        assert after[model][: len(rows)] == rows
    added = after["OrganizationalUnit"][len(before["OrganizationalUnit"]) :]
    # March, and May restated (its name); April changed the mandate, the name goes on.
    assert [(row["history_date"], row["name"], row["mandate"]) for row in added] == [
        (at("2024-03-01"), "Renamed", "m3"),
        (at("2024-04-01"), "Renamed", "m4"),
        (at("2024-05-01"), "Renamed", "m4"),
    ]


def test_a_correction_giving_a_post_two_holders_within_its_stretch_is_refused(
    editor,
) -> None:
    """No service yet changes an appointment's days in the past (a revert as a
    correction will): the writer itself refuses an end moved past the next start."""
    from units.services.corrections import save_correction
    from units.services.revisions import begin_write

    unit = create(editor, "Unit", "2024-01-01")
    post = services.post_create(
        user=editor, reason="r", title="Clerk", unit=unit, effective_at=at("2024-01-01")
    )
    ana, ben = (
        services.person_create(
            user=editor, reason="r", full_name=name, effective_at=at("2024-01-01")
        )
        for name in ("Ana", "Ben")
    )
    first = services.appointment_start(
        person=ana,
        post=post,
        started_on=datetime.date(2024, 1, 1),
        user=editor,
        reason="r",
    )
    services.appointment_end(
        appointment=first,
        ended_on=datetime.date(2024, 3, 1),
        user=editor,
        reason="r",
    )
    services.appointment_start(
        person=ben,
        post=post,
        started_on=datetime.date(2024, 3, 1),
        user=editor,
        reason="r",
    )
    appointment = Appointment.objects.get(pk=first.pk)
    appointment.ended_on = datetime.date(2024, 5, 1)

    def correct(day: datetime.date) -> None:
        write = begin_write(editor, "Ended later", None, day)
        save_correction(appointment, write)

    # Correcting the end itself (recorded 1 March): Ben holds the post from then.
    refused(lambda: correct(datetime.date(2024, 3, 1)), "post_occupied", "one holder")
    # From mid-January the end holds only until the end recorded for 1 March, before
    # Ben was appointed: nobody else held the post in that stretch.
    correct(datetime.date(2024, 1, 15))
    rows = states_as_of(
        Appointment, at("2024-02-01"), ("ended_on",), ids=[appointment.pk]
    )
    assert rows[0]["ended_on"] == datetime.date(2024, 5, 1)
    assert Appointment.objects.get(pk=first.pk).ended_on == datetime.date(2024, 3, 1)


def test_a_backdated_revert_is_a_correction_that_moves_the_live_tree_once(
    editor,
) -> None:
    root = create(editor, "Root", "2024-01-01")
    left = create(editor, "Left", "2024-01-01", root)
    right = create(editor, "Right", "2024-01-01", root)
    team = create(editor, "Team", "2024-01-10", left)
    first = team.history.get().history_id
    services.unit_move(
        unit=team,
        new_parent=right,
        user=editor,
        reason="M",
        effective_at=at("2024-03-01"),
    )
    update(editor, team, "2024-05-01", name="Team M")
    services.unit_revert(
        unit=team,
        history_id=first,
        user=editor,
        reason="Never moved",
        effective_at=at("2024-04-01"),
    )
    assert state(team, "2024-04-15") == {
        "id": team.pk,
        "name": "Team",
        "mandate": "",
        "parent_id": left.pk,
    }
    assert state(team, "2024-05-15")["name"] == "Team M"
    live = OrganizationalUnit.objects.get(pk=team.pk)
    assert (live.name, live.parent_id) == ("Team M", left.pk)
    assert_tree_matches_rebuild()
    assert history_problems() == []


def test_a_backdated_revert_undone_by_a_later_move_leaves_the_live_tree(
    editor,
) -> None:
    root = create(editor, "Root", "2024-01-01")
    left = create(editor, "Left", "2024-01-01", root)
    right = create(editor, "Right", "2024-01-01", root)
    other = create(editor, "Other", "2024-01-01", root)
    team = create(editor, "Team", "2024-01-10", left)
    first = team.history.get().history_id
    services.unit_move(
        unit=team,
        new_parent=right,
        user=editor,
        reason="M",
        effective_at=at("2024-03-01"),
    )
    services.unit_move(
        unit=team,
        new_parent=other,
        user=editor,
        reason="M",
        effective_at=at("2024-06-01"),
    )
    services.unit_revert(
        unit=team,
        history_id=first,
        user=editor,
        reason="Never moved",
        effective_at=at("2024-04-01"),
    )
    assert state(team, "2024-04-15")["parent_id"] == left.pk
    assert state(team, "2024-06-15")["parent_id"] == other.pk
    assert OrganizationalUnit.objects.get(pk=team.pk).parent_id == other.pk
    assert_tree_matches_rebuild()
    assert history_problems() == []


def test_a_backdated_abolition_before_a_later_rename_is_a_correction(editor) -> None:
    root = create(editor, "Root", "2024-01-01")
    unit = create(editor, "Unit", "2024-01-01", root)
    update(editor, unit, "2024-05-01", name="Renamed")
    services.unit_abolish(
        unit=unit, user=editor, reason="c", effective_at=at("2024-03-01")
    )
    with reading_as_known_at(None):
        april = unit_tree_as_of(at("2024-04-01"))
    assert [node.name for node in april[0].walk()] == ["Root"]
    rows = states_as_of(
        OrganizationalUnit, at("2024-05-15"), ("name", "abolished_on"), ids=[unit.pk]
    )
    assert rows == [{"name": "Renamed", "abolished_on": datetime.date(2024, 3, 1)}]
    assert OrganizationalUnit.objects.get(pk=unit.pk).abolished_on == datetime.date(
        2024, 3, 1
    )
    assert history_problems() == []


def test_a_post_moved_in_the_past_into_a_unit_abolished_then_is_refused(
    editor,
) -> None:
    home = create(editor, "Home", "2024-01-01")
    closing = create(editor, "Closing", "2024-01-01")
    post = services.post_create(
        user=editor, reason="r", title="Clerk", unit=home, effective_at=at("2024-01-01")
    )
    services.unit_abolish(
        unit=closing, user=editor, reason="r", effective_at=at("2024-04-01")
    )
    services.post_update(
        post=post, user=editor, reason="r", term_note="t", effective_at=at("2024-06-01")
    )
    refused(
        lambda: services.post_update(
            post=post,
            user=editor,
            reason="c",
            unit=closing,
            effective_at=at("2024-03-01"),
        ),
        "unit_abolished",
        "abolished",
    )


def test_a_head_correction_follows_the_posts_later_move_to_another_unit(
    editor,
) -> None:
    first, second = (
        create(editor, "First", "2024-01-01"),
        create(editor, "Second", "2024-01-01"),
    )
    post = services.post_create(
        user=editor, reason="r", title="Lead", unit=first, effective_at=at("2024-01-01")
    )
    services.post_update(
        post=post,
        user=editor,
        reason="r",
        unit=second,
        is_head=True,
        effective_at=at("2024-04-01"),
    )
    services.post_create(
        user=editor,
        reason="r",
        title="Head of First",
        unit=first,
        is_head=True,
        effective_at=at("2024-05-01"),
    )
    services.post_update(
        post=post, user=editor, reason="r", term_note="t", effective_at=at("2024-06-01")
    )
    # Head of First from March; from April it heads Second, so First's head from May
    # is no second head.
    services.post_update(
        post=post, user=editor, reason="c", is_head=True, effective_at=at("2024-03-01")
    )
    rows = states_as_of(Post, at("2024-03-15"), ("unit_id", "is_head"), ids=[post.pk])
    assert rows == [{"unit_id": first.pk, "is_head": True}]
    assert history_problems() == []

"""Corrections of appointments and relationships (issue 14): their dates, post,
person and description can be corrected once recorded, as new rows only; the
corrected record is read back as of before and after, as known before and after;
each refusal writes nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import assert_tree_matches_rebuild, at
from tests.services.test_corrections import create, refused
from units import services
from units.models import Appointment, OrganizationalUnit, UnitRelationship
from units.selectors import states_as_of
from units.selectors.as_of import reading_as_known_at
from units.selectors.consistency import history_problems

pytestmark = pytest.mark.django_db

DAY = datetime.date


def holder_rows(model: Any, pk: int, day: str, known_at: Any = None) -> dict:
    with reading_as_known_at(known_at):
        rows = states_as_of(
            model,
            at(day),
            ("started_on", "ended_on", "post_id", "person_id")
            if model is Appointment
            else ("started_on", "ended_on", "description"),
            ids=[pk],
        )
    return rows[0] if rows else {}


@pytest.fixture
def registry(editor: Any) -> dict[str, Any]:
    """A unit with two posts; Ana held the clerk post from 1 January to 1 March
    (the end recorded on its day), then Ben from 1 April."""
    unit = create(editor, "Unit", "2024-01-01")
    clerk, typist = (
        services.post_create(
            user=editor,
            reason="r",
            title=title,
            unit=unit,
            effective_at=at("2024-01-01"),
        )
        for title in ("Clerk", "Typist")
    )
    ana, ben = (
        services.person_create(
            user=editor, reason="r", full_name=name, effective_at=at("2024-01-01")
        )
        for name in ("Ana", "Ben")
    )
    first = services.appointment_start(
        person=ana, post=clerk, started_on=DAY(2024, 1, 1), user=editor, reason="r"
    )
    services.appointment_end(
        appointment=first, ended_on=DAY(2024, 3, 1), user=editor, reason="r"
    )
    second = services.appointment_start(
        person=ben, post=clerk, started_on=DAY(2024, 4, 1), user=editor, reason="r"
    )
    return {
        "unit": unit,
        "clerk": clerk,
        "typist": typist,
        "ana": ana,
        "ben": ben,
        "first": first,
        "second": second,
    }


def test_an_appointments_end_is_corrected_for_every_later_reading(
    editor: Any, registry: dict[str, Any]
) -> None:
    first = registry["first"]
    before = timezone.now()
    services.appointment_correct(
        appointment=first, user=editor, reason="Ended later", ended_on=DAY(2024, 3, 20)
    )
    assert Appointment.objects.get(pk=first.pk).ended_on == DAY(2024, 3, 20)
    # As of mid-March, as known now: Ana still held it; as known before: she did not.
    assert holder_rows(Appointment, first.pk, "2024-03-15")["ended_on"] == DAY(
        2024, 3, 20
    )
    assert holder_rows(Appointment, first.pk, "2024-03-15", before)["ended_on"] == DAY(
        2024, 3, 1
    )
    # Before the end was recorded nothing changes.
    assert holder_rows(Appointment, first.pk, "2024-02-01")["ended_on"] is None
    assert history_problems() == []


def test_an_appointments_start_and_end_are_corrected_together(
    editor: Any, registry: dict[str, Any]
) -> None:
    first = registry["first"]
    before = timezone.now()
    rows_before = Appointment.history.count()
    services.appointment_correct(
        appointment=first,
        user=editor,
        reason="Dates were wrong",
        started_on=DAY(2024, 1, 15),
        ended_on=DAY(2024, 2, 20),
    )
    live = Appointment.objects.get(pk=first.pk)
    assert (live.started_on, live.ended_on) == (DAY(2024, 1, 15), DAY(2024, 2, 20))
    # As of 1 March: the start is corrected in both the first record and the end's.
    now_row = holder_rows(Appointment, first.pk, "2024-03-01")
    assert (now_row["started_on"], now_row["ended_on"]) == (
        DAY(2024, 1, 15),
        DAY(2024, 2, 20),
    )
    then_row = holder_rows(Appointment, first.pk, "2024-03-01", before)
    assert (then_row["started_on"], then_row["ended_on"]) == (
        DAY(2024, 1, 1),
        DAY(2024, 3, 1),
    )
    assert holder_rows(Appointment, first.pk, "2024-01-10")["started_on"] == DAY(
        2024, 1, 15
    )
    # Nothing was overwritten: only rows were added.
    assert Appointment.history.count() > rows_before
    assert Appointment.history.filter(corrects_revision__isnull=False).exists()
    assert history_problems() == []


def test_an_appointment_corrected_to_another_post_and_person(
    editor: Any, registry: dict[str, Any]
) -> None:
    first = registry["first"]
    services.appointment_correct(
        appointment=first,
        user=editor,
        reason="It was the typist post, held by Ben",
        post=registry["typist"].pk,
        person=registry["ben"],
    )
    live = Appointment.objects.get(pk=first.pk)
    assert (live.post_id, live.person_id) == (
        registry["typist"].pk,
        registry["ben"].pk,
    )
    row = holder_rows(Appointment, first.pk, "2024-02-01")
    assert (row["post_id"], row["person_id"]) == (
        registry["typist"].pk,
        registry["ben"].pk,
    )
    assert history_problems() == []


def test_an_appointment_correction_giving_the_post_two_holders_is_refused(
    editor: Any, registry: dict[str, Any]
) -> None:
    refused(
        lambda: services.appointment_correct(
            appointment=registry["first"],
            user=editor,
            reason="r",
            ended_on=DAY(2024, 5, 1),
        ),
        "post_occupied",
        "one holder",
    )
    # Her end removed: she would hold it beside Ben from 1 April on.
    refused(
        lambda: services.appointment_correct(
            appointment=registry["first"], user=editor, reason="r", ended_on=None
        ),
        "post_occupied",
        "one holder",
    )


def test_an_appointment_moved_to_a_held_post_is_refused(
    editor: Any, registry: dict[str, Any]
) -> None:
    typist_holder = services.appointment_start(
        person=registry["ana"],
        post=registry["typist"],
        started_on=DAY(2024, 2, 1),
        user=editor,
        reason="r",
    )
    refused(
        lambda: services.appointment_correct(
            appointment=typist_holder,
            user=editor,
            reason="r",
            post=registry["clerk"],
        ),
        "post_occupied",
        "one holder",
    )


def test_an_appointment_ending_before_it_started_is_refused(
    editor: Any, registry: dict[str, Any]
) -> None:
    refused(
        lambda: services.appointment_correct(
            appointment=registry["first"],
            user=editor,
            reason="r",
            ended_on=DAY(2023, 12, 1),
        ),
        "ends_before_start",
        "before it started",
    )


def test_an_appointment_start_before_its_record_is_refused(
    editor: Any, registry: dict[str, Any]
) -> None:
    refused(
        lambda: services.appointment_correct(
            appointment=registry["first"],
            user=editor,
            reason="r",
            started_on=DAY(2023, 12, 1),
        ),
        "out_of_order",
        "begins on",
    )


def test_an_appointment_to_a_post_not_yet_recorded_is_refused(
    editor: Any, registry: dict[str, Any]
) -> None:
    late = services.post_create(
        user=editor,
        reason="r",
        title="Late",
        unit=registry["unit"],
        effective_at=at("2024-02-01"),
    )
    refused(
        lambda: services.appointment_correct(
            appointment=registry["first"], user=editor, reason="r", post=late
        ),
        "not_yet_established",
        "did not exist yet",
    )


def test_an_appointment_to_a_post_abolished_while_held_is_refused(
    editor: Any, registry: dict[str, Any]
) -> None:
    services.post_abolish(
        post=registry["typist"], user=editor, reason="r", effective_at=at("2024-02-01")
    )
    refused(
        lambda: services.appointment_correct(
            appointment=registry["first"],
            user=editor,
            reason="r",
            post=registry["typist"],
        ),
        "abolished",
        "was abolished",
    )


def test_a_stale_appointment_correction_is_refused(
    editor: Any, registry: dict[str, Any]
) -> None:
    refused(
        lambda: services.appointment_correct(
            appointment=registry["first"],
            user=editor,
            reason="r",
            expected_version=1,
            note="n",
        ),
        "stale_version",
        "has changed",
    )


def test_an_unknown_appointment_field_is_refused(
    editor: Any, registry: dict[str, Any]
) -> None:
    refused(
        lambda: services.appointment_correct(
            appointment=registry["first"], user=editor, reason="r", version=9
        ),
        "not_updatable",
        "cannot be changed",
    )


# --- Relationships -----------------------------------------------------------------


@pytest.fixture
def link(editor: Any) -> dict[str, Any]:
    """Two units linked from 1 February; the link ended on 1 May."""
    one = create(editor, "One", "2024-01-01")
    two = create(editor, "Two", "2024-01-01")
    relationship = services.relationship_create(
        source=one,
        target=two,
        kind="supports",
        user=editor,
        reason="r",
        description="first",
        effective_at=at("2024-02-01"),
    )
    services.relationship_end(
        relationship=relationship,
        user=editor,
        reason="r",
        effective_at=at("2024-05-01"),
    )
    return {"one": one, "two": two, "relationship": relationship}


def test_a_relationships_dates_and_description_are_corrected(
    editor: Any, link: dict[str, Any]
) -> None:
    relationship = link["relationship"]
    before = timezone.now()
    services.relationship_correct(
        relationship=relationship,
        user=editor,
        reason="Dates were wrong",
        started_on=DAY(2024, 3, 1),
        ended_on=DAY(2024, 6, 1),
        description="corrected",
    )
    live = UnitRelationship.objects.get(pk=relationship.pk)
    assert (live.started_on, live.ended_on, live.description) == (
        DAY(2024, 3, 1),
        DAY(2024, 6, 1),
        "corrected",
    )
    now_row = holder_rows(UnitRelationship, relationship.pk, "2024-05-15")
    assert now_row == {
        "started_on": DAY(2024, 3, 1),
        "ended_on": DAY(2024, 6, 1),
        "description": "corrected",
    }
    then_row = holder_rows(UnitRelationship, relationship.pk, "2024-05-15", before)
    assert then_row == {
        "started_on": DAY(2024, 2, 1),
        "ended_on": DAY(2024, 5, 1),
        "description": "first",
    }
    assert holder_rows(UnitRelationship, relationship.pk, "2024-02-15")[
        "started_on"
    ] == DAY(2024, 3, 1)
    assert history_problems() == []


def test_a_relationship_ending_before_it_started_is_refused(
    editor: Any, link: dict[str, Any]
) -> None:
    refused(
        lambda: services.relationship_correct(
            relationship=link["relationship"],
            user=editor,
            reason="r",
            ended_on=DAY(2024, 1, 20),
        ),
        "ends_before_start",
        "before it started",
    )


def test_a_relationship_start_before_its_record_is_refused(
    editor: Any, link: dict[str, Any]
) -> None:
    refused(
        lambda: services.relationship_correct(
            relationship=link["relationship"],
            user=editor,
            reason="r",
            started_on=DAY(2024, 1, 15),
        ),
        "out_of_order",
        "begins on",
    )


def test_a_relationship_running_past_a_units_abolition_is_refused(
    editor: Any, link: dict[str, Any]
) -> None:
    services.unit_abolish(
        unit=link["two"], user=editor, reason="r", effective_at=at("2024-06-01")
    )
    refused(
        lambda: services.relationship_correct(
            relationship=link["relationship"],
            user=editor,
            reason="r",
            ended_on=DAY(2024, 7, 1),
        ),
        "parent_abolished",
        "abolished unit",
    )
    # Up to the day of the abolition is fine.
    services.relationship_correct(
        relationship=link["relationship"],
        user=editor,
        reason="r",
        ended_on=DAY(2024, 6, 1),
    )
    assert UnitRelationship.objects.get(pk=link["relationship"].pk).ended_on == DAY(
        2024, 6, 1
    )


def test_a_start_corrected_later_is_read_from_the_revision_in_force(
    editor: Any, registry: dict[str, Any]
) -> None:
    """Reads that keep appointments started by a day read the start from the revision
    chosen, not from any earlier one that said an earlier start."""
    first = registry["first"]
    services.appointment_correct(
        appointment=first, user=editor, reason="r", started_on=DAY(2024, 1, 15)
    )
    started = states_as_of(
        Appointment,
        at("2024-01-10"),
        ("id",),
        ids=[first.pk],
        started_by=DAY(2024, 1, 10),
    )
    assert started == []
    started = states_as_of(
        Appointment,
        at("2024-01-20"),
        ("id",),
        ids=[first.pk],
        started_by=DAY(2024, 1, 20),
    )
    assert started == [{"id": first.pk}]


# --- A positioned move in the past is placed in the tree as it stood then ----------


def test_a_backdated_positioned_move_uses_the_tree_as_it_stood_then(
    editor: Any,
) -> None:
    """In March T was under A; since May it is under B, and since June B is under U.
    Placing U after T in March puts it under A (not under today's parent of T, which
    would even be a cycle today)."""
    a = create(editor, "A", "2024-01-01")
    b = create(editor, "B", "2024-01-01")
    u = create(editor, "U", "2024-01-01")
    t = create(editor, "T", "2024-02-01", parent=a)
    services.unit_move(
        unit=t, new_parent=b, user=editor, reason="r", effective_at=at("2024-05-01")
    )
    services.unit_move(
        unit=b, new_parent=u, user=editor, reason="r", effective_at=at("2024-06-01")
    )
    services.unit_update(
        unit=u, user=editor, reason="r", name="U2", effective_at=at("2024-07-01")
    )
    t_order = states_as_of(
        OrganizationalUnit, at("2024-03-01"), ("sibling_order",), ids=[t.pk]
    )[0]["sibling_order"]
    services.unit_move_to_position(
        unit=u,
        target=t,
        position="after",
        user=editor,
        reason="c",
        effective_at=at("2024-03-01"),
    )
    then = states_as_of(
        OrganizationalUnit, at("2024-04-01"), ("parent_id", "sibling_order"), ids=[u.pk]
    )[0]
    assert then["parent_id"] == a.pk
    assert then["sibling_order"] > t_order
    assert (
        states_as_of(OrganizationalUnit, at("2024-02-01"), ("parent_id",), ids=[u.pk])[
            0
        ]["parent_id"]
        is None
    )
    assert OrganizationalUnit.objects.get(pk=u.pk).parent_id == a.pk
    assert_tree_matches_rebuild()
    assert history_problems() == []


def test_a_backdated_first_child_move_takes_a_free_place_then(editor: Any) -> None:
    """Today A has a first sub-unit at order 0 (no room before it); in March it had none: the
    place before it then is free."""
    a = create(editor, "A", "2024-01-01")
    u = create(editor, "U", "2024-01-01")
    services.unit_update(
        unit=u, user=editor, reason="r", mandate="m", effective_at=at("2024-06-01")
    )
    create(editor, "Late", "2024-05-01", parent=a, sibling_order=0)
    services.unit_move_to_position(
        unit=u,
        target=a,
        position="first-child",
        user=editor,
        reason="c",
        effective_at=at("2024-03-01"),
    )
    then = states_as_of(
        OrganizationalUnit, at("2024-04-01"), ("parent_id",), ids=[u.pk]
    )[0]
    assert then["parent_id"] == a.pk


def test_a_backdated_positioned_move_beside_a_unit_not_yet_recorded_is_refused(
    editor: Any,
) -> None:
    u = create(editor, "U", "2024-01-01")
    services.unit_update(
        unit=u, user=editor, reason="r", mandate="m", effective_at=at("2024-06-01")
    )
    late = create(editor, "Late", "2024-05-01")
    refused(
        lambda: services.unit_move_to_position(
            unit=u,
            target=late,
            position="after",
            user=editor,
            reason="c",
            effective_at=at("2024-03-01"),
        ),
        "parent_not_yet_established",
        "not recorded yet",
    )


def test_an_explicit_effective_time_corrects_from_then_only(
    editor: Any, registry: dict[str, Any]
) -> None:
    """Told an instant, the correction holds from it: the note before it stays."""
    first = registry["first"]
    services.appointment_correct(
        appointment=first,
        user=editor,
        reason="Acting from February",
        note="acting",
        effective_at=at("2024-02-01"),
    )
    with reading_as_known_at(None):
        early, later = (
            states_as_of(Appointment, at(day), ("note",), ids=[first.pk])[0]["note"]
            for day in ("2024-01-15", "2024-02-15")
        )
    assert (early, later) == ("", "acting")
    assert Appointment.objects.get(pk=first.pk).note == "acting"
    assert history_problems() == []

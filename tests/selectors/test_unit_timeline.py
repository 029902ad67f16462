"""A unit's timeline: its own versions, sub-units joining and leaving, appointments."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser

from tests.conftest import ScriptedHistory, at
from units import selectors, services
from units.models import OrganizationalUnit, UnitKind
from units.selectors import TimelineEntry

pytestmark = pytest.mark.django_db


def around(entries: list[TimelineEntry]) -> list[tuple[str, str, str]]:
    """The entries made by others' changes: (day, what, whose), newest first."""
    return [
        (
            f"{entry.effective_at:%Y-%m-%d}",
            entry.sub_unit or entry.change.kind,
            entry.change.details.get("person") or entry.change.unit_name,
        )
        for entry in entries
        if entry.change is not None
    ]


def test_a_parent_sees_sub_units_join_leave_and_close(
    scripted_history: ScriptedHistory,
) -> None:
    history = scripted_history
    assert around(selectors.unit_timeline(history.department_a.pk)) == [
        ("2022-01-01", "left", "Unit Ex"),
        ("2020-06-01", "joined", "Unit X"),
    ]
    assert around(selectors.unit_timeline(history.department_b.pk)) == [
        ("2023-06-01", "joined", "Unit Y"),
        ("2022-01-01", "joined", "Unit Ex"),
    ]
    assert around(selectors.unit_timeline(history.root.pk)) == [
        ("2022-06-01", "abolished", "Department A"),
        ("2020-01-01", "joined", "Department B"),
        ("2020-01-01", "joined", "Department A"),
    ]
    (left,) = [
        entry
        for entry in selectors.unit_timeline(history.department_a.pk)
        if entry.sub_unit == "left"
    ]
    assert left.reason == "Reorganization 2022"
    assert left.change is not None
    assert left.change.details["to"]["slug"] == "department-b"
    # Unit Y was recorded late: its joining says so, as the unit's own versions do.
    joined_late = selectors.unit_timeline(history.department_b.pk)[0]
    assert joined_late.is_backdated


def test_a_unit_sees_appointments_to_its_posts(
    scripted_history: ScriptedHistory,
) -> None:
    entries = selectors.unit_timeline(scripted_history.unit_x.pk)
    assert around(entries) == [
        ("2023-01-02", "appointment_started", "Ben Okoro"),
        ("2023-01-01", "appointment_ended", "Ana Lima"),
        ("2020-06-01", "appointment_started", "Ana Lima"),
    ]
    assert [entry.reason for entry in entries if entry.change] == [
        "Ben appointed",
        "End of term",
        "Ana appointed",
    ]
    # With its own versions, newest first; at one instant its own version comes last.
    instants = [entry.effective_at for entry in entries]
    assert instants == sorted(instants, reverse=True)
    assert entries[-1].revision is not None
    assert entries[-1].revision.history_type == "+"


def test_a_timeline_as_of_a_date_stops_there(
    scripted_history: ScriptedHistory,
) -> None:
    assert around(
        selectors.unit_timeline(scripted_history.department_b.pk, at("2022-12-31"))
    ) == [("2022-01-01", "joined", "Unit Ex")]


def test_appointments_stay_with_the_unit_their_post_was_in(
    scripted_history: ScriptedHistory, editor: AbstractBaseUser
) -> None:
    history = scripted_history
    services.post_update(
        post=history.head_of_x,
        user=editor,
        reason="Post moves to Unit Y",
        effective_at=at("2024-01-01"),
        unit=history.unit_y,
    )
    services.appointment_end(
        appointment=history.ben.appointments.get(),
        ended_on=datetime.date(2024, 2, 1),
        user=editor,
        reason="Ben leaves",
    )
    on_x = around(selectors.unit_timeline(history.unit_x.pk))
    on_y = around(selectors.unit_timeline(history.unit_y.pk))
    assert ("2024-02-01", "appointment_ended", "Ben Okoro") in on_y
    assert ("2024-02-01", "appointment_ended", "Ben Okoro") not in on_x
    assert ("2023-01-02", "appointment_started", "Ben Okoro") in on_x
    assert ("2023-01-02", "appointment_started", "Ben Okoro") not in on_y


def grow(editor: AbstractBaseUser, parent: OrganizationalUnit, count: int) -> None:
    """``count`` more sub-units, each with a head appointed, and one moved out."""
    existing = parent.get_children().count()
    for number in range(existing, existing + count):
        reason = f"Growth {number}"
        unit = services.unit_create(
            name=f"Team {number}",
            kind=UnitKind.UNIT,
            parent=parent,
            effective_at=at("2024-03-01"),
            user=editor,
            reason=reason,
        )
        post = services.post_create(
            title=f"Lead {number}",
            unit=parent,
            effective_at=at("2024-03-01"),
            user=editor,
            reason=reason,
        )
        person = services.person_create(
            full_name=f"Person {number}",
            effective_at=at("2024-03-01"),
            user=editor,
            reason=reason,
        )
        services.appointment_start(
            person=person,
            post=post,
            started_on=datetime.date(2024, 3, 2),
            user=editor,
            reason=reason,
        )
        services.unit_move(
            unit=unit,
            new_parent=OrganizationalUnit.objects.get(slug="hq"),
            effective_at=at("2024-04-01"),
            user=editor,
            reason=reason,
        )


@pytest.mark.parametrize("as_of", [None, at("2025-01-01")])
def test_a_timeline_costs_the_same_queries_however_many_entries(
    scripted_history: ScriptedHistory,
    editor: AbstractBaseUser,
    django_assert_num_queries: Any,
    as_of: datetime.datetime | None,
) -> None:
    parent = scripted_history.department_b
    grow(editor, parent, 2)
    with django_assert_num_queries(8):
        few = selectors.unit_timeline(parent.pk, as_of)
    grow(editor, parent, 10)
    with django_assert_num_queries(8):
        many = selectors.unit_timeline(parent.pk, as_of)
    assert len(many) - len(few) == 10 * 3  # joined, left, appointed

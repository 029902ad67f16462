"""Reads: current tree, as-of states, history with differences, and the change feed."""

from __future__ import annotations

import datetime

import pytest

from tests.conftest import ScriptedHistory, at
from units import selectors, services
from units.models import Appointment, OrganizationalUnit, appointment_is_current

pytestmark = pytest.mark.django_db


def names(roots: list[selectors.UnitNode]) -> dict[str, str | None]:
    """slug -> parent slug for every node."""
    result: dict[str, str | None] = {}
    for root in roots:
        for node in root.walk():
            for child in node.children:
                result[child.slug] = node.slug
            result.setdefault(node.slug, None)
    return result


def test_tree_as_of_before_anything_is_empty(scripted_history: ScriptedHistory) -> None:
    assert selectors.unit_tree_as_of(at("2019-12-31")) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2020-01-01", {"hq": None, "department-a": "hq", "department-b": "hq"}),
        (
            "2020-07-01",
            {
                "hq": None,
                "department-a": "hq",
                "department-b": "hq",
                "unit-x": "department-a",
            },
        ),
        (
            "2022-02-01",
            {
                "hq": None,
                "department-a": "hq",
                "department-b": "hq",
                "unit-x": "department-b",
            },
        ),
        ("2022-07-01", {"hq": None, "department-b": "hq", "unit-x": "department-b"}),
        (
            "2023-07-01",
            {
                "hq": None,
                "department-b": "hq",
                "unit-x": "department-b",
                "unit-y": "department-b",
            },
        ),
    ],
)
def test_tree_as_of_follows_the_scripted_history(
    scripted_history: ScriptedHistory, day: str, expected: dict[str, str | None]
) -> None:
    assert names(selectors.unit_tree_as_of(at(day))) == expected


def test_backdated_unit_appears_from_its_effective_date(
    scripted_history: ScriptedHistory,
) -> None:
    assert "unit-y" not in names(selectors.unit_tree_as_of(at("2023-05-31")))
    assert "unit-y" in names(selectors.unit_tree_as_of(at("2023-06-02")))


def test_unit_as_of_shows_the_name_and_head_of_the_time(
    scripted_history: ScriptedHistory,
) -> None:
    before = selectors.unit_as_of("unit-x", at("2021-01-01"))
    after = selectors.unit_as_of("unit-x", at("2023-02-01"))
    assert before is not None and after is not None
    assert before.name == "Unit X"
    assert before.head is not None and before.head.holder is not None
    assert before.head.holder.person_name == "Ana Lima"
    assert after.name == "Unit Ex"
    assert after.head is not None and after.head.holder is not None
    assert after.head.holder.person_name == "Ben Okoro"
    assert selectors.unit_as_of("unit-x", at("2020-01-01")) is None
    vacant = selectors.unit_as_of(
        "unit-x", datetime.datetime(2023, 1, 1, 18, tzinfo=datetime.UTC)
    )
    assert vacant is not None
    assert vacant.head is not None and vacant.head.is_vacant


def test_current_tree_matches_the_latest_as_of_tree(
    scripted_history: ScriptedHistory,
) -> None:
    assert names(selectors.unit_tree()) == names(
        selectors.unit_tree_as_of(datetime.datetime.now(datetime.UTC))
    )


def test_current_tree_uses_a_constant_number_of_queries(
    scripted_history: ScriptedHistory, make_unit, django_assert_num_queries
) -> None:
    parent = scripted_history.department_b
    for index in range(30):
        parent = (
            make_unit(f"Level {index}", parent)
            if index % 3 == 0
            else make_unit(f"Leaf {index}", parent)
        )
    with django_assert_num_queries(4):
        roots = selectors.unit_tree()
    assert (
        sum(1 for _ in roots[0].walk()) == OrganizationalUnit.objects.active().count()
    )


def test_tree_as_of_uses_a_constant_number_of_queries(
    scripted_history: ScriptedHistory, make_unit, django_assert_num_queries
) -> None:
    for index in range(30):
        make_unit(f"Extra {index}", scripted_history.department_b)
    with django_assert_num_queries(4):
        selectors.unit_tree_as_of(at("2024-01-01"))


def test_unit_history_lists_field_changes_newest_first(
    scripted_history: ScriptedHistory,
) -> None:
    history = selectors.unit_history(scripted_history.unit_x)
    assert [revision.reason for revision in history] == [
        "Reorganization 2022",
        "Renamed by the 2021 reform",
        "Establish Unit X",
    ]
    move, rename, _ = history
    assert "parent_id" in {change.field for change in move.changes}
    parent_change = next(
        change for change in move.changes if change.field == "parent_id"
    )
    assert (parent_change.old_display, parent_change.new_display) == (
        "Department A",
        "Department B",
    )
    assert {change.field for change in rename.changes} == {"name", "mandate"}
    assert rename.author == "editor"
    assert not rename.is_backdated or rename.effective_at < rename.recorded_at


def test_changes_between_two_instants(scripted_history: ScriptedHistory) -> None:
    changes = selectors.changes_between(at("2021-01-01"), at("2023-01-31"))
    kinds = [(change.kind, change.unit_slug) for change in changes]
    assert kinds == [
        ("renamed", "unit-x"),
        ("mandate_changed", "unit-x"),
        ("moved", "unit-x"),
        ("abolished", "department-a"),
        ("appointment_ended", "unit-x"),
        ("appointment_started", "unit-x"),
    ]
    moved = changes[2]
    assert moved.details["from"]["slug"] == "department-a"
    assert moved.details["to"]["slug"] == "department-b"
    assert moved.reason == "Reorganization 2022"
    assert changes[0].details["old_name"] == "Unit X"


def test_changes_between_excludes_the_lower_bound_and_includes_the_upper(
    scripted_history: ScriptedHistory,
) -> None:
    changes = selectors.changes_between(at("2022-01-01"), at("2022-06-01"))
    assert [change.kind for change in changes] == ["abolished"]


def test_changes_between_rejects_reversed_bounds() -> None:
    with pytest.raises(selectors.InvalidInstant, match="until"):
        selectors.changes_between(at("2022-01-01"), at("2021-01-01"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2024-03-01",
            datetime.datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=datetime.UTC),
        ),
        (
            "2024-03-01T10:00:00Z",
            datetime.datetime(2024, 3, 1, 10, tzinfo=datetime.UTC),
        ),
        ("2024-03-01T10:00:00", datetime.datetime(2024, 3, 1, 10, tzinfo=datetime.UTC)),
    ],
)
def test_parse_instant_accepts_dates_and_date_times(
    text: str, expected: datetime.datetime
) -> None:
    assert selectors.parse_instant(text) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2024-13-01", "2024-02-30", "2024-03-01T25:00"]
)
def test_parse_instant_rejects_malformed_values(text: str) -> None:
    with pytest.raises(selectors.InvalidInstant, match="as_of"):
        selectors.parse_instant(text)


def test_registry_problems_is_empty_after_the_scripted_history(
    scripted_history: ScriptedHistory,
) -> None:
    assert selectors.registry_problems() == []


def test_tree_problems_reports_corrupted_tree_fields(
    scripted_history: ScriptedHistory,
) -> None:
    OrganizationalUnit.objects.filter(pk=scripted_history.unit_x.pk).update(lft=999)
    problems = selectors.tree_problems()
    assert any(f"unit {scripted_history.unit_x.pk}" in problem for problem in problems)


def test_history_problems_reports_a_change_made_behind_the_services_back(
    scripted_history: ScriptedHistory,
) -> None:
    OrganizationalUnit.objects.filter(pk=scripted_history.unit_y.pk).update(
        name="Sneaky"
    )
    problems = selectors.history_problems()
    assert problems == [
        f"organizational unit {scripted_history.unit_y.pk}: differs from its latest history record in name"
    ]


def test_revert_appears_in_the_change_feed_as_a_reverted_move(
    scripted_history: ScriptedHistory, editor
) -> None:
    services.unit_move(
        unit=scripted_history.unit_x,
        new_parent=scripted_history.root,
        user=editor,
        reason="Up",
    )
    reorganized = selectors.unit_history(scripted_history.unit_x)[1]
    assert reorganized.reason == "Reorganization 2022"
    services.unit_revert(
        unit=scripted_history.unit_x,
        history_id=reorganized.history_id,
        user=editor,
        reason="Undo",
    )
    now = datetime.datetime.now(datetime.UTC)
    changes = selectors.changes_between(now - datetime.timedelta(minutes=5), now)
    # Issue 13: a revert is labelled "reverted", holding the move it made.
    assert [(change.kind, change.reason) for change in changes] == [
        ("moved", "Up"),
        ("reverted", "Undo"),
    ]
    assert changes[1].details["kinds"] == ["moved"]
    assert changes[1].details["changes"][0]["details"]["to"]["slug"] == "department-b"


def test_parse_instant_refuses_instants_outside_utc_years() -> None:
    with pytest.raises(selectors.InvalidInstant, match="outside the years 1 to 9999"):
        selectors.parse_instant("0001-01-01T00:00:00+14:00")


@pytest.mark.django_db
def test_an_object_deleted_in_history_is_gone_as_of_later_dates(
    scripted_history: ScriptedHistory,
) -> None:
    """A deletion row (only written behind the services' back: units are abolished)
    hides the object from then on; its previous revision must not stand in for it."""
    unit = OrganizationalUnit.objects.get(slug="unit-y")
    latest = unit.history.order_by("-history_date", "-history_id").first()
    deletion = latest.instance
    latest_date = latest.history_date
    unit.history.create(
        **{
            field.attname: getattr(deletion, field.attname)
            for field in OrganizationalUnit._meta.concrete_fields
            if field.name not in ("lft", "rght", "tree_id", "level")
        },
        history_date=latest_date + datetime.timedelta(days=1),
        recorded_at=latest_date + datetime.timedelta(days=1),
        history_type="-",
        history_change_reason="Deleted behind the services' back",
    )
    after = latest_date + datetime.timedelta(days=2)
    ids_after = {
        row["id"] for row in selectors.states_as_of(OrganizationalUnit, after, ("id",))
    }
    assert unit.pk not in ids_after
    assert (
        selectors.states_as_of(OrganizationalUnit, after, ("id",), ids=[unit.pk]) == []
    )
    before = {
        row["id"]
        for row in selectors.states_as_of(OrganizationalUnit, latest_date, ("id",))
    }
    assert unit.pk in before


@pytest.mark.django_db
def test_as_of_reads_take_more_ids_than_sqlite_has_placeholders(
    scripted_history: ScriptedHistory,
) -> None:
    """Ids travel as one parameter: 40,000 of them (SQLite allows 32,766 placeholders)."""
    unit = OrganizationalUnit.objects.get(slug="unit-y")
    ids = [unit.pk, *range(10**6, 10**6 + 40_000)]
    rows = selectors.states_as_of(
        OrganizationalUnit, at("2030-01-01"), ("id", "slug"), ids=ids
    )
    assert rows == [{"id": unit.pk, "slug": "unit-y"}]


@pytest.mark.parametrize(
    ("day", "holders"),
    [
        ("2020-05-31", set()),
        ("2020-06-01", {"ana-lima"}),
        ("2022-12-31", {"ana-lima"}),
        ("2023-01-01", set()),  # the end date is the first day out of the post
        ("2023-01-02", {"ben-okoro"}),
    ],
)
def test_appointment_current_on_agrees_with_the_rule_for_rows(
    scripted_history: ScriptedHistory, day: str, holders: set[str]
) -> None:
    on = datetime.date.fromisoformat(day)
    appointments = Appointment.objects.select_related("person")
    in_database = {a.person.slug for a in appointments.current_on(on)}
    by_rows = {
        a.person.slug
        for a in appointments
        if appointment_is_current(a.started_on, a.ended_on, on)
    }
    assert in_database == by_rows == holders

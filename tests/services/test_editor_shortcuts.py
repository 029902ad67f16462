"""The services behind the admin's shortcuts: appointing a person the registry does
not know yet in one step, and abolishing a unit with each sub-unit sent its own way."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.conftest import assert_tree_matches_rebuild
from units import services
from units.models import Appointment, OrganizationalUnit, Person, Post, UnitKind

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    """Everything a refused write must leave untouched."""
    return (
        list(OrganizationalUnit.objects.order_by("pk").values()),
        list(Post.objects.order_by("pk").values()),
        list(Appointment.objects.order_by("pk").values()),
        list(Person.objects.order_by("pk").values()),
        OrganizationalUnit.history.count(),
        Person.history.count(),
        Appointment.history.count(),
    )


@pytest.fixture
def post(make_unit) -> Post:
    unit = make_unit("Legal Office", kind=UnitKind.OFFICE)
    return services.post_create(user=None, reason="r", title="Legal Counsel", unit=unit)


# --- Appointing a new person -------------------------------------------------------------


def test_a_new_person_is_recorded_and_appointed_with_one_reason_and_user(
    post, editor
) -> None:
    today = timezone.now().date()
    appointment = services.appointment_start_for_new_person(
        full_name="  Amara Okafor ",
        post=post,
        started_on=today,
        user=editor,
        reason="Recruited after the 2024 vacancy notice",
    )
    person = appointment.person
    assert person.full_name == "Amara Okafor" and person.slug == "amara-okafor"
    assert appointment.post == post and appointment.started_on == today
    for revision in (person.history.get(), appointment.history.get()):
        assert revision.history_user == editor
        assert (
            revision.history_change_reason == "Recruited after the 2024 vacancy notice"
        )


@pytest.mark.parametrize(
    ("full_name", "message"),
    [("   ", "cannot be blank"), ("x" * 256, "at most 255 characters")],
)
def test_invalid_person_data_records_neither_person_nor_appointment(
    post, editor, full_name, message
) -> None:
    before = snapshot()
    with pytest.raises(ValidationError, match=message):
        services.appointment_start_for_new_person(
            full_name=full_name,
            post=post,
            started_on=timezone.now().date(),
            user=editor,
            reason="r",
        )
    assert snapshot() == before


def test_a_refused_appointment_leaves_no_new_person_behind(post, editor) -> None:
    holder = services.person_create(user=editor, reason="r", full_name="Ben Holder")
    services.appointment_start(
        person=holder,
        post=post,
        started_on=timezone.now().date(),
        user=editor,
        reason="r",
    )
    before = snapshot()
    with pytest.raises(ValidationError, match="is held by Ben Holder") as refusal:
        services.appointment_start_for_new_person(
            full_name="Carla Diaz",
            post=post,
            started_on=timezone.now().date(),
            user=editor,
            reason="r",
        )
    assert services.refusal_code(refusal.value) == "post_occupied"
    assert snapshot() == before
    assert not Person.objects.filter(full_name="Carla Diaz").exists()


def test_appointing_a_new_person_needs_a_reason(post, editor) -> None:
    before = snapshot()
    with pytest.raises(ValidationError, match="A reason is required"):
        services.appointment_start_for_new_person(
            full_name="Dana Ito",
            post=post,
            started_on=timezone.now().date(),
            user=editor,
            reason=" ",
        )
    assert snapshot() == before


# --- Abolishing with a destination for each sub-unit ------------------------------------


@pytest.fixture
def reorganization(make_unit) -> dict[str, OrganizationalUnit]:
    """A department with three sub-units (one with its own sub-unit), and two others."""
    root = make_unit("Root Office", kind=UnitKind.OFFICE)
    units = {
        "root": root,
        "closing": make_unit("Closing Department", root, kind=UnitKind.DEPARTMENT),
        "north": make_unit("North Department", root, kind=UnitKind.DEPARTMENT),
        "south": make_unit("South Department", root, kind=UnitKind.DEPARTMENT),
    }
    for name in ("Audit", "Budget", "Claims"):
        units[name.lower()] = make_unit(f"{name} Unit", units["closing"])
    units["claims_desk"] = make_unit("Claims Desk", units["claims"])
    return units


def reread(units: dict[str, OrganizationalUnit]) -> dict[str, OrganizationalUnit]:
    return {
        key: OrganizationalUnit.objects.get(pk=unit.pk) for key, unit in units.items()
    }


def test_each_sub_unit_goes_where_it_is_sent(reorganization, editor) -> None:
    units = reorganization
    services.unit_abolish(
        unit=units["closing"],
        user=editor,
        reason="Split between North and South",
        sub_unit_destinations={
            units["audit"].pk: units["north"],
            units["budget"].pk: units["south"].pk,
            units["claims"].pk: None,
        },
    )
    units = reread(units)
    assert not units["closing"].is_active
    assert units["audit"].parent == units["north"] and units["audit"].is_active
    assert units["budget"].parent == units["south"] and units["budget"].is_active
    assert not units["claims"].is_active and not units["claims_desk"].is_active
    for key in ("closing", "audit", "budget", "claims", "claims_desk"):
        revision = units[key].history.first()
        assert revision.history_change_reason == "Split between North and South"
        assert revision.history_user == editor
    assert_tree_matches_rebuild()


def test_a_sub_unit_sent_into_the_abolished_subtree_is_refused_naming_it(
    reorganization,
) -> None:
    units = reorganization
    before = snapshot()
    with pytest.raises(
        services.SubUnitRefusal, match="“Budget Unit” cannot move"
    ) as refusal:
        services.units_abolish(
            units=[units["closing"]],
            user=None,
            reason="r",
            sub_unit_destinations={
                units["audit"].pk: units["north"],
                units["budget"].pk: units["claims_desk"],
                units["claims"].pk: None,
            },
        )
    assert refusal.value.sub_unit_id == units["budget"].pk
    assert services.refusal_code(refusal.value) == "cycle"
    assert snapshot() == before  # Audit's move came first and was rolled back


def test_a_sub_unit_sent_to_an_abolished_unit_is_refused_naming_it(
    reorganization,
) -> None:
    units = reorganization
    services.unit_abolish(unit=units["south"], user=None, reason="Gone")
    before = snapshot()
    with pytest.raises(services.SubUnitRefusal, match="abolished") as refusal:
        services.unit_abolish(
            unit=units["closing"],
            user=None,
            reason="r",
            sub_unit_destinations={
                units["audit"].pk: units["north"],
                units["budget"].pk: units["south"],
                units["claims"].pk: None,
            },
        )
    assert refusal.value.sub_unit_id == units["budget"].pk
    assert snapshot() == before


def test_every_active_sub_unit_must_be_named_and_only_those(reorganization) -> None:
    units = reorganization
    before = snapshot()
    with pytest.raises(
        ValidationError, match=r"nobody said anything about \(Claims Unit\)"
    ):
        services.unit_abolish(
            unit=units["closing"],
            user=None,
            reason="r",
            sub_unit_destinations={
                units["audit"].pk: None,
                units["budget"].pk: None,
            },
        )
    with pytest.raises(ValidationError, match="not an active sub-unit"):
        services.unit_abolish(
            unit=units["closing"],
            user=None,
            reason="r",
            sub_unit_destinations={
                units["audit"].pk: None,
                units["budget"].pk: None,
                units["claims"].pk: None,
                units["claims_desk"].pk: None,
            },
        )
    with pytest.raises(
        ValidationError, match="not a sub-unit of a unit being abolished"
    ):
        services.units_abolish(
            units=[units["closing"]],
            user=None,
            reason="r",
            sub_unit_destinations={units["north"].pk: None},
        )
    assert snapshot() == before


def test_an_empty_plan_abolishes_a_unit_without_sub_units_and_refuses_otherwise(
    reorganization,
) -> None:
    units = reorganization
    services.unit_abolish(
        unit=units["north"], user=None, reason="r", sub_unit_destinations={}
    )
    assert not OrganizationalUnit.objects.get(pk=units["north"].pk).is_active
    before = snapshot()
    with pytest.raises(ValidationError) as refusal:
        services.unit_abolish(
            unit=units["closing"], user=None, reason="r", sub_unit_destinations={}
        )
    assert services.refusal_code(refusal.value) == "has_active_sub_units"
    assert snapshot() == before


def test_moved_sub_units_keep_their_own_sub_units_and_order(
    reorganization, editor
) -> None:
    units = reorganization
    services.unit_abolish(
        unit=units["closing"],
        user=editor,
        reason="r",
        sub_unit_destinations={
            units["audit"].pk: units["north"],
            units["budget"].pk: units["north"],
            units["claims"].pk: units["south"],
        },
    )
    units = reread(units)
    assert units["closing"].abolished_on == timezone.now().date()
    assert units["claims"].parent == units["south"]
    assert units["claims_desk"].parent == units["claims"]
    assert units["claims_desk"].is_active
    assert [child.name for child in units["north"].get_children()] == [
        "Audit Unit",
        "Budget Unit",
    ]
    assert_tree_matches_rebuild()

"""The services behind the admin's shortcuts: appointing a person the registry does
not know yet in one step."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

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

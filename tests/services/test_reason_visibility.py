"""Issue 16: every revision records who may read its reason (public or internal).

The write says it beside the reason; when it does not, ``REASON_VISIBILITY_DEFAULT``
decides (internal unless set to public). A value that is neither is refused with a
message and nothing is written. Writes that call other writes (abolishing a unit with
sub-units, reordering siblings) give every row they record the same visibility.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from tests.conftest import ScriptedHistory
from tests.factories import PersonFactory, UnitFactory
from units import services
from units.models import (
    OrganizationalUnit,
    Person,
    Post,
    ReasonVisibility,
    RegistryState,
    UnitKind,
)

pytestmark = pytest.mark.django_db


def latest_visibility(instance: OrganizationalUnit | Person | Post) -> str:
    return instance.history.order_by("-history_date", "-history_id")[
        0
    ].reason_visibility


def test_a_write_that_does_not_say_records_the_default_internal(editor) -> None:
    person = services.person_create(user=editor, reason="Hired", full_name="Iris")

    assert latest_visibility(person) == ReasonVisibility.INTERNAL


@override_settings(REASON_VISIBILITY_DEFAULT="public")
def test_the_default_is_a_setting(editor) -> None:
    person = services.person_create(user=editor, reason="Hired", full_name="Iris")

    assert latest_visibility(person) == ReasonVisibility.PUBLIC


@override_settings(REASON_VISIBILITY_DEFAULT="public")
def test_a_write_that_says_internal_overrides_a_public_default(editor) -> None:
    person = services.person_create(
        user=editor,
        reason="Hired after the confidential review",
        reason_visibility="internal",
        full_name="Iris",
    )
    services.person_update(
        person=person,
        user=editor,
        reason="Spelling",
        reason_visibility="public",
        full_name="Iris Moreau",
    )

    assert [row.reason_visibility for row in person.history.order_by("history_id")] == [
        "internal",
        "public",
    ]


@pytest.mark.parametrize("value", ["secret", "PUBLIC", " internal", "0"])
def test_a_visibility_that_is_neither_public_nor_internal_is_refused(
    editor, value: str
) -> None:
    unit = UnitFactory.create(name="Unit One")
    generation = RegistryState.objects.get().generation

    with pytest.raises(ValidationError) as refused:
        services.unit_update(
            unit=unit,
            user=editor,
            reason="Renamed",
            reason_visibility=value,
            name="Unit Two",
        )

    assert "is not a reason visibility: say public" in str(refused.value)
    assert refused.value.message_dict["reason_visibility"]
    unit.refresh_from_db()
    assert unit.name == "Unit One"
    assert unit.history.count() == 1
    assert RegistryState.objects.get().generation == generation


def test_abolishing_with_sub_units_gives_every_row_the_visibility(
    scripted_history: ScriptedHistory, editor
) -> None:
    department_b = scripted_history.department_b
    before = {
        unit.pk: unit.history.count()
        for unit in OrganizationalUnit.objects.descendants_of(
            department_b, include_self=True
        )
    }

    services.unit_abolish(
        unit=department_b,
        user=editor,
        reason="Wound up",
        reason_visibility="public",
        sub_units="abolish",
    )

    written = [
        row
        for unit_id, count in before.items()
        for row in OrganizationalUnit.history.filter(id=unit_id).order_by(
            "history_date", "history_id"
        )[count:]
    ]
    posts = Post.history.filter(history_change_reason="Wound up")
    assert len(written) == len(before) and posts.exists()
    assert {row.reason_visibility for row in [*written, *posts]} == {"public"}


def test_renumbering_siblings_keeps_the_visibility_of_the_move(editor) -> None:
    parent = UnitFactory.create(name="Parent", kind=UnitKind.DEPARTMENT)
    first, _second, third = (
        UnitFactory.create(name=name, parent=parent, sibling_order=order)
        for name, order in (("First", 1), ("Second", 2), ("Third", 3))
    )

    # No order lies between 1 and 2: the siblings are renumbered, each a change.
    services.unit_move_to_position(
        unit=third,
        target=first,
        position="after",
        user=editor,
        reason="Third comes second",
        reason_visibility="public",
    )

    renumbered = OrganizationalUnit.history.filter(
        history_change_reason__startswith="Third comes second"
    )
    assert renumbered.count() >= 2
    assert {row.reason_visibility for row in renumbered} == {"public"}


def test_a_history_row_saved_outside_the_services_is_internal() -> None:
    """A script saving a model directly never publishes a reason by accident."""
    person = PersonFactory.create(full_name="Iris", reason_visibility="public")
    person.full_name = "Iris M."
    person._change_reason = "Edited in the shell"  # type: ignore[attr-defined]
    person.save()

    assert latest_visibility(person) == ReasonVisibility.INTERNAL

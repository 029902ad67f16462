"""A revert undone from now, or the record corrected from the mistake's own time.

Each correction is checked against the rule of issue 14, written here as a small
reference (not the engine): the state as of E, as known at R, is the latest row recorded
at or before R among those effective at or before E, ties broken by the later row.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from tests.conftest import at
from tests.factories import PersonFactory, PostFactory, UnitFactory
from units import selectors, services
from units.models import OrganizationalUnit, Person, Post, UnitKind
from units.selectors.as_of import reading_as_known_at

pytestmark = pytest.mark.django_db


def reference(
    model: type[Any], pk: int, field: str, as_of: datetime.datetime, known_at: Any
) -> Any:
    """The rule, replayed over the stored rows in Python."""
    rows = [
        row
        for row in model.history.filter(id=pk).values(
            "history_id", "history_date", "recorded_at", field
        )
        if row["history_date"] <= as_of
        and (known_at is None or row["recorded_at"] <= known_at)
    ]
    if not rows:
        return None
    return max(rows, key=lambda row: (row["history_date"], row["history_id"]))[field]


def engine(
    model: type[Any], pk: int, field: str, as_of: datetime.datetime, known_at: Any
) -> Any:
    with reading_as_known_at(known_at):
        states = selectors.states_as_of(model, as_of, ["id", field], ids=[pk])
    return states[0][field] if states else None


def both(model: type[Any], pk: int, field: str, as_of: Any, known_at: Any) -> Any:
    """The engine's answer, after checking it is the reference's."""
    answer = engine(model, pk, field, as_of, known_at)
    assert answer == reference(model, pk, field, as_of, known_at), (as_of, known_at)
    return answer


def versions(instance: Any) -> list[Any]:
    return list(instance.history.order_by("history_date", "history_id"))


@pytest.fixture
def misnamed(editor: User) -> OrganizationalUnit:
    """A unit created in January, renamed by mistake effective in March."""
    unit = UnitFactory.create(
        user=editor,
        name="Archives",
        kind=UnitKind.OFFICE,
        effective_at=at("2024-01-10"),
    )
    services.unit_update(
        unit=unit,
        user=editor,
        reason="Renamed",
        name="Archive Services",
        effective_at=at("2024-03-01"),
    )
    return unit


def test_correcting_a_rename_writes_one_row_at_the_mistakes_time(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    original, mistake = versions(misnamed)

    services.unit_revert(
        unit=misnamed,
        history_id=original.history_id,
        user=editor,
        reason="The rename never happened",
        mode="correct",
    )

    *_, correction = versions(misnamed)
    assert misnamed.history.count() == 3
    assert correction.history_date == mistake.history_date
    assert correction.recorded_at > mistake.recorded_at
    assert correction.corrects_revision == mistake.history_id
    assert correction.reverts_revision == original.history_id
    assert correction.name == "Archives"
    misnamed.refresh_from_db()
    assert misnamed.name == "Archives"
    # Corrected: as if the mistake had never been recorded, from March on...
    for day in ("2024-01-10", "2024-03-01", "2024-06-01"):
        assert (
            both(OrganizationalUnit, misnamed.pk, "name", at(day), None) == "Archives"
        )
    # ... while what the registry said before the correction still shows it.
    earlier = mistake.recorded_at
    assert (
        both(OrganizationalUnit, misnamed.pk, "name", at("2024-03-01"), earlier)
        == "Archive Services"
    )
    assert (
        both(OrganizationalUnit, misnamed.pk, "name", at("2024-02-01"), earlier)
        == "Archives"
    )


def test_undo_from_now_keeps_the_mistake_in_the_history(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    original, mistake = versions(misnamed)

    services.unit_revert(
        unit=misnamed,
        history_id=original.history_id,
        user=editor,
        reason="Undone",
        mode="undo",
    )

    *_, undo = versions(misnamed)
    assert undo.history_date > mistake.history_date
    assert undo.corrects_revision is None
    assert (
        both(OrganizationalUnit, misnamed.pk, "name", at("2024-06-01"), None)
        == "Archive Services"
    )


def test_an_unknown_mode_is_refused_and_nothing_is_written(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    original, _mistake = versions(misnamed)
    with pytest.raises(ValidationError) as refused:
        services.unit_revert(
            unit=misnamed,
            history_id=original.history_id,
            user=editor,
            reason="Whatever",
            mode="erase",
        )
    assert refused.value.error_dict["mode"][0].code == services.Refusal.INVALID
    assert misnamed.history.count() == 2


def test_a_correction_takes_no_effective_time_of_its_own(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    original, _mistake = versions(misnamed)
    with pytest.raises(ValidationError) as refused:
        services.unit_revert(
            unit=misnamed,
            history_id=original.history_id,
            user=editor,
            reason="Corrected",
            mode="correct",
            effective_at=at("2024-02-01"),
        )
    assert "effective_at" in refused.value.error_dict
    assert misnamed.history.count() == 2


def test_correcting_the_latest_version_is_refused_as_nothing_to_correct(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    _original, mistake = versions(misnamed)
    with pytest.raises(ValidationError) as refused:
        services.unit_revert(
            unit=misnamed,
            history_id=mistake.history_id,
            user=editor,
            reason="Corrected",
            mode="correct",
        )
    assert refused.value.code == services.Refusal.NO_CHANGE
    assert misnamed.history.count() == 2


def test_a_second_correction_of_the_same_mistake_finds_nothing_to_correct(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    original, _mistake = versions(misnamed)
    arguments = {
        "unit": misnamed,
        "history_id": original.history_id,
        "user": editor,
        "reason": "Corrected",
        "mode": "correct",
    }
    services.unit_revert(**arguments)
    with pytest.raises(ValidationError) as refused:
        services.unit_revert(**arguments)
    assert refused.value.code == services.Refusal.NO_CHANGE
    assert misnamed.history.count() == 3


def test_correcting_a_move_puts_the_unit_back_from_the_moves_time(
    editor: User,
) -> None:
    root = UnitFactory.create(
        user=editor, name="Root", kind=UnitKind.OFFICE, effective_at=at("2024-01-01")
    )
    first = UnitFactory.create(
        user=editor, name="First", parent=root, effective_at=at("2024-01-01")
    )
    second = UnitFactory.create(
        user=editor, name="Second", parent=root, effective_at=at("2024-01-01")
    )
    unit = UnitFactory.create(
        user=editor, name="Moved", parent=first, effective_at=at("2024-01-02")
    )
    services.unit_move(
        unit=unit,
        new_parent=second,
        user=editor,
        reason="Moved",
        effective_at=at("2024-03-01"),
    )
    original = versions(unit)[0]

    services.unit_revert(
        unit=unit,
        history_id=original.history_id,
        user=editor,
        reason="Never moved",
        mode="correct",
    )

    unit.refresh_from_db()
    assert unit.parent_id == first.pk
    assert OrganizationalUnit.objects.children_of(first).filter(pk=unit.pk).exists()
    assert both(OrganizationalUnit, unit.pk, "parent_id", at("2024-04-01"), None) == (
        first.pk
    )
    assert selectors.registry_problems() == []


@pytest.mark.xfail(
    strict=True,
    raises=ValidationError,
    reason="needs the corrections write path (branch wt-corrections): until it lands, "
    "save_revision refuses a write before a later change as out of order",
)
def test_correcting_a_rename_followed_by_another_change_keeps_that_change(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    """The mistake is corrected from March; the April mandate still holds on top."""
    services.unit_update(
        unit=misnamed,
        user=editor,
        reason="New mandate",
        mandate="Keeps the records",
        effective_at=at("2024-04-01"),
    )
    original = versions(misnamed)[0]
    before = misnamed.history.order_by("-history_id").first().recorded_at

    services.unit_revert(
        unit=misnamed,
        history_id=original.history_id,
        user=editor,
        reason="The rename never happened",
        mode="correct",
    )

    misnamed.refresh_from_db()
    assert (misnamed.name, misnamed.mandate) == ("Archives", "Keeps the records")
    for day, name, mandate in (
        ("2024-03-15", "Archives", ""),
        ("2024-05-01", "Archives", "Keeps the records"),
    ):
        assert both(OrganizationalUnit, misnamed.pk, "name", at(day), None) == name
        assert both(OrganizationalUnit, misnamed.pk, "mandate", at(day), None) == (
            mandate
        )
    assert (
        both(OrganizationalUnit, misnamed.pk, "name", at("2024-05-01"), before)
        == "Archive Services"
    )


# --- Posts and people -------------------------------------------------------------------


def test_correcting_a_post_title(editor: User) -> None:
    unit = UnitFactory.create(user=editor, name="Office", effective_at=at("2024-01-01"))
    post = PostFactory.create(
        user=editor, title="Director", unit=unit, effective_at=at("2024-01-01")
    )
    services.post_update(
        post=post,
        user=editor,
        reason="Retitled",
        title="Chief",
        effective_at=at("2024-03-01"),
    )
    original, mistake = versions(post)

    services.post_revert(
        post=post,
        history_id=original.history_id,
        user=editor,
        reason="Never retitled",
        mode="correct",
    )

    *_, correction = versions(post)
    assert correction.history_date == mistake.history_date
    assert correction.corrects_revision == mistake.history_id
    assert Post.objects.get(pk=post.pk).title == "Director"
    assert both(Post, post.pk, "title", at("2024-03-01"), None) == "Director"
    assert both(Post, post.pk, "title", at("2024-03-01"), mistake.recorded_at) == (
        "Chief"
    )


def test_correcting_a_persons_name(editor: User) -> None:
    person = PersonFactory.create(
        user=editor, full_name="Ana Lima", effective_at=at("2024-01-01")
    )
    services.person_update(
        person=person,
        user=editor,
        reason="Misspelt",
        full_name="Ana Lim",
        effective_at=at("2024-02-01"),
    )
    original, mistake = versions(person)

    services.person_revert(
        person=person,
        history_id=original.history_id,
        user=editor,
        reason="Typo",
        mode="correct",
    )

    assert Person.objects.get(pk=person.pk).full_name == "Ana Lima"
    assert both(Person, person.pk, "full_name", at("2024-02-01"), None) == "Ana Lima"
    assert (
        both(Person, person.pk, "full_name", at("2024-02-01"), mistake.recorded_at)
        == "Ana Lim"
    )
    with pytest.raises(ValidationError):
        services.person_revert(
            person=person,
            history_id=original.history_id,
            user=editor,
            reason="Typo",
            mode="sideways",
        )

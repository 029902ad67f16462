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


# --- Mistakes followed by other changes (the corrections path) ---------------------------


def test_a_later_rename_of_the_same_field_still_holds(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    services.unit_update(
        unit=misnamed,
        user=editor,
        reason="Renamed again",
        name="Records Office",
        effective_at=at("2024-05-01"),
    )
    original = versions(misnamed)[0]

    services.unit_revert(
        unit=misnamed,
        history_id=original.history_id,
        user=editor,
        reason="The March rename never happened",
        mode="correct",
    )

    misnamed.refresh_from_db()
    assert misnamed.name == "Records Office"
    for day, name in (
        ("2024-02-01", "Archives"),
        ("2024-03-15", "Archives"),
        ("2024-05-01", "Records Office"),
    ):
        assert both(OrganizationalUnit, misnamed.pk, "name", at(day), None) == name


def test_a_mistake_already_undone_from_now_can_still_be_corrected(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    """The phantom stretch an undo leaves (March until now) is removed by correcting;
    today's name is already right, so only the past changes."""
    original, mistake = versions(misnamed)
    services.unit_revert(
        unit=misnamed, history_id=original.history_id, user=editor, reason="Undone"
    )
    assert (
        both(OrganizationalUnit, misnamed.pk, "name", at("2024-06-01"), None)
        == "Archive Services"
    )
    undone_at = misnamed.history.order_by("-history_id").first().recorded_at

    services.unit_revert(
        unit=misnamed,
        history_id=original.history_id,
        user=editor,
        reason="It never happened at all",
        mode="correct",
    )

    assert OrganizationalUnit.objects.get(pk=misnamed.pk).name == "Archives"
    assert both(OrganizationalUnit, misnamed.pk, "name", at("2024-06-01"), None) == (
        "Archives"
    )
    assert (
        both(OrganizationalUnit, misnamed.pk, "name", at("2024-06-01"), undone_at)
        == "Archive Services"
    )
    correction = misnamed.history.get(
        history_date=mistake.history_date, corrects_revision=mistake.history_id
    )
    assert correction.name == "Archives"


def test_correcting_a_move_followed_by_a_rename_keeps_the_rename(
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
    services.unit_update(
        unit=unit,
        user=editor,
        reason="Renamed",
        name="Renamed",
        effective_at=at("2024-04-01"),
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
    assert (unit.parent_id, unit.name) == (first.pk, "Renamed")
    for day, parent, name in (
        ("2024-03-15", first.pk, "Moved"),
        ("2024-04-15", first.pk, "Renamed"),
    ):
        assert both(OrganizationalUnit, unit.pk, "parent_id", at(day), None) == parent
        assert both(OrganizationalUnit, unit.pk, "name", at(day), None) == name
    assert OrganizationalUnit.objects.children_of(first).filter(pk=unit.pk).exists()
    assert selectors.registry_problems() == []


def test_a_correction_that_would_make_a_cycle_is_refused_with_nothing_written(
    editor: User,
) -> None:
    """Corrected from March, A would be under B again, while B has been under A
    since April: the stretch is replayed and the cycle found."""
    root = UnitFactory.create(
        user=editor, name="Root", kind=UnitKind.OFFICE, effective_at=at("2024-01-01")
    )
    unit_b = UnitFactory.create(
        user=editor, name="B", parent=root, effective_at=at("2024-01-01")
    )
    unit_a = UnitFactory.create(
        user=editor, name="A", parent=unit_b, effective_at=at("2024-01-02")
    )
    services.unit_move(
        unit=unit_a,
        new_parent=root,
        user=editor,
        reason="Up",
        effective_at=at("2024-03-01"),
    )
    services.unit_move(
        unit=unit_b,
        new_parent=unit_a,
        user=editor,
        reason="Under A",
        effective_at=at("2024-04-01"),
    )
    original = versions(unit_a)[0]
    count = OrganizationalUnit.history.count()

    with pytest.raises(ValidationError) as refused:
        services.unit_revert(
            unit=unit_a,
            history_id=original.history_id,
            user=editor,
            reason="Never moved up",
            mode="correct",
        )

    assert refused.value.code == services.Refusal.CYCLE
    assert OrganizationalUnit.history.count() == count


def test_correcting_a_post_title_followed_by_a_change(editor: User) -> None:
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
    services.post_update(
        post=post,
        user=editor,
        reason="Term",
        term_years=4,
        effective_at=at("2024-04-01"),
    )
    original = versions(post)[0]

    services.post_revert(
        post=post,
        history_id=original.history_id,
        user=editor,
        reason="Never retitled",
        mode="correct",
    )

    stored = Post.objects.get(pk=post.pk)
    assert (stored.title, stored.term_years) == ("Director", 4)
    assert both(Post, post.pk, "title", at("2024-03-15"), None) == "Director"
    assert both(Post, post.pk, "term_years", at("2024-04-15"), None) == 4


def test_correcting_a_mistaken_abolition_reinstates_from_its_time(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    services.unit_abolish(
        unit=misnamed, user=editor, reason="Abolished", effective_at=at("2024-05-01")
    )
    renamed = versions(misnamed)[1]

    services.unit_revert(
        unit=misnamed,
        history_id=renamed.history_id,
        user=editor,
        reason="It was never abolished",
        mode="correct",
    )

    assert OrganizationalUnit.objects.get(pk=misnamed.pk).is_active
    assert (
        both(OrganizationalUnit, misnamed.pk, "abolished_on", at("2024-06-01"), None)
        is None
    )
    abolition = versions(misnamed)[2]
    assert (
        both(
            OrganizationalUnit,
            misnamed.pk,
            "abolished_on",
            at("2024-06-01"),
            abolition.recorded_at,
        )
        is not None
    )


def test_correcting_a_reinstatement_is_refused_with_nothing_written(
    misnamed: OrganizationalUnit, editor: User
) -> None:
    """Correcting it would abolish the unit from then on: that is an abolition, with
    its sub-units to account for, so the editor is sent to undo it instead."""
    services.unit_abolish(
        unit=misnamed, user=editor, reason="Abolished", effective_at=at("2024-05-01")
    )
    abolished = versions(misnamed)[2]
    services.unit_revert(
        unit=misnamed,
        history_id=versions(misnamed)[1].history_id,
        user=editor,
        reason="Back",
    )
    count = misnamed.history.count()

    with pytest.raises(ValidationError) as refused:
        services.unit_revert(
            unit=misnamed,
            history_id=abolished.history_id,
            user=editor,
            reason="The reinstatement was a mistake",
            mode="correct",
        )

    assert "reinstated" in refused.value.messages[0]
    assert misnamed.history.count() == count

"""Reverting posts and people: a new recorded change, never an erasure, and every
refusal leaves the registry as it was."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from tests.factories import PersonFactory, PostFactory, UnitFactory
from units import services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    UnitKind,
)

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    """Everything a refused revert must leave untouched."""
    return (
        list(OrganizationalUnit.objects.order_by("pk").values()),
        list(Post.objects.order_by("pk").values()),
        list(Person.objects.order_by("pk").values()),
        list(Appointment.objects.order_by("pk").values()),
        sum(
            model.history.count()
            for model in (OrganizationalUnit, Post, Person, Appointment)
        ),
    )


@pytest.fixture
def two_units(
    editor: User,
) -> tuple[OrganizationalUnit, OrganizationalUnit]:
    root = UnitFactory.create(user=editor, name="Root", kind=UnitKind.OFFICE)
    other = UnitFactory.create(
        user=editor, name="Other", parent=root, kind=UnitKind.DEPARTMENT
    )
    return root, other


@pytest.fixture
def head_post(
    two_units: tuple[OrganizationalUnit, OrganizationalUnit], editor: User
) -> Post:
    return PostFactory.create(
        user=editor, reason="Created", title="Director", unit=two_units[0], is_head=True
    )


def first_version(instance: Post | Person) -> int:
    return instance.history.order_by("history_date", "history_id").first().history_id


# --- Posts -------------------------------------------------------------------------------


def test_post_revert_restores_fields_as_one_new_revision(
    head_post: Post, two_units: tuple, editor: User
) -> None:
    root, other = two_units
    original = first_version(head_post)
    services.post_update(
        post=head_post,
        user=editor,
        reason="Moved and renamed",
        title="Chief",
        unit=other,
        term_years=4,
    )
    reverted = services.post_revert(
        post=head_post, history_id=original, user=editor, reason="Reform annulled"
    )
    assert (reverted.title, reverted.unit_id, reverted.term_years) == (
        "Director",
        root.pk,
        None,
    )
    assert reverted.version == 3
    assert head_post.history.count() == 3, "a revert adds a revision, erases nothing"
    latest = head_post.history.order_by("-history_id").first()
    assert (latest.history_change_reason, latest.history_user) == (
        "Reform annulled",
        editor,
    )
    assert latest.title == "Director"


def test_post_revert_revives_an_abolished_post_in_an_active_unit(
    head_post: Post, editor: User
) -> None:
    original = first_version(head_post)
    services.post_abolish(post=head_post, user=editor, reason="Cut")
    reverted = services.post_revert(
        post=head_post, history_id=original, user=editor, reason="Restored"
    )
    assert reverted.is_active
    assert Post.objects.get(pk=head_post.pk).abolished_on is None


def test_post_revert_to_an_abolished_version_abolishes_and_ends_the_holder(
    head_post: Post, editor: User
) -> None:
    services.post_abolish(post=head_post, user=editor, reason="Cut")
    abolished_version = head_post.history.order_by("-history_id").first().history_id
    services.post_revert(
        post=head_post,
        history_id=first_version(head_post),
        user=editor,
        reason="Restored",
    )
    person = services.person_create(user=editor, reason="Hired", full_name="Ana Lima")
    appointment = services.appointment_start(
        user=editor,
        reason="Appointed",
        person=person,
        post=head_post,
        started_on=datetime.date.today(),
    )
    services.post_revert(
        post=head_post, history_id=abolished_version, user=editor, reason="Cut again"
    )
    assert not Post.objects.get(pk=head_post.pk).is_active
    appointment.refresh_from_db()
    assert appointment.ended_on is not None


def test_post_revert_refuses_a_version_of_another_post(
    head_post: Post, two_units: tuple, editor: User
) -> None:
    other_post = services.post_create(
        user=editor, reason="Created", title="Clerk", unit=two_units[1]
    )
    before = snapshot()
    with pytest.raises(ValidationError, match="is not a version of the post") as error:
        services.post_revert(
            post=head_post,
            history_id=first_version(other_post),
            user=editor,
            reason="Mix-up",
        )
    assert error.value.code == "not_found"
    assert snapshot() == before


def test_post_revert_refuses_when_nothing_would_change(
    head_post: Post, editor: User
) -> None:
    before = snapshot()
    with pytest.raises(ValidationError, match="nothing to revert") as error:
        services.post_revert(
            post=head_post,
            history_id=first_version(head_post),
            user=editor,
            reason="Again",
        )
    assert error.value.code == "no_change"
    assert snapshot() == before


def test_post_revert_refuses_to_revive_into_an_abolished_unit(
    two_units: tuple, editor: User
) -> None:
    _, other = two_units
    post = services.post_create(
        user=editor, reason="Created", title="Clerk", unit=other
    )
    services.unit_abolish(unit=other, user=editor, reason="Department closed")
    before = snapshot()
    with pytest.raises(ValidationError, match="abolished unit") as error:
        services.post_revert(
            post=post, history_id=first_version(post), user=editor, reason="Revive"
        )
    assert error.value.code == "unit_abolished"
    assert "“Other” was abolished on" in error.value.message
    assert snapshot() == before


def test_post_revert_refuses_to_move_back_into_an_abolished_unit(
    two_units: tuple, editor: User
) -> None:
    root, other = two_units
    post = services.post_create(
        user=editor, reason="Created", title="Clerk", unit=other
    )
    services.post_update(post=post, user=editor, reason="Moved up", unit=root)
    services.unit_abolish(unit=other, user=editor, reason="Department closed")
    before = snapshot()
    with pytest.raises(ValidationError, match="abolished unit"):
        services.post_revert(
            post=post, history_id=first_version(post), user=editor, reason="Back"
        )
    assert snapshot() == before


def test_post_revert_refuses_a_second_head(
    head_post: Post, two_units: tuple, editor: User
) -> None:
    root = two_units[0]
    original = first_version(head_post)
    services.post_update(post=head_post, user=editor, reason="Demoted", is_head=False)
    services.post_create(
        user=editor, reason="New head", title="Chief", unit=root, is_head=True
    )
    before = snapshot()
    with pytest.raises(ValidationError, match="already headed by the post") as error:
        services.post_revert(
            post=head_post, history_id=original, user=editor, reason="Promote back"
        )
    assert error.value.code == "head_exists"
    assert snapshot() == before


def test_post_revert_refuses_an_abolished_version_of_an_abolished_post(
    head_post: Post, editor: User
) -> None:
    services.post_abolish(post=head_post, user=editor, reason="Cut")
    abolished_version = head_post.history.order_by("-history_id").first().history_id
    before = snapshot()
    with pytest.raises(ValidationError, match="revert to a version from before"):
        services.post_revert(
            post=head_post, history_id=abolished_version, user=editor, reason="x"
        )
    assert snapshot() == before


def test_post_revert_refuses_a_stale_version_and_a_blank_reason(
    head_post: Post, editor: User
) -> None:
    original = first_version(head_post)
    services.post_update(post=head_post, user=editor, reason="Renamed", title="Chief")
    before = snapshot()
    with pytest.raises(ValidationError, match="has changed since you loaded") as error:
        services.post_revert(
            post=head_post,
            history_id=original,
            user=editor,
            reason="Undo",
            expected_version=1,
        )
    assert error.value.code == "stale_version"
    with pytest.raises(ValidationError) as error:
        services.post_revert(
            post=head_post, history_id=original, user=editor, reason="   "
        )
    assert error.value.code == "reason_required"
    assert snapshot() == before


# --- People ------------------------------------------------------------------------------


@pytest.fixture
def person(editor: User) -> Person:
    return PersonFactory.create(user=editor, reason="Hired", full_name="Ana Lima")


def test_person_revert_restores_the_name_as_one_new_revision(
    person: Person, editor: User
) -> None:
    original = first_version(person)
    services.person_update(
        person=person, user=editor, reason="Typo", full_name="Ana Lmia"
    )
    reverted = services.person_revert(
        person=person, history_id=original, user=editor, reason="Fix the typo"
    )
    assert reverted.full_name == "Ana Lima"
    assert reverted.version == 3
    assert person.history.count() == 3
    latest = person.history.order_by("-history_id").first()
    assert (latest.history_change_reason, latest.full_name) == (
        "Fix the typo",
        "Ana Lima",
    )


def test_person_revert_refusals_change_nothing(person: Person, editor: User) -> None:
    other = services.person_create(user=editor, reason="Hired", full_name="Ben Okoro")
    before = snapshot()
    with pytest.raises(ValidationError, match="is not a version of “Ana Lima”"):
        services.person_revert(
            person=person,
            history_id=first_version(other),
            user=editor,
            reason="Mix-up",
        )
    with pytest.raises(ValidationError, match="nothing to revert"):
        services.person_revert(
            person=person,
            history_id=first_version(person),
            user=editor,
            reason="Again",
        )
    services.person_update(person=person, user=editor, reason="Typo", full_name="A L")
    changed = snapshot()
    with pytest.raises(ValidationError, match="has changed since you loaded"):
        services.person_revert(
            person=person,
            history_id=first_version(person),
            user=editor,
            reason="Undo",
            expected_version=1,
        )
    assert snapshot() == changed
    assert before != changed

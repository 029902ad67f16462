"""What was true at a change's effective time, not what is true today (issue 14).

Found by an independent replay of randomized histories: a past holder shown under a
later name, backdated writes under a unit abolished at that time, a backdated
abolition that left a sub-unit of that time under an abolished unit.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from tests.conftest import at
from units import selectors, services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    UnitKind,
    UnitRelationship,
)
from units.services.refusals import refusal_code

pytestmark = pytest.mark.django_db

RECORDED = (OrganizationalUnit, Post, Person, Appointment, UnitRelationship)


def row_counts() -> dict[str, int]:
    """Rows and history rows of every recorded model: a refusal changes none."""
    counts = {}
    for model in RECORDED:
        counts[model.__name__] = model.objects.count()
        counts[f"{model.__name__} history"] = model.history.count()
    return counts


def refused(write: Callable[[], Any], code: str) -> str:
    """Run ``write``, expect it refused with ``code`` and nothing written; its message."""
    before = row_counts()
    with pytest.raises(ValidationError) as refusal:
        write()
    assert refusal_code(refusal.value) == code
    assert row_counts() == before
    return " ".join(refusal.value.messages)


def unit(editor: User, name: str, parent: Any = None, day: str = "2020-01-01") -> Any:
    return services.unit_create(
        user=editor,
        reason=f"Establish {name}",
        name=name,
        kind=UnitKind.UNIT,
        parent=parent,
        effective_at=at(day),
    )


# --- A past holder's name is the name recorded for that instant ---------------------


@pytest.fixture
def renamed_late_holder(editor: User) -> Person:
    """Ann, head of Unit since 2020-06-01, recorded only on 2021-01-01 as "Ann Old",
    renamed "Ann New" on 2022-01-01."""
    head_unit = unit(editor, "Unit")
    post = services.post_create(
        user=editor,
        reason="Head post",
        unit=head_unit,
        title="Head of Unit",
        is_head=True,
        effective_at=at("2020-01-01"),
    )
    ann = services.person_create(
        user=editor, reason="Ann", full_name="Ann Old", effective_at=at("2021-01-01")
    )
    services.appointment_start(
        user=editor,
        reason="Ann appointed",
        person=ann,
        post=post,
        started_on=datetime.date(2020, 6, 1),
    )
    services.person_update(
        user=editor,
        reason="Ann's name",
        person=ann,
        full_name="Ann New",
        effective_at=at("2022-01-01"),
    )
    return ann


NAMES_IN_TIME = [
    ("2020-09-01", "Ann Old"),  # before she was recorded: as first recorded
    ("2021-06-01", "Ann Old"),
    ("2022-06-01", "Ann New"),
]


@pytest.mark.parametrize(("day", "name"), NAMES_IN_TIME)
def test_posts_as_of_name_the_holder_as_recorded_for_that_instant(
    renamed_late_holder: Person, day: str, name: str
) -> None:
    (post,) = selectors.posts_as_of(at(day))

    assert post.holder is not None
    assert post.holder.person_name == name


@pytest.mark.parametrize(("day", "name"), NAMES_IN_TIME)
def test_tenures_as_of_name_the_holder_as_recorded_for_that_instant(
    renamed_late_holder: Person, day: str, name: str
) -> None:
    (tenure,) = selectors.tenures(at(day))

    assert tenure.person_name == name


@pytest.mark.parametrize(("day", "name"), NAMES_IN_TIME)
def test_the_people_page_as_of_names_people_as_recorded_for_that_instant(
    renamed_late_holder: Person, day: str, name: str
) -> None:
    page = selectors.people_page(at(day), number=1, per_page=10)

    assert [person.name for person in page.people] == [name]


@pytest.mark.parametrize("day", ["2020-09-01", "2021-06-01"])
def test_the_unit_page_as_of_never_shows_a_later_name(
    renamed_late_holder: Person, client: Any, day: str
) -> None:
    """Its head, its posts' past holders and its timeline: all "Ann Old" then."""
    slug = OrganizationalUnit.objects.get().slug

    page = client.get(f"/units/{slug}/", {"as_of": day}).content.decode()

    assert "Ann Old" in page
    assert "Ann New" not in page


def test_the_unit_page_after_the_rename_shows_the_new_name(
    renamed_late_holder: Person, client: Any
) -> None:
    slug = OrganizationalUnit.objects.get().slug

    page = client.get(f"/units/{slug}/", {"as_of": "2022-06-01"}).content.decode()

    assert "Ann New" in page


def test_the_feed_names_an_appointed_person_as_recorded_for_the_appointment(
    renamed_late_holder: Person,
) -> None:
    """The appointment (2020-06-01) names "Ann Old" even read now; the rename is its
    own change."""
    changes = selectors.changes_between(at("2020-01-01"), at("2023-01-01"))

    (appointed,) = (item for item in changes if item.kind == "appointment_started")
    assert appointed.details["person"] == "Ann Old"
    assert "Ann New" not in appointed.summary


def test_the_current_name_is_shown_now(renamed_late_holder: Person) -> None:
    (post,) = selectors.posts_as_of(None)
    (tenure,) = selectors.tenures(None)

    assert post.holder is not None
    assert (post.holder.person_name, tenure.person_name) == ("Ann New", "Ann New")


@pytest.mark.parametrize("late_holders", [1, 6])
def test_posts_as_of_names_late_recorded_holders_in_constant_queries(
    editor: User, django_assert_num_queries: Any, late_holders: int
) -> None:
    """Posts, appointments, people as of then, people first recorded: four queries
    for one holder recorded late or for six."""
    home = unit(editor, "Home")
    for number in range(late_holders):
        post = services.post_create(
            user=editor,
            reason="Post",
            unit=home,
            title=f"Post {number}",
            effective_at=at("2020-01-01"),
        )
        person = services.person_create(
            user=editor,
            reason="Person",
            full_name=f"Person {number}",
            effective_at=at("2021-01-01"),
        )
        services.appointment_start(
            user=editor,
            reason="Appointed",
            person=person,
            post=post,
            started_on=datetime.date(2020, 6, 1),
        )
        services.person_update(
            user=editor,
            reason="Renamed",
            person=person,
            full_name=f"Renamed {number}",
            effective_at=at("2022-01-01"),
        )

    with django_assert_num_queries(4):
        posts = selectors.posts_as_of(at("2020-09-01"))

    assert sorted(post.holder.person_name for post in posts if post.holder) == [
        f"Person {number}" for number in range(late_holders)
    ]


# --- Nothing may link to a unit abolished at the change's time ------------------------


@pytest.fixture
def abolished_in_between(editor: User) -> dict[str, OrganizationalUnit]:
    """Parent (under Root) abolished 2021-01-01, reinstated 2022-01-01; Loose, a top
    level unit; all established 2020-01-01."""
    root = unit(editor, "Root")
    parent = unit(editor, "Parent", root)
    loose = unit(editor, "Loose")
    established = parent.history.order_by("history_id").first()
    services.unit_abolish(
        unit=parent, user=editor, reason="Closed", effective_at=at("2021-01-01")
    )
    services.unit_revert(
        unit=parent,
        history_id=established.history_id,
        user=editor,
        reason="Reopened",
        effective_at=at("2022-01-01"),
    )
    return {"root": root, "parent": parent, "loose": loose}


def test_a_move_under_a_unit_abolished_at_that_time_is_refused(
    editor: User, abolished_in_between: dict[str, OrganizationalUnit]
) -> None:
    units = abolished_in_between

    message = refused(
        lambda: services.unit_move(
            unit=units["loose"],
            new_parent=units["parent"],
            user=editor,
            reason="Under Parent",
            effective_at=at("2021-06-01"),
        ),
        "parent_abolished",
    )

    assert "“Parent” was abolished from 1 January 2021 until it was reinstated" in (
        message
    )


def test_a_move_under_a_unit_abolished_later_in_its_stretch_is_refused(
    editor: User, abolished_in_between: dict[str, OrganizationalUnit]
) -> None:
    """Effective before the abolition: the unit would have reported to an abolished
    unit from 2021-01-01 to 2022-01-01."""
    units = abolished_in_between

    refused(
        lambda: services.unit_move(
            unit=units["loose"],
            new_parent=units["parent"],
            user=editor,
            reason="Under Parent",
            effective_at=at("2020-06-01"),
        ),
        "parent_abolished",
    )


def test_a_move_under_a_unit_reinstated_by_then_is_accepted(
    editor: User, abolished_in_between: dict[str, OrganizationalUnit]
) -> None:
    units = abolished_in_between

    services.unit_move(
        unit=units["loose"],
        new_parent=units["parent"],
        user=editor,
        reason="Under Parent",
        effective_at=at("2022-06-01"),
    )

    tree = selectors.unit_tree_as_of(at("2022-07-01"))
    (root,) = (node for node in tree if node.name == "Root")
    (parent,) = root.children
    assert [child.name for child in parent.children] == ["Loose"]


def test_a_new_unit_under_a_unit_abolished_at_that_time_is_refused(
    editor: User, abolished_in_between: dict[str, OrganizationalUnit]
) -> None:
    refused(
        lambda: unit(editor, "Newcomer", abolished_in_between["parent"], "2021-06-01"),
        "parent_abolished",
    )


def test_a_post_in_a_unit_abolished_at_that_time_is_refused(
    editor: User, abolished_in_between: dict[str, OrganizationalUnit]
) -> None:
    refused(
        lambda: services.post_create(
            user=editor,
            reason="A post",
            unit=abolished_in_between["parent"],
            title="Adviser",
            effective_at=at("2021-06-01"),
        ),
        "parent_abolished",
    )


def test_a_post_moved_to_a_unit_abolished_at_that_time_is_refused(
    editor: User, abolished_in_between: dict[str, OrganizationalUnit]
) -> None:
    post = services.post_create(
        user=editor,
        reason="A post",
        unit=abolished_in_between["root"],
        title="Adviser",
        effective_at=at("2020-06-01"),
    )

    refused(
        lambda: services.post_update(
            post=post,
            user=editor,
            reason="Moved",
            unit=abolished_in_between["parent"],
            effective_at=at("2021-06-01"),
        ),
        "parent_abolished",
    )


def test_a_dotted_line_to_a_unit_abolished_at_that_time_is_refused(
    editor: User, abolished_in_between: dict[str, OrganizationalUnit]
) -> None:
    refused(
        lambda: services.relationship_create(
            user=editor,
            reason="Advises",
            source=abolished_in_between["loose"],
            target=abolished_in_between["parent"],
            kind="advises",
            effective_at=at("2021-06-01"),
        ),
        "parent_abolished",
    )


# --- A backdated abolition sees the sub-units of its time and since -------------------


@pytest.fixture
def left_since(editor: User) -> dict[str, OrganizationalUnit]:
    """Old (under Root) had Child until 2022-01-01, when Child moved to Root."""
    root = unit(editor, "Root")
    old = unit(editor, "Old", root)
    child = unit(editor, "Child", old)
    services.unit_move(
        unit=child,
        new_parent=root,
        user=editor,
        reason="Child to Root",
        effective_at=at("2022-01-01"),
    )
    return {"root": root, "old": old, "child": child}


def test_abolishing_a_unit_that_had_a_sub_unit_at_that_time_is_refused(
    editor: User, left_since: dict[str, OrganizationalUnit]
) -> None:
    message = refused(
        lambda: services.unit_abolish(
            unit=left_since["old"],
            user=editor,
            reason="Closed",
            effective_at=at("2021-06-01"),
        ),
        "has_active_sub_units",
    )

    assert "Child (until 1 January 2022" in message


def test_abolishing_a_unit_whose_sub_unit_was_abolished_later_is_refused(
    editor: User,
) -> None:
    old = unit(editor, "Old")
    child = unit(editor, "Child", old)
    services.unit_abolish(
        unit=child, user=editor, reason="Child closed", effective_at=at("2022-01-01")
    )

    message = refused(
        lambda: services.unit_abolish(
            unit=old, user=editor, reason="Closed", effective_at=at("2021-06-01")
        ),
        "has_active_sub_units",
    )

    assert "Child (until 1 January 2022" in message


def test_abolishing_a_unit_after_its_sub_units_left_is_accepted(
    editor: User, left_since: dict[str, OrganizationalUnit]
) -> None:
    services.unit_abolish(
        unit=left_since["old"],
        user=editor,
        reason="Closed",
        effective_at=at("2022-06-01"),
    )

    assert not OrganizationalUnit.objects.get(pk=left_since["old"].pk).is_active


def test_abolishing_a_unit_with_its_sub_units_at_that_time_still_works(
    editor: User,
) -> None:
    old = unit(editor, "Old")
    unit(editor, "Child", old)

    services.unit_abolish(
        unit=old,
        user=editor,
        reason="Closed",
        sub_units="abolish",
        effective_at=at("2021-06-01"),
    )

    assert not OrganizationalUnit.objects.filter(abolished_on__isnull=True).exists()


# --- A reinstatement is dated like any other change -----------------------------------


@pytest.fixture
def closed(editor: User) -> dict[str, OrganizationalUnit]:
    """Office (under Root) abolished effective 2021-01-01."""
    root = unit(editor, "Root")
    office = unit(editor, "Office", root)
    services.unit_abolish(
        unit=office, user=editor, reason="Closed", effective_at=at("2021-01-01")
    )
    return {"root": root, "office": office}


def test_a_reinstatement_takes_effect_at_its_own_date(
    editor: User, closed: dict[str, OrganizationalUnit]
) -> None:
    services.unit_reinstate(
        unit=closed["office"],
        user=editor,
        reason="Reopened in March",
        effective_at=at("2021-03-01"),
    )

    office = OrganizationalUnit.objects.get(pk=closed["office"].pk)
    assert office.is_active
    assert office.parent_id == closed["root"].pk
    latest = office.history.order_by("-history_date", "-history_id").first()
    assert latest.history_date == at("2021-03-01")
    for day, active in (
        ("2020-06-01", True),
        ("2021-02-01", False),
        ("2021-04-01", True),
    ):
        node = selectors.unit_as_of(office.slug, at(day))
        assert node is not None
        assert node.is_active is active


def test_a_reinstatement_before_the_abolition_is_refused(
    editor: User, closed: dict[str, OrganizationalUnit]
) -> None:
    message = refused(
        lambda: services.unit_reinstate(
            unit=closed["office"],
            user=editor,
            reason="Too early",
            effective_at=at("2020-12-01"),
        ),
        "before_abolition",
    )

    assert "abolished effective 1 January 2021" in message


def test_a_reinstatement_in_the_future_is_refused(
    editor: User, closed: dict[str, OrganizationalUnit]
) -> None:
    refused(
        lambda: services.unit_reinstate(
            unit=closed["office"],
            user=editor,
            reason="Not yet",
            effective_at=datetime.datetime(2999, 1, 1, tzinfo=datetime.UTC),
        ),
        "future_effective_time",
    )


def test_reinstating_an_active_unit_is_refused(
    editor: User, closed: dict[str, OrganizationalUnit]
) -> None:
    refused(
        lambda: services.unit_reinstate(
            unit=closed["root"], user=editor, reason="Nothing to do"
        ),
        "no_change",
    )


def test_a_reinstatement_under_a_parent_abolished_since_then_is_refused(
    editor: User, closed: dict[str, OrganizationalUnit]
) -> None:
    """Root was abolished from 2021-06-01 to 2022-01-01: Office reinstated from
    2021-03-01 would have reported to an abolished unit in between."""
    root = closed["root"]
    established = root.history.order_by("history_id").first()
    services.unit_abolish(
        unit=root, user=editor, reason="Closed", effective_at=at("2021-06-01")
    )
    services.unit_revert(
        unit=root,
        history_id=established.history_id,
        user=editor,
        reason="Reopened",
        effective_at=at("2022-01-01"),
    )

    refused(
        lambda: services.unit_reinstate(
            unit=closed["office"],
            user=editor,
            reason="Reopened in March",
            effective_at=at("2021-03-01"),
        ),
        "parent_abolished",
    )


@pytest.fixture
def post_closed_in_between(editor: User) -> tuple[Post, Person]:
    """Adviser (in Home) abolished 2021-01-01, reinstated 2022-01-01; and Ben."""
    home = unit(editor, "Home")
    post = services.post_create(
        user=editor,
        reason="A post",
        unit=home,
        title="Adviser",
        effective_at=at("2020-01-01"),
    )
    created = post.history.order_by("history_id").first()
    services.post_abolish(
        post=post, user=editor, reason="Closed", effective_at=at("2021-01-01")
    )
    services.post_revert(
        post=Post.objects.get(pk=post.pk),
        history_id=created.history_id,
        user=editor,
        reason="Reopened",
        effective_at=at("2022-01-01"),
    )
    ben = services.person_create(
        user=editor, reason="Ben", full_name="Ben", effective_at=at("2020-01-01")
    )
    return Post.objects.get(pk=post.pk), ben


@pytest.mark.parametrize("started", ["2021-06-01", "2020-06-01"])
def test_an_appointment_through_a_past_abolition_of_its_post_is_refused(
    editor: User, post_closed_in_between: tuple[Post, Person], started: str
) -> None:
    """While the post was abolished, or from before and running through it."""
    post, ben = post_closed_in_between

    message = refused(
        lambda: services.appointment_start(
            user=editor,
            reason="Appointed",
            person=ben,
            post=post,
            started_on=datetime.date.fromisoformat(started),
        ),
        "abolished",
    )

    assert "was abolished from 1 January 2021 until 1 January 2022" in message


def test_an_appointment_after_the_post_was_reinstated_is_accepted(
    editor: User, post_closed_in_between: tuple[Post, Person]
) -> None:
    post, ben = post_closed_in_between

    services.appointment_start(
        user=editor,
        reason="Appointed",
        person=ben,
        post=post,
        started_on=datetime.date(2022, 6, 1),
    )

    assert Appointment.objects.filter(post=post, person=ben).exists()

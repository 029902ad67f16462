"""A page of the change feed over a window that has ended is a past answer: it stays
cached across writes effective after the window, unless they revise a unit, post or
person the page names by its current name, or the page shows what is kept without
history (a reorganization's heading, authors for staff)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.conftest import ReorganizedHistory, at
from tests.factories import AppointmentFactory, PersonFactory, PostFactory, UnitFactory
from units import selectors, services
from units.models import OrganizationalUnit, Post

pytestmark = pytest.mark.django_db
FEED = "/api/v1/changes/"
WINDOW_2015 = {"since": "2015-01-01", "until": "2015-12-31"}


@pytest.fixture
def registry(editor: User) -> dict[str, Any]:
    """Alpha renamed, its post retitled and filled in 2015; Beta unchanged since 2010."""
    alpha: OrganizationalUnit = UnitFactory.create(
        name="Alpha", effective_at=at("2010-01-01"), user=editor
    )
    beta: OrganizationalUnit = UnitFactory.create(
        name="Beta", effective_at=at("2010-01-01"), user=editor
    )
    post: Post = PostFactory.create(
        unit=alpha, title="Head", effective_at=at("2010-01-01"), user=editor
    )
    services.unit_update(
        unit=alpha,
        user=editor,
        reason="r",
        name="Alpha Two",
        effective_at=at("2015-06-01"),
    )
    services.post_update(
        post=post, user=editor, reason="r", title="Chief", effective_at=at("2015-04-01")
    )
    AppointmentFactory.create(
        person=PersonFactory.create(
            full_name="Ana", effective_at=at("2010-01-01"), user=editor
        ),
        post=post,
        started_on=datetime.date(2015, 7, 1),
        effective_at=at("2015-07-01"),
        user=editor,
    )
    return {"alpha": alpha, "beta": beta, "post": post}


def rename(unit: OrganizationalUnit, name: str, editor: User, **when: Any) -> None:
    services.unit_update(unit=unit.pk, user=editor, reason="Renamed", name=name, **when)


def page(client: Client, **query: str) -> Any:
    response = client.get(FEED, {**WINDOW_2015, **query})
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    return response


def test_a_past_window_stays_cached_across_a_write_that_names_nothing_on_it(
    client: Client,
    registry: dict[str, Any],
    editor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    first = page(client)
    assert b"Alpha Two" in first.content and b"Beta" not in first.content
    rename(registry["beta"], "Beta Renamed", editor)

    # One query: is anything recorded since effective in the window, or a revision
    # of a unit, post or person the page names?
    with django_assert_num_queries(1):
        again = page(client)

    assert again["ETag"] == first["ETag"]
    assert again.content == first.content
    # A client holding the page is told it is current.
    assert client.get(
        FEED, WINDOW_2015, HTTP_IF_NONE_MATCH=first["ETag"]
    ).status_code == (HTTPStatus.NOT_MODIFIED)


def test_renaming_a_unit_the_page_names_rebuilds_it(
    client: Client, registry: dict[str, Any], editor: User
) -> None:
    first = page(client)
    rename(registry["alpha"], "Alpha Three", editor)

    again = page(client)
    assert again["ETag"] != first["ETag"]
    # The entry of 2015 names the unit as it is called now.
    assert b"Alpha Three" not in first.content
    assert b"Alpha Three" in again.content


def test_retitling_a_post_the_page_names_rebuilds_it(
    client: Client, registry: dict[str, Any], editor: User
) -> None:
    first = page(client)
    services.post_update(
        post=registry["post"], user=editor, reason="r", title="Director"
    )

    again = page(client)
    assert again["ETag"] != first["ETag"]
    # The appointment of 2015 names the post by its title now; the post's own
    # retitling of 2015 keeps the titles it recorded.
    assert b"Director" not in first.content
    assert b"Director" in again.content
    assert b'"new_title":"Chief"' in again.content


@pytest.mark.parametrize(
    ("effective", "in_window"), [("2015-09-01", True), ("2016-03-01", False)]
)
def test_a_backdated_change_rebuilds_the_page_only_if_it_falls_in_the_window(
    client: Client,
    registry: dict[str, Any],
    editor: User,
    effective: str,
    in_window: bool,
) -> None:
    first = page(client)
    rename(registry["beta"], "Beta Then", editor, effective_at=at(effective))

    again = page(client)
    assert (again["ETag"] != first["ETag"]) is in_window
    assert (b"Beta Then" in again.content) is in_window


def test_staff_and_open_windows_follow_the_generation(
    client: Client, admin_client: Client, registry: dict[str, Any], editor: User
) -> None:
    # Staff pages show authors (usernames change without history); a window
    # without an end takes in what is recorded next.
    staff_first = page(admin_client)
    open_first = client.get(FEED, {"since": "2015-01-01"})
    rename(registry["beta"], "Beta Renamed", editor)

    assert page(admin_client)["ETag"] != staff_first["ETag"]
    assert client.get(FEED, {"since": "2015-01-01"})["ETag"] != open_first["ETag"]


def test_a_page_showing_a_reorganization_is_rebuilt_after_any_write(
    client: Client, reorganized_history: ReorganizedHistory, editor: User
) -> None:
    window = {
        "since": reorganized_history.since.isoformat(),
        "until": timezone.now().isoformat(),
    }
    first = client.get(FEED, window)
    assert b'"reorganization"' in first.content
    # A unit the page does not name, effective after the window.
    other = UnitFactory.create(name="Elsewhere", user=editor)
    rename(other, "Elsewhere Renamed", editor)

    assert client.get(FEED, window)["ETag"] != first["ETag"]


def test_a_stamp_check_refuses_objects_whose_revisions_it_cannot_tell(
    registry: dict[str, Any],
) -> None:
    stamp = selectors.stamp_now()
    named = selectors.CurrentReads((("units.organizationalunit", frozenset({1})),))
    assert selectors.still_valid(stamp, at("2015-12-31"), named) == stamp
    unknown = selectors.CurrentReads((("auth.user", frozenset({1})),))
    assert selectors.still_valid(stamp, at("2015-12-31"), unknown) is None


def test_a_stamp_check_pinned_to_a_generation_fails_after_any_write(
    registry: dict[str, Any], editor: User
) -> None:
    stamp = selectors.stamp_now()
    pinned = selectors.CurrentReads(generation=selectors.registry_generation())
    assert selectors.still_valid(stamp, at("2015-12-31"), pinned) == stamp
    rename(registry["beta"], "Beta Renamed", editor)
    assert selectors.still_valid(stamp, at("2015-12-31"), pinned) is None
    assert selectors.still_valid(stamp, at("2015-12-31")) is not None

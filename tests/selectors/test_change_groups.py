"""The change feed gathers a reorganization's changes, pages without splitting them,
and keeps what ``type`` and ``unit`` ask for (units/selectors/change_groups.py,
change_feed.py, changes/selection.py)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import ReorganizedHistory
from units.models import OrganizationalUnit, Person, Post
from units.selectors import (
    Change,
    ChangeGroup,
    ChangePage,
    FeedFilter,
    changes_between,
    changes_page,
    changes_page_before,
    grouped_by_reorganization,
)

pytestmark = pytest.mark.django_db


def window(history: ReorganizedHistory) -> tuple[datetime.datetime, datetime.datetime]:
    return history.since, timezone.now()


def place(change: Change) -> tuple[int, str]:
    return (change.history_id, change.kind)


def test_a_reorganizations_changes_are_one_entry_the_others_stay_single(
    reorganized_history: ReorganizedHistory,
) -> None:
    history = reorganized_history
    changes = changes_between(*window(history))
    entries = grouped_by_reorganization(changes)

    groups = [entry for entry in entries if isinstance(entry, ChangeGroup)]
    assert [group.reorganization.title for group in groups] == [
        "Move five units",
        "Rename one",
        "To Lisbon",
    ]
    public = groups[0]
    assert public.reorganization.id == history.public.pk
    assert public.reorganization.reference == "DG bulletin 2026/14"
    assert public.reorganization.reason == "Bulletin on Rome"
    assert public.reorganization.author == "editor"
    assert public.effective_at == history.public.effective_at
    assert [change.object_slug for change in public.changes] == [
        f"u{number}" for number in range(2, 7)
    ]
    assert {change.kind for change in public.changes} == {"location_changed"}
    singles = [entry for entry in entries if isinstance(entry, Change)]
    assert all(change.reorganization_id is None for change in singles)
    # Every change is in exactly one entry, in feed order.
    flattened = [
        change
        for entry in entries
        for change in (entry.changes if isinstance(entry, ChangeGroup) else [entry])
    ]
    assert [place(change) for change in flattened] == [place(c) for c in changes]


def pages_forward(history: ReorganizedHistory, limit: int) -> list[ChangePage]:
    pages = [changes_page(*window(history), limit=limit)]
    while pages[-1].later is not None:
        pages.append(changes_page(*window(history), after=pages[-1].later, limit=limit))
    return pages


def pages_back(history: ReorganizedHistory, limit: int) -> list[ChangePage]:
    pages = [changes_page_before(*window(history), limit=limit)]
    while pages[-1].earlier is not None:
        pages.append(
            changes_page_before(*window(history), before=pages[-1].earlier, limit=limit)
        )
    return pages[::-1]


def reorganizations_on(page: ChangePage) -> set[int]:
    return {c.reorganization_id for c in page.changes if c.reorganization_id}


@pytest.mark.parametrize("read", [pages_forward, pages_back])
@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6, 9])
def test_pages_hold_whole_reorganizations_unless_one_fills_a_page(
    reorganized_history: ReorganizedHistory, read, limit: int
) -> None:
    history = reorganized_history
    pages = read(history, limit)
    every = changes_between(*window(history))
    assert [place(c) for page in pages for c in page.changes] == [
        place(c) for c in every
    ]
    assert all(page.changes for page in pages)
    assert all(len(page.changes) <= limit for page in pages)
    ids = set().union(*(reorganizations_on(page) for page in pages))
    for reorganization in ids:
        holding = [page for page in pages if reorganization in reorganizations_on(page)]
        if len(holding) == 1:
            continue
        # Split only where its changes alone fill a page: every page holding it but
        # the one where it ends (reading on) or begins (reading back) holds only it.
        assert limit < 5
        whole = holding[:-1] if read is pages_forward else holding[1:]
        for page in whole:
            assert reorganizations_on(page) == {reorganization}
            assert all(c.reorganization_id for c in page.changes)
            assert len(page.changes) == limit


def test_a_page_ending_inside_a_reorganization_ends_before_it(
    reorganized_history: ReorganizedHistory,
) -> None:
    history = reorganized_history
    every = changes_between(*window(history))
    first_of_public = next(
        index
        for index, change in enumerate(every)
        if change.reorganization_id == history.public.pk
    )
    # A page that could hold the single changes and two of the five.
    page = changes_page(*window(history), limit=first_of_public + 2)
    assert len(page.changes) == first_of_public
    assert reorganizations_on(page) == set()
    following = changes_page(*window(history), after=page.later, limit=7)
    assert [c.reorganization_id for c in following.changes[:5]] == [
        history.public.pk
    ] * 5


def test_type_reorganization_keeps_their_changes_against_the_true_previous_state(
    reorganized_history: ReorganizedHistory,
) -> None:
    history = reorganized_history
    page = changes_page(
        *window(history), limit=50, only=FeedFilter(type="reorganization")
    )
    assert {c.reorganization_id for c in page.changes} == {
        history.public.pk,
        history.internal.pk,
        history.later.pk,
    }
    lisbon = page.changes[-1]
    # u2 went to Paris by a single change (not listed) between the two: the change
    # to Lisbon is read against it, not against the reorganization before.
    assert lisbon.details["old"] == "Paris"
    assert lisbon.details["new"] == "Lisbon"
    back = changes_page_before(
        *window(history), limit=50, only=FeedFilter(type="reorganization")
    )
    assert [place(c) for c in back.changes] == [place(c) for c in page.changes]


@pytest.mark.parametrize("object_type", ["unit", "post"])
def test_type_keeps_one_kind_of_object(
    reorganized_history: ReorganizedHistory, object_type: str
) -> None:
    page = changes_page(
        *window(reorganized_history), limit=100, only=FeedFilter(type=object_type)
    )
    every = changes_between(*window(reorganized_history))
    assert [place(c) for c in page.changes] == [
        place(c) for c in every if c.object_type == object_type
    ]


def test_unit_keeps_a_units_changes_and_with_unit_posts_its_posts(
    reorganized_history: ReorganizedHistory,
) -> None:
    history = reorganized_history
    u1 = history.units["u1"].pk
    every = changes_between(*window(history))
    own = changes_page(*window(history), limit=100, only=FeedFilter(unit_id=u1))
    assert [place(c) for c in own.changes] == [
        place(c) for c in every if c.object_type == "unit" and c.object_id == u1
    ]
    assert [c.kind for c in own.changes] == ["added", "location_changed", "renamed"]
    with_posts = changes_page(
        *window(history), limit=100, only=FeedFilter(unit_id=u1, unit_posts=True)
    )
    assert [place(c) for c in with_posts.changes] == [
        place(c)
        for c in every
        if (c.object_type, c.object_id) in {("unit", u1), ("post", history.post.pk)}
    ]


def test_a_filter_refuses_an_unknown_type() -> None:
    with pytest.raises(ValueError, match="Not a type of the change feed"):
        FeedFilter(type="department")


@pytest.mark.parametrize("model", [OrganizationalUnit, Post, Person])
def test_type_reorganization_reads_their_revisions_by_the_feed_order_index(
    reorganized_history: ReorganizedHistory, model: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL plans tiny tables by cost, whatever the indexes.")
    since, until = window(reorganized_history)
    plan = (
        model.history.filter(
            history_date__gt=since,
            history_date__lte=until,
            reorganization__isnull=False,
        )
        .order_by("history_date", "history_id")
        .values("history_id")[:10]
        .explain()
    )
    assert "_feed_reorganizations" in plan
    assert "TEMP B-TREE" not in plan

"""A correction that only removes a change (back to the earlier value) is still seen.

Written with the real services: a revert in "Correct the record" mode, and a plain
update backdated to the mistake's own time. Either leaves, at the mistake's instant, a
row equal to the version before it: nothing changed against that version, yet the
registry corrected what it had said. Histories, the timeline and the change feed show
it as a change from the mistaken value, marked "corrected on <date>: was <mistake>";
the row that carries the correction forward to a later revision shows only that
revision's own change.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import at
from tests.factories import UnitFactory
from units import selectors, services
from units.models import OrganizationalUnit
from units.selectors.as_of import reading_as_known_at

pytestmark = pytest.mark.django_db

BEGINNING = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)
JAN, MAR, JUN = at("2024-01-10"), at("2024-03-01"), at("2024-06-01")
API = "/api/v1/"


def revert_correcting(unit: OrganizationalUnit, user: User) -> None:
    original = unit.history.order_by("history_date", "history_id").first()
    assert original is not None
    services.unit_revert(
        unit=unit,
        history_id=original.history_id,
        user=user,
        reason="The rename never happened",
        mode="correct",
    )


def backdated_update(unit: OrganizationalUnit, user: User) -> None:
    services.unit_update(
        unit=unit,
        user=user,
        reason="The rename never happened",
        effective_at=MAR,
        name="Archives",
    )


# How the feed words each: a revert is a revert ("reverted", what it did in its
# details), a plain update by what it changed.
KINDS = {revert_correcting: "reverted", backdated_update: "renamed"}
REMOVALS = pytest.mark.parametrize(
    "remove", [revert_correcting, backdated_update], ids=["revert", "backdated"]
)


def mistaken(user: User) -> tuple[OrganizationalUnit, datetime.datetime]:
    """A unit made in January, renamed by mistake in March, its mandate changed in
    June; and an instant after these writes (before any correction)."""
    unit = UnitFactory.create(
        user=user, name="Archives", mandate="Keeps.", effective_at=JAN
    )
    services.unit_update(
        unit=unit,
        user=user,
        reason="Renamed",
        effective_at=MAR,
        name="Archive Services",
    )
    services.unit_update(
        unit=unit, user=user, reason="Mandate", effective_at=JUN, mandate="Keeps all."
    )
    return unit, timezone.now()


def removed(
    remove: Callable[[OrganizationalUnit, User], None], user: User
) -> tuple[OrganizationalUnit, datetime.datetime, datetime.datetime]:
    """``mistaken``, then the rename removed; also the correction's recorded time."""
    unit, before = mistaken(user)
    remove(unit, user)
    correction = unit.history.order_by("history_id").filter(
        corrects_revision__isnull=False
    )[0]
    assert correction.history_date == MAR
    assert correction.name == "Archives"
    return unit, before, correction.recorded_at


def _unit_feed(changes: list) -> list[tuple]:
    return [
        (change.effective_at, change.kind, change.correction is not None)
        for change in changes
        if change.object_type == "unit"
    ]


@REMOVALS
def test_the_history_shows_the_removed_change_marked_corrected(remove, editor) -> None:
    unit, before, recorded = removed(remove, editor)
    history = {
        revision.effective_at: revision for revision in selectors.unit_history(unit)
    }
    assert list(history) == [JUN, MAR, JAN]
    (change,) = history[MAR].changes
    assert change.field == "name"
    assert (change.old_display, change.new_display) == ("Archive Services", "Archives")
    assert change.corrected_on == recorded
    assert change.was_display == "Archive Services"
    # June's row only carries the correction forward: its own change alone.
    assert [change.field for change in history[JUN].changes] == ["mandate"]
    assert all(change.corrected_on is None for change in history[JUN].changes)
    # As known before the correction: the mistake, unmarked.
    with reading_as_known_at(before):
        earlier = {r.effective_at: r for r in selectors.unit_history(unit)}
    (mistake,) = earlier[MAR].changes
    assert (mistake.new_display, mistake.corrected_on) == ("Archive Services", None)


@REMOVALS
def test_the_timeline_shows_it(remove, editor) -> None:
    unit, _before, recorded = removed(remove, editor)
    (entry,) = [
        entry
        for entry in selectors.unit_timeline(unit.pk)
        if entry.revision is not None and entry.effective_at == MAR
    ]
    assert entry.revision is not None
    (change,) = entry.revision.changes
    assert (change.field, change.corrected_on) == ("name", recorded)


def test_the_timeline_shows_a_sub_units_move_removed(editor) -> None:
    """A move into the unit by mistake, corrected away: the parent's timeline shows
    the sub-unit leaving at that instant, marked corrected (as known before: joining)."""
    parent = UnitFactory.create(user=editor, name="Directorate", effective_at=JAN)
    child = UnitFactory.create(user=editor, name="Desk", effective_at=JAN)
    services.unit_move(
        unit=child, user=editor, reason="Moved", new_parent=parent, effective_at=MAR
    )
    before = timezone.now()
    original = child.history.order_by("history_date", "history_id").first()
    assert original is not None
    services.unit_revert(
        unit=child,
        history_id=original.history_id,
        user=editor,
        reason="Never moved",
        mode="correct",
    )
    moves = [
        (entry.effective_at, entry.sub_unit, entry.change.correction is not None)
        for entry in selectors.unit_timeline(parent.pk)
        if entry.change is not None
    ]
    assert moves == [(MAR, "left", True)]
    with reading_as_known_at(before):
        moves = [
            (entry.effective_at, entry.sub_unit, entry.change.correction is not None)
            for entry in selectors.unit_timeline(parent.pk)
            if entry.change is not None
        ]
    assert moves == [(MAR, "joined", False)]


@REMOVALS
def test_the_feed_shows_it_marked_at_its_effective_time(remove, editor) -> None:
    _unit, before, recorded = removed(remove, editor)
    page = selectors.changes_page(BEGINNING, selectors.LATEST, limit=50)
    assert _unit_feed(page.changes) == [
        (JAN, "added", False),
        (MAR, KINDS[remove], True),
        (JUN, "mandate_changed", False),
    ]
    renamed = page.changes[1]
    assert renamed.correction is not None
    assert renamed.correction.corrected_on == recorded
    assert renamed.correction.previous == {"name": "Archive Services"}
    assert renamed.correction.previous_display == {"name": "Archive Services"}
    assert _unit_feed(
        selectors.changes_between(BEGINNING, selectors.LATEST)
    ) == _unit_feed(page.changes)
    assert _unit_feed(
        selectors.changes_page_before(BEGINNING, selectors.LATEST, limit=50).changes
    ) == _unit_feed(page.changes)
    # As known before the correction: the mistake, unmarked.
    with reading_as_known_at(before):
        earlier = selectors.changes_page(BEGINNING, selectors.LATEST, limit=50)
    assert _unit_feed(earlier.changes) == [
        (JAN, "added", False),
        (MAR, "renamed", False),
        (JUN, "mandate_changed", False),
    ]


@REMOVALS
def test_the_recorded_time_views_show_it(remove, editor) -> None:
    _unit, before, _recorded = removed(remove, editor)
    learned = selectors.FeedFilter(recorded_since=before)
    page = selectors.changes_page(BEGINNING, selectors.LATEST, limit=50, only=learned)
    assert _unit_feed(page.changes) == [(MAR, KINDS[remove], True)]
    latest = selectors.changes_latest_recorded(BEGINNING, selectors.LATEST, limit=10)
    assert _unit_feed(latest)[0] == (MAR, KINDS[remove], True)
    assert [kind for _, kind, corrected in _unit_feed(latest) if corrected] == [
        KINDS[remove]
    ]


def test_the_api_feed_and_history_show_it(client, editor) -> None:
    unit, before, _recorded = removed(revert_correcting, editor)
    body = client.get(f"{API}changes/").json()
    (entry,) = [
        entry
        for entry in body["results"]
        if entry["object"]["type"] == "unit"
        and entry["effective_at"][:10] == "2024-03-01"
    ]
    assert entry["kind"] == "reverted"
    assert entry["details"]["kinds"] == ["renamed"]
    assert entry["correction"]["previous"] == {"name": "Archive Services"}
    learned = client.get(f"{API}changes/", {"recorded_since": before.isoformat()})
    assert [item["kind"] for item in learned.json()["results"]] == ["reverted"]
    history = client.get(f"{API}units/{unit.slug}/history/")
    assert history.status_code == HTTPStatus.OK
    march = next(
        v for v in history.json()["results"] if v["effective_at"].startswith("2024-03")
    )
    (change,) = march["changes"]
    assert (change["old"], change["new"]) == ("Archive Services", "Archives")
    assert change["was_display"] == "Archive Services"
    page = client.get(f"/units/{unit.slug}/").content.decode()
    assert "was Archive Services" in page


def test_reads_cost_the_same_with_a_removal(editor) -> None:
    """History, timeline and feed: the same query count before and after."""
    unit, _before = mistaken(editor)

    def counts() -> list[int]:
        reads = [
            lambda: selectors.unit_history(unit),
            lambda: selectors.unit_timeline(unit.pk),
            lambda: selectors.changes_page(BEGINNING, selectors.LATEST, limit=50),
        ]
        numbers = []
        for read in reads:
            with CaptureQueriesContext(connection) as queries:
                read()
            numbers.append(len(queries))
        return numbers

    plain = counts()
    revert_correcting(unit, editor)
    corrected = counts()
    # The feed reads the rows corrected (one query more per table with corrections).
    assert corrected == [plain[0], plain[1], plain[2] + 1]
    for number in range(3):
        other = UnitFactory.create(user=editor, name=f"Desk {number}", effective_at=JAN)
        services.unit_update(
            unit=other, user=editor, reason="Renamed", effective_at=MAR, name="Typo"
        )
        revert_correcting(other, editor)
    assert counts() == corrected

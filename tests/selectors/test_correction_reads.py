"""Corrections as histories and the change feed read them (issue 14, "show corrections").

The correction rows are written by ``tests.factories.write_correction`` exactly as the
design has the corrections service write them, so these reads are checked on that data
model whoever writes it.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import UnitFactory, editor_user, write_correction
from units import selectors, services
from units.models import OrganizationalUnit
from units.selectors.as_of import reading_as_known_at
from units.selectors.results import Change

BEGINNING = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)

pytestmark = pytest.mark.django_db

JAN = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
MAR = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
APR = datetime.datetime(2024, 4, 1, tzinfo=datetime.UTC)
MAY = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)


def scripted_unit() -> tuple[OrganizationalUnit, datetime.datetime, datetime.datetime]:
    """A unit made in January, its mandate changed in April and renamed in May, then
    (recorded later) corrected: renamed in March to "Budget office".

    Returns the unit, an instant after the ordinary writes and before the correction,
    and the correction's recorded time.
    """
    unit = UnitFactory.create(name="Finance", mandate="Counts.", effective_at=JAN)
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="New mandate",
        effective_at=APR,
        mandate="Counts and pays.",
    )
    services.unit_update(
        unit=unit,
        user=editor_user(),
        reason="Renamed",
        effective_at=MAY,
        name="Treasury",
    )
    before = timezone.now()
    recorded = before + datetime.timedelta(days=1)
    write_correction(unit, MAR, recorded, name="Budget office")
    return unit, before, recorded


def test_the_correction_rows_follow_the_design() -> None:
    unit, _before, recorded = scripted_unit()
    rows = list(
        OrganizationalUnit.history.filter(id=unit.pk)
        .order_by("history_id")
        .values("history_date", "recorded_at", "name", "mandate", "corrects_revision")
    )
    # January, April, May; then March (corrects January) and April restated (corrects
    # April); May changed the name itself, so the correction stops there.
    assert [(row["history_date"], row["name"]) for row in rows] == [
        (JAN, "Finance"),
        (APR, "Finance"),
        (MAY, "Treasury"),
        (MAR, "Budget office"),
        (APR, "Budget office"),
    ]
    assert all(row["recorded_at"] == recorded for row in rows[3:])
    assert all(row["corrects_revision"] is not None for row in rows[3:])
    assert OrganizationalUnit.objects.get(pk=unit.pk).name == "Treasury"


def test_history_as_known_now_shows_the_correction_once_and_no_restatement() -> None:
    unit, _before, recorded = scripted_unit()
    history = selectors.unit_history(unit)
    assert [revision.effective_at for revision in history] == [MAY, APR, MAR, JAN]
    may, april, march, _january = history
    # March: renamed, marked as corrected on the day it was recorded, was "Finance".
    (renamed,) = march.changes
    assert (renamed.field, renamed.old, renamed.new) == (
        "name",
        "Finance",
        "Budget office",
    )
    assert renamed.corrected_on == recorded
    assert renamed.was_display == "Finance"
    assert march.corrected_on == recorded
    # April's restated row shows April's own change alone, unmarked.
    assert [change.field for change in april.changes] == ["mandate"]
    assert all(change.corrected_on is None for change in april.changes)
    # Its state was corrected though (the name it carries), which the version says.
    assert [(item.field, item.was_display) for item in april.corrections] == [
        ("name", "Finance")
    ]
    # May's rename now reads from the corrected name.
    assert [(change.old, change.new) for change in may.changes] == [
        ("Budget office", "Treasury")
    ]


def test_history_as_known_before_the_correction_is_what_the_registry_said() -> None:
    unit, before, recorded = scripted_unit()
    with reading_as_known_at(before):
        history = selectors.unit_history(unit)
    assert [revision.effective_at for revision in history] == [MAY, APR, JAN]
    assert all(not revision.corrections for revision in history)
    assert [(change.old, change.new) for change in history[0].changes] == [
        ("Finance", "Treasury")
    ]
    with reading_as_known_at(recorded):
        assert len(selectors.unit_history(unit)) == 4


def test_history_queries_do_not_grow_with_corrections(
    django_assert_num_queries,
) -> None:
    unit, _before, recorded = scripted_unit()
    with django_assert_num_queries(1):
        selectors.unit_history(unit)
    write_correction(
        unit,
        JAN + datetime.timedelta(days=10),
        recorded + datetime.timedelta(days=1),
        mandate="Counts carefully.",
    )
    with django_assert_num_queries(1):
        history = selectors.unit_history(unit)
    assert len(history) == 5


def _unit_feed(changes: list) -> list[tuple]:
    return [
        (change.effective_at, change.kind, change.correction is not None)
        for change in changes
        if change.object_type == "unit"
    ]


def test_the_feed_shows_a_correction_once_at_its_effective_time() -> None:
    unit, _before, recorded = scripted_unit()
    page = selectors.changes_page(BEGINNING, selectors.LATEST, limit=50)
    assert _unit_feed(page.changes) == [
        (JAN, "added", False),
        (MAR, "renamed", True),
        (APR, "mandate_changed", False),
        (MAY, "renamed", False),
    ]
    correction = page.changes[1].correction
    assert correction is not None
    assert correction.corrected_on == recorded
    assert correction.previous == {"name": "Finance"}
    assert page.changes[3].summary.startswith("Budget office")
    # The whole window at once reads the same.
    assert _unit_feed(
        selectors.changes_between(BEGINNING, selectors.LATEST)
    ) == _unit_feed(page.changes)


def test_the_feed_as_known_before_the_correction_is_what_it_said() -> None:
    _unit, before, _recorded = scripted_unit()
    with reading_as_known_at(before):
        page = selectors.changes_page(BEGINNING, selectors.LATEST, limit=50)
    assert _unit_feed(page.changes) == [
        (JAN, "added", False),
        (APR, "mandate_changed", False),
        (MAY, "renamed", False),
    ]


def test_paging_one_change_at_a_time_reads_the_same_changes() -> None:
    scripted_unit()
    whole = selectors.changes_page(BEGINNING, selectors.LATEST, limit=50)
    seen, after = [], None
    while True:
        page = selectors.changes_page(BEGINNING, selectors.LATEST, after=after, limit=1)
        seen.extend(page.changes)
        if page.later is None:
            break
        after = page.later
    assert [(c.history_id, c.kind) for c in seen] == [
        (c.history_id, c.kind) for c in whole.changes
    ]
    back: list[Change] = []
    before = None
    while True:
        page = selectors.changes_page_before(
            BEGINNING, selectors.LATEST, before=before, limit=1
        )
        back = page.changes + back
        if page.earlier is None:
            break
        before = page.earlier
    assert [(c.history_id, c.kind) for c in back] == [
        (c.history_id, c.kind) for c in whole.changes
    ]


def test_the_recorded_window_holds_what_was_learned_then() -> None:
    _unit, before, recorded = scripted_unit()
    learned = selectors.FeedFilter(recorded_since=before)
    page = selectors.changes_page(BEGINNING, selectors.LATEST, limit=50, only=learned)
    # The correction alone: April's restated row records nothing new.
    assert _unit_feed(page.changes) == [(MAR, "renamed", True)]
    earlier = selectors.FeedFilter(recorded_until=before)
    page = selectors.changes_page(BEGINNING, selectors.LATEST, limit=50, only=earlier)
    assert _unit_feed(page.changes) == [
        (JAN, "added", False),
        (APR, "mandate_changed", False),
        (MAY, "renamed", False),
    ]
    back = selectors.changes_page_before(
        BEGINNING, selectors.LATEST, limit=50, only=learned
    )
    assert _unit_feed(back.changes) == [(MAR, "renamed", True)]
    assert (
        selectors.changes_page(
            BEGINNING,
            selectors.LATEST,
            limit=50,
            only=selectors.FeedFilter(recorded_since=recorded),
        ).changes
        == []
    )


def test_a_feed_page_costs_the_same_however_many_corrections_it_holds() -> None:
    """One query more per table some of whose rows on the page are corrections (the
    rows they correct), whatever their number."""
    _unit, before, recorded = scripted_unit()
    learned = selectors.FeedFilter(recorded_since=before)

    def page_queries(only: selectors.FeedFilter) -> int:
        with CaptureQueriesContext(connection) as queries:
            selectors.changes_page(BEGINNING, selectors.LATEST, limit=50, only=only)
        return len(queries)

    with reading_as_known_at(before):
        plain = page_queries(selectors.FeedFilter())
    counts = [page_queries(selectors.FeedFilter()), page_queries(learned)]
    for number in range(3):
        other = UnitFactory.create(name=f"Audit {number}", effective_at=JAN)
        write_correction(other, APR, recorded, name=f"Internal audit {number}")
    assert [page_queries(selectors.FeedFilter()), page_queries(learned)] == counts
    assert counts[0] == plain + 1


def test_the_timeline_shows_a_corrected_move_once_where_it_took_effect() -> None:
    """A sub-unit's move corrected to an earlier time: the parent's timeline shows it
    joining once, at the corrected time, marked; as known before, at the old time."""
    parent = UnitFactory.create(name="Directorate", effective_at=JAN)
    child = UnitFactory.create(name="Desk", effective_at=JAN)
    services.unit_update(
        unit=child,
        user=editor_user(),
        reason="Moved",
        effective_at=MAY,
        new_parent=parent,
    )
    services.unit_update(
        unit=child,
        user=editor_user(),
        reason="New mandate",
        effective_at=APR + datetime.timedelta(days=45),
        mandate="Helps.",
    )
    before = timezone.now()
    write_correction(
        child, MAR, before + datetime.timedelta(days=1), parent_id=parent.pk
    )

    def joined() -> list[tuple[datetime.datetime, bool]]:
        return [
            (entry.effective_at, entry.change.correction is not None)
            for entry in selectors.unit_timeline(parent.pk)
            if entry.sub_unit == "joined" and entry.change is not None
        ]

    assert joined() == [(MAR, True)]
    with reading_as_known_at(before):
        assert joined() == [(MAY, False)]


def test_the_revisions_written_since_a_version_hold_a_whole_correction() -> None:
    """The admin's conflict note: a correction is one write of several rows."""
    unit, _before, recorded = scripted_unit()
    loaded = OrganizationalUnit.objects.get(pk=unit.pk).version - 1
    since = selectors.unit_revisions_since(unit.pk, loaded)
    assert [revision.effective_at for revision in since] == [APR, MAR]
    assert all(revision.recorded_at == recorded for revision in since)
    assert [
        r.effective_at for r in selectors.unit_revisions_since(unit.pk, loaded - 1)
    ] == [
        MAY,
        APR,
        MAR,
    ]

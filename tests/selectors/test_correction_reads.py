"""Corrections as histories and the change feed read them (issue 14, "show corrections").

The correction rows are written by ``tests.factories.write_correction`` exactly as the
design has the corrections service write them, so these reads are checked on that data
model whoever writes it.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import UnitFactory, editor_user, write_correction
from units import selectors, services
from units.models import OrganizationalUnit
from units.selectors.as_of import reading_as_known_at

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

"""The registry as planned: scheduled reorganizations applied, then rolled back.

A read as of a future instant, or the preview of a draft, must see the structure as it
will stand. Rather than a second, "planned" reading of every kind of object, the
approved reorganizations due by then are applied for real, through the same services
as their application (``tryout.run_operations``), inside a transaction that is always
rolled back once the read is answered. Their history rows carry their future effective
times, so the one as-of engine (``selectors.as_of``) reads them unchanged.

The try-out writes, so it holds the registry lock (as every writer does) and must run
on the primary database; the middleware that wraps planned reads
(``orgregistry.planned_reads``) sends such requests there and caches their answers.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator

from django.db import transaction

from units.models import Reorganization, ReorganizationStatus
from units.selectors import (
    Change,
    changes_page,
    stamp_now,
    stamp_position,
)
from units.selectors.changes.entries import OBJECT_TYPES
from units.selectors.planned import Plan, reading_plan
from units.selectors.reorganizations import due_reorganizations
from units.services.reorganizations.problems import Problem
from units.services.reorganizations.records import require_status
from units.services.reorganizations.tryout import TryOut, run_operations
from units.services.revisions import lock_registry

# What a preview may show: a reorganization not yet applied, nor given up.
PREVIEWABLE = (
    ReorganizationStatus.DRAFT,
    ReorganizationStatus.SUBMITTED,
    ReorganizationStatus.APPROVED,
)
# Changes a preview lists: far more than a reorganization's operations make.
PREVIEW_CHANGES = 1000
# Which entry of a freshness stamp holds the newest history id of each kind of object.
_STAMP_INDEX = {
    object_type: stamp_position(model) for model, object_type in OBJECT_TYPES.items()
}


def _apply_whole(reorganization: Reorganization) -> list[Problem]:
    """Apply it all in a savepoint, or nothing of it (as its application would)."""
    problems: list[Problem] = []
    try:
        with transaction.atomic():
            problems = run_operations(reorganization)
            if problems:
                raise TryOut
    except TryOut:
        pass
    return problems


@contextlib.contextmanager
def registry_as_planned(
    until: datetime.datetime, *, also: Reorganization | None = None
) -> Iterator[Plan]:
    """Within: the registry with the approved reorganizations due by ``until`` applied
    (and ``also``, a draft or submitted one, after them: a preview); all rolled back.

    A scheduled reorganization that would fail leaves nothing and is not in the plan;
    a previewed one that would fail leaves nothing and its problems are in the plan.
    """
    if also is not None:
        require_status(also, *PREVIEWABLE, step="previewed")
    with transaction.atomic():
        lock_registry()
        applied = []
        scheduled = due_reorganizations(until).select_related("author")
        if also is not None:
            scheduled = scheduled.exclude(pk=also.pk)
        for reorganization in scheduled:
            if not _apply_whole(reorganization):
                applied.append(reorganization)
        plan = Plan(until, applied)
        if also is not None:
            before = stamp_now()
            plan = Plan(
                until,
                applied,
                previewed=also,
                preview_problems=_apply_whole(also),
                preview_stamp=before,
            )
        try:
            with reading_plan(plan):
                yield plan
        finally:
            transaction.set_rollback(True)


def previewed_changes(plan: Plan) -> list[Change]:
    """What the previewed reorganization changes: the compare view's changes between
    before and after it, i.e. the change feed's entries of the revisions it wrote.

    Read inside ``registry_as_planned(..., also=...)``; empty if it does not apply.
    """
    reorganization, before = plan.previewed, plan.preview_stamp
    if reorganization is None or before is None or plan.preview_problems:
        return []
    when = reorganization.effective_at
    page = changes_page(
        when - datetime.timedelta(microseconds=1), when, limit=PREVIEW_CHANGES
    )
    return [
        change
        for change in page.changes
        if change.history_id > before[_STAMP_INDEX[change.object_type]]
    ]

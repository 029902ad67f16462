"""Applying approved reorganizations at their time: the task, the catch-up, the schedule."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from units.models import Reorganization
from units.selectors.reorganizations import (
    due_reorganizations,
    next_due_reorganization_at,
    remember_next_due,
)
from units.services.reorganizations.problems import Problem, Status
from units.services.reorganizations.records import locked, record
from units.services.reorganizations.tryout import TryOut, run_operations
from units.services.revisions import lock_registry, mark_registry_changed


def schedule(reorganization: Reorganization) -> None:
    """Enqueue the task that applies it at its time, in this same transaction."""
    from units.tasks import apply_due_reorganizations_task

    apply_due_reorganizations_task.using(
        run_after=reorganization.effective_at
    ).enqueue()
    refresh_next_due()


def refresh_next_due() -> None:
    # Now (this process sees its own writes) and after the commit (every process does).
    remember_next_due()
    transaction.on_commit(remember_next_due)


@transaction.atomic
def reorganization_apply(*, reorganization: Reorganization | int) -> Reorganization:
    """Apply an approved reorganization: every operation, or none and "failed".

    Run by the approval (when due), the task at its time and the catch-up before reads;
    whichever comes second finds it applied and does nothing.
    """
    lock_registry()
    reorganization = locked(reorganization)
    if reorganization.status != Status.APPROVED:
        return reorganization
    problems: list[Problem] = []
    try:
        with transaction.atomic():
            problems = run_operations(reorganization)
            if problems:
                raise TryOut
    except TryOut:
        pass
    if problems:
        reorganization.status = Status.FAILED
        reorganization.problems = problems
        record(reorganization, None, "Failed: it no longer applies")
        # Nothing of it was written, but the feed lists it to staff from now on.
        mark_registry_changed()
    else:
        reorganization.status = Status.APPLIED
        reorganization.applied_at = timezone.now()
        reorganization.problems = []
        record(reorganization, None, "Applied")
    refresh_next_due()
    return reorganization


def apply_due_reorganizations(
    now: datetime.datetime | None = None,
) -> list[Reorganization]:
    """Apply every approved reorganization whose time has come, earliest first."""
    now = now or timezone.now()
    return [
        reorganization_apply(reorganization=pk)
        for pk in list(due_reorganizations(now).values_list("pk", flat=True))
    ]


def catch_up_reorganizations() -> None:
    """Before a read: apply what is due, so no read shows the structure it replaces.

    A cache read when nothing is due (see ``next_due_reorganization_at``).
    """
    due = next_due_reorganization_at()
    if due is not None and due <= timezone.now():
        apply_due_reorganizations()
        remember_next_due()

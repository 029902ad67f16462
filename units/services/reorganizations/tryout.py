"""Trying a reorganization's operations out, in a transaction that is rolled back."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from units.models import Reorganization
from units.selectors.reorganizations import due_reorganizations
from units.services.refusals import refusal_code
from units.services.reorganizations.lineage_operations import conflict_note
from units.services.reorganizations.operations import APPLY
from units.services.reorganizations.payloads import check_payload
from units.services.reorganizations.problems import Problem
from units.services.revisions import Write, lock_registry, writing_for


class TryOut(Exception):
    """Raised to roll back a try-out's transaction once its problems are known."""


def run_operations(reorganization: Reorganization) -> list[Problem]:
    """Apply each operation in its own savepoint; return each one's refusal.

    A refused operation leaves nothing behind, so the ones after it are tried against
    the registry without it (and may fail because of it: that is reported too).
    """
    write = Write(
        user=reorganization.author,
        reason=reorganization.reason,
        reason_visibility=reorganization.reason_visibility,
        effective_at=reorganization.effective_at,
    )
    problems: list[Problem] = []
    operations = list(reorganization.operations.order_by("position", "pk"))
    if not operations:
        return [{"operation": None, "message": "The reorganization has no operation."}]
    with writing_for(reorganization):
        for index, operation in enumerate(operations):
            try:
                with transaction.atomic():
                    APPLY[operation.kind](
                        check_payload(operation.kind, operation.payload), write
                    )
            except ValidationError as error:
                # A unit an earlier operation closed: say which (lineage_operations).
                note = conflict_note(
                    [(step.kind, step.payload) for step in operations],
                    index,
                    {problem["operation"] for problem in problems},
                )
                # The refusal's code too: a one-operation reorganization answers
                # with the status of the refusal itself (``single``).
                problems.append(
                    {
                        "operation": index,
                        "message": " ".join(
                            [*error.messages, *([note] if note else [])]
                        ),
                        "code": refusal_code(error),
                    }
                )
    return problems


def reorganization_problems(reorganization: Reorganization) -> list[Problem]:
    """What stands in the way of ``reorganization``, tried against the registry as it
    will stand at its effective time; nothing of the try-out is kept."""
    problems: list[Problem] = []
    try:
        with transaction.atomic():
            lock_registry()
            earlier = due_reorganizations(reorganization.effective_at).exclude(
                pk=reorganization.pk
            )
            for scheduled in earlier.select_related("author"):
                run_operations(scheduled)
            problems = run_operations(reorganization)
            raise TryOut
    except TryOut:
        pass
    return problems

"""One change recorded as a reorganization of one operation, applied at once.

The issue's "one write path": an editor's single change (a drag-and-drop move, for a
start) is a reorganization like any other, approved by its author (a one-operation
reorganization needs no second person, whatever ``REORGANIZATION_SELF_APPROVAL``
says) and applied through ``reorganization_apply``, so each history row it writes
names it. A refusal rolls everything back: neither the change nor the reorganization
is kept.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from units.dates import moment_text
from units.models import OperationKind, Reorganization, ReorganizationOperation
from units.services.refusals import Refusal
from units.services.reorganizations.application import reorganization_apply
from units.services.reorganizations.payloads import check_payload
from units.services.reorganizations.problems import Status
from units.services.reorganizations.records import record
from units.services.revisions import (
    CLOCK_TOLERANCE,
    Actor,
    EffectiveTime,
    clean_reason,
    clean_reason_visibility,
    effective_datetime,
    lock_registry,
)

APPROVED_BY_AUTHOR = "One operation, approved by its author"


def _title(kind: str, payload: dict[str, Any]) -> str:
    """What the one operation does and to what, e.g. "Move a unit: data-unit"."""
    subject = payload.get("unit") or payload.get("slug") or payload.get("post") or ""
    label = str(OperationKind(kind).label)
    return f"{label}: {subject}" if subject else label


@transaction.atomic
def single_operation_apply(
    *,
    user: Actor,
    kind: str,
    payload: dict[str, Any],
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    title: str = "",
) -> Reorganization:
    """Record ``kind`` with ``payload`` as a one-operation reorganization and apply it.

    Effective now or earlier, never later: a change that takes effect later is a draft
    reorganization, approved by a second person. Refused (nothing written) when the
    operation does not apply, with the refusal's own code and message.
    """
    reason = clean_reason(reason)
    reason_visibility = clean_reason_visibility(reason_visibility)
    if not isinstance(user, User):
        raise ValidationError("Sign in to change the registry.", code=Refusal.INVALID)
    check_payload(kind, payload)
    # "Now" once the lock is held, as every write (see ``begin_write``).
    lock_registry()
    moment = effective_datetime(effective_at)
    if moment > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError(
            f"The effective time {moment_text(moment)} is in the future; a change "
            "that takes effect later is added to a draft reorganization, which a "
            "second person approves.",
            code=Refusal.FUTURE_EFFECTIVE_TIME,
        )
    reorganization = Reorganization(
        title=title.strip() or _title(kind, payload),
        reason=reason,
        reason_visibility=reason_visibility,
        effective_at=moment,
        author=user,
        approver=user,
        decided_at=timezone.now(),
        status=Status.APPROVED,
    )
    record(reorganization, user, APPROVED_BY_AUTHOR)
    operation = ReorganizationOperation(
        reorganization=reorganization, kind=kind, payload=payload, position=1
    )
    operation.full_clean()
    operation.save()
    applied = reorganization_apply(reorganization=reorganization)
    if applied.status != Status.APPLIED:
        # Raising rolls back the reorganization, its "failed" record and the try.
        problem = applied.problems[0] if applied.problems else {}
        raise ValidationError(
            str(problem.get("message", "The change does not apply.")),
            code=problem.get("code") or Refusal.DOES_NOT_VALIDATE,
        )
    return applied

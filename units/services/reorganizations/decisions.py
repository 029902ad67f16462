"""Submitting, approving (four eyes), rejecting and cancelling a reorganization."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from units.models import Reorganization
from units.services.refusals import Refusal
from units.services.reorganizations.application import (
    refresh_next_due,
    reorganization_apply,
    schedule,
)
from units.services.reorganizations.problems import ReorganizationRefusal, Status
from units.services.reorganizations.records import (
    is_signed_in_user,
    locked,
    record,
    require_status,
)
from units.services.reorganizations.tryout import reorganization_problems
from units.services.revisions import Actor, clean_reason

CANCELLABLE = frozenset({Status.DRAFT, Status.SUBMITTED, Status.APPROVED})


@transaction.atomic
def reorganization_submit(
    *, reorganization: Reorganization | int, user: Actor
) -> Reorganization:
    """Hand a draft to the approvers; refused while an operation does not apply."""
    reorganization = locked(reorganization)
    require_status(reorganization, Status.DRAFT, step="submitted")
    problems = reorganization_problems(reorganization)
    if problems:
        raise ReorganizationRefusal(
            f"“{reorganization}” cannot be submitted:",
            problems,
            code=Refusal.DOES_NOT_VALIDATE,
        )
    reorganization.status = Status.SUBMITTED
    reorganization.problems = []
    record(reorganization, user, "Submitted")
    return reorganization


def check_approver(reorganization: Reorganization, user: Actor) -> None:
    if not is_signed_in_user(user) or not user.has_perm("units.approve_reorganization"):  # type: ignore[union-attr]
        raise ValidationError(
            "Only registry approvers approve or reject reorganizations.",
            code=Refusal.NOT_AN_APPROVER,
        )


@transaction.atomic
def reorganization_approve(
    *, reorganization: Reorganization | int, user: Actor
) -> Reorganization:
    """Approve a submitted reorganization: someone other than its author, who holds
    the approve permission; validated again. Due already: applied at once; later:
    scheduled (a task runs at its time, and the catch-up before reads stands in)."""
    reorganization = locked(reorganization)
    check_approver(reorganization, user)
    if reorganization.author_id == getattr(user, "pk", None) and not getattr(
        settings, "REORGANIZATION_SELF_APPROVAL", False
    ):
        raise ValidationError(
            f"You drafted “{reorganization}”; someone else must approve it.",
            code=Refusal.SELF_APPROVAL,
        )
    require_status(reorganization, Status.SUBMITTED, step="approved")
    problems = reorganization_problems(reorganization)
    if problems:
        raise ReorganizationRefusal(
            f"“{reorganization}” cannot be approved:",
            problems,
            code=Refusal.DOES_NOT_VALIDATE,
        )
    reorganization.status = Status.APPROVED
    reorganization.approver = user  # type: ignore[assignment]
    reorganization.decided_at = timezone.now()
    record(reorganization, user, "Approved")
    if reorganization.effective_at <= timezone.now():
        reorganization_apply(reorganization=reorganization)
        reorganization.refresh_from_db()
    else:
        schedule(reorganization)
    return reorganization


@transaction.atomic
def reorganization_reject(
    *, reorganization: Reorganization | int, user: Actor, reason: str
) -> Reorganization:
    """Send a submitted reorganization back, with the reason why."""
    reorganization = locked(reorganization)
    check_approver(reorganization, user)
    require_status(reorganization, Status.SUBMITTED, step="rejected")
    reorganization.rejection_reason = clean_reason(reason)
    reorganization.status = Status.REJECTED
    reorganization.approver = user  # type: ignore[assignment]
    reorganization.decided_at = timezone.now()
    record(reorganization, user, "Rejected")
    return reorganization


@transaction.atomic
def reorganization_cancel(
    *, reorganization: Reorganization | int, user: Actor
) -> Reorganization:
    """Withdraw a reorganization before it applies: its author or an approver."""
    reorganization = locked(reorganization)
    if reorganization.author_id != getattr(user, "pk", None):
        check_approver(reorganization, user)
    require_status(reorganization, *CANCELLABLE, step="cancelled")
    was_approved = reorganization.status == Status.APPROVED
    reorganization.status = Status.CANCELLED
    record(reorganization, user, "Cancelled")
    if was_approved:
        refresh_next_due()
    return reorganization

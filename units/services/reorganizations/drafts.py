"""Drafting a reorganization: its fields and its operations, validated at every edit."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from simple_history.utils import bulk_create_with_history

from units.models import Reorganization, ReorganizationOperation
from units.services.refusals import Refusal
from units.services.reorganizations.payloads import check_payload
from units.services.reorganizations.problems import Status
from units.services.reorganizations.records import (
    clean_title,
    locked,
    primary_key,
    record,
    require_status,
)
from units.services.reorganizations.tryout import reorganization_problems
from units.services.revisions import (
    Actor,
    EffectiveTime,
    clean_reason,
    clean_reason_visibility,
    effective_datetime,
)

EDITABLE_FIELDS = frozenset(
    {"title", "reference", "reason", "reason_visibility", "effective_at"}
)


@transaction.atomic
def reorganization_create(
    *,
    user: Actor,
    title: str,
    reason: str,
    effective_at: EffectiveTime,
    reference: str = "",
    reason_visibility: str | None = None,
) -> Reorganization:
    """Start a draft, to which operations are added one by one."""
    if not isinstance(user, User):
        raise ValidationError(
            "Sign in to draft a reorganization.", code=Refusal.INVALID
        )
    reorganization = Reorganization(
        title=clean_title(title),
        reference=reference.strip(),
        reason=clean_reason(reason),
        reason_visibility=clean_reason_visibility(reason_visibility),
        effective_at=effective_datetime(effective_at),
        author=user,
    )
    record(reorganization, user, "Drafted")
    return reorganization


@transaction.atomic
def reorganization_update(
    *, reorganization: Reorganization | int, user: Actor, **changes: Any
) -> Reorganization:
    """Edit a draft's title, reference, reason or effective time; validate again."""
    reorganization = locked(reorganization)
    require_status(reorganization, Status.DRAFT, step="edited")
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            f"These fields cannot be changed here: {', '.join(unknown)}.",
            code=Refusal.NOT_UPDATABLE,
        )
    if "title" in changes:
        changes["title"] = clean_title(changes["title"])
    if "reason" in changes:
        changes["reason"] = clean_reason(changes["reason"])
    if "reason_visibility" in changes:
        changes["reason_visibility"] = clean_reason_visibility(
            changes["reason_visibility"]
        )
    if "reference" in changes:
        changes["reference"] = (changes["reference"] or "").strip()
    if "effective_at" in changes:
        changes["effective_at"] = effective_datetime(changes["effective_at"])
    for field, value in changes.items():
        setattr(reorganization, field, value)
    reorganization.problems = reorganization_problems(reorganization)
    record(reorganization, user, "Edited")
    return reorganization


def _revalidate(reorganization: Reorganization, user: Actor, why: str) -> None:
    reorganization.problems = reorganization_problems(reorganization)
    record(reorganization, user, why)


@transaction.atomic
def operation_add(
    *,
    reorganization: Reorganization | int,
    user: Actor,
    kind: str,
    payload: dict[str, Any],
    position: int | None = None,
) -> ReorganizationOperation:
    """Add an operation to a draft (last, or at ``position``); validate the draft."""
    reorganization = locked(reorganization)
    require_status(reorganization, Status.DRAFT, step="edited")
    check_payload(kind, payload)
    operations = reorganization.operations
    if position is None:
        highest = operations.aggregate(models.Max("position"))["position__max"]
        position = 1 if highest is None else highest + 1
    else:
        operations.filter(position__gte=position).update(
            position=models.F("position") + 1
        )
    operation = ReorganizationOperation(
        reorganization=reorganization, kind=kind, payload=payload, position=position
    )
    operation.full_clean()
    operation.save()
    _revalidate(
        reorganization, user, f"Operation added: {operation.get_kind_display()}"
    )
    return operation


@transaction.atomic
def operations_add(
    *,
    reorganization: Reorganization | int,
    user: Actor,
    operations: list[tuple[str, dict[str, Any]]],
) -> list[ReorganizationOperation]:
    """Add many operations to a draft, last and in order; validate the draft once.

    For an imported file's difference: one try-out for all of them, where adding them
    one by one would try the draft out once per operation.
    """
    reorganization = locked(reorganization)
    require_status(reorganization, Status.DRAFT, step="edited")
    highest = reorganization.operations.aggregate(models.Max("position"))[
        "position__max"
    ]
    start = 1 if highest is None else highest + 1
    added = []
    for offset, (kind, payload) in enumerate(operations):
        check_payload(kind, payload)
        operation = ReorganizationOperation(
            reorganization=reorganization,
            kind=kind,
            payload=payload,
            position=start + offset,
        )
        operation.full_clean()
        added.append(operation)
    bulk_create_with_history(
        added,
        ReorganizationOperation,
        default_user=user if isinstance(user, User) else None,
    )
    _revalidate(reorganization, user, f"Operations added: {len(added)}")
    return added


@transaction.atomic
def operation_update(
    *,
    operation: ReorganizationOperation | int,
    user: Actor,
    payload: dict[str, Any] | None = None,
    kind: str | None = None,
    position: int | None = None,
) -> ReorganizationOperation:
    """Change a draft's operation; validate the draft again."""
    pk = primary_key(operation)
    found = ReorganizationOperation.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError(f"Operation {pk} does not exist.", code=Refusal.NOT_FOUND)
    reorganization = locked(found.reorganization_id)
    require_status(reorganization, Status.DRAFT, step="edited")
    found.kind = kind or found.kind
    found.payload = found.payload if payload is None else payload
    check_payload(found.kind, found.payload)
    if position is not None:
        found.position = position
    found.full_clean()
    found.save()
    _revalidate(reorganization, user, f"Operation changed: {found.get_kind_display()}")
    return found


@transaction.atomic
def operation_delete(*, operation: ReorganizationOperation | int, user: Actor) -> None:
    """Take an operation out of a draft; validate the draft again."""
    pk = primary_key(operation)
    found = ReorganizationOperation.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError(f"Operation {pk} does not exist.", code=Refusal.NOT_FOUND)
    reorganization = locked(found.reorganization_id)
    require_status(reorganization, Status.DRAFT, step="edited")
    found.delete()
    _revalidate(reorganization, user, "Operation removed")

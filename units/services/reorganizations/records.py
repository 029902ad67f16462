"""Saving a reorganization as one history row, and the checks each step shares."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models

from units.models import Reorganization, ReorganizationStatus
from units.services.refusals import Refusal
from units.services.revisions import Actor, check_texts

Status = ReorganizationStatus


def record(reorganization: Reorganization, user: Actor, why: str) -> None:
    """Save the reorganization as one history row with who and why; a title,
    reference, reason or rejection reason holding a control character is refused
    (``check_texts``, as every other write), so nothing is written."""
    check_texts(reorganization, is_new=reorganization.pk is None)
    reorganization.full_clean()
    reorganization.__dict__.update(
        _history_user=user if isinstance(user, AbstractBaseUser) else None,
        _change_reason=why,
    )
    try:
        reorganization.save()
    finally:
        for attribute in ("_history_user", "_change_reason"):
            reorganization.__dict__.pop(attribute, None)


def primary_key(instance: models.Model | int) -> int:
    return instance if isinstance(instance, int) else int(instance.pk)


def locked(reorganization: Reorganization | int) -> Reorganization:
    pk = primary_key(reorganization)
    found = (
        Reorganization.objects.select_for_update()
        .select_related("author")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise ValidationError(
            f"Reorganization {pk} does not exist.", code=Refusal.NOT_FOUND
        )
    return found


def require_status(reorganization: Reorganization, *allowed: str, step: str) -> None:
    if reorganization.status not in allowed:
        raise ValidationError(
            f"“{reorganization}” is {reorganization.get_status_display().lower()}; "
            f"it cannot be {step}.",
            code=Refusal.WRONG_STATUS,
        )


def is_signed_in_user(user: Actor) -> bool:
    return isinstance(user, AbstractBaseUser) and not isinstance(user, AnonymousUser)


def clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError(
            {"title": ValidationError("A title is required.", code=Refusal.INVALID)}
        )
    return title

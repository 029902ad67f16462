"""Reorganizations: the list with their operations, and when the next one falls due.

When the next approved reorganization falls due is asked before every request (the
catch-up that applies due reorganizations, ``orgregistry.reorganizations``), so it is
kept in a cache (the ``schedule`` alias, beside the cached answers): a cache read per
request, one indexed query after a miss. The
services refresh it whenever a reorganization is approved, applied, failed or cancelled.

In a shared cache (``CACHE_URL``) every process sees that refresh at once. In each
process's own memory (the default) another process would not: there the entry lasts
``LOCAL_CACHE_SECONDS``, so a process learns of an approval within that time. Only a
reorganization approved less than that before its effective time can then show late
in another process, and by at most that long (docs/deployment.md).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.cache import caches
from django.db.models import Prefetch, QuerySet

from units.models import (
    Reorganization,
    ReorganizationOperation,
    ReorganizationStatus,
)

NEXT_DUE_KEY = "reorganizations:next-due"
# Stored when no reorganization is waiting (None would read as a cache miss).
NOTHING_DUE = "none"
SCHEDULE_CACHE = "schedule"
LOCAL_CACHE_SECONDS = 30
LOCAL_CACHE_BACKEND = "django.core.cache.backends.locmem.LocMemCache"


def _schedule_alias() -> str:
    """The ``schedule`` cache; the default one where a deployment (or a test's
    ``CACHES``) names no such alias."""
    return SCHEDULE_CACHE if SCHEDULE_CACHE in settings.CACHES else "default"


def _lifetime() -> int | None:
    """Forever in a shared cache (the services refresh it); briefly in a local one."""
    if settings.CACHES[_schedule_alias()]["BACKEND"] == LOCAL_CACHE_BACKEND:
        return LOCAL_CACHE_SECONDS
    return None


def reorganizations_with_operations() -> QuerySet[Reorganization]:
    """Reorganizations with their author, approver, the one each reverts and their
    operations, in a fixed number of queries."""
    return Reorganization.objects.select_related(
        "author", "approver", "reverts"
    ).prefetch_related(
        Prefetch(
            "operations", queryset=ReorganizationOperation.objects.order_by("position")
        )
    )


def due_reorganizations(now: datetime.datetime) -> QuerySet[Reorganization]:
    """Approved reorganizations whose effective time has come, earliest first."""
    return Reorganization.objects.filter(
        status=ReorganizationStatus.APPROVED, effective_at__lte=now
    ).order_by("effective_at", "pk")


def next_due_from_database() -> datetime.datetime | None:
    """The earliest effective time among approved reorganizations (one query)."""
    return (
        Reorganization.objects.filter(status=ReorganizationStatus.APPROVED)
        .order_by("effective_at")
        .values_list("effective_at", flat=True)
        .first()
    )


def remember_next_due() -> datetime.datetime | None:
    """Read the next due time from the database and keep it in the cache."""
    due = next_due_from_database()
    caches[_schedule_alias()].set(
        NEXT_DUE_KEY, NOTHING_DUE if due is None else due, timeout=_lifetime()
    )
    return due


def next_due_reorganization_at() -> datetime.datetime | None:
    """When the next approved reorganization falls due (None: none is waiting)."""
    cached = caches[_schedule_alias()].get(NEXT_DUE_KEY)
    if cached is None:
        return remember_next_due()
    if cached == NOTHING_DUE:
        return None
    return cached

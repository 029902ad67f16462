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
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from units.content_languages import language_fields
from units.models import (
    OperationKind,
    OrganizationalUnit,
    Person,
    Post,
    RelationshipKind,
    Reorganization,
    ReorganizationOperation,
    ReorganizationStatus,
)
from units.selectors.fields import TRANSLATED_TEXTS
from units.selectors.languages import localized

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


# --- Operations in words (the upcoming page) -----------------------------------------

# Which payload keys name a unit, a post, a person.
_UNIT_KEYS = ("unit", "parent", "target", "source")


_NAME_FIELDS: dict[type[Any], str] = {
    OrganizationalUnit: "name",
    Post: "title",
    Person: "full_name",
}


def _names(model: type[Any], slugs: set[str]) -> dict[str, str]:
    """Each object's name by slug, in the reader's language (English where missing)."""
    if not slugs:
        return {}
    name = _NAME_FIELDS[model]
    texts = language_fields((name,)) if model in TRANSLATED_TEXTS else (name,)
    rows = model._default_manager.filter(slug__in=sorted(slugs))
    return {row["slug"]: localized(row, name)[0] for row in rows.values("slug", *texts)}


def _sentence(kind: str, payload: dict[str, Any], names: dict[str, str]) -> str:
    def name(key: str) -> str:
        slug = payload.get(key)
        if slug is None:
            return _("the top of the organization")
        return _("“%(name)s”") % {"name": names.get(str(slug), str(slug))}

    if kind == OperationKind.ESTABLISH_UNIT:
        if payload.get("parent"):
            return _("Establish “%(name)s” under %(parent)s") % {
                "name": payload.get("name", ""),
                "parent": name("parent"),
            }
        return _("Establish “%(name)s”") % {"name": payload.get("name", "")}
    if kind == OperationKind.CHANGE_UNIT:
        # The fields are named as the API names them (codes, not words).
        fields = ", ".join(sorted(payload.get("fields") or {})) or _("nothing")
        return _("Change %(unit)s: %(fields)s") % {
            "unit": name("unit"),
            "fields": fields,
        }
    if kind == OperationKind.MOVE_UNIT:
        if "parent" in payload:
            return _("Move %(unit)s under %(parent)s") % {
                "unit": name("unit"),
                "parent": name("parent"),
            }
        return _("Move %(unit)s among its siblings") % {"unit": name("unit")}
    if kind == OperationKind.ABOLISH_UNIT:
        return _("Abolish %(unit)s") % {"unit": name("unit")}
    if kind == OperationKind.REINSTATE_UNIT:
        return _("Reinstate %(unit)s") % {"unit": name("unit")}
    if kind == OperationKind.APPOINT:
        return _("Appoint %(person)s to %(post)s") % {
            "person": name("person"),
            "post": name("post"),
        }
    if kind == OperationKind.END_APPOINTMENT:
        return _("End the appointment to %(post)s") % {"post": name("post")}
    if kind == OperationKind.ADD_DOTTED_LINE:
        relationship = str(payload.get("kind", ""))
        return _("Add a dotted line from %(source)s to %(target)s (%(kind)s)") % {
            "source": name("source"),
            "target": name("target"),
            "kind": RelationshipKind(relationship).label
            if relationship in RelationshipKind.values
            else relationship.replace("_", " "),
        }
    if kind == OperationKind.END_DOTTED_LINE:
        return _("End the dotted line from %(source)s to %(target)s") % {
            "source": name("source"),
            "target": name("target"),
        }
    return str(OperationKind(kind).label) if kind in OperationKind.values else kind


def operations_in_words(
    reorganizations: Iterable[Reorganization],
) -> dict[int, list[str]]:
    """Each reorganization's operations as sentences naming units, posts and people
    as they stand now, in the reader's language (three queries however many; a slug still unknown, such as a
    unit the reorganization establishes, is named by the operation itself)."""
    reorganizations = list(reorganizations)
    wanted: dict[type[Any], set[str]] = {
        OrganizationalUnit: set(),
        Post: set(),
        Person: set(),
    }
    for reorganization in reorganizations:
        for operation in reorganization.operations.all():
            payload = operation.payload or {}
            wanted[OrganizationalUnit] |= {
                str(payload[key]) for key in _UNIT_KEYS if payload.get(key)
            }
            if payload.get("post"):
                wanted[Post].add(str(payload["post"]))
            if payload.get("person"):
                wanted[Person].add(str(payload["person"]))
    names: dict[str, str] = {}
    for model, slugs in wanted.items():
        names |= _names(model, slugs)
    # A unit this reorganization establishes is known by its payload's name.
    for reorganization in reorganizations:
        for operation in reorganization.operations.all():
            if operation.kind == OperationKind.ESTABLISH_UNIT:
                payload = operation.payload or {}
                names.setdefault(str(payload.get("slug")), str(payload.get("name")))
    return {
        reorganization.pk: [
            _sentence(operation.kind, operation.payload or {}, names)
            for operation in reorganization.operations.all()
        ]
        for reorganization in reorganizations
    }


def upcoming_reorganizations(now: datetime.datetime) -> QuerySet[Reorganization]:
    """Approved and waiting for their time, the soonest first (with operations)."""
    return (
        reorganizations_with_operations()
        .filter(status=ReorganizationStatus.APPROVED, effective_at__gt=now)
        .order_by("effective_at", "pk")
    )


def recently_applied_reorganizations(limit: int) -> QuerySet[Reorganization]:
    """The last ``limit`` applied, the latest effective first (with operations)."""
    return (
        reorganizations_with_operations()
        .filter(status=ReorganizationStatus.APPLIED)
        .order_by("-effective_at", "-pk")[:limit]
    )

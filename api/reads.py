"""Small reads the API needs beyond units.selectors, built on its as-of machinery.

Every read here answers "as of an instant": the current state is the latest revision
(history and tables agree, see ``selectors.history_problems``). Slugs never change, so
id-to-slug maps come from the current tables in one query each.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.http import QueryDict

from units import selectors
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    UnitRelationship,
)
from units.selectors import parse_instant

# "Now" for history reads: later than any effective time the services accept.
LATEST = datetime.datetime.max.replace(tzinfo=datetime.UTC) - datetime.timedelta(days=1)

UNIT_FIELDS = (*selectors.UNIT_STATE_FIELDS, "version")
POST_FIELDS = (
    "id",
    "slug",
    "title",
    "unit_id",
    "is_head",
    "filling_method",
    "term_years",
    "term_note",
    "established_on",
    "abolished_on",
    "version",
)
PERSON_FIELDS = ("id", "slug", "full_name", "version")
APPOINTMENT_FIELDS = (
    "id",
    "person_id",
    "post_id",
    "started_on",
    "ended_on",
    "note",
    "version",
)
RELATIONSHIP_FIELDS = (
    "id",
    "source_id",
    "target_id",
    "kind",
    "description",
    "started_on",
    "ended_on",
    "version",
)


def read_instant(value: str, *, parameter: str) -> datetime.datetime:
    """``parse_instant`` (always UTC; InvalidInstant → 400)."""
    return parse_instant(value, parameter=parameter)


def as_of_parameter(query: QueryDict) -> datetime.datetime | None:
    """The ``as_of`` instant of a request, or None for "now" (InvalidInstant → 400)."""
    value = query.get("as_of")
    if value is None:
        return None
    return read_instant(value, parameter="as_of")


def states(
    model: type[models.Model],
    when: datetime.datetime | None,
    fields: Iterable[str],
    *,
    ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Each object's state as of ``when`` (None: now), in one query."""
    rows = selectors.states_as_of(model, when or LATEST, tuple(fields), ids=ids)
    return sorted(rows, key=lambda row: row["id"])


def texts_as_of(
    model: type[models.Model],
    when: datetime.datetime | None,
    ids: Iterable[int],
    fields: tuple[str, ...],
) -> dict[int, tuple[str, ...]]:
    """Searchable texts (names, titles) of some objects as they stood at ``when``.

    One query. Searching a list of relationships or appointments by the names of what
    they link must see the names of that instant, as the unit list does.
    """
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    rows = selectors.states_as_of(model, when or LATEST, ("id", *fields), ids=ids)
    return {row["id"]: tuple(row[field] or "" for field in fields) for row in rows}


def slug_map(model: type[models.Model], ids: Iterable[int]) -> dict[int, str]:
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    return dict(model.objects.filter(pk__in=ids).values_list("id", "slug"))  # type: ignore[attr-defined]


def id_for_slug(model: type[models.Model], slug: str) -> int | None:
    return model.objects.filter(slug=slug).values_list("id", flat=True).first()  # type: ignore[attr-defined]


def unit_state(unit_id: int, when: datetime.datetime | None) -> dict[str, Any] | None:
    rows = states(OrganizationalUnit, when, UNIT_FIELDS, ids=[unit_id])
    return rows[0] if rows else None


MODEL_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    OrganizationalUnit: UNIT_FIELDS,
    Post: POST_FIELDS,
    Person: PERSON_FIELDS,
    Appointment: APPOINTMENT_FIELDS,
    UnitRelationship: RELATIONSHIP_FIELDS,
}

"""One unit: its state, its line of parents, its family; ids and slugs."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Q
from django.db.models.expressions import RawSQL

from units.models import OrganizationalUnit
from units.selectors.as_of import (
    _ever_matched,
    _history_model,
    current_known_at,
    reading_instant,
    records_as_of,
    states_as_of,
    texts_as_of,
)
from units.selectors.fields import UNIT_RECORD_FIELDS, UNIT_STATE_FIELDS
from units.selectors.posts import posts_as_of
from units.selectors.results import UnitNode
from units.selectors.trees import _sibling_key


def unit_as_of(slug: str, when: datetime.datetime | None = None) -> UnitNode | None:
    """One unit's state as of ``when`` (default: now), or None if it did not exist yet."""
    unit_id = (
        OrganizationalUnit.objects.filter(slug=slug)
        .values_list("id", flat=True)
        .first()
    )
    if unit_id is None:
        return None
    when = reading_instant(when)
    if when is None:
        row = (
            OrganizationalUnit.objects.filter(pk=unit_id)
            .values(*UNIT_STATE_FIELDS)
            .get()
        )
    else:
        states = states_as_of(
            OrganizationalUnit, when, UNIT_STATE_FIELDS, ids=[unit_id]
        )
        if not states:
            return None
        row = states[0]
    node = UnitNode(**row)
    heads = [post for post in posts_as_of(when, unit_ids=[unit_id]) if post.is_head]
    node.head = heads[0] if heads else None
    return node


@dataclass(slots=True)
class UnitFamily:
    """One unit with its line of parents (top first) and its sub-units, as of a date."""

    unit: UnitNode
    ancestors: list[UnitNode]
    children: list[UnitNode]  # abolished ones too, in sibling order


# Deeper than any reporting line: stops the walk up a (corrupt) cycle of parent links.
MAX_LINEAGE_DEPTH = 1000


def unit_lineage(
    slug: str, when: datetime.datetime | None = None
) -> list[UnitNode] | None:
    """The unit ``slug`` and the units above it at ``when`` (default now), top first.

    Abolished units included. None if the unit did not exist then. Walks the parent
    links up in the database (a recursive query, one indexed step per level) rather
    than reading the tree: one query now, two as of a past instant.
    """
    units = OrganizationalUnit._meta.db_table
    quote = connection.ops.quote_name
    when = reading_instant(when)
    if when is None:
        # Only quoted identifiers are interpolated; every value is a parameter.
        chain = (
            "WITH RECURSIVE chain(id, parent_id, depth) AS ("  # noqa: S608
            f"SELECT id, parent_id, 0 FROM {quote(units)} WHERE slug = %s "
            f"UNION ALL SELECT unit.id, unit.parent_id, chain.depth + 1 "
            f"FROM {quote(units)} unit JOIN chain ON unit.id = chain.parent_id "
            "WHERE chain.depth < %s) SELECT id FROM chain"
        )
        rows = list(
            OrganizationalUnit.objects.filter(
                id__in=RawSQL(chain, (slug, MAX_LINEAGE_DEPTH))  # noqa: S611
            ).values(*UNIT_STATE_FIELDS)
        )
    else:
        history = quote(_history_model(OrganizationalUnit)._meta.db_table)
        known_at = current_known_at()
        # Each step takes the parent from the unit's latest revision at ``when``
        # (among those recorded by ``known_at``, when reading as known then).
        recorded = "" if known_at is None else "AND revision.recorded_at <= %s "
        chain = (
            "WITH RECURSIVE chain(id, depth) AS ("  # noqa: S608
            f"SELECT id, 0 FROM {quote(units)} WHERE slug = %s "
            "UNION ALL SELECT (SELECT revision.parent_id "
            f"FROM {history} revision WHERE revision.id = chain.id "
            "AND revision.history_date <= %s "
            f"{recorded}"
            "ORDER BY revision.history_date DESC, revision.history_id DESC LIMIT 1), "
            "chain.depth + 1 FROM chain WHERE chain.id IS NOT NULL AND chain.depth < %s"
            ") SELECT id FROM chain WHERE id IS NOT NULL"
        )
        with connection.cursor() as cursor:
            limits = (when,) if known_at is None else (when, known_at)
            cursor.execute(chain, (slug, *limits, MAX_LINEAGE_DEPTH))
            ids = [row[0] for row in cursor.fetchall()]
        rows = states_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS, ids=ids)
    by_id = {row["id"]: row for row in rows}
    start = next((row for row in rows if row["slug"] == slug), None)
    if start is None:
        return None
    lineage: list[UnitNode] = []
    row: dict[str, Any] | None = start
    while row is not None and len(lineage) <= MAX_LINEAGE_DEPTH:
        lineage.append(UnitNode(**row))
        row = by_id.get(row["parent_id"]) if row["parent_id"] else None
    lineage.reverse()
    for level, node in enumerate(lineage):
        node.level = level
    return lineage


def unit_family(slug: str, when: datetime.datetime | None = None) -> UnitFamily | None:
    """The unit ``slug`` at ``when`` with its ancestors and sub-units; None if absent.

    Reads only those units: two queries now, three as of a past instant.
    """
    when = reading_instant(when)
    lineage = unit_lineage(slug, when)
    if lineage is None:
        return None
    unit = lineage[-1]
    if when is None:
        rows = list(
            OrganizationalUnit.objects.filter(parent_id=unit.id).values(
                *UNIT_STATE_FIELDS
            )
        )
    else:
        rows = [
            row
            for row in states_as_of(
                OrganizationalUnit,
                when,
                UNIT_STATE_FIELDS,
                ids=_ever_matched(OrganizationalUnit, Q(parent_id=unit.id)),
            )
            if row["parent_id"] == unit.id
        ]
    children = [UnitNode(**row, level=unit.level + 1) for row in rows]
    children.sort(key=_sibling_key)
    return UnitFamily(unit=unit, ancestors=lineage[:-1], children=children)


def id_for_slug(model: type[models.Model], slug: str) -> int | None:
    return model._default_manager.filter(slug=slug).values_list("id", flat=True).first()


def slug_map(model: type[models.Model], ids: Iterable[int | None]) -> dict[int, str]:
    """Slugs of some objects by id, None skipped: current ones, as slugs never change."""
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return {}
    return dict(model._default_manager.filter(pk__in=ids).values_list("id", "slug"))


def unit_exists(slug: str) -> bool:
    """Whether a unit with this slug was ever recorded (units are never deleted)."""
    return OrganizationalUnit.objects.filter(slug=slug).exists()


def unit_record(unit_id: int, when: datetime.datetime | None) -> dict[str, Any] | None:
    """A unit's whole record (with its version) as of ``when`` (None: now)."""
    rows = records_as_of(OrganizationalUnit, when, UNIT_RECORD_FIELDS, ids=[unit_id])
    return rows[0] if rows else None


def unit_provenance(unit_id: int, when: datetime.datetime | None) -> str:
    """A unit's provenance note as of ``when`` (None: now), in one query.

    Kept out of the unit's state in trees and lists; its page reads it alone.
    """
    texts = texts_as_of(OrganizationalUnit, when, [unit_id], ("provenance",))
    return texts.get(unit_id, ("",))[0]

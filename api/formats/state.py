"""The registry as it stood at one instant: what every export is built from.

Each export is a plain function of a ``RegistryAt`` and the site's origin to bytes
(``api.formats.exports``, ``api.formats.tree_json``), so the API's views and the
snapshot package (``api.formats.snapshots``) make the very same bytes. A
``RegistryAt`` reads lazily and once: the CSV needs only the units, the JSON-LD and
Popolo exports also the posts, people and appointments, and a snapshot that writes all
of them reads each only once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from units import selectors
from units.content_languages import (
    POST_TRANSLATED,
    RELATIONSHIP_TRANSLATED,
    translation_fields,
)
from units.models import (
    Appointment,
    Person,
    Post,
    UnitRelationship,
    appointment_is_current,
)
from units.selectors import UnitNode

# The records the exports read, with every language of their texts (once each, should
# the record fields come to hold the translations themselves).
POST_EXPORT_FIELDS = tuple(
    dict.fromkeys((*selectors.POST_RECORD_FIELDS, *translation_fields(POST_TRANSLATED)))
)
RELATIONSHIP_EXPORT_FIELDS = tuple(
    dict.fromkeys(
        (
            *selectors.RELATIONSHIP_RECORD_FIELDS,
            *translation_fields(RELATIONSHIP_TRANSLATED),
        )
    )
)


def tree_at(
    when: datetime.datetime | None, *, include_abolished: bool
) -> list[UnitNode]:
    when = selectors.reading_instant(when)
    if when is None:
        return selectors.unit_tree(include_abolished=include_abolished)
    return selectors.unit_tree_as_of(when, include_abolished=include_abolished)


def all_nodes(roots: list[UnitNode]) -> list[UnitNode]:
    return [node for root in roots for node in root.walk()]


@dataclass(slots=True)
class RegistryRecords:
    """The units, posts, people and appointments at an instant, in a fixed number of
    queries."""

    units: list[UnitNode]
    posts: list[dict[str, Any]]
    people: list[dict[str, Any]]
    appointments: list[dict[str, Any]]
    day: datetime.date

    @property
    def unit_slugs(self) -> dict[int, str]:
        return {unit.id: unit.slug for unit in self.units}

    def holders(self) -> dict[int, dict[str, Any]]:
        """The appointment running on the records' day, by post id."""
        return {
            row["post_id"]: row
            for row in self.appointments
            if appointment_is_current(row["started_on"], row["ended_on"], self.day)
        }


class RegistryAt:
    """The registry at ``when`` (None: now), read on first use and kept."""

    def __init__(self, when: datetime.datetime | None) -> None:
        # Now, read as known at an earlier instant, is rebuilt from history too.
        self.when = selectors.reading_instant(when)

    @cached_property
    def units(self) -> list[UnitNode]:
        """Every unit that existed then, abolished ones included, in tree order."""
        return all_nodes(tree_at(self.when, include_abolished=True))

    @cached_property
    def records(self) -> RegistryRecords:
        when = self.when
        units = self.units
        known_units = {unit.id for unit in units}
        posts = [
            row
            for row in selectors.records_as_of(Post, when, POST_EXPORT_FIELDS)
            if row["unit_id"] in known_units
        ]
        known_posts = {row["id"] for row in posts}
        appointments = [
            row
            for row in selectors.records_as_of(
                Appointment, when, selectors.APPOINTMENT_RECORD_FIELDS
            )
            if row["post_id"] in known_posts
        ]
        people = selectors.records_as_of(
            Person,
            when,
            selectors.PERSON_RECORD_FIELDS,
            ids={row["person_id"] for row in appointments},
        )
        day = (when or datetime.datetime.now(tz=datetime.UTC)).date()
        return RegistryRecords(units, posts, people, appointments, day)

    @cached_property
    def lineage(self) -> list[dict[str, Any]]:
        """The lineage links known then (``selectors.lineage_links``): the JSON-LD
        export's change events."""
        return selectors.lineage_links(self.when)

    @cached_property
    def relationships(self) -> list[dict[str, Any]]:
        """The dotted lines between the units, each known then (ended ones with their
        date): read only by the exports that show them (the workbook)."""
        known_units = {unit.id for unit in self.units}
        return [
            row
            for row in selectors.records_as_of(
                UnitRelationship, self.when, RELATIONSHIP_EXPORT_FIELDS
            )
            if row["source_id"] in known_units and row["target_id"] in known_units
        ]

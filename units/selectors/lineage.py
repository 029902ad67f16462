"""Lineage as of an instant: which units a unit came from and which took over from it.

Read for any number of units in two queries (the links, then the linked units' names
as they stood then), so lists never cost a query per unit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from units.models import ClosureReason, OrganizationalUnit, UnitSuccession
from units.selectors.as_of import _ever_matched, states_as_of
from units.selectors.instants import LATEST

LINK_FIELDS = (
    "id",
    "predecessor_id",
    "successor_id",
    "closure_reason",
    "effective_on",
    "event",
)


@dataclass(frozen=True, slots=True)
class LineageLink:
    """The unit at the other end of a link, why the link exists and since when."""

    slug: str
    name: str
    reason: str
    date: datetime.date

    @property
    def reason_label(self) -> str:
        return str(ClosureReason(self.reason).label)


@dataclass(slots=True)
class Lineage:
    """A unit's predecessors (it was formed from them) and successors (they took over)."""

    predecessors: list[LineageLink] = field(default_factory=list)
    successors: list[LineageLink] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.predecessors or self.successors)

    def events(self) -> list[LineageEvent]:
        """The links grouped by what happened (side, reason and day), oldest first:
        what a page says in one sentence ("Formed from A and B on ...")."""
        events: dict[tuple[str, str, datetime.date], LineageEvent] = {}
        for side, links in (
            ("predecessors", self.predecessors),
            ("successors", self.successors),
        ):
            for link in links:
                key = (side, link.reason, link.date)
                if key not in events:
                    events[key] = LineageEvent(side, link.reason, link.date, [])
                events[key].units.append(link)
        return sorted(events.values(), key=lambda event: event.date)


@dataclass(frozen=True, slots=True)
class LineageEvent:
    """Units on one side of a unit's lineage that one event linked to it."""

    side: str
    reason: str
    date: datetime.date
    units: list[LineageLink]


def lineage_links(when: datetime.datetime | None) -> list[dict[str, Any]]:
    """Every lineage link recorded by ``when`` (None: now), oldest first (one query),
    with ``history_date``: the instant it took effect (links never change)."""
    rows = states_as_of(UnitSuccession, when or LATEST, (*LINK_FIELDS, "history_date"))
    return sorted(rows, key=lambda row: (row["history_date"], row["id"]))


def lineage_of(
    unit_ids: Iterable[int], when: datetime.datetime | None
) -> dict[int, Lineage]:
    """Each of ``unit_ids`` with its lineage as of ``when`` (None: now); two queries
    at most, one when no link touches them."""
    ids = set(unit_ids)
    lineage: dict[int, Lineage] = {pk: Lineage() for pk in ids}
    if not ids:
        return lineage
    touching = _ever_matched(
        UnitSuccession, Q(predecessor_id__in=ids) | Q(successor_id__in=ids)
    )
    links = sorted(
        states_as_of(UnitSuccession, when or LATEST, LINK_FIELDS, ids=touching),
        key=lambda row: (row["effective_on"], row["id"]),
    )
    if not links:
        return lineage
    named = {row["predecessor_id"] for row in links} | {
        row["successor_id"] for row in links
    }
    units = {
        row["id"]: row
        for row in states_as_of(
            OrganizationalUnit, when or LATEST, ("id", "slug", "name"), ids=named
        )
    }
    for row in links:
        before, after = row["predecessor_id"], row["successor_id"]
        reason, day = row["closure_reason"], row["effective_on"]
        if after in lineage and before in units:
            unit = units[before]
            lineage[after].predecessors.append(
                LineageLink(unit["slug"], unit["name"], reason, day)
            )
        if before in lineage and after in units:
            unit = units[after]
            lineage[before].successors.append(
                LineageLink(unit["slug"], unit["name"], reason, day)
            )
    return lineage

"""The change feed's entries: a reorganization's changes gathered under it.

A reorganization applies all its operations at one effective time, and every revision
it writes names it; the feed shows them as one entry (its title, reference, reason and
time, its changes beneath) instead of as unrelated changes. Changes made outside any
reorganization stay entries of their own.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from units.models import Reorganization
from units.selectors.results import Change


@dataclass(frozen=True, slots=True)
class ReorganizationHeading:
    """What a group of changes says of its reorganization (reason and author are
    shown as ``units.selectors.audience`` allows, by the reader)."""

    id: int
    title: str
    reference: str
    reason: str
    reason_visibility: str
    effective_at: datetime.datetime
    status: str
    author: str | None
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class ChangeGroup:
    """The changes one reorganization recorded, in feed order."""

    reorganization: ReorganizationHeading
    changes: list[Change]

    @property
    def effective_at(self) -> datetime.datetime:
        return self.reorganization.effective_at


FeedEntry = Change | ChangeGroup

HEADING_COLUMNS = (
    "id",
    "title",
    "reference",
    "reason",
    "reason_visibility",
    "effective_at",
    "status",
    "author__username",
    "problems",
)


def reorganization_headings(ids: set[int]) -> dict[int, ReorganizationHeading]:
    """The headings of these reorganizations, in one query (none for no ids)."""
    if not ids:
        return {}
    rows = Reorganization.objects.filter(pk__in=ids).values(*HEADING_COLUMNS)
    return {
        row["id"]: ReorganizationHeading(
            id=row["id"],
            title=row["title"],
            reference=row["reference"],
            reason=row["reason"],
            reason_visibility=row["reason_visibility"],
            effective_at=row["effective_at"],
            status=row["status"],
            author=row["author__username"],
            problems=list(row["problems"] or []),
        )
        for row in rows
    }


def grouped_by_reorganization(changes: Sequence[Change]) -> list[FeedEntry]:
    """``changes`` (a page of the feed) with each reorganization's gathered into one
    entry, where its first change stands; one query at most, whatever their number.

    A reorganization's changes all share its effective time; a single change of that
    same instant recorded between two of them is listed after the group.
    """
    headings = reorganization_headings(
        {
            change.reorganization_id
            for change in changes
            if change.reorganization_id is not None
        }
    )
    entries: list[FeedEntry] = []
    groups: dict[int, ChangeGroup] = {}
    for change in changes:
        heading = headings.get(change.reorganization_id or 0)
        if heading is None:
            entries.append(change)
            continue
        group = groups.get(heading.id)
        if group is None:
            group = groups[heading.id] = ChangeGroup(heading, [])
            entries.append(group)
        group.changes.append(change)
    return entries

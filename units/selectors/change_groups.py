"""The change feed's entries: a reorganization's changes gathered under it.

A reorganization applies all its operations at one effective time, and every revision
it writes names it; the feed shows them as one entry (its title, reference, reason and
time, its changes beneath) instead of as unrelated changes. Changes made outside any
reorganization stay entries of their own. A reorganization that failed to apply
recorded nothing; editors and auditors read it as an entry of its reasons
(``failed_reorganizations``), placed by its effective time.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from units.models import Reorganization, ReorganizationStatus
from units.selectors.change_feed import ChangeKey, ChangePage
from units.selectors.changes.selection import EVERY_CHANGE, FeedFilter
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
    return {row["id"]: _heading(row) for row in rows}


def _heading(row: dict[str, Any]) -> ReorganizationHeading:
    return ReorganizationHeading(
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


def failed_reorganizations(
    start: datetime.datetime, end: datetime.datetime
) -> list[ChangeGroup]:
    """Reorganizations that failed to apply, effective in (start, end], oldest first;
    one query. They recorded no change: each is an entry of its reasons (``problems``)
    alone, for readers who may see them (editors and auditors)."""
    rows = (
        Reorganization.objects.filter(
            status=ReorganizationStatus.FAILED,
            effective_at__gt=start,
            effective_at__lte=end,
        )
        .order_by("effective_at", "pk")
        .values(*HEADING_COLUMNS)
    )
    return [ChangeGroup(_heading(row), []) for row in rows]


def with_failed(
    entries: list[FeedEntry], failed: Sequence[ChangeGroup]
) -> list[FeedEntry]:
    """``entries`` (oldest first) with each failed reorganization placed at its
    effective time, after the entries of that same instant."""
    merged: list[FeedEntry] = []
    waiting = list(failed)
    for entry in entries:
        while waiting and waiting[0].effective_at < entry.effective_at:
            merged.append(waiting.pop(0))
        merged.append(entry)
    return merged + waiting


def page_entries(
    page: ChangePage,
    since: datetime.datetime,
    until: datetime.datetime,
    *,
    direction: str = "after",
    position: ChangeKey | None = None,
    failed: bool = False,
    only: FeedFilter = EVERY_CHANGE,
) -> list[FeedEntry]:
    """The entries of a page of the feed read ``direction`` from ``position``: its
    changes grouped by reorganization and, with ``failed`` (for a reader who may see
    them), the failed reorganizations of the stretch of the window the page covers.

    That stretch runs from where the page was read (or where it ends, read back) to
    the place the page hands on, so the pages of a window, read either way, share out
    its failed reorganizations with none twice; one query more.
    """
    entries = grouped_by_reorganization(page.changes)
    if not failed or not only.keeps_failed_reorganizations:
        return entries
    if direction == "before":
        start = page.earlier.effective_at if page.earlier else since
        end = position.effective_at if position else until
    else:
        start = position.effective_at if position else since
        end = page.later.effective_at if page.later else until
    return with_failed(entries, failed_reorganizations(start, end))

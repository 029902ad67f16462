"""A unit's timeline: its own versions, and what happened around it.

Besides its own revisions, a unit's history is made by others' changes: sub-units
that join it (established under it or moved in), leave it (moved out) or are
abolished, and people appointed to and leaving its posts. They are read as the change
feed reads them (the same changes, worded the same way), in a fixed number of queries
whatever the number of entries.
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from units.models import (
    REVISION_ORDER,
    Appointment,
    OrganizationalUnit,
    Post,
    RecordedModel,
)
from units.selectors.as_of import _ever_matched, _history_model, recorded_by
from units.selectors.change_feed import (
    ChangesOf,
    _feed_columns,
    _paired,
    removed_changes,
)
from units.selectors.changes.appointments import appointment_changes
from units.selectors.changes.entries import Revision, RevisionPairs, feed_fields
from units.selectors.changes.names import FeedNames, feed_names
from units.selectors.changes.units import unit_changes
from units.selectors.corrections import (
    carried_forward,
    correction_of,
    winning_rows,
)
from units.selectors.instants import LATEST
from units.selectors.results import Change, UnitRevision
from units.selectors.revisions import unit_history

UNIT_FEED_FIELDS = feed_fields(OrganizationalUnit)
APPOINTMENT_FEED_FIELDS = feed_fields(Appointment)
# The kinds of a sub-unit's changes that concern its parent.
SUB_UNIT_KINDS = frozenset({"added", "moved", "abolished", "reinstated"})


@dataclass(slots=True)
class TimelineEntry:
    """One entry of a unit's timeline: a version of its own, or a change around it."""

    effective_at: datetime.datetime
    revision: UnitRevision | None = None
    change: Change | None = None
    # For a sub-unit's change: "joined", "left", "abolished" or "reinstated".
    sub_unit: str = ""

    @property
    def recorded_at(self) -> datetime.datetime:
        return (self.revision or self.change).recorded_at  # type: ignore[union-attr]

    @property
    def is_backdated(self) -> bool:
        return self.recorded_at - self.effective_at > datetime.timedelta(minutes=1)

    @property
    def reason(self) -> str:
        return (self.revision or self.change).reason  # type: ignore[union-attr]

    @property
    def reason_visibility(self) -> str:
        return (self.revision or self.change).reason_visibility  # type: ignore[union-attr]


def _history(
    model: type[RecordedModel], condition: Q, columns: tuple[str, ...]
) -> list[Revision]:
    """Every revision, oldest first, of the objects any revision of which matched,
    as known at the reading's ``known_at``: rows a correction superseded are left
    out (``units.selectors.corrections``), those it corrected are still read."""
    return list(
        recorded_by(
            _history_model(model)._default_manager.filter(
                id__in=_ever_matched(model, condition)
            )
        )
        .order_by(*REVISION_ORDER)
        .values(*columns)
    )


def _marked(
    changes_of: ChangesOf,
    row: Revision,
    previous: Revision | None,
    rows: dict[int, Revision],
    carried: set[int],
    fields: tuple[str, ...],
    names: FeedNames,
) -> list[tuple[Change, Revision | None]]:
    """The changes of ``row`` with what a correction changed of them (``rows``: the
    revisions of its table read, by history_id, among them the ones corrected), a
    correction that only removed a change included (``removed_changes``); each with
    the state it is worded against (``previous``, or for a removed change, the
    mistaken state)."""
    changes = changes_of(row, previous, names)
    if row.get("corrects_revision") is None:
        return [(change, previous) for change in changes]
    corrected = rows.get(row["corrects_revision"])
    removed = removed_changes(changes_of, row, rows, carried, changes, fields, names)
    for change in (*changes, *removed):
        change.correction = correction_of(row, corrected, change.fields)
    return [(change, previous) for change in changes] + [
        (change, corrected) for change in removed
    ]


def _with_corrected(pairs: RevisionPairs, rows: dict[int, Revision]) -> RevisionPairs:
    """``pairs`` and the rows their corrections correct, so that the names read
    cover the mistaken values a correction shows ("was ...")."""
    wanted = {row.get("corrects_revision") for row, _ in pairs} - {None}
    return [*pairs, *((rows[pk], None) for pk in wanted if pk in rows)]


def _sub_unit_event(
    change: Change, unit_id: int, row: Revision, previous: Revision | None
) -> str:
    """What a sub-unit's change means for the unit: "" if nothing.

    A revert that moved the sub-unit is read by what it did (its ``kinds``)."""
    kinds = set(change.details.get("kinds", ())) if change.kind == "reverted" else set()
    if change.kind not in SUB_UNIT_KINDS and "moved" not in kinds:
        return ""
    was_under = previous is not None and previous["parent_id"] == unit_id
    is_under = row["parent_id"] == unit_id
    if change.kind in {"added", "moved", "reverted"}:
        if is_under and not was_under:
            return "joined"
        if was_under and not is_under:
            return "left"
        return ""
    return change.kind if is_under else ""


def unit_timeline(
    unit_id: int, until: datetime.datetime | None = None
) -> list[TimelineEntry]:
    """A unit's timeline up to ``until`` (default: everything), newest first.

    Its own versions (``unit_history``), its sub-units joining, leaving, abolished or
    reinstated, and appointments to its posts (while they were its posts) starting,
    ending or changing. Eight queries, whatever the number of entries.
    """
    until = until or LATEST
    entries = [
        TimelineEntry(effective_at=revision.effective_at, revision=revision)
        for revision in unit_history(unit_id)
        if revision.effective_at <= until
    ]
    sub_unit_rows = _history(
        OrganizationalUnit,
        Q(parent_id=unit_id),
        _feed_columns(UNIT_FEED_FIELDS),
    )
    # Posts move between units: an appointment counts where its post was then.
    post_rows = _history(
        Post,
        Q(unit_id=unit_id),
        ("id", "unit_id", "history_date", "history_id", "corrects_revision"),
    )
    appointment_rows = list(
        recorded_by(
            _history_model(Appointment)._default_manager.filter(
                post_id__in=_ever_matched(Post, Q(unit_id=unit_id))
            )
        )
        .order_by(*REVISION_ORDER)
        .values(*_feed_columns(APPOINTMENT_FEED_FIELDS))
    )
    # History ids are counted per table: each table's rows apart.
    read_units = {row["history_id"]: row for row in sub_unit_rows}
    read_appointments = {row["history_id"]: row for row in appointment_rows}
    carried_units = carried_forward(sub_unit_rows)
    carried_appointments = carried_forward(appointment_rows)
    post_rows = winning_rows(post_rows)
    unit_pairs = _paired(
        [row for row in winning_rows(sub_unit_rows) if row["history_date"] <= until],
        {},
    )
    appointment_pairs = _paired(
        [row for row in winning_rows(appointment_rows) if row["history_date"] <= until],
        {},
    )
    names = feed_names(
        [
            (
                OrganizationalUnit,
                UNIT_FEED_FIELDS,
                _with_corrected(unit_pairs, read_units),
            ),
            (
                Appointment,
                APPOINTMENT_FEED_FIELDS,
                _with_corrected(appointment_pairs, read_appointments),
            ),
        ]
    )

    for row, previous in unit_pairs:
        for change, against in _marked(
            unit_changes,
            row,
            previous,
            read_units,
            carried_units,
            UNIT_FEED_FIELDS,
            names,
        ):
            event = _sub_unit_event(change, unit_id, row, against)
            if event:
                entries.append(
                    TimelineEntry(row["history_date"], change=change, sub_unit=event)
                )

    post_units = _post_units(post_rows)
    for row, previous in appointment_pairs:
        if _post_unit_at(post_units, row["post_id"], row["history_date"]) != unit_id:
            continue
        entries.extend(
            TimelineEntry(row["history_date"], change=change)
            for change, _against in _marked(
                appointment_changes,
                row,
                previous,
                read_appointments,
                carried_appointments,
                APPOINTMENT_FEED_FIELDS,
                names,
            )
        )
    # Newest first; at one instant, the unit's own version before what followed it.
    entries.sort(key=lambda entry: (entry.effective_at, entry.revision is None))
    entries.reverse()
    return entries


PostUnits = dict[int, tuple[list[tuple[datetime.datetime, int]], list[Any]]]


def _post_units(rows: list[Revision]) -> PostUnits:
    """Each post's revisions as (instant, history_id) keys and the unit it was in."""
    by_post: PostUnits = {}
    for row in rows:
        keys, units = by_post.setdefault(row["id"], ([], []))
        keys.append((row["history_date"], row["history_id"]))
        units.append(row["unit_id"])
    return by_post


def _post_unit_at(
    post_units: PostUnits, post_id: int, when: datetime.datetime
) -> int | None:
    """The unit a post was in at ``when`` (its first unit before it was recorded)."""
    if post_id not in post_units:
        return None
    keys, units = post_units[post_id]
    position = bisect.bisect_right([instant for instant, _ in keys], when) - 1
    return units[max(position, 0)]

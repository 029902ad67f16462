"""What the registry corrected about one instant between two "known at" instants.

"What did we correct about 2024-03-01 since June": the registry as of that instant as
known at the first, and as known at the second (``as_of.reading_as_known_at``), told
apart object by object and worded as the change feed words a change, each carrying
what it corrected. Only objects with a revision recorded between the two instants
can differ, so only they are read: the cost follows what was recorded between them.
"""

from __future__ import annotations

import datetime

from units.selectors.as_of import _history_model, _latest_revisions, reading_as_known_at
from units.selectors.change_feed import (
    FEED_KINDS,
    FEED_SOURCES,
    _feed_columns,
    shown_correction,
)
from units.selectors.changes.entries import Revision, RevisionPairs
from units.selectors.changes.names import feed_names
from units.selectors.instants import InvalidInstant
from units.selectors.results import Change, Correction


def _states(
    model: type, when: datetime.datetime, known_at: datetime.datetime, ids: object
) -> dict[int, Revision]:
    columns = _feed_columns(dict(FEED_SOURCES)[model])
    with reading_as_known_at(known_at):
        rows = _latest_revisions(model, when, ids=ids).values(*columns)  # type: ignore[arg-type]
        return {row["id"]: row for row in rows if row["history_type"] != "-"}


def corrections_between(
    when: datetime.datetime,
    known_from: datetime.datetime,
    known_to: datetime.datetime,
) -> list[Change]:
    """How the registry as of ``when`` known at ``known_to`` differs from it known
    at ``known_from``: each object's difference as the feed's changes (its state at
    ``known_from`` as the revision before), oldest effective first, each carrying a
    ``Correction`` (its values at ``known_from``; ``corrected_on``: when the state
    at ``known_to`` was recorded). An object unknown at ``known_from`` is "added".

    Fixed query count: two state reads per table and the names (3 at most).
    """
    if known_to < known_from:
        raise InvalidInstant("known_to must not be earlier than known_from.")
    pair_lists: list[RevisionPairs] = []
    for model, fields in FEED_SOURCES:
        learned = (
            _history_model(model)
            ._default_manager.filter(
                recorded_at__gt=known_from,
                recorded_at__lte=known_to,
                history_date__lte=when,
            )
            .values("id")
        )
        before = _states(model, when, known_from, learned)
        after = _states(model, when, known_to, learned)
        tracked = [field for field in fields if field != "id"]
        pairs = [
            (row, before.get(pk))
            for pk, row in after.items()
            if pk not in before
            or any(row[field] != before[pk][field] for field in tracked)
        ]
        pairs.sort(key=lambda pair: (pair[0]["history_date"], pair[0]["history_id"]))
        pair_lists.append(pairs)
    names = feed_names(
        [
            (model, fields, pairs)
            for (model, fields), pairs in zip(FEED_SOURCES, pair_lists, strict=True)
        ]
    )
    changes: list[Change] = []
    for (model, changes_of), pairs in zip(FEED_KINDS, pair_lists, strict=True):
        for row, previous in pairs:
            for change in changes_of(row, previous, names):
                change.correction = shown_correction(
                    model,
                    Correction(
                        corrected_on=row["recorded_at"],
                        corrects_revision=previous["history_id"] if previous else 0,
                        previous={
                            field: previous[field]
                            for field in change.fields
                            if previous is not None and previous[field] != row[field]
                        },
                    ),
                    names,
                )
                changes.append(change)
    changes.sort(key=lambda change: (change.effective_at, change.history_id))
    return changes

"""How corrections read: one winner per effective instant, and what a winner corrected.

A correction writes new history rows, recorded later (``units.services.corrections``):
one at its own effective time and one per later revision whose state it changes, at
that revision's effective time. Read "as known at R" (``as_of.current_known_at``), an
object's history is its rows recorded by R keeping, per effective instant, only the
winner: a correcting row supersedes every row of that instant recorded before it
(ordinary writes at one instant stay apart, as they always were). Each winner is
diffed against the previous one, so a row that merely carries a correction forward shows the change
its revision made and nothing else; a field whose value differs from that of the row
the winner corrects (``corrects_revision``) was corrected: "corrected on <recorded_at>:
was <the corrected row's value>".
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import models
from django.db.models import Exists, OuterRef, Q

from units.selectors.as_of import current_known_at
from units.selectors.results import Correction

Row = Mapping[str, Any]
RowT = TypeVar("RowT", bound=Mapping[str, Any])


def _known(
    rows: models.QuerySet, known_at: datetime.datetime | None
) -> models.QuerySet:
    return rows if known_at is None else rows.filter(recorded_at__lte=known_at)


def visible(
    rows: models.QuerySet, known_at: datetime.datetime | None = None
) -> models.QuerySet:
    """``rows`` (of one history table) recorded by ``known_at`` (None: the reading's
    ``known_at``, itself None for now), less those a correction supersedes: a row of
    the same object at the same effective instant, recorded later (by ``known_at``)
    and correcting. One anti-join, by the object's id, in the same query.

    Ordinary writes at one instant (a reorganization's steps on one unit) stay
    revisions of their own, as they always were; only a correction replaces what the
    registry recorded of an instant.
    """
    known_at = known_at or current_known_at()
    superseding = _known(
        rows.model._default_manager.filter(
            id=OuterRef("id"),
            history_date=OuterRef("history_date"),
            history_id__gt=OuterRef("history_id"),
            corrects_revision__isnull=False,
        ),
        known_at,
    )
    return _known(rows, known_at).filter(~Exists(superseding))


def winning_rows(rows: Iterable[RowT]) -> list[RowT]:
    """``rows`` (oldest first: by history_date, then history_id), less those a later
    correcting row of the same object at the same instant supersedes (``visible``),
    for rows already read whole (of one object, they need not carry its ``id``)."""
    ordered = list(rows)
    corrected_at: set[tuple[Any, datetime.datetime]] = set()
    kept: list[RowT] = []
    for row in reversed(ordered):
        key = (row.get("id"), row["history_date"])
        if key in corrected_at:
            continue
        if row.get("corrects_revision") is not None:
            corrected_at.add(key)
        kept.append(row)
    kept.reverse()
    return kept


def correction_of(
    row: Row, corrected: Row | None, fields: Sequence[str]
) -> Correction | None:
    """What ``row`` corrected of ``corrected`` (the row its ``corrects_revision``
    names) among ``fields``: None if it corrects nothing there."""
    if corrected is None or row.get("corrects_revision") is None:
        return None
    previous = {
        field: corrected[field]
        for field in fields
        if field in corrected and corrected[field] != row[field]
    }
    if not previous:
        return None
    return Correction(
        corrected_on=row["recorded_at"],
        corrects_revision=row["corrects_revision"],
        previous=previous,
    )


def corrected_rows(
    model_history: type[models.Model], rows: Iterable[Row], columns: Sequence[str]
) -> dict[int, Row]:
    """The rows ``rows`` correct (``corrects_revision``), by history_id, and the
    correcting rows written with them (``carried_forward`` needs them): one query,
    none if no row corrects any."""
    correcting = [row for row in rows if row.get("corrects_revision") is not None]
    if not correcting:
        return {}
    wanted = {row["corrects_revision"] for row in correcting}
    written_with = Q(
        id__in={row["id"] for row in correcting},
        recorded_at__in={row["recorded_at"] for row in correcting},
        corrects_revision__isnull=False,
    )
    return {
        row["history_id"]: row
        for row in model_history._default_manager.filter(
            Q(history_id__in=wanted) | written_with
        ).values(*columns)
    }


def carried_forward(rows: Iterable[Row]) -> set[int]:
    """The history_ids of the correcting rows among ``rows`` that carry a correction
    forward: a correction writes its row at its own effective time first, then one
    per later revision it restates, all recorded at one instant; every one of them
    but the first restates a revision that did not change the corrected fields.
    ``rows`` must hold, with each such row, the others of its correction."""
    first: dict[tuple[Any, datetime.datetime], int] = {}
    correcting = [row for row in rows if row.get("corrects_revision") is not None]
    for row in correcting:
        key = (row.get("id"), row["recorded_at"])
        first[key] = min(first.get(key, row["history_id"]), row["history_id"])
    return {
        row["history_id"]
        for row in correcting
        if first[(row.get("id"), row["recorded_at"])] != row["history_id"]
    }

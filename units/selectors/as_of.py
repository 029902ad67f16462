"""The as-of engine: every object's state at any instant, from its history.

Past states are rebuilt from history rows fetched as plain ``.values()`` in a fixed
number of queries (never ``history.as_of()`` instances, which cost a query per row and
carry the *current* tree fields). History rows are ordered by effective time
(``history_date``) and, for equal times, by ``history_id``: the later-recorded wins.

Every read has a second instant, ``known_at``: what the registry had recorded by then
(``recorded_at``). A correction never edits history, it writes rows recorded later
(``units.services.corrections``), so reading only the rows recorded by ``known_at``
gives exactly what the registry said at that time. It is set for a whole read with
``reading_as_known_at`` (the ``known_at`` middleware does so for every request); unset,
it is now and costs nothing.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from django.db import connection, models
from django.db.models import F, Q, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.utils import timezone

from units.models import NEWEST_REVISION_FIRST, RecordedModel
from units.selectors.instants import LATEST

# Rows fetched per round trip when reading as the rows are consumed: enough per trip,
# few held at once (2% of a 100,000-unit registry).
CHUNK_ROWS = 2000


# What the registry had recorded by this instant is what reads show (None: now).
_known_at: ContextVar[datetime.datetime | None] = ContextVar("known_at", default=None)


@contextlib.contextmanager
def reading_as_known_at(instant: datetime.datetime | None) -> Iterator[None]:
    """Read, within, only what the registry had recorded by ``instant`` (None: now)."""
    token = _known_at.set(instant)
    try:
        yield
    finally:
        _known_at.reset(token)


def current_known_at() -> datetime.datetime | None:
    """The ``known_at`` instant reads are bound to, or None for now (every record)."""
    return _known_at.get()


def recorded_by(rows: models.QuerySet) -> models.QuerySet:
    """``rows`` (of a history table) limited to what was recorded by ``known_at``."""
    known_at = _known_at.get()
    return rows if known_at is None else rows.filter(recorded_at__lte=known_at)


def reading_instant(when: datetime.datetime | None) -> datetime.datetime | None:
    """The instant a read takes effect at: ``when``, or, for "now" read as known at
    an earlier instant, now itself.

    The fast paths of reads of now use the live tables, which hold what is known now;
    as known at another instant, "now" must be rebuilt from history like any instant.
    """
    if when is None and _known_at.get() is not None:
        return timezone.now()
    return when


def current_rows(
    model: type[models.Model], fields: Sequence[str], ids: Iterable[int]
) -> list[dict[str, Any]]:
    """Some objects' ``fields`` as they stand now (``id`` among them), in one query.

    From the live table; as known at an earlier instant, from what had been recorded
    by then (an object recorded later is absent).
    """
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return []
    if _known_at.get() is None:
        return list(
            model._default_manager.filter(pk__in=_in_ids(wanted)).values(*fields)
        )
    return states_as_of(model, LATEST, tuple(fields), ids=wanted)  # type: ignore[arg-type]


def _history_model(model: type[RecordedModel]) -> type[models.Model]:
    return model.history.model


def _in_ids(ids: Iterable[int]) -> RawSQL | list[int]:
    """The right-hand side of an ``__in`` filter carrying any number of ids.

    As one parameter (an array, a JSON list): as-of reads at 100,000 units filter on
    tens of thousands of ids, and one placeholder per id costs the driver more than
    the database's work (and SQLite refuses more than 32,766 of them).
    """
    wanted = sorted(set(ids))
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (wanted,))
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(wanted),))
    return wanted


def _latest_revisions(
    model: type[RecordedModel],
    when: datetime.datetime,
    *,
    ids: Iterable[int] | models.QuerySet | None = None,
    started_by: datetime.date | None = None,
) -> models.QuerySet:
    """History rows giving each object's state as of ``when`` (one query when read).

    ``ids`` limits them to some objects: ids, or a query of them (``_ever_matched``).
    Deletions (``history_type`` "-") are among them: filtering them out here would,
    on PostgreSQL, pick a deleted object's last earlier revision instead.
    """
    history = _history_model(model)
    rows = recorded_by(history._default_manager.filter(history_date__lte=when))
    if isinstance(ids, models.QuerySet):
        rows = rows.filter(id__in=ids)
    elif ids is not None:
        rows = rows.filter(id__in=_in_ids(ids))
    if connection.vendor == "postgresql":
        rows = rows.order_by("id", *NEWEST_REVISION_FIRST).distinct("id")
        if started_by is None:
            return rows
        # The start is read from the revision chosen: a correction may move it, so a
        # row filtered before choosing could let an earlier revision's start win.
        return history._default_manager.filter(
            history_id__in=rows.values("history_id"), started_on__lte=started_by
        )
    # Elsewhere (SQLite): number each object's revisions, newest first, over the narrow
    # (history_id, id, history_date) columns alone, then fetch the first by key. A
    # subquery correlated per row costs about ten times as much on SQLite.
    latest = (
        rows.annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("id")],
                order_by=[F("history_date").desc(), F("history_id").desc()],
            )
        )
        .filter(position=1)
        .values("history_id")
    )
    chosen = history._default_manager.filter(history_id__in=latest)
    if started_by is not None:
        chosen = chosen.filter(started_on__lte=started_by)
    return chosen


def state_rows_as_of(
    model: type[RecordedModel],
    when: datetime.datetime,
    fields: Sequence[str],
    *,
    ids: Iterable[int] | models.QuerySet | None = None,
    started_by: datetime.date | None = None,
) -> list[tuple[Any, ...]]:
    """``states_as_of()`` as tuples of ``fields``: about half the cost per row.

    ``started_by`` keeps objects whose ``started_on`` is on or before that day, as
    the revision in force says (a correction may change it).
    """
    rows = _latest_revisions(model, when, ids=ids, started_by=started_by)
    return [
        row[1:] for row in rows.values_list("history_type", *fields) if row[0] != "-"
    ]


def iter_state_rows_as_of(
    model: type[RecordedModel],
    when: datetime.datetime,
    fields: Sequence[str],
    *,
    ids: Iterable[int] | models.QuerySet | None = None,
    started_by: datetime.date | None = None,
) -> Iterator[tuple[Any, ...]]:
    """``state_rows_as_of()`` read as the rows are consumed, ``CHUNK_ROWS`` at a time.

    For callers that keep a few of the rows, or each row's bytes rather than the row:
    a whole registry's states as tuples take several times the memory of their JSON.
    """
    rows = _latest_revisions(model, when, ids=ids, started_by=started_by).values_list(
        "history_type", *fields
    )
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        if row[0] != "-":
            yield row[1:]


def _ever_matched(model: type[RecordedModel], condition: Q) -> models.QuerySet:
    """Ids of the objects any revision of which matched ``condition``.

    For ``ids=``: the states read are then those objects' alone, and the caller checks
    the condition on them (an object may have matched only in another revision).
    """
    return _history_model(model)._default_manager.filter(condition).values("id")


def states_as_of(
    model: type[RecordedModel],
    when: datetime.datetime,
    fields: Sequence[str],
    *,
    ids: Iterable[int] | models.QuerySet | None = None,
    started_by: datetime.date | None = None,
) -> list[dict[str, Any]]:
    """Each object's ``fields`` as of ``when``, from its latest revision, in one query."""
    return [
        dict(zip(fields, row, strict=True))
        for row in state_rows_as_of(model, when, fields, ids=ids, started_by=started_by)
    ]


def records_as_of(
    model: type[RecordedModel],
    when: datetime.datetime | None,
    fields: Iterable[str],
    *,
    ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Each object's state as of ``when`` (None: now), by id, in one query.

    Now is the latest revision: history and tables agree (``history_problems``).
    """
    rows = states_as_of(model, when or LATEST, tuple(fields), ids=ids)
    return sorted(rows, key=lambda row: row["id"])


def texts_as_of(
    model: type[RecordedModel],
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
    rows = states_as_of(model, when or LATEST, ("id", *fields), ids=ids)
    return {row["id"]: tuple(row[field] or "" for field in fields) for row in rows}

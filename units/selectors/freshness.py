"""When a cached answer is still true: the one rule every cached read follows.

**An answer as of an instant T changes only when a change effective at or before T is
recorded.** Every as-of read rebuilds states from history rows whose effective time
(``history_date``) is at or before T, so a write effective at E leaves every answer
for an instant before E as it was, and a backdated write (effective in the past,
recorded now) changes every answer for an instant at or after its effective time.

How the rule is checked:

- An answer for a past instant carries the *stamp* it was built at: the newest history
  id of each recorded model, and the restore epoch. ``still_valid`` asks the database
  (one query) whether any history row recorded after the stamp is effective at or
  before T. None: the answer stands, and its stamp moves up to now, so the next check
  reads only what is recorded after that. Every write appends history rows in
  recording order, under the registry lock (``services.revisions``), and nothing
  edits or deletes them, so rows past the stamp are exactly what was recorded since.
- An answer for *now* (no ``as_of``) is changed by every write, as every write is
  effective at or before now: it is keyed on the registry generation, which every
  write raises (``registry_generation``), at the cost of one small query.
- Restoring a backup replaces the history wholesale; it moves the generation into a
  new epoch (``RESTORE_EPOCH``), and a stamp from another epoch is never valid.

The answer must be a function of those history rows alone (slugs, which never change,
and each object's first recorded state may also be read): an as-of read that looks at
a current row for anything else may not use the rule, unless it says which
(``CurrentReads``): the change feed over a past window names units, posts and people
by their current names, so any revision of one of those recorded since the stamp,
whatever its effective time, makes it stale too. Once revisions carry the
instant they became known (``known_at``, issue 14), the rule gains a second axis: an
answer as of (T, K) also stays valid when the write's ``known_at`` is after K.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    RegistryState,
    UnitRelationship,
    UnitSuccession,
)
from units.selectors.as_of import current_known_at

# Their names in a snapshot's generation (fixed, never translated).
_STAMPED_NAMES = (
    "units",
    "posts",
    "people",
    "appointments",
    "relationships",
    "lineage",
)

# Restoring a backup moves the generation to the next multiple of this: writes add
# one each, so the epoch (generation // RESTORE_EPOCH) counts restores.
RESTORE_EPOCH = 2**32

# A stamp: the restore epoch, then the newest history id of each model (0: none).
Stamp = tuple[int, ...]

STAMPED_MODELS: tuple[type[RecordedModel], ...] = (
    OrganizationalUnit,
    Post,
    Person,
    Appointment,
    UnitRelationship,
    UnitSuccession,
)


def history_tables() -> list[str]:
    quote = connection.ops.quote_name
    return [quote(model.history.model._meta.db_table) for model in STAMPED_MODELS]


def generation_sql() -> str:
    table = connection.ops.quote_name(RegistryState._meta.db_table)
    return f"(SELECT generation FROM {table} WHERE id = 1)"  # noqa: S608 - our table


def newest_ids_sql(tables: list[str]) -> list[str]:
    return [
        f"(SELECT MAX(history_id) FROM {table})"  # noqa: S608 - our own tables
        for table in tables
    ]


def _epoch(generation: int | None) -> int:
    return (generation or 0) // RESTORE_EPOCH


def next_restore_epoch(generation: int) -> int:
    """The generation a restore moves to: the first of the epoch after
    ``generation``'s, so no stamp or cache key from before it is ever valid again."""
    return (_epoch(generation) + 1) * RESTORE_EPOCH


def stamp_position(model: type[models.Model]) -> int:
    """Which entry of a stamp holds ``model``'s newest history id (0 is the epoch)."""
    return next(
        position
        for position, stamped in enumerate(STAMPED_MODELS, start=1)
        if stamped is model
    )


def stamp_now() -> Stamp:
    """The stamp of an answer built from now on (one query, on indexes only).

    Read before the answer is built: a write landing meanwhile is past the stamp, so
    it makes the answer be checked again (and rebuilt if it touches its instant).
    """
    tables = history_tables()
    sql = "SELECT " + ", ".join([generation_sql(), *newest_ids_sql(tables)])
    with connection.cursor() as cursor:
        cursor.execute(sql)
        generation, *newest = cursor.fetchone()
    return (_epoch(generation), *(pk or 0 for pk in newest))


@dataclass(frozen=True)
class CurrentReads:
    """The objects an as-of answer read as they are now, besides the history up to
    its instant: any revision of one of them recorded later may change the answer.

    ``objects``: (model label, ids), like ``("units.post", frozenset({3, 8}))``.
    ``generation``: the answer also read rows kept without history (a
    reorganization's heading), so any write since that generation makes it stale.
    """

    objects: tuple[tuple[str, frozenset[int]], ...] = ()
    generation: int | None = None


def still_valid(
    stamp: Stamp, when: datetime.datetime, current: CurrentReads | None = None
) -> Stamp | None:
    """The stamp an answer as of ``when`` built at ``stamp`` now has, or None if a
    change recorded since then is effective at or before ``when``, or is a revision
    of an object the answer read as it is now (``current``). One query."""
    checked = check_stamp(stamp, when, current)
    return None if checked is None else checked.stamp


@dataclass(frozen=True, slots=True)
class StampCheck:
    """A stamp found still valid, and the registry generation it was checked at."""

    stamp: Stamp
    generation: int


def check_stamp(
    stamp: Stamp,
    when: datetime.datetime,
    current: CurrentReads | None = None,
    *,
    valid_at: int | None = None,
) -> StampCheck | None:
    """``still_valid``, with the generation read in the same query.

    ``valid_at``: the generation at which ``stamp`` was last found valid. Every write
    raises the generation in the transaction that appends its history rows, so while
    it is the same nothing is recorded past the stamp: reading it is the whole check.
    """
    if valid_at is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + generation_sql())
            (generation,) = cursor.fetchone()
        if (generation or 0) == valid_at:
            return StampCheck(stamp, valid_at)
    tables = history_tables()
    if len(stamp) != len(tables) + 1:
        return None
    touched = [
        f"EXISTS (SELECT 1 FROM {table} WHERE history_id > %s "  # noqa: S608
        "AND history_date <= %s)"
        for table in tables
    ]
    moment = connection.ops.adapt_datetimefield_value(when)
    parameters: list[Any] = []
    for newest in stamp[1:]:
        parameters += [newest, moment]
    read_now = dict(current.objects) if current is not None else {}
    for position, model in enumerate(STAMPED_MODELS, start=1):
        ids = sorted(read_now.pop(model._meta.label_lower, ()))
        if ids:
            touched.append(
                f"EXISTS (SELECT 1 FROM {tables[position - 1]} "  # noqa: S608
                f"WHERE history_id > %s AND id IN ({', '.join(['%s'] * len(ids))}))"
            )
            parameters += [stamp[position], *ids]
    if read_now:
        return None  # a model whose revisions are not stamped: cannot tell
    sql = "SELECT " + ", ".join([generation_sql(), *newest_ids_sql(tables), *touched])
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        row = cursor.fetchone()
    generation, newest_ids, touches = (
        row[0],
        row[1 : 1 + len(tables)],
        row[1 + len(tables) :],
    )
    if _epoch(generation) != stamp[0] or any(touches):
        return None
    if current is not None and current.generation not in (None, generation):
        return None
    if any((pk or 0) < known for pk, known in zip(newest_ids, stamp[1:], strict=True)):
        return None  # rows gone: the history was replaced
    return StampCheck((stamp[0], *(pk or 0 for pk in newest_ids)), generation or 0)


@dataclass(frozen=True, slots=True)
class GenerationAt:
    """The registry's generation as far as one instant is concerned.

    ``registry_generation`` moves with every write, even one effective long after the
    instant; this moves only with what can change an answer as of it, by the rule
    above: the restore epoch, the newest history id of each model among the rows
    effective at or before the instant, and when the newest of those rows was
    recorded (None: nothing was). A snapshot carries it, so it is the same for as
    long as the snapshot's content is.
    """

    epoch: int
    newest_ids: dict[str, int]
    recorded_at: datetime.datetime | None


def generation_at(when: datetime.datetime) -> GenerationAt:
    """The generation of the registry's record of ``when`` (one query)."""
    moment = connection.ops.adapt_datetimefield_value(when)
    # As known at an earlier instant: the rows recorded by then alone.
    known_at = current_known_at()
    known = "" if known_at is None else " AND recorded_at <= %s"
    limits = [moment]
    if known_at is not None:
        limits.append(connection.ops.adapt_datetimefield_value(known_at))
    columns = [generation_sql()]
    parameters: list[Any] = []
    for table in history_tables():
        columns.append(
            f"(SELECT MAX(history_id) FROM {table} WHERE history_date <= %s{known})"  # noqa: S608
        )
        columns.append(
            f"(SELECT MAX(recorded_at) FROM {table} WHERE history_date <= %s{known})"  # noqa: S608
        )
        parameters += [*limits, *limits]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns), parameters)
        generation, *newest = cursor.fetchone()
    ids = newest[0::2]
    recorded = [_as_datetime(value) for value in newest[1::2] if value is not None]
    return GenerationAt(
        epoch=_epoch(generation),
        newest_ids={
            name: pk or 0 for name, pk in zip(_STAMPED_NAMES, ids, strict=True)
        },
        recorded_at=max(recorded, default=None),
    )


def _as_datetime(value: Any) -> datetime.datetime:
    """A raw ``recorded_at`` column as an aware UTC datetime (SQLite gives text)."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)

"""What objects were over a stretch of time, replayed from their history, for writes.

A backdated write holds from its effective time on, so the checks that guard it must
look at the registry at that time and at every recorded change since, not at today's
rows: a parent abolished then and reinstated since, or a sub-unit that reported to a
unit then and has moved away since, is invisible now. Writes read every record
(``known_at`` is a read's instant, never a write's).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from units.models import REVISION_ORDER, RecordedModel


@dataclass(frozen=True, slots=True)
class Held:
    """An object's state from ``start`` until ``end`` (None: until now, or later)."""

    start: datetime.datetime
    end: datetime.datetime | None
    state: dict[str, Any]


def states_over(
    model: type[RecordedModel],
    ids: Iterable[int] | models.QuerySet,
    fields: Sequence[str],
    start: datetime.datetime,
    end: datetime.datetime | None = None,
) -> dict[int, list[Held]]:
    """Each object's states over ``[start, end)`` (``end`` None: open), in one query.

    ``end`` is excluded: a write that holds until a later change of the object ends
    there, and what changes at that very instant (a parent abolished as the unit
    moves away, in one reorganization) no longer concerns it.

    The first state is the one in force at ``start``, if the object existed then;
    each later one begins at an effective time within the stretch, where among rows
    of one effective time the later recorded wins (a correction). A deletion ends the
    object's states.
    """
    history = model.history.model._default_manager.filter(id__in=ids)
    if end is not None:
        history = history.filter(history_date__lt=end)
    rows = history.order_by("id", *REVISION_ORDER).values_list(
        "id", "history_date", "history_type", *fields
    )
    by_object: dict[int, list[tuple[datetime.datetime, str, dict[str, Any]]]] = {}
    for pk, effective, kind, *values in rows:
        revisions = by_object.setdefault(pk, [])
        state = dict(zip(fields, values, strict=True))
        if revisions and revisions[-1][0] == effective:
            revisions[-1] = (effective, kind, state)
        else:
            revisions.append((effective, kind, state))
    return {
        pk: list(_held(revisions, start, end)) for pk, revisions in by_object.items()
    }


def _held(
    revisions: list[tuple[datetime.datetime, str, dict[str, Any]]],
    start: datetime.datetime,
    end: datetime.datetime | None,
) -> Iterator[Held]:
    in_force = [
        index for index, (effective, _, _) in enumerate(revisions) if effective <= start
    ]
    first = in_force[-1] if in_force else 0
    for index in range(first, len(revisions)):
        effective, kind, state = revisions[index]
        if kind == "-":
            return
        following = revisions[index + 1][0] if index + 1 < len(revisions) else end
        yield Held(max(effective, start), following, state)


@dataclass(frozen=True, slots=True)
class Abolition:
    """An object abolished on ``abolished_on`` and reinstated at ``reinstated_at``
    (None: not since)."""

    abolished_on: datetime.date
    reinstated_at: datetime.datetime | None


def abolished_within(
    model: type[RecordedModel],
    pk: int,
    start: datetime.datetime,
    end: datetime.datetime | None = None,
) -> Abolition | None:
    """The first abolition of an object in force at any instant of ``[start, end)``
    (``end`` None: open), or None if it was active throughout. One query."""
    stretch = states_over(model, [pk], ("abolished_on",), start, end).get(pk, [])
    for index, held in enumerate(stretch):
        abolished_on = held.state["abolished_on"]
        if abolished_on is None:
            continue
        reinstated = (
            later.start
            for later in stretch[index + 1 :]
            if later.state["abolished_on"] is None
        )
        return Abolition(abolished_on, next(reinstated, None))
    return None

"""The change feed: what changed between two instants, a page at a time."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber

from units.models import (
    NEWEST_REVISION_FIRST,
    REVISION_ORDER,
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    UnitRelationship,
    UnitSuccession,
)
from units.selectors.as_of import (
    _history_model,
    _latest_revisions,
    current_known_at,
    reading_as_known_at,
)
from units.selectors.changes import entries
from units.selectors.changes.appointments import appointment_changes
from units.selectors.changes.entries import Revision, RevisionPairs, feed_fields
from units.selectors.changes.lineage import lineage_changes
from units.selectors.changes.names import FeedNames, feed_names
from units.selectors.changes.people import person_changes
from units.selectors.changes.posts import post_changes
from units.selectors.changes.relationships import relationship_changes
from units.selectors.changes.selection import EVERY_CHANGE, FeedFilter
from units.selectors.changes.units import unit_changes
from units.selectors.corrections import (
    carried_forward,
    corrected_rows,
    correction_of,
    visible,
)
from units.selectors.fields import REVISION_COLUMNS
from units.selectors.instants import InvalidInstant
from units.selectors.results import Change, Correction

# A revision's place in the feed: effective time, history_id, source table.
RevisionPlace = tuple[datetime.datetime, int, int]
ChangesOf = Callable[[Revision, Revision | None, FeedNames], list[Change]]

# The history tables the feed reads, each with what its revisions record as changes,
# in the order that breaks a tie of (effective time, history_id) between tables:
# history ids are counted per table, so a unit's revision and an appointment's can
# share both. A table's place is its ``source`` in cursors: new tables go at the end,
# so that every cursor already handed out keeps its place.
FEED_KINDS: tuple[tuple[type[RecordedModel], ChangesOf], ...] = (
    (OrganizationalUnit, unit_changes),
    (Appointment, appointment_changes),
    (UnitRelationship, relationship_changes),
    (Post, post_changes),
    (Person, person_changes),
    (UnitSuccession, lineage_changes),
)
# Each table with the fields its changes need.
FEED_SOURCES: tuple[tuple[type[RecordedModel], tuple[str, ...]], ...] = tuple(
    (model, feed_fields(model)) for model, _ in FEED_KINDS
)
CHANGES_OF: tuple[ChangesOf, ...] = tuple(changes_of for _, changes_of in FEED_KINDS)
# What each table's objects are, as the feed's entries name them (``object.type``).
OBJECT_TYPES = tuple(entries.OBJECT_TYPES[model] for model, _ in FEED_KINDS)


@dataclass(frozen=True, order=True, slots=True)
class ChangeKey:
    """A change's place in the feed, whose order is total.

    Effective time, then history_id, then the history table (``source``: its place
    in ``FEED_SOURCES``: 0 units, 1 appointments, 2 relationships, 3 posts, 4
    people, 5 lineage links), then ``ordinal``: the change's place, from 1,
    among those its revision records (one revision can rename a unit and rewrite its
    mandate). A key also names a point between changes: ordinal 0 lies before a
    revision's first change.
    """

    effective_at: datetime.datetime
    history_id: int
    source: int
    ordinal: int


@dataclass(slots=True)
class ChangePage:
    """A stretch of the change feed, oldest first, and where its neighbours start."""

    changes: list[Change]
    # Pass as ``after`` to read on; None: nothing follows in the window.
    later: ChangeKey | None
    # Pass as ``before`` to read back; None: the stretch starts the window.
    earlier: ChangeKey | None


def _feed_columns(fields: Sequence[str]) -> tuple[str, ...]:
    return (*REVISION_COLUMNS, "reorganization_id", *fields)


def _paired(rows: list[Revision], earlier: dict[int, Revision]) -> RevisionPairs:
    """Each row (oldest first) with its object's revision before it, if any."""
    pairs = []
    for row in rows:
        pairs.append((row, earlier.get(row["id"])))
        earlier[row["id"]] = row
    return pairs


def _window_with_previous(
    model: type[RecordedModel],
    since: datetime.datetime,
    until: datetime.datetime,
    fields: Sequence[str],
) -> RevisionPairs:
    """Each revision effective in (since, until] paired with the one before it."""
    history = _history_model(model)
    columns = _feed_columns(fields)
    window = list(
        visible(
            history._default_manager.filter(
                history_date__gt=since, history_date__lte=until
            )
        )
        .order_by(*REVISION_ORDER)
        .values(*columns)
    )
    earlier = {
        row["id"]: row
        for row in _latest_revisions(
            model, since, ids={row["id"] for row in window}
        ).values(*columns)
    }
    return _paired(window, earlier)


def _previous_id(history: models.Manager) -> Subquery:
    """The history_id of the visible revision of a row's object just before it."""
    before = (
        visible(history.filter(id=OuterRef("id")))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(
                history_date=OuterRef("history_date"),
                history_id__lt=OuterRef("history_id"),
            )
        )
        .order_by(*NEWEST_REVISION_FIRST)
        .values("history_id")[:1]
    )
    return Subquery(before)


def _feed_revisions(
    model: type[RecordedModel],
    fields: Sequence[str],
    since: datetime.datetime,
    until: datetime.datetime,
    *,
    bound: ChangeKey | None,
    strict: bool,
    descending: bool,
    count: int,
    only: Q | None = None,
) -> list[Revision]:
    """Up to ``count`` revisions effective in (since, until], onwards from ``bound``.

    In (history_date, history_id) order, or back from ``bound`` if ``descending``. The
    row comparison is spelled as a range on history_date plus a filter on the
    rows of its first instant, so the (history_date, history_id) index hands the rows
    over in order and the read stops after ``count``, on SQLite and PostgreSQL alike.

    ``only`` (a filter's condition) keeps some rows: those read then need not follow
    each other in their object's history, so each carries the history_id of its
    object's revision just before it (``previous_history_id``).
    """
    history = _history_model(model)._default_manager
    rows = visible(history.filter(history_date__gt=since, history_date__lte=until))
    columns = _feed_columns(fields)
    if only is not None:
        rows = rows.filter(only).annotate(previous_history_id=_previous_id(history))
        columns = (*columns, "previous_history_id")
    if bound is not None:
        beyond, reaching = ("lt", "lte") if descending else ("gt", "gte")
        instant = bound.effective_at
        tie = Q(**{f"history_id__{beyond if strict else reaching}": bound.history_id})
        rows = rows.filter(
            Q(**{f"history_date__{beyond}": instant}) | tie,
            **{f"history_date__{reaching}": instant},
        )
    order = NEWEST_REVISION_FIRST if descending else REVISION_ORDER
    return list(rows.order_by(*order).values(*columns)[:count])


def _paired_with_previous(
    model: type[RecordedModel], fields: Sequence[str], rows: list[Revision]
) -> RevisionPairs:
    """Each row read with a filter paired with the revision its
    ``previous_history_id`` names, in one query."""
    wanted = {row["previous_history_id"] for row in rows} - {None}
    # By history_id alone: the subquery already chose a row visible as known then.
    previous = (
        {
            row["history_id"]: row
            for row in _history_model(model)
            ._default_manager.filter(history_id__in=wanted)
            .values(*_feed_columns(fields))
        }
        if wanted
        else {}
    )
    return [(row, previous.get(row["previous_history_id"])) for row in rows]


def _revisions_before(
    model: type[RecordedModel], fields: Sequence[str], first: Revision, ids: set[int]
) -> dict[int, Revision]:
    """Each object's latest revision before ``first``, in one query.

    ``first`` is the earliest of a run of consecutive revisions read in order, so no
    revision of these objects lies between what this finds and the run.
    """
    instant, history_id = first["history_date"], first["history_id"]
    before = Q(history_date__lt=instant) | Q(
        history_date=instant, history_id__lt=history_id
    )
    latest_first = Window(
        RowNumber(),
        partition_by=[F("id")],
        order_by=[F("history_date").desc(), F("history_id").desc()],
    )
    rows = (
        visible(_history_model(model)._default_manager.filter(before, id__in=ids))
        .annotate(position=latest_first)
        .filter(position=1)
        .values(*_feed_columns(fields))
    )
    return {row["id"]: row for row in rows}


def _known_at(only: FeedFilter) -> datetime.datetime | None:
    """What a reading of the feed knows: the reading's ``known_at``, or the end of
    ``only``'s window of recorded time if earlier (None: now)."""
    known_at, until = current_known_at(), only.recorded_until
    if until is not None and (known_at is None or until < known_at):
        return until
    return known_at


def _feed_stretch(
    since: datetime.datetime,
    until: datetime.datetime,
    position: ChangeKey | None,
    *,
    descending: bool,
    limit: int,
    only: FeedFilter = EVERY_CHANGE,
) -> tuple[list[tuple[ChangeKey, Change]], RevisionPlace | None]:
    """The changes near ``position`` (nearest first), read by index, and their horizon.

    Reads ``limit + 1`` revisions of each history table onwards from ``position``
    (back from it if ``descending``). Where a table filled its read, what lies beyond
    its last row is unknown, so the stretch ends at the nearest such row, the horizon
    (effective time, history_id, source), None if every table was read to the end of
    the window. The revisions up to it yield at least ``limit`` changes unless some
    record nothing the feed lists (a new location, say). The row at ``position`` is
    read again: the caller drops the changes of it that it has already given.
    A table ``only`` keeps nothing of is not read.
    """
    if limit < 1:
        raise ValueError("A page holds at least one change.")
    with reading_as_known_at(_known_at(only)):
        return _stretch_as_known(
            since, until, position, descending=descending, limit=limit, only=only
        )


def _stretch_as_known(
    since: datetime.datetime,
    until: datetime.datetime,
    position: ChangeKey | None,
    *,
    descending: bool,
    limit: int,
    only: FeedFilter,
) -> tuple[list[tuple[ChangeKey, Change]], RevisionPlace | None]:
    """``_feed_stretch`` within its reading's ``known_at``."""
    count = limit + 1
    reads: list[list[Revision]] = []
    for source, (model, fields) in enumerate(FEED_SOURCES):
        condition = only.rows(model)
        if condition is None:
            reads.append([])
            continue
        # Tables that sort before the position's at its instant and history_id have
        # given that row already; the position's own table reads it again.
        strict = position is not None and (
            source > position.source if descending else source < position.source
        )
        reads.append(
            _feed_revisions(
                model,
                fields,
                since,
                until,
                bound=position,
                strict=strict,
                descending=descending,
                count=count,
                only=condition if only.is_filtered else None,
            )
        )
    ends: list[RevisionPlace] = [
        (rows[-1]["history_date"], rows[-1]["history_id"], source)
        for source, rows in enumerate(reads)
        if len(rows) == count
    ]
    horizon = (max if descending else min)(ends, default=None)

    def within(row: Revision, source: int) -> bool:
        if horizon is None:
            return True
        place = (row["history_date"], row["history_id"], source)
        return place >= horizon if descending else place <= horizon

    pairs = []
    for source, ((model, fields), rows) in enumerate(
        zip(FEED_SOURCES, reads, strict=True)
    ):
        covered = [row for row in rows if within(row, source)]
        if descending:
            covered.reverse()
        if only.is_filtered:
            pairs.append(_paired_with_previous(model, fields, covered))
            continue
        earlier = (
            _revisions_before(model, fields, covered[0], {row["id"] for row in covered})
            if covered
            else {}
        )
        pairs.append(_paired(covered, earlier))
    keyed = _keyed_changes(pairs, learned_since=only.recorded_since)
    keyed.sort(key=itemgetter(0), reverse=descending)
    return keyed, horizon


def _changes_at(keyed: list[tuple[ChangeKey, Change]], place: RevisionPlace) -> int:
    """How many changes the revision at ``place`` records."""
    return sum(
        1 for key, _ in keyed if (key.effective_at, key.history_id, key.source) == place
    )


def _group_cut(
    keyed: list[tuple[ChangeKey, Change]], end: int, *, may_continue: bool
) -> int:
    """Where a page of ``keyed[:end]`` (in reading order) ends so as not to split the
    changes of one reorganization between pages.

    If the last change kept belongs to a reorganization whose changes ``may_continue``
    past it, the page ends before that reorganization's first change on the page
    (all of them share its effective time, so only changes of that same instant lie
    between). Unless that is the page's first change: a reorganization of more changes
    than a page holds goes on on the next page.
    """
    if end == 0 or not may_continue:
        return end
    reorganization = keyed[end - 1][1].reorganization_id
    if reorganization is None:
        return end
    start = next(
        index
        for index, (_key, change) in enumerate(keyed[:end])
        if change.reorganization_id == reorganization
    )
    return start or end


def _continues(
    keyed: list[tuple[ChangeKey, Change]], end: int, horizon: RevisionPlace | None
) -> bool:
    """Whether the reorganization of the change before ``end`` may have changes beyond it.

    The next change read says so; if none was read, the horizon does: every change
    up to it was read, so a reorganization effective before the horizon's instant is
    whole (its revisions all carry its effective time).
    """
    if end == 0:
        return False
    last = keyed[end - 1][1]
    if end < len(keyed):
        return keyed[end][1].reorganization_id == last.reorganization_id
    return horizon is not None and horizon[0] == last.effective_at


def changes_page(
    since: datetime.datetime,
    until: datetime.datetime,
    *,
    after: ChangeKey | None = None,
    limit: int,
    only: FeedFilter = EVERY_CHANGE,
) -> ChangePage:
    """Up to ``limit`` changes with effect in (since, until] after ``after``, oldest first.

    The same changes in the same order as ``changes_between``, whose slice this is,
    but read by index from ``after`` (``limit + 1`` revisions of each history table
    and the states before them), so a page costs the same whatever the window; fixed
    query count. A page can hold fewer than ``limit`` changes while more follow, when
    some revisions it read record nothing the feed lists; ``later`` is None only at
    the end of the window. A page never ends inside the changes of a reorganization
    (``_group_cut``) unless they alone fill it. ``only``: the changes to keep.
    """
    if until < since:
        raise InvalidInstant("until must not be earlier than since.")
    keyed, horizon = _feed_stretch(
        since, until, after, descending=False, limit=limit, only=only
    )
    later = None
    if horizon is not None:
        # Past the horizon's revision, all of whose changes this page covers.
        later = ChangeKey(*horizon, ordinal=_changes_at(keyed, horizon))
    if after is not None:
        keyed = [item for item in keyed if item[0] > after]
    end = min(len(keyed), limit)
    if later is not None or len(keyed) > limit:
        end = _group_cut(keyed, end, may_continue=_continues(keyed, end, horizon))
    if end < len(keyed):
        keyed = keyed[:end]
        later = keyed[-1][0]
    earlier = None
    if after is not None:
        earlier = (
            keyed[0][0]
            if keyed
            else ChangeKey(
                after.effective_at, after.history_id, after.source, after.ordinal + 1
            )
        )
    return ChangePage([change for _, change in keyed], later, earlier)


def changes_page_before(
    since: datetime.datetime,
    until: datetime.datetime,
    *,
    before: ChangeKey | None = None,
    limit: int,
    only: FeedFilter = EVERY_CHANGE,
) -> ChangePage:
    """Up to ``limit`` changes with effect in (since, until] just before ``before``.

    Without ``before``, the latest changes of the window (the Atom feed), read back
    from ``until`` by index without computing the window; with it, the page before a
    page of ``changes_page``. Oldest first, like every page; as ``changes_page``
    otherwise, ``earlier`` being None only at the start of the window, and never
    starting inside the changes of a reorganization unless they alone fill it.
    """
    if until < since:
        raise InvalidInstant("until must not be earlier than since.")
    keyed, horizon = _feed_stretch(
        since, until, before, descending=True, limit=limit, only=only
    )
    if before is not None:
        keyed = [item for item in keyed if item[0] < before]
    earlier = None
    end = min(len(keyed), limit)
    if horizon is not None or len(keyed) > limit:
        end = _group_cut(keyed, end, may_continue=_continues(keyed, end, horizon))
    if end < len(keyed):
        keyed = keyed[:end]
        earlier = keyed[-1][0]
    elif horizon is not None:
        # Before the horizon's revision, all of whose changes this page covers.
        earlier = ChangeKey(*horizon, ordinal=1)
    later = None
    if before is not None:
        later = (
            keyed[0][0]
            if keyed
            else ChangeKey(
                before.effective_at,
                before.history_id,
                before.source,
                before.ordinal - 1,
            )
        )
    return ChangePage([change for _, change in reversed(keyed)], later, earlier)


def changes_between(since: datetime.datetime, until: datetime.datetime) -> list[Change]:
    """What changed with effect in (since, until], oldest first, in a fixed query count.

    The whole window at once, for readers that need all of it (the compare page,
    exports); the API reads it a page at a time with ``changes_page``.
    """
    if until < since:
        raise InvalidInstant("until must not be earlier than since.")
    keyed = _keyed_changes(
        [
            _window_with_previous(model, since, until, fields)
            for model, fields in FEED_SOURCES
        ]
    )
    keyed.sort(key=itemgetter(0))
    return [change for _, change in keyed]


def _keyed_changes(
    pair_lists: Sequence[RevisionPairs],
    *,
    restatements: bool = True,
    learned_since: datetime.datetime | None = None,
) -> list[tuple[ChangeKey, Change]]:
    """The feed's changes recorded by these revisions (a list of revision pairs per
    table of ``FEED_SOURCES``), each with its key; 3 queries at most, and one more
    per table some of whose revisions are corrections (the rows they correct).

    Every field a revision changed is in one of its changes (``Change.fields``). A
    change of a field a correction changed carries it (``Change.correction``: when,
    and the values recorded before). A change a correcting row merely carried
    forward (none of its fields corrected) is the change of the revision it restates
    (``Change.restates``), recorded when that one was. Without ``restatements`` they
    are left out, and with ``learned_since`` those recorded by then: what the
    registry learned in a window of recorded time.
    """
    corrected_lists = [
        corrected_rows(
            _history_model(model), [row for row, _ in pairs], _feed_columns(fields)
        )
        for (model, fields), pairs in zip(FEED_SOURCES, pair_lists, strict=True)
    ]
    names = feed_names(
        [
            (
                model,
                fields,
                [*pairs, *((dict(row), None) for row in corrected.values())],
            )
            for (model, fields), pairs, corrected in zip(
                FEED_SOURCES, pair_lists, corrected_lists, strict=True
            )
        ]
    )
    keyed: list[tuple[ChangeKey, Change]] = []
    for source, (pairs, changes_of, (model, fields), corrected) in enumerate(
        zip(pair_lists, CHANGES_OF, FEED_SOURCES, corrected_lists, strict=True)
    ):
        carried = carried_forward([*(row for row, _ in pairs), *corrected.values()])
        for row, previous in pairs:
            ordinal = 0
            changes = changes_of(row, previous, names)
            if row.get("corrects_revision") is not None:
                changes += removed_changes(
                    changes_of, row, corrected, carried, changes, fields, names
                )
            for change in changes:
                if row.get("corrects_revision") is not None and not _as_corrected(
                    change, row, corrected, restatements, learned_since
                ):
                    continue
                if change.correction is not None:
                    change.correction = shown_correction(
                        model, change.correction, names
                    )
                ordinal += 1
                keyed.append(
                    (
                        ChangeKey(
                            row["history_date"], row["history_id"], source, ordinal
                        ),
                        change,
                    )
                )
    return keyed


def removed_changes(
    changes_of: ChangesOf,
    row: Revision,
    corrected: Mapping[int, Mapping[str, Any]],
    carried: set[int],
    changes: Sequence[Change],
    fields: Sequence[str],
    names: FeedNames,
) -> list[Change]:
    """The changes a correcting ``row`` made by removing a change: fields it set
    back to the value before the mistake, so that they differ from the row it
    corrects (``corrected``, by history_id) but from none before it. Worded as a change from the
    mistaken value, so that it is still seen, marked corrected; none if ``changes``
    (its ordinary changes) already cover every corrected field, or if ``row`` only
    carries a correction forward (its history_id in ``carried``, see
    ``carried_forward``: the field was corrected at the correction's own effective
    time, where it is shown).
    """
    mistake = corrected.get(row["corrects_revision"])
    if mistake is None or row["history_id"] in carried:
        return []
    covered = {name for change in changes for name in change.fields}
    removed = {
        name: mistake[name]
        for name in fields
        if name != "id" and name not in covered and mistake[name] != row[name]
    }
    if not removed:
        return []
    return changes_of(row, {**row, **removed}, names)


def shown_correction(
    model: type[RecordedModel], correction: Correction, names: FeedNames
) -> Correction:
    """``correction`` with its values as a reader sees them (``previous_display``)."""
    return dataclasses.replace(
        correction,
        previous_display={
            attname: names.shown(model, attname, value)
            for attname, value in correction.previous.items()
        },
    )


def _as_corrected(
    change: Change,
    row: Revision,
    corrected: Mapping[int, Mapping[str, Any]],
    restatements: bool,
    learned_since: datetime.datetime | None,
) -> bool:
    """Mark ``change`` of the correcting ``row`` as a correction or a restatement;
    whether it stays (see ``_keyed_changes``)."""
    restated = corrected.get(row["corrects_revision"])
    change.correction = correction_of(row, restated, change.fields)
    if change.correction is not None:
        return True
    change.restates = row["corrects_revision"]
    if restated is not None:
        change.recorded_at = restated["recorded_at"]
    if not restatements:
        return False
    return learned_since is None or change.recorded_at > learned_since


def changes_latest_recorded(
    since: datetime.datetime,
    until: datetime.datetime,
    *,
    limit: int,
    only: FeedFilter = EVERY_CHANGE,
) -> list[Change]:
    """The ``limit`` changes with effect in (since, until] the registry learned last,
    newest recorded first: the feed by recorded time (Atom's second view).

    Reads ``limit`` visible revisions of each table by the ``recorded_at`` index, each
    paired with its object's revision before it, as known now; a row that merely
    carries a correction forward records nothing new and is left out. Fixed query
    count (that of a filtered page of ``changes_page``).
    """
    if limit < 1:
        raise ValueError("A page holds at least one change.")
    if until < since:
        raise InvalidInstant("until must not be earlier than since.")
    pairs: list[RevisionPairs] = []
    for model, fields in FEED_SOURCES:
        condition = only.rows(model)
        if condition is None:
            pairs.append([])
            continue
        history = _history_model(model)._default_manager
        rows = list(
            visible(
                history.filter(
                    condition, history_date__gt=since, history_date__lte=until
                )
            )
            .annotate(previous_history_id=_previous_id(history))
            .order_by("-recorded_at", "-history_id")
            .values(*_feed_columns(fields), "previous_history_id")[:limit]
        )
        pairs.append(_paired_with_previous(model, fields, rows))
    keyed = _keyed_changes(pairs, restatements=False)
    keyed.sort(key=lambda item: (item[1].recorded_at, item[0]), reverse=True)
    return [change for _, change in keyed[:limit]]

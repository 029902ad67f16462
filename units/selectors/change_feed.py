"""The change feed: what changed between two instants, a page at a time."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.db import models
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from units.dates import moment_text
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    UnitRelationship,
)
from units.selectors.as_of import _history_model, _latest_revisions
from units.selectors.fields import REVISION_COLUMNS, tracked_fields
from units.selectors.instants import InvalidInstant
from units.selectors.results import Change

Revision = dict[str, Any]
RevisionPairs = list[tuple[Revision, Revision | None]]
# A revision's place in the feed: effective time, history_id, source table.
RevisionPlace = tuple[datetime.datetime, int, int]

# Every field each history table records (``tracked_fields``), and the object's id.
UNIT_CHANGE_FIELDS = ("id", *tracked_fields(OrganizationalUnit))
APPOINTMENT_CHANGE_FIELDS = ("id", *tracked_fields(Appointment))
RELATIONSHIP_CHANGE_FIELDS = ("id", *tracked_fields(UnitRelationship))
# The history tables the feed reads, with the fields its changes need, in the order
# that breaks a tie of (effective time, history_id) between tables: history ids are
# counted per table, so a unit's revision and an appointment's can share both.
FEED_SOURCES: tuple[tuple[type[RecordedModel], tuple[str, ...]], ...] = (
    (OrganizationalUnit, UNIT_CHANGE_FIELDS),
    (Appointment, APPOINTMENT_CHANGE_FIELDS),
    (UnitRelationship, RELATIONSHIP_CHANGE_FIELDS),
)
# How a change of a field no other kind covers is named: "<prefix><field>_changed".
FIELD_CHANGE_PREFIXES = {
    OrganizationalUnit: "",
    Appointment: "appointment_",
    UnitRelationship: "relationship_",
}


@dataclass(frozen=True, order=True, slots=True)
class ChangeKey:
    """A change's place in the feed, whose order is total.

    Effective time, then history_id, then the history table (``source``: 0 units,
    1 appointments, 2 relationships), then ``ordinal``: the change's place, from 1,
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
    return (*REVISION_COLUMNS, *fields)


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
        history._default_manager.filter(history_date__gt=since, history_date__lte=until)
        .order_by("history_date", "history_id")
        .values(*columns)
    )
    earlier = {
        row["id"]: row
        for row in _latest_revisions(
            model, since, ids={row["id"] for row in window}
        ).values(*columns)
    }
    return _paired(window, earlier)


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
) -> list[Revision]:
    """Up to ``count`` revisions effective in (since, until], onwards from ``bound``.

    In (history_date, history_id) order, or back from ``bound`` if ``descending``. The
    row comparison is spelled as a range on history_date plus a filter on the
    rows of its first instant, so the (history_date, history_id) index hands the rows
    over in order and the read stops after ``count``, on SQLite and PostgreSQL alike.
    """
    rows = _history_model(model)._default_manager.filter(
        history_date__gt=since, history_date__lte=until
    )
    if bound is not None:
        beyond, reaching = ("lt", "lte") if descending else ("gt", "gte")
        instant = bound.effective_at
        tie = Q(**{f"history_id__{beyond if strict else reaching}": bound.history_id})
        rows = rows.filter(
            Q(**{f"history_date__{beyond}": instant}) | tie,
            **{f"history_date__{reaching}": instant},
        )
    order = ("history_date", "history_id")
    if descending:
        order = ("-history_date", "-history_id")
    return list(rows.order_by(*order).values(*_feed_columns(fields))[:count])


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
        _history_model(model)
        ._default_manager.filter(before, id__in=ids)
        .annotate(position=latest_first)
        .filter(position=1)
        .values(*_feed_columns(fields))
    )
    return {row["id"]: row for row in rows}


def _feed_stretch(
    since: datetime.datetime,
    until: datetime.datetime,
    position: ChangeKey | None,
    *,
    descending: bool,
    limit: int,
) -> tuple[list[tuple[ChangeKey, Change]], RevisionPlace | None]:
    """The changes near ``position`` (nearest first), read by index, and their horizon.

    Reads ``limit + 1`` revisions of each history table onwards from ``position``
    (back from it if ``descending``). Where a table filled its read, what lies beyond
    its last row is unknown, so the stretch ends at the nearest such row, the horizon
    (effective time, history_id, source), None if every table was read to the end of
    the window. The revisions up to it yield at least ``limit`` changes unless some
    record nothing the feed lists (a new location, say). The row at ``position`` is
    read again: the caller drops the changes of it that it has already given.
    """
    if limit < 1:
        raise ValueError("A page holds at least one change.")
    count = limit + 1
    reads = []
    for source, (model, fields) in enumerate(FEED_SOURCES):
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
        earlier = (
            _revisions_before(model, fields, covered[0], {row["id"] for row in covered})
            if covered
            else {}
        )
        pairs.append(_paired(covered, earlier))
    keyed = _keyed_changes(*pairs)
    keyed.sort(key=itemgetter(0), reverse=descending)
    return keyed, horizon


def _changes_at(keyed: list[tuple[ChangeKey, Change]], place: RevisionPlace) -> int:
    """How many changes the revision at ``place`` records."""
    return sum(
        1 for key, _ in keyed if (key.effective_at, key.history_id, key.source) == place
    )


def changes_page(
    since: datetime.datetime,
    until: datetime.datetime,
    *,
    after: ChangeKey | None = None,
    limit: int,
) -> ChangePage:
    """Up to ``limit`` changes with effect in (since, until] after ``after``, oldest first.

    The same changes in the same order as ``changes_between``, whose slice this is,
    but read by index from ``after`` (``limit + 1`` revisions of each history table
    and the states before them), so a page costs the same whatever the window; fixed
    query count. A page can hold fewer than ``limit`` changes while more follow, when
    some revisions it read record nothing the feed lists; ``later`` is None only at
    the end of the window.
    """
    if until < since:
        raise InvalidInstant("until must not be earlier than since.")
    keyed, horizon = _feed_stretch(since, until, after, descending=False, limit=limit)
    later = None
    if horizon is not None:
        # Past the horizon's revision, all of whose changes this page covers.
        later = ChangeKey(*horizon, ordinal=_changes_at(keyed, horizon))
    if after is not None:
        keyed = [item for item in keyed if item[0] > after]
    if len(keyed) > limit:
        keyed = keyed[:limit]
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
) -> ChangePage:
    """Up to ``limit`` changes with effect in (since, until] just before ``before``.

    Without ``before``, the latest changes of the window (the Atom feed), read back
    from ``until`` by index without computing the window; with it, the page before a
    page of ``changes_page``. Oldest first, like every page; as ``changes_page``
    otherwise, ``earlier`` being None only at the start of the window.
    """
    if until < since:
        raise InvalidInstant("until must not be earlier than since.")
    keyed, horizon = _feed_stretch(since, until, before, descending=True, limit=limit)
    if before is not None:
        keyed = [item for item in keyed if item[0] < before]
    earlier = None
    if len(keyed) > limit:
        keyed = keyed[:limit]
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


def _change(kind: str, row: dict[str, Any], **values: Any) -> Change:
    return Change(
        kind=kind,
        effective_at=row["history_date"],
        recorded_at=row["recorded_at"],
        history_id=row["history_id"],
        reason=row["history_change_reason"] or "",
        reason_visibility=row["reason_visibility"],
        author=row["history_user__username"],
        **values,
    )


def changes_between(since: datetime.datetime, until: datetime.datetime) -> list[Change]:
    """What changed with effect in (since, until], oldest first, in a fixed query count.

    The whole window at once, for readers that need all of it (the compare page,
    exports); the API reads it a page at a time with ``changes_page``.
    """
    if until < since:
        raise InvalidInstant("until must not be earlier than since.")
    keyed = _keyed_changes(
        *(
            _window_with_previous(model, since, until, fields)
            for model, fields in FEED_SOURCES
        )
    )
    keyed.sort(key=itemgetter(0))
    return [change for _, change in keyed]


@functools.cache
def _model_field(model: type[models.Model], attname: str) -> models.Field:
    return next(
        field for field in model._meta.concrete_fields if field.attname == attname
    )


@dataclass(slots=True)
class _Names:
    """What the changes of a stretch of revisions name, read in 3 queries."""

    units: dict[int, dict[str, Any]]
    posts: dict[int, dict[str, Any]]
    people: dict[int, str]

    def unit_name(self, unit_id: int | None) -> str:
        return self.units[unit_id]["name"] if unit_id in self.units else "(top level)"

    def unit_ref(self, unit_id: int | None) -> dict[str, Any] | None:
        return _unit_ref(self.units, unit_id)

    def shown(self, model: type[models.Model], attname: str, value: Any) -> str:
        """A field's value as a reader sees it: a name, a choice's label, a date."""
        if value is None or value == "":
            return "—"
        field = _model_field(model, attname)
        if field.is_relation:
            related = field.related_model
            if related is OrganizationalUnit:
                return self.unit_name(value)
            if related is Post:
                return self.posts[value]["title"] if value in self.posts else ""
            if related is Person:
                return self.people.get(value, "")
            return str(value)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, datetime.date):
            return moment_text(value)
        return str(value)


def _names(pair_lists: Sequence[RevisionPairs]) -> _Names:
    """The units, posts and people named by these revisions and those before them."""
    wanted: dict[type[models.Model], set[int]] = {
        OrganizationalUnit: set(),
        Post: set(),
        Person: set(),
    }
    for (model, fields), pairs in zip(FEED_SOURCES, pair_lists, strict=True):
        if model is OrganizationalUnit:
            wanted[OrganizationalUnit] |= {row["id"] for row, _ in pairs}
        for attname in fields:
            related = _model_field(model, attname).related_model
            if not isinstance(related, type) or related not in wanted:
                continue
            for row, previous in pairs:
                for state in (row, previous):
                    if state is not None and state[attname] is not None:
                        wanted[related].add(state[attname])
    posts: dict[int, dict[str, Any]] = {
        row["id"]: dict(row)
        for row in Post.objects.filter(pk__in=wanted[Post]).values(
            "id", "title", "slug", "unit_id"
        )
    }
    wanted[OrganizationalUnit] |= {post["unit_id"] for post in posts.values()}
    units = {
        row["id"]: row
        for row in OrganizationalUnit.objects.filter(
            pk__in=wanted[OrganizationalUnit]
        ).values("id", "slug", "name")
    }
    people = dict(
        Person.objects.filter(pk__in=wanted[Person]).values_list("id", "full_name")
    )
    return _Names(units, posts, people)


def _changed_fields(
    fields: Sequence[str], row: Revision, previous: Revision
) -> list[str]:
    """The tracked fields (model order) whose value differs between two revisions."""
    return [name for name in fields if name != "id" and previous[name] != row[name]]


def _field_changes(
    model: type[models.Model],
    names: _Names,
    row: Revision,
    previous: Revision,
    fields: Sequence[str],
    subject: str,
    base: dict[str, Any],
) -> list[Change]:
    """One change per field that no kind of its own covers: ``<field>_changed``.

    What makes every recorded change of every field appear in the feed, whatever
    fields the model gains: a field's label and values come from the model.
    """
    changes = []
    for attname in fields:
        field = _model_field(model, attname)
        label = str(field.verbose_name)
        old = names.shown(model, attname, previous[attname])
        new = names.shown(model, attname, row[attname])
        changes.append(
            _change(
                f"{FIELD_CHANGE_PREFIXES[model]}{field.name}_changed",
                row,
                summary=f"{label[:1].upper()}{label[1:]} of {subject} changed from "
                f"{old} to {new}",
                details={
                    "field": field.name,
                    "label": label,
                    "subject": subject,
                    "old": previous[attname],
                    "new": row[attname],
                    "old_display": old,
                    "new_display": new,
                },
                fields=(attname,),
                **base,
            )
        )
    return changes


def _unit_changes(
    row: Revision, previous: Revision | None, names: _Names
) -> list[Change]:
    """The changes one unit revision records, every changed field in one of them."""
    base = {"unit_slug": row["slug"], "unit_name": row["name"]}
    if previous is None:
        return [
            _change(
                "added",
                row,
                summary=f"{row['name']} established under "
                f"{names.unit_name(row['parent_id'])}",
                details={"parent": names.unit_ref(row["parent_id"])},
                fields=UNIT_CHANGE_FIELDS[1:],
                **base,
            )
        ]
    left = _changed_fields(UNIT_CHANGE_FIELDS, row, previous)
    changes: list[Change] = []

    def take(*fields: str) -> tuple[str, ...]:
        """The fields among ``fields`` that changed, now accounted for."""
        taken = tuple(name for name in fields if name in left)
        for name in taken:
            left.remove(name)
        return taken

    if previous["abolished_on"] is None and row["abolished_on"] is not None:
        changes.append(
            _change(
                "abolished",
                row,
                summary=f"{row['name']} abolished",
                fields=take("abolished_on"),
                **base,
            )
        )
    if previous["abolished_on"] is not None and row["abolished_on"] is None:
        changes.append(
            _change(
                "reinstated",
                row,
                summary=f"{row['name']} reinstated",
                fields=take("abolished_on"),
                **base,
            )
        )
    if previous["parent_id"] != row["parent_id"]:
        changes.append(
            _change(
                "moved",
                row,
                summary=(
                    f"{row['name']} moved from {names.unit_name(previous['parent_id'])} "
                    f"to {names.unit_name(row['parent_id'])}"
                ),
                details={
                    "from": names.unit_ref(previous["parent_id"]),
                    "to": names.unit_ref(row["parent_id"]),
                },
                # Its place among its new siblings comes with the move.
                fields=take("parent_id", "sibling_order"),
                **base,
            )
        )
    if previous["name"] != row["name"] or previous["short_name"] != row["short_name"]:
        if previous["name"] != row["name"]:
            summary = f"{previous['name']} renamed {row['name']}"
        else:
            summary = (
                f"Acronym of {row['name']} changed from "
                f"{previous['short_name'] or '(none)'} to {row['short_name'] or '(none)'}"
            )
        changes.append(
            _change(
                "renamed",
                row,
                summary=summary,
                details={
                    "old_name": previous["name"],
                    "new_name": row["name"],
                    "old_short_name": previous["short_name"],
                    "new_short_name": row["short_name"],
                },
                fields=take("name", "short_name"),
                **base,
            )
        )
    if previous["mandate"] != row["mandate"]:
        changes.append(
            _change(
                "mandate_changed",
                row,
                summary=f"Mandate of {row['name']} changed",
                details={
                    "old_mandate": previous["mandate"],
                    "new_mandate": row["mandate"],
                },
                fields=take("mandate"),
                **base,
            )
        )
    if previous["reporting_line"] != row["reporting_line"]:
        changes.append(
            _change(
                "reporting_line_changed",
                row,
                summary=f"Reporting line of {row['name']} changed from "
                f"{names.shown(OrganizationalUnit, 'reporting_line', previous['reporting_line'])} "
                f"to {names.shown(OrganizationalUnit, 'reporting_line', row['reporting_line'])}",
                details={
                    "old": previous["reporting_line"],
                    "new": row["reporting_line"],
                },
                fields=take("reporting_line"),
                **base,
            )
        )
    if "sibling_order" in left:
        changes.append(
            _change(
                "reordered",
                row,
                summary=f"{row['name']} reordered among the sub-units of "
                f"{names.unit_name(row['parent_id'])}",
                details={
                    "parent": names.unit_ref(row["parent_id"]),
                    "old_order": previous["sibling_order"],
                    "new_order": row["sibling_order"],
                },
                fields=take("sibling_order"),
                **base,
            )
        )
    changes += _field_changes(
        OrganizationalUnit, names, row, previous, left, row["name"], base
    )
    return changes


def _appointment_changes(
    row: Revision, previous: Revision | None, names: _Names
) -> list[Change]:
    post = names.posts.get(row["post_id"])
    unit = names.units.get(post["unit_id"]) if post else None
    base = {
        "unit_slug": unit["slug"] if unit else "",
        "unit_name": unit["name"] if unit else "",
    }
    details = {
        "person": names.people.get(row["person_id"], ""),
        "post": post["title"] if post else "",
        "post_slug": post["slug"] if post else "",
        "started_on": row["started_on"],
        "ended_on": row["ended_on"],
    }
    changes = []
    left = (
        []
        if previous is None
        else _changed_fields(APPOINTMENT_CHANGE_FIELDS, row, previous)
    )
    if previous is None:
        changes.append(
            _change(
                "appointment_started",
                row,
                summary=f"{details['person']} appointed {details['post']}",
                details=details,
                fields=tuple(
                    name for name in APPOINTMENT_CHANGE_FIELDS[1:] if name != "ended_on"
                ),
                **base,
            )
        )
    if row["ended_on"] is not None and (
        previous is None or previous["ended_on"] is None
    ):
        if "ended_on" in left:
            left.remove("ended_on")
        changes.append(
            _change(
                "appointment_ended",
                row,
                summary=f"{details['person']} no longer {details['post']}",
                details=details,
                fields=("ended_on",),
                **base,
            )
        )
    subject = f"the appointment of {details['person']} as {details['post']}"
    if previous is not None:
        changes += _field_changes(
            Appointment, names, row, previous, left, subject, base
        )
    return changes


def _relationship_changes(
    row: Revision, previous: Revision | None, names: _Names
) -> list[Change]:
    source = names.units.get(row["source_id"])
    base = (
        {"unit_slug": source["slug"], "unit_name": source["name"]}
        if source
        else {"unit_slug": "", "unit_name": ""}
    )
    details = {
        "relationship": row["kind"],
        "source": names.unit_ref(row["source_id"]),
        "target": names.unit_ref(row["target_id"]),
    }
    line = (
        f"{names.unit_name(row['source_id'])} {row['kind'].replace('_', ' ')} "
        f"{names.unit_name(row['target_id'])}"
    )
    if previous is None:
        return [
            _change(
                "relationship_added",
                row,
                summary=f"{names.unit_name(row['source_id'])} now "
                f"{row['kind'].replace('_', ' ')} {names.unit_name(row['target_id'])}",
                details=details,
                fields=RELATIONSHIP_CHANGE_FIELDS[1:],
                **base,
            )
        ]
    left = _changed_fields(RELATIONSHIP_CHANGE_FIELDS, row, previous)
    changes = []
    if previous["ended_on"] is None and row["ended_on"] is not None:
        left.remove("ended_on")
        changes.append(
            _change(
                "relationship_ended",
                row,
                summary=f"{names.unit_name(row['source_id'])} no longer "
                f"{row['kind'].replace('_', ' ')} {names.unit_name(row['target_id'])}",
                details=details,
                fields=("ended_on",),
                **base,
            )
        )
    changes += _field_changes(
        UnitRelationship,
        names,
        row,
        previous,
        left,
        f"the dotted line “{line}”",
        base,
    )
    return changes


def _keyed_changes(
    unit_pairs: RevisionPairs,
    appointment_pairs: RevisionPairs,
    relationship_pairs: RevisionPairs,
) -> list[tuple[ChangeKey, Change]]:
    """The feed's changes recorded by these revisions, each with its key; 3 queries.

    Every field a revision changed is in one of its changes (``Change.fields``).
    """
    names = _names((unit_pairs, appointment_pairs, relationship_pairs))
    keyed: list[tuple[ChangeKey, Change]] = []
    for source, (pairs, changes_of) in enumerate(
        (
            (unit_pairs, _unit_changes),
            (appointment_pairs, _appointment_changes),
            (relationship_pairs, _relationship_changes),
        )
    ):
        for row, previous in pairs:
            keyed.extend(
                (
                    ChangeKey(row["history_date"], row["history_id"], source, ordinal),
                    change,
                )
                for ordinal, change in enumerate(
                    changes_of(row, previous, names), start=1
                )
            )
    return keyed


def _unit_ref(
    units: dict[int, dict[str, Any]], unit_id: int | None
) -> dict[str, Any] | None:
    if unit_id is None or unit_id not in units:
        return None
    return {"slug": units[unit_id]["slug"], "name": units[unit_id]["name"]}

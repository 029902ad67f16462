"""Every read of the registry, current and as of any past instant.

Past states are rebuilt from history rows fetched as plain ``.values()`` in a fixed
number of queries (never ``history.as_of()`` instances, which cost a query per row and
carry the *current* tree fields). History rows are ordered by effective time
(``history_date``) and, for equal times, by ``history_id``: the later-recorded wins.
"""

from __future__ import annotations

import bisect
import datetime
import gc
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, overload

from django.db import connection, models
from django.db.models import F, FilteredRelation, Q, Subquery, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from units.models import (
    TREE_FIELDS,
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RegistryState,
    UnitRelationship,
)

UNIT_STATE_FIELDS = (
    "id",
    "slug",
    "name",
    "short_name",
    "kind",
    "mandate",
    "location",
    "learn_more_url",
    "parent_id",
    "reporting_line",
    "sibling_order",
    "established_on",
    "abolished_on",
)
# Fields shown in a unit's history, in the order a reader expects them.
UNIT_HISTORY_FIELDS = (
    "name",
    "short_name",
    "kind",
    "parent_id",
    "reporting_line",
    "sibling_order",
    "mandate",
    "location",
    "learn_more_url",
    "established_on",
    "abolished_on",
)


# --- Instants ------------------------------------------------------------------------


class InvalidInstant(ValueError):
    """A malformed ``as_of``/``since``/``until`` value; the message says what is wrong."""


def parse_instant(value: str, *, parameter: str = "as_of") -> datetime.datetime:
    """Read an ISO 8601 date or date-time.

    A date means the end of that day (UTC): "as of 2024-03-01" includes every change
    that took effect on that day. A date-time without offset is taken as UTC.
    """
    value = (value or "").strip()
    try:
        # parse_datetime also accepts a bare date (as midnight); read dates first.
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError as error:
        raise InvalidInstant(
            f"{parameter}: “{value}” is not a valid date ({error})."
        ) from None
    if moment is None and day is None:
        raise InvalidInstant(
            f"{parameter}: “{value}” is not an ISO 8601 date or date-time "
            "(for example 2024-03-01 or 2024-03-01T12:00:00Z)."
        )
    if moment is None:
        moment = datetime.datetime.combine(day, datetime.time.max, tzinfo=datetime.UTC)
    elif timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    try:
        # "0001-01-01T00:00+14:00" is valid ISO 8601 but lies before year 1 in UTC;
        # the database adapter would overflow on it.
        return moment.astimezone(datetime.UTC)
    except OverflowError:
        raise InvalidInstant(
            f"{parameter}: “{value}” lies outside the years 1 to 9999 in UTC."
        ) from None


def first_recorded_instant() -> datetime.datetime | None:
    """The effective time of the earliest change in the registry."""
    return (
        OrganizationalUnit.history.order_by("history_date")
        .values_list("history_date", flat=True)
        .first()
    )


def registry_generation() -> int:
    """A number that changes with every committed write (for ETags and cache keys)."""
    return (
        RegistryState.objects.filter(pk=1).values_list("generation", flat=True).first()
        or 0
    )


# --- Plain results -------------------------------------------------------------------


@dataclass(slots=True)
class Holder:
    person_id: int
    person_slug: str
    person_name: str
    started_on: datetime.date
    ended_on: datetime.date | None


@dataclass(slots=True)
class PostState:
    id: int
    slug: str
    title: str
    unit_id: int
    is_head: bool
    filling_method: str
    term_years: int | None
    term_note: str
    abolished_on: datetime.date | None
    holder: Holder | None = None

    @property
    def is_vacant(self) -> bool:
        return self.holder is None


@dataclass(slots=True)
class UnitNode:
    """One unit in a tree, with its head post and children, as of some instant."""

    id: int
    slug: str
    name: str
    short_name: str
    kind: str
    mandate: str
    location: str
    learn_more_url: str
    parent_id: int | None
    reporting_line: str
    sibling_order: int
    established_on: datetime.date | None
    abolished_on: datetime.date | None
    level: int = 0
    head: PostState | None = None
    children: list[UnitNode] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        return self.abolished_on is None

    def walk(self) -> Iterable[UnitNode]:
        """This node and all its descendants, depth first, in sibling order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


@dataclass(slots=True)
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any
    old_display: str
    new_display: str


@dataclass(slots=True)
class UnitRevision:
    history_id: int
    effective_at: datetime.datetime
    recorded_at: datetime.datetime
    author: str | None
    reason: str
    history_type: str
    changes: list[FieldChange]

    @property
    def is_backdated(self) -> bool:
        return self.recorded_at - self.effective_at > datetime.timedelta(minutes=1)


@dataclass(slots=True)
class Change:
    """One entry of the change feed between two instants."""

    kind: str  # added, abolished, reinstated, moved, renamed, mandate_changed, ...
    effective_at: datetime.datetime
    recorded_at: datetime.datetime
    history_id: int
    reason: str
    author: str | None
    unit_slug: str
    unit_name: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


# --- Generic history helpers ----------------------------------------------------------


def _history_model(model: type[models.Model]) -> type[models.Model]:
    return model.history.model  # type: ignore[attr-defined]


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
    model: type[models.Model],
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
    rows = history.objects.filter(history_date__lte=when)
    if isinstance(ids, models.QuerySet):
        rows = rows.filter(id__in=ids)
    elif ids is not None:
        rows = rows.filter(id__in=_in_ids(ids))
    if started_by is not None:
        rows = rows.filter(started_on__lte=started_by)
    if connection.vendor == "postgresql":
        return rows.order_by("id", "-history_date", "-history_id").distinct("id")
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
    return history.objects.filter(history_id__in=latest)


def state_rows_as_of(
    model: type[models.Model],
    when: datetime.datetime,
    fields: Sequence[str],
    *,
    ids: Iterable[int] | models.QuerySet | None = None,
    started_by: datetime.date | None = None,
) -> list[tuple[Any, ...]]:
    """``states_as_of()`` as tuples of ``fields``: about half the cost per row.

    ``started_by`` keeps objects whose ``started_on`` (a field no revision changes)
    is on or before that day.
    """
    rows = _latest_revisions(model, when, ids=ids, started_by=started_by)
    return [
        row[1:] for row in rows.values_list("history_type", *fields) if row[0] != "-"
    ]


def _ever_matched(model: type[models.Model], condition: Q) -> models.QuerySet:
    """Ids of the objects any revision of which matched ``condition``.

    For ``ids=``: the states read are then those objects' alone, and the caller checks
    the condition on them (an object may have matched only in another revision).
    """
    return _history_model(model).objects.filter(condition).values("id")


def states_as_of(
    model: type[models.Model],
    when: datetime.datetime,
    fields: Sequence[str],
    *,
    ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Each object's ``fields`` as of ``when``, from its latest revision, in one query."""
    return [
        dict(zip(fields, row, strict=True))
        for row in state_rows_as_of(model, when, fields, ids=ids)
    ]


# --- Trees ---------------------------------------------------------------------------


def _sibling_key(node: UnitNode) -> tuple[int, str]:
    return (node.sibling_order, node.name)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a whole tree is built.

    Building an object or two per unit makes the collector re-scan every object built
    so far, again and again: the time then grows faster than the tree. The tree holds
    no reference cycles, so reference counting alone frees it afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _assemble(
    rows: Iterable[dict[str, Any]], heads: dict[int, PostState]
) -> list[UnitNode]:
    """Link flat unit rows into trees by parent id; return the roots in order."""
    with cyclic_gc_paused():
        return _link(rows, heads)


def _link(
    rows: Iterable[dict[str, Any]], heads: dict[int, PostState]
) -> list[UnitNode]:
    nodes = {row["id"]: UnitNode(**row) for row in rows}
    roots: list[UnitNode] = []
    for node in nodes.values():
        node.head = heads.get(node.id)
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=_sibling_key)
    roots.sort(key=_sibling_key)
    for root in roots:
        _set_levels(root)
    return roots


def _set_levels(root: UnitNode) -> None:
    stack = [(root, 0)]
    while stack:
        node, level = stack.pop()
        node.level = level
        stack.extend((child, level + 1) for child in node.children)


def _holders_by_post(
    appointments: Iterable[dict[str, Any]], people: dict[int, dict[str, Any]]
) -> dict[int, Holder]:
    holders: dict[int, Holder] = {}
    for row in appointments:
        person = people.get(row["person_id"])
        if person is None:
            continue
        holders[row["post_id"]] = Holder(
            person_id=row["person_id"],
            person_slug=person["slug"],
            person_name=person["full_name"],
            started_on=row["started_on"],
            ended_on=row["ended_on"],
        )
    return holders


POST_STATE_FIELDS = (
    "id",
    "slug",
    "title",
    "unit_id",
    "is_head",
    "filling_method",
    "term_years",
    "term_note",
    "abolished_on",
)
PERSON_FIELDS = ("id", "slug", "full_name")
APPOINTMENT_FIELDS = ("id", "person_id", "post_id", "started_on", "ended_on")
_POST_UNIT_ID = POST_STATE_FIELDS.index("unit_id")
_POST_IS_HEAD = POST_STATE_FIELDS.index("is_head")
_POST_ABOLISHED_ON = POST_STATE_FIELDS.index("abolished_on")


def _posts_with_holders(
    post_rows: Iterable[dict[str, Any]],
    appointment_rows: Iterable[dict[str, Any]],
    people: dict[int, dict[str, Any]],
    day: datetime.date,
) -> list[PostState]:
    current = [
        row
        for row in appointment_rows
        if row["started_on"] <= day
        and (row["ended_on"] is None or day < row["ended_on"])
    ]
    holders = _holders_by_post(current, people)
    posts = [PostState(**row) for row in post_rows]
    for post in posts:
        post.holder = holders.get(post.id)
    return posts


def _current_heads(branch: Q | None = None) -> dict[int, PostState]:
    """Each unit's current head post and holder, in three queries.

    ``branch`` (a condition on units) limits them to some units, inside the database.
    """
    head_posts = Post.objects.filter(is_head=True, abolished_on__isnull=True)
    appointments = Appointment.objects.filter(post__is_head=True, ended_on__isnull=True)
    if branch is not None:
        head_posts = head_posts.filter(_on_relation(branch, "unit"))
        appointments = appointments.filter(_on_relation(branch, "post__unit"))
    head_rows = head_posts.values(*POST_STATE_FIELDS)
    today = timezone.now().date()
    appointment_rows = list(appointments.values(*APPOINTMENT_FIELDS))
    people = {
        row["id"]: row
        for row in Person.objects.filter(
            pk__in={row["person_id"] for row in appointment_rows}
        ).values("id", "slug", "full_name")
    }
    return {
        post.unit_id: post
        for post in _posts_with_holders(head_rows, appointment_rows, people, today)
    }


def _on_relation(condition: Q, relation: str) -> Q:
    """The same condition on units, written from a model related to them."""
    return Q(
        *(
            (f"{relation}__{lookup}", value)
            for lookup, value in condition.children  # type: ignore[misc]
        ),
        _connector=condition.connector,
    )


def unit_tree(*, include_abolished: bool = False) -> list[UnitNode]:
    """The current organization as trees with their heads, in four queries."""
    units = OrganizationalUnit.objects.order_by("tree_id", "lft")
    if not include_abolished:
        units = units.active()
    with cyclic_gc_paused():
        rows = list(units.values(*UNIT_STATE_FIELDS))
        heads = _current_heads()
    return _assemble(rows, heads)


def unit_tree_as_of(
    when: datetime.datetime, *, include_abolished: bool = False
) -> list[UnitNode]:
    """The organization as it stood at ``when``, rebuilt from historical parent links."""
    with cyclic_gc_paused():
        rows = states_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS)
        if not include_abolished:
            rows = [row for row in rows if row["abolished_on"] is None]
        heads = {post.unit_id: post for post in posts_as_of(when, heads_only=True)}
    return _assemble(rows, heads)


def subtree(roots: list[UnitNode], slug: str) -> UnitNode | None:
    for root in roots:
        for node in root.walk():
            if node.slug == slug:
                return node
    return None


# --- Flat trees: for encoders that need no node objects -------------------------------


@dataclass(slots=True)
class FlatTree:
    """A tree as rows in depth-first order, for building large answers fast.

    ``units`` holds ``(depth, row)`` pairs, each unit before its descendants and
    siblings in the order of ``unit_tree()``; ``row`` is a tuple of
    ``UNIT_STATE_FIELDS``. ``heads`` maps unit ids to their head posts. ``slugs``
    names the parent of every unit in ``units`` that has one in the same tree (a
    subtree's root included), like ``unit_tree()``'s nodes would.
    """

    units: list[tuple[int, tuple[Any, ...]]]
    heads: dict[int, PostState]
    slugs: dict[int, str]


_ID, _SLUG, _NAME = 0, 1, 2
_PARENT_ID = UNIT_STATE_FIELDS.index("parent_id")
_SIBLING_ORDER = UNIT_STATE_FIELDS.index("sibling_order")
_ABOLISHED_ON = UNIT_STATE_FIELDS.index("abolished_on")


def _row_sibling_key(row: tuple[Any, ...]) -> tuple[int, str]:
    return (row[_SIBLING_ORDER], row[_NAME])


def _depth_first(
    rows: list[tuple[Any, ...]], *, root_slug: str | None = None
) -> list[tuple[int, tuple[Any, ...]]]:
    """Order rows like ``_assemble`` links them: parents first, siblings sorted.

    Sorting in Python (not by ``lft``) keeps the order of ``unit_tree()`` whatever
    the database's collation, and works for past states, which have no tree fields.
    """
    ids = {row[_ID] for row in rows}
    roots: list[tuple[Any, ...]] = []
    children: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        parent_id = row[_PARENT_ID]
        if parent_id and parent_id in ids:
            children[parent_id].append(row)
        else:
            roots.append(row)
    if root_slug is not None:
        roots = [row for row in rows if row[_SLUG] == root_slug][:1]
    ordered: list[tuple[int, tuple[Any, ...]]] = []
    # Sorted forwards, pushed backwards: equal keys keep their order, as in _assemble.
    roots.sort(key=_row_sibling_key)
    stack = [(0, row) for row in reversed(roots)]
    while stack:
        depth, row = stack.pop()
        ordered.append((depth, row))
        below = children.get(row[_ID])
        if below:
            below.sort(key=_row_sibling_key)
            stack.extend((depth + 1, child) for child in reversed(below))
    return ordered


def unit_tree_flat(*, include_abolished: bool = False) -> FlatTree:
    """``unit_tree()`` as a ``FlatTree``: the same units and heads, four queries."""
    units = OrganizationalUnit.objects.order_by("tree_id", "lft")
    if not include_abolished:
        units = units.active()
    with cyclic_gc_paused():
        rows = list(units.values_list(*UNIT_STATE_FIELDS))
        heads = _current_heads()
        slugs = {row[_ID]: row[_SLUG] for row in rows}
        return FlatTree(_depth_first(rows), heads, slugs)


@dataclass(slots=True)
class StoredOrderRows:
    """Current units read lazily in their stored depth-first order, for streaming.

    ``rows`` yields ``UNIT_STATE_FIELDS`` tuples followed by ``HEAD_COLUMNS`` (the
    unit's current head post and holder, None where there is none) by ``(tree_id,
    lft)``: each unit before its descendants, each subtree contiguous, but siblings
    in the order the database filed them, which can differ from ``unit_tree()``'s
    (order, name) when the database collates names differently. A unit the database
    gives two current heads (or a head two open appointments), which the services
    refuse, comes as two adjacent rows. ``root_parent_slug`` is the slug that
    ``unit_tree()`` shows as a branch root's parent (None for whole trees).
    """

    rows: Iterator[tuple[Any, ...]]
    root_parent_slug: str | None = None


# Read in chunks while streaming: enough rows per round trip, few held at once.
STREAM_CHUNK_ROWS = 2000
# A unit's current head post and holder, joined to its row by ``_with_current_head``.
HEAD_COLUMNS = (
    "head_post__slug",
    "head_post__title",
    "head_term__person__slug",
    "head_term__person__full_name",
    "head_term__started_on",
    "head_term__ended_on",
)


def _with_current_head(units: models.QuerySet) -> models.QuerySet:
    """Join each unit's current head post and its holder today (LEFT JOINs).

    One query for a whole tree instead of reading heads, appointments and people
    separately and matching them in Python: at 100,000 units that matching, and the
    people query's 100,000 parameters, cost more than reading the units.
    """
    return units.annotate(
        head_post=FilteredRelation(
            "posts",
            condition=Q(posts__is_head=True, posts__abolished_on__isnull=True),
        ),
        head_term=FilteredRelation(
            "head_post__appointments",
            condition=Q(
                head_post__appointments__ended_on__isnull=True,
                head_post__appointments__started_on__lte=timezone.now().date(),
            ),
        ),
    )


def unit_rows_in_stored_order(*, include_abolished: bool = False) -> StoredOrderRows:
    """The rows of ``unit_tree_flat()`` with their heads, unsorted and not held.

    One query, read as the rows are consumed.
    """
    units = OrganizationalUnit.objects.order_by("tree_id", "lft")
    if not include_abolished:
        units = units.active()
    rows = (
        _with_current_head(units)
        .values_list(*UNIT_STATE_FIELDS, *HEAD_COLUMNS)
        .iterator(chunk_size=STREAM_CHUNK_ROWS)
    )
    return StoredOrderRows(rows)


def branch_rows_in_stored_order(
    slug: str, *, include_abolished: bool = False
) -> StoredOrderRows | None:
    """The rows of ``subtree_flat()`` with their heads, unsorted and not held.

    One query; None if no such (active) unit. The first row is the branch's root.
    """
    branch_root = OrganizationalUnit.objects.filter(slug=slug)
    branch = Q(
        tree_id=Subquery(branch_root.values("tree_id")),
        lft__gte=Subquery(branch_root.values("lft")),
        rght__lte=Subquery(branch_root.values("rght")),
    )
    units = OrganizationalUnit.objects.filter(branch).order_by("lft")
    if not include_abolished:
        units = units.active()
    fetched = (
        _with_current_head(units)
        .values_list(
            *UNIT_STATE_FIELDS, *HEAD_COLUMNS, "parent__slug", "parent__abolished_on"
        )
        .iterator(chunk_size=STREAM_CHUNK_ROWS)
    )
    first = next(fetched, None)
    if first is None:
        return None
    width = len(UNIT_STATE_FIELDS) + len(HEAD_COLUMNS)
    *_, parent_slug, parent_abolished_on = first
    shown_parent = first[_PARENT_ID] and (
        include_abolished or parent_abolished_on is None
    )

    def rows() -> Iterator[tuple[Any, ...]]:
        yield first[:width]
        for row in fetched:
            yield row[:width]

    return StoredOrderRows(rows(), parent_slug if shown_parent else None)


def unit_tree_as_of_flat(
    when: datetime.datetime,
    *,
    include_abolished: bool = False,
    root_slug: str | None = None,
) -> FlatTree | None:
    """``unit_tree_as_of()`` as a ``FlatTree``, or the branch of ``root_slug`` in it.

    None when ``root_slug`` names no unit of that tree.
    """
    with cyclic_gc_paused():
        rows = state_rows_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS)
        if not include_abolished:
            rows = [row for row in rows if row[_ABOLISHED_ON] is None]
        ordered = _depth_first(rows, root_slug=root_slug)
        if not ordered:
            return None if root_slug is not None else FlatTree([], {}, {})
        heads = {post.unit_id: post for post in posts_as_of(when, heads_only=True)}
        slugs = {row[_ID]: row[_SLUG] for row in rows}
        return FlatTree(ordered, heads, slugs)


def subtree_flat(slug: str, *, include_abolished: bool = False) -> FlatTree | None:
    """The current branch under the unit ``slug``, reading only that branch.

    The branch is the unit's ``lft``..``rght`` range, so its cost follows the branch's
    size, not the registry's; four queries. None if no such (active) unit.
    """
    branch_root = OrganizationalUnit.objects.filter(slug=slug)
    branch = Q(
        tree_id=Subquery(branch_root.values("tree_id")),
        lft__gte=Subquery(branch_root.values("lft")),
        rght__lte=Subquery(branch_root.values("rght")),
    )
    units = OrganizationalUnit.objects.filter(branch).order_by("lft")
    if not include_abolished:
        units = units.active()
    with cyclic_gc_paused():
        rows = list(
            units.values_list(
                *UNIT_STATE_FIELDS, "parent__slug", "parent__abolished_on"
            )
        )
        root = next((row for row in rows if row[_SLUG] == slug), None)
        if root is None:
            return None
        slugs = {row[_ID]: row[_SLUG] for row in rows}
        *_, parent_slug, parent_abolished_on = root
        if root[_PARENT_ID] and (include_abolished or parent_abolished_on is None):
            # The parent is outside the branch but in the whole tree, as in unit_tree().
            slugs[root[_PARENT_ID]] = parent_slug
        width = len(UNIT_STATE_FIELDS)
        rows = [row[:width] for row in rows]
        heads = _current_heads(branch)
        return FlatTree(_depth_first(rows, root_slug=slug), heads, slugs)


def posts_as_of(
    when: datetime.datetime | None = None,
    *,
    heads_only: bool = False,
    unit_ids: Iterable[int] | None = None,
) -> list[PostState]:
    """Posts (active at ``when``, default now) with the person holding each, if any.

    With ``unit_ids`` only those units' posts and appointments are read, so the cost
    follows them, not the registry. Appointments never change post, person or start
    once made (they are started and ended, nothing else), so only those started by
    ``when``'s day are read. Three queries (four when a holder was recorded after the
    appointment began).
    """
    when = when or timezone.now()
    day = when.date()
    posts_read: models.QuerySet | None = None
    if unit_ids is not None:
        wanted_units = set(unit_ids)
        ever = Q(unit_id__in=_in_ids(wanted_units))
        if heads_only:
            ever &= Q(is_head=True)
        posts_read = _ever_matched(Post, ever)
    post_rows = [
        row
        for row in state_rows_as_of(Post, when, POST_STATE_FIELDS, ids=posts_read)
        if row[_POST_ABOLISHED_ON] is None
        and (not heads_only or row[_POST_IS_HEAD])
        and (unit_ids is None or row[_POST_UNIT_ID] in wanted_units)
    ]
    post_ids = {row[0] for row in post_rows}
    appointments_read = (
        None
        if unit_ids is None
        else _ever_matched(Appointment, Q(post_id__in=_in_ids(post_ids)))
    )
    held = [
        row
        for row in state_rows_as_of(
            Appointment,
            when,
            APPOINTMENT_FIELDS,
            ids=appointments_read,
            started_by=day,
        )
        if row[2] in post_ids and (row[4] is None or day < row[4])
    ]
    person_ids = {row[1] for row in held}
    people = {
        row[0]: row
        for row in state_rows_as_of(Person, when, PERSON_FIELDS, ids=person_ids)
    }
    if missing := person_ids - people.keys():
        # People recorded after the appointment they held began: their record is
        # bookkeeping, not structure, so show them as first recorded.
        people.update(
            (row[0], row)
            for row in Person.objects.filter(pk__in=_in_ids(missing)).values_list(
                *PERSON_FIELDS
            )
        )
    holders = {
        post_id: Holder(
            person_id, people[person_id][1], people[person_id][2], start, end
        )
        for _, person_id, post_id, start, end in held
        if person_id in people
    }
    posts = [PostState(*row) for row in post_rows]
    for post in posts:
        post.holder = holders.get(post.id)
    return posts


def unit_as_of(slug: str, when: datetime.datetime | None = None) -> UnitNode | None:
    """One unit's state as of ``when`` (default: now), or None if it did not exist yet."""
    unit_id = (
        OrganizationalUnit.objects.filter(slug=slug)
        .values_list("id", flat=True)
        .first()
    )
    if unit_id is None:
        return None
    if when is None:
        row = (
            OrganizationalUnit.objects.filter(pk=unit_id)
            .values(*UNIT_STATE_FIELDS)
            .get()
        )
    else:
        states = states_as_of(
            OrganizationalUnit, when, UNIT_STATE_FIELDS, ids=[unit_id]
        )
        if not states:
            return None
        row = states[0]
    node = UnitNode(**row)
    heads = [post for post in posts_as_of(when, unit_ids=[unit_id]) if post.is_head]
    node.head = heads[0] if heads else None
    return node


# --- Parts of a tree: what the pages show of a registry too large to list ---------------


@dataclass(slots=True)
class PartialTree:
    """Some levels of a tree, linked, with how many active units lie below each unit.

    ``roots`` are linked down ``levels`` levels, siblings in the order of
    ``unit_tree()``; units on the last loaded level have no children loaded, even
    when they have sub-units. ``descendants`` counts every loaded unit's active
    descendants, loaded or not. ``unit_count`` is the number of active units the part
    was taken from: the whole organization, or the branch below one unit.

    ``unit_tree_levels()`` also fills ``units_per_level``, the active units on each
    level it counted (the part's top level is 0), and ``folded``: for each unit it was
    asked to place that lies below the loaded levels, the slug of the unit on the last
    loaded level whose branch holds it.
    """

    roots: list[UnitNode]
    levels: int
    unit_count: int
    loaded_count: int
    descendants: dict[int, int]
    units_per_level: dict[int, int] = field(default_factory=dict)
    folded: dict[str, str] = field(default_factory=dict)

    @property
    def is_cut(self) -> bool:
        """Whether some units below the loaded levels are left to load on demand."""
        return self.loaded_count < self.unit_count


def levels_that_fit(units_per_level: dict[int, int], max_units: int) -> int:
    """The most top levels (at least one) that hold ``max_units`` units or fewer."""
    levels = shown = 0
    for level in range(max(units_per_level, default=-1) + 1):
        shown += units_per_level.get(level, 0)
        if shown > max_units and levels:
            break
        levels = level + 1
    return max(levels, 1)


def unit_tree_top(
    when: datetime.datetime | None = None, *, max_units: int
) -> PartialTree:
    """The top levels of the tree at ``when`` (default now) holding at most ``max_units``.

    Whole levels are kept (at least the top one), so every shown unit shows all its
    sub-units or none: ``unit_tree_levels()`` chooses them from how many active units
    each level holds.
    """
    return unit_tree_levels(
        when,
        levels=MAX_TREE_LEVELS,
        fit=lambda units_per_level: levels_that_fit(units_per_level, max_units),
    )


def unit_children(
    slug: str, when: datetime.datetime | None = None
) -> PartialTree | None:
    """The active sub-units of the unit ``slug`` at ``when`` (default now), one level.

    None if the unit is not an active part of the structure then. Now: six queries
    that read the unit, its sub-units and their heads, and the abolished units in its
    ``lft``..``rght`` range. As of a past instant: rebuilt from history, as
    ``unit_tree_top()`` does.
    """
    if when is not None:
        units = _depth_first_as_of(when, root_slug=slug)
        if not units:
            return None
        part = _link_depth_first(units, first_depth=1, levels=1)
        _set_heads_as_of(part, when)
        return part
    unit = (
        OrganizationalUnit.objects.active()
        .filter(slug=slug)
        .values("id", "tree_id", "lft", "rght", "level")
        .first()
    )
    if unit is None:
        return None
    below_unit = Q(abolished_on__isnull=True, parent_id=unit["id"])
    rows = list(
        OrganizationalUnit.objects.filter(below_unit)
        .order_by()
        .values(*UNIT_STATE_FIELDS, "tree_id", "lft", "rght")
    )
    heads = _current_heads(below_unit)
    abolished = _abolished_positions(
        within=(unit["tree_id"], unit["lft"], unit["rght"])
    )
    children: list[UnitNode] = []
    descendants: dict[int, int] = {}
    for row in rows:
        span = (row.pop("tree_id"), row.pop("lft"), row.pop("rght"))
        child = UnitNode(**row, level=unit["level"] + 1, head=heads.get(row["id"]))
        descendants[child.id] = _active_descendants(*span, abolished)
        children.append(child)
    children.sort(key=_sibling_key)
    return PartialTree(
        roots=children,
        levels=1,
        unit_count=sum(1 + count for count in descendants.values()),
        loaded_count=len(children),
        descendants=descendants,
    )


# More levels than any tree holds: "every level" for unit_tree_levels().
MAX_TREE_LEVELS = 1000


@overload
def unit_tree_levels(
    when: datetime.datetime | None = None,
    *,
    slug: None = None,
    levels: int,
    fit: Callable[[dict[int, int]], int] | None = None,
    placing: Collection[str] = (),
) -> PartialTree: ...


@overload
def unit_tree_levels(
    when: datetime.datetime | None = None,
    *,
    slug: str,
    levels: int,
    fit: Callable[[dict[int, int]], int] | None = None,
    placing: Collection[str] = (),
) -> PartialTree | None: ...


def unit_tree_levels(
    when: datetime.datetime | None = None,
    *,
    slug: str | None = None,
    levels: int,
    fit: Callable[[dict[int, int]], int] | None = None,
    placing: Collection[str] = (),
) -> PartialTree | None:
    """The top ``levels`` levels of the tree at ``when`` (default now), or of a branch.

    With ``slug`` the part is that unit's branch, the unit included, its levels still
    counted from the top of the whole tree; None if the unit is not an active part of
    the structure then. With ``fit`` the part holds ``fit(units_per_level)`` levels,
    chosen from how many active units each of the first ``levels`` levels holds,
    counted without loading them. ``placing`` names units (by slug) whose place below
    the loaded levels is wanted: ``folded`` gives it.

    Now: the loaded units, their heads and the abolished units of the part, the nested
    sets giving each loaded unit's active descendants; below the loaded levels only a
    count per level (with ``fit``) and the units to place (with ``placing``) are read.
    Six to eight queries. As of a past instant the units are rebuilt from history and
    cut in one pass, as ``unit_tree_top()`` does; only the loaded units' heads are read.
    """
    if when is not None:
        return _tree_levels_as_of(
            when, slug=slug, levels=levels, fit=fit, placing=placing
        )
    part: dict[str, Any] = {"abolished_on__isnull": True}
    within: tuple[int, int, int] | None = None
    top_level = 0
    if slug is not None:
        unit = (
            OrganizationalUnit.objects.active()
            .filter(slug=slug)
            .values("tree_id", "lft", "rght", "level")
            .first()
        )
        if unit is None:
            return None
        within = (unit["tree_id"], unit["lft"], unit["rght"])
        top_level = unit["level"]
        # The branch is its root's range of the (tree_id, lft) index.
        part.update(tree_id=unit["tree_id"], lft__gte=unit["lft"], lft__lt=unit["rght"])
    units_per_level: dict[int, int] = {}
    if fit is not None:
        counted = (
            OrganizationalUnit.objects.filter(**part, level__lt=top_level + levels)
            .order_by()
            .values_list("level")
            .annotate(units=models.Count("id"))
        )
        units_per_level = {level - top_level: units for level, units in counted}
        levels = fit(units_per_level)
    last_level = top_level + levels - 1
    with cyclic_gc_paused():
        rows = list(
            OrganizationalUnit.objects.filter(**part, level__lte=last_level)
            .order_by()
            .values(*UNIT_STATE_FIELDS, "tree_id", "lft", "rght", "level")
        )
        heads = _current_heads(Q(id__in=_in_ids(row["id"] for row in rows)))
    abolished = _abolished_positions(within=within)
    descendants: dict[int, int] = {}
    # The last loaded level's ranges by tree, to find the units below them.
    last_ranges: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for row in rows:
        tree_id, lft, rght = row.pop("tree_id"), row.pop("lft"), row.pop("rght")
        descendants[row["id"]] = _active_descendants(tree_id, lft, rght, abolished)
        if row.pop("level") == last_level:
            last_ranges[tree_id].append((lft, rght, row["slug"]))
    roots = _assemble(rows, heads)
    if top_level:
        for root in roots:
            for node in root.walk():
                node.level += top_level
    folded: dict[str, str] = {}
    if placing:
        for ranges in last_ranges.values():
            ranges.sort()
        below = OrganizationalUnit.objects.filter(
            **part, level__gt=last_level, slug__in=sorted(set(placing))
        ).values_list("slug", "tree_id", "lft")
        for placed, tree_id, lft in below:
            ranges = last_ranges.get(tree_id, [])
            index = bisect.bisect_right(ranges, (lft,)) - 1
            if index >= 0 and lft < ranges[index][1]:
                folded[placed] = ranges[index][2]
    return PartialTree(
        roots=roots,
        levels=levels,
        unit_count=sum(1 + descendants[root.id] for root in roots),
        loaded_count=len(rows),
        descendants=descendants,
        units_per_level=units_per_level,
        folded=folded,
    )


def _tree_levels_as_of(
    when: datetime.datetime,
    *,
    slug: str | None,
    levels: int,
    fit: Callable[[dict[int, int]], int] | None,
    placing: Collection[str],
) -> PartialTree | None:
    """``unit_tree_levels()`` as of a past instant, rebuilt from history."""
    units = _depth_first_as_of(when)
    top = 0
    if slug is not None:
        # A branch is its root's row and the deeper rows right after it.
        start = next(
            (index for index, (_, row) in enumerate(units) if row[_SLUG] == slug), None
        )
        if start is None:
            return None
        top = units[start][0]
        end = next(
            (index for index in range(start + 1, len(units)) if units[index][0] <= top),
            len(units),
        )
        units = units[start:end]
    units_per_level: dict[int, int] = defaultdict(int)
    if fit is not None:
        for depth, _ in units:
            if depth - top < levels:
                units_per_level[depth - top] += 1
        levels = fit(dict(units_per_level))
    part = _link_depth_first(units, first_depth=top, levels=levels)
    _set_heads_as_of(part, when)
    part.units_per_level = dict(units_per_level)
    if placing:
        wanted = set(placing)
        last = top + levels - 1
        holder = ""
        # Depth first, a unit below the last loaded level follows the loaded unit
        # above it, and comes before the next unit on that level.
        for depth, row in units:
            if depth == last:
                holder = row[_SLUG]
            elif depth > last and row[_SLUG] in wanted:
                part.folded[row[_SLUG]] = holder
    return part


def _abolished_positions(
    *, within: tuple[int, int, int] | None = None
) -> dict[int, list[int]]:
    """The sorted ``lft`` of the abolished units in each tree (or in one branch).

    Nested sets count a unit's descendants as (rght - lft - 1) / 2, abolished ones
    included; the abolished ones in its range are subtracted using these positions.
    One query that returns the abolished units alone (a small share of the registry),
    where counting the active units below each unit would scan or sort the whole
    table: ``lft`` has no index. ``within`` is a branch's tree_id, lft and rght.
    """
    units = OrganizationalUnit.objects.abolished().order_by()
    if within is not None:
        tree_id, lft, rght = within
        units = units.filter(tree_id=tree_id, lft__gt=lft, lft__lt=rght)
    positions: dict[int, list[int]] = defaultdict(list)
    for tree_id, lft in units.values_list("tree_id", "lft"):
        positions[tree_id].append(lft)
    for lfts in positions.values():
        lfts.sort()
    return positions


def _active_descendants(
    tree_id: int, lft: int, rght: int, abolished: dict[int, list[int]]
) -> int:
    lfts = abolished.get(tree_id, ())
    gone = bisect.bisect_left(lfts, rght) - bisect.bisect_right(lfts, lft)
    return (rght - lft - 1) // 2 - gone


def _depth_first_as_of(
    when: datetime.datetime, *, root_slug: str | None = None
) -> list[tuple[int, tuple[Any, ...]]]:
    """The active units at ``when`` in the order of ``unit_tree_as_of_flat()``.

    The same rows without the heads of every unit, which a page showing some units
    reads for those alone (``_set_heads_as_of``). Empty if ``root_slug`` names no
    active unit then.
    """
    with cyclic_gc_paused():
        rows = [
            row
            for row in state_rows_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS)
            if row[_ABOLISHED_ON] is None
        ]
        return _depth_first(rows, root_slug=root_slug)


def _link_depth_first(
    units: list[tuple[int, tuple[Any, ...]]], *, first_depth: int, levels: int
) -> PartialTree:
    """The units from ``first_depth`` down ``levels`` levels of depth-first rows, linked.

    Subtree sizes come from the order in one pass: a unit's descendants are the rows
    after it until the next row at its depth or above. Heads are left to the caller.
    """
    sizes = [0] * len(units)
    open_rows: list[int] = []
    for index, (depth, _) in enumerate(units):
        while open_rows and units[open_rows[-1]][0] >= depth:
            start = open_rows.pop()
            sizes[start] = index - start - 1
        open_rows.append(index)
    for start in open_rows:
        sizes[start] = len(units) - start - 1
    roots: list[UnitNode] = []
    path: list[UnitNode] = []
    descendants: dict[int, int] = {}
    unit_count = 0
    for index, (depth, row) in enumerate(units):
        if depth < first_depth:
            continue
        unit_count += 1
        if depth >= first_depth + levels:
            continue
        node = UnitNode(**dict(zip(UNIT_STATE_FIELDS, row, strict=True)), level=depth)
        descendants[node.id] = sizes[index]
        del path[depth - first_depth :]
        (path[-1].children if path else roots).append(node)
        path.append(node)
    return PartialTree(
        roots=roots,
        levels=levels,
        unit_count=unit_count,
        loaded_count=len(descendants),
        descendants=descendants,
    )


def units_in_order_as_of(when: datetime.datetime) -> list[tuple[int, str, str]]:
    """Id, slug and name of the active units at ``when``, in the order of the tree."""
    return [(row[_ID], row[_SLUG], row[_NAME]) for _, row in _depth_first_as_of(when)]


def _set_heads_as_of(part: PartialTree, when: datetime.datetime) -> None:
    """Give the loaded units of ``part`` their heads at ``when`` (three queries)."""
    nodes = [node for root in part.roots for node in root.walk()]
    posts = posts_as_of(when, unit_ids={node.id for node in nodes}, heads_only=True)
    heads = {post.unit_id: post for post in posts}
    for node in nodes:
        node.head = heads.get(node.id)


@dataclass(slots=True)
class UnitFamily:
    """One unit with its line of parents (top first) and its sub-units, as of a date."""

    unit: UnitNode
    ancestors: list[UnitNode]
    children: list[UnitNode]  # abolished ones too, in sibling order


# Deeper than any reporting line: stops the walk up a (corrupt) cycle of parent links.
MAX_LINEAGE_DEPTH = 1000


def unit_lineage(
    slug: str, when: datetime.datetime | None = None
) -> list[UnitNode] | None:
    """The unit ``slug`` and the units above it at ``when`` (default now), top first.

    Abolished units included. None if the unit did not exist then. Walks the parent
    links up in the database (a recursive query, one indexed step per level) rather
    than reading the tree: one query now, two as of a past instant.
    """
    units = OrganizationalUnit._meta.db_table
    quote = connection.ops.quote_name
    if when is None:
        # Only quoted identifiers are interpolated; every value is a parameter.
        chain = (
            "WITH RECURSIVE chain(id, parent_id, depth) AS ("  # noqa: S608
            f"SELECT id, parent_id, 0 FROM {quote(units)} WHERE slug = %s "
            f"UNION ALL SELECT unit.id, unit.parent_id, chain.depth + 1 "
            f"FROM {quote(units)} unit JOIN chain ON unit.id = chain.parent_id "
            "WHERE chain.depth < %s) SELECT id FROM chain"
        )
        rows = list(
            OrganizationalUnit.objects.filter(
                id__in=RawSQL(chain, (slug, MAX_LINEAGE_DEPTH))  # noqa: S611
            ).values(*UNIT_STATE_FIELDS)
        )
    else:
        history = quote(_history_model(OrganizationalUnit)._meta.db_table)
        # Each step takes the parent from the unit's latest revision at ``when``.
        chain = (
            "WITH RECURSIVE chain(id, depth) AS ("  # noqa: S608
            f"SELECT id, 0 FROM {quote(units)} WHERE slug = %s "
            "UNION ALL SELECT (SELECT revision.parent_id "
            f"FROM {history} revision WHERE revision.id = chain.id "
            "AND revision.history_date <= %s "
            "ORDER BY revision.history_date DESC, revision.history_id DESC LIMIT 1), "
            "chain.depth + 1 FROM chain WHERE chain.id IS NOT NULL AND chain.depth < %s"
            ") SELECT id FROM chain WHERE id IS NOT NULL"
        )
        with connection.cursor() as cursor:
            cursor.execute(chain, (slug, when, MAX_LINEAGE_DEPTH))
            ids = [row[0] for row in cursor.fetchall()]
        rows = states_as_of(OrganizationalUnit, when, UNIT_STATE_FIELDS, ids=ids)
    by_id = {row["id"]: row for row in rows}
    start = next((row for row in rows if row["slug"] == slug), None)
    if start is None:
        return None
    lineage: list[UnitNode] = []
    row: dict[str, Any] | None = start
    while row is not None and len(lineage) <= MAX_LINEAGE_DEPTH:
        lineage.append(UnitNode(**row))
        row = by_id.get(row["parent_id"]) if row["parent_id"] else None
    lineage.reverse()
    for level, node in enumerate(lineage):
        node.level = level
    return lineage


def unit_family(slug: str, when: datetime.datetime | None = None) -> UnitFamily | None:
    """The unit ``slug`` at ``when`` with its ancestors and sub-units; None if absent.

    Reads only those units: two queries now, three as of a past instant.
    """
    lineage = unit_lineage(slug, when)
    if lineage is None:
        return None
    unit = lineage[-1]
    if when is None:
        rows = list(
            OrganizationalUnit.objects.filter(parent_id=unit.id).values(
                *UNIT_STATE_FIELDS
            )
        )
    else:
        rows = [
            row
            for row in states_as_of(
                OrganizationalUnit,
                when,
                UNIT_STATE_FIELDS,
                ids=_ever_matched(OrganizationalUnit, Q(parent_id=unit.id)),
            )
            if row["parent_id"] == unit.id
        ]
    children = [UnitNode(**row, level=unit.level + 1) for row in rows]
    children.sort(key=_sibling_key)
    return UnitFamily(unit=unit, ancestors=lineage[:-1], children=children)


def unit_posts_as_of(
    unit_id: int, when: datetime.datetime | None = None
) -> list[PostState]:
    """One unit's posts at ``when`` as its page lists them: the head first, then by title."""
    posts = posts_as_of(when, unit_ids={unit_id})
    posts.sort(key=lambda post: (not post.is_head, post.title))
    return posts


# --- History -------------------------------------------------------------------------


def _display(field_name: str, value: Any, unit_names: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field_name == "parent_id":
        return unit_names.get(value, f"unit {value}")
    model_field = OrganizationalUnit._meta.get_field(
        "parent" if field_name == "parent_id" else field_name
    )
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def _label(field_name: str) -> str:
    name = "parent" if field_name == "parent_id" else field_name
    return str(OrganizationalUnit._meta.get_field(name).verbose_name)


def unit_history(unit: OrganizationalUnit | int) -> list[UnitRevision]:
    """A unit's versions, newest first, each with field-level differences (2 queries)."""
    unit_id = getattr(unit, "pk", unit)
    rows = list(
        OrganizationalUnit.history.filter(id=unit_id)
        .order_by("history_date", "history_id")
        .values(
            "history_id",
            "history_date",
            "recorded_at",
            "history_type",
            "history_change_reason",
            "history_user__username",
            *UNIT_HISTORY_FIELDS,
        )
    )
    parent_ids = {row["parent_id"] for row in rows if row["parent_id"]}
    unit_names = dict(
        OrganizationalUnit.objects.filter(pk__in=parent_ids).values_list("id", "name")
    )
    revisions = []
    previous: dict[str, Any] | None = None
    for row in rows:
        changes = []
        for field_name in UNIT_HISTORY_FIELDS:
            old = previous[field_name] if previous else None
            new = row[field_name]
            if previous is None and new in (None, ""):
                continue
            if old != new:
                changes.append(
                    FieldChange(
                        field=field_name,
                        label=_label(field_name),
                        old=old,
                        new=new,
                        old_display=_display(field_name, old, unit_names),
                        new_display=_display(field_name, new, unit_names),
                    )
                )
        revisions.append(
            UnitRevision(
                history_id=row["history_id"],
                effective_at=row["history_date"],
                recorded_at=row["recorded_at"],
                author=row["history_user__username"],
                reason=row["history_change_reason"] or "",
                history_type=row["history_type"],
                changes=changes,
            )
        )
        previous = row
    revisions.reverse()
    return revisions


# --- The change feed ---------------------------------------------------------------------

Revision = dict[str, Any]
RevisionPairs = list[tuple[Revision, Revision | None]]

RELATIONSHIP_CHANGE_FIELDS = (
    "id",
    "source_id",
    "target_id",
    "kind",
    "started_on",
    "ended_on",
)
# The history tables the feed reads, with the fields its changes need, in the order
# that breaks a tie of (effective time, history_id) between tables: history ids are
# counted per table, so a unit's revision and an appointment's can share both.
FEED_SOURCES: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (OrganizationalUnit, UNIT_STATE_FIELDS),
    (Appointment, APPOINTMENT_FIELDS),
    (UnitRelationship, RELATIONSHIP_CHANGE_FIELDS),
)


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
    return (
        "history_id",
        "history_date",
        "recorded_at",
        "history_type",
        "history_change_reason",
        "history_user__username",
        *fields,
    )


def _paired(rows: list[Revision], earlier: dict[int, Revision]) -> RevisionPairs:
    """Each row (oldest first) with its object's revision before it, if any."""
    pairs = []
    for row in rows:
        pairs.append((row, earlier.get(row["id"])))
        earlier[row["id"]] = row
    return pairs


def _window_with_previous(
    model: type[models.Model],
    since: datetime.datetime,
    until: datetime.datetime,
    fields: Sequence[str],
) -> RevisionPairs:
    """Each revision effective in (since, until] paired with the one before it."""
    history = _history_model(model)
    columns = _feed_columns(fields)
    window = list(
        history.objects.filter(history_date__gt=since, history_date__lte=until)
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
    model: type[models.Model],
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
    rows = _history_model(model).objects.filter(
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
    model: type[models.Model], fields: Sequence[str], first: Revision, ids: set[int]
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
        .objects.filter(before, id__in=ids)
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
) -> tuple[list[tuple[ChangeKey, Change]], tuple[Any, ...] | None]:
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
    ends = [
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


def _changes_at(keyed: list[tuple[ChangeKey, Change]], place: tuple[Any, ...]) -> int:
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


def _keyed_changes(
    unit_pairs: RevisionPairs,
    appointment_pairs: RevisionPairs,
    relationship_pairs: RevisionPairs,
) -> list[tuple[ChangeKey, Change]]:
    """The feed's changes recorded by these revisions, each with its key; 3 queries."""
    unit_ids = {row["id"] for row, _ in unit_pairs}
    unit_ids |= {row["parent_id"] for row, _ in unit_pairs if row["parent_id"]}
    unit_ids |= {
        prev["parent_id"] for _, prev in unit_pairs if prev and prev["parent_id"]
    }
    unit_ids |= {
        row[key] for row, _ in relationship_pairs for key in ("source_id", "target_id")
    }
    posts = {
        row["id"]: row
        for row in Post.objects.filter(
            pk__in={row["post_id"] for row, _ in appointment_pairs}
        ).values("id", "title", "slug", "unit_id")
    }
    unit_ids |= {post["unit_id"] for post in posts.values()}
    units = {
        row["id"]: row
        for row in OrganizationalUnit.objects.filter(pk__in=unit_ids).values(
            "id", "slug", "name"
        )
    }
    people = dict(
        Person.objects.filter(
            pk__in={row["person_id"] for row, _ in appointment_pairs}
        ).values_list("id", "full_name")
    )

    def unit_name(unit_id: int | None) -> str:
        return units[unit_id]["name"] if unit_id in units else "(top level)"

    keyed: list[tuple[ChangeKey, Change]] = []

    def record(source: int, row: Revision, changes: list[Change]) -> None:
        keyed.extend(
            (ChangeKey(row["history_date"], row["history_id"], source, ordinal), change)
            for ordinal, change in enumerate(changes, start=1)
        )

    for row, previous in unit_pairs:
        base = {"unit_slug": row["slug"], "unit_name": row["name"]}
        changes: list[Change] = []
        if previous is None:
            changes.append(
                _change(
                    "added",
                    row,
                    summary=f"{row['name']} established under {unit_name(row['parent_id'])}",
                    details={"parent": _unit_ref(units, row["parent_id"])},
                    **base,
                )
            )
            record(0, row, changes)
            continue
        if previous["abolished_on"] is None and row["abolished_on"] is not None:
            changes.append(
                _change("abolished", row, summary=f"{row['name']} abolished", **base)
            )
        if previous["abolished_on"] is not None and row["abolished_on"] is None:
            changes.append(
                _change("reinstated", row, summary=f"{row['name']} reinstated", **base)
            )
        if previous["parent_id"] != row["parent_id"]:
            changes.append(
                _change(
                    "moved",
                    row,
                    summary=(
                        f"{row['name']} moved from {unit_name(previous['parent_id'])} "
                        f"to {unit_name(row['parent_id'])}"
                    ),
                    details={
                        "from": _unit_ref(units, previous["parent_id"]),
                        "to": _unit_ref(units, row["parent_id"]),
                    },
                    **base,
                )
            )
        if (
            previous["name"] != row["name"]
            or previous["short_name"] != row["short_name"]
        ):
            changes.append(
                _change(
                    "renamed",
                    row,
                    summary=f"{previous['name']} renamed {row['name']}",
                    details={
                        "old_name": previous["name"],
                        "new_name": row["name"],
                        "old_short_name": previous["short_name"],
                        "new_short_name": row["short_name"],
                    },
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
                    **base,
                )
            )
        if (
            previous["reporting_line"] != row["reporting_line"]
            and previous["parent_id"] == row["parent_id"]
        ):
            changes.append(
                _change(
                    "reporting_line_changed",
                    row,
                    summary=f"Reporting line of {row['name']} changed",
                    details={
                        "old": previous["reporting_line"],
                        "new": row["reporting_line"],
                    },
                    **base,
                )
            )
        record(0, row, changes)
    for row, previous in appointment_pairs:
        post = posts.get(row["post_id"])
        unit = units.get(post["unit_id"]) if post else None
        base = {
            "unit_slug": unit["slug"] if unit else "",
            "unit_name": unit["name"] if unit else "",
        }
        details = {
            "person": people.get(row["person_id"], ""),
            "post": post["title"] if post else "",
            "post_slug": post["slug"] if post else "",
            "started_on": row["started_on"],
            "ended_on": row["ended_on"],
        }
        changes = []
        if previous is None:
            changes.append(
                _change(
                    "appointment_started",
                    row,
                    summary=f"{details['person']} appointed {details['post']}",
                    details=details,
                    **base,
                )
            )
        if row["ended_on"] is not None and (
            previous is None or previous["ended_on"] is None
        ):
            changes.append(
                _change(
                    "appointment_ended",
                    row,
                    summary=f"{details['person']} no longer {details['post']}",
                    details=details,
                    **base,
                )
            )
        record(1, row, changes)
    for row, previous in relationship_pairs:
        source = units.get(row["source_id"])
        base = (
            {"unit_slug": source["slug"], "unit_name": source["name"]}
            if source
            else {"unit_slug": "", "unit_name": ""}
        )
        details = {
            "relationship": row["kind"],
            "source": _unit_ref(units, row["source_id"]),
            "target": _unit_ref(units, row["target_id"]),
        }
        changes = []
        if previous is None:
            changes.append(
                _change(
                    "relationship_added",
                    row,
                    summary=f"{unit_name(row['source_id'])} now {row['kind'].replace('_', ' ')} {unit_name(row['target_id'])}",
                    details=details,
                    **base,
                )
            )
        elif previous["ended_on"] is None and row["ended_on"] is not None:
            changes.append(
                _change(
                    "relationship_ended",
                    row,
                    summary=f"{unit_name(row['source_id'])} no longer {row['kind'].replace('_', ' ')} {unit_name(row['target_id'])}",
                    details=details,
                    **base,
                )
            )
        record(2, row, changes)
    return keyed


def _unit_ref(
    units: dict[int, dict[str, Any]], unit_id: int | None
) -> dict[str, Any] | None:
    if unit_id is None or unit_id not in units:
        return None
    return {"slug": units[unit_id]["slug"], "name": units[unit_id]["name"]}


# --- Consistency -------------------------------------------------------------------------


def tree_problems() -> list[str]:
    """Compare mptt's bookkeeping with the parent links; empty when consistent."""
    rows = list(OrganizationalUnit.objects.values("id", "parent_id", *TREE_FIELDS))
    by_id = {row["id"]: row for row in rows}
    children: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    problems: list[str] = []
    for row in rows:
        if row["parent_id"] is not None and row["parent_id"] not in by_id:
            problems.append(
                f"unit {row['id']}: parent {row['parent_id']} does not exist"
            )
        children[row["parent_id"]].append(row)
    # Cycles: every unit must reach a root by parent links.
    for row in rows:
        seen, current = set(), row
        while current["parent_id"] is not None and current["parent_id"] in by_id:
            if current["id"] in seen:
                problems.append(
                    f"unit {row['id']}: its reporting line contains a cycle"
                )
                break
            seen.add(current["id"])
            current = by_id[current["parent_id"]]
    if problems:
        return problems
    tree_ids = [row["tree_id"] for row in children[None]]
    if len(tree_ids) != len(set(tree_ids)):
        problems.append("two top-level units share one tree_id")
    for root in children[None]:
        problems.extend(_nested_set_problems(root, children))
    reached = sum(1 for root in children[None] for _ in _descendants(root, children))
    if reached != len(rows):
        problems.append(
            f"{len(rows) - reached} units cannot be reached from a top-level unit"
        )
    return problems


def _descendants(
    root: dict[str, Any], children: dict[Any, list[dict[str, Any]]]
) -> Iterable[dict[str, Any]]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children[node["id"]])


def _nested_set_problems(
    root: dict[str, Any], children: dict[Any, list[dict[str, Any]]]
) -> list[str]:
    """Recompute lft/rght/level from parent links in the stored sibling order."""
    problems: list[str] = []
    counter = 0
    # Iterative depth-first numbering: (node, level, entering?).
    stack: list[tuple[dict[str, Any], int, bool]] = [(root, 0, True)]
    expected: dict[int, list[int]] = {}
    while stack:
        node, level, entering = stack.pop()
        if entering:
            counter += 1
            expected[node["id"]] = [counter, 0, level]
            stack.append((node, level, False))
            for child in sorted(
                children[node["id"]], key=lambda row: row["lft"], reverse=True
            ):
                stack.append((child, level + 1, True))
        else:
            counter += 1
            expected[node["id"]][1] = counter
    for node in _descendants(root, children):
        lft, rght, level = expected[node["id"]]
        actual = (node["lft"], node["rght"], node["level"])
        if actual != (lft, rght, level) or node["tree_id"] != root["tree_id"]:
            problems.append(
                f"unit {node['id']}: tree fields (lft, rght, level, tree_id) are "
                f"{(*actual, node['tree_id'])}, parent links give {(lft, rght, level, root['tree_id'])}"
            )
    return problems


HISTORY_CHECKED_MODELS: tuple[type[models.Model], ...] = (
    OrganizationalUnit,
    Post,
    Person,
    Appointment,
    UnitRelationship,
)


def history_problems() -> list[str]:
    """Every current object must equal its latest history row (two queries a model)."""
    problems: list[str] = []
    for model in HISTORY_CHECKED_MODELS:
        tracked = [
            f.attname for f in model._meta.concrete_fields if f.name not in TREE_FIELDS
        ]
        current = {row["id"]: row for row in model.objects.values(*tracked)}  # type: ignore[attr-defined]
        latest = {
            row["id"]: row
            for row in _latest_revisions(
                model, datetime.datetime.max.replace(tzinfo=datetime.UTC)
            ).values("history_type", *tracked)
        }
        label = model._meta.verbose_name
        for pk, row in current.items():
            revision = latest.get(pk)
            if revision is None:
                problems.append(f"{label} {pk}: no history record")
                continue
            differing = [name for name in tracked if row[name] != revision[name]]
            if differing:
                problems.append(
                    f"{label} {pk}: differs from its latest history record in "
                    + ", ".join(differing)
                )
        for pk in set(latest) - set(current):
            if latest[pk]["history_type"] != "-":
                problems.append(
                    f"{label} {pk}: has history but no current row (deleted?)"
                )
    return problems


def registry_problems() -> list[str]:
    return tree_problems() + history_problems()

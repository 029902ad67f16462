"""What changed in the current tree since a stamp, in three small queries.

A cached current tree is rebuilt after every write, and at 10,000 units rebuilding
it costs about as much CPU as the move that made it stale. Most writes change a few
units (a rename, a move, a new unit), so the tree's answer can instead be derived
from the previous one (``api.formats.tree_patch``): this read says which units
changed since the previous answer's stamp, their current rows, and, so the encoder
can put each where it belongs, the rows of their siblings under their new parents.

Everything it returns is one state of the registry: the rows, the new stamp and the
number of units in the tree come from one statement (one snapshot on PostgreSQL even
under READ COMMITTED), and the stamp read before the changed units is the one read
with the rows, so no write committed in between (writes commit in the order of their
history ids, under the registry lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    IntegerField,
    Q,
    Value,
)
from django.db.models.expressions import RawSQL

from units.models import Appointment, OrganizationalUnit, Person, Post
from units.selectors.fields import UNIT_STATE_FIELDS
from units.selectors.flat_trees import HEAD_COLUMNS, with_current_head
from units.selectors.freshness import (
    RESTORE_EPOCH,
    STAMPED_MODELS,
    Stamp,
    generation_sql,
    history_tables,
    newest_ids_sql,
    stamp_now,
    stamp_position,
)

# More changed units than this since the stamp: the tree is rebuilt, not patched.
MOST_CHANGED_UNITS = 200

# Columns after the unit's and its head's, in ``TreeChanges.rows``.
CHANGE_COLUMNS = ("parent__slug", "level", "changed", "in_tree")


@dataclass(frozen=True, slots=True)
class TreeChanges:
    """The units changed since a stamp, with what placing them needs.

    ``rows``: ``UNIT_STATE_FIELDS`` + ``HEAD_COLUMNS`` + ``CHANGE_COLUMNS`` for every
    changed unit (``changed``), in the tree or not (``in_tree``: shown by the read),
    for every unit under the same parent as a changed one, and for the top-level
    units. ``stamp``: the registry's stamp in the same state; ``tree_size``: how many
    units the tree holds in it.
    """

    rows: list[tuple[Any, ...]]
    stamp: Stamp
    tree_size: int


def _scalar(sql: str) -> RawSQL:
    """A value of the whole state (not of the row), computed once by the database."""
    return RawSQL(sql, [], output_field=IntegerField())  # noqa: S611 - our SQL, no input


def _tree_size_sql(include_abolished: bool) -> str:
    quote = connection.ops.quote_name
    table = quote(OrganizationalUnit._meta.db_table)
    where = "" if include_abolished else f" WHERE {quote('abolished_on')} IS NULL"
    return f"(SELECT COUNT(*) FROM {table}{where})"  # noqa: S608 - our own table


def _changed_since(model: Any, since: Stamp) -> Any:
    """``model``'s history rows recorded after ``since``."""
    return model.history.model.objects.filter(
        history_id__gt=since[stamp_position(model)]
    ).order_by()


def _units_shown_changed(since: Stamp) -> dict[int, int | None]:
    """The units whose object in the tree a change recorded after ``since`` touches,
    with their parents' ids.

    A unit's own change; and the head a unit shows: a changed post (under any unit
    it was ever under, as a post may move), the post of a changed appointment, or
    the posts a changed person holds. A superset is harmless (the unit is
    re-encoded as it is); none may be missed. One query, on indexes: each part
    reads the history rows past the stamp, a handful.
    """
    people = _changed_since(Person, since).values("id")
    posts = (
        _changed_since(Post, since)
        .values("id")
        .union(
            _changed_since(Appointment, since).values("post_id"),
            Appointment.objects.filter(person_id__in=people)
            .order_by()
            .values("post_id"),
        )
    )
    units = (
        Post.history.model.objects.filter(id__in=posts)
        .order_by()
        .values_list("unit_id", flat=True)
        .union(_changed_since(OrganizationalUnit, since).values_list("id", flat=True))
    )
    return dict(
        OrganizationalUnit.objects.filter(pk__in=units)
        .order_by()
        .values_list("pk", "parent_id")
    )


def unit_tree_changes(
    since: Stamp, *, include_abolished: bool = False
) -> TreeChanges | None:
    """The current tree's units changed since ``since``: three small queries.

    The new stamp is read first and again with the rows: if a write committed in
    between, the changed units read in the middle may miss it, and None is returned.
    None too when the rows cannot describe the change: the history was replaced (a
    restore), or more than ``MOST_CHANGED_UNITS`` units changed. The caller then
    builds the tree whole.
    """
    if len(since) != len(STAMPED_MODELS) + 1:
        return None
    stamp = stamp_now()
    if stamp[0] != since[0] or any(
        now < then for now, then in zip(stamp[1:], since[1:], strict=True)
    ):
        return None  # the history was replaced
    if stamp == since:
        return TreeChanges([], stamp, 0)
    changed_ids = _units_shown_changed(since)
    if len(changed_ids) > MOST_CHANGED_UNITS:
        return None
    if not changed_ids:
        return TreeChanges([], stamp, 0)
    changed = Q(pk__in=list(changed_ids))
    # Literal ids, not subqueries: the planner then reads a few rows by index
    # whatever its statistics say (a subquery here made it hash the whole tables).
    new_parents = {parent for parent in changed_ids.values() if parent is not None}
    in_tree = (
        Value(True)
        if include_abolished
        else ExpressionWrapper(
            Q(abolished_on__isnull=True), output_field=BooleanField()
        )
    )
    newest = {
        f"newest_{position}": _scalar(f"COALESCE({sql}, 0)")
        for position, sql in enumerate(newest_ids_sql(history_tables()), start=1)
    }
    units = (
        OrganizationalUnit.objects.filter(
            changed | Q(parent_id__in=sorted(new_parents)) | Q(parent_id__isnull=True)
        )
        .annotate(
            changed=ExpressionWrapper(changed, output_field=BooleanField()),
            in_tree=in_tree,
            generation=_scalar(generation_sql()),
            tree_size=_scalar(_tree_size_sql(include_abolished)),
            **newest,
        )
        .order_by("level", "tree_id", "lft")
    )
    fetched = list(
        with_current_head(units).values_list(
            *UNIT_STATE_FIELDS,
            *HEAD_COLUMNS,
            *CHANGE_COLUMNS,
            "generation",
            "tree_size",
            *newest,
        )
    )
    if not fetched:
        return None
    width = len(UNIT_STATE_FIELDS) + len(HEAD_COLUMNS) + len(CHANGE_COLUMNS)
    generation, tree_size, *newest_ids = fetched[0][width:]
    if ((generation or 0) // RESTORE_EPOCH, *newest_ids) != stamp:
        return None  # a write committed while this was read
    return TreeChanges([row[:width] for row in fetched], stamp, tree_size or 0)

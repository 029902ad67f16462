"""Writes cost what they change: counted in statements and rows, never in seconds.

A rename or an edit writes one unit row and one history row at any size; a create or
a move issues as many statements in a registry of 300 units as in one of 30, and a move
writes only the rows whose tree fields change (the subtree and the nodes it passes).
"""

from __future__ import annotations

import datetime
import importlib
import random
import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoDbBlocker

from tests.conftest import assert_tree_matches_rebuild, rolled_back_registry
from tests.factories import UnitFactory
from units import selectors, services
from units.models import OrganizationalUnit
from units.services import positions, revisions
from units.services.refusals import Refusal, refusal_code

UNITS = OrganizationalUnit._meta.db_table
HISTORY = OrganizationalUnit.history.model._meta.db_table


def _writes(queries: CaptureQueriesContext, verb: str, table: str) -> list[str]:
    """The captured statements that ``verb`` (UPDATE, INSERT) the table ``table``."""
    pattern = re.compile(rf'^\s*{verb}\s+(INTO\s+)?"?{table}"?\s', re.IGNORECASE)
    return [
        query["sql"]
        for query in queries.captured_queries
        if pattern.match(query["sql"])
    ]


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """Every statement but the transaction's own (savepoints differ by name only)."""
    return [
        query["sql"]
        for query in queries.captured_queries
        if "SAVEPOINT" not in query["sql"].upper()
    ]


def _build(parent: OrganizationalUnit, count: int) -> None:
    """``count`` units in a bushy tree under ``parent`` (six sub-units each)."""
    frontier = [parent]
    made = 0
    while made < count:
        below = []
        for node in frontier:
            for _ in range(6):
                if made == count:
                    break
                below.append(UnitFactory.create(name=f"Unit {made:04d}", parent=node))
                made += 1
        frontier = below


@pytest.fixture(scope="module")
def shared_tree_of_300(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[int]:
    """A registry of 301 units, written once for the module; yields its root's id."""
    with rolled_back_registry(django_db_blocker):
        root = UnitFactory.create(name="Headquarters")
        _build(root, 300)
        yield root.pk


@pytest.fixture
def root(shared_tree_of_300: int, db: None) -> OrganizationalUnit:
    return OrganizationalUnit.objects.get(pk=shared_tree_of_300)


def _xmins() -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, xmin::text::bigint FROM {UNITS}")  # noqa: S608
        return dict(cursor.fetchall())


def _rows_written(action: Callable[[], Any]) -> int:
    """On PostgreSQL, how many unit rows ``action`` gave a new version (by ``xmin``)."""
    before = _xmins()
    action()
    after = _xmins()
    return sum(1 for pk, xmin in after.items() if before.get(pk) != xmin)


def _level_four(root: OrganizationalUnit) -> OrganizationalUnit:
    return OrganizationalUnit.objects.descendants_of(root).filter(level=3)[0]


def test_a_rename_writes_one_unit_row_and_one_history_row(
    root: OrganizationalUnit, editor: User
) -> None:
    unit = _level_four(root)
    before = selectors.unit_tree()
    with CaptureQueriesContext(connection) as queries:
        services.unit_update(unit=unit, user=editor, reason="Renamed", name="Aaa first")
    updates = _writes(queries, "UPDATE", UNITS)
    assert len(updates) == 1
    assert '"lft"' not in updates[0]
    assert re.search(r'WHERE\s+"?\w+"?\."?id"?\s*=', updates[0])
    assert len(_writes(queries, "INSERT", HISTORY)) == 1
    assert len(_writes(queries, "INSERT", UNITS)) == 0
    # The name is no part of the order: the renamed unit keeps its place.
    after = selectors.unit_tree()
    assert _ids_in_order(after) == _ids_in_order(before)
    assert_tree_matches_rebuild()


def test_an_edit_of_every_plain_field_writes_one_unit_row(
    root: OrganizationalUnit, editor: User
) -> None:
    unit = _level_four(root)
    with CaptureQueriesContext(connection) as queries:
        services.unit_update(
            unit=unit,
            user=editor,
            reason="Corrected",
            name="Zzz last",
            short_name="ZZ",
            mandate="Does things.",
            location="Geneva",
            kind="division",
        )
    assert len(_writes(queries, "UPDATE", UNITS)) == 1
    assert len(_writes(queries, "INSERT", HISTORY)) == 1


def test_a_rename_looks_up_nothing_it_did_not_change(
    root: OrganizationalUnit, editor: User
) -> None:
    """The unit read under the lock, whether a later revision exists, the row, the
    history row and the generation: no parent, slug or constraint lookup (the values
    are the stored ones), which cost a rename three statements and two savepoints."""
    unit = _level_four(root)
    with CaptureQueriesContext(connection) as queries:
        services.unit_update(unit=unit, user=editor, reason="Renamed", name="Renamed")
    statements = _statements(queries)
    lock = 1 if connection.vendor == "postgresql" else 0
    assert len(statements) == lock + 5, statements
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert not [sql for sql in reads if "_check" in sql or '"slug" =' in sql]


def test_an_edit_still_checks_what_it_changes(
    root: OrganizationalUnit, editor: User
) -> None:
    """Left out of full_clean are the values as stored; a changed one is validated, and
    a constraint is checked whole when one of its fields changes."""
    unit, other = OrganizationalUnit.objects.descendants_of(root).filter(level=3)[:2]
    locked = revisions.fresh(OrganizationalUnit, unit)
    locked.slug = other.slug
    locked.established_on = datetime.date(2020, 1, 1)
    locked.abolished_on = datetime.date(2019, 1, 1)
    skipped = revisions.already_valid(locked)
    assert "name" in skipped
    assert not {"slug", "established_on", "abolished_on"} & set(skipped)
    locked = revisions.fresh(OrganizationalUnit, unit)
    locked.abolished_on = datetime.date(1900, 1, 1)  # established_on is unchanged
    assert "established_on" not in revisions.already_valid(locked)
    with pytest.raises(ValidationError) as refused:
        locked.full_clean(exclude=revisions.already_valid(locked))
    assert "unit_abolished_after_established" in str(refused.value)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="xmin is PostgreSQL's row version"
)
def test_a_rename_gives_one_unit_row_a_new_version_on_postgresql(
    root: OrganizationalUnit, editor: User
) -> None:
    unit = _level_four(root)
    written = _rows_written(
        lambda: services.unit_update(
            unit=unit, user=editor, reason="Renamed", name="Aaa first"
        )
    )
    assert written == 1


def _ids_in_order(roots: list[Any]) -> list[int]:
    ordered: list[int] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        ordered.append(node.id)
        stack.extend(reversed(node.children))
    return ordered


def _create_last(parent: OrganizationalUnit, editor: User, name: str) -> None:
    services.unit_create(
        user=editor, reason="New", name=name, kind="unit", parent=parent
    )


def _create_first(parent: OrganizationalUnit, editor: User, name: str) -> None:
    first = OrganizationalUnit.objects.children_of(parent).order_by("sibling_order")[0]
    services.unit_create(
        user=editor,
        reason="New",
        name=name,
        kind="unit",
        parent=parent,
        sibling_order=first.sibling_order - 1,
    )


def _move(root: OrganizationalUnit, editor: User, name: str) -> None:
    departments = list(
        OrganizationalUnit.objects.children_of(root).order_by("sibling_order")
    )
    mover = OrganizationalUnit.objects.children_of(departments[0])[0]
    services.unit_move(
        unit=mover, new_parent=departments[-1], user=editor, reason=f"Moved {name}"
    )


def test_creates_and_moves_issue_as_many_statements_at_300_units_as_at_30(
    make_unit: Callable[..., Any], editor: User
) -> None:
    """Counted on one registry grown from 30 to 300 units."""
    root = make_unit("Headquarters")
    counts: dict[str, list[int]] = {"last": [], "first": [], "move": []}
    for size in (30, 300):
        _build(root, size - (0 if size == 30 else 30))
        parent = OrganizationalUnit.objects.children_of(root).order_by("sibling_order")[
            1
        ]
        for name, write, unit_updates in (
            ("last", partial(_create_last, parent, editor, f"Last {size}"), 1),
            ("first", partial(_create_first, parent, editor, f"First {size}"), 1),
            # The subtree's tree update, then the unit's own fields.
            ("move", partial(_move, root, editor, str(size)), 2),
        ):
            with CaptureQueriesContext(connection) as queries:
                write()
            counts[name].append(len(_statements(queries)))
            assert len(_writes(queries, "UPDATE", UNITS)) == unit_updates, name
            assert len(_writes(queries, "INSERT", HISTORY)) == 1, name
    assert {name: pair[0] for name, pair in counts.items()} == {
        name: pair[1] for name, pair in counts.items()
    }
    assert_tree_matches_rebuild()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="xmin is PostgreSQL's row version"
)
def test_a_move_writes_only_the_rows_whose_tree_fields_change(
    root: OrganizationalUnit, editor: User
) -> None:
    departments = list(
        OrganizationalUnit.objects.children_of(root).order_by("sibling_order")
    )
    mover = OrganizationalUnit.objects.children_of(departments[1])[0]
    before = {row[0]: row[1:] for row in _tree_rows()}
    written = _rows_written(
        lambda: services.unit_move(
            unit=mover, new_parent=departments[2], user=editor, reason="Moved"
        )
    )
    after = {row[0]: row[1:] for row in _tree_rows()}
    changed = sum(1 for pk in before if before[pk] != after[pk])
    assert written == changed
    assert changed < len(before) / 2


def _tree_rows() -> list[tuple[int, int, int, int]]:
    return list(OrganizationalUnit.objects.values_list("pk", "lft", "rght", "level"))


def test_random_moves_and_reorders_keep_the_tree_exact(
    root: OrganizationalUnit, editor: User
) -> None:
    chance = random.Random(15)  # noqa: S311 (a fixed, repeatable walk)
    units = list(
        OrganizationalUnit.objects.exclude(pk=root.pk).values_list("pk", flat=True)
    )
    for step in range(40):
        unit = OrganizationalUnit.objects.get(pk=chance.choice(units))
        target = OrganizationalUnit.objects.get(pk=chance.choice(units))
        position = chance.choice(services.MOVE_POSITIONS)
        if target.pk == unit.pk or target.is_descendant_of(unit):
            continue  # refused as a cycle, tested elsewhere
        services.unit_move_to_position(
            unit=unit,
            target=target,
            position=position,
            user=editor,
            reason=f"Step {step}",
        )
    assert selectors.tree_problems() == []
    assert_tree_matches_rebuild()
    orders = list(OrganizationalUnit.objects.values_list("parent_id", "sibling_order"))
    assert len(orders) == len(set(orders))


def test_a_position_another_sibling_holds_is_refused_and_nothing_is_written(
    make_unit: Callable[..., Any], editor: User
) -> None:
    root = make_unit("Headquarters")
    first = make_unit("First", root)
    second = make_unit("Second", root)
    versions = OrganizationalUnit.history.count()
    with pytest.raises(ValidationError) as refusal:
        services.unit_create(
            user=editor,
            reason="New",
            name="Third",
            kind="unit",
            parent=root,
            sibling_order=first.sibling_order,
        )
    assert refusal_code(refusal.value) == Refusal.POSITION_TAKEN
    assert "already held by “First”" in refusal.value.messages[0]
    with pytest.raises(ValidationError) as refusal:
        services.unit_update(
            unit=second, user=editor, reason="Up", sibling_order=first.sibling_order
        )
    assert refusal_code(refusal.value) == Refusal.POSITION_TAKEN
    assert OrganizationalUnit.history.count() == versions
    assert (
        OrganizationalUnit.objects.get(pk=second.pk).sibling_order
        == second.sibling_order
    )


def test_new_units_go_last_and_a_free_position_reorders(
    make_unit: Callable[..., Any], editor: User
) -> None:
    root = make_unit("Headquarters")
    zulu = make_unit("Zulu", root)
    make_unit("Alpha", root)
    assert _names_under(root) == ["Zulu", "Alpha"]
    services.unit_update(unit=zulu, user=editor, reason="Last", sibling_order=1000)
    assert _names_under(root) == ["Alpha", "Zulu"]
    assert_tree_matches_rebuild()


def _names_under(parent: OrganizationalUnit) -> list[str]:
    children = OrganizationalUnit.objects.children_of(parent).in_tree_order()
    return [unit.name for unit in children]


def test_the_migration_gives_siblings_distinct_positions_in_the_order_shown(
    make_unit: Callable[..., Any], editor: User
) -> None:
    root = make_unit("Headquarters")
    names = ["Delta", "alpha", "Charlie", "Bravo", "Echo"]
    for name in names:
        make_unit(name, root)
    child = make_unit("Below Bravo", OrganizationalUnit.objects.get(name="Bravo"))
    make_unit("Another below", child.parent)
    # Ties as an older registry could hold them: the name decided the order shown.
    OrganizationalUnit.objects.filter(parent=root).update(sibling_order=0)
    OrganizationalUnit.objects.filter(name="Echo").update(sibling_order=5)
    OrganizationalUnit.objects.filter(parent=child.parent).update(sibling_order=7)
    _record_as_stored()
    shown = _ids_in_order(selectors.unit_tree())
    migration = importlib.import_module(
        "units.migrations.0009_distinct_sibling_positions"
    )
    migration.make_positions_distinct(apps, None)
    assert _ids_in_order(selectors.unit_tree()) == shown
    orders = list(OrganizationalUnit.objects.values_list("parent_id", "sibling_order"))
    assert len(orders) == len(set(orders))
    assert selectors.registry_problems() == []
    renumbered = OrganizationalUnit.history.filter(
        history_change_reason=positions.REASON
    )
    assert renumbered.count() == 3 + 1  # three of four tied siblings, one of two below
    # From now on a rename moves nothing.
    bravo = OrganizationalUnit.objects.get(name="Bravo")
    services.unit_update(unit=bravo, user=editor, reason="Renamed", name="Zzz")
    assert _ids_in_order(selectors.unit_tree()) == shown
    assert_tree_matches_rebuild()


def _record_as_stored() -> None:
    """Bring the tree fields and the latest revisions in line with the edited rows."""
    OrganizationalUnit.objects.rebuild()
    history = OrganizationalUnit.history
    for unit in OrganizationalUnit.objects.all():
        latest = history.filter(id=unit.pk).order_by("-history_date", "-history_id")[0]
        history.filter(history_id=latest.history_id).update(
            sibling_order=unit.sibling_order
        )

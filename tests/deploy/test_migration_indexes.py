"""The indexes migrations make in plain SQL survive every later migration.

SQLite adds a NOT NULL column by rebuilding the table, and the rebuilt table keeps only
the indexes Django's model state knows; an index made with ``RunSQL`` is silently gone
(0018 lost the feed's indexes that way until it made them again).
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from django.db import connection, migrations

import units.migrations

CREATED = re.compile(r'CREATE INDEX (?:IF NOT EXISTS )?"([^"]+)"\s+ON "([^"]+)"')


def plain_sql_indexes() -> set[tuple[str, str]]:
    """(table, index) of every index a migration creates with ``RunSQL``."""
    found = set()
    for module_info in pkgutil.iter_modules(units.migrations.__path__):
        module = importlib.import_module(f"units.migrations.{module_info.name}")
        migration = getattr(module, "Migration", None)
        for operation in getattr(migration, "operations", []):
            if not isinstance(operation, migrations.RunSQL):
                continue
            statements = (
                [operation.sql] if isinstance(operation.sql, str) else operation.sql
            )
            for statement in statements:
                for index, table in CREATED.findall(str(statement)):
                    found.add((table, index))
    return found


@pytest.mark.django_db
def test_every_plain_sql_index_exists_after_migrating() -> None:
    wanted = plain_sql_indexes()
    assert len(wanted) >= 14  # 0004 (3), 0013 (5) and 0017 (6): the history tables
    with connection.cursor() as cursor:
        missing = [
            (table, index)
            for table, index in sorted(wanted)
            if index not in connection.introspection.get_constraints(cursor, table)
        ]
    assert missing == []


@pytest.mark.django_db
def test_the_unit_table_keeps_only_the_indexes_its_reads_need() -> None:
    """Every index on the unit table costs each row a create or a move shifts a new
    entry (migration 0019, docs/performance.md): besides the primary key and the
    slug's uniqueness, only tree order and sub-units in order."""
    table = "units_organizationalunit"
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    plain = {
        name: details["columns"]
        for name, details in constraints.items()
        if details["index"] and not details["unique"] and not details["primary_key"]
    }
    # A copy of the slug's index for LIKE 'prefix%' (PostgreSQL's _like) would show
    # here; the uniqueness itself is a unique constraint.
    assert plain == {
        "unit_tree_position": ["tree_id", "lft"],
        "unit_siblings": ["parent_id", "sibling_order"],
    }
    assert [
        name
        for name, details in constraints.items()
        if details["unique"] and details["columns"] == ["slug"]
    ]

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

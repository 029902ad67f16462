"""Fewer indexes on the unit table, so each row a create or a move shifts costs less.

A create or a move rewrites the ``lft``/``rght`` of every unit after it in tree order
(70,000-80,000 rows at 100,000 units). PostgreSQL gives each such row a new version and
a new entry in every index of the table, since ``lft`` is indexed (the update cannot be
HOT). Four of the seven indexes served nothing another did not: ``tree_id`` alone (the
``unit_tree_position`` index begins with it), ``sibling_order`` alone (always asked
together with the parent), ``parent_id`` alone (now the start of ``unit_siblings``)
and, on PostgreSQL, the slug's ``varchar_pattern_ops`` copy (for ``LIKE 'prefix%'``,
which nothing asks). The history table's ``sibling_order`` index goes too (nothing
looks a revision up by position).

The indexes are dropped by name as the database reports them, not by ``AlterField``:
SQLite would rebuild the history table for it and lose the indexes earlier migrations
made in plain SQL (``tests/deploy/test_migration_indexes.py``).
"""

from typing import Any

import django.core.validators
import django.db.models.deletion
import mptt.fields
from django.db import migrations, models

UNITS = "units_organizationalunit"
HISTORY = "units_historicalorganizationalunit"
# (table, column) of each single-column index this migration drops.
DROPPED = [
    (UNITS, "tree_id"),
    (UNITS, "sibling_order"),
    (UNITS, "parent_id"),
    (HISTORY, "sibling_order"),
]


def _single_column_indexes(schema_editor: Any, table: str, column: str) -> list[str]:
    """Names of the plain (not unique, not primary) indexes on ``table(column)``."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, details in constraints.items()
        if details["index"]
        and not details["unique"]
        and not details["primary_key"]
        and details["columns"] == [column]
    ]


def drop_indexes(apps: Any, schema_editor: Any) -> None:
    quote = schema_editor.quote_name
    for table, column in DROPPED:
        for name in _single_column_indexes(schema_editor, table, column):
            schema_editor.execute(f"DROP INDEX {quote(name)}")
    if schema_editor.connection.vendor == "postgresql":
        for name in _single_column_indexes(schema_editor, UNITS, "slug"):
            if name.endswith("_like"):
                schema_editor.execute(f"DROP INDEX {quote(name)}")


def restore_indexes(apps: Any, schema_editor: Any) -> None:
    """Make the dropped indexes again, under the names Django gives them."""
    for table, column in DROPPED:
        name = schema_editor._create_index_name(table, [column])
        schema_editor.execute(
            f"CREATE INDEX {schema_editor.quote_name(name)} "
            f"ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})"
        )
    if schema_editor.connection.vendor == "postgresql":
        name = schema_editor._create_index_name(UNITS, ["slug"], suffix="_like")
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "{UNITS}" ("slug" varchar_pattern_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0018_content_languages"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="historicalorganizationalunit",
                    name="sibling_order",
                    field=models.PositiveIntegerField(
                        default=0,
                        validators=[
                            django.core.validators.MaxValueValidator(2147483647)
                        ],
                        verbose_name="order among siblings",
                    ),
                ),
                migrations.AlterField(
                    model_name="organizationalunit",
                    name="parent",
                    field=mptt.fields.TreeForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="children",
                        to="units.organizationalunit",
                        verbose_name="reports to",
                    ),
                ),
                migrations.AlterField(
                    model_name="organizationalunit",
                    name="sibling_order",
                    field=models.PositiveIntegerField(
                        default=0,
                        validators=[
                            django.core.validators.MaxValueValidator(2147483647)
                        ],
                        verbose_name="order among siblings",
                    ),
                ),
                migrations.AlterField(
                    model_name="organizationalunit",
                    name="tree_id",
                    field=models.PositiveIntegerField(editable=False),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_indexes, restore_indexes),
            ],
        ),
        migrations.AddIndex(
            model_name="organizationalunit",
            index=models.Index(fields=["parent", "sibling_order"], name="unit_siblings"),
        ),
    ]

"""Indexes in the change feed's order, so a page of it reads only its own rows.

The feed walks the unit, appointment and relationship history tables by
(history_date, history_id) from a cursor (``units.selectors.changes_page``) and, for
the Atom feed, back from its end. simple-history gives these tables an index on
(history_date, id) only, so every page would sort again all the revisions recorded at
one instant, and a seed or an import records thousands at once. With these indexes
each read is a range scan that stops after the page.

Plain SQL, outside the models' state: simple-history builds the historical models and
their Meta itself, so the models cannot declare the index; makemigrations neither
sees these nor tries to drop them. The SQL is the same on SQLite and PostgreSQL.
"""

from django.db import migrations

TABLES = (
    "units_historicalorganizationalunit",
    "units_historicalappointment",
    "units_historicalunitrelationship",
)


def index_name(table: str) -> str:
    return f"{table}_feed_order"


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0003_registry_roles"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f'CREATE INDEX "{index_name(table)}" '
                f'ON "{table}" ("history_date", "history_id")'
            ),
            reverse_sql=f'DROP INDEX "{index_name(table)}"',
        )
        for table in TABLES
    ]

"""Indexes in the change feed's order over the revisions reorganizations wrote.

``type=reorganization`` reads each history table by (history_date, history_id) keeping
the rows whose ``reorganization`` is set (``units.selectors.changes.selection``). With
the feed's order index alone (0004) such a read walks every single change of the
window to find a page of reorganizations' ones; these partial indexes hold only theirs,
so the read stops after the page as an unfiltered one does.

Plain SQL, as 0004 (simple-history builds the historical models' Meta itself); partial
indexes read the same on SQLite and PostgreSQL.
"""

from django.db import migrations

TABLES = (
    "units_historicalorganizationalunit",
    "units_historicalappointment",
    "units_historicalunitrelationship",
    "units_historicalpost",
    "units_historicalperson",
)


def index_name(table: str) -> str:
    return f"{table}_feed_reorganizations"


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0012_reorganization_undo"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                f'CREATE INDEX "{index_name(table)}" '
                f'ON "{table}" ("history_date", "history_id") '
                'WHERE "reorganization_id" IS NOT NULL'
            ),
            reverse_sql=f'DROP INDEX "{index_name(table)}"',
        )
        for table in TABLES
    ]

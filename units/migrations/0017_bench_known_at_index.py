"""An index on (history_date, id, recorded_at) for every history table the as-of engine reads.

Why: each object's latest revision as of an instant is picked from the composite
(history_date, id) index alone, a covering scan on SQLite. Read as known at an earlier
instant (issue 14) the engine also filters on ``recorded_at``, which that index lacks:
SQLite then fetches every row the date range holds from the table, and the as-of tree
as known at a past instant cost more than 3x the current tree (docs/performance.md,
"Reads as recorded at an earlier instant"). With ``recorded_at`` in the index the scan
covers again.

Plain SQL, not ``AddIndex``: the history models' indexes come from django-simple-history
(``SIMPLE_HISTORY_DATE_INDEX``), which would drop an index declared beside them.
"""

from django.db import migrations

TABLES = (
    "units_historicalorganizationalunit",
    "units_historicalpost",
    "units_historicalperson",
    "units_historicalappointment",
    "units_historicalunitrelationship",
    "units_historicalunitsuccession",
)


def _name(table: str) -> str:
    return table.replace("units_historical", "units_known_at_") + "_idx"


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0016_correction_revisions"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f'CREATE INDEX "{_name(table)}" ON "{table}" '
            '("history_date", "id", "recorded_at")',
            reverse_sql=f'DROP INDEX "{_name(table)}"',
        )
        for table in TABLES
    ]

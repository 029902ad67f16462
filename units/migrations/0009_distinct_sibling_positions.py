"""Give every unit a position of its own among its siblings, in today's visible order.

Siblings were ordered by (sibling_order, name), so django-mptt moved a unit (and
rewrote the whole tree) whenever it was renamed. From now on they are ordered by
``sibling_order`` alone, which the services keep distinct among siblings. Where
siblings shared a position, the later ones in today's order (position, then name) take
the next free numbers; nothing else changes, so no page or export changes order.

Each unit whose position changes gets one revision (effective now, no author, with a
reason saying why), so the history still ends in the unit's stored state and every
as-of answer from now on uses the new positions. If the tree fields disagree with the
order the pages show (the database compared names its own way), they are renumbered
too; usually no row needs it.
"""

from django.db import migrations

from units.services.positions import make_sibling_positions_distinct


def make_positions_distinct(apps, schema_editor):
    make_sibling_positions_distinct(
        apps.get_model("units", "OrganizationalUnit"),
        apps.get_model("units", "HistoricalOrganizationalUnit"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0008_reason_visibility"),
    ]

    operations = [
        migrations.RunPython(make_positions_distinct, migrations.RunPython.noop),
    ]

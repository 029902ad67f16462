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

from collections import defaultdict

from django.db import migrations
from django.utils import timezone

REASON = (
    "Sibling positions made distinct: siblings are ordered by position only, no "
    "longer by name (the order shown does not change)."
)
BATCH_SIZE = 2_000


def _distinct_positions(rows):
    """New positions (id -> order) for siblings that share one, in visible order."""
    groups = defaultdict(list)
    for row in rows.values():
        groups[row["parent_id"]].append(row)
    changed = {}
    for siblings in groups.values():
        siblings.sort(key=lambda row: (row["sibling_order"], row["name"], row["lft"]))
        previous = -1
        for row in siblings:
            if row["sibling_order"] <= previous:
                row["sibling_order"] = previous + 1
                changed[row["id"]] = row["sibling_order"]
            previous = row["sibling_order"]
    return groups, changed


def _nested_sets(groups):
    """[lft, rght, level, tree_id] of every unit, from parent links and positions."""
    places = {}
    for root in groups.get(None, []):
        tree_id = root["tree_id"]  # each tree keeps its id
        counter = 0
        stack = [(root, 0, True)]
        while stack:
            row, level, entering = stack.pop()
            counter += 1
            if entering:
                places[row["id"]] = [counter, 0, level, tree_id]
                stack.append((row, level, False))
                stack.extend(
                    (child, level + 1, True)
                    for child in reversed(groups.get(row["id"], []))
                )
            else:
                places[row["id"]][1] = counter
    return places


def make_positions_distinct(apps, schema_editor):
    Unit = apps.get_model("units", "OrganizationalUnit")
    History = apps.get_model("units", "HistoricalOrganizationalUnit")
    fields = ("id", "parent_id", "sibling_order", "name", "lft", "rght", "level")
    rows = {
        row["id"]: row
        for row in Unit.objects.values(*fields, "tree_id").iterator(BATCH_SIZE)
    }
    groups, changed = _distinct_positions(rows)
    places = _nested_sets(groups)
    misplaced = [
        unit_id
        for unit_id, place in places.items()
        if place
        != [
            rows[unit_id]["lft"],
            rows[unit_id]["rght"],
            rows[unit_id]["level"],
            rows[unit_id]["tree_id"],
        ]
    ]
    if len(places) == len(rows):  # a tree with a cycle or an orphan is left alone
        for start in range(0, len(misplaced), BATCH_SIZE):
            batch = list(Unit.objects.filter(pk__in=misplaced[start : start + BATCH_SIZE]))
            for unit in batch:
                unit.lft, unit.rght, unit.level, unit.tree_id = places[unit.pk]
            Unit.objects.bulk_update(batch, ["lft", "rght", "level", "tree_id"])
    now = timezone.now()
    copied = [
        field.attname
        for field in History._meta.concrete_fields
        if not field.attname.startswith("history_") and field.attname != "recorded_at"
    ]
    ids = sorted(changed)
    for start in range(0, len(ids), BATCH_SIZE):
        batch = list(Unit.objects.filter(pk__in=ids[start : start + BATCH_SIZE]))
        for unit in batch:
            unit.sibling_order = changed[unit.pk]
            unit.version += 1
        Unit.objects.bulk_update(batch, ["sibling_order", "version"])
        History.objects.bulk_create(
            History(
                **{name: getattr(unit, name) for name in copied},
                history_date=now,
                recorded_at=now,
                history_type="~",
                history_change_reason=REASON,
                history_user_id=None,
            )
            for unit in batch
        )


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0007_unit_provenance"),
    ]

    operations = [
        migrations.RunPython(make_positions_distinct, migrations.RunPython.noop),
    ]

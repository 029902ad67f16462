"""Synthetic organizations of any size, with years of history, inserted in bulk.

Calling the services a million times would take hours, so the generator computes what
they would have written (current rows with their nested-set fields, and one history
row per change, with effective and recorded times, author and reason) and inserts it
with one bulk statement per batch (COPY on PostgreSQL). ``registry_problems()`` then
checks that the result is what the services would have left (see tests and the
benchmark runner, which verify it).

Shape: one root; every other unit hangs under a random earlier unit (a random
recursive tree), with each top-level branch capped at a depth of 5 to 10 levels.
Units get a head post and about half get a second post; head posts have a succession
of holders. About ``changes_per_unit`` revisions per unit (establishment, renames,
mandate rewrites, moves under another unit of the parent's level, location changes,
and abolition of some units that never had sub-units) are spread over the years from
``FIRST_YEAR`` to ``LAST_YEAR``. A move only ever goes to a unit of the same level as
the old parent, and ids grow with the level, so no state in history has a cycle.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from units import selectors
from units.content_languages import POST_TRANSLATED, translation_fields
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    ReasonVisibility,
    RecordedModel,
    RegistryState,
    UnitKind,
)

FIRST_YEAR = 2012
LAST_YEAR = 2025
START = datetime.datetime(FIRST_YEAR, 1, 1, 9, 0, tzinfo=datetime.UTC)
END = datetime.datetime(LAST_YEAR, 12, 1, 9, 0, tzinfo=datetime.UTC)
BENCHMARK_USERNAME = "benchmark-editor"
ABOLISHED_SHARE = 0.05
KINDS_BY_LEVEL = [
    UnitKind.ORGANIZATION,
    UnitKind.DEPARTMENT,
    UnitKind.DIVISION,
    UnitKind.UNIT,
    UnitKind.UNIT,
    UnitKind.GROUP,
    UnitKind.GROUP,
    UnitKind.GROUP,
    UnitKind.GROUP,
    UnitKind.GROUP,
]
TOPICS = (
    "Migration Health",
    "Labour Mobility",
    "Border Management",
    "Climate Action",
    "Protection",
    "Resettlement",
    "Data and Research",
    "Emergency Response",
    "Legal Identity",
    "Policy",
    "Finance",
    "Procurement",
    "Human Resources",
    "Information Technology",
    "Communications",
    "Partnerships",
)
PLACES = ("Geneva", "New York", "Nairobi", "Bangkok", "Panama", "Dakar", "Cairo")
FIRST_NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatou", "Goran", "Hana", "Ivo")
LAST_NAMES = ("Lima", "Okoro", "Wang", "Novak", "Haddad", "Diallo", "Kim", "Silva")

UNIT_COLUMNS = (
    "id",
    "name",
    "short_name",
    "slug",
    "kind",
    "mandate",
    "location",
    "learn_more_url",
    "provenance",
    "parent_id",
    "reporting_line",
    "sibling_order",
    "established_on",
    "abolished_on",
    "version",
)
TREE_COLUMNS = ("lft", "rght", "tree_id", "level")
HISTORY_COLUMNS = (
    "history_id",
    "history_date",
    "recorded_at",
    "history_change_reason",
    "reason_visibility",
    "history_type",
    "history_user_id",
)
# Without the French and Spanish titles: generated posts are English only, and the
# columns' database default leaves them blank (as for the units' translations).
POST_COLUMNS = tuple(
    column
    for column in selectors.POST_RECORD_FIELDS
    if column not in translation_fields(POST_TRANSLATED)
)
PERSON_COLUMNS = ("id", "full_name", "slug", "version")
APPOINTMENT_COLUMNS = (
    "id",
    "person_id",
    "post_id",
    "started_on",
    "ended_on",
    "note",
    "version",
)


@dataclass
class GeneratedRegistry:
    """What was inserted, for the runner to pick realistic targets from."""

    units: int
    history_rows: int
    max_level: int
    largest_branch_slug: str
    other_branch_slug: str
    busiest_unit_slug: str
    table_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class _Unit:
    id: int
    level: int
    created: datetime.datetime
    state: dict[str, Any]
    revisions: list[tuple[datetime.datetime, str, str, dict[str, Any]]] = field(
        default_factory=list
    )


def _between(
    rng: random.Random, low: datetime.datetime, high: datetime.datetime
) -> datetime.datetime:
    seconds = max(1, int((high - low).total_seconds()))
    return low + datetime.timedelta(seconds=rng.randrange(seconds))


def _shape(rng: random.Random, count: int) -> tuple[list[int | None], list[int]]:
    """Parent index and level of each unit, in creation order (index 0 is the root)."""
    parents: list[int | None] = [None]
    levels = [0]
    branch_depth = [9]
    open_units = [0]  # units that may still receive children
    for index in range(1, count):
        parent = rng.choice(open_units)
        level = levels[parent] + 1
        parents.append(parent)
        levels.append(level)
        # A top-level branch is 5 to 10 levels deep counting the root.
        branch_depth.append(rng.randint(4, 9) if level == 1 else branch_depth[parent])
        if level < branch_depth[index]:
            open_units.append(index)
    return parents, levels


def build_registry(
    count: int, *, seed: int = 6, changes_per_unit: int = 10
) -> dict[str, Any]:
    """Compute every row of a synthetic registry (nothing is written here)."""
    rng = random.Random(seed)
    parents, levels = _shape(rng, count)
    # Ids in level order: a parent always has a smaller id than its child, at every
    # moment of history, because moves stay within the old parent's level.
    order = sorted(range(count), key=lambda index: (levels[index], index))
    id_of = {index: position + 1 for position, index in enumerate(order)}
    units: dict[int, _Unit] = {}
    by_level: dict[int, list[int]] = defaultdict(list)
    sibling_counter: dict[int | None, int] = defaultdict(int)
    for index in order:
        unit_id = id_of[index]
        level = levels[index]
        parent_index = parents[index]
        parent_id = id_of[parent_index] if parent_index is not None else None
        parent_created = units[parent_id].created if parent_id else START
        created = _between(
            rng,
            parent_created + datetime.timedelta(days=1),
            parent_created + datetime.timedelta(days=120),
        )
        topic = rng.choice(TOPICS)
        kind = KINDS_BY_LEVEL[level]
        sibling_counter[parent_id] += 10
        state: dict[str, Any] = {
            "id": unit_id,
            "name": f"{UnitKind(kind).label} of {topic} {unit_id}",
            "short_name": f"U{unit_id}",
            "slug": f"unit-{unit_id}",
            "kind": kind,
            "mandate": f"Leads the organization's work on {topic.lower()}.",
            "location": rng.choice(PLACES),
            "learn_more_url": "",
            "provenance": "",
            "parent_id": parent_id,
            "reporting_line": "direct_supervision",
            "sibling_order": sibling_counter[parent_id],
            "established_on": created.date(),
            "abolished_on": None,
            "version": 1,
        }
        unit = _Unit(unit_id, level, created, state)
        unit.revisions.append((created, "+", f"Establish {state['name']}", dict(state)))
        units[unit_id] = unit
        by_level[level].append(unit_id)

    ever_parent = {state.state["parent_id"] for state in units.values()}
    for unit in units.values():
        _add_changes(rng, unit, units, by_level, ever_parent, changes_per_unit)
        for parent_id in {rev[3]["parent_id"] for rev in unit.revisions}:
            ever_parent.add(parent_id)
    # Abolish some units that never had a sub-unit, as their last change.
    candidates = [
        unit for unit in units.values() if unit.id not in ever_parent and unit.level > 1
    ]
    for unit in rng.sample(candidates, int(len(candidates) * ABOLISHED_SHARE)):
        moment = _between(rng, unit.revisions[-1][0] + datetime.timedelta(hours=1), END)
        state = dict(unit.revisions[-1][3])
        state["abolished_on"] = moment.date()
        state["version"] += 1
        unit.revisions.append((moment, "~", "Abolished in a reform", state))
        unit.state = state
    return _rows(rng, units)


def _add_changes(
    rng: random.Random,
    unit: _Unit,
    units: dict[int, _Unit],
    by_level: dict[int, list[int]],
    ever_parent: set[int | None],
    changes_per_unit: int,
) -> None:
    moments = sorted(
        _between(rng, unit.created + datetime.timedelta(days=1), END)
        for _ in range(changes_per_unit - 1)
    )
    state = dict(unit.state)
    for number, moment in enumerate(moments, start=2):
        state = dict(state)
        state["version"] = number
        roll = rng.random()
        if roll < 0.2 and unit.level >= 2:
            candidates = [
                other
                for other in rng.sample(
                    by_level[unit.level - 1], min(8, len(by_level[unit.level - 1]))
                )
                if other != state["parent_id"] and units[other].created < moment
            ]
            if candidates:
                state["parent_id"] = candidates[0]
                ever_parent.add(candidates[0])
                # Placed after the siblings it joins, as unit_move does, at a
                # position no sibling holds (first positions stay below 10 million).
                state["sibling_order"] = 10_000_000 + unit.id * 10
                reason = "Moved in a reorganization"
            else:
                state["location"] = rng.choice(PLACES)
                reason = "Relocated"
        elif roll < 0.55:
            state["name"] = (
                f"{UnitKind(state['kind']).label} of {rng.choice(TOPICS)} {unit.id}"
            )
            reason = "Renamed"
        elif roll < 0.85:
            state["mandate"] = (
                f"{state['mandate'].split(' Also')[0]} Also covers "
                f"{rng.choice(TOPICS).lower()} (revision {number})."
            )
            reason = "Mandate revised"
        else:
            state["location"] = rng.choice(PLACES)
            reason = "Relocated"
        unit.revisions.append((moment, "~", reason, state))
    unit.state = state


def _nested_sets(units: dict[int, _Unit]) -> dict[int, tuple[int, int, int, int]]:
    """lft, rght, tree_id and level from the final parent links, in mptt's order."""
    children: dict[int | None, list[_Unit]] = defaultdict(list)
    for unit in units.values():
        children[unit.state["parent_id"]].append(unit)
    for siblings in children.values():
        siblings.sort(
            key=lambda unit: (unit.state["sibling_order"], unit.state["name"])
        )
    fields: dict[int, tuple[int, int, int, int]] = {}
    for tree_id, root in enumerate(children[None], start=1):
        counter = 0
        stack: list[tuple[_Unit, int, bool]] = [(root, 0, True)]
        left: dict[int, int] = {}
        while stack:
            unit, level, entering = stack.pop()
            counter += 1
            if entering:
                left[unit.id] = counter
                stack.append((unit, level, False))
                stack.extend(
                    (child, level + 1, True) for child in reversed(children[unit.id])
                )
            else:
                fields[unit.id] = (left[unit.id], counter, tree_id, level)
    return fields


def _rows(rng: random.Random, units: dict[int, _Unit]) -> dict[str, Any]:
    """Current and history rows of every table, as tuples in column order."""
    tree = _nested_sets(units)
    unit_rows, unit_history = [], []
    post_rows: list[tuple[Any, ...]] = []
    post_history: list[tuple[Any, ...]] = []
    person_rows: list[tuple[Any, ...]] = []
    person_history: list[tuple[Any, ...]] = []
    appointment_rows: list[tuple[Any, ...]] = []
    appointment_history: list[tuple[Any, ...]] = []
    for unit in sorted(units.values(), key=lambda unit: unit.id):
        unit_rows.append(
            tuple(unit.state[column] for column in UNIT_COLUMNS) + tree[unit.id]
        )
        for moment, history_type, reason, state in unit.revisions:
            unit_history.append(
                (moment, history_type, reason, tuple(state[c] for c in UNIT_COLUMNS))
            )
        abolished = unit.state["abolished_on"]
        abolished_at = unit.revisions[-1][0] if abolished else None
        for is_head in (True, False):
            if not is_head and rng.random() < 0.5:
                continue
            post_id = len(post_rows) + 1
            title = ("Head of " if is_head else "Senior officer, ") + unit.state["name"]
            post = {
                "id": post_id,
                "title": title,
                "slug": f"post-{post_id}",
                "unit_id": unit.id,
                "is_head": is_head,
                "filling_method": "appointed_by_director_general",
                "term_years": None,
                "term_note": "",
                "established_on": unit.created.date(),
                "abolished_on": None,
                "version": 1,
            }
            post_history.append(
                (
                    unit.created,
                    "+",
                    "Post created",
                    tuple(post[c] for c in POST_COLUMNS),
                )
            )
            if is_head:
                _holders(
                    rng,
                    post,
                    unit.created,
                    abolished_at,
                    person_rows,
                    person_history,
                    appointment_rows,
                    appointment_history,
                )
            if abolished_at:
                post = post | {"abolished_on": abolished, "version": 2}
                post_history.append(
                    (
                        abolished_at,
                        "~",
                        "Abolished in a reform",
                        tuple(post[c] for c in POST_COLUMNS),
                    )
                )
            post_rows.append(tuple(post[c] for c in POST_COLUMNS))
    return {
        "units": unit_rows,
        "unit_history": unit_history,
        "posts": post_rows,
        "post_history": post_history,
        "people": person_rows,
        "person_history": person_history,
        "appointments": appointment_rows,
        "appointment_history": appointment_history,
        "max_level": max(level for *_, level in tree.values()),
    }


def _holders(
    rng: random.Random,
    post: dict[str, Any],
    created: datetime.datetime,
    abolished_at: datetime.datetime | None,
    person_rows: list[tuple[Any, ...]],
    person_history: list[tuple[Any, ...]],
    appointment_rows: list[tuple[Any, ...]],
    appointment_history: list[tuple[Any, ...]],
) -> None:
    """A succession of holders of a head post, each appointed at midnight UTC."""
    day = created.date() + datetime.timedelta(days=1)
    last_day = (abolished_at or END).date()
    while day < last_day:
        length = datetime.timedelta(days=rng.randint(700, 2200))
        ends = day + length if day + length < last_day else None
        if abolished_at and ends is None:
            ends = abolished_at.date()
        person_id = len(person_rows) + 1
        person = (
            person_id,
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {person_id}",
            f"person-{person_id}",
            1,
        )
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
        person_rows.append(person)
        person_history.append((start, "+", "New person", person))
        appointment_id = len(appointment_rows) + 1
        appointment = [appointment_id, person_id, post["id"], day, None, "", 1]
        appointment_history.append((start, "+", "Appointed", tuple(appointment)))
        if ends is not None:
            appointment[4] = ends
            appointment[6] = 2
            end_moment = (
                abolished_at
                if abolished_at and ends == abolished_at.date()
                else datetime.datetime.combine(
                    ends, datetime.time.min, tzinfo=datetime.UTC
                )
            )
            appointment_history.append(
                (end_moment, "~", "End of term", tuple(appointment))
            )
        appointment_rows.append(tuple(appointment))
        if ends is None:
            break
        day = ends


# --- Writing ---------------------------------------------------------------------------


def _insert(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Bulk insert: COPY on PostgreSQL, executemany elsewhere."""
    rows = list(rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapted = [tuple(_adapt(value) for value in row) for row in rows]
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                adapted,
            )
    return len(rows)


def _adapt(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _history(
    revisions: list[tuple[Any, ...]], user_id: int, rng: random.Random
) -> Iterable[tuple[Any, ...]]:
    """History rows with recorded times a little after (sometimes long after) effect."""
    for history_id, (moment, history_type, reason, values) in enumerate(
        sorted(revisions, key=lambda revision: revision[0]), start=1
    ):
        delay = datetime.timedelta(
            minutes=rng.randint(1, 90) if rng.random() > 0.05 else 60 * 24 * 30
        )
        yield (
            history_id,
            moment,
            moment + delay,
            reason,
            ReasonVisibility.PUBLIC.value,
            history_type,
            user_id,
            *values,
        )


@transaction.atomic
def generate(
    count: int, *, seed: int = 6, changes_per_unit: int = 10, corrections: int = 0
) -> GeneratedRegistry:
    """Insert a synthetic registry of ``count`` units into an empty database.

    ``corrections``: then correct that many units' past through the services (issue
    14): out-of-order writes whose rows are recorded now, so that reads ``known_at``
    an earlier instant have rows to leave out.
    """
    if OrganizationalUnit.objects.exists() or OrganizationalUnit.history.exists():
        raise RuntimeError("The benchmark generator needs an empty registry.")
    rng = random.Random(seed)
    rows = build_registry(count, seed=seed, changes_per_unit=changes_per_unit)
    user, _ = get_user_model().objects.get_or_create(
        username=BENCHMARK_USERNAME, defaults={"is_active": False}
    )
    tables: dict[type[RecordedModel], tuple[Any, ...]] = {
        OrganizationalUnit: (
            UNIT_COLUMNS + TREE_COLUMNS,
            rows["units"],
            UNIT_COLUMNS,
            rows["unit_history"],
        ),
        Person: (
            PERSON_COLUMNS,
            rows["people"],
            PERSON_COLUMNS,
            rows["person_history"],
        ),
        Post: (POST_COLUMNS, rows["posts"], POST_COLUMNS, rows["post_history"]),
        Appointment: (
            APPOINTMENT_COLUMNS,
            rows["appointments"],
            APPOINTMENT_COLUMNS,
            rows["appointment_history"],
        ),
    }
    counts: dict[str, int] = {}
    history_rows = 0
    for model, (columns, current, tracked, revisions) in tables.items():
        counts[model._meta.db_table] = _insert(model._meta.db_table, columns, current)
        history_table = model.history.model._meta.db_table
        written = _insert(
            history_table,
            HISTORY_COLUMNS + tuple(tracked),
            _history(revisions, user.pk, rng),
        )
        counts[history_table] = written
        history_rows += written
    _reset_sequences()
    RegistryState.objects.update_or_create(pk=1, defaults={"generation": history_rows})
    if corrections:
        history_rows += _correct_past(corrections, rng, user)
    # Planner statistics, as autovacuum would gather them on a live registry; without
    # them PostgreSQL plans joins over the fresh tables as if they held one row.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return _describe(count, history_rows, rows, counts)


CORRECTED_BEFORE = datetime.datetime(2018, 12, 1, 9, 0, tzinfo=datetime.UTC)


def _correct_past(count: int, rng: random.Random, user: Any) -> int:
    """Rename or relocate ``count`` units from a past instant, through the services.

    Each is a correction (``units.services.corrections``): effective before revisions
    already recorded (between the unit's first revision and ``CORRECTED_BEFORE``), so
    it writes a row for its own time and one for each later revision it changes, all
    recorded now. Units picked: active now, first recorded before 2017, and changed
    after ``CORRECTED_BEFORE``. Returns the history rows written.
    """
    from django.db.models import Max, Min

    from units import services

    history = OrganizationalUnit.history.model._default_manager
    before = history.count()
    spans = list(
        history.values("id")
        .annotate(first=Min("history_date"), last=Max("history_date"))
        .filter(
            first__lt=datetime.datetime(2017, 1, 1, tzinfo=datetime.UTC),
            last__gt=CORRECTED_BEFORE,
        )
        .order_by("id")
        .values_list("id", "first")
    )
    active = set(
        OrganizationalUnit.objects.filter(abolished_on__isnull=True).values_list(
            "pk", flat=True
        )
    )
    candidates = [span for span in spans if span[0] in active]
    for number, (unit_id, first) in enumerate(
        rng.sample(candidates, min(count, len(candidates))), start=1
    ):
        effective = _between(rng, first + datetime.timedelta(days=1), CORRECTED_BEFORE)
        change: dict[str, Any] = (
            {"name": f"Corrected unit {unit_id}"}
            if number % 2
            else {"location": rng.choice(PLACES)}
        )
        services.unit_update(
            unit=unit_id,
            user=user,
            reason="Benchmark correction of the past",
            effective_at=effective,
            **change,
        )
    return history.count() - before


def _reset_sequences() -> None:
    from django.core.management.color import no_style

    models: list[type[RecordedModel]] = [Appointment, OrganizationalUnit, Person, Post]
    history_models = [model.history.model for model in models]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [*models, *history_models]
        ):
            cursor.execute(statement)


def _describe(
    count: int, history_rows: int, rows: dict[str, Any], counts: dict[str, int]
) -> GeneratedRegistry:
    """Pick the targets the runner measures: the largest branches, the busiest unit."""
    sizes: dict[int, int] = {}
    for row in rows["units"]:
        lft, rght, _, level = row[-4:]
        if level == 1:
            sizes[row[0]] = (rght - lft + 1) // 2
    largest = sorted(sizes, key=sizes.__getitem__, reverse=True)
    revisions_per_unit: dict[int, int] = defaultdict(int)
    for *_, values in rows["unit_history"]:
        revisions_per_unit[values[0]] += 1
    busiest = max(revisions_per_unit, key=revisions_per_unit.__getitem__)
    return GeneratedRegistry(
        units=count,
        history_rows=history_rows,
        max_level=rows["max_level"],
        largest_branch_slug=f"unit-{largest[0]}",
        other_branch_slug=f"unit-{largest[1] if len(largest) > 1 else largest[0]}",
        busiest_unit_slug=f"unit-{busiest}",
        table_rows=counts,
    )

"""Writes: the unit rows each one writes against those whose values change, and time.

Run inside the benchmark worker, on the loaded registry, through the services (lock,
checks, history). For each write: its median time, its SQL statements, the unit rows
the database *wrote* (on PostgreSQL a new row version, counted by ``xmin``; on SQLite
every row an UPDATE matched, counted by a temporary trigger) and the unit rows whose
values actually *changed* (compared before and after). Written / changed is 1.0 when a
write touches nothing it does not have to; the nested-set shifts of a create or a
move are in "changed", since they are inherent to the tree library.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

UNITS_TABLE = "units_organizationalunit"
COUNTER = "benchmark_unit_rows_written"


def _snapshot(cursor: Any) -> dict[int, tuple[Any, ...]]:
    cursor.execute(f"SELECT * FROM {UNITS_TABLE}")  # noqa: S608 - a constant
    return {row[0]: row for row in cursor.fetchall()}


@contextmanager
def _counting(connection: Any) -> Iterator[list[int]]:
    """Count the unit rows written inside the block, into the list yielded."""
    written = [0]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT id, xmin::text FROM {UNITS_TABLE}")  # noqa: S608
            before = dict(cursor.fetchall())
            yield written
            cursor.execute(f"SELECT id, xmin::text FROM {UNITS_TABLE}")  # noqa: S608
            written[0] = sum(
                1 for pk, xmin in cursor.fetchall() if before.get(pk) != xmin
            )
            return
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {COUNTER} (n integer)")
        cursor.execute(f"DELETE FROM {COUNTER}")  # noqa: S608
        cursor.execute(f"INSERT INTO {COUNTER} VALUES (0)")  # noqa: S608
        for event in ("UPDATE", "INSERT"):
            cursor.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {COUNTER}_{event.lower()} "
                f"AFTER {event} ON {UNITS_TABLE} "
                f"BEGIN UPDATE {COUNTER} SET n = n + 1; END"
            )
        try:
            yield written
            cursor.execute(f"SELECT n FROM {COUNTER}")  # noqa: S608
            written[0] = int(cursor.fetchone()[0])
        finally:
            for event in ("update", "insert"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {COUNTER}_{event}")


def _measure(
    connection: Any, write: Callable[[int], Any], repeat: int
) -> dict[str, Any]:
    """Run ``write(attempt)`` ``repeat`` times; rows and statements of the last."""
    from django.test.utils import CaptureQueriesContext

    timings = []
    for attempt in range(repeat):
        last = attempt == repeat - 1
        if last:
            with connection.cursor() as cursor:
                before = _snapshot(cursor)
        with (
            _counting(connection) as written,
            CaptureQueriesContext(connection) as queries,
        ):
            started = time.perf_counter()
            write(attempt)
            timings.append(time.perf_counter() - started)
        if last:
            rows_written = written[0]
            statements = sum(
                1 for query in queries if "SAVEPOINT" not in query["sql"].upper()
            )
            with connection.cursor() as cursor:
                after = _snapshot(cursor)
            changed = sum(1 for pk, row in after.items() if before.get(pk) != row)
    return {
        "seconds": statistics.median(timings),
        "statements": statements,
        "rows_written": rows_written,
        "rows_changed": changed,
    }


def measure_writes(user: Any, largest: str, other: str, repeat: int) -> dict[str, Any]:
    """Rename, create (first and last child), move (small and large subtree)."""
    from django.db import connection
    from django.db.models import F

    from units import services
    from units.models import OrganizationalUnit

    units = OrganizationalUnit.objects
    deepest = min(3, units.order_by("-level").values_list("level", flat=True)[0])
    renamed = units.filter(level=deepest).order_by("tree_id", "lft")[
        units.filter(level=deepest).count() // 2
    ]
    branch = units.get(slug=largest)
    target = units.get(slug=other)
    home = branch.parent
    leaves = units.descendants_of(branch).filter(rght=F("lft") + 1)
    small = leaves.order_by("lft")[0]
    small_home = small.parent
    results: dict[str, Any] = {}

    results["rename"] = _measure(
        connection,
        lambda attempt: services.unit_update(
            unit=renamed,
            user=user,
            reason="Benchmark rename",
            name=f"Renamed {attempt}",
        ),
        repeat,
    )

    def create_first(attempt: int) -> None:
        first = units.children_of(branch).order_by("sibling_order")[0].sibling_order
        services.unit_create(
            user=user,
            reason="Benchmark create",
            name=f"First child {attempt}",
            kind="unit",
            parent=branch,
            sibling_order=first - 1,
        )

    results["create first child"] = _measure(connection, create_first, repeat)
    results["create last child"] = _measure(
        connection,
        lambda attempt: services.unit_create(
            user=user,
            reason="Benchmark create",
            name=f"Last child {attempt}",
            kind="unit",
            parent=branch,
        ),
        repeat,
    )

    def mover(unit: Any, there: Any, back: Any) -> Callable[[int], None]:
        def move(attempt: int) -> None:
            services.unit_move(
                unit=unit,
                new_parent=there if attempt % 2 == 0 else back,
                user=user,
                reason="Benchmark move",
            )

        return move

    # An even number of moves, so each subtree ends where it started.
    moves = max(2, repeat + repeat % 2)
    results["move small subtree"] = _measure(
        connection, mover(small, target, small_home), moves
    )
    results["move small subtree"]["moved_units"] = 1
    results["move large subtree"] = _measure(
        connection, mover(branch, target, home), moves
    )
    branch.refresh_from_db()
    results["move large subtree"]["moved_units"] = branch.get_descendant_count() + 1
    results["units"] = units.count()
    return results

"""Concurrent writers in separate processes against PostgreSQL.

django-mptt does no locking of its own: two processes moving subtrees at the same time
would compute their lft/rght shifts from stale values and corrupt the tree. The services
serialize writers with one registry-wide lock; these tests run real OS processes (not
threads sharing one interpreter) against the test database and then check the tree, the
history and the generation counter.

This module is also the worker: ``python -m tests.services.test_concurrency <role> <options>``
runs one writer and prints a JSON report of every write it made.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKER_SECONDS = 8.0
WORKER_TIMEOUT_SECONDS = 40
# Each worker stops after this many writes (or WORKER_SECONDS, on a slow machine):
# all start together, so the writes overlap from the first; an 8-second run made
# five times as many for the same checks.
RANDOM_WRITES_EACH = 25
MOVES_EACH = 15


# --- The worker: runs in a child process ---------------------------------------------


def _start_together(ready: Path, worker: int, workers: int) -> None:
    """Wait until every worker is ready (Django set up), so that all write at once.

    A common start time could pass before a worker on a loaded machine got there.
    """
    (ready / str(worker)).touch()
    deadline = time.monotonic() + WORKER_TIMEOUT_SECONDS / 2
    while len(list(ready.iterdir())) < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"worker {worker}: the others never became ready")
        time.sleep(0.02)


def _random_writer(
    worker: int, seconds: float, seed: int, username: str, most: int
) -> dict[str, Any]:
    """Move, create, rename and abolish at random: ``most`` writes, or until the time
    is up."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from units import services
    from units.models import OrganizationalUnit, UnitKind

    user = get_user_model().objects.get(username=username)
    rng = random.Random(seed)  # noqa: S311 - reproducible choices, not secrets
    writes: list[dict[str, Any]] = []
    refusals: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    sequence = 0
    while time.monotonic() < deadline and len(writes) < most:
        sequence += 1
        reason = f"worker {worker} write {sequence}"
        units = list(
            OrganizationalUnit.objects.active().values_list("pk", "parent_id", "name")
        )
        non_roots = [unit for unit in units if unit[1] is not None]
        parents_with_children = {unit[1] for unit in units}
        leaves = [unit for unit in non_roots if unit[0] not in parents_with_children]
        operation = rng.choices(
            ["move", "create", "rename", "abolish"], weights=[4, 3, 2, 1]
        )[0]
        try:
            if operation == "move" and non_roots:
                unit_pk = rng.choice(non_roots)[0]
                new_parent_pk = rng.choice(units)[0]
                moved = services.unit_move(
                    unit=unit_pk,
                    new_parent=new_parent_pk,
                    user=user,
                    reason=reason,
                )
                writes.append(
                    {"op": "move", "unit": unit_pk, "parent": new_parent_pk}
                    | {"reason": reason, "version": moved.version}
                )
            elif operation == "create":
                parent_pk = rng.choice(units)[0]
                unit = services.unit_create(
                    user=user,
                    reason=reason,
                    name=f"Worker {worker} unit {sequence}",
                    kind=UnitKind.UNIT,
                    parent=parent_pk,
                )
                writes.append(
                    {"op": "create", "unit": unit.pk, "parent": parent_pk}
                    | {"reason": reason, "version": unit.version}
                )
            elif operation == "rename" and non_roots:
                unit_pk = rng.choice(non_roots)[0]
                name = f"Renamed by worker {worker} at {sequence}"
                renamed = services.unit_update(
                    unit=unit_pk, user=user, reason=reason, name=name
                )
                writes.append(
                    {"op": "rename", "unit": unit_pk, "name": name, "reason": reason}
                    | {"version": renamed.version}
                )
            elif operation == "abolish" and len(leaves) > 5:
                unit_pk = rng.choice(leaves)[0]
                abolished = services.unit_abolish(
                    unit=unit_pk, user=user, reason=reason
                )
                writes.append(
                    {"op": "abolish", "unit": unit_pk, "reason": reason}
                    | {"version": abolished.version}
                )
        except ValidationError as error:
            # Legitimate refusals of a stale choice: a cycle, a parent abolished or a
            # sub-unit created by another worker in the meantime, ...
            refusals[error.code or "unknown"] += 1
    return {"worker": worker, "writes": writes, "refusals": dict(refusals)}


def _subtree_mover(
    worker: int, seconds: float, seed: int, username: str, most: int
) -> dict[str, Any]:
    """Move large subtrees back and forth between two parents, as fast as possible:
    ``most`` moves, or until the time is up."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from units import services
    from units.models import OrganizationalUnit

    user = get_user_model().objects.get(username=username)
    rng = random.Random(seed)  # noqa: S311 - reproducible choices, not secrets
    movers = list(
        OrganizationalUnit.objects.filter(level=1)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    targets = list(
        OrganizationalUnit.objects.filter(level=2)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    writes: list[dict[str, Any]] = []
    refusals: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    sequence = 0
    while time.monotonic() < deadline and len(writes) < most:
        sequence += 1
        reason = f"mover {worker} move {sequence}"
        unit_pk = rng.choice(movers)
        new_parent_pk = rng.choice(targets + movers)
        try:
            moved = services.unit_move(
                unit=unit_pk, new_parent=new_parent_pk, user=user, reason=reason
            )
            writes.append(
                {"op": "move", "unit": unit_pk, "parent": new_parent_pk}
                | {"reason": reason, "version": moved.version}
            )
        except ValidationError as error:
            refusals[error.code or "unknown"] += 1
    return {"worker": worker, "writes": writes, "refusals": dict(refusals)}


def main(argv: list[str] | None = None) -> None:
    """Entry point of a worker process; prints its report as one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["random", "mover"])
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--writes", type=int, required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--workers", type=int, required=True)
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgregistry.settings")
    import django

    django.setup()
    writer = _random_writer if options.role == "random" else _subtree_mover
    _start_together(options.ready, options.worker, options.workers)
    report = writer(
        options.worker, options.seconds, options.seed, options.user, options.writes
    )
    print(json.dumps(report))


# --- The tests: run in pytest, start the workers ---------------------------------------


def _test_database_url() -> str:
    """The URL of the database pytest-django created (``test_<name>``)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    credentials = quote(database.get("USER") or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{database['NAME']}"


def _run_workers(commands: list[list[str]], ready: Path) -> list[dict[str, Any]]:
    """Start every worker at once, wait for all, and fail loudly on any crash.

    The workers begin writing together, once all are ready (``ready``: an empty
    folder).
    """
    commands = [
        [*command, f"--ready={ready}", f"--workers={len(commands)}"]
        for command in commands
    ]
    environment = os.environ | {
        "DATABASE_URL": _test_database_url(),
        "CONN_MAX_AGE": "0",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.services.test_concurrency", *command],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    reports = []
    for process in processes:
        try:
            stdout, stderr = process.communicate(timeout=WORKER_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            pytest.fail(f"a worker did not finish in time:\n{stderr[-3000:]}")
        assert process.returncode == 0, f"a worker crashed:\n{stderr[-3000:]}"
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    return reports


def _build_tree(user: Any, *, departments: int, units_each: int) -> None:
    """A root, departments under it, and units under each department."""
    from tests.factories import UnitFactory
    from units.models import UnitKind

    setup = {"user": user, "reason": "Setup"}
    root = UnitFactory.create(name="Headquarters", kind=UnitKind.OFFICE, **setup)
    for department_number in range(departments):
        department = UnitFactory.create(
            name=f"Department {department_number}",
            kind=UnitKind.DEPARTMENT,
            parent=root,
            **setup,
        )
        for unit_number in range(units_each):
            UnitFactory.create(
                name=f"Unit {department_number}.{unit_number}",
                kind=UnitKind.UNIT,
                parent=department,
                **setup,
            )


def _assert_every_write_has_its_history_record(
    reports: list[dict[str, Any]], history_rows_before: int
) -> None:
    """Each write's resulting version is in history, showing exactly that change.

    A move to the parent a unit already has (another worker got there first) is a
    no-op the services do not record; its version's row then carries another reason
    but must still show the requested parent.
    """
    from units.models import OrganizationalUnit

    writes = [write for report in reports for write in report["writes"]]
    rows = {
        (row["id"], row["version"]): row
        for row in OrganizationalUnit.history.values(
            "id",
            "version",
            "history_change_reason",
            "history_type",
            "parent_id",
            "name",
            "abolished_on",
            "history_user__username",
        )
    }
    recorded_writes = 0
    for write in writes:
        row = rows.get((write["unit"], write["version"]))
        assert row is not None, f"no history record for {write}"
        if row["history_change_reason"] != write["reason"]:
            assert write["op"] == "move", f"{write} recorded as {row}"
            assert row["parent_id"] == write["parent"], f"{write} recorded as {row}"
            continue
        recorded_writes += 1
        assert row["history_user__username"] == "editor", write
        if write["op"] == "create":
            assert row["history_type"] == "+", write
            assert row["parent_id"] == write["parent"], write
        elif write["op"] == "move":
            assert row["parent_id"] == write["parent"], write
        elif write["op"] == "rename":
            assert row["name"] == write["name"], write
        elif write["op"] == "abolish":
            assert row["abolished_on"] is not None, write
    # One history row per recorded write, none lost or doubled; and no version of a
    # unit was written twice (a lost update would reuse a version number).
    history_rows = OrganizationalUnit.history.count()
    assert history_rows == history_rows_before + recorded_writes
    assert len(rows) == history_rows


def _assert_registry_consistent() -> None:
    from django.core.management import call_command

    from units import selectors
    from units.models import OrganizationalUnit

    assert selectors.registry_problems() == []
    # A full mptt rebuild from the parent links changes nothing.
    before = list(
        OrganizationalUnit.objects.order_by("pk").values_list(
            "pk", "lft", "rght", "level", "tree_id"
        )
    )
    OrganizationalUnit.objects.rebuild()
    after = list(
        OrganizationalUnit.objects.order_by("pk").values_list(
            "pk", "lft", "rght", "level", "tree_id"
        )
    )
    assert after == before
    call_command("check_registry", stdout=io.StringIO())


def _assert_generation_counts_every_revision() -> None:
    """The generation is raised once per saved revision, even under contention."""
    from units import selectors
    from units.models import (
        Appointment,
        OrganizationalUnit,
        Person,
        Post,
        UnitRelationship,
    )

    revisions = sum(
        model.history.count()
        for model in (OrganizationalUnit, Post, Person, Appointment, UnitRelationship)
    )
    assert selectors.registry_generation() == revisions


@pytest.mark.postgres_only
@pytest.mark.slow
def test_random_writers_in_four_processes_keep_the_registry_consistent(
    transactional_db: None, editor: Any, tmp_path: Path
) -> None:
    from django.db import connection

    from units.models import OrganizationalUnit

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has one writer and no row locks")
    _build_tree(editor, departments=4, units_each=6)
    history_rows_before = OrganizationalUnit.history.count()
    connection.close()  # the children must not wait on a connection we hold open

    reports = _run_workers(
        [
            [
                "random",
                f"--worker={worker}",
                f"--seconds={WORKER_SECONDS}",
                f"--seed={1000 + worker}",
                "--user=editor",
                f"--writes={RANDOM_WRITES_EACH}",
            ]
            for worker in range(4)
        ],
        tmp_path,
    )

    writes = Counter(write["op"] for report in reports for write in report["writes"])
    refusals = sum((Counter(report["refusals"]) for report in reports), Counter())
    print(f"writes: {dict(writes)}; refusals: {dict(refusals)}")
    # The test is only meaningful if the workers really wrote, and of every kind.
    assert sum(writes.values()) >= 40, writes
    assert set(writes) == {"move", "create", "rename", "abolish"}, writes
    _assert_every_write_has_its_history_record(reports, history_rows_before)
    _assert_registry_consistent()
    _assert_generation_counts_every_revision()


@pytest.mark.postgres_only
@pytest.mark.slow
def test_two_concurrent_subtree_movers_leave_lft_rght_level_consistent(
    transactional_db: None, editor: Any, tmp_path: Path
) -> None:
    from django.db import connection

    from units.models import OrganizationalUnit

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has one writer and no row locks")
    _build_tree(editor, departments=6, units_each=15)
    history_rows_before = OrganizationalUnit.history.count()
    connection.close()

    reports = _run_workers(
        [
            [
                "mover",
                f"--worker={worker}",
                f"--seconds={WORKER_SECONDS / 2}",
                f"--seed={2000 + worker}",
                "--user=editor",
                f"--writes={MOVES_EACH}",
            ]
            for worker in range(2)
        ],
        tmp_path,
    )

    moves_by_worker = [len(report["writes"]) for report in reports]
    print(f"moves by worker: {moves_by_worker}; {[r['refusals'] for r in reports]}")
    assert all(moves >= 10 for moves in moves_by_worker), moves_by_worker
    _assert_every_write_has_its_history_record(reports, history_rows_before)
    _assert_registry_consistent()
    _assert_generation_counts_every_revision()


if __name__ == "__main__":
    main()

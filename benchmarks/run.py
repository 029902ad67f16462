"""Run the benchmarks: ``make benchmark`` (or ``python -m benchmarks.run --help``).

For each database (SQLite, PostgreSQL) and each scale (the IOM seed loaded through the
services, then synthetic registries of 1,000 / 10,000 / 100,000 units inserted in bulk)
a fresh database is created and a worker process measures, with Django's test client:
the whole tree through the API, one subtree, the tree as of years ago, the change feed
over one year, one unit's history, the admin changelist, the public structure page and
moving the largest subtree through ``services.unit_move``. Each read is reported next to
its *floor*: the same rows fetched with one raw SQL query and encoded with ``json.dumps``.

Results go to ``benchmarks/results/latest.json``; ``docs/performance.md`` gets the tables
(between its result markers) and ``docs/performance-chart.svg`` the chart.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks.report import KNOWN_AT_TREE

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "latest.json"
WRITES_RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "writes.json"
DOC = PROJECT_ROOT / "docs" / "performance.md"
CHART = PROJECT_ROOT / "docs" / "performance-chart.svg"
DEFAULT_SIZES = "seed,1000,10000,100000"
AS_OF_DAY = "2019-01-01"  # years before the end of the synthetic history
# What the registry had recorded by then (issue 14): the synthetic history records each
# change a little (sometimes long) after it took effect, up to its end.
KNOWN_AT_DAY = "2021-01-01"
FEED_SINCE, FEED_UNTIL = "2023-01-01", "2023-12-31"
FEED_PAGE = 50  # the change feed's default page


# --- The worker: one database, one scale ---------------------------------------------


def _median_time(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs, and the last result if it is a size.

    Results are dropped (and garbage collected) between runs: a 100,000-node tree
    kept alive would make every later collection, in any measurement, slower.
    """
    timings, size = [], None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - started)
        size = result if isinstance(result, int) else None
        del result
    return statistics.median(timings), size


def measure(
    scale: str,
    repeat: int,
    verify: bool,
    measure_memory: bool,
    writes_only: bool = False,
    corrections: int = 0,
) -> dict[str, Any]:
    """Load one registry into the (empty) configured database and time every read.

    ``writes_only``: load, then measure the writes alone (``benchmarks.writes``).
    ``corrections``: correct that many units' past through the services after loading
    (``benchmarks.generate``), so reads known at an earlier instant leave rows out.
    """
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks import floors
    from benchmarks.generate import generate
    from benchmarks.writes import measure_writes
    from units import selectors, services
    from units.models import OrganizationalUnit

    results: dict[str, Any] = {"scale": scale, "vendor": connection.vendor}
    call_command("migrate", verbosity=0)

    started = time.perf_counter()
    if scale == "seed":
        call_command("load_seed", stdout=open(os.devnull, "w"))  # noqa: SIM115
        biggest = (
            OrganizationalUnit.objects.filter(level=1)
            .order_by("lft")
            .values_list("slug", flat=True)
        )
        slugs = list(biggest)
        largest, other = slugs[0], slugs[-1]
        busiest = OrganizationalUnit.objects.order_by("-version", "pk")[0].slug
    else:
        generated = generate(int(scale), corrections=corrections)
        largest, other = generated.largest_branch_slug, generated.other_branch_slug
        busiest = generated.busiest_unit_slug
        results["max_level"] = generated.max_level
    results["load_seconds"] = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # A live registry's rows have been vacuumed (their visibility known, hint bits
        # set); rows just copied in have not, and the first write to shift them would
        # pay for that, with autovacuum working through the fresh tables meanwhile.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        results["vacuum_seconds"] = time.perf_counter() - started
    results["units"] = OrganizationalUnit.objects.count()
    results["history_rows"] = selectors.registry_generation()

    if verify:
        started = time.perf_counter()
        problems = selectors.registry_problems()
        results["verify_seconds"] = time.perf_counter() - started
        if problems:
            raise SystemExit(f"the generated registry is inconsistent: {problems[:5]}")

    user_model = get_user_model()
    admin = user_model.objects.create_superuser("benchmark-admin", "a@example.org", "x")
    if writes_only:
        results["writes"] = measure_writes(admin, largest, other, max(repeat, 3))
        results["measurements"] = {}
        return results
    anonymous, staff = Client(), Client()
    staff.force_login(admin)
    as_of = selectors.parse_instant(AS_OF_DAY)
    since = selectors.parse_instant(FEED_SINCE)
    until = selectors.parse_instant(FEED_UNTIL)
    unit = OrganizationalUnit.objects.get(slug=busiest)
    branch = OrganizationalUnit.objects.get(slug=largest)
    # Pages refuse dates before the registry's first record: the seed starts in 2023.
    past_day = "2024-06-01" if scale == "seed" else AS_OF_DAY
    past_ids = sorted(
        row["id"]
        for row in selectors.states_as_of(
            OrganizationalUnit, selectors.parse_instant(past_day), ("id",)
        )
    )
    past_unit = OrganizationalUnit.objects.get(
        pk=unit.pk if unit.pk in past_ids else past_ids[0]
    )

    # The seed is recorded as it loads (now): known at the end of its loading.
    known_at = (
        KNOWN_AT_DAY
        if scale != "seed"
        else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    )
    known_instant = selectors.parse_instant(known_at)

    def known_then(function: Callable[[], Any]) -> Callable[[], Any]:
        def read() -> Any:
            with selectors.reading_as_known_at(known_instant):
                return function()

        return read

    def get(client: Client, url: str) -> Callable[[], int]:
        def request() -> int:
            cache.clear()  # cold: what the first reader after a write pays
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return len(response.content)

        return request

    cases: dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]] = {
        "whole tree (API)": (get(anonymous, "/api/v1/tree/"), floors.tree),
        "subtree (API)": (
            get(anonymous, f"/api/v1/units/{largest}/tree/"),
            lambda: floors.subtree(branch.pk),
        ),
        f"tree as of {AS_OF_DAY} (API)": (
            get(anonymous, f"/api/v1/tree/?as_of={AS_OF_DAY}"),
            lambda: floors.tree_as_of(as_of),
        ),
        KNOWN_AT_TREE: (
            get(anonymous, f"/api/v1/tree/?as_of={AS_OF_DAY}&known_at={known_at}"),
            lambda: floors.tree_as_of(as_of),
        ),
        "change feed, one year (API)": (
            get(anonymous, f"/api/v1/changes/?since={FEED_SINCE}&until={FEED_UNTIL}"),
            lambda: floors.changes(since, until, limit=FEED_PAGE),
        ),
        "one unit's history (API)": (
            get(anonymous, f"/api/v1/units/{busiest}/history/"),
            lambda: floors.unit_history(unit.pk),
        ),
        "admin changelist": (
            get(staff, "/admin/units/organizationalunit/"),
            floors.changelist_page,
        ),
        "public structure page": (get(anonymous, "/"), floors.tree),
        "structure page, largest branch opened": (
            get(anonymous, f"/units/{largest}/children/"),
            lambda: floors.subtree(branch.pk),
        ),
        "public unit page": (
            get(anonymous, f"/units/{busiest}/"),
            lambda: floors.unit_history(unit.pk),
        ),
        "past unit page": (
            get(anonymous, f"/units/{past_unit.slug}/?as_of={past_day}"),
            lambda: floors.unit_history(past_unit.pk),
        ),
        "change feed, Atom": (get(anonymous, "/api/v1/changes.atom"), None),
        "structure page as of the past day": (
            get(anonymous, f"/?as_of={past_day}"),
            lambda: floors.tree_as_of(selectors.parse_instant(past_day)),
        ),
        "chart of the largest branch": (
            get(anonymous, f"/chart/?root={largest}"),
            lambda: floors.subtree(branch.pk),
        ),
        "search page": (get(anonymous, "/search/?q=migration"), None),
        "posts page": (get(anonymous, "/posts/"), None),
        "people page": (get(anonymous, "/people/"), None),
        "compare page, one year": (
            get(anonymous, f"/compare/?from={FEED_SINCE}&to={FEED_UNTIL}"),
            lambda: floors.changes(since, until),
        ),
        "selector unit_tree": (selectors.unit_tree, floors.tree),
        "selector unit_tree_as_of": (
            lambda: selectors.unit_tree_as_of(as_of),
            lambda: floors.tree_as_of(as_of),
        ),
        "selector unit_tree_as_of, known at a past instant": (
            known_then(lambda: selectors.unit_tree_as_of(as_of)),
            lambda: floors.tree_as_of(as_of),
        ),
        "selector changes_page": (
            lambda: selectors.changes_page(since, until, limit=FEED_PAGE),
            lambda: floors.changes(since, until, limit=FEED_PAGE),
        ),
        "selector changes_between": (
            lambda: selectors.changes_between(since, until),
            lambda: floors.changes(since, until),
        ),
        "selector unit_history": (
            lambda: selectors.unit_history(unit),
            lambda: floors.unit_history(unit.pk),
        ),
    }
    measurements: dict[str, dict[str, Any]] = {}
    for name, (subject, floor) in cases.items():
        # Each request starts by emptying the query log; start from empty too.
        reset_queries()
        gc.collect()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            first = subject()  # also the warm-up when repeating
            first_seconds = time.perf_counter() - started
        size = first if isinstance(first, int) else None
        del first
        entry: dict[str, Any] = {"queries": len(queries)}
        # Timed like its floor: warm, after that first run. At 100k (repeat 1) the
        # first run alone read a cold cache against a warm floor, which made the
        # 10k -> 100k growth look worse than it is.
        entry["seconds"], size = _median_time(subject, repeat)
        entry["first_seconds"] = first_seconds
        if isinstance(size, int):
            entry["bytes"] = size
        if floor is not None:
            floor()
            entry["floor_seconds"], entry["floor_bytes"] = _median_time(floor, repeat)
        measurements[name] = entry
        print(
            f"  {scale:>7} {connection.vendor:<10} {name:<34} {entry['seconds']:8.3f}s",
            file=sys.stderr,
            flush=True,
        )
        if name == "whole tree (API)":
            # Cached: what every later reader pays until the next write.
            cached_seconds, _ = _median_time(
                lambda: anonymous.get("/api/v1/tree/"), max(repeat, 3)
            )
            measurements["whole tree (API, cached)"] = {
                "seconds": cached_seconds,
                "floor_seconds": entry["floor_seconds"],
            }

    # What the API could cost: the selector's nodes as plain dicts through json.dumps.
    seconds, size = _median_time(
        lambda: floors.nodes_as_json(selectors.unit_tree()), repeat
    )
    measurements["selector unit_tree + json.dumps"] = {
        "seconds": seconds,
        "bytes": size,
        "floor_seconds": measurements["whole tree (API)"]["floor_seconds"],
    }

    if measure_memory:
        # Peak Python allocations while serving the whole tree, against its size.
        cache.clear()
        tracemalloc.start()
        response = anonymous.get("/api/v1/tree/")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        results["memory"] = {"peak_bytes": peak, "json_bytes": len(response.content)}
        del response

    # Moving the largest subtree and back, through the service (locks, history, mptt).
    subtree_size = branch.get_descendant_count() + 1
    original_parent = branch.parent
    target = OrganizationalUnit.objects.get(slug=other)
    user = admin
    timings = []
    for destination in (target, original_parent):
        started = time.perf_counter()
        services.unit_move(
            unit=branch, new_parent=destination, user=user, reason="Benchmark move"
        )
        timings.append(time.perf_counter() - started)
    measurements["move largest subtree"] = {
        "seconds": statistics.mean(timings),
        "moved_units": subtree_size,
    }
    if verify:
        problems = selectors.tree_problems()
        if problems:
            raise SystemExit(
                f"the tree is inconsistent after the moves: {problems[:5]}"
            )
    results["measurements"] = measurements
    results["writes"] = measure_writes(admin, largest, other, max(repeat, 3))
    if verify:
        problems = selectors.tree_problems()
        if problems:
            raise SystemExit(
                f"the tree is inconsistent after the writes: {problems[:5]}"
            )
    return results


# --- The orchestrator ----------------------------------------------------------------


def _postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """Create a scratch database; return its URL and a function that drops it."""
    import psycopg

    name = f"orgreg_bench_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(admin_url)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def _sqlite_database(directory: Path) -> tuple[str, Callable[[], None]]:
    path = directory / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"

    def drop() -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return f"sqlite:///{path}", drop


def run_one(database: str, scale: str, options: argparse.Namespace) -> dict[str, Any]:
    if database == "postgresql":
        url, drop = _postgres_database(options.postgres_url)
    else:
        url, drop = _sqlite_database(Path(options.scratch))
    repeat = options.repeat or (
        5 if scale in {"seed", "1000"} else 2 if scale == "10000" else 1
    )
    verify = scale != "100000" or options.verify_large
    # tracemalloc doubles the cost of a request; at 100k measure memory on one database.
    memory = scale != "100000" or database == "postgresql"
    environment = os.environ | {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "orgregistry.settings",
        "TESTING": "true",  # plain static storage: no collectstatic needed
        "DEBUG": "false",
        "API_ANON_RATE": "1000000/second",
        "AXES_ENABLED": "false",
    }
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--worker",
        scale,
        f"--repeat={repeat}",
        *(["--verify"] if verify else []),
        *(["--memory"] if memory else []),
        *(["--writes-only"] if options.writes_only else []),
        f"--corrections={options.corrections}",
    ]
    started = time.perf_counter()
    try:
        completed = subprocess.run(  # noqa: S603 - our own interpreter and module
            command,
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
    finally:
        drop()
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["database"] = database
    result["wall_seconds"] = time.perf_counter() - started
    return result


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kilobytes = int(meminfo.read_text().split()[1])
        memory = f"{kilobytes / 1024 / 1024:.0f} GiB"
    import django

    versions: dict[str, str | int] = {
        "python": platform.python_version(),
        "django": django.get_version(),
    }
    try:
        import psycopg

        versions["psycopg"] = psycopg.__version__
    except ImportError:
        pass
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    versions["commit"] = _git("rev-parse", "--short", "HEAD")
    changed = _git("status", "--porcelain", "--untracked-files=no", "--", "*.py")
    versions["uncommitted_python_files"] = len(changed.splitlines())
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "system": platform.platform(),
        **versions,
    }


def _git(*arguments: str) -> str:
    """The measured code's revision (empty outside a git checkout)."""
    try:
        return subprocess.run(  # noqa: S603
            ["git", *arguments],  # noqa: S607 - git from PATH, read-only commands
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"comma-separated scales: 'seed' and unit counts (default {DEFAULT_SIZES})",
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default both)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "BENCHMARK_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server where scratch databases may be created and dropped",
    )
    parser.add_argument(
        "--scratch", default=tempfile.gettempdir(), help="folder for SQLite files"
    )
    parser.add_argument("--repeat", type=int, default=0, help="runs per measurement")
    parser.add_argument(
        "--verify-large",
        action="store_true",
        help="also run registry_problems() at 100,000 units (about a minute)",
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print results only; leave docs/ and benchmarks/results/ alone",
    )
    parser.add_argument(
        "--writes-only",
        action="store_true",
        help="measure only the writes (rename, creates, moves); updates their table",
    )
    parser.add_argument(
        "--corrections",
        type=int,
        default=0,
        help="synthetic scales: correct that many units' past through the services",
    )
    parser.add_argument("--worker", metavar="SCALE", help=argparse.SUPPRESS)
    parser.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)

    if options.worker:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgregistry.settings")
        print(
            json.dumps(
                measure(
                    options.worker,
                    options.repeat,
                    options.verify,
                    options.memory,
                    options.writes_only,
                    options.corrections,
                )
            )
        )
        return

    started = time.perf_counter()
    runs = []
    for database in options.databases.split(","):
        for scale in options.sizes.split(","):
            print(f"== {database}, {scale}", file=sys.stderr, flush=True)
            runs.append(run_one(database.strip(), scale.strip(), options))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgregistry.settings")
    report = {
        "machine": machine(),
        "command": "make benchmark BENCHMARK_ARGS='"
        + " ".join(argv or sys.argv[1:])
        + "'",
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "total_seconds": time.perf_counter() - started,
        "runs": runs,
        "writes_only": options.writes_only,
    }
    if options.no_write:
        print(json.dumps(report, indent=2))
        return
    from benchmarks import report as reporting

    results = WRITES_RESULTS if options.writes_only else RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report, indent=2) + "\n")
    reporting.write(report, DOC, CHART)
    print(f"Wrote {results}, {DOC} and {CHART}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Read throughput with no writer and with one, over HTTP, behind gunicorn and Redis.

``python -m benchmarks.load --units 10000`` (``make benchmark-load``). On a scratch
PostgreSQL database (``--postgres-url``, default the local server) it loads a synthetic
registry (``benchmarks.generate``), starts gunicorn with the production cache (Redis,
``--redis-url``), and has ``--clients`` threads read, as fast as the server answers,
the whole tree, unit pages of the API and the change feed, for ``--seconds`` a phase.

Phases alternate: no writer, one writer, no writer, one writer... (``--rounds``), so
both are measured in one run on the same warm server, and a drift of the machine shows
in both. The writer is an editor moving the subtree closest to ``--subtree`` units back
and forth between two parents through ``services.unit_move``, one move a second (what
one person at the admin does at most); with ``--write rename`` it renames that unit
instead, a one-row write that makes the same answers stale, so the two runs tell the
nested-set shift of a move apart from the rebuilds every write causes. The target of
the scale issue: one writer costs readers at most 10% of their throughput.

Each phase reports requests per second, the 50th and 95th percentile per path, errors,
the writes done and their time, the cache's hits and misses in that phase (Redis's
own counters) and how busy the machine's CPUs were; the run reports each round's
ratio besides the mean, since how far the rounds disagree is the machine's noise.
The JSON goes to stdout and ``benchmarks/results/load.json`` (``load-rename.json``
for the renaming writer; ``load-100000.json`` for another size).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results" / "load.json"
RESULTS_RENAME = RESULTS.with_name("load-rename.json")
DEFAULT_UNITS = 10_000
WRITE_PAUSE_SECONDS = 1.0
FEED_PATH = "/api/v1/changes/?since=2023-01-01&until=2023-12-31"


# --- In the registry's own process: prepare, and the writer ------------------------------


def _setup_django() -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    import django

    django.setup()


def prepare(units: int, subtree: int) -> dict[str, Any]:
    """Migrate, load ``units`` synthetic units; pick the paths and the subtree to move."""
    _setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import F

    from benchmarks.generate import generate
    from units.models import OrganizationalUnit

    call_command("migrate", verbosity=0)
    generate(units)
    with connection.cursor() as cursor:
        # What autovacuum would do over the next minutes after a bulk load, done
        # now: otherwise it falls in whichever phase is running (a restored
        # database is analyzed before it serves, too).
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    active = OrganizationalUnit.objects.active()
    sizes = active.annotate(size=(F("rght") - F("lft") - 1) / 2).filter(level__gte=1)
    moved = min(sizes, key=lambda unit: abs(unit.size - subtree))
    inside = moved.get_descendants(include_self=True).values_list("pk", flat=True)
    parents = list(
        active.filter(level=1)
        .exclude(pk__in=list(inside))
        .exclude(pk=moved.parent_id)
        .values_list("pk", flat=True)[:1]
    )
    rng = random.Random(15)
    slugs = list(active.values_list("slug", flat=True))
    return {
        "moved": moved.pk,
        "moved_size": moved.size,
        "parents": [moved.parent_id, *parents],
        "unit_slugs": rng.sample(slugs, min(50, len(slugs))),
    }


def write_until_stopped(kind: str, unit: int, parents: list[int]) -> None:
    """Write once a second until SIGTERM; print the times.

    ``move``: move ``unit`` back and forth between ``parents`` (the nested-set shift of
    the nodes it passes over, then every answer about now rebuilt or derived).
    ``rename``: rename it back and forth (one row; the same answers to rebuild), which
    tells the cost of the rebuilds apart from the cost of the shift.
    """
    _setup_django()
    from units import services

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    seconds: list[float] = []
    turn = 1
    while not stopping.is_set():
        started = time.perf_counter()
        if kind == "rename":
            services.unit_update(
                unit=unit,
                name=f"Benchmark unit, name {turn % 2}",
                user=None,
                reason="Benchmark: an editor renaming a unit",
            )
        else:
            services.unit_move(
                unit=unit,
                new_parent=parents[turn % len(parents)],
                user=None,
                reason="Benchmark: an editor moving a subtree",
            )
        seconds.append(time.perf_counter() - started)
        turn += 1
        stopping.wait(WRITE_PAUSE_SECONDS)
    print(json.dumps({"writes": len(seconds), "seconds": seconds}), flush=True)


# --- The orchestrator ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _redis_counters(redis_url: str) -> dict[str, int]:
    import redis

    info = redis.Redis.from_url(redis_url).info("stats")
    return {"hits": int(info["keyspace_hits"]), "misses": int(info["keyspace_misses"])}


def _machine_cpu() -> tuple[int, int] | None:
    """Busy and total CPU time of the whole machine so far (Linux), in clock ticks."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _read_phase(
    base: str, paths: dict[str, list[str]], clients: int, seconds: float
) -> dict[str, Any]:
    """``clients`` threads read until ``seconds`` have passed: each read picks what it
    reads (the tree, a unit, the feed) with equal odds, then one of its paths."""
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        while time.perf_counter() < deadline:
            kind = rng.choice(sorted(paths))
            path = rng.choice(paths[kind])
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(base + path, timeout=300) as response:  # noqa: S310 - our own server
                    response.read()
                outcome = None
            except (urllib.error.URLError, OSError) as error:
                outcome = f"{path}: {error}"
            elapsed = time.perf_counter() - started
            with lock:
                if outcome:
                    errors.append(outcome)
                else:
                    latencies.setdefault(kind, []).append(elapsed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done = sum(len(values) for values in latencies.values())
    return {
        "seconds": round(elapsed, 2),
        "requests": done,
        "per_second": round(done / elapsed, 2),
        "errors": len(errors),
        "first_errors": errors[:3],
        "paths": {
            kind: {
                "requests": len(values),
                "p50": round(statistics.median(values), 4),
                "p95": round(_percentile(values, 0.95) or 0, 4),
            }
            for kind, values in sorted(latencies.items())
        },
    }


def _wait_until_up(base: str, timeout: float = 120) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(base + "/api/v1/", timeout=10):  # noqa: S310
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer in time")


def run(options: argparse.Namespace) -> dict[str, Any]:
    import redis

    from benchmarks.run import _postgres_database

    url, drop = _postgres_database(options.postgres_url)
    environment = os.environ | {
        "DATABASE_URL": url,
        "CACHE_URL": options.redis_url,
        "DJANGO_SETTINGS_MODULE": "orgregistry.settings",
        "TESTING": "true",  # plain static storage: no collectstatic needed
        "DEBUG": "false",
        "API_ANON_RATE": "1000000/second",
        "AXES_ENABLED": "false",
        # gunicorn.conf.py recycles a worker after about 1,000 requests; at this rate
        # all of them restart within seconds of each other, every minute or so, and a
        # wave of cold workers landing in one phase was read as that phase's writer.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    redis.Redis.from_url(options.redis_url).flushdb()
    server = None
    try:
        prepared = json.loads(
            subprocess.run(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "benchmarks.load", "--prepare"]
                + [f"--units={options.units}", f"--subtree={options.subtree}"],
                cwd=PROJECT_ROOT,
                env=environment,
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "orgregistry.wsgi"]
            + [f"--workers={options.workers}", f"--bind=127.0.0.1:{port}"]
            + ["--timeout=300", "--log-level=warning"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,  # the access log: the report is stdout's
        )
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base)
        paths = {
            "tree": ["/api/v1/tree/"],
            "changes": [FEED_PATH],
            "unit": [f"/api/v1/units/{slug}/" for slug in prepared["unit_slugs"]],
        }
        for path in ("/api/v1/tree/", FEED_PATH):  # a first build is no phase's cost
            urllib.request.urlopen(base + path, timeout=300).read()  # noqa: S310
        phases = []
        for round_number in range(options.rounds):
            for with_writer in (False, True):
                writer = None
                if with_writer:
                    writer = subprocess.Popen(  # noqa: S603
                        [sys.executable, "-m", "benchmarks.load", "--writer"]
                        + [options.write, str(prepared["moved"])]
                        + list(map(str, prepared["parents"])),
                        cwd=PROJECT_ROOT,
                        env=environment,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                before = _redis_counters(options.redis_url)
                cpu_before = _machine_cpu()
                phase = _read_phase(base, paths, options.clients, options.seconds)
                cpu_after = _machine_cpu()
                after = _redis_counters(options.redis_url)
                if cpu_before and cpu_after:
                    busy_ticks = cpu_after[0] - cpu_before[0]
                    phase["machine_cpu_busy"] = round(
                        busy_ticks / max(cpu_after[1] - cpu_before[1], 1), 3
                    )
                phase |= {
                    "round": round_number,
                    "writer": with_writer,
                    "cache_hits": after["hits"] - before["hits"],
                    "cache_misses": after["misses"] - before["misses"],
                }
                if writer is not None:
                    writer.terminate()
                    output, _ = writer.communicate(timeout=600)
                    writes = json.loads(output.strip().splitlines()[-1])
                    phase["writes"] = writes["writes"]
                    phase["write_seconds_median"] = (
                        round(statistics.median(writes["seconds"]), 3)
                        if writes["seconds"]
                        else None
                    )
                phases.append(phase)
                print(json.dumps(phase), file=sys.stderr, flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        drop()

    def mean_rate(writer: bool) -> float:
        return statistics.mean(p["per_second"] for p in phases if p["writer"] == writer)

    quiet, busy = mean_rate(False), mean_rate(True)
    # Each round's own ratio: how far the rounds disagree is the run's noise.
    round_costs = [
        round(1 - with_writer["per_second"] / without["per_second"], 3)
        for without, with_writer in zip(phases[::2], phases[1::2], strict=True)
    ]
    return {
        "units": options.units,
        "write": options.write,
        "moved_subtree_units": prepared["moved_size"] + 1,
        "workers": options.workers,
        "clients": options.clients,
        "seconds_per_phase": options.seconds,
        "reads_per_second_no_writer": round(quiet, 2),
        "reads_per_second_one_writer": round(busy, 2),
        "one_writer_costs_readers": round(1 - busy / quiet, 3),
        "one_writer_costs_readers_per_round": round_costs,
        "phases": phases,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=DEFAULT_UNITS)
    parser.add_argument(
        "--subtree", type=int, default=594, help="units in the moved subtree"
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=6, help="reading threads")
    parser.add_argument("--seconds", type=float, default=30, help="length of a phase")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--write",
        choices=("move", "rename"),
        default="move",
        help="what the writer does once a second",
    )
    parser.add_argument(
        "--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--writer", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.prepare:
        print(json.dumps(prepare(options.units, options.subtree)))
        return
    if options.writer:
        kind, unit, *parents = options.writer
        write_until_stopped(kind, int(unit), [int(parent) for parent in parents])
        return
    report = run(options)
    results = RESULTS if options.write == "move" else RESULTS_RENAME
    if options.units != DEFAULT_UNITS:
        results = results.with_stem(f"{results.stem}-{options.units}")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

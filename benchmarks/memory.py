"""The as-of tree's memory against its JSON, and the read cache's hit rate under load.

``python -m benchmarks.memory --units 10000`` (``DATABASE_URL`` chooses the database;
default: a scratch SQLite file). A synthetic registry (``benchmarks.generate``) is
loaded into the empty database, then:

- **memory**: the peak of Python allocations (``tracemalloc``) while serving
  ``/api/v1/tree/?as_of=…`` and ``/api/v1/tree/`` with an empty cache, against the
  size of the JSON sent (the target: at most 3x);
- **hit rate**: a mixed load, seeded so every run is the same: reads of the current
  tree, the tree as of several past days, unit lists and the change feed, with a write
  (a rename effective now, or one backdated a few years) after every tenth read. It
  reports how many reads the cache answered, and how many reads of a past tree it
  answered across writes, which the old rule (every write empties every cache) never
  did.

Numbers go to stdout as JSON; ``docs/performance.md`` quotes them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

PAST_DAYS = ("2016-01-01", "2019-01-01", "2021-06-30", "2023-01-01")


def _peak(client: Any, url: str) -> dict[str, int | float]:
    from django.core.cache import cache

    client.get(url)  # imports and URL resolver caches, not the answer's cost
    cache.clear()
    gc.collect()
    tracemalloc.start()
    response = client.get(url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = len(response.content)
    del response
    return {"peak_bytes": peak, "json_bytes": size, "ratio": round(peak / size, 2)}


def measure(units: int, reads: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.generate import generate
    from units import selectors, services
    from units.models import OrganizationalUnit

    call_command("migrate", verbosity=0)
    generate(units)
    client = Client()
    results: dict[str, Any] = {"units": units, "vendor": connection.vendor}
    results["memory"] = {
        "as_of_tree": _peak(client, f"/api/v1/tree/?as_of={PAST_DAYS[1]}"),
        "current_tree": _peak(client, "/api/v1/tree/"),
    }

    # A mixed load: which answers came from the cache is read off the queries each
    # request made (a hit makes one, the freshness or generation check).
    rng = random.Random(15)
    cache.clear()
    unit_ids = list(OrganizationalUnit.objects.active().values_list("pk", flat=True))
    paths = [
        *(f"/api/v1/tree/?as_of={day}" for day in PAST_DAYS),
        "/api/v1/tree/",
        "/api/v1/units/?limit=50",
        "/api/v1/changes/?since=2023-01-01&until=2023-12-31",
    ]
    hits = past_hits = past_reads = 0
    for number in range(1, reads + 1):
        path = rng.choice(paths)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        hit = len(queries) == 1
        hits += hit
        if "as_of" in path:
            past_reads += 1
            past_hits += hit
        if number % 10 == 0:
            unit = rng.choice(unit_ids)
            backdated = rng.random() < 0.2
            effective = selectors.parse_instant("2022-06-01") if backdated else None
            latest = (
                OrganizationalUnit.history.filter(id=unit)
                .order_by("-history_date")
                .values_list("history_date", flat=True)
                .first()
            )
            if effective is not None and latest is not None and latest > effective:
                effective = None  # a backdated change may not precede a recorded one
            services.unit_update(
                unit=unit,
                user=None,
                reason="Benchmark load",
                name=f"Renamed {number}",
                effective_at=effective,
            )
    results["hit_rate"] = {
        "reads": reads,
        "writes": reads // 10,
        "hits": hits,
        "rate": round(hits / reads, 3) if reads else None,
        "past_tree_reads": past_reads,
        "past_tree_hits": past_hits,
    }
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=400)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgregistry.settings")
    os.environ.setdefault("TESTING", "true")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("API_ANON_RATE", "1000000/second")
    os.environ.setdefault("AXES_ENABLED", "false")
    scratch = None
    if "DATABASE_URL" not in os.environ:
        scratch = Path(tempfile.mkdtemp()) / "memory.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        print(json.dumps(measure(options.units, options.reads)))  # noqa: T201
    finally:
        if scratch is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{scratch}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

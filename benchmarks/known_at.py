"""The as-of tree read as known at an earlier instant, against the current tree.

``python -m benchmarks.known_at --units 100000 --corrections 500 --repeat 3`` with
``DATABASE_URL`` naming an empty database (migrated here). It generates a registry
(``benchmarks.generate``), corrects some units' past through the services (rows
recorded now, effective before revisions already recorded), then times, uncached and
warm, in interleaved rounds so a drift of a shared machine shows in every column:

- the current tree (``/api/v1/tree/``);
- the tree as of ``AS_OF_DAY``, as known now;
- the same as known at ``KNOWN_AT_DAY`` (years of history recorded after it left out);
- the same as known just before the corrections (only the corrections left out).

Prints one JSON object: medians, each read's SQL queries and answer size, the ratios
to the current tree, and the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import random
import statistics
import sys
import time
from typing import Any

from benchmarks.run import AS_OF_DAY, KNOWN_AT_DAY


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--corrections", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the registry already in the database (after a migration, say)",
    )
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgregistry.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.generate import BENCHMARK_USERNAME, _correct_past, generate
    from units.models import OrganizationalUnit

    results: dict[str, Any] = {
        "vendor": connection.vendor,
        "load_before": os.getloadavg(),
    }
    call_command("migrate", verbosity=0)
    if options.reuse:
        # Just before the first correction's rows were recorded.
        before_corrections = OrganizationalUnit.history.filter(
            corrects_revision__isnull=False
        ).earliest("recorded_at").recorded_at - datetime.timedelta(seconds=1)
    else:
        started = time.perf_counter()
        generated = generate(options.units, corrections=0)
        results["generate_seconds"] = time.perf_counter() - started
        before_corrections = datetime.datetime.now(datetime.UTC)
        time.sleep(1)
        started = time.perf_counter()
        user = get_user_model().objects.get(username=BENCHMARK_USERNAME)
        results["correction_rows"] = _correct_past(
            options.corrections, random.Random(14), user
        )
        results["corrections_seconds"] = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        results["history_rows"] = generated.history_rows + results["correction_rows"]
    results["units"] = OrganizationalUnit.objects.count()
    print(json.dumps(results), file=sys.stderr, flush=True)

    known_before = before_corrections.strftime("%Y-%m-%dT%H:%M:%SZ")
    urls = {
        "current tree": "/api/v1/tree/",
        "as of, known now": f"/api/v1/tree/?as_of={AS_OF_DAY}",
        f"as of, known at {KNOWN_AT_DAY}": (
            f"/api/v1/tree/?as_of={AS_OF_DAY}&known_at={KNOWN_AT_DAY}"
        ),
        "as of, known before the corrections": (
            f"/api/v1/tree/?as_of={AS_OF_DAY}&known_at={known_before}"
        ),
    }
    client = Client()

    def get(url: str) -> tuple[float, int]:
        cache.clear()
        gc.collect()
        started = time.perf_counter()
        response = client.get(url)
        seconds = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        return seconds, len(response.content)

    entries: dict[str, dict[str, Any]] = {}
    for name, url in urls.items():  # warm-up, query count and size
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            seconds, size = get(url)
        entries[name] = {"url": url, "queries": len(queries), "bytes": size}
        entries[name]["first_seconds"] = seconds
        entries[name]["timings"] = []
        print(f"warm {name}: {seconds:.2f}s", file=sys.stderr, flush=True)
    for round_number in range(options.repeat):
        for name, url in urls.items():
            seconds, _ = get(url)
            entries[name]["timings"].append(seconds)
            print(f"round {round_number} {name}: {seconds:.2f}s", file=sys.stderr)
    current = statistics.median(entries["current tree"]["timings"])
    for entry in entries.values():
        entry["median_seconds"] = statistics.median(entry["timings"])
        entry["ratio_to_current"] = entry["median_seconds"] / current
    results["reads"] = entries
    results["load_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

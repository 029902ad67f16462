"""Issue 12, item 8 (pages): the public pages and the chart's renders are throttled.

They had no limit at all (only the API had), the PNG/PDF renders are the most expensive
answers the site gives, and a signed-in account was never throttled. Now every page
counts per address (per account, higher, when signed in), the renders against a lower
budget of their own, in the shared store the API's counters use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from api.throttling import throttle_cache
from tests.conftest import ScriptedHistory
from tests.deploy.test_deploy import (
    PRODUCTION_HOST,
    PROJECT_ROOT,
    manage,
    production_environment,
)
from tests.services_needed import missing, redis_is_running

PAGES = 4
RENDERS = 2
SIGNED_IN_PAGES = 6


@pytest.fixture
def small_page_rates(settings: Any) -> None:
    """Budgets a test can use up quickly; the mechanism is the configured one."""
    settings.PAGE_THROTTLE_RATES = {
        "pages_anon": f"{PAGES}/minute",
        "pages_user": f"{SIGNED_IN_PAGES}/minute",
        "renders_anon": f"{RENDERS}/minute",
        "renders_user": f"{RENDERS + 1}/minute",
    }
    throttle_cache().clear()
    cache.clear()


def statuses(client: Client, url: str, count: int) -> list[int]:
    return [client.get(url).status_code for _ in range(count)]


@pytest.mark.django_db
def test_pages_past_the_budget_answer_429_with_retry_after_and_a_short_page(
    scripted_history: ScriptedHistory, small_page_rates: None
) -> None:
    client = Client()
    # Every page draws on the same budget.
    for url in ("/", "/units/unit-x/", "/search/?q=unit", "/chart/"):
        assert client.get(url).status_code == HTTPStatus.OK, url

    response = client.get("/people/")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<h1>Too many requests</h1>" in page
    assert f"try again in {response['Retry-After']} second" in page


@pytest.mark.django_db
def test_a_piece_of_page_and_a_download_get_the_answer_as_plain_text(
    scripted_history: ScriptedHistory, small_page_rates: None
) -> None:
    client = Client()
    statuses(client, "/", PAGES)

    for url in ("/units/department-b/children/", "/chart/download.svg"):
        response = client.get(url)
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS, url
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content.decode().startswith("Too many requests: try again")
        assert "Retry-After" in response


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["png", "pdf"])
def test_renders_are_throttled_at_their_own_lower_rate(
    scripted_history: ScriptedHistory, small_page_rates: None, file_format: str
) -> None:
    client = Client()
    url = f"/chart/download.{file_format}"

    assert statuses(client, url, RENDERS + 1) == [HTTPStatus.OK] * RENDERS + [
        HTTPStatus.TOO_MANY_REQUESTS
    ]
    response = client.get(url)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert 0 < int(response["Retry-After"]) <= 60
    # The renders' budget is their own: pages (the SVG download too) still answer.
    assert client.get("/chart/download.svg").status_code == HTTPStatus.OK
    assert client.get("/chart/").status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_each_address_has_its_own_budget(
    scripted_history: ScriptedHistory, small_page_rates: None
) -> None:
    statuses(Client(REMOTE_ADDR="198.51.100.1"), "/", PAGES)

    assert Client(REMOTE_ADDR="198.51.100.1").get("/").status_code == (
        HTTPStatus.TOO_MANY_REQUESTS
    )
    assert Client(REMOTE_ADDR="198.51.100.2").get("/").status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_header_does_not_reset_the_budget(
    scripted_history: ScriptedHistory, small_page_rates: None
) -> None:
    client = Client()
    statuses(client, "/", PAGES)

    for number in range(3):
        response = client.get("/", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.django_db
def test_signed_in_users_are_throttled_per_account_at_a_higher_rate(
    scripted_history: ScriptedHistory,
    small_page_rates: None,
    editor: User,
    other_editor: User,
) -> None:
    """Even an account without any permission: it was never throttled before."""
    client = Client()
    statuses(client, "/", PAGES)
    assert client.get("/").status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not editor.get_all_permissions()

    client.force_login(editor)

    # The same address, signed in: the account's own, higher budget.
    assert statuses(client, "/", SIGNED_IN_PAGES + 1) == [
        HTTPStatus.OK
    ] * SIGNED_IN_PAGES + [HTTPStatus.TOO_MANY_REQUESTS]
    assert statuses(client, "/chart/download.png", RENDERS + 2) == [HTTPStatus.OK] * (
        RENDERS + 1
    ) + [HTTPStatus.TOO_MANY_REQUESTS]
    # Another account has a budget of its own.
    other = Client()
    other.force_login(other_editor)
    assert other.get("/").status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_the_api_and_the_admin_are_not_counted_as_pages(
    scripted_history: ScriptedHistory, small_page_rates: None
) -> None:
    client = Client()
    statuses(client, "/", PAGES)

    assert client.get("/api/v1/units/").status_code == HTTPStatus.OK
    assert client.get("/admin/login/").status_code == HTTPStatus.OK


def test_test_runs_lift_the_page_limits_so_the_suite_is_not_throttled() -> None:
    from django.conf import settings

    assert set(settings.PAGE_THROTTLE_RATES.values()) == {None}


# --- The configured rates -----------------------------------------------------------------


def page_rates(**overrides: str) -> subprocess.CompletedProcess[str]:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps(s.PAGE_THROTTLE_RATES))"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=production_environment(**overrides),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _per_minute(rate: str) -> int:
    number, period = rate.split("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return int(number) * 60 // seconds


def test_production_throttles_pages_and_renders_lower_and_signed_in_users_higher() -> (
    None
):
    result = page_rates()
    assert result.returncode == 0, result.stderr[-2000:]
    rates = {
        scope: _per_minute(rate) for scope, rate in json.loads(result.stdout).items()
    }

    assert 0 < rates["renders_anon"] < rates["pages_anon"] <= 10_000
    assert rates["pages_anon"] < rates["pages_user"]
    assert rates["renders_anon"] < rates["renders_user"] < rates["pages_user"]


def test_the_rates_come_from_the_environment_and_off_lifts_one() -> None:
    result = page_rates(
        PAGE_ANON_RATE="20/minute",
        PAGE_USER_RATE="off",
        RENDER_ANON_RATE="2/hour",
        RENDER_USER_RATE="30/h",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {
        "pages_anon": "20/minute",
        "pages_user": None,
        "renders_anon": "2/hour",
        "renders_user": "30/h",
    }


@pytest.mark.parametrize("rate", ["300", "0/minute", "x/minute", "10/fortnight"])
def test_a_rate_that_is_not_one_stops_the_start_with_a_message(rate: str) -> None:
    result = page_rates(RENDER_ANON_RATE=rate)

    assert result.returncode != 0
    assert f"RENDER_ANON_RATE={rate!r} is not a rate" in result.stderr


# --- Counting shared by worker processes ---------------------------------------------------

# One "worker": a fresh interpreter sending anonymous requests through Django's test
# client (the whole middleware stack), printing each status.
_WORKER = """
import sys, django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR="198.51.100.9")
for url in sys.argv[2:]:
    print(client.get(url, secure=True, HTTP_HOST=sys.argv[1]).status_code)
"""


def _worker(urls: list[str], environment: dict[str, str]) -> list[int]:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", _WORKER, PRODUCTION_HOST, *urls],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [int(line) for line in result.stdout.split()]


@pytest.mark.parametrize("store", ["database", "redis"])
def test_two_worker_processes_share_the_page_and_render_counts(
    tmp_path: Path, store: str
) -> None:
    """The counters live in the database's table (no CACHE_URL) or in Redis."""
    if store == "redis" and not redis_is_running():
        missing("no Redis at 127.0.0.1:6379")
    environment = production_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        PAGE_ANON_RATE="3/minute",
        RENDER_ANON_RATE="3/minute",
        # A prefix of its own: parallel runs sharing one Redis never meet.
        CACHE_KEY_PREFIX=f"throttle-test-{uuid.uuid4().hex}",
    )
    if store == "redis":
        environment["THROTTLE_CACHE_URL"] = "redis://127.0.0.1:6379/15"
    migrated = manage("migrate", "--noinput", environment=environment, timeout=180)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    # The SVG download is a page (and needs no collected static files); PNG a render.
    urls = ["/chart/download.svg", "/chart/download.png"] * 2

    first = _worker(urls, environment)
    second = _worker(urls, environment)

    assert first == [HTTPStatus.OK] * 4
    # Per-process counting would have granted the second process three more of each.
    assert second == [HTTPStatus.OK] * 2 + [HTTPStatus.TOO_MANY_REQUESTS] * 2

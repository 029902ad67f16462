"""Production settings come from the environment, and they pass Django's deploy check.

Each test starts a fresh interpreter (settings are read once, at import), with only the
variables a production host would set, so nothing from the test run leaks in.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http import HTTPStatus
from pathlib import Path

import pytest
from django.db import connection

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_HOST = "registry.example.org"


def production_environment(**overrides: str) -> dict[str, str]:
    """What a production host sets (docs/deployment.md), and nothing of the tests'."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name in {"PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR"}
    }
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "orgregistry.settings",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DEBUG": "false",
        "SECURE": "true",
        "ALLOWED_HOSTS": PRODUCTION_HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{PRODUCTION_HOST}",
        "DATABASE_URL": "postgres://registry@db.internal:5432/orgregistry",
        "CONN_MAX_AGE": "60",
        **overrides,
    }


def manage(
    *arguments: str, environment: dict[str, str], timeout: int = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *arguments],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def production_settings(expression: str, **overrides: str) -> object:
    """``expression`` over ``django.conf.settings`` (as ``s``) in a production process."""
    script = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        f"print(json.dumps({expression}))"
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


def test_check_deploy_passes_with_the_production_environment() -> None:
    result = manage("check", "--deploy", environment=production_environment())
    assert result.returncode == 0, result.stdout + result.stderr

    # Not even a warning from Django's security checks.
    security = manage(
        "check",
        "--deploy",
        "--tag",
        "security",
        "--fail-level",
        "WARNING",
        environment=production_environment(),
    )
    assert security.returncode == 0, security.stdout + security.stderr
    assert "no issues" in security.stdout


def test_check_deploy_fails_without_the_production_switches() -> None:
    """The check is not vacuous: without SECURE and a real key it reports each gap."""
    environment = production_environment(SECURE="false")
    del environment["SECRET_KEY"]

    result = manage(
        "check",
        "--deploy",
        "--tag",
        "security",
        "--fail-level",
        "WARNING",
        environment=environment,
    )

    assert result.returncode != 0
    for check_id in ("W004", "W008", "W009", "W012", "W016"):
        assert f"security.{check_id}" in result.stderr, check_id


def test_production_refuses_to_start_without_a_secret_key() -> None:
    environment = production_environment()
    del environment["SECRET_KEY"]

    result = manage("check", environment=environment)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_come_from_the_environment() -> None:
    production = production_settings(
        "{'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS,"
        " 'hsts': s.SECURE_HSTS_SECONDS, 'ssl_redirect': s.SECURE_SSL_REDIRECT,"
        " 'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
        " 'engine': s.DATABASES['default']['ENGINE'],"
        " 'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE'],"
        " 'static': s.STORAGES['staticfiles']['BACKEND'],"
        " 'whitenoise': 'whitenoise.middleware.WhiteNoiseMiddleware' in s.MIDDLEWARE,"
        " 'password_hasher': s.PASSWORD_HASHERS[0]}"
    )
    assert production == {
        "debug": False,
        "hosts": [PRODUCTION_HOST],
        "hsts": 31_536_000,
        "ssl_redirect": True,
        "session_secure": True,
        "csrf_secure": True,
        "engine": "django.db.backends.postgresql",
        "conn_max_age": 60,
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "whitenoise": True,
        # The tests' fast hasher stays in the tests.
        "password_hasher": "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    }


def test_proxy_count_makes_throttling_and_lockout_trust_the_proxy() -> None:
    def proxy_settings(**overrides: str) -> object:
        return production_settings(
            "[s.PROXY_COUNT, s.REST_FRAMEWORK['NUM_PROXIES'], s.AXES_CLIENT_IP_CALLABLE]",
            **overrides,
        )

    # Without a declared proxy only the connecting address counts.
    callable_path = "orgregistry.client_ip.client_ip"
    assert proxy_settings() == [0, 0, callable_path]
    assert proxy_settings(PROXY_COUNT="1") == [1, 1, callable_path]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - localhost
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.slow
def test_gunicorn_with_several_workers_serves_pages_and_static_files(
    tmp_path: Path,
) -> None:
    """The documented production start, end to end: collectstatic, migrate, gunicorn."""
    port = _free_port()
    environment = production_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        GUNICORN_ACCESS_LOG="",
    )
    for command in (("collectstatic", "--noinput"), ("migrate", "--noinput")):
        result = manage(*command, environment=environment, timeout=120)
        assert result.returncode == 0, result.stderr
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    https = {"Host": PRODUCTION_HOST, "X-Forwarded-Proto": "https"}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = _get(f"{base}/", https)
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1][-3000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert status == HTTPStatus.OK, body[:2000]
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")

        # Plain HTTP is redirected to HTTPS.
        status, headers, _ = _get(f"{base}/", {"Host": PRODUCTION_HOST})
        assert status == HTTPStatus.MOVED_PERMANENTLY
        assert headers["Location"] == f"https://{PRODUCTION_HOST}/"

        # Unknown hosts are refused (ALLOWED_HOSTS).
        status, _, _ = _get(f"{base}/", https | {"Host": "evil.example"})
        assert status == HTTPStatus.BAD_REQUEST

        # Static files: whitenoise serves the hashed, compressed, cacheable copy.
        manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["admin/css/base.css"]
        status, headers, body = _get(
            f"{base}/static/{hashed}", https | {"Accept-Encoding": "gzip"}
        )
        assert status == HTTPStatus.OK
        assert headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]
        assert "max-age=315360000" in headers["Cache-Control"]
    finally:
        server.terminate()
        _, log = server.communicate(timeout=30)
    assert log.count("Booting worker") == 2, log[-3000:]


def test_postgres_cursors_are_planned_for_all_their_rows_unless_behind_pgbouncer() -> (
    None
):
    """Server-side cursors (the streamed tree) are read to the end; PgBouncer refuses
    startup options, and there server-side cursors are off anyway."""

    def startup_options(**overrides: str) -> object:
        return production_settings(
            "s.DATABASES['default'].get('OPTIONS', {}).get('options')", **overrides
        )

    assert startup_options() == "-c cursor_tuple_fraction=1"
    assert startup_options(DISABLE_SERVER_SIDE_CURSORS="true") is None
    kept = startup_options(
        DATABASE_URL="postgres://registry@db.internal:5432/orgregistry"
        "?options=-c%20statement_timeout%3D5000"
    )
    assert kept == "-c statement_timeout=5000 -c cursor_tuple_fraction=1"
    assert startup_options(DATABASE_URL="sqlite:////tmp/registry.sqlite3") is None


@pytest.mark.django_db
def test_the_database_connection_uses_the_cursor_plan_setting() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")
        assert cursor.fetchone()[0] == "1"

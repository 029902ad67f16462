"""The read cache behind CACHE_URL: its settings, large answers, outages, and sharing.

Several application processes must share one cache: the first reader after a write
builds the answer and every process serves those bytes. The sharing tests start two
gunicorn servers on one registry and prove the second serves what the first cached by
changing the cached bytes in the store (a process that built its own answer would not
send them). A Redis that is down must not take the API down: reads answer uncached.

Tests needing Redis (127.0.0.1:6379, and the redis-server program) skip with the reason
when it is missing, except in CI (``CI`` set), where they fail: CI must provide it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pickle
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCacheClient
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from api.answer_cache import Answer
from orgregistry import cache as cache_url
from orgregistry.cache import ResilientRedisCache
from tests.deploy.test_deploy import (
    PRODUCTION_HOST,
    manage,
    production_environment,
    production_settings,
)
from tests.services_needed import missing

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
CACHE_TABLE = "registry_cache"
# The whole tree of a 100,000-unit registry is about this large.
WHOLE_TREE_BYTES = 60 * 1024 * 1024
HTTPS = {
    "Host": PRODUCTION_HOST,
    "X-Forwarded-Proto": "https",
    "Accept": "application/json",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _backend(url: str, key_prefix: str, **overrides: Any) -> ResilientRedisCache:
    """A Redis backend configured exactly as CACHE_URL would configure it."""
    params = cache_url.parse(url, key_prefix=key_prefix)
    location = params.pop("LOCATION")
    del params["BACKEND"]
    backend = ResilientRedisCache(location, params)
    for name, value in overrides.items():
        setattr(backend, name, value)
    return backend


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the machine's Redis, emptied afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        missing(f"no Redis at {REDIS_URL} ({error})")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def closed_port_url() -> str:
    """A Redis URL where nothing listens."""
    return f"redis://127.0.0.1:{_free_port()}/0"


# --- CACHE_URL --------------------------------------------------------------------

REDIS_OPTIONS = {"socket_timeout": 5.0, "socket_connect_timeout": 1.0}
RESILIENT_REDIS = "orgregistry.cache.ResilientRedisCache"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "locmem://",
            {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "",
            },
        ),
        (
            "locmem://registry",
            {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "registry",
            },
        ),
        (
            "redis://127.0.0.1:6379/0",
            {
                "BACKEND": RESILIENT_REDIS,
                "LOCATION": "redis://127.0.0.1:6379/0",
                "OPTIONS": REDIS_OPTIONS,
            },
        ),
        (
            "redis://cache.internal",
            {
                "BACKEND": RESILIENT_REDIS,
                "LOCATION": "redis://cache.internal",
                "OPTIONS": REDIS_OPTIONS,
            },
        ),
        (
            "rediss://:s3cret@cache.internal:6380/2?socket_timeout=30",
            {
                "BACKEND": RESILIENT_REDIS,
                "LOCATION": "rediss://:s3cret@cache.internal:6380/2?socket_timeout=30",
                "OPTIONS": REDIS_OPTIONS,
            },
        ),
        (
            "db://registry_cache",
            {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "registry_cache",
            },
        ),
        (
            "file:///var/cache/orgregistry",
            {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": "/var/cache/orgregistry",
            },
        ),
        ("dummy://", {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}),
    ],
)
def test_cache_url_names_the_backend(url: str, expected: dict[str, Any]) -> None:
    config = cache_url.parse(url, key_prefix="registry-a", version=3)

    assert config == expected | {"KEY_PREFIX": "registry-a", "VERSION": 3}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "is not a cache URL; it must start with one of locmem://, redis://"),
        ("locmem", "is not a cache URL"),
        ("bogus://cache.internal", "is not a cache URL"),
        ("redis:cache.internal", "is not a cache URL"),
        ("memcached://127.0.0.1:11211", "memcached is not offered"),
        ("redis://", "a Redis URL is redis://[:password@]host[:port][/db]"),
        ("redis:///0", "a Redis URL is"),
        ("redis://cache.internal:port/0", "with a numeric port and database"),
        ("redis://cache.internal:70000/0", "with a numeric port and database"),
        ("redis://cache.internal:6379/zero", "with a numeric port and database"),
        ("redis://cache.internal:6379/0/1", "with a numeric port and database"),
        ("redis://cache.internal:6379/0?sokcet_timeout=5", "Redis refuses its options"),
        ("redis://cache.internal:6379/0?socket_timeout=soon", "Redis refuses its"),
        ("db://", "name the cache table after db://"),
        ("db://registry-cache", "name the cache table after db://"),
        ("db://registry_cache/more", "has parts this kind of cache does not take"),
        ("file://var/cache", "give an absolute folder after file://"),
        ("file:///", "give an absolute folder after file://"),
        ("file:///var/cache?max_entries=3", "has parts this kind of cache does not"),
        ("dummy://anything", "has parts this kind of cache does not take"),
        ("locmem://name/path", "has parts this kind of cache does not take"),
    ],
)
def test_malformed_cache_url_is_refused_with_what_is_wrong(
    url: str, message: str
) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        cache_url.parse(url, key_prefix="registry-a")

    assert message in str(refused.value)
    assert repr(url) in str(refused.value)


def test_refusal_does_not_print_the_redis_password() -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        cache_url.parse("redis://:hunter2@cache.internal:6379/0?x=1", key_prefix="p")

    assert "hunter2" not in str(refused.value)
    assert "redis://***@cache.internal:6379/0?x=1" in str(refused.value)


def test_default_key_prefix_names_the_database_not_its_credentials() -> None:
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "db.internal",
        "PORT": 5432,
        "NAME": "registry_a",
        "USER": "registry",
        "PASSWORD": "old",
    }

    prefix = cache_url.default_key_prefix(database)

    assert prefix.startswith("orgregistry-")
    assert cache_url.default_key_prefix(database | {"PASSWORD": "new"}) == prefix
    assert cache_url.default_key_prefix(database | {"NAME": "registry_b"}) != prefix
    assert cache_url.default_key_prefix(database | {"HOST": "db2.internal"}) != prefix


def _settings_in_a_fresh_process(**environment: str) -> Any:
    return production_settings("s.CACHES['default']", **environment)


def test_settings_take_the_cache_from_the_environment() -> None:
    configured = _settings_in_a_fresh_process(
        CACHE_URL="redis://cache.internal:6379/1",
        CACHE_KEY_PREFIX="registry-a",
        CACHE_VERSION="4",
    )
    default = _settings_in_a_fresh_process()

    assert configured == {
        "BACKEND": RESILIENT_REDIS,
        "LOCATION": "redis://cache.internal:6379/1",
        "OPTIONS": REDIS_OPTIONS,
        "KEY_PREFIX": "registry-a",
        "VERSION": 4,
    }
    # Unset: per-process memory, as before CACHE_URL existed, keyed on the database.
    assert default["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert default["KEY_PREFIX"] == cache_url.default_key_prefix(
        {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "db.internal",
            "PORT": 5432,
            "NAME": "orgregistry",
        }
    )
    assert default["VERSION"] == 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CACHE_URL", "redis://cache.internal:port/0", "a Redis URL is"),
        ("CACHE_URL", "memcache://cache.internal", "is not a cache URL"),
        ("CACHE_VERSION", "two", "CACHE_VERSION must be a whole number"),
    ],
)
def test_application_refuses_to_start_with_a_bad_cache_setting(
    variable: str, value: str, message: str
) -> None:
    result = manage("check", environment=production_environment(**{variable: value}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


# --- Large answers ----------------------------------------------------------------


def test_redis_holds_an_answer_the_size_of_the_whole_tree(redis_prefix: str) -> None:
    backend = _backend(REDIS_URL, redis_prefix)
    body = os.urandom(1024) * (WHOLE_TREE_BYTES // 1024)

    backend.set("api-json:1:whole-tree", body, 60)

    assert backend.get("api-json:1:whole-tree") == body


@pytest.mark.slow
def test_database_cache_holds_an_answer_the_size_of_the_whole_tree(db: None) -> None:
    """On the test database: SQLite here, PostgreSQL when DATABASE_URL names it."""
    config = cache_url.parse(f"db://{CACHE_TABLE}", key_prefix="test")
    body = os.urandom(1024) * (WHOLE_TREE_BYTES // 1024)
    with override_settings(CACHES={"default": config}):
        call_command("createcachetable", verbosity=0)
        cache.set("api-json:1:whole-tree", body, 60)

        assert cache.get("api-json:1:whole-tree") == body


def test_clear_deletes_only_this_registrys_keys(redis_prefix: str) -> None:
    """Two registries may share one Redis; Django's own clear() empties all of it."""
    this_registry = _backend(REDIS_URL, redis_prefix)
    other_registry = _backend(REDIS_URL, f"{redis_prefix}:other")
    neighbour = _backend(REDIS_URL, f"{redis_prefix}x")
    for backend in (this_registry, other_registry, neighbour):
        backend.set("api:1:answer", b"kept", 60)

    this_registry.clear()

    assert this_registry.get("api:1:answer") is None
    assert neighbour.get("api:1:answer") == b"kept"


# --- A cache that is down ---------------------------------------------------------


def test_unreachable_redis_answers_like_an_empty_cache(
    closed_port_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    backend = _backend(closed_port_url, "test", retry_seconds=0)

    with caplog.at_level(logging.WARNING, logger="orgregistry.cache"):
        assert backend.get("answer", "missed") == "missed"
        assert backend.get_many(["answer", "other"]) == {}
        assert backend.has_key("answer") is False
        assert backend.add("answer", b"body") is False
        backend.set("answer", b"body", 60)
        assert backend.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert backend.touch("answer") is False
        assert backend.delete("answer") is False
        backend.delete_many(["a", "b"])
        assert backend.get_or_set("answer", b"built") == b"built"
        with pytest.raises(ValueError, match="not found"):
            backend.incr("counter")
        backend.clear()

    # One warning for the outage, not one per operation.
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1, warnings
    assert "unreachable, answering without it" in warnings[0]
    assert closed_port_url in warnings[0]


def test_unreachable_redis_is_not_asked_again_until_the_retry_delay_passed(
    closed_port_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests do not each wait for a connection attempt while Redis is down."""
    attempts: list[str] = []
    real_get = RedisCacheClient.get

    def counted_get(client: RedisCacheClient, key: str, default: Any) -> Any:
        attempts.append(key)
        return real_get(client, key, default)

    monkeypatch.setattr(RedisCacheClient, "get", counted_get)
    waiting = _backend(closed_port_url, "test", retry_seconds=60)
    retrying = _backend(closed_port_url, "test", retry_seconds=0)

    for _ in range(3):
        assert waiting.get("answer") is None
    assert len(attempts) == 1
    for _ in range(3):
        assert retrying.get("answer") is None
    assert len(attempts) == 4


@pytest.fixture
def redis_server_program() -> str:
    program = shutil.which("redis-server")
    if program is None:
        missing("the redis-server program is not installed")
    return program


@contextmanager
def _redis_server(program: str, port: int) -> Iterator[None]:
    """A Redis of this test's own, keeping nothing on disk."""
    server = subprocess.Popen(  # noqa: S603 - the Debian package's program
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "redis-server stopped"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_cache_comes_back_when_redis_does(
    redis_server_program: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    backend = _backend(url, "test", retry_seconds=0)

    with caplog.at_level(logging.WARNING, logger="orgregistry.cache"):
        with _redis_server(redis_server_program, port):
            backend.set("answer", b"before", 60)
            assert backend.get("answer") == b"before"
        # Redis stopped: the cache misses instead of failing.
        assert backend.get("answer") is None
        backend.set("answer", b"during", 60)
        with _redis_server(redis_server_program, port):
            # A new, empty Redis: nothing written during the outage arrived.
            assert backend.get("answer") is None
            backend.set("answer", b"after", 60)
            assert backend.get("answer") == b"after"

    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert "unreachable, answering without it" in messages[0]
    assert messages[1] == f"Cache at {url} reachable again"


def test_api_answers_while_the_cache_is_unreachable(
    client: Any, make_unit: Any, closed_port_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = make_unit("Headquarters", kind="office")
    make_unit("Department A", root, kind="department")
    cache.clear()
    expected_tree = client.get("/api/v1/tree/", HTTP_ACCEPT="application/json")
    expected_units = client.get("/api/v1/units/", HTTP_ACCEPT="application/json")
    unreachable = cache_url.parse(closed_port_url, key_prefix="test")

    with (
        override_settings(CACHES={"default": unreachable}),
        caplog.at_level(logging.WARNING, logger="orgregistry.cache"),
        # Nobody can hold a build lock in a cache that is down: waiting for a builder
        # (CACHE_BUILD_WAIT_SECONDS each request) would be an outage of its own.
        mock.patch("api.answer_cache.time.sleep", side_effect=AssertionError("waited")),
    ):
        # Twice: once trying Redis, once while it is not asked again.
        for _ in range(2):
            tree = client.get("/api/v1/tree/", HTTP_ACCEPT="application/json")
            units = client.get("/api/v1/units/", HTTP_ACCEPT="application/json")

            assert tree.status_code == HTTPStatus.OK
            assert tree.content == expected_tree.content
            assert tree["ETag"] == expected_tree["ETag"]
            assert units.status_code == HTTPStatus.OK
            assert units.json() == expected_units.json()

    [warning] = [record.getMessage() for record in caplog.records]
    assert f"Cache at {closed_port_url} unreachable, answering without it" in warning


# --- Several processes ------------------------------------------------------------


SETUP_SCRIPT = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from units import services
user = get_user_model().objects.create_user(username="cache-editor")
user.groups.add(Group.objects.get(name="Registry editors"))
root = services.unit_create(user=user, reason="Setup", name="Headquarters", kind="office")
services.unit_create(
    user=user, reason="Setup", name="Department A", kind="department", parent=root
)
print(Token.objects.create(user=user).key)
"""


@dataclass(frozen=True)
class Registry:
    """A migrated SQLite registry with two units and an editor's API token."""

    database: Path
    token: str


@pytest.fixture(scope="module")
def registry_template(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """Migrated once per module (with the cache table); each test takes a copy."""
    database = tmp_path_factory.mktemp("registry") / "registry.sqlite3"
    environment = production_environment(
        DATABASE_URL=f"sqlite:///{database}", CACHE_URL=f"db://{CACHE_TABLE}"
    )
    migrated = manage("migrate", "--noinput", environment=environment, timeout=180)
    assert migrated.returncode == 0, migrated.stderr
    setup = manage("shell", "-c", SETUP_SCRIPT, environment=environment)
    assert setup.returncode == 0, setup.stderr
    # The token is the last line (the shell may announce its automatic imports first).
    return Registry(database=database, token=setup.stdout.split()[-1])


@pytest.fixture
def registry(registry_template: Registry, tmp_path: Path) -> Registry:
    database = tmp_path / "registry.sqlite3"
    shutil.copyfile(registry_template.database, database)
    return Registry(database=database, token=registry_template.token)


def _tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        return {name for (name,) in rows}


@pytest.mark.slow
def test_migrate_creates_the_cache_table_every_time_it_runs(
    registry: Registry,
) -> None:
    """A deployment needs no step of its own for CACHE_URL=db://…: migrate does it."""
    assert CACHE_TABLE in _tables(registry.database)  # by the first migrate

    # Again for the existing table (nothing to do), then for a newly named one.
    for table in (CACHE_TABLE, "other_cache"):
        environment = production_environment(
            DATABASE_URL=f"sqlite:///{registry.database}", CACHE_URL=f"db://{table}"
        )
        result = manage("migrate", "--noinput", environment=environment)
        assert result.returncode == 0, result.stderr

    assert {CACHE_TABLE, "other_cache"} <= _tables(registry.database)


@dataclass
class Server:
    base: str
    log: Path

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - localhost
            self.base + path,
            data=data,
            method=method,
            headers=HTTPS
            | headers
            | ({"Content-Type": "application/json"} if data else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


@contextmanager
def _gunicorn(registry: Registry, log: Path, **environment: str) -> Iterator[Server]:
    """The documented production start, one worker, on the given registry."""
    port = _free_port()
    server_environment = production_environment(
        DATABASE_URL=f"sqlite:///{registry.database}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        GUNICORN_ACCESS_LOG="",
        **environment,
    )
    with log.open("w") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=PROJECT_ROOT,
            env=server_environment,
            stdout=log_file,
            stderr=log_file,
        )
    server = Server(base=f"http://127.0.0.1:{port}", log=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.call("GET", "/api/v1/")
                break
            except OSError:
                assert process.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class SharedStore:
    """Where the two servers keep their cache, seen from outside them."""

    url: str
    key_prefix: str
    database: Path

    def answer_keys(self) -> list[str]:
        """The keys of cached answers' bodies (not their ETags, not throttle counters)."""
        if self.url.startswith("redis"):
            import redis

            client = redis.Redis.from_url(self.url)
            keys = [key.decode() for key in client.scan_iter(f"{self.key_prefix}:*")]
            client.close()
        else:
            with sqlite3.connect(self.database) as connection:
                rows = connection.execute(f"SELECT cache_key FROM {CACHE_TABLE}")  # noqa: S608
                keys = [key for (key,) in rows]
        return sorted(
            key for key in keys if ":api-answer:" in key and key.endswith(":body")
        )

    def replace(self, key: str, etag: str, body: bytes) -> None:
        """Overwrite a cached answer, in the backend's own format."""
        answer = Answer(etag, body)
        if self.url.startswith("redis"):
            prefix, version, name = key.split(":", 2)
            backend = _backend(self.url, prefix)
            assert version == "1"
            backend.set(name, answer, 60)
        else:
            stored = base64.b64encode(pickle.dumps(answer)).decode()
            with sqlite3.connect(self.database) as connection:
                updated = connection.execute(
                    f"UPDATE {CACHE_TABLE} SET value = ? WHERE cache_key = ?",  # noqa: S608
                    (stored, key),
                )
                assert updated.rowcount == 1


@pytest.fixture(params=["redis", "db"])
def shared_store(request: pytest.FixtureRequest, registry: Registry) -> SharedStore:
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        return SharedStore(url=REDIS_URL, key_prefix=prefix, database=registry.database)
    return SharedStore(
        url=f"db://{CACHE_TABLE}", key_prefix="shared", database=registry.database
    )


def _names(tree: list[dict[str, Any]]) -> set[str]:
    return {node["name"] for node in tree} | {
        name for node in tree for name in _names(node.get("children", []))
    }


@pytest.mark.slow
def test_two_processes_share_one_cached_answer_and_a_write_refreshes_both(
    registry: Registry, shared_store: SharedStore, tmp_path: Path
) -> None:
    cache_environment = {
        "CACHE_URL": shared_store.url,
        "CACHE_KEY_PREFIX": shared_store.key_prefix,
    }
    with (
        _gunicorn(registry, tmp_path / "first.log", **cache_environment) as first,
        _gunicorn(registry, tmp_path / "second.log", **cache_environment) as second,
    ):
        status, headers, built = first.call("GET", "/api/v1/tree/")
        assert status == HTTPStatus.OK, built[:2000]
        assert _names(json.loads(built)) == {"Headquarters", "Department A"}
        etag = headers["ETag"]
        # The first process stored its answer where the second can see it.
        [key] = shared_store.answer_keys()

        # Change the stored bytes: a process that built the answer itself would send
        # the tree; one that reads the shared cache sends exactly these.
        marker = b'{"served_from":"the shared cache"}'
        shared_store.replace(key, etag, marker)
        for server in (second, first):
            status, headers, body = server.call("GET", "/api/v1/tree/")
            assert (status, body) == (HTTPStatus.OK, marker)
            assert headers["ETag"] == etag
        assert shared_store.answer_keys() == [key]

        # A write through one process makes both answer the new state.
        status, _, created = second.call(
            "POST",
            "/api/v1/units/",
            {
                "name": "Department B",
                "kind": "department",
                "parent": json.loads(built)[0]["slug"],
                "reason": "A second department",
            },
            Authorization=f"Token {registry.token}",
        )
        assert status == HTTPStatus.CREATED, created[:2000]
        status, headers, fresh = first.call("GET", "/api/v1/tree/")
        assert status == HTTPStatus.OK
        assert _names(json.loads(fresh)) == {
            "Headquarters",
            "Department A",
            "Department B",
        }
        assert headers["ETag"] != etag
        status, second_headers, from_second = second.call("GET", "/api/v1/tree/")
        assert (status, from_second) == (HTTPStatus.OK, fresh)
        assert second_headers["ETag"] == headers["ETag"]
        # The new answer replaced the old one: one entry per request shape.
        assert shared_store.answer_keys() == [key]


@pytest.mark.slow
def test_production_server_answers_while_redis_is_unreachable(
    registry: Registry, closed_port_url: str, tmp_path: Path
) -> None:
    with _gunicorn(
        registry, tmp_path / "server.log", CACHE_URL=closed_port_url
    ) as server:
        for _ in range(2):
            status, _, body = server.call("GET", "/api/v1/tree/")
            assert status == HTTPStatus.OK, body[:2000]
            assert _names(json.loads(body)) == {"Headquarters", "Department A"}

    log = server.log.read_text()
    assert log.count("unreachable, answering without it") == 1, log[-3000:]


def test_one_worker_builds_an_answer_while_others_wait_through_redis(
    redis_prefix: str,
) -> None:
    """Two workers miss the same answer at once: one builds, the other waits for it.

    Threads stand for worker processes: each has its own cache backend (Django keeps
    one per thread), and the build lock lives in Redis, where every worker sees it.
    """
    import threading

    from api import answer_cache

    started, release = threading.Event(), threading.Event()
    builds: list[str] = []
    answers: dict[str, answer_cache.Answer] = {}

    def build() -> bytes:
        builds.append(threading.current_thread().name)
        started.set()
        release.wait(60)
        return b'["built once"]'

    def worker() -> None:
        answers[threading.current_thread().name] = answer_cache.build_once(
            "api-answer:shared", '"g1-x"', build
        )

    with override_settings(
        CACHES={"default": cache_url.parse(REDIS_URL, key_prefix=redis_prefix)},
        CACHE_BUILD_WAIT_SECONDS=60,
    ):
        first = threading.Thread(target=worker, name="first")
        first.start()
        assert started.wait(60)
        second = threading.Thread(target=worker, name="second")
        second.start()
        release.set()
        first.join(60)
        second.join(60)
        stored = answer_cache.stored("api-answer:shared", '"g1-x"')

    assert builds == ["first"]
    assert answers["first"] == answers["second"] == stored
    assert stored == answer_cache.Answer('"g1-x"', b'["built once"]')

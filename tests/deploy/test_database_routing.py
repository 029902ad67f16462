"""Reads go to replicas, writes and a writer's next reads to the primary.

The replica is ``test_replica``: a second alias on the test database (Django's test
mirror, settings.py), named in DATABASE_READ_REPLICAS by the ``replica`` fixture. Which
alias answered is told by the queries each connection ran. The request tests commit
(``transaction=True``): a second connection sees only committed rows.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from orgregistry.database_routing import (
    READ_PRIMARY_COOKIE,
    ReadRoutingMiddleware,
    ReplicaRouter,
    current_read_alias,
)
from tests.api.test_api import EDITOR_PERMISSIONS, grant
from tests.deploy.test_deploy import production_settings
from units import services
from units.models import OrganizationalUnit, UnitKind

REPLICA = "test_replica"
API = "/api/v1/"
BOTH = [DEFAULT_DB_ALIAS, REPLICA]


@pytest.fixture
def replica(settings: Any) -> str:
    settings.DATABASE_READ_REPLICAS = [REPLICA]
    cache.clear()
    return REPLICA


def routed(request: HttpRequest, during: Any = None) -> tuple[str, list[str]]:
    """Where ``request``'s reads of units go, before and after ``during`` runs."""
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(ReplicaRouter().db_for_read(OrganizationalUnit))
        if during is not None:
            during()
            seen.append(ReplicaRouter().db_for_read(OrganizationalUnit))
        return HttpResponse("ok")

    ReadRoutingMiddleware(view)(request)
    return seen[0], seen[1:]


# --- The router's decisions -------------------------------------------------------------


def test_outside_a_request_everything_is_on_the_primary(replica: str) -> None:
    router = ReplicaRouter()
    assert router.db_for_read(OrganizationalUnit) == DEFAULT_DB_ALIAS
    assert router.db_for_write(OrganizationalUnit) == DEFAULT_DB_ALIAS
    assert current_read_alias() == DEFAULT_DB_ALIAS


def test_a_read_request_reads_the_replica(replica: str, rf: RequestFactory) -> None:
    assert routed(rf.get("/units/")) == (REPLICA, [])
    assert routed(rf.head("/api/v1/tree/")) == (REPLICA, [])


def test_a_read_request_reads_the_primary_once_it_wrote(
    replica: str, rf: RequestFactory
) -> None:
    def write() -> None:
        ReplicaRouter().db_for_write(OrganizationalUnit)

    assert routed(rf.get("/units/"), during=write) == (REPLICA, [DEFAULT_DB_ALIAS])


def test_bookkeeping_tables_are_read_and_written_on_the_primary(
    replica: str, rf: RequestFactory
) -> None:
    def bookkeeping() -> None:
        router = ReplicaRouter()
        assert router.db_for_read(Session) == DEFAULT_DB_ALIAS
        assert router.db_for_write(Session) == DEFAULT_DB_ALIAS

    # A session or throttle counter written does not send the registry's reads away.
    assert routed(rf.get("/units/"), during=bookkeeping) == (REPLICA, [REPLICA])


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_a_write_request_reads_the_primary(
    replica: str, rf: RequestFactory, method: str
) -> None:
    assert routed(getattr(rf, method)("/api/v1/units/")) == (DEFAULT_DB_ALIAS, [])


def test_a_token_client_reads_the_primary(replica: str, rf: RequestFactory) -> None:
    request = rf.get("/api/v1/units/", HTTP_AUTHORIZATION="Token abc")
    assert routed(request) == (DEFAULT_DB_ALIAS, [])


def test_without_replicas_the_router_keeps_everything_on_the_primary(
    settings: Any, rf: RequestFactory
) -> None:
    settings.DATABASE_READ_REPLICAS = []
    assert routed(rf.get("/units/")) == (DEFAULT_DB_ALIAS, [])


def test_the_replicas_are_never_migrated(replica: str) -> None:
    router = ReplicaRouter()
    assert router.allow_migrate(REPLICA, "units") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "units") is None


# --- The cookie that follows a write ----------------------------------------------------


def written(rf: RequestFactory) -> HttpResponse:
    """The answer to a request that wrote."""

    def view(request: HttpRequest) -> HttpResponse:
        ReplicaRouter().db_for_write(OrganizationalUnit)
        return HttpResponse("ok")

    return ReadRoutingMiddleware(view)(rf.get("/units/"))


def test_a_write_marks_the_client_for_the_read_after_write_window(
    replica: str, rf: RequestFactory, settings: Any
) -> None:
    settings.READ_AFTER_WRITE_SECONDS = 7
    cookie = written(rf).cookies[READ_PRIMARY_COOKIE]
    assert cookie["max-age"] == 7
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    following = rf.get("/units/")
    following.COOKIES[READ_PRIMARY_COOKIE] = cookie.value
    assert routed(following) == (DEFAULT_DB_ALIAS, [])


def test_a_read_that_wrote_nothing_sets_no_cookie(
    replica: str, rf: RequestFactory
) -> None:
    response = ReadRoutingMiddleware(lambda request: HttpResponse("ok"))(
        rf.get("/units/")
    )
    assert READ_PRIMARY_COOKIE not in response.cookies


def test_a_forged_or_expired_cookie_reads_the_replica(
    replica: str, rf: RequestFactory, settings: Any
) -> None:
    cookie = written(rf).cookies[READ_PRIMARY_COOKIE].value
    forged = rf.get("/units/")
    forged.COOKIES[READ_PRIMARY_COOKIE] = "1"
    assert routed(forged) == (REPLICA, [])
    settings.READ_AFTER_WRITE_SECONDS = -1  # the signed time is now past the window
    expired = rf.get("/units/")
    expired.COOKIES[READ_PRIMARY_COOKIE] = cookie
    assert routed(expired) == (REPLICA, [])


# --- Through whole requests, on two connections -----------------------------------------


@contextmanager
def queries_by_alias() -> Iterator[dict[str, CaptureQueriesContext]]:
    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in BOTH}
    for context in captured.values():
        context.__enter__()
    try:
        yield captured
    finally:
        for context in captured.values():
            context.__exit__(None, None, None)


def unit_queries(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if "units_" in q["sql"]]


@pytest.fixture
def registry(editor: User) -> OrganizationalUnit:
    return services.unit_create(
        user=editor, reason="Founded", name="Head Office", kind=UnitKind.OFFICE
    )


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_an_anonymous_api_read_is_answered_from_the_replica(
    replica: str, registry: OrganizationalUnit
) -> None:
    with queries_by_alias() as queries:
        response = Client().get(f"{API}units/")
    assert response.status_code == HTTPStatus.OK
    assert [unit["name"] for unit in response.json()["results"]] == ["Head Office"]
    assert unit_queries(queries[REPLICA])
    assert not unit_queries(queries[DEFAULT_DB_ALIAS])


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_an_anonymous_page_is_answered_from_the_replica(
    replica: str, registry: OrganizationalUnit
) -> None:
    with queries_by_alias() as queries:
        response = Client().get(f"/units/{registry.slug}/")
    assert response.status_code == HTTPStatus.OK
    assert unit_queries(queries[REPLICA])
    assert not unit_queries(queries[DEFAULT_DB_ALIAS])


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_an_editor_reads_the_primary_after_writing_then_the_replica_again(
    replica: str, registry: OrganizationalUnit, editor: User, settings: Any
) -> None:
    client = Client()
    client.force_login(grant(editor, *EDITOR_PERMISSIONS))
    with queries_by_alias() as queries:
        response = client.patch(
            f"{API}units/{registry.slug}/",
            {"name": "Main Office", "reason": "Renamed"},
            content_type="application/json",
        )
    assert response.status_code == HTTPStatus.OK, response.content
    assert unit_queries(queries[DEFAULT_DB_ALIAS])
    assert not unit_queries(queries[REPLICA])
    assert READ_PRIMARY_COOKIE in response.cookies

    with queries_by_alias() as queries:
        read = client.get(f"{API}units/{registry.slug}/")
    assert read.json()["name"] == "Main Office"
    assert unit_queries(queries[DEFAULT_DB_ALIAS])
    assert not unit_queries(queries[REPLICA])

    # Once the window has passed, the editor's reads go to the replica again.
    settings.READ_AFTER_WRITE_SECONDS = -1
    with queries_by_alias() as queries:
        again = client.get(f"{API}units/{registry.slug}/")
    assert again.status_code == HTTPStatus.OK
    assert unit_queries(queries[REPLICA])
    assert not unit_queries(queries[DEFAULT_DB_ALIAS])


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_a_token_client_reads_its_write_from_the_primary(
    replica: str, registry: OrganizationalUnit, editor: User
) -> None:
    token = Token.objects.create(user=grant(editor, *EDITOR_PERMISSIONS))
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    with queries_by_alias() as queries:
        response = client.get(f"{API}units/{registry.slug}/")
    assert response.status_code == HTTPStatus.OK
    assert unit_queries(queries[DEFAULT_DB_ALIAS])
    assert not unit_queries(queries[REPLICA])


# --- Settings -------------------------------------------------------------------------


def test_replica_urls_become_aliases_with_the_primarys_settings() -> None:
    aliases = production_settings(
        "[s.DATABASE_READ_REPLICAS, {a: [d['HOST'], d['CONN_MAX_AGE'], "
        "d['OPTIONS'].get('options'), d['TEST']['MIRROR']] "
        "for a, d in s.DATABASES.items()}]",
        DATABASE_REPLICA_URLS="postgres://registry@replica-1.internal:5432/orgregistry,"
        " postgres://registry@replica-2.internal:5432/orgregistry",
    )
    same = [60, "-c cursor_tuple_fraction=1"]
    assert aliases == [
        ["replica_1", "replica_2"],
        {
            "default": ["db.internal", *same, None],
            "replica_1": ["replica-1.internal", *same, "default"],
            "replica_2": ["replica-2.internal", *same, "default"],
        },
    ]
    assert production_settings("s.DATABASE_READ_REPLICAS") == []


def test_a_replica_of_another_kind_of_database_is_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError) as refused:
        production_settings("1", DATABASE_REPLICA_URLS="sqlite:////tmp/other.sqlite3")
    assert "replica 1 is not a database of the same kind" in refused.value.stderr

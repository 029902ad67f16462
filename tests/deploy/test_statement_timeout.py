"""Anonymous reads on PostgreSQL stop after ANONYMOUS_STATEMENT_TIMEOUT_MS: a 503.

The reads that sleep are in ``slow_read_urls``. The tests commit (``transactional_db``)
because SET LOCAL would otherwise outlive the request in the test's own transaction.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from orgregistry.statement_timeout import is_anonymous_read

pytestmark = [
    pytest.mark.urls("tests.deploy.slow_read_urls"),
]
TIMED_OUT = "This read took longer than the 0.05 s an anonymous request may use"


@pytest.fixture
def postgres(transactional_db: None, settings: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no statement timeout")
    settings.ANONYMOUS_STATEMENT_TIMEOUT_MS = 50


def timeout_now() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@pytest.mark.postgres_only
@pytest.mark.parametrize("path", ["/api/v1/slow-read/", "/api/v1/slow-api-read/"])
def test_an_anonymous_api_read_over_the_timeout_is_a_503_in_json(
    postgres: None, client: Client, path: str
) -> None:
    response = client.get(path, {"seconds": "2"})

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["code"] == "statement_timeout"
    assert response.json()["detail"].startswith(TIMED_OUT)
    assert response["Retry-After"] == "30"
    # SET LOCAL ended with the request's transaction: the connection is unlimited.
    assert timeout_now() == "0"


@pytest.mark.postgres_only
def test_an_anonymous_page_over_the_timeout_is_a_503_in_plain_text(
    postgres: None, client: Client
) -> None:
    response = client.get("/slow-read/", {"seconds": "2"})

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith(TIMED_OUT)


@pytest.mark.postgres_only
def test_an_anonymous_read_within_the_timeout_is_answered(
    postgres: None, client: Client
) -> None:
    assert client.get("/slow-read/", {"seconds": "0"}).status_code == HTTPStatus.OK
    response = client.get("/api/v1/units/")
    assert response.status_code == HTTPStatus.OK
    assert timeout_now() == "0"


@pytest.mark.postgres_only
def test_a_signed_in_editor_is_not_limited(
    postgres: None, client: Client, editor: User
) -> None:
    client.force_login(editor)
    response = client.get("/slow-read/", {"seconds": "0.2"})
    assert response.status_code == HTTPStatus.OK


@pytest.mark.postgres_only
def test_an_api_token_client_is_not_limited(postgres: None, client: Client) -> None:
    response = client.get(
        "/api/v1/slow-read/", {"seconds": "0.2"}, HTTP_AUTHORIZATION="Token x"
    )
    assert response.status_code == HTTPStatus.OK


@pytest.mark.postgres_only
def test_a_token_header_on_a_page_does_not_lift_the_limit(
    postgres: None, client: Client
) -> None:
    response = client.get("/slow-read/", {"seconds": "2"}, HTTP_AUTHORIZATION="Token x")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE


@pytest.mark.postgres_only
def test_writes_are_not_limited(postgres: None, client: Client) -> None:
    response = client.post("/slow-read/?seconds=0.2")
    assert response.status_code == HTTPStatus.OK


@pytest.mark.postgres_only
def test_a_timeout_of_zero_turns_the_limit_off(
    postgres: None, client: Client, settings: Any
) -> None:
    settings.ANONYMOUS_STATEMENT_TIMEOUT_MS = 0
    response = client.get("/slow-read/", {"seconds": "0.2"})
    assert response.status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_on_sqlite_anonymous_reads_are_answered_as_before(
    client: Client, settings: Any
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL tests above cover PostgreSQL")
    settings.ANONYMOUS_STATEMENT_TIMEOUT_MS = 50
    assert client.get("/api/v1/units/").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("method", "path", "headers", "anonymous"),
    [
        ("GET", "/api/v1/units/", {}, True),
        ("HEAD", "/", {}, True),
        ("POST", "/api/v1/units/", {}, False),
        ("GET", "/api/v1/units/", {"HTTP_AUTHORIZATION": "Token x"}, False),
        ("GET", "/units/", {"HTTP_AUTHORIZATION": "Token x"}, True),
    ],
)
def test_which_requests_are_anonymous_reads(
    rf: Any, method: str, path: str, headers: dict[str, str], anonymous: bool
) -> None:
    from django.contrib.auth.models import AnonymousUser

    request = rf.generic(method, path, **headers)
    request.user = AnonymousUser()
    assert is_anonymous_read(request) is anonymous


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, databases=["default", "test_replica"])
def test_the_timeout_holds_on_the_replica_the_read_goes_to(
    client: Client, settings: Any
) -> None:
    from django.db import connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no statement timeout")
    settings.ANONYMOUS_STATEMENT_TIMEOUT_MS = 50
    settings.DATABASE_READ_REPLICAS = ["test_replica"]
    response = client.get("/slow-read/", {"seconds": "2"})

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    with connections["test_replica"].cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"

"""CORS: another site's script may read the public data, never write or read a write.

(Issue 16.) Reads of the API, the change feed and the exports, and the preflights
for them, carry ``Access-Control-Allow-Origin``; writes, the preflights for writes and
the site's own pages carry no CORS header at all, and no answer allows credentials.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.test_api import EDITOR_PERMISSIONS, grant
from units.models import OrganizationalUnit

API = "/api/v1/"
ELSEWHERE = "https://app.elsewhere.example"
CORS_HEADERS = {
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
}

PUBLIC_READS = [
    API,
    f"{API}tree/",
    f"{API}units/",
    f"{API}units/head-office/",
    f"{API}changes/",
    f"{API}changes.atom",
    f"{API}export/units.csv",
    f"{API}export/units.xlsx",
    f"{API}export/org.jsonld",
    f"{API}export/popolo.json",
    f"{API}export/snapshot.zip",
    f"{API}schema/",
    "/chart/download.svg",
]


@pytest.fixture
def head_office(make_unit) -> OrganizationalUnit:
    return make_unit("Head Office", slug="head-office")


@pytest.fixture
def token_client(editor) -> APIClient:
    """An editor with a token, as another site's script would hold one."""
    token = Token.objects.create(user=grant(editor, *EDITOR_PERMISSIONS))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def cors_headers(response) -> set[str]:
    return {name for name in CORS_HEADERS if name in response}


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_a_cross_origin_read_of_public_data_may_be_read_by_any_site(
    head_office, path: str
) -> None:
    response = APIClient().get(path, HTTP_ORIGIN=ELSEWHERE)

    assert response.status_code == HTTPStatus.OK, path
    assert response["Access-Control-Allow-Origin"] == "*"
    assert (
        response["Access-Control-Expose-Headers"]
        == "ETag, Retry-After, Registry-Known-At"
    )
    assert "Access-Control-Allow-Credentials" not in response


def test_head_and_plain_options_are_reads_too(head_office) -> None:
    client = APIClient()
    head = client.head(f"{API}units/", HTTP_ORIGIN=ELSEWHERE)
    options = client.options(f"{API}units/", HTTP_ORIGIN=ELSEWHERE)

    assert head.status_code == HTTPStatus.OK
    assert head["Access-Control-Allow-Origin"] == "*"
    assert options.status_code == HTTPStatus.OK
    assert options["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("method", ["GET", "HEAD", "get"])
def test_the_preflight_for_a_read_allows_it(head_office, method: str) -> None:
    response = APIClient().options(
        f"{API}units/head-office/",
        HTTP_ORIGIN=ELSEWHERE,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
    )

    assert response.status_code == HTTPStatus.OK
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    # If-None-Match may be sent; Authorization (a token) may not.
    assert response["Access-Control-Allow-Headers"] == (
        "accept, accept-language, if-none-match"
    )
    assert "Access-Control-Allow-Credentials" not in response


def test_a_conditional_read_from_another_site_gets_its_304_with_cors(
    head_office,
) -> None:
    client = APIClient()
    first = client.get(f"{API}units/head-office/", HTTP_ORIGIN=ELSEWHERE)

    again = client.get(
        f"{API}units/head-office/",
        HTTP_ORIGIN=ELSEWHERE,
        HTTP_IF_NONE_MATCH=first["ETag"],
    )

    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_the_preflight_for_a_write_gets_no_cors_header(
    head_office, method: str
) -> None:
    response = APIClient().options(
        f"{API}units/head-office/",
        HTTP_ORIGIN=ELSEWHERE,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )

    assert cors_headers(response) == set()


def test_a_write_from_another_site_gets_no_cors_header(
    head_office, token_client: APIClient
) -> None:
    created = token_client.post(
        f"{API}units/",
        {"name": "Data Office", "kind": "office", "reason": "New office"},
        format="json",
        HTTP_ORIGIN=ELSEWHERE,
    )
    changed = token_client.patch(
        f"{API}units/head-office/",
        {"short_name": "HO", "reason": "Short name given"},
        format="json",
        HTTP_ORIGIN=ELSEWHERE,
    )
    refused = APIClient().post(
        f"{API}units/",
        {"name": "Anonymous Office", "kind": "office", "reason": "Try"},
        format="json",
        HTTP_ORIGIN=ELSEWHERE,
    )

    # The server still answers a token write (CORS is the browser's rule), but no
    # script on another site may read what it answered.
    assert created.status_code == HTTPStatus.CREATED
    assert changed.status_code == HTTPStatus.OK
    assert refused.status_code == HTTPStatus.FORBIDDEN
    for response in (created, changed, refused):
        assert cors_headers(response) == set()


def test_the_sites_pages_and_the_admin_get_no_cors_header(head_office) -> None:
    client = APIClient()
    for path in ("/", "/units/head-office/", "/chart/", "/admin/login/"):
        response = client.get(path, HTTP_ORIGIN=ELSEWHERE)
        assert response.status_code == HTTPStatus.OK, path
        assert cors_headers(response) == set(), path


def test_a_same_origin_read_gets_no_cors_header(head_office) -> None:
    response = APIClient().get(f"{API}units/")

    assert response.status_code == HTTPStatus.OK
    assert cors_headers(response) == set()


@override_settings(
    CORS_ALLOW_ALL_ORIGINS=False, CORS_ALLOWED_ORIGINS=["https://app.example.org"]
)
def test_only_the_configured_origins_may_read_when_some_are_named(
    head_office,
) -> None:
    client = APIClient()
    named = client.get(f"{API}units/", HTTP_ORIGIN="https://app.example.org")
    other = client.get(f"{API}units/", HTTP_ORIGIN=ELSEWHERE)

    assert named["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "origin" in named["Vary"].lower()
    assert "Access-Control-Allow-Credentials" not in named
    assert cors_headers(other) == set()

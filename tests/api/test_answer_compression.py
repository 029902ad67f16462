"""Large answers go gzip-compressed to the clients that take them: compressed once for
all of them, the same answer under a weak form of its ETag, never a planned read's."""

from __future__ import annotations

import gzip
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client, RequestFactory

from api import answer_cache
from api.conditional import takes_gzip
from tests.conftest import at
from tests.factories import UnitFactory
from units import services
from units.models import OrganizationalUnit

API = "/api/v1/"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.fixture
def alpha(editor: User) -> OrganizationalUnit:
    unit: OrganizationalUnit = UnitFactory.create(
        name="Alpha", effective_at=at("2010-01-01"), user=editor
    )
    for number in range(3):
        UnitFactory.create(
            name=f"Sub-unit {number}",
            parent=unit,
            mandate="Keeps the records of the organization. " * 20,
            effective_at=at("2010-01-01"),
            user=editor,
        )
    return unit


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["tree/", "tree/?as_of=2015-01-01", "units/alpha/tree/", "export/units.csv"],
)
def test_a_client_that_takes_gzip_gets_the_same_answer_compressed(
    client: Client, alpha: OrganizationalUnit, path: str
) -> None:
    plain = client.get(f"{API}{path}")
    compressed = client.get(f"{API}{path}", headers=GZIP)

    assert compressed.status_code == HTTPStatus.OK
    assert compressed["Content-Encoding"] == "gzip"
    assert compressed["Content-Type"] == plain["Content-Type"]
    assert gzip.decompress(compressed.content) == plain.content
    assert len(compressed.content) < len(plain.content)
    assert compressed["ETag"] == f"W/{plain['ETag']}"
    for response in (plain, compressed):
        assert "Accept-Encoding" in response["Vary"]
    assert not plain.has_header("Content-Encoding")


@pytest.mark.django_db
def test_the_weak_tag_of_a_compressed_answer_gets_304(
    client: Client, alpha: OrganizationalUnit
) -> None:
    etag = client.get(f"{API}tree/", headers=GZIP)["ETag"]

    again = client.get(f"{API}tree/", headers={**GZIP, "If-None-Match": etag})
    plain_client = client.get(f"{API}tree/", HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again["ETag"] == etag
    assert "Accept-Encoding" in again["Vary"]
    # The same answer, sent as it is: the tag matches by weak comparison.
    assert plain_client.status_code == HTTPStatus.NOT_MODIFIED
    assert plain_client["ETag"] == etag.removeprefix("W/")


@pytest.mark.django_db
def test_a_large_answer_is_compressed_once_for_all_the_clients_that_take_it(
    client: Client, alpha: OrganizationalUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer_cache, "GZIP_KEEP_MIN_BYTES", 100)
    with mock.patch.object(
        answer_cache, "compress", wraps=answer_cache.compress
    ) as compress:
        first = client.get(f"{API}tree/", headers=GZIP)
        second = client.get(f"{API}tree/", headers=GZIP)

    assert compress.call_count == 1
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]


@pytest.mark.django_db
def test_a_small_answer_is_compressed_for_each_client_and_not_kept(
    client: Client, alpha: OrganizationalUnit
) -> None:
    before = set(cache._cache)  # type: ignore[attr-defined]
    response = client.get(f"{API}tree/", headers=GZIP)

    assert response["Content-Encoding"] == "gzip"
    added = set(cache._cache) - before  # type: ignore[attr-defined]
    assert not [key for key in added if "api-gzip" in key]


@pytest.mark.django_db
def test_while_another_request_compresses_the_answer_goes_as_it_is(
    client: Client, alpha: OrganizationalUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer_cache, "GZIP_KEEP_MIN_BYTES", 100)
    plain = client.get(f"{API}tree/")
    key = f"api-gzip:{answer_cache.digest(plain['ETag'])}"
    cache.add(f"{key}:building", "another request", 60)

    response = client.get(f"{API}tree/", headers=GZIP)

    assert response.status_code == HTTPStatus.OK
    assert not response.has_header("Content-Encoding")
    assert response.content == plain.content
    assert cache.get(key) is None


@pytest.mark.django_db
def test_a_write_makes_a_new_compressed_answer(
    client: Client,
    alpha: OrganizationalUnit,
    editor: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(answer_cache, "GZIP_KEEP_MIN_BYTES", 100)
    before = client.get(f"{API}tree/", headers=GZIP)
    services.unit_update(unit=alpha.pk, user=editor, reason="Renamed", name="Omega")

    after = client.get(f"{API}tree/", headers=GZIP)

    assert after["ETag"] != before["ETag"]
    assert b"Omega" in gzip.decompress(after.content)
    assert b"Omega" not in gzip.decompress(before.content)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("export/snapshot.zip", "*/*"),
        ("units/?format=api", "*/*"),
        ("tree/", "application/json; indent=2"),
    ],
)
def test_answers_already_compressed_or_rendered_per_request_go_as_they_are(
    client: Client, alpha: OrganizationalUnit, path: str, accept: str
) -> None:
    response = client.get(f"{API}{path}", headers={**GZIP, "Accept": accept})

    assert response.status_code == HTTPStatus.OK
    assert not response.has_header("Content-Encoding")


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip", True),
        ("GZIP;q=0.5", True),
        ("br, gzip;q=1.0, deflate", True),
        ("x-gzip", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("br, deflate", False),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_says_whether_the_client_takes_gzip(
    header: str, takes: bool
) -> None:
    request: Any = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=header)

    assert takes_gzip(request) is takes

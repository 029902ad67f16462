"""Issue 16: every link the API emits is absolute, as its ``next`` links always were.

Units' ``url`` fields were paths while paging links were absolute; a client following
either now gets the same kind of address, with the host it asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.test_api import EDITOR_PERMISSIONS, grant
from tests.conftest import ScriptedHistory

API = "/api/v1/"
HOST = "registry.example.org"
ORIGIN = f"http://{HOST}"


@pytest.fixture(autouse=True)
def _our_host(settings: Any) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]


def links(data: Any) -> Iterator[tuple[str, str]]:
    """Every ``url``, ``next`` and ``previous`` value in an answer, however nested."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in {"url", "next", "previous"} and value is not None:
                yield key, value
            else:
                yield from links(value)
    elif isinstance(data, list):
        for item in data:
            yield from links(item)


@pytest.mark.parametrize(
    "path",
    [
        "tree/",
        "tree/?as_of=2023-01-01",
        "units/?limit=2&offset=1",
        "units/unit-x/",
        "units/unit-x/?as_of=2021-06-01",
        "units/department-b/tree/",
        "units/department-b/tree/?as_of=2023-01-01",
        "units/department-b/children/",
        "units/unit-x/ancestors/",
        "units/unit-x/history/?limit=1",
        "people/?limit=1",
        "changes/?limit=2",
        "search/?q=e&limit=3",
    ],
)
def test_every_link_of_a_read_is_absolute(
    scripted_history: ScriptedHistory, path: str
) -> None:
    response = APIClient().get(f"{API}{path}", HTTP_HOST=HOST)

    assert response.status_code == HTTPStatus.OK
    found = list(links(response.json()))
    assert found, "the answer should carry links"
    for key, value in found:
        assert value.startswith(f"{ORIGIN}/api/v1/"), (key, value)


def test_a_units_url_leads_to_the_unit(scripted_history: ScriptedHistory) -> None:
    client = APIClient()
    unit = client.get(f"{API}units/unit-x/").json()

    assert unit["url"] == "http://testserver/api/v1/units/unit-x/"
    assert client.get(unit["url"]).json()["slug"] == "unit-x"


def test_the_same_read_on_another_host_names_that_host(
    scripted_history: ScriptedHistory,
) -> None:
    """Cached answers are keyed on the host, so one host's links never reach another."""
    client = APIClient()
    first = client.get(f"{API}tree/").json()
    second = client.get(f"{API}tree/", HTTP_HOST=HOST).json()

    assert first[0]["url"].startswith("http://testserver/")
    assert second[0]["url"].startswith(f"{ORIGIN}/")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("units/", {"name": "Data Office", "kind": "office", "reason": "New"}),
        ("posts/", {"title": "Analyst", "unit": "unit-y", "reason": "New post"}),
        ("people/", {"full_name": "Cleo Ndiaye", "reason": "New person"}),
    ],
)
def test_a_created_objects_location_is_absolute(
    scripted_history: ScriptedHistory, editor, path: str, body: dict[str, Any]
) -> None:
    client = APIClient()
    client.force_login(grant(editor, *EDITOR_PERMISSIONS))

    response = client.post(f"{API}{path}", body, format="json", HTTP_HOST=HOST)

    assert response.status_code == HTTPStatus.CREATED
    assert response["Location"].startswith(f"{ORIGIN}/api/v1/{path}")
    assert client.get(response["Location"]).status_code == HTTPStatus.OK
    for _key, value in links(response.json()):
        assert value.startswith(f"{ORIGIN}/")


def test_writes_on_units_answer_absolute_urls(
    scripted_history: ScriptedHistory, editor
) -> None:
    client = APIClient()
    client.force_login(grant(editor, *EDITOR_PERMISSIONS))

    moved = client.post(
        f"{API}units/unit-y/move/", {"parent": "hq", "reason": "Up"}, format="json"
    )
    abolished = client.post(
        f"{API}units/abolish/", {"units": ["unit-y"], "reason": "Cut"}, format="json"
    )

    assert moved.json()["url"] == "http://testserver/api/v1/units/unit-y/"
    assert abolished.json()[0]["url"] == "http://testserver/api/v1/units/unit-y/"

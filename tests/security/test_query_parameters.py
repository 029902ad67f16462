"""Issue 12, item 5: a NUL or a byte that is not UTF-8 in any query parameter.

PostgreSQL refuses a string holding NUL, so ``/posts/?unit=%00`` and the API's
``posts/?unit=%00`` were server errors there; ``%FF`` Django reads as U+FFFD, so a page
answered a question nobody asked. Every parameter of every page (walked from the URL
conf, with the parameters each page reads recorded as it reads them) and of every GET
operation of the API (walked from the OpenAPI schema) gets both, and must answer a 400
that names the parameter. Run on PostgreSQL too: that is where NUL was a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from orgregistry.query_string import refused_parameter
from tests.conftest import ScriptedHistory
from tests.factories import (
    RelationshipFactory,
    absorbed_unit,
    scheduled_reorganization,
)
from units.models import Reorganization, UnitRelationship, UnitSuccession

API = "/api/v1/"
# Percent-encoded, as they arrive: a NUL, and a byte that starts no UTF-8 character.
BAD_VALUES = {"NUL": "a%00b", "not UTF-8": "%FF"}


@pytest.fixture
def registry(scripted_history: ScriptedHistory) -> ScriptedHistory:
    RelationshipFactory.create(
        source=scripted_history.unit_x, target=scripted_history.unit_y
    )
    scheduled_reorganization(scripted_history.unit_x)
    absorbed_unit(scripted_history.unit_x)
    return scripted_history


def assert_refused(response: Any, name: str, *, api: bool) -> None:
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content[:300]
    if api:
        (message,) = response.json().values()
        assert set(response.json()) == {name}
    else:
        assert response["Content-Type"].startswith("text/plain")
        message = response.content.decode()
    assert f"The query parameter “{name}”" in message
    assert "NUL character" in message or "not UTF-8 text" in message


# --- Pages, from the URL conf ------------------------------------------------------------


def page_patterns(
    entries: list[Any] | None = None, namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """The public pages: every route outside the API and the admin, with the name
    it is reversed by (``units:structure``, or ``favicon`` outside a namespace),
    also those inside the pages' language prefix (i18n_patterns' own resolver)."""
    for entry in get_resolver().url_patterns if entries is None else entries:
        if isinstance(entry, URLResolver):
            if entry.namespace in {"api", "admin"}:
                continue
            inner = f"{entry.namespace}:" if entry.namespace else namespace
            yield from page_patterns(entry.url_patterns, inner)
        else:
            yield namespace + str(entry.name), entry


PAGES = [name for name, _ in page_patterns()]


def page_address(name: str, history: ScriptedHistory) -> str:
    """The page's address filled with what exists (a unit, a chart format)."""
    pattern = dict(page_patterns())[name]
    samples = {"slug": history.unit_x.slug, "file_format": "svg"}
    kwargs = {argument: samples[argument] for argument in pattern.pattern.converters}
    return reverse(name, kwargs=kwargs)


class RecordingQueryDict(QueryDict):
    """Notes the name of every parameter a view (or its template) asks for."""

    asked: set[str] = set()  # one set per test, reset by parameters_read

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def getlist(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().getlist(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.asked.add(key)
        return super().__contains__(key)


def parameters_read(client: Client, url: str, monkeypatch: pytest.MonkeyPatch) -> set:
    """The names of the query parameters a page reads, seen as it reads them."""
    RecordingQueryDict.asked = set()
    with monkeypatch.context() as patch:
        patch.setattr("django.core.handlers.wsgi.QueryDict", RecordingQueryDict)
        # A page, or a redirect to one (/favicon.ico to the icon).
        assert client.get(url).status_code in {HTTPStatus.OK, HTTPStatus.FOUND}
    return set(RecordingQueryDict.asked)


def test_the_walk_finds_every_public_page() -> None:
    pages = {"structure", "posts", "people", "chart", "search", "compare"}
    assert {f"units:{page}" for page in pages} | {"favicon"} <= set(PAGES)


@pytest.mark.django_db
def test_the_recorder_sees_the_slug_filters_that_were_500s(
    client: Client, registry: ScriptedHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The known cases must be among the parameters the walk sends NUL to."""
    read = {
        name: parameters_read(
            client, page_address(f"units:{name}", registry), monkeypatch
        )
        for name in ("posts", "people", "chart")
    }
    assert "unit" in read["posts"]
    assert "person" in read["people"]
    assert "root" in read["chart"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_every_parameter_a_page_reads_refuses_nul_and_non_utf8_with_a_400(
    client: Client,
    registry: ScriptedHistory,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    bad: str,
) -> None:
    url = page_address(name, registry)
    parameters = parameters_read(client, url, monkeypatch) | {"unread"}
    for parameter in sorted(parameters):
        response = client.get(f"{url}?{quote(parameter)}={bad}")
        assert_refused(response, parameter, api=False)
        # Beside a good parameter, and in a parameter's name.
        response = client.get(f"{url}?as_of=2024-01-01&{quote(parameter)}={bad}")
        assert_refused(response, parameter, api=False)
    response = client.get(f"{url}?{bad}=1")
    assert response.status_code == HTTPStatus.BAD_REQUEST


# --- The API, from the OpenAPI schema ----------------------------------------------------


def schema_get_operations(client: Client) -> list[tuple[str, list[str]]]:
    """Each GET operation's path and the names of its query parameters."""
    schema = client.get(f"{API}schema/", {"format": "json"}).json()
    return [
        (
            path,
            [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"],
        )
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method == "get"
    ]


SIGNED_IN_READS = {f"{API}token/"}


def api_address(path: str, history: ScriptedHistory) -> str:
    appointment = history.head_of_x.appointments.first()
    relationship = UnitRelationship.objects.first()
    reorganization = Reorganization.objects.get()
    assert appointment is not None and relationship is not None
    samples: dict[str, dict[str, object]] = {
        "{slug}": {
            "units": history.unit_x.slug,
            "posts": history.head_of_x.slug,
            "people": history.ana.slug,
        },
        "{id}": {
            "appointments": appointment.pk,
            "relationships": relationship.pk,
            "reorganizations": reorganization.pk,
            "operations": reorganization.operations.get().pk,
            "lineage": UnitSuccession.objects.values_list("pk", flat=True)[0],
        },
        "{history_id}": {
            kind: recorded.history.values_list("history_id", flat=True)[0]
            for kind, recorded in (
                ("units", history.unit_x),
                ("posts", history.head_of_x),
                ("people", history.ana),
                ("appointments", appointment),
                ("relationships", relationship),
                ("lineage", UnitSuccession.objects.get()),
            )
        },
    }
    kind = path.removeprefix(API).split("/")[0]
    for placeholder, values in samples.items():
        path = path.replace(placeholder, str(values.get(kind, placeholder)))
    assert "{" not in path, path
    return path


@pytest.mark.django_db
def test_the_schema_walk_covers_the_known_cases(client: Client) -> None:
    operations = dict(schema_get_operations(client))
    assert "unit" in operations[f"{API}posts/"]
    assert {"post", "person"} <= set(operations[f"{API}appointments/"])
    assert "unit" in operations[f"{API}relationships/"]
    assert len(operations) >= 15


@pytest.mark.django_db
@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_every_query_parameter_of_every_api_read_refuses_nul_and_non_utf8(
    client: Client, registry: ScriptedHistory, editor: User, bad: str
) -> None:
    signed_in = Client()
    signed_in.force_login(editor)
    for path, parameters in schema_get_operations(client):
        url = api_address(path, registry)
        # One's own API token is read signed in; every other read is open to anyone.
        caller = signed_in if path in SIGNED_IN_READS else client
        assert caller.get(url).status_code == HTTPStatus.OK, url
        for parameter in [*parameters, "unread"]:
            response = caller.get(f"{url}?{parameter}={bad}")
            assert_refused(response, parameter, api=True)


@pytest.mark.django_db
def test_a_nul_in_a_write_endpoints_query_is_refused_before_the_write(
    client: Client, registry: ScriptedHistory
) -> None:
    response = client.post(
        f"{API}units/?as_of=%00", {}, content_type="application/json"
    )
    assert_refused(response, "as_of", api=True)


# --- What the check lets through ---------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        b"",
        b"q=caf%C3%A9",
        b"q=caf\xc3\xa9",
        b"q=%EF%BF%BD",
        b"a=1&&b=2&flag",
        b"q=50%25+off",
        b"q=%zz",
    ],
)
def test_ordinary_and_merely_odd_query_strings_pass(query: bytes) -> None:
    assert refused_parameter(query) is None


@pytest.mark.parametrize(
    ("query", "name"),
    [
        (b"unit=%00", "unit"),
        (b"a=1&unit=x%00y", "unit"),
        (b"un%00it=x", "un\\x00it"),
        (b"q=%FF", "q"),
        (b"q=\xff", "q"),
        (b"q=%C3", "q"),
        (b"q=%ED%A0%80", "q"),
        (b"%FF=1", "\ufffd"),
    ],
)
def test_nul_and_non_utf8_are_named(query: bytes, name: str) -> None:
    refused = refused_parameter(query)
    assert refused is not None
    assert refused[0] == name
    assert f"“{name}”" in refused[1]


@pytest.mark.django_db
def test_a_page_with_good_parameters_still_answers(
    client: Client, registry: ScriptedHistory
) -> None:
    response = client.get("/posts/", {"unit": registry.unit_x.slug})
    assert response.status_code == HTTPStatus.OK
    response = client.get(f"{API}posts/", {"q": "Héad"})
    assert response.status_code == HTTPStatus.OK

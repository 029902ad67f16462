"""Issue 12, item 12: a method an endpoint does not offer is a 405, for everyone.

DRF checks permissions before it looks for the method's handler, so a PUT or DELETE
used to be a 403 ("you may not") to an editor, a CSRF refusal to a signed-in browser,
when the truth is "no such operation here". Every endpoint of the API is walked from
the URL conf, as an editor signed in through the session (CSRF checks on, as in a
browser), with an editor's token, and anonymously.
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from tests.conftest import ScriptedHistory
from tests.factories import (
    RelationshipFactory,
    absorbed_unit,
    scheduled_reorganization,
)
from units.models import Reorganization, UnitRelationship, UnitSuccession

METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
# The one DELETE of the API: a signed-in person revoking their own token.
# And taking an operation out of a draft reorganization (a plan, not the registry).
DELETE_OFFERED = {"token", "operation-detail"}


def api_patterns() -> Iterator[URLPattern]:
    """Every route of the API namespace, from the URL conf."""
    (api,) = (
        resolver
        for resolver in get_resolver().url_patterns
        if getattr(resolver, "namespace", None) == "api"
    )
    assert isinstance(api, URLResolver), api
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern), pattern
        yield pattern


API_ROUTES = [pattern.name for pattern in api_patterns()]


def address(name: str, history: ScriptedHistory) -> str:
    """The route filled with objects that exist, so a handler would find them."""
    pattern = next(pattern for pattern in api_patterns() if pattern.name == name)
    arguments = pattern.pattern.converters
    if not arguments:
        return reverse(f"api:{name}")
    appointment = history.head_of_x.appointments.first()
    relationship = UnitRelationship.objects.first()
    reorganization = Reorganization.objects.first()
    assert appointment is not None and relationship is not None
    assert reorganization is not None
    values: dict[str, dict[str, Any]] = {
        "reorganization": {"pk": reorganization.pk},
        "operation": {"pk": reorganization.operations.get().pk},
        "unit": {"slug": history.unit_x.slug},
        "post": {"slug": history.head_of_x.slug},
        "person": {"slug": history.ana.slug},
        "appointment": {"pk": appointment.pk},
        "relationship": {"pk": relationship.pk},
        "lineage": {"pk": UnitSuccession.objects.values_list("pk", flat=True)[0]},
    }
    for kind, recorded in (
        ("unit", history.unit_x),
        ("post", history.head_of_x),
        ("person", history.ana),
        ("appointment", appointment),
        ("relationship", relationship),
        ("lineage", UnitSuccession.objects.get()),
    ):
        values[f"{kind}-version"] = {
            **values[kind],
            "history_id": recorded.history.values_list("history_id", flat=True)[0],
        }
    kind = name if name in values else name.split("-")[0]
    return reverse(f"api:{name}", kwargs=values[kind])


def offered(client: Client, url: str) -> set[str]:
    """The methods the endpoint answers, from its ``Allow`` header on OPTIONS/GET."""
    response = client.options(url)
    assert response.status_code in {HTTPStatus.OK, HTTPStatus.METHOD_NOT_ALLOWED}
    if "Allow" not in response:
        response = client.get(url)
    return {method.strip() for method in response["Allow"].split(",")}


@pytest.fixture
def registry(scripted_history: ScriptedHistory) -> ScriptedHistory:
    """The scripted history with a dotted line and a lineage link, so every kind of
    object exists."""
    RelationshipFactory.create(
        source=scripted_history.unit_x, target=scripted_history.unit_y
    )
    scheduled_reorganization(scripted_history.unit_x)
    absorbed_unit(scripted_history.unit_x)
    return scripted_history


@pytest.fixture
def editor_session(editor: User, registry: ScriptedHistory) -> Client:
    editor.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="units")
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    return client


@pytest.fixture
def editor_token_client(editor: User, registry: ScriptedHistory) -> Client:
    editor.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="units")
    )
    token = Token.objects.create(user=editor).key
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token}")


@pytest.fixture(params=["anonymous", "editor_session", "editor_token_client"])
def some_client(request: pytest.FixtureRequest, registry: ScriptedHistory) -> Client:
    if request.param == "anonymous":
        return Client(enforce_csrf_checks=True)
    return request.getfixturevalue(request.param)


def test_the_walk_covers_the_api() -> None:
    assert {"unit-list", "unit-detail", "changes-atom", "export-csv", "schema"} <= set(
        API_ROUTES
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", API_ROUTES)
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "POST"])
def test_a_method_the_endpoint_does_not_offer_is_405_with_allow(
    some_client: Client, registry: ScriptedHistory, name: str, method: str
) -> None:
    url = address(name, registry)
    allowed = offered(Client(), url)
    if method in allowed:
        pytest.skip(f"{name} offers {method}")

    response = some_client.generic(method, url)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED, response.content
    shown = {item.strip() for item in response["Allow"].split(",")}
    assert method not in shown
    assert shown == allowed
    assert "GET" in shown or "POST" in shown


@pytest.mark.django_db
@pytest.mark.parametrize("name", API_ROUTES)
def test_every_endpoint_offers_what_it_answers_and_nothing_more(
    registry: ScriptedHistory, name: str
) -> None:
    """PUT exists nowhere in the API, DELETE only to revoke one's own token (nothing
    in the registry is deleted); the Allow header says so."""
    allowed = offered(Client(), address(name, registry))
    assert allowed <= set(METHODS)
    assert "PUT" not in allowed
    assert ("DELETE" in allowed) == (name in DELETE_OFFERED)


@pytest.mark.django_db
def test_a_405_refusal_changes_nothing(
    editor_token_client: Client, registry: ScriptedHistory
) -> None:
    url = address("unit-detail", registry)
    before = editor_token_client.get(url).json()

    response = editor_token_client.delete(url)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert "DELETE" in response.json()["detail"]
    assert editor_token_client.get(url).json() == before

"""Issue 16: a signed-in person makes and revokes their own API token.

The endpoint takes a browser session with its CSRF token, never a token; the key is
shown once, in the answer that makes it.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

TOKEN = "/api/v1/token/"
PAGE = "/api/v1/token/manage/"


@pytest.fixture
def person(db: None) -> User:
    """Anyone with an account: no staff status or permission is needed."""
    return get_user_model().objects.create_user(username="reader", password="x" * 12)


@pytest.fixture
def session(person: User) -> Client:
    """A signed-in browser, with CSRF checks on as in a real one."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    return client


def csrf_token(client: Client) -> str:
    """The CSRF token a page hands the browser (the token page's form field)."""
    response = client.get(PAGE)
    assert response.status_code == HTTPStatus.OK
    return str(response.context["csrf_token"])


def test_a_signed_in_person_creates_a_token_that_authenticates(
    session: Client, person: User
) -> None:
    response = session.post(TOKEN, HTTP_X_CSRFTOKEN=csrf_token(session))

    assert response.status_code == HTTPStatus.CREATED
    key = response.json()["key"]
    assert Token.objects.get(user=person).key == key
    assert response["Cache-Control"] == "no-store"
    me = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert me.get("/api/v1/units/").status_code == HTTPStatus.OK


def test_the_key_is_shown_once_and_never_read_back(
    session: Client, person: User
) -> None:
    key = session.post(TOKEN, HTTP_X_CSRFTOKEN=csrf_token(session)).json()["key"]

    state = session.get(TOKEN)
    page = session.get(PAGE)

    assert state.status_code == HTTPStatus.OK
    assert state.json()["exists"] is True
    assert state.json()["created"]
    assert key not in state.content.decode()
    assert key not in page.content.decode()
    assert "You have a token" in page.content.decode()


def test_a_new_token_replaces_the_old_one(session: Client, person: User) -> None:
    csrf = csrf_token(session)
    first = session.post(TOKEN, HTTP_X_CSRFTOKEN=csrf).json()["key"]

    second = session.post(TOKEN, HTTP_X_CSRFTOKEN=csrf).json()["key"]

    assert first != second
    assert list(Token.objects.filter(user=person).values_list("key", flat=True)) == [
        second
    ]
    refused = Client(HTTP_AUTHORIZATION=f"Token {first}").get("/api/v1/units/")
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json()["detail"] == "Invalid token."


def test_revoking_stops_the_token_working(session: Client, person: User) -> None:
    csrf = csrf_token(session)
    key = session.post(TOKEN, HTTP_X_CSRFTOKEN=csrf).json()["key"]

    response = session.delete(TOKEN, HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not Token.objects.filter(user=person).exists()
    assert session.get(TOKEN).json() == {"exists": False, "created": None}
    refused = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/units/")
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json()["detail"] == "Invalid token."
    # Revoking again is no error: there is nothing left to revoke.
    assert session.delete(TOKEN, HTTP_X_CSRFTOKEN=csrf).status_code == 204


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_anonymous_callers_are_refused(db: None, method: str) -> None:
    response = getattr(Client(), method)(TOKEN)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Token.objects.exists()


@pytest.mark.parametrize("method", ["post", "delete"])
def test_a_session_write_without_its_csrf_token_is_refused(
    session: Client, person: User, method: str
) -> None:
    existing = Token.objects.create(user=person)

    response = getattr(session, method)(TOKEN)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "CSRF" in response.json()["detail"]
    assert list(Token.objects.values_list("key", flat=True)) == [existing.key]


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_a_token_cannot_manage_tokens(person: User, method: str) -> None:
    """So a leaked token can neither replace itself nor lock its owner out."""
    existing = Token.objects.create(user=person)
    client = Client(HTTP_AUTHORIZATION=f"Token {existing.key}")

    response = getattr(client, method)(TOKEN)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert list(Token.objects.values_list("key", flat=True)) == [existing.key]


def test_the_page_asks_an_anonymous_visitor_to_sign_in(db: None) -> None:
    response = Client().get(PAGE)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


def test_the_page_is_linked_for_signed_in_people_only(
    session: Client, db: None
) -> None:
    assert PAGE in session.get("/").content.decode()
    assert PAGE not in Client().get("/").content.decode()


def test_the_page_offers_the_endpoint_and_its_script(session: Client) -> None:
    page = session.get(PAGE).content.decode()

    assert f'data-token-url="{TOKEN}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert "units/token" in page
    assert "You have no token." in page


def test_the_endpoint_is_in_the_schema(db: None) -> None:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    operations = schema["paths"]["/api/v1/token/"]

    assert {"get", "post", "delete"} <= set(operations)
    for operation in ("get", "post", "delete"):
        assert "403" in operations[operation]["responses"]
    assert operations["post"]["responses"]["201"]

"""Bad input and abuse: API throttling, admin login lockout, request size limits.

Each protection is exercised through the real entry point (the API views, Django's
admin login view with django-axes, Django's request parsing) with the test client.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils.module_loading import import_string
from rest_framework.throttling import AnonRateThrottle

from tests.conftest import ScriptedHistory
from units.models import OrganizationalUnit

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/units/"
LOGIN = "/admin/login/?next=/admin/"
EDITOR_PASSWORD = "editor-pass-123"  # tests/conftest.py's editor
ANONYMOUS_LIMIT = 5


@pytest.fixture
def small_anonymous_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget a test can exhaust quickly; the mechanism is the configured one."""
    monkeypatch.setattr(
        AnonRateThrottle, "THROTTLE_RATES", {"anon": f"{ANONYMOUS_LIMIT}/minute"}
    )


def use_up_anonymous_budget(client: Client, **headers: Any) -> None:
    for _ in range(ANONYMOUS_LIMIT):
        assert client.get(UNITS, **headers).status_code == HTTPStatus.OK


# --- Anonymous API throttling -----------------------------------------------------------


def test_configured_anonymous_rate_is_a_real_limit() -> None:
    # The settings module's dict mixes value types, so mypy sees its values as objects.
    rest_framework: dict[str, Any] = settings.REST_FRAMEWORK
    rate = rest_framework["DEFAULT_THROTTLE_RATES"]["anon"]
    requests, seconds = AnonRateThrottle().parse_rate(rate)
    assert requests is not None
    assert 0 < requests <= 10_000
    assert seconds is not None
    assert seconds >= 1
    # DRF's anonymous throttle, counting in the shared "throttle" cache.
    assert any(
        issubclass(import_string(path), AnonRateThrottle)
        for path in rest_framework["DEFAULT_THROTTLE_CLASSES"]
    )


def test_anonymous_api_use_is_throttled_with_retry_after(
    scripted_history: ScriptedHistory, small_anonymous_rate: None
) -> None:
    client = Client()
    use_up_anonymous_budget(client)

    response = client.get(UNITS)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Request was throttled" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_a_spoofed_forwarded_for_header_does_not_reset_the_budget(
    scripted_history: ScriptedHistory, small_anonymous_rate: None
) -> None:
    client = Client()
    use_up_anonymous_budget(client)

    for number in range(3):
        response = client.get(UNITS, HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_each_address_has_its_own_budget(
    scripted_history: ScriptedHistory, small_anonymous_rate: None
) -> None:
    use_up_anonymous_budget(Client(REMOTE_ADDR="198.51.100.1"))

    assert Client(REMOTE_ADDR="198.51.100.1").get(UNITS).status_code == (
        HTTPStatus.TOO_MANY_REQUESTS
    )
    assert Client(REMOTE_ADDR="198.51.100.2").get(UNITS).status_code == HTTPStatus.OK


def test_signed_in_users_are_not_throttled_as_anonymous(
    scripted_history: ScriptedHistory,
    small_anonymous_rate: None,
    editor: User,
) -> None:
    client = Client()
    use_up_anonymous_budget(client)
    client.force_login(editor)

    for _ in range(ANONYMOUS_LIMIT * 2):
        assert client.get(UNITS).status_code == HTTPStatus.OK


# --- Admin login lockout ----------------------------------------------------------------


def failed_login(client: Client, username: str = "editor", **headers: Any) -> Any:
    return client.post(
        LOGIN, {"username": username, "password": "not-the-password"}, **headers
    )


def login(client: Client, **headers: Any) -> Any:
    return client.post(
        LOGIN, {"username": "editor", "password": EDITOR_PASSWORD}, **headers
    )


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_admin_login_locks_out_after_repeated_failures(
    editor: User,
) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = failed_login(client)
        assert response.status_code == HTTPStatus.OK
        assert "Please enter the correct username and password" in (
            response.content.decode()
        )

    locked = failed_login(client)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "locked" in locked.content.decode().lower()

    # Now even the right password is refused from this address.
    response = login(client)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not is_signed_in(client)
    editor.refresh_from_db()
    assert editor.last_login is None
    attempt = AccessAttempt.objects.get(username="editor")
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
    assert attempt.ip_address == "192.0.2.10"


def test_lockout_is_not_evaded_by_a_spoofed_forwarded_for_header(
    editor: User,
) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    for number in range(settings.AXES_FAILURE_LIMIT):
        failed_login(client, HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")

    response = login(client, HTTP_X_FORWARDED_FOR="203.0.113.200")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not is_signed_in(client)


def test_lockout_of_one_address_does_not_lock_the_user_out_everywhere(
    editor: User,
) -> None:
    attacker = Client(REMOTE_ADDR="192.0.2.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        failed_login(attacker)

    colleague = Client(REMOTE_ADDR="192.0.2.10")
    response = login(colleague)

    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(colleague)


def test_a_success_before_the_limit_resets_the_failure_count(
    editor: User,
) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        failed_login(client)
    assert login(client).status_code == HTTPStatus.FOUND
    client.logout()

    # The count started again: one more failure does not lock the account.
    assert failed_login(client).status_code == HTTPStatus.OK
    assert login(client).status_code == HTTPStatus.FOUND


# --- Request size limits ----------------------------------------------------------------


def test_an_oversized_form_post_is_refused_with_400(editor: User) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = client.post(
        LOGIN, {"username": "editor", "password": EDITOR_PASSWORD, "note": padding}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(client)


def test_a_post_with_too_many_fields_is_refused_with_400(
    editor: User,
) -> None:
    fields = {f"field{number}": "1" for number in range(1_100)}

    response = Client().post(
        LOGIN, {"username": "editor", "password": EDITOR_PASSWORD, **fields}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_an_oversized_api_body_is_refused_and_changes_nothing(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    editor.user_permissions.add(
        Permission.objects.get(codename="change_organizationalunit")
    )
    client = Client()
    client.force_login(get_user_model().objects.get(pk=editor.pk))
    unit = OrganizationalUnit.objects.get(slug="unit-y")
    revisions = OrganizationalUnit.history.count()
    body = json.dumps(
        {
            "reason": "Huge mandate",
            "mandate": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        }
    )

    response = client.patch(f"{UNITS}unit-y/", body, content_type="application/json")

    # Django refuses the body (RequestDataTooBig) before any parsing or writing.
    assert response.status_code == HTTPStatus.BAD_REQUEST
    unit.refresh_from_db()
    assert unit.mandate == ""
    assert OrganizationalUnit.history.count() == revisions


# --- Behind a reverse proxy (PROXY_COUNT=1) ---------------------------------------------

PROXY = "10.0.0.2"


def behind_one_proxy() -> Any:
    """The settings PROXY_COUNT=1 produces (see test_deploy for the environment)."""
    from django.test import override_settings

    return override_settings(
        PROXY_COUNT=1, REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    )


def test_behind_a_proxy_the_lockout_is_per_client_not_per_proxy(
    editor: User,
) -> None:
    with behind_one_proxy():
        proxied = Client(REMOTE_ADDR=PROXY)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            # A client-written entry before the proxy's own proves nothing.
            failed_login(proxied, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.66")
        assert (
            login(proxied, HTTP_X_FORWARDED_FOR="198.51.100.66").status_code
            == HTTPStatus.TOO_MANY_REQUESTS
        )

        colleague = Client(REMOTE_ADDR=PROXY)
        response = login(colleague, HTTP_X_FORWARDED_FOR="198.51.100.10")
        assert response.status_code == HTTPStatus.FOUND
        assert is_signed_in(colleague)


def test_behind_a_proxy_throttling_is_per_client_not_per_proxy(
    scripted_history: ScriptedHistory, small_anonymous_rate: None
) -> None:
    with behind_one_proxy():
        client = Client(REMOTE_ADDR=PROXY)
        use_up_anonymous_budget(client, HTTP_X_FORWARDED_FOR="198.51.100.66")
        throttled = client.get(UNITS, HTTP_X_FORWARDED_FOR="198.51.100.66")
        other = client.get(UNITS, HTTP_X_FORWARDED_FOR="198.51.100.10")

    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert other.status_code == HTTPStatus.OK

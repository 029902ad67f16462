"""Property-based run of the OpenAPI schema against the API: no request yields a 500.

Every answer must also conform to the schema, so the published contract cannot drift.

Schemathesis generates requests for every operation from the schema drf-spectacular
publishes (valid and invalid parameters, bodies and headers) and sends them in-process
through Django's WSGI application, against the scripted history. Writes are sent with an
editor's token so that they reach the services, not just the permission check. A few
examples per operation keep the whole run well under two minutes.

On PostgreSQL only the fuzzing phase runs (the same examples as on SQLite), not
schemathesis's coverage phase, its deterministic boundary and negative cases for every
parameter: that phase was some 85% of the run (52 s of calls against 9 s without it,
measured alone), and every query on PostgreSQL is a round trip to another process, which
made the run five times as long there as on SQLite in CI. The cases are the same on both
databases and SQLite runs them all. What only PostgreSQL refuses, a NUL character, is
sent there deterministically instead: in every query parameter of every read
(tests/security/test_query_parameters.py) and in every field of every write that is not
a stored text, which DRF refuses NUL in (tests/security/test_control_characters.py);
paths take slugs and ids by converter.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
# No server error, and every answer is one the schema documents (status, type, shape).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
if connection.vendor == "postgresql":
    # The coverage phase's cases run on SQLite (see above).
    schema.config.phases.coverage.enabled = False


@pytest.fixture
def editor_token(editor, scripted_history) -> str:
    editor.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="units")
    )
    return Token.objects.create(user=editor).key


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Like Django's test client: the in-process WSGI calls must not close the
    connection that holds the test's transaction (PostgreSQL would lose it)."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of anonymous requests a minute are the point here, not abuse."""
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "allow_request", lambda *args: True)
    cache.clear()


# Schemathesis sends requests' default Accept-Encoding (gzip) through a WSGI client
# that, unlike an HTTP client, does not decode the answer; compression has its own
# tests (tests/api/test_answer_compression.py). Here the answers are read as sent.
AS_SENT = {"Accept-Encoding": "identity"}


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.slow
def test_no_request_yields_a_server_error(case, editor_token):
    case.call_and_validate(
        headers={**AS_SENT, "Authorization": f"Token {editor_token}"},
        checks=CHECKS,
    )


@schema.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_anonymous_request_yields_a_server_error(case, scripted_history):
    case.call_and_validate(headers=AS_SENT, checks=CHECKS)

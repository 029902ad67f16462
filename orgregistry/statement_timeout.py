"""A statement timeout for anonymous reads on PostgreSQL, answered with a clear 503.

Anyone may read the registry, so no anonymous request may hold a worker and a database
connection for as long as it likes: every read by a client that is neither signed in
nor sending an API token runs in a transaction whose statements PostgreSQL stops after
``ANONYMOUS_STATEMENT_TIMEOUT_MS`` (``SET LOCAL``: it ends with the transaction, so a
pooled connection, PgBouncer's included, never carries it to the next request). Editors'
writes and signed-in reads are not limited. SQLite has no such setting: there, and with
the setting at 0, nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from orgregistry.database_routing import SAFE_METHODS, current_read_alias

# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout (or by hand).
QUERY_CANCELED = "57014"
# Where the request keeps the alias whose transaction the timeout is set in.
_TIMED_ALIAS = "_anonymous_statement_timeout_alias"
# How long a client is asked to wait before trying again (seconds).
RETRY_AFTER = 30


def is_anonymous_read(request: HttpRequest) -> bool:
    """A read by a client that is not signed in and sends no API token.

    A request with an ``Authorization`` header is left alone: the API refuses a wrong
    token before it reads anything, and the pages read no header at all.
    """
    if request.method not in SAFE_METHODS:
        return False
    if request.META.get("HTTP_AUTHORIZATION") and request.path.startswith("/api/"):
        return False
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated


def statement_timed_out(exception: BaseException) -> bool:
    cause = exception.__cause__
    return isinstance(exception, OperationalError) and (
        getattr(cause, "sqlstate", None) == QUERY_CANCELED
        or getattr(cause, "pgcode", None) == QUERY_CANCELED
    )


def timed_out_response(request: HttpRequest) -> HttpResponse:
    seconds = settings.ANONYMOUS_STATEMENT_TIMEOUT_MS / 1000
    message = (
        f"This read took longer than the {seconds:g} s an anonymous request may use "
        "and was stopped. Try again later, ask for less (a smaller page, a shorter "
        "window of changes), or sign in."
    )
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": message, "code": "statement_timeout"},
            status=HTTPStatus.SERVICE_UNAVAILABLE,
        )
    else:
        response = HttpResponse(
            message,
            status=HTTPStatus.SERVICE_UNAVAILABLE,
            content_type="text/plain; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER)
    return response


class AnonymousReadTimeoutMiddleware:
    """Runs an anonymous read in a transaction with ``SET LOCAL statement_timeout``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timeout = settings.ANONYMOUS_STATEMENT_TIMEOUT_MS
        if timeout <= 0 or not is_anonymous_read(request):
            return self.get_response(request)
        # The database this request reads (a replica, or the primary), as routed.
        alias = current_read_alias()
        connection = connections[alias]
        if connection.vendor != "postgresql":
            return self.get_response(request)
        with transaction.atomic(using=alias):
            with connection.cursor() as cursor:
                # set_config(…, true) is SET LOCAL with the value as a parameter.
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [str(timeout)]
                )
            setattr(request, _TIMED_ALIAS, alias)
            response = self.get_response(request)
            if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
                # A failed statement may have aborted the transaction: roll it back.
                transaction.set_rollback(True, using=alias)
            return response

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        alias = getattr(request, _TIMED_ALIAS, None)
        if alias is None or not statement_timed_out(exception):
            return None
        # The cancelled statement aborted the transaction: end it by rolling back.
        transaction.set_rollback(True, using=alias)
        return timed_out_response(request)

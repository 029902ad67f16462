"""Reads from PostgreSQL replicas, writes and read-your-writes on the primary.

``DATABASE_REPLICA_URLS`` names streaming replicas of the primary (``DATABASE_URL``);
without it every query goes to the primary and nothing here changes what runs. With
it, a request that only reads picks one replica for all its reads, so its answer comes
from one copy of the registry. Everything else reads the primary:

- a request that writes (any method but GET, HEAD and OPTIONS), and a read request from
  the moment it writes something (``db_for_write`` notes it);
- for ``READ_AFTER_WRITE_SECONDS`` after a write, the same browser or client: the write's
  answer carries a signed cookie, so the page shown after saving, or the API read after
  a PATCH, sees the write although the replicas replay it a moment later;
- requests with an ``Authorization`` header (API tokens: scripts that write and read
  back, often without keeping cookies);
- reads of the registry as planned (a future ``as_of``, a preview): they apply the
  scheduled reorganizations in a transaction that is rolled back
  (``orgregistry.planned_reads``), which only the primary accepts. Those writes are
  undone, so they do not mark the client as having written (``writes_undone``);
- code outside a request (management commands, the worker), and the bookkeeping tables
  (sessions, the database cache, login lockouts), which are read to be written.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, models
from django.http import HttpRequest, HttpResponse

# The cookie that sends a client's reads to the primary for a while after it wrote.
READ_PRIMARY_COOKIE = "orgregistry_read_primary"
_COOKIE_SALT = "orgregistry.database_routing"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Read to be written in the same request (a session, a throttle counter, a lockout),
# so always on the primary; and not a write of the registry (no cookie for it).
BOOKKEEPING_APPS = frozenset({"sessions", "django_cache", "axes"})


@dataclass(slots=True)
class RequestRouting:
    """Where the reads of the request being answered go, and whether it wrote."""

    read_alias: str
    wrote: bool = False


_current: contextvars.ContextVar[RequestRouting | None] = contextvars.ContextVar(
    "orgregistry_request_routing", default=None
)


def replica_aliases() -> list[str]:
    """The database aliases of the replicas (settings.DATABASE_READ_REPLICAS)."""
    return list(getattr(settings, "DATABASE_READ_REPLICAS", []))


def reads_primary(request: HttpRequest) -> bool:
    """Whether this request must read what the primary holds, not a replica's copy."""
    if request.method not in SAFE_METHODS:
        return True
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    if may_read_as_planned(request):
        return True
    return (
        request.get_signed_cookie(
            READ_PRIMARY_COOKIE,
            default=None,
            salt=_COOKIE_SALT,
            max_age=settings.READ_AFTER_WRITE_SECONDS,
        )
        is not None
    )


class ReplicaRouter:
    """Django's database router: replicas for the reads a request may take there."""

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str:
        routing = _current.get()
        if (
            routing is None
            or routing.wrote
            or model._meta.app_label in BOOKKEEPING_APPS
        ):
            return DEFAULT_DB_ALIAS
        return routing.read_alias

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str:
        routing = _current.get()
        if routing is not None and model._meta.app_label not in BOOKKEEPING_APPS:
            # From here on this request reads what it wrote: on the primary.
            routing.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(
        self, obj1: models.Model, obj2: models.Model, **hints: Any
    ) -> bool:
        # Every alias holds the same registry: objects read anywhere may be related.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # Replicas receive the schema from the primary; they are read-only.
        return False if db in replica_aliases() else None


class ReadRoutingMiddleware:
    """Chooses where a request's reads go and marks a client that wrote."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        replicas = replica_aliases()
        if not replicas:
            return self.get_response(request)
        routing = RequestRouting(
            read_alias=DEFAULT_DB_ALIAS
            if reads_primary(request)
            else random.choice(replicas)  # noqa: S311 - spreading load, not a secret
        )
        token = _current.set(routing)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        wrote = routing.wrote or (
            request.method not in SAFE_METHODS and response.status_code < 400
        )
        if wrote:
            response.set_signed_cookie(
                READ_PRIMARY_COOKIE,
                "1",
                salt=_COOKIE_SALT,
                max_age=settings.READ_AFTER_WRITE_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def may_read_as_planned(request: HttpRequest) -> bool:
    """Whether the request may read the registry as planned (it is then answered on
    the primary): it asks for a future instant, or for a preview."""
    from orgregistry.planned_reads import planned_instant

    return "preview" in request.GET or planned_instant(request) is not None


@contextlib.contextmanager
def writes_undone() -> Iterator[None]:
    """Within: reads on the primary (the registry as planned is written there), and
    the writes are rolled back, so the client did not write (no cookie for them)."""
    routing = _current.get()
    if routing is None:
        yield
        return
    alias, wrote = routing.read_alias, routing.wrote
    routing.read_alias = DEFAULT_DB_ALIAS
    try:
        yield
    finally:
        routing.read_alias, routing.wrote = alias, wrote


def current_read_alias() -> str:
    """The alias the registry's reads go to at this point of the current request."""
    routing = _current.get()
    if routing is None or routing.wrote:
        return DEFAULT_DB_ALIAS
    return routing.read_alias

"""``known_at`` on every read: the registry as it had been recorded by an instant.

Every GET or HEAD of a page, the API, an export, the feed or the chart may carry
``?known_at=`` beside ``as_of``: the answer is then built only from the revisions
recorded by that instant (``units.selectors.as_of.reading_as_known_at``), so it is what
the registry said at that time, corrections recorded since left out. The view runs
unchanged inside that context: the selectors read history instead of the live tables
(``reading_instant``) and filter history by ``recorded_at`` (``recorded_by``).

The value reads as ``as_of`` does (``parse_instant``: a date is the end of that day,
UTC). Refused with a 400, as a malformed ``as_of`` is:

- a malformed value;
- an instant before the registry's first record (nothing was known then).

The API answers ``{"detail": ..., "code": "invalid_instant"}``; a page shows the
message over the registry as known now, with status 400 (as for ``as_of``); any other
read a plain-text 400. A ``known_at`` at or after now is now: everything recorded is
known, and the read is an ordinary one (a date of today means the end of today, so
"as recorded on <today>" is simply today's registry). The admin edits the registry as
it stands and ignores the parameter.

An answer read as known at a past instant never changes: nothing recorded later can
enter it (``api.conditional`` tags and caches it so). Streaming answers are read as
they are sent, each step inside the same context.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from orgregistry.database_routing import SAFE_METHODS
from orgregistry.query_string import refused_parameter
from orgregistry.reorganizations import reads_registry
from units.dates import day_text
from units.selectors import (
    InvalidInstant,
    first_recorded_at,
    parse_instant,
    reading_as_known_at,
)

PARAMETER = "known_at"
# Says which ``known_at`` an answer was read as of (ISO 8601, UTC).
KNOWN_AT_HEADER = "Registry-Known-At"


@dataclass(slots=True)
class KnownAt:
    """The request's ``known_at``: ``when`` None for now; ``problem`` if refused."""

    raw: str = ""
    when: datetime.datetime | None = None
    problem: str = ""
    # Set by a page that showed ``problem`` itself (with its own 400).
    shown: bool = False


def read_known_at(raw: str) -> KnownAt:
    """Read a ``known_at`` value: its instant (None for now or later), or a problem."""
    raw = raw.strip()
    if not raw:
        return KnownAt()
    try:
        when = parse_instant(raw, parameter=PARAMETER)
    except InvalidInstant as error:
        return KnownAt(raw=raw, problem=str(error))
    if when >= timezone.now():
        # Everything recorded so far is known: the registry as it stands.
        return KnownAt(raw=raw)
    first = first_recorded_at()
    if first is not None and when < first:
        return KnownAt(
            raw=raw,
            problem=_(
                "known_at: the registry's first record was made on %(first)s; nothing "
                "was recorded by %(asked)s. Give an instant on or after %(first)s."
            )
            % {"first": day_text(first.date()), "asked": day_text(when.date())},
        )
    return KnownAt(raw=raw, when=when)


def request_known_at(request: HttpRequest) -> KnownAt:
    """What the middleware read of the request's ``known_at`` (nothing: now)."""
    found = getattr(request, "known_at", None)
    return found if isinstance(found, KnownAt) else KnownAt()


def _within(chunks: Iterable[bytes], when: datetime.datetime) -> Iterator[bytes]:
    """A streaming answer's chunks, each read as known at ``when``."""
    iterator = iter(chunks)
    while True:
        with reading_as_known_at(when):
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


class KnownAtMiddleware:
    """Run every read inside ``reading_as_known_at`` its ``known_at`` names."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method not in SAFE_METHODS
            or PARAMETER not in request.GET
            or request.path.startswith("/admin/")
            or not reads_registry(request)
            or refused_parameter(
                request.META.get("QUERY_STRING", "").encode("iso-8859-1", "replace")
            )
        ):
            # Nothing to read as known then; or a parameter no query takes, which
            # QueryStringMiddleware.process_view refuses with its own 400.
            return self.get_response(request)
        known_at = read_known_at(request.GET.get(PARAMETER, ""))
        request.known_at = known_at  # type: ignore[attr-defined]
        if known_at.problem:
            return self._refused(request, known_at)
        if known_at.when is None:
            return self.get_response(request)
        with reading_as_known_at(known_at.when):
            response = self.get_response(request)
            if hasattr(response, "render") and not getattr(
                response, "is_rendered", True
            ):
                response.render()
        if response.streaming:
            response.streaming_content = _within(  # type: ignore[attr-defined]
                response.streaming_content,  # type: ignore[attr-defined]
                known_at.when,
            )
        response[KNOWN_AT_HEADER] = known_at.when.isoformat().replace("+00:00", "Z")
        return response

    def _refused(self, request: HttpRequest, known_at: KnownAt) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": known_at.problem, "code": "invalid_instant"},
                status=HTTPStatus.BAD_REQUEST,
            )
        # A page shows the message over the registry as known now, with a 400, as it
        # does for a bad ``as_of``; any other read is refused in plain text.
        response = self.get_response(request)
        if known_at.shown:
            return response
        return HttpResponse(
            known_at.problem,
            status=HTTPStatus.BAD_REQUEST,
            content_type="text/plain; charset=utf-8",
        )


__all__ = ["KNOWN_AT_HEADER", "KnownAt", "KnownAtMiddleware", "request_known_at"]

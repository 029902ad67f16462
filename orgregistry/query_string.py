"""Every request's query string, read before any view: text a query can take.

PostgreSQL cannot hold a NUL character in a string and refuses a query that carries
one, so a ``%00`` in a slug filter (``/posts/?unit=%00``, the API's ``?person=``) was a
server error there. Bytes that are not UTF-8 (``%FF``) Django silently turns into
U+FFFD, so a page would answer a question the client never asked. Neither can match
anything in the registry; both are refused here, once for every page, the API and the
admin, with a 400 that names the parameter, before a view can pass them to a query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

NUL = "\x00"


def shown(text: str) -> str:
    """A parameter as a person can read it back, NUL characters made visible."""
    return text.replace(NUL, "\\x00")[:100]


def nul_refusal(name: str) -> str:
    return _(
        "The query parameter “%(name)s” contains a NUL character; no value in the "
        "registry can hold one."
    ) % {"name": shown(name)}


def refused_parameter(query_string: bytes) -> tuple[str, str] | None:
    """The first parameter no query can take and why, or None if all can be read.

    Read from the raw bytes, split as Django splits them: Django's own reading has
    already replaced bytes that are not UTF-8, so it cannot tell them from U+FFFD.
    """
    for pair in query_string.split(b"&"):
        raw_name, _equals, raw_value = pair.partition(b"=")
        name = unquote_to_bytes(raw_name.replace(b"+", b" "))
        value = unquote_to_bytes(raw_value.replace(b"+", b" "))
        readable_name = shown(name.decode("utf-8", "replace"))
        try:
            name.decode("utf-8")
            value.decode("utf-8")
        except UnicodeDecodeError:
            return readable_name, _(
                "The query parameter “%(name)s” is not UTF-8 text; send it "
                "percent-encoded as UTF-8."
            ) % {"name": readable_name}
        if b"\x00" in name or b"\x00" in value:
            return readable_name, nul_refusal(name.decode("utf-8"))
    return None


class QueryStringMiddleware:
    """Refuse a query parameter holding NUL or bytes that are not UTF-8, with a 400.

    The API answers as its views refuse a parameter, ``{"name": "message"}`` in JSON;
    pages and the admin in plain text, as the admin's own parameter check does.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        # WSGI hands the query string over as Latin-1: these are its raw bytes.
        raw = request.META.get("QUERY_STRING", "").encode("iso-8859-1", "replace")
        refused = refused_parameter(raw)
        if refused is None:
            return None
        name, message = refused
        match = request.resolver_match
        if match is not None and "api" in match.namespaces:
            return JsonResponse({name: message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

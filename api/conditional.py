"""ETags, If-None-Match / If-Match and the read cache.

Whole-registry reads (lists, trees, feeds, exports) are keyed on the registry
generation, which every write transaction raises: a cached answer can never outlive the
state it was computed from, so no explicit invalidation is needed. Single objects carry
their own ``version``; their ETag names it, and a write sent with ``If-Match`` passes
that version to the service, which refuses it if the object has moved on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar

from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.exceptions import PreconditionFailed
from units.selectors import reader_kind, registry_generation

CACHE_SECONDS = 300
# Answers differ with the caller (authors and internal reasons are for staff only), so
# shared caches must key on it.
VARY_ON = ("Authorization", "Cookie")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _request_fingerprint(request: Request) -> str:
    """What, besides the registry's state, decides the answer to this request."""
    # Staff and public answers differ (authors, internal reasons): never one key.
    visibility = reader_kind(request.user)
    # The host is part of it because pages carry absolute next/previous links.
    query = sorted(request.query_params.lists())
    return _digest(f"{visibility}|{request.get_host()}|{request.path}|{query}")


def _requested_tags(request: Request, header: str) -> set[str]:
    raw = request.headers.get(header, "")
    return {tag.strip().removeprefix("W/") for tag in raw.split(",") if tag.strip()}


ResponseType = TypeVar("ResponseType", bound=HttpResponseBase)


def _finish(response: ResponseType, etag: str) -> ResponseType:
    response["ETag"] = etag
    patch_vary_headers(response, VARY_ON)
    return response


def generation_read(request: Request, build: Callable[[], Any]) -> Response:
    """Answer a whole-registry read from the cache or ``build``, with a generation ETag.

    ``If-None-Match`` is checked before anything is built, so a client that is up to
    date costs one small query.
    """
    generation = registry_generation()
    fingerprint = _request_fingerprint(request)
    etag = f'"g{generation}-{fingerprint}"'
    if etag in _requested_tags(request, "If-None-Match"):
        return _finish(Response(status=304), etag)
    key = f"api:{generation}:{fingerprint}"
    data = cache.get(key)
    if data is None:
        data = build()
        cache.set(key, data, CACHE_SECONDS)
    return _finish(Response(data), etag)


def generation_read_json(
    request: Request, build_json: Callable[[], bytes]
) -> HttpResponse | Response:
    """Like ``generation_read``, for a read that ``build_json`` encodes itself.

    The cache keeps the rendered bytes, so a hit costs copying them, not rendering a
    large answer again. Compact JSON (what clients get) is sent as it is; any other
    rendering (the browsable API, ``indent``) starts from the decoded data.
    """
    generation = registry_generation()
    fingerprint = _request_fingerprint(request)
    etag = f'"g{generation}-{fingerprint}"'
    if etag in _requested_tags(request, "If-None-Match"):
        return _finish(Response(status=304), etag)
    key = f"api-json:{generation}:{fingerprint}"
    body = cache.get(key)
    if body is None:
        body = build_json()
        cache.set(key, body, CACHE_SECONDS)
    renderer = getattr(request, "accepted_renderer", None)
    if _renders_as_built(renderer, request):
        return _finish(HttpResponse(body, content_type=renderer.media_type), etag)
    return _finish(Response(json.loads(body)), etag)


def _renders_as_built(renderer: Any, request: Request) -> TypeGuard[JSONRenderer]:
    """Whether the negotiated renderer would write exactly the bytes built."""
    return (
        isinstance(renderer, JSONRenderer)
        and type(renderer).render is JSONRenderer.render
        and renderer.compact
        and not renderer.ensure_ascii
        and renderer.get_indent(request.accepted_media_type, {}) is None
    )


def object_etag(kind: str, pk: int, version: int) -> str:
    return f'"{kind}-{pk}-v{version}"'


def object_read(
    request: Request, data: dict[str, Any], *, kind: str, pk: int, version: int
) -> Response:
    """Answer a single-object read; its ETag names the object's version."""
    etag = object_etag(kind, pk, version)
    if etag in _requested_tags(request, "If-None-Match"):
        return _finish(Response(status=304), etag)
    return _finish(Response(data), etag)


def object_response(
    data: dict[str, Any], *, kind: str, pk: int, version: int, status: int = 200
) -> Response:
    return _finish(Response(data, status=status), object_etag(kind, pk, version))


def expected_version(request: Request, *, kind: str, pk: int) -> int | None:
    """The version an ``If-Match`` header names, for the service's lost-update check.

    No header (or ``*``) means the client does not ask for the check. If-Match uses the
    strong comparison (RFC 9110, 13.1.1): a weak tag (``W/"…"``) never matches, so it is
    refused like a tag naming something else than a version of this object: 412.
    """
    raw = request.headers.get("If-Match", "")
    tags = [tag.strip() for tag in raw.split(",") if tag.strip()]
    if not tags or "*" in tags:
        return None
    pattern = re.compile(rf'^"{re.escape(kind)}-{pk}-v(\d+)"$')
    for tag in tags:
        match = pattern.match(tag)
        if match:
            return int(match.group(1))
    weak = [tag for tag in tags if tag.startswith("W/")]
    if weak:
        raise PreconditionFailed(
            f"If-Match {', '.join(weak)}: a weak ETag never matches a write's "
            f'precondition; send the strong ETag you received (like "{kind}-{pk}-v3").'
        )
    raise PreconditionFailed(
        f"If-Match {', '.join(sorted(tags))} names no version of this {kind}; "
        f'send the ETag you received when you read it (like "{kind}-{pk}-v3").'
    )

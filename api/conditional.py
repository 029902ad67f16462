"""ETags, If-None-Match / If-Match and the read cache.

Whole-registry reads (lists, trees, feeds, exports) are cached and tagged following
one rule (``units.selectors.freshness``): an answer about *now* is keyed on the
registry generation, which every write transaction raises, and an answer as of a past
instant carries a stamp and stays valid until a change effective at or before that
instant is recorded. A cached answer therefore never outlives the state it was
computed from, and a conditional GET never gets 304 for changed content. How answers
are stored (keys, one builder, size bound) is ``api.answer_cache``. Single objects
carry their own ``version``; their ETag names it, and a write sent with ``If-Match``
passes that version to the service, which refuses it if the object has moved on.
"""

from __future__ import annotations

import datetime
import json
import pickle
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param

from api import answer_cache
from api.exceptions import PreconditionFailed
from api.filters import QueryFilterSet
from units import selectors
from units.selectors.planned import current_plan

CACHE_SECONDS = answer_cache.CACHE_SECONDS
# Answers differ with the caller (authors and internal reasons are for staff only), so
# shared caches must key on it.
VARY_ON = ("Authorization", "Cookie")


def _requested_tags(request: Request, header: str) -> set[str]:
    raw = request.headers.get(header, "")
    return {tag.strip().removeprefix("W/") for tag in raw.split(",") if tag.strip()}


ResponseType = TypeVar("ResponseType", bound=HttpResponseBase)


def _finish(response: ResponseType, etag: str) -> ResponseType:
    response["ETag"] = etag
    patch_vary_headers(response, VARY_ON)
    return response


# Derives an answer from the previous one and its basis, or None to build it whole.
Derive = Callable[[bytes, object], answer_cache.Built | None]


def _body(built: bytes | answer_cache.Built) -> bytes:
    return built.body if isinstance(built, answer_cache.Built) else built


def _cached_answer(
    request: Request,
    build: Callable[[], bytes | answer_cache.Built],
    *,
    known: frozenset[str],
    instant: datetime.datetime | None,
    derive: Derive | None = None,
) -> answer_cache.Answer | str:
    """The answer to send, or only its ETag when the client already holds it (304).

    ``instant``: the answer is a function of the history up to that instant alone
    (and of the objects its basis names as they are now, ``selectors.CurrentReads``),
    so it may follow the as-of rule; None: it follows the registry generation.
    ``If-None-Match`` is checked before anything is built or fetched, so a client
    that is up to date costs one small query. ``derive``: an answer about now may
    be derived from the previous one kept under its key, when that one has a basis.
    """
    fingerprint = answer_cache.fingerprint(request, known)
    if current_plan() is not None:
        # Built from rows rolled back after this read: never kept here (the planned
        # read's own cache, orgregistry.planned_reads, keeps the finished answer).
        return answer_cache.Answer(f'"p-{fingerprint}"', _body(build()))
    wanted = _requested_tags(request, "If-None-Match")
    key = f"api-answer:{fingerprint}"
    stamp_key = f"api-stamp:{fingerprint}"
    stamp: selectors.Stamp | None = None
    keep_stamp = False
    known_at = selectors.current_known_at()
    if known_at is not None:
        # As known at a past instant the answer never changes: nothing recorded
        # later enters it. Only "now" moves (the day, for appointments' dates),
        # when ``as_of`` is left out: the tag names the day read.
        etag = f'"k{answer_cache.digest(known_at_tag(known_at))}-{fingerprint}"'
    elif instant is None:
        # About now, the answer follows every write, and the day too: appointments
        # start and end on dates, and nothing is written at midnight.
        generation = selectors.registry_generation()
        etag = f'"g{generation}.{timezone.now().date():%Y%m%d}-{fingerprint}"'
        if derive is not None:
            build = _deriving(key, build, derive)
    else:
        # (stamp, ETag, what the answer read as it is now, the generation the
        # stamp was last found valid at)
        kept = cache.get(stamp_key)
        if kept is not None:
            stamp = _still_valid(stamp_key, kept, instant)
        if stamp is not None:
            etag = kept[1]
        else:
            stamp = selectors.stamp_now()
            etag = f'"a{answer_cache.digest(repr(stamp))}-{fingerprint}"'
            keep_stamp = True
    if etag in wanted:
        return etag
    answer = answer_cache.stored(key, etag) or answer_cache.build_once(key, etag, build)
    if keep_stamp and answer.etag == etag:
        cache.set(stamp_key, (stamp, etag, answer.basis), CACHE_SECONDS)
    if answer.etag in wanted:
        return answer.etag  # a previous answer, served while this one is built
    return answer


def _still_valid(
    stamp_key: str, kept: tuple[Any, ...], instant: datetime.datetime
) -> selectors.Stamp | None:
    """The stamp of a kept as-of answer if it still holds, else None; what the check
    found is kept when it moved the stamp on (``selectors.check_stamp``)."""
    stamp, etag = kept[0], kept[1]
    basis = kept[2] if len(kept) > 2 else None
    valid_at = kept[3] if len(kept) > 3 else None
    current = basis if isinstance(basis, selectors.CurrentReads) else None
    checked = selectors.check_stamp(stamp, instant, current, valid_at=valid_at)
    if checked is None:
        return None
    if (checked.stamp, checked.generation) != (stamp, valid_at):
        cache.set(
            stamp_key, (checked.stamp, etag, basis, checked.generation), CACHE_SECONDS
        )
    return checked.stamp


def _deriving(
    key: str, build: Callable[[], bytes | answer_cache.Built], derive: Derive
) -> Callable[[], bytes | answer_cache.Built]:
    """``build``, trying first to derive the answer from the one kept under ``key``."""

    def build_or_derive() -> bytes | answer_cache.Built:
        previous = answer_cache.stored(key)
        if previous is not None and previous.basis is not None:
            derived = derive(previous.body, previous.basis)
            if derived is not None:
                return derived
        return build()

    return build_or_derive


def _without_unknown_parameters(
    data: Any, request: Request, known: frozenset[str]
) -> Any:
    """Page links without the parameters the read ignores: one answer for all of them."""
    if not isinstance(data, dict):
        return data
    unknown = set(request.query_params) - known
    for name in ("next", "previous"):
        link = data.get(name)
        if isinstance(link, str):
            for parameter in sorted(unknown):
                link = remove_query_param(link, parameter)
            data[name] = link
    return data


@dataclass(frozen=True)
class ReadNow:
    """What a build as of an instant returns when it also read some objects as they
    are now: the answer stays cached until one of them gets a revision, too."""

    data: Any
    current: selectors.CurrentReads


def generation_read(
    request: Request,
    build: Callable[[], Any],
    *,
    parameters: Iterable[type[QueryFilterSet]],
    instant: datetime.datetime | None = None,
) -> Response:
    """Answer a whole-registry read from the cache or ``build``, with an ETag.

    ``parameters``: the FilterSets of the read; only their parameters key the answer.
    ``instant``: the answer is as of that instant and follows the as-of rule
    (``_cached_answer``); its build may return ``ReadNow``.
    """
    known = answer_cache.known_parameters(parameters)

    def build_pickled() -> bytes | answer_cache.Built:
        built = build()
        current = None
        if isinstance(built, ReadNow):
            built, current = built.data, built.current
        data = _without_unknown_parameters(built, request, known)
        body = pickle.dumps(data, pickle.HIGHEST_PROTOCOL)
        return body if current is None else answer_cache.Built(body, current)

    answer = _cached_answer(request, build_pickled, known=known, instant=instant)
    if isinstance(answer, str):
        return _finish(Response(status=304), answer)
    # Our own bytes from our own cache, which pickles every value anyway.
    data = pickle.loads(answer.body)  # noqa: S301
    return _finish(Response(data), answer.etag)


def generation_read_json(
    request: Request,
    build_json: Callable[[], bytes | answer_cache.Built],
    *,
    parameters: Iterable[type[QueryFilterSet]],
    instant: datetime.datetime | None = None,
    derive: Derive | None = None,
) -> HttpResponse | Response:
    """Like ``generation_read``, for a read that ``build_json`` encodes itself.

    The cache keeps the rendered bytes, so a hit costs copying them, not rendering a
    large answer again. Compact JSON (what clients get) is sent as it is; any other
    rendering (the browsable API, ``indent``) starts from the decoded data. With
    ``instant`` the answer is as of that instant, from the history alone, and stays
    cached across writes effective after it (``units.selectors.freshness``). With
    ``derive`` an answer about now is derived from the previous one when it can be
    (``_cached_answer``); ``build_json`` then returns the basis beside the bytes.
    """
    known = answer_cache.known_parameters(parameters)
    answer = _cached_answer(
        request, build_json, known=known, instant=instant, derive=derive
    )
    renderer = getattr(request, "accepted_renderer", None)
    if not _renders_as_built(renderer, request):
        if isinstance(answer, str):
            return _encoded(Response(status=304), answer, compressed=False)
        return _encoded(
            Response(json.loads(answer.body)), answer.etag, compressed=False
        )
    return _send_bytes(request, answer, renderer.media_type)


def file_read(
    request: Request,
    build: Callable[[], bytes],
    *,
    parameters: Iterable[type[QueryFilterSet]],
    content_type: str,
    instant: datetime.datetime | None = None,
) -> HttpResponse | Response:
    """A whole-registry read sent as the file ``build`` makes (an export), cached and
    ETagged as ``generation_read_json``'s answers, whatever the client accepts."""
    known = answer_cache.known_parameters(parameters)
    answer = _cached_answer(request, build, known=known, instant=instant)
    return _send_bytes(request, answer, content_type)


# What gains from gzip: text. Zip files (the snapshot, the workbook) are compressed.
COMPRESSIBLE_TYPES = frozenset({"application/json", "application/ld+json", "text/csv"})


def _send_bytes(
    request: Request, answer: answer_cache.Answer | str, content_type: str
) -> HttpResponse | Response:
    """A cached answer's bytes as they are, or gzip-compressed for a client that
    takes them so (``answer_cache.gzipped``), or only its ETag (304).

    The compressed answer is another representation of the same one, so its ETag
    is the answer's made weak (as Django's GZipMiddleware does): ``If-None-Match``
    compares weakly and still finds it. A planned read is never compressed here: its
    middleware marks the JSON after the view (``orgregistry.planned_reads``).
    """
    compress = (
        content_type.split(";")[0].strip() in COMPRESSIBLE_TYPES
        and current_plan() is None
        and takes_gzip(request)
    )
    if isinstance(answer, str):
        return _encoded(Response(status=304), answer, compressed=compress)
    body = answer_cache.gzipped(answer) if compress else None
    if body is None:
        response = HttpResponse(answer.body, content_type=content_type)
        return _encoded(response, answer.etag, compressed=False)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Encoding"] = "gzip"
    return _encoded(response, answer.etag, compressed=True)


def _encoded(response: ResponseType, etag: str, *, compressed: bool) -> ResponseType:
    # Whether the body is compressed follows Accept-Encoding: caches must key on it.
    patch_vary_headers(response, ("Accept-Encoding",))
    return _finish(response, f"W/{etag}" if compressed else etag)


def takes_gzip(request: Request) -> bool:
    """Whether ``Accept-Encoding`` takes gzip: named (or ``*``, gzip not named) with
    a quality above 0 (RFC 9110, 12.5.3)."""
    qualities: dict[str, float] = {}
    for item in request.headers.get("Accept-Encoding", "").split(","):
        coding, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding:
            qualities[coding.lower()] = quality
    for name in ("gzip", "x-gzip", "*"):
        if name in qualities:
            return qualities[name] > 0
    return False


def _renders_as_built(renderer: Any, request: Request) -> TypeGuard[JSONRenderer]:
    """Whether the negotiated renderer would write exactly the bytes built."""
    return (
        isinstance(renderer, JSONRenderer)
        and type(renderer).render is JSONRenderer.render
        and renderer.compact
        and not renderer.ensure_ascii
        and renderer.get_indent(request.accepted_media_type, {}) is None
    )


def known_at_tag(known_at: datetime.datetime) -> str:
    """What, besides the request, an answer read as known at ``known_at`` depends on:
    that instant, and today's date (an ``as_of`` left out is now)."""
    return f"{known_at.isoformat()}|{timezone.now().date()}"


def answer_language_tag() -> str:
    """The answer's language, as an object's ETag names it: nothing for English (the
    tags objects always had), else its code. A French and an English answer show
    different texts of one version, so they never share a tag: a client holding the
    English answer is not told 304 when it asks in French."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return "" if language == settings.LANGUAGE_CODE else language


def object_etag(kind: str, pk: int, version: int, shown: str = "") -> str:
    """The object's version; ``shown``: a tag of what the answer shows besides it
    (a unit's lineage), and the answer's language; ``If-Match`` ignores both."""
    language = answer_language_tag()
    shown = "-".join(part for part in (shown, language) if part)
    return f'"{kind}-{pk}-v{version}{"-" + shown if shown else ""}"'


def object_read(
    request: Request,
    data: dict[str, Any],
    *,
    kind: str,
    pk: int,
    version: int,
    shown: str = "",
) -> Response:
    """Answer a single-object read; its ETag names the object's version.

    Read as known at an earlier instant (``known_at``), the tag names it too: the same
    version may show differently then, and such a tag is no version to write against
    (``If-Match`` refuses it).
    """
    known_at = selectors.current_known_at()
    if known_at is not None:
        known = "k" + answer_cache.digest(known_at_tag(known_at))[:8]
        shown = f"{shown}-{known}" if shown else known
    etag = object_etag(kind, pk, version, shown)
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
    # A version read in any language (``object_etag``): the write checks the version.
    languages = "|".join(re.escape(code) for code, _name in settings.LANGUAGES)
    pattern = re.compile(
        rf'^"{re.escape(kind)}-{pk}-v(\d+)(?:-l[0-9a-f]{{8}})?(?:-(?:{languages}))?"$'
    )
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

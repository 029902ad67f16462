"""Reads of the registry as planned: a future ``as_of`` and the preview of a draft.

The one mechanism behind every read of the future (API, pages, chart, compare): a
read request whose ``as_of`` (or the compare page's ``to``, the feed's ``until``) lies
after now, while approved reorganizations are due by then, is answered inside
``registry_as_planned``: those reorganizations are applied through the services in a
transaction that is rolled back once the answer is built. The views run unchanged;
they learn that they show a plan from ``units.selectors.planned.current_plan`` (the
banner, the chart's "planned", the API's ``planned`` fields, added here to JSON
objects). ``?preview=<id>`` shows a draft or submitted reorganization on top, to
readers who may see it.

What it costs, and who pays:

- A read of now or of the past pays nothing but parsing its dates; a future read with
  nothing scheduled by then is an ordinary as-of read (one cache read to know it).
- A planned read writes: it runs on the primary (``database_routing``), under the
  registry lock, after the anonymous statement timeout is set (it runs inside it).
- Anonymous answers are cached (``api.answer_cache``, its one-builder rule and its
  size bound) under a key naming the registry generation and the approved
  reorganizations due by then (id and time), so an approval, a cancellation or an
  application gives new keys; a flood of one URL costs one build. Anonymous builds
  run one at a time (one lock, ``BUILD_LOCK``, for every key); a request that cannot
  start one within ``BUILD_WAIT_SECONDS`` (at once where the cache is unreachable and
  holds no lock) is a 503 with Retry-After, so varied URLs cannot queue editors'
  writes behind the registry lock. Signed-in readers' pages carry their own name and
  tokens and are built each time (their throttle bounds them).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from api.answer_cache import Answer, BuildBusy, build_once, stored
from orgregistry.database_routing import SAFE_METHODS, writes_undone
from orgregistry.query_string import refused_parameter
from orgregistry.reorganizations import reads_registry
from units.models import Reorganization, ReorganizationStatus
from units.selectors import (
    InvalidInstant,
    current_known_at,
    may_see_staff_identities,
    parse_instant,
    registry_generation,
)
from units.selectors.planned import Plan, plan_summary
from units.selectors.reorganizations import next_due_reorganization_at
from units.services.reorganizations import registry_as_planned
from units.services.reorganizations.planned import PREVIEWABLE

# The parameters naming the instant a read shows (pages and API; compare; feed).
INSTANT_PARAMETERS = ("as_of", "to", "until")
# Anonymous planned answers are built one at a time (a shared cache: across workers).
BUILD_LOCK = "planned:building"
# Longer than any build (the statement timeout stops one before); a builder that dies
# lets others build once it passes.
BUILD_LOCK_SECONDS = 120
BUILD_WAIT_SECONDS = 3.0
RETRY_AFTER_SECONDS = 5
PLANNED_HEADER = "Registry-Planned"


def planned_instant(request: HttpRequest) -> datetime.datetime | None:
    """The future instant the request reads, if any (the latest one it names).

    A malformed value is left to the view, which answers it with a 400.
    """
    now = timezone.now()
    latest = None
    for name in INSTANT_PARAMETERS:
        raw = request.GET.get(name)
        if not raw:
            continue
        try:
            moment = parse_instant(raw, parameter=name)
        except InvalidInstant:
            continue
        if moment > now and (latest is None or moment > latest):
            latest = moment
    return latest


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(
        message, status=status, content_type="text/plain; charset=utf-8"
    )


def _previewed(request: HttpRequest, raw: str) -> Reorganization | HttpResponse:
    """The reorganization ``?preview=`` names, if this reader may see it."""
    user = getattr(request, "user", None)
    if not re.fullmatch(r"[0-9]{1,18}", raw):
        return _refused(
            request,
            f"preview: “{raw[:40]}” is not the id of a reorganization.",
            HTTPStatus.BAD_REQUEST,
        )
    found = (
        Reorganization.objects.select_related("author").filter(pk=int(raw)).first()
        if user is not None and user.has_perm("units.view_reorganization")
        else None
    )
    if found is None:
        # Drafts are not public: the same answer whether it exists or not.
        return _refused(
            request, f"Reorganization {raw} does not exist.", HTTPStatus.NOT_FOUND
        )
    if found.status not in PREVIEWABLE:
        return _refused(
            request,
            f"Reorganization {raw} is {found.get_status_display().lower()}: only a "
            "draft, submitted or approved one can be previewed.",
            HTTPStatus.CONFLICT,
        )
    return found


def _schedule_key(until: datetime.datetime) -> str:
    """What decides the plan: the approved reorganizations due by ``until`` (one
    query) and the registry generation (one query)."""
    due = list(
        Reorganization.objects.filter(
            status=ReorganizationStatus.APPROVED, effective_at__lte=until
        )
        .order_by("effective_at", "pk")
        .values_list("pk", "effective_at")
    )
    return f"{registry_generation()}|{[(pk, when.isoformat()) for pk, when in due]}"


def _cache_key(request: HttpRequest, until: datetime.datetime) -> str:
    query = sorted(request.GET.lists())
    text = "|".join(
        [
            request.get_host(),
            request.path,
            repr(query),
            request.META.get("HTTP_ACCEPT", ""),
            request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
            _schedule_key(until),
        ]
    )
    return "planned:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _mark_json(response: HttpResponse, plan: Plan, *, staff: bool) -> None:
    """Add ``planned`` and the reorganizations applied to a JSON answer's object (or,
    for a list such as the tree, to each top-level object)."""
    content_type = response.get("Content-Type", "")
    if (
        response.streaming
        or response.status_code != HTTPStatus.OK
        or not content_type.startswith("application/json")
    ):
        return
    data: Any = json.loads(response.content)
    summary = plan_summary(plan, staff=staff)
    if isinstance(data, dict):
        data.update(summary)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                item.update(summary)
    response.content = json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _nonce(request: HttpRequest) -> str:
    return str(getattr(request, "csp_nonce", "") or "")


def _encoded(request: HttpRequest, response: HttpResponse) -> bytes:
    """A cached answer's body: a JSON line of its headers and its page's nonce, then
    its content."""
    head = json.dumps([dict(response.items()), _nonce(request)])
    return head.encode() + b"\n" + response.content


def _decoded(request: HttpRequest, answer: Answer) -> HttpResponse:
    """The cached ``answer`` as a response, its page's nonce made this request's."""
    head, body = answer.body.split(b"\n", 1)
    headers, nonce = json.loads(head)
    if nonce:
        body = body.replace(nonce.encode(), _nonce(request).encode())
    response = HttpResponse(body)
    for name, value in headers.items():
        response[name] = value
    return response


def _busy(request: HttpRequest) -> HttpResponse:
    response = _refused(
        request,
        "Another planned view of the registry is being prepared; try again in a "
        "few seconds, or sign in.",
        HTTPStatus.SERVICE_UNAVAILABLE,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class PlannedReadMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS or current_known_at() is not None:
            # As known at a past instant, nothing planned since can be known: the
            # plan's rows would be recorded now, after it (orgregistry.known_at).
            return self.get_response(request)
        preview = request.GET.get("preview")
        until = planned_instant(request)
        if (
            (preview is None and until is None)
            or not reads_registry(request)
            or refused_parameter(
                request.META.get("QUERY_STRING", "").encode("iso-8859-1", "replace")
            )
        ):
            # Nothing planned; or a parameter no query takes, which the view's
            # QueryStringMiddleware.process_view refuses with its 400.
            return self.get_response(request)
        if preview is not None:
            previewed = _previewed(request, preview)
            if isinstance(previewed, HttpResponse):
                return previewed
            when = previewed.effective_at
            return self._planned(request, max(until or when, when), previewed)
        assert until is not None  # noqa: S101 - checked above
        due = next_due_reorganization_at()
        if due is None or due > until:
            # Nothing is scheduled by then: the future reads as the registry stands.
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.META.get(
            "HTTP_AUTHORIZATION"
        ):
            # Signed in, or an API token (the API authenticates it later, so this
            # may be staff): their answers are their own, never the public's cache.
            return self._planned(request, until, None)
        key = _cache_key(request, until)
        etag = f'"p{key.removeprefix("planned:")[:24]}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=HTTPStatus.NOT_MODIFIED)
            response["ETag"] = etag
            return response
        kept = stored(key, etag)
        if kept is not None:
            return _decoded(request, kept)
        built: list[HttpResponse] = []

        def build() -> bytes | None:
            response = self._planned(request, until, None)
            built.append(response)
            if (
                response.status_code != HTTPStatus.OK
                or response.streaming
                or response.cookies
            ):
                return None  # answered, never kept
            response["ETag"] = etag
            return _encoded(request, response)

        # One anonymous build at a time: each holds the registry lock, which editors'
        # writes wait for. Another request waits a little for it (it may be building
        # this very answer), then is asked to come back.
        try:
            answer = build_once(
                key,
                etag,
                build,
                lock=BUILD_LOCK,
                lock_seconds=BUILD_LOCK_SECONDS,
                wait_seconds=BUILD_WAIT_SECONDS,
                build_when_busy=False,
            )
        except BuildBusy:
            return _busy(request)
        if built:
            return built[0]
        assert answer is not None  # noqa: S101 - not built here: another's answer
        return _decoded(request, answer)

    def _planned(
        self,
        request: HttpRequest,
        until: datetime.datetime,
        previewed: Reorganization | None,
    ) -> HttpResponse:
        # The answer's validators are this module's (an object's version in a plan
        # is no version the registry holds): the view must not answer 304 itself.
        if_none_match = request.META.pop("HTTP_IF_NONE_MATCH", "")
        with writes_undone(), registry_as_planned(until, also=previewed) as plan:
            response = self.get_response(request)
            if hasattr(response, "render") and not getattr(
                response, "is_rendered", True
            ):
                response.render()
            if response.streaming:
                # Read while the plan stands: after the rollback it would not.
                streamed = HttpResponse(
                    b"".join(response.streaming_content),  # type: ignore[attr-defined]
                    status=response.status_code,
                )
                for name, value in response.items():
                    streamed[name] = value
                response = streamed
            _mark_json(
                response,
                plan,
                staff=may_see_staff_identities(getattr(request, "user", None)),
            )
        response[PLANNED_HEADER] = "true"
        if "ETag" in response:
            del response["ETag"]
        if response.status_code == HTTPStatus.OK:
            # Every read sends a validator: for a plan, a hash of what it answered
            # (the public's cached answers get their key's, set by the caller).
            etag = f'"ps{hashlib.sha256(response.content).hexdigest()[:24]}"'
            if etag in if_none_match:
                response = HttpResponse(status=HTTPStatus.NOT_MODIFIED)
                response[PLANNED_HEADER] = "true"
            response["ETag"] = etag
        return response


__all__ = ["PlannedReadMiddleware", "planned_instant"]

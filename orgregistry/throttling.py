"""Throttling of the public pages and the chart's renders, with the API's machinery.

The API is throttled by DRF; the pages are plain Django views, which it never sees, and
the chart's PNG and PDF renders (CairoSVG, seconds of a worker for a large chart) are
the most expensive answers the site gives. This middleware applies DRF's own counting
(``SimpleRateThrottle``: the request times of the last period, per client) to every
page of the ``units`` app, in the same shared ``throttle`` cache as the API's counters,
so every worker process sees every request. Anonymous clients count per address (the
``PROXY_COUNT`` rule), signed-in users per account at a higher rate. Rates:
``settings.PAGE_THROTTLE_RATES``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext
from rest_framework.throttling import SimpleRateThrottle

from api.throttling import throttle_cache

# The application whose pages are throttled, and its views answered in plain text
# (a piece of a page loaded by script, and file downloads).
PAGES_APP = "units"
PLAIN_TEXT_VIEWS = frozenset({"unit-children", "chart-download"})
RENDER_FORMATS = frozenset({"png", "pdf"})


class PageRateThrottle(SimpleRateThrottle):
    """DRF's rate throttle for one scope of pages, counting in the shared cache."""

    cache_format = "throttle_%(scope)s_%(ident)s"

    def __init__(self, scope: str) -> None:
        self.scope = self.page_scope = scope
        self.cache = throttle_cache()
        super().__init__()

    def get_rate(self) -> str | None:
        # Read per request, so that the settings (and a test's override) decide.
        return settings.PAGE_THROTTLE_RATES.get(self.page_scope)

    def get_cache_key(self, request: Any, view: Any) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user-{user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def page_scope(request: HttpRequest, view_kwargs: dict[str, Any]) -> str | None:
    """Which budget a request draws on: pages or renders, anonymous or signed in."""
    match = request.resolver_match
    if match is None or match.app_name != PAGES_APP:
        return None
    renders = (
        match.url_name == "chart-download"
        and view_kwargs.get("file_format") in RENDER_FORMATS
    )
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return f"{'renders' if renders else 'pages'}_{'user' if signed_in else 'anon'}"


class PageThrottleMiddleware:
    """Answer 429 (with Retry-After) to a client past its page or render budget."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        scope = page_scope(request, view_kwargs)
        if scope is None:
            return None
        throttle = PageRateThrottle(scope)
        # DRF's throttle reads only the request's META and user, which a Django
        # request has; it never looks at the view.
        if throttle.allow_request(request, None):  # type: ignore[arg-type]
            return None
        return too_many_requests(request, math.ceil(throttle.wait() or 1))


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """A short answer saying when to come back; plain text for scripts and downloads."""
    message = ngettext(
        "Too many requests: try again in %(seconds)s second.",
        "Too many requests: try again in %(seconds)s seconds.",
        retry_after,
    ) % {"seconds": retry_after}
    match = request.resolver_match
    if match is not None and match.url_name in PLAIN_TEXT_VIEWS:
        response = HttpResponse(
            message, status=429, content_type="text/plain; charset=utf-8"
        )
    else:
        response = render(
            request,
            "429.html",
            {"message": message, "retry_after": retry_after},
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    return response

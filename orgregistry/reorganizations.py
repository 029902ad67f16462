"""The catch-up before every request: approved reorganizations due by now are applied.

The task enqueued at approval applies a reorganization at its time, but only while a
worker runs. Whatever the worker does, a read at or after the effective instant must not
show the structure the reorganization replaces, so each request first applies what is
due. When nothing is (nearly always) it costs one cache read. A view that shows nothing
of the registry (the API schema and its docs) says so with ``reads_registry = False``
and is answered without it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from units.services.reorganizations import catch_up_reorganizations


class ReorganizationCatchUpMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if reads_registry(request):
            catch_up_reorganizations()
        return self.get_response(request)


def reads_registry(request: HttpRequest) -> bool:
    """Whether the view answering ``request`` shows the registry."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    view_class = getattr(match.func, "view_class", None) or getattr(
        match.func, "cls", None
    )
    return getattr(view_class, "reads_registry", True) is not False

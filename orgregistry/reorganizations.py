"""The catch-up before every request: approved reorganizations due by now are applied.

The task enqueued at approval applies a reorganization at its time, but only while a
worker runs. Whatever the worker does, a read at or after the effective instant must not
show the structure the reorganization replaces, so each request first applies what is
due. When nothing is (nearly always) it costs one cache read.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from units.services.reorganizations import catch_up_reorganizations


class ReorganizationCatchUpMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        catch_up_reorganizations()
        return self.get_response(request)

"""API throttles whose counters live in the ``throttle`` cache, shared by all workers.

DRF keeps counters in the default cache, which is each process's own memory unless
CACHE_URL names Redis: under gunicorn every worker then counted for itself, and an
anonymous client got the limit once per worker. ``settings.CACHES["throttle"]`` is a
store every process sees (see docs/deployment.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from rest_framework import throttling

if TYPE_CHECKING:
    # Only for hints: rest_framework.views imports the throttles while it loads.
    from rest_framework.request import Request
    from rest_framework.views import APIView

THROTTLE_CACHE_ALIAS = "throttle"


def throttle_cache() -> BaseCache:
    """The shared counters' cache (this thread's connection to it).

    Settings without a "throttle" cache (a test replacing CACHES with one entry)
    count in the default cache, as DRF does.
    """
    if THROTTLE_CACHE_ALIAS in settings.CACHES:
        return caches[THROTTLE_CACHE_ALIAS]
    return caches[DEFAULT_CACHE_ALIAS]


class AnonymousRateThrottle(throttling.AnonRateThrottle):
    """Anonymous requests per client address (rate ``anon``), counted across workers."""

    def __init__(self) -> None:
        # Per request (DRF makes a throttle per request), so it follows the settings.
        self.cache = throttle_cache()
        super().__init__()


class SignedInRateThrottle(throttling.UserRateThrottle):
    """Signed-in users' requests (rate ``user``, far higher), counted across workers.

    A generous limit, so a leaked token or a runaway script cannot monopolize the
    workers; people and well-behaved scripts never reach it.
    """

    def __init__(self) -> None:
        self.cache = throttle_cache()
        super().__init__()

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        # Anonymous requests are the anonymous throttle's alone; DRF's user throttle
        # would count them a second time, by address.
        if not request.user or not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)

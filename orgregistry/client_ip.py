"""The client's address, for login lockout: the same rule as the API's throttling.

Behind ``PROXY_COUNT`` reverse proxies, each appending to X-Forwarded-For, the client is
the entry that many places from the end; anything before it was written by the client
and proves nothing. Without proxies only the connecting address counts.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    proxy_count = getattr(settings, "PROXY_COUNT", 0)
    remote_address = request.META.get("REMOTE_ADDR")
    forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
    if not proxy_count or not forwarded_for:
        return remote_address
    addresses = [address.strip() for address in forwarded_for.split(",")]
    return addresses[-min(proxy_count, len(addresses))] or remote_address

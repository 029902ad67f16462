"""Cross-origin reads of the public data, and nothing else (django-cors-headers).

A browser application on another site may read the API, its feeds and the exports
(GET, HEAD, OPTIONS), as an anonymous visitor: no cookies count cross-origin
(``CORS_ALLOW_CREDENTIALS`` stays off). Writes stay same-origin: their answers, and
the preflight a browser sends before one, carry no CORS header, so the browser never
lets another site's script send or read a write. Which origins may read is
``CORS_ALLOWED_ORIGINS`` (settings, README).
"""

from __future__ import annotations

from corsheaders.middleware import CorsMiddleware
from django.http import HttpRequest

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyCorsMiddleware(CorsMiddleware):
    """django-cors-headers' middleware, for read requests and their preflights only.

    The library applies its headers to every method of a matching URL (its
    ``CORS_ALLOW_METHODS`` only informs preflights), which would let a page elsewhere
    read the answer of a write it sent; this decides by method first.
    """

    def is_enabled(self, request: HttpRequest) -> bool:
        if request.method not in READ_METHODS:
            return False
        requested = request.headers.get("access-control-request-method")
        if request.method == "OPTIONS" and requested is not None:
            # A preflight: answered only for a read that is to follow.
            if requested.strip().upper() not in READ_METHODS:
                return False
        return super().is_enabled(request)

"""The OpenAPI schema and its Swagger page, answering methods as the API views do."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.views.base import MethodsFirst


class SchemaView(MethodsFirst, SpectacularAPIView):
    # The schema describes the API, not the registry: no reorganization catch-up (and
    # no database) before it (orgregistry.reorganizations).
    reads_registry = False


# The page's answers go through its template renderer, which renders DRF's error and
# metadata answers with a template that reads the user: for a signed-in browser
# without a CSRF token (a PUT) that raised mid-render, a 500. So these stay Django's.
class DocsView(SpectacularSwaggerView):
    reads_registry = False

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            return HttpResponseNotAllowed(self.allowed_methods)
        return super().dispatch(request, *args, **kwargs)

    def options(  # type: ignore[override]  # a page's answer, not DRF's metadata
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        # An HTML page has no metadata but its methods, which the Allow header carries.
        return HttpResponse()

"""The site's URLs and two reads that sleep on the database (the timeout's tests)."""

from __future__ import annotations

from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response

from api.views.base import RegistryView
from orgregistry.database_routing import current_read_alias
from orgregistry.urls import urlpatterns as site_urlpatterns


def slow_read(request: HttpRequest) -> HttpResponse:
    """Sleeps ``seconds`` in one statement on the database this request reads."""
    seconds = float(request.GET.get("seconds", "0.5"))
    with connections[current_read_alias()].cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
    return HttpResponse("slept")


class SlowApiRead(RegistryView):
    """The same read behind the API's views (DRF, its exception handler)."""

    def get(self, request: Request) -> Response:
        slow_read(request)
        return Response({"slept": True})


urlpatterns = [
    path("api/v1/slow-read/", slow_read),
    path("api/v1/slow-api-read/", SlowApiRead.as_view()),
    path("slow-read/", slow_read),
    *site_urlpatterns,
]

"""The API's front door: its root (what there is to read) and the tour, rendered.

The footer of every page links to ``/api/v1/``; a client or a person arriving there
finds every resource by its absolute address, the interactive docs and the tour
(``docs/api.md``), so nobody has to guess a path.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema, inline_serializer
from markdown_it import MarkdownIt
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.views.base import RegistryView

TOUR = Path(settings.BASE_DIR) / "docs" / "api.md"

# The root's keys and the URL names they link to, in the order a newcomer reads them:
# the structure first, then what changed, the exports, and the documentation.
RESOURCES = {
    "tree": "api:tree",
    "units": "api:unit-list",
    "posts": "api:post-list",
    "people": "api:person-list",
    "appointments": "api:appointment-list",
    "relationships": "api:relationship-list",
    "reorganizations": "api:reorganization-list",
    "search": "api:search",
    "changes": "api:changes",
    "changes_atom": "api:changes-atom",
    "changes_atom_recorded": "api:changes-atom-recorded",
    "export_units_csv": "api:export-csv",
    "export_units_xlsx": "api:export-xlsx",
    "export_org_jsonld": "api:export-jsonld",
    "export_popolo_json": "api:export-popolo",
    "export_snapshot_zip": "api:export-snapshot",
}
DOCUMENTATION = {
    "tour": "api:tour",
    "docs": "api:docs",
    "schema": "api:schema",
}


class ApiRootView(RegistryView):
    """The registry's REST API: every resource, the interactive docs and the tour.

    Every read takes `as_of` (an ISO 8601 date or date-time) and answers with the
    registry as it stood then. The tour explains as_of, paging, the change feed's
    cursors and writing with If-Match.
    """

    def get_view_name(self) -> str:
        return "API root"

    @extend_schema(
        summary="The API root: every resource, the docs and the tour, as links",
        responses=inline_serializer(
            "ApiRoot",
            {name: serializers.URLField() for name in [*RESOURCES, *DOCUMENTATION]},
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                name: request.build_absolute_uri(reverse(url_name))
                for name, url_name in {**RESOURCES, **DOCUMENTATION}.items()
            }
        )


@functools.cache
def tour_html() -> SafeString:
    """``docs/api.md`` as HTML, read once per process (it changes with a release).

    Raw HTML in the Markdown is escaped, not passed through ("html": False), and
    markdown-it refuses javascript: and similar link targets, so the page holds only
    the elements Markdown itself makes: nothing the CSP would have to stop.
    """
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    return mark_safe(renderer.render(TOUR.read_text(encoding="utf-8")))  # noqa: S308


# Read-only, as changes.atom: any other method is a 405 with Allow, not the CSRF
# check's 403 (the page takes no input, so there is nothing to forge).
@csrf_exempt
@require_safe
def tour(request: HttpRequest) -> HttpResponse:
    """The tour of the API (``docs/api.md``) as a page of the site."""
    return render(request, "api/tour.html", {"tour": tour_html()})

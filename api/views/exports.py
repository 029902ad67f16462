"""The exports as files: CSV, W3C ORG (JSON-LD), Popolo and the snapshot package.

Thin: each view reads ``as_of`` and sends what one builder of ``api.formats`` makes,
cached and ETagged like every whole-registry read.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.conditional import file_read
from api.filters import AsOfFilterSet
from api.formats.exports import org_jsonld, popolo_json, units_csv
from api.formats.snapshots import (
    UnsettledRegistry,
    consistent_snapshot,
    snapshot_instant,
)
from api.formats.state import RegistryAt
from api.formats.workbook import CONTENT_TYPE as WORKBOOK_TYPE
from api.formats.workbook import workbook_bytes
from api.views.base import AS_OF, ERRORS, RegistryView, as_of_instant, origin
from orgregistry.throttling import PageRateThrottle


# Errors still answer in JSON whatever the client accepts.
class ExportView(RegistryView):
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        return super().perform_content_negotiation(request, force=True)


class UnitsCsvView(ExportView):
    @extend_schema(
        summary="Units as CSV, in tree order",
        description=(
            "One row per unit as the registry stood at `as_of` (default now), in tree "
            "order, abolished units included with their date: for spreadsheets."
        ),
        parameters=[AS_OF],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> HttpResponse | Response:
        when = as_of_instant(request)
        return file_read(
            request,
            lambda: units_csv(RegistryAt(when), origin(request)),
            parameters=(AsOfFilterSet,),
            content_type="text/csv; charset=utf-8",
        )


class UnitsWorkbookView(ExportView):
    @extend_schema(
        summary="Units, posts and dotted lines as an Excel workbook",
        description=(
            "The registry at `as_of` (default now) as an .xlsx workbook: a first sheet "
            "naming the registry, the `as_of` and the export time, then one sheet each "
            "for units (the columns of `units.csv`, in tree order, abolished ones "
            "included), posts with their holders, and dotted lines. The Units sheet is "
            "the template `reorganizations/import/` reads back."
        ),
        parameters=[AS_OF],
        responses={
            (200, WORKBOOK_TYPE): OpenApiResponse(OpenApiTypes.BINARY),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> HttpResponse | Response:
        when = as_of_instant(request)
        response = file_read(
            request,
            lambda: workbook_bytes(
                RegistryAt(when),
                registry_name=settings.REGISTRY_NAME,
                as_of=when,
                exported_at=datetime.datetime.now(tz=datetime.UTC),
            ),
            parameters=(AsOfFilterSet,),
            content_type=WORKBOOK_TYPE,
        )
        if response.status_code == 200:
            response["Content-Disposition"] = 'attachment; filename="units.xlsx"'
        return response


class OrgJsonLdView(ExportView):
    @extend_schema(
        summary="The structure in the W3C Organization Ontology (JSON-LD)",
        description=(
            "The structure at `as_of` in the W3C Organization Ontology (`org:`), as "
            "JSON-LD: the units as organizations in their hierarchy, for linked-data "
            "tools."
        ),
        parameters=[AS_OF],
        responses={
            (200, "application/ld+json"): OpenApiResponse(OpenApiTypes.OBJECT),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> HttpResponse | Response:
        when = as_of_instant(request)
        return file_read(
            request,
            lambda: org_jsonld(RegistryAt(when), origin(request)),
            parameters=(AsOfFilterSet,),
            content_type="application/ld+json",
        )


class PopoloView(ExportView):
    @extend_schema(
        summary="The structure as Popolo organizations, posts, persons, memberships",
        description=(
            "The structure at `as_of` in the Popolo data standard: units as "
            "organizations, their posts, the people and their memberships "
            "(appointments), for tools that read Popolo."
        ),
        parameters=[AS_OF],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), **ERRORS},
    )
    def get(self, request: Request) -> HttpResponse | Response:
        when = as_of_instant(request)
        return file_read(
            request,
            lambda: popolo_json(RegistryAt(when), origin(request)),
            parameters=(AsOfFilterSet,),
            content_type="application/json",
        )


class Unavailable(APIException):
    """A snapshot that could not be read consistently (503: try again)."""

    status_code = 503
    default_code = "unsettled"


class SnapshotRateThrottle(PageRateThrottle):
    """A snapshot is several exports at once, built for each new instant asked for:
    it draws on the budget of the costliest answers, the chart's renders
    (``RENDER_ANON_RATE``, ``RENDER_USER_RATE``), on top of the API's own limits."""

    def __init__(self) -> None:
        super().__init__("renders_anon")

    def allow_request(self, request: Any, view: Any) -> bool:
        signed_in = bool(request.user and request.user.is_authenticated)
        self.page_scope = "renders_user" if signed_in else "renders_anon"
        self.scope = self.page_scope
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class SnapshotView(ExportView):
    throttle_classes = [*RegistryView.throttle_classes, SnapshotRateThrottle]

    @extend_schema(
        summary="Every export at one instant, as a verifiable Frictionless Data Package",
        description=(
            "A zip: `datapackage.json` (each file's format, byte size and SHA-256 "
            "hash, a Table Schema for the CSV, the registry's name, `as_of`, its "
            "generation for that instant and when it was made) and the JSON tree, "
            "the CSV, the JSON-LD and the Popolo exports at `as_of` (default now, "
            "which the package names). Asked again for the same past instant it is "
            "the same bytes, until a change effective at or before it is recorded; "
            "`manage.py verify_snapshot` checks a package. A future `as_of` is a 400."
        ),
        parameters=[AS_OF],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY),
            **ERRORS,
            503: OpenApiResponse(
                description="Changes touching the instant kept being recorded while "
                "the snapshot was read; try again."
            ),
        },
    )
    def get(self, request: Request) -> HttpResponse | Response:
        asked = as_of_instant(request)
        when = snapshot_instant(asked, text=request.query_params.get("as_of"))
        site = origin(request)

        def build() -> bytes:
            try:
                return consistent_snapshot(when, site)
            except UnsettledRegistry as error:
                raise Unavailable(str(error)) from error

        response = file_read(
            request,
            build,
            parameters=(AsOfFilterSet,),
            content_type="application/zip",
            # A past instant's package follows the as-of rule; "now" the generation.
            instant=asked,
        )
        # Without as_of, a cached package may be of an earlier instant of the same
        # generation (the same content): its datapackage.json says which.
        name = (
            "snapshot.zip"
            if asked is None
            else asked.astimezone(datetime.UTC).strftime("snapshot-%Y%m%dT%H%M%SZ.zip")
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

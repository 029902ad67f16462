"""Lineage links between units: one link and its history (read only).

Links are written by the merge, split, replace and absorb operations of a
reorganization (``units.services.lineage``); a unit's ``predecessors`` and
``successors`` give them from the unit's side.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api_serializers
from api.views.base import (
    AS_OF,
    ERRORS,
    ObjectHistoryView,
    ObjectVersionView,
    ObjectView,
    history_schema,
    version_schema,
)
from units.models import UnitSuccession


class LineageDetailView(ObjectView):
    model = UnitSuccession
    serializer_class = api_serializers.LineageRecordSerializer
    written_serializer = api_serializers.LineageRecordSerializer
    object_kind = "lineage"

    @extend_schema(
        summary="One lineage link",
        description=(
            "A link from a closed unit (`predecessor`) to a unit that took over its "
            "work (`successor`), with the `closure_reason` (merged, split, replaced, "
            "absorbed, changed_name) and the day it took effect, as recorded at "
            "`as_of`. Links are written by a reorganization's merge, split, replace "
            "and absorb operations and never change."
        ),
        parameters=[AS_OF],
        responses={200: api_serializers.LineageRecordSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.read_object(request, pk, f"id {pk}")


class LineageHistoryView(ObjectHistoryView):
    model = UnitSuccession

    @extend_schema(**history_schema("lineage link"))
    def get(self, request: Request, pk: int) -> Response:
        return self.history(request, pk, f"id {pk}")


class LineageVersionView(ObjectVersionView):
    model = UnitSuccession

    @extend_schema(**version_schema("lineage link", "lineage"))
    def get(self, request: Request, pk: int, history_id: int) -> Response:
        return self.version(request, pk, f"id {pk}", history_id)

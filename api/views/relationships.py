"""Dotted-line relationships between units: list, one, link, end."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api_serializers
from api.views.base import (
    AS_OF,
    ERRORS,
    IF_MATCH,
    PAGE,
    WRITE_ERRORS,
    HistoryBackedListView,
    ObjectEndView,
    ObjectView,
    RowKey,
    by_date,
    by_field,
    choice,
    ordering_parameter,
    paginated_serializer,
    search_parameter,
    write_input,
)
from units import services
from units.models import OrganizationalUnit, RelationshipKind, UnitRelationship

RELATIONSHIP_ORDERINGS: dict[str, RowKey] = {
    "id": by_field("id"),
    "kind": by_field("kind"),
    "started_on": by_date("started_on", missing=datetime.date.min),
    # A relationship still running ends after every ended one.
    "ended_on": by_date("ended_on", missing=datetime.date.max),
}


class RelationshipListView(HistoryBackedListView):
    model = UnitRelationship
    serializer_class = api_serializers.RelationshipSerializer
    object_kind = "relationship"
    slug_maps: ClassVar = {
        "unit_slugs": (OrganizationalUnit, ("source_id", "target_id")),
    }
    write_permissions: ClassVar = {"POST": ("units.add_unitrelationship",)}
    search_fields = ("description",)
    search_related: ClassVar = (
        (OrganizationalUnit, ("source_id", "target_id"), ("name", "short_name")),
    )
    orderings = RELATIONSHIP_ORDERINGS

    def validate_filters(self, request: Request) -> None:
        self.unit_id = self.related_id("unit", OrganizationalUnit)
        self.kind = choice(request, "kind", RelationshipKind.values)
        self.status = choice(request, "status", ["active", "ended"])

    def filter_rows(
        self, rows: list[dict[str, Any]], when: datetime.datetime | None
    ) -> list[dict[str, Any]]:
        return [
            row
            for row in rows
            if (
                self.unit_id is None
                or self.unit_id in (row["source_id"], row["target_id"])
            )
            and (self.kind is None or row["kind"] == self.kind)
            and (
                self.status is None
                or (self.status == "active") == (row["ended_on"] is None)
            )
        ]

    @extend_schema(
        summary="List dotted-line relationships between units",
        operation_id="relationships_list",
        parameters=[
            AS_OF,
            OpenApiParameter(
                "unit", OpenApiTypes.STR, description="Slug of either unit."
            ),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=RelationshipKind.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=["active", "ended"]),
            search_parameter("the description and both units' names and acronyms"),
            ordering_parameter(RELATIONSHIP_ORDERINGS, "id"),
            *PAGE,
        ],
        responses={
            200: paginated_serializer(api_serializers.RelationshipSerializer),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        return self.list_response(request)

    @extend_schema(
        summary="Link two units by a dotted line",
        request=api_serializers.RelationshipCreateSerializer,
        responses={201: api_serializers.RelationshipSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, reason, effective_at = write_input(
            api_serializers.RelationshipCreateSerializer, request
        )
        relationship = services.relationship_create(
            user=request.user, reason=reason, effective_at=effective_at, **fields
        )
        return self.created(
            relationship.pk,
            reverse("api:relationship-detail", kwargs={"pk": relationship.pk}),
        )


class RelationshipDetailView(ObjectView):
    model = UnitRelationship
    serializer_class = api_serializers.RelationshipSerializer
    object_kind = "relationship"

    @extend_schema(
        summary="One relationship",
        parameters=[AS_OF],
        responses={200: api_serializers.RelationshipSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.read_object(request, pk, f"id {pk}")


class RelationshipEndView(ObjectEndView):
    model = UnitRelationship
    serializer_class = api_serializers.RelationshipSerializer
    object_kind = "relationship"
    end_serializer = api_serializers.RelationshipEndSerializer
    write_permissions: ClassVar = {"POST": ("units.change_unitrelationship",)}

    @extend_schema(
        summary="End a relationship (it stays in history)",
        parameters=[IF_MATCH],
        request=api_serializers.RelationshipEndSerializer,
        responses={200: api_serializers.RelationshipSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.end(request, pk)

    def end_object(self, pk: int, fields: dict[str, Any], **write: Any) -> None:
        # The input carries nothing but who, why and when.
        services.relationship_end(relationship=pk, **write)

"""Dotted-line relationships between units: list, one, link, end."""

from __future__ import annotations

from typing import Any, ClassVar

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api_serializers
from api.filters import RelationshipFilterSet
from api.views.base import (
    AS_OF,
    ERRORS,
    IF_MATCH,
    PAGE,
    WRITE_ERRORS,
    HistoryBackedListView,
    ObjectEndView,
    ObjectHistoryView,
    ObjectVersionView,
    ObjectView,
    existing_id,
    history_schema,
    ordering_parameter,
    paginated_serializer,
    search_parameter,
    version_schema,
    write_input,
)
from units import selectors, services
from units.content_languages import RELATIONSHIP_TRANSLATED, pop_translations
from units.models import OrganizationalUnit, RelationshipKind, UnitRelationship


class RelationshipListView(HistoryBackedListView):
    model = UnitRelationship
    serializer_class = api_serializers.RelationshipSerializer
    written_serializer = api_serializers.RelationshipWrittenSerializer
    object_kind = "relationship"
    slug_maps: ClassVar = {
        "unit_slugs": (OrganizationalUnit, ("source_id", "target_id")),
    }
    write_permissions: ClassVar = {"POST": ("units.add_unitrelationship",)}
    filterset_class = RelationshipFilterSet

    def records(self, **filters: Any) -> list[dict[str, Any]]:
        return selectors.relationship_records(**filters)

    @extend_schema(
        summary="List dotted-line relationships between units",
        description=(
            "Dotted lines as recorded at `as_of`: filter by `unit` (either end), `kind` "
            "and `status`; search descriptions and unit names with `q`; sort with "
            "`ordering`; paged."
        ),
        operation_id="relationships_list",
        parameters=[
            AS_OF,
            OpenApiParameter(
                "unit", OpenApiTypes.STR, description="Slug of either unit."
            ),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=RelationshipKind.values),
            OpenApiParameter("status", OpenApiTypes.STR, enum=["active", "ended"]),
            search_parameter("the description and both units' names and acronyms"),
            ordering_parameter(selectors.RELATIONSHIP_ORDERINGS, "id"),
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
        description=(
            "Draw a dotted line of a `kind` from `source` to `target` (unit slugs), "
            "with a `reason` (default `effective_at`: now). The same line twice is a "
            "409 (`duplicate_relationship`). Answers 201 with `Location`, its `ETag` "
            "and `recorded`."
        ),
        request=api_serializers.RelationshipCreateSerializer,
        responses={201: api_serializers.RelationshipWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, why, effective_at = write_input(
            api_serializers.RelationshipCreateSerializer, request
        )
        translations = pop_translations(fields, RELATIONSHIP_TRANSLATED)
        relationship = services.relationship_create(
            user=request.user,
            **why,
            effective_at=effective_at,
            translations=translations,
            **fields,
        )
        return self.created(
            relationship.pk,
            reverse("api:relationship-detail", kwargs={"pk": relationship.pk}),
        )


class RelationshipDetailView(ObjectView):
    model = UnitRelationship
    serializer_class = api_serializers.RelationshipSerializer
    written_serializer = api_serializers.RelationshipWrittenSerializer
    object_kind = "relationship"
    write_permissions: ClassVar = {"PATCH": ("units.change_unitrelationship",)}

    @extend_schema(
        summary="Correct the relationship's record",
        description=(
            "Correct what the registry recorded: the `started_on`, `ended_on` (null: "
            "still running) or description, with a `reason`. A correction of the "
            "past: new versions only, recorded now, so readings with `known_at` "
            "before it still give the old record. Refused with a message and nothing "
            "written: a start before the record began, or a stretch during which "
            "either unit was not yet recorded or was abolished (409); an end before "
            "the start (400). `If-Match` as for every write; a PATCH that changes "
            "nothing records nothing."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.RelationshipCorrectSerializer,
        responses={200: api_serializers.RelationshipWrittenSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        existing_id(UnitRelationship, pk)
        return self.change(
            request,
            pk,
            api_serializers.RelationshipCorrectSerializer,
            services.relationship_correct,
            relationship=pk,
        )

    @extend_schema(
        summary="One relationship",
        description=(
            "The dotted line as recorded at `as_of`: its two units, kind, description "
            "and dates, with `version` for `If-Match`."
        ),
        parameters=[AS_OF],
        responses={200: api_serializers.RelationshipSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.read_object(request, pk, f"id {pk}")


class RelationshipEndView(ObjectEndView):
    model = UnitRelationship
    serializer_class = api_serializers.RelationshipSerializer
    written_serializer = api_serializers.RelationshipWrittenSerializer
    object_kind = "relationship"
    end_serializer = api_serializers.RelationshipEndSerializer
    write_permissions: ClassVar = {"POST": ("units.change_unitrelationship",)}

    @extend_schema(
        summary="End a relationship (it stays in history)",
        description=(
            "End the dotted line, with a `reason` (`effective_at` defaults to now). It "
            "stays in the records and in history. `If-Match` as for every write."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.RelationshipEndSerializer,
        responses={200: api_serializers.RelationshipWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.end(request, pk)

    def end_service(self, **write: Any) -> object:
        # The input carries nothing but who, why and when.
        return services.relationship_end(**write)


class RelationshipHistoryView(ObjectHistoryView):
    model = UnitRelationship

    @extend_schema(**history_schema("relationship"))
    def get(self, request: Request, pk: int) -> Response:
        return self.history(request, pk, f"id {pk}")


class RelationshipVersionView(ObjectVersionView):
    model = UnitRelationship

    @extend_schema(**version_schema("relationship", "relationships"))
    def get(self, request: Request, pk: int, history_id: int) -> Response:
        return self.version(request, pk, f"id {pk}", history_id)

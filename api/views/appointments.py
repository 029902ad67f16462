"""Appointments (who held which post, from when to when): list, one, start, end."""

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
    flag,
    ordering_parameter,
    paginated_serializer,
    search_parameter,
    write_input,
)
from units import services
from units.models import Appointment, Person, Post, appointment_is_current

APPOINTMENT_ORDERINGS: dict[str, RowKey] = {
    "started_on": by_field("started_on"),
    # An appointment still running ends after every ended one.
    "ended_on": by_date("ended_on", missing=datetime.date.max),
    "id": by_field("id"),
}


class AppointmentListView(HistoryBackedListView):
    model = Appointment
    serializer_class = api_serializers.AppointmentSerializer
    object_kind = "appointment"
    slug_maps: ClassVar = {
        "person_slugs": (Person, ("person_id",)),
        "post_slugs": (Post, ("post_id",)),
    }
    write_permissions: ClassVar = {"POST": ("units.add_appointment",)}
    search_related: ClassVar = (
        (Person, ("person_id",), ("full_name",)),
        (Post, ("post_id",), ("title",)),
    )
    orderings = APPOINTMENT_ORDERINGS
    default_ordering = "-started_on"

    def validate_filters(self, request: Request) -> None:
        self.person_id = self.related_id("person", Person)
        self.post_id = self.related_id("post", Post)
        self.current = (
            flag(request, "current") if "current" in request.query_params else None
        )

    def filter_rows(
        self, rows: list[dict[str, Any]], when: datetime.datetime | None
    ) -> list[dict[str, Any]]:
        day = (when or datetime.datetime.now(tz=datetime.UTC)).date()

        return [
            row
            for row in rows
            if (self.person_id is None or row["person_id"] == self.person_id)
            and (self.post_id is None or row["post_id"] == self.post_id)
            and (
                self.current is None
                or appointment_is_current(row["started_on"], row["ended_on"], day)
                == self.current
            )
        ]

    @extend_schema(
        summary="List appointments (who held which post, from when to when)",
        operation_id="appointments_list",
        parameters=[
            AS_OF,
            OpenApiParameter("person", OpenApiTypes.STR, description="Person's slug."),
            OpenApiParameter("post", OpenApiTypes.STR, description="Post's slug."),
            OpenApiParameter(
                "current",
                OpenApiTypes.BOOL,
                description="Only appointments running (or not) at the instant.",
            ),
            search_parameter("the person's full name and the post's title"),
            ordering_parameter(APPOINTMENT_ORDERINGS, "-started_on"),
            *PAGE,
        ],
        responses={
            200: paginated_serializer(api_serializers.AppointmentSerializer),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        return self.list_response(request)

    @extend_schema(
        summary="Appoint a person to a post",
        request=api_serializers.AppointmentCreateSerializer,
        responses={201: api_serializers.AppointmentSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, reason, effective_at = write_input(
            api_serializers.AppointmentCreateSerializer, request
        )
        appointment = services.appointment_start(
            user=request.user, reason=reason, effective_at=effective_at, **fields
        )
        return self.created(
            appointment.pk,
            reverse("api:appointment-detail", kwargs={"pk": appointment.pk}),
        )


class AppointmentDetailView(ObjectView):
    model = Appointment
    serializer_class = api_serializers.AppointmentSerializer
    object_kind = "appointment"

    @extend_schema(
        summary="One appointment",
        parameters=[AS_OF],
        responses={200: api_serializers.AppointmentSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.read_object(request, pk, f"id {pk}")


class AppointmentEndView(ObjectEndView):
    model = Appointment
    serializer_class = api_serializers.AppointmentSerializer
    object_kind = "appointment"
    end_serializer = api_serializers.AppointmentEndSerializer
    write_permissions: ClassVar = {"POST": ("units.change_appointment",)}

    @extend_schema(
        summary="End an appointment",
        parameters=[IF_MATCH],
        request=api_serializers.AppointmentEndSerializer,
        responses={200: api_serializers.AppointmentSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.end(request, pk)

    def end_object(self, pk: int, fields: dict[str, Any], **write: Any) -> None:
        services.appointment_end(appointment=pk, **write, **fields)

"""Appointments (who held which post, from when to when): list, one, start, end."""

from __future__ import annotations

from typing import Any, ClassVar

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api_serializers
from api.filters import AppointmentFilterSet
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
from units.models import Appointment, Person, Post


class AppointmentListView(HistoryBackedListView):
    model = Appointment
    serializer_class = api_serializers.AppointmentSerializer
    written_serializer = api_serializers.AppointmentWrittenSerializer
    object_kind = "appointment"
    slug_maps: ClassVar = {
        "person_slugs": (Person, ("person_id",)),
        "post_slugs": (Post, ("post_id",)),
    }
    write_permissions: ClassVar = {"POST": ("units.add_appointment",)}
    filterset_class = AppointmentFilterSet

    def records(self, **filters: Any) -> list[dict[str, Any]]:
        return selectors.appointment_records(**filters)

    @extend_schema(
        summary="List appointments (who held which post, from when to when)",
        description=(
            "Appointments as recorded at `as_of`: filter by `person` and `post` "
            "(slugs), `current=true` for those running then; search names and titles "
            "with `q`; sort with `ordering`; paged."
        ),
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
            ordering_parameter(selectors.APPOINTMENT_ORDERINGS, "-started_on"),
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
        description=(
            "Appoint `person` to `post` from `started_on`, with a `reason`. "
            "`effective_at` defaults to the start of `started_on` (UTC), not now. A "
            "post has one holder at a time (409 `post_occupied`). Answers 201 with "
            "`Location`, its `ETag` and `recorded`."
        ),
        request=api_serializers.AppointmentCreateSerializer,
        responses={201: api_serializers.AppointmentWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, why, effective_at = write_input(
            api_serializers.AppointmentCreateSerializer, request
        )
        appointment = services.appointment_start(
            user=request.user, **why, effective_at=effective_at, **fields
        )
        return self.created(
            appointment.pk,
            reverse("api:appointment-detail", kwargs={"pk": appointment.pk}),
        )


class AppointmentDetailView(ObjectView):
    model = Appointment
    serializer_class = api_serializers.AppointmentSerializer
    written_serializer = api_serializers.AppointmentWrittenSerializer
    object_kind = "appointment"
    write_permissions: ClassVar = {"PATCH": ("units.change_appointment",)}

    @extend_schema(
        summary="Correct the appointment's record",
        description=(
            "Correct what the registry recorded: the person, post, `started_on`, "
            "`ended_on` (null: still running) or note, with a `reason`. A correction "
            "of the past: new versions only, recorded now, so readings with "
            "`known_at` before it still give the old record. Refused with a message "
            "and nothing written: a post with two holders, a post or unit abolished "
            "or not yet recorded within the corrected stretch, or a start before the "
            "record began (409); an end before the start (400). `If-Match` as for "
            "every write; a PATCH that changes nothing records nothing."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.AppointmentCorrectSerializer,
        responses={200: api_serializers.AppointmentWrittenSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        existing_id(Appointment, pk)
        return self.change(
            request,
            pk,
            api_serializers.AppointmentCorrectSerializer,
            services.appointment_correct,
            appointment=pk,
        )

    @extend_schema(
        summary="One appointment",
        description=(
            "The appointment as recorded at `as_of`: its person, post, dates and note, "
            "with `version` for `If-Match`."
        ),
        parameters=[AS_OF],
        responses={200: api_serializers.AppointmentSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.read_object(request, pk, f"id {pk}")


class AppointmentEndView(ObjectEndView):
    model = Appointment
    serializer_class = api_serializers.AppointmentSerializer
    written_serializer = api_serializers.AppointmentWrittenSerializer
    object_kind = "appointment"
    end_serializer = api_serializers.AppointmentEndSerializer
    write_permissions: ClassVar = {"POST": ("units.change_appointment",)}

    @extend_schema(
        summary="End an appointment",
        description=(
            "End the appointment on `ended_on`, with a `reason`; `effective_at` "
            "defaults to the start of `ended_on` (UTC). It stays in the records and in "
            "history. `If-Match` as for every write."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.AppointmentEndSerializer,
        responses={200: api_serializers.AppointmentWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return self.end(request, pk)

    def end_service(self, **write: Any) -> object:
        return services.appointment_end(**write)


class AppointmentHistoryView(ObjectHistoryView):
    model = Appointment

    @extend_schema(**history_schema("appointment"))
    def get(self, request: Request, pk: int) -> Response:
        return self.history(request, pk, f"id {pk}")


class AppointmentVersionView(ObjectVersionView):
    model = Appointment

    @extend_schema(**version_schema("appointment", "appointments"))
    def get(self, request: Request, pk: int, history_id: int) -> Response:
        return self.version(request, pk, f"id {pk}", history_id)

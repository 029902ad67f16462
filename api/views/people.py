"""People: list, one person, and the writes on people."""

from __future__ import annotations

from typing import Any, ClassVar

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api_serializers
from api.filters import PersonFilterSet
from api.views.base import (
    AS_OF,
    ERRORS,
    IF_MATCH,
    PAGE,
    WRITE_ERRORS,
    HistoryBackedListView,
    ObjectHistoryView,
    ObjectVersionView,
    ObjectView,
    history_schema,
    ordering_parameter,
    paginated_serializer,
    search_parameter,
    version_schema,
    write_input,
)
from units import selectors, services
from units.models import Person


class PersonListView(HistoryBackedListView):
    model = Person
    serializer_class = api_serializers.PersonSerializer
    written_serializer = api_serializers.PersonWrittenSerializer
    object_kind = "person"
    write_permissions: ClassVar = {"POST": ("units.add_person",)}
    filterset_class = PersonFilterSet

    def records(self, **filters: Any) -> list[dict[str, Any]]:
        return selectors.person_records(**filters)

    @extend_schema(
        summary="List people",
        description=(
            "People as recorded at `as_of`: search full names with `q`, sort with "
            "`ordering`; paged with `limit` and `offset`. Their posts are in "
            "`appointments/?person=` with their slug."
        ),
        operation_id="people_list",
        parameters=[
            AS_OF,
            search_parameter("full names"),
            ordering_parameter(selectors.PERSON_ORDERINGS, "full_name"),
            *PAGE,
        ],
        responses={
            200: paginated_serializer(api_serializers.PersonSerializer),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        return self.list_response(request)

    @extend_schema(
        summary="Record a person",
        description=(
            "A new person by `full_name`, with a `reason`; the slug is made from the "
            "name unless given. Appoint them to a post with `POST appointments/`. "
            "Answers 201 with `Location`, its `ETag` and `recorded`."
        ),
        request=api_serializers.PersonCreateSerializer,
        responses={201: api_serializers.PersonWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, why, effective_at = write_input(
            api_serializers.PersonCreateSerializer, request
        )
        person = services.person_create(
            user=request.user, **why, effective_at=effective_at, **fields
        )
        return self.created(
            person.pk, reverse("api:person-detail", kwargs={"slug": person.slug})
        )


class PersonDetailView(ObjectView):
    model = Person
    serializer_class = api_serializers.PersonSerializer
    written_serializer = api_serializers.PersonWrittenSerializer
    object_kind = "person"
    write_permissions: ClassVar = {"PATCH": ("units.change_person",)}

    @extend_schema(
        summary="Correct a person's name",
        description=(
            "Correct the person's `full_name` (the same person, spelled otherwise), "
            "with a `reason`. Send the `ETag` you read in `If-Match`: the write is "
            "refused (412) if the person changed since."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.PersonUpdateSerializer,
        responses={200: api_serializers.PersonWrittenSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, slug: str) -> Response:
        person_id = selectors.id_for_slug(Person, slug)
        if person_id is None:
            raise NotFound(f"No person has the slug “{slug}”.")
        return self.change(
            request,
            person_id,
            api_serializers.PersonUpdateSerializer,
            services.person_update,
            person=person_id,
        )

    @extend_schema(
        summary="One person",
        description=(
            "The person as recorded at `as_of`, with `version`; its `ETag` is what a "
            "write sends in `If-Match`. Their posts: `appointments/?person=` with their "
            "slug."
        ),
        parameters=[AS_OF],
        responses={200: api_serializers.PersonSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.read_object(
            request, selectors.id_for_slug(Person, slug), f"slug “{slug}”"
        )


class PersonHistoryView(ObjectHistoryView):
    model = Person

    @extend_schema(**history_schema("person"))
    def get(self, request: Request, slug: str) -> Response:
        return self.history(
            request, selectors.id_for_slug(Person, slug), f"slug “{slug}”"
        )


class PersonVersionView(ObjectVersionView):
    model = Person

    @extend_schema(**version_schema("person", "people"))
    def get(self, request: Request, slug: str, history_id: int) -> Response:
        return self.version(
            request, selectors.id_for_slug(Person, slug), f"slug “{slug}”", history_id
        )

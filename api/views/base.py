"""The base of every API view and what the views share.

The documented parameters and error answers, paging, query-string checks, the input
of a write, and the list of a history-backed model. Reads accept ``as_of`` (an ISO
8601 date or date-time) and answer with the structure as it stood then. Whole-registry
reads are cached per registry generation; single objects carry a version ETag that
writes can send back in ``If-Match``.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, ClassVar

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.conditional import (
    expected_version,
    generation_read,
    object_read,
    object_response,
)
from api.exceptions import api_exception_handler
from api.filters import (
    LARGEST_ID,
    MAX_PAGE_SIZE,
    AsOfFilterSet,
    ListFilterSet,
    PageFilterSet,
    ordering_choices,
)
from api.permissions import ReadAnyoneWriteWithModelPermission, may_see_staff_identities
from api.serializers import LINK_SLUG_MAPS, RevisionSerializer, VersionSerializer
from units import selectors
from units.dates import moment_text
from units.models import OrganizationalUnit, Person, Post, RecordedModel

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.STR,
    description="The instant to answer for, as the registry stood then (default: "
    "now). An ISO 8601 date means the end of that day, UTC (`2023-06-30`); a date-time "
    "without an offset is UTC (`2023-06-30T09:30:00Z`). Objects not yet recorded then "
    "are absent; a malformed value is a 400 naming `as_of`.",
)


INCLUDE_ABOLISHED = OpenApiParameter(
    "include_abolished",
    OpenApiTypes.BOOL,
    description="Also show abolished units (flagged with status abolished).",
)


LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    description=f"Page size (default 50, at most {MAX_PAGE_SIZE}).",
)


OFFSET = OpenApiParameter(
    "offset",
    {"type": "integer", "minimum": 0},
    description="Start of the page (default 0).",
)


PAGE = [LIMIT, OFFSET]


STATUS = OpenApiParameter(
    "status", OpenApiTypes.STR, enum=["active", "abolished"], description="Filter."
)


ERRORS = {
    400: OpenApiResponse(description="Bad input; the message names the problem."),
    404: OpenApiResponse(description="No such object (at that instant)."),
}


WRITE_ERRORS = {
    **ERRORS,
    400: OpenApiResponse(
        description="Bad input; the message names the problem and `code` says which "
        "(a revert to the version the object already matches is `no_change`). "
        "Nothing is written."
    ),
    403: OpenApiResponse(description="Not authenticated or missing permission."),
    409: OpenApiResponse(
        description="The change conflicts with the registry's state (a cycle, an "
        "abolished unit, a held post, a change out of order, ...)."
    ),
    412: OpenApiResponse(description="If-Match names an outdated version."),
}
WITHOUT_IF_MATCH_ERRORS = {
    status: response
    for status, response in WRITE_ERRORS.items()
    if status != HTTPStatus.PRECONDITION_FAILED
}


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="The `ETag` of the object as you read it, quotes included "
    '(`"unit-12-v3"`). If the object has changed since, the write is refused with 412 '
    "(`stale_version`, saying who changed it and when) and nothing is written, so no "
    "one's change is lost. Compared strongly: a weak tag (`W/...`) never matches. "
    "Without it the write is not checked against a version.",
)


# Cached: one class per item, so pages of the same item (every object's history) share
# one schema component instead of clashing under one name.
@functools.cache
def paginated_serializer(item: type[serializers.Serializer]) -> type:
    """The documented shape of a page (LimitOffsetPagination) of ``item``."""
    name = item.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}ListSerializer",
        (serializers.Serializer,),
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )


def page(
    request: Request,
    view: APIView,
    items: list[Any],
    serializer_class: type[serializers.Serializer],
    context: dict[str, Any],
    *,
    page_context: Callable[[list[Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One page of ``items``; ``page_context`` adds what only the page's own items
    need (read for them alone, whatever the length of the list)."""
    check_page_window(request)
    paginator = LimitOffsetPagination()
    # DRF's pagination slices any sequence; its stubs ask for a QuerySet.
    selected: list[Any] = (
        paginator.paginate_queryset(items, request, view=view)  # type: ignore[arg-type]
        or []
    )
    if page_context is not None:
        context = {**context, **page_context(selected)}
    return {
        "count": paginator.count,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
        "results": serializer_class(selected, many=True, context=context).data,
    }


def as_of_instant(request: Request) -> datetime.datetime | None:
    """The ``as_of`` of a read outside the lists (None: now); malformed → 400."""
    return AsOfFilterSet(request.query_params).selector_arguments()["when"]


def origin(request: Request) -> str:
    """Scheme and host of the request (``https://registry.example.org``).

    Every link the API emits is absolute, as DRF's ``next`` and ``previous`` are: the
    units' ``url`` fields put it before the path ``reverse()`` gives (which carries any
    script prefix). Cached answers are keyed on the host too (``api.conditional``).
    """
    return request.build_absolute_uri("/").removesuffix("/")


def check_page_window(request: Request) -> None:
    """Refuse a malformed or oversized ``limit``/``offset`` instead of ignoring it."""
    PageFilterSet(request.query_params).selector_arguments()


def unit_id_or_404(slug: str) -> int:
    unit_id = selectors.id_for_slug(OrganizationalUnit, slug)
    if unit_id is None:
        raise NotFound(f"No unit has the slug “{slug}”.")
    return unit_id


def existing_id(model: type[models.Model], pk: int) -> int:
    """Refuse ids no row can have before they reach the database."""
    if pk > LARGEST_ID:
        raise NotFound(
            f"{str(model._meta.verbose_name).capitalize()} {pk} does not exist."
        )
    return pk


def absent_at(kind: str, slug: str, when: datetime.datetime | None) -> NotFound:
    moment = moment_text(when) if when else "now"
    return NotFound(
        f"The {kind} “{slug}” is not in the registry as of {moment} "
        "(not yet established, or abolished: try include_abolished=true)."
    )


def write_input(
    serializer_class: type[serializers.Serializer], request: Request
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Validated fields of a write; why (reason and its visibility) and when apart.

    ``why`` goes to the service as it is (``**why``): a reason never travels without
    the visibility the writer chose for it.
    """
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    fields = dict(serializer.validated_data)
    why = {
        "reason": fields.pop("reason"),
        "reason_visibility": fields.pop("reason_visibility", None),
    }
    return fields, why, fields.pop("effective_at", None)


# Answers a method the view has no handler for with 405 and ``Allow`` before anything
# else. DRF authenticates (a session write without a CSRF token is refused there) and
# checks permissions before it looks for the handler, so a PUT or DELETE used to be a
# 401/403 that told an editor "you may not" when the truth is "no such operation".
class MethodsFirst(APIView):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        method = request.method.lower() if request.method else ""
        if method not in self.http_method_names or not hasattr(self, method):
            self.http_method_not_allowed(request, *args, **kwargs)
        super().initial(request, *args, **kwargs)


# Base of every API view: open reads, permission-checked writes, clear errors. (A
# comment, not a docstring: drf-spectacular would show it on every operation.)
class RegistryView(MethodsFirst):
    permission_classes = [ReadAnyoneWriteWithModelPermission]
    write_permissions: ClassVar[dict[str, tuple[str, ...]]] = {}

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return api_exception_handler

    def staff_reader(self) -> bool:
        return may_see_staff_identities(self.request.user)


def ordering_parameter(orderings: Iterable[str], default: str) -> OpenApiParameter:
    return OpenApiParameter(
        "ordering",
        OpenApiTypes.STR,
        enum=ordering_choices(orderings),
        description=f"Sort order; `-` descends. Default: {default}.",
    )


def search_parameter(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "q",
        OpenApiTypes.STR,
        description=f"Case-insensitive search in {what}, as they stood at as_of.",
    )


def context_for(row: dict[str, Any]) -> dict[str, Any]:
    """Slug maps for the foreign keys a single row carries (one query each)."""
    unit_ids = {
        row.get(key)
        for key in (
            "unit_id",
            "source_id",
            "target_id",
            "predecessor_id",
            "successor_id",
        )
    }
    return {
        "unit_slugs": selectors.slug_map(OrganizationalUnit, unit_ids),
        "post_slugs": selectors.slug_map(Post, [row.get("post_id")]),
        "person_slugs": selectors.slug_map(Person, [row.get("person_id")]),
    }


def newest_revision(model: type[RecordedModel], pk: int) -> int | None:
    """The id of an object's newest revision, read before a write (None: none yet)."""
    newest = selectors.latest_revisions(model, [pk]).get(pk)
    return None if newest is None else newest.history_id


def recorded_since(
    model: type[RecordedModel], pk: int, newest_before: int | None
) -> selectors.RecordedRevision | None:
    """The revision a write recorded; None if the newest is still the one before.

    Every service write that changes an object leaves one new revision of it, and one
    that changes nothing leaves none (its answer says so with ``recorded: null``).
    """
    newest = selectors.latest_revisions(model, [pk]).get(pk)
    if newest is None or newest.history_id == newest_before:
        return None
    return newest


# A view of a model whose objects selectors.records_as_of() gives as of an instant (posts,
# people, appointments, relationships). Subclasses name the model, its serializer and
# what its ETags call it (``object_kind``).
class HistoryBackedView(RegistryView):
    model: ClassVar[type[RecordedModel]]
    serializer_class: ClassVar[type[serializers.Serializer]]
    object_kind: ClassVar[str]

    written_serializer: ClassVar[type[serializers.Serializer]]

    def written(
        self, pk: int, newest_before: int | None, status: int = HTTPStatus.OK
    ) -> Response:
        """The object just written, as it stands now, with its new version ETag.

        ``newest_before`` is the newest revision before the write (``newest_revision``),
        so the answer says what the write recorded, or that it recorded nothing.
        """
        fields = selectors.RECORD_FIELDS[self.model]
        row = selectors.records_as_of(self.model, None, fields, ids=[pk])[0]
        recorded = recorded_since(self.model, pk, newest_before)
        return object_response(
            self.written_serializer(
                {**row, "recorded": recorded}, context=context_for(row)
            ).data,
            kind=self.object_kind,
            pk=pk,
            version=row["version"],
            status=status,
        )

    def change(
        self,
        request: Request,
        pk: int,
        input_serializer: type[serializers.Serializer],
        service: Callable[..., object],
        **target: int,
    ) -> Response:
        """One write to an existing object, answered with what it recorded.

        ``If-Match`` gives the version the service checks, ``input_serializer``
        validates the body, ``service`` is called with the object (``target``, like
        ``post=3``), who, why and when, and the fields.
        """
        version = expected_version(request, kind=self.object_kind, pk=pk)
        fields, why, effective_at = write_input(input_serializer, request)
        newest_before = newest_revision(self.model, pk)
        service(
            **target,
            user=request.user,
            **why,
            effective_at=effective_at,
            expected_version=version,
            **fields,
        )
        return self.written(pk, newest_before)

    def created(self, pk: int, url: str) -> Response:
        """The object just created: 201, with its address in ``Location``."""
        response = self.written(pk, None, HTTPStatus.CREATED)
        response["Location"] = self.request.build_absolute_uri(url)
        return response


# A list of one model's objects as of an instant, filtered, searched, ordered, one page
# at a time. Subclasses name the FilterSet that reads the query and the selector that
# chooses and orders the rows (it takes the FilterSet's cleaned values by keyword).
class HistoryBackedListView(HistoryBackedView):
    filterset_class: ClassVar[type[ListFilterSet]]
    # Context key → (model, fields of the row holding its ids) for id-to-slug maps.
    slug_maps: ClassVar[dict[str, tuple[type[models.Model], tuple[str, ...]]]] = {}

    def records(self, **filters: Any) -> list[dict[str, Any]]:
        """The selector's rows for the validated filters (``when`` is ``as_of``)."""
        raise NotImplementedError

    def list_response(self, request: Request) -> Response:
        filters = self.filterset_class(request.query_params).selector_arguments()
        check_page_window(request)

        def build() -> dict[str, Any]:
            rows = self.records(**filters)
            context = {
                key: selectors.slug_map(
                    model, {row[field] for row in rows for field in fields}
                )
                for key, (model, fields) in self.slug_maps.items()
            }
            return page(request, self, rows, self.serializer_class, context)

        return generation_read(
            request, build, parameters=(self.filterset_class, PageFilterSet)
        )


# One object of a history-backed model as of an instant, by slug or id. Subclasses'
# methods carry the schema and call ``read_object``, or answer a write with
# ``written``.
class ObjectView(HistoryBackedView):
    def read_object(self, request: Request, pk: int | None, label: str) -> Response:
        """The object at ``as_of``; ``label`` names it in a 404 (``id 3``)."""
        when = as_of_instant(request)
        if pk is None:
            raise NotFound(f"No {self.model._meta.verbose_name} has the {label}.")
        existing_id(self.model, pk)
        rows = selectors.records_as_of(
            self.model, when, selectors.RECORD_FIELDS[self.model], ids=[pk]
        )
        if not rows:
            raise absent_at(str(self.model._meta.verbose_name), label, when)
        row = rows[0]
        data = self.serializer_class(row, context=context_for(row)).data
        return object_read(
            request, data, kind=self.object_kind, pk=pk, version=row["version"]
        )


# Ends an object named by id (an appointment, a relationship); it stays in the
# history with its end date. Subclasses name the input and call their service in
# ``end_service``; their ``post`` carries the schema and calls ``end``.
class ObjectEndView(HistoryBackedView):
    end_serializer: ClassVar[type[serializers.Serializer]]

    def end(self, request: Request, pk: int) -> Response:
        existing_id(self.model, pk)
        return self.change(
            request, pk, self.end_serializer, self.end_service, **{self.object_kind: pk}
        )

    def end_service(self, **write: Any) -> object:
        """Call the service that ends the object (named by its kind, like
        ``appointment=3``) with ``write``: who, why, when and the input's fields."""
        raise NotImplementedError


HISTORY_AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.STR,
    description="Only versions effective at or before this instant.",
)


def history_schema(kind: str) -> dict[str, Any]:
    """The schema of an object's history endpoint (``kind``: post, person, ...)."""
    return {
        "summary": f"{'An' if kind[0] in 'aeiou' else 'A'} {kind}'s versions, newest "
        "first, with field-level changes",
        "description": f"Every recorded version of the {kind}: when it took effect "
        "(`effective_at`), when it was written down (`recorded_at`), why (`reason`, "
        "null for the public when `reason_visibility` is internal) "
        "and which fields changed (`changes`; a link to another object is its slug). "
        "Paged like every list.",
        "parameters": [HISTORY_AS_OF, *PAGE],
        "responses": {200: paginated_serializer(RevisionSerializer), **ERRORS},
    }


# The versions of one object of a history-backed model, newest first, a page at a
# time, with field-level changes (as units/{slug}/history/). Subclasses name the model;
# their ``get`` carries the schema and calls ``history``.
class ObjectHistoryView(RegistryView):
    model: ClassVar[type[RecordedModel]]

    def history(self, request: Request, pk: int | None, label: str) -> Response:
        """The object's history; ``label`` names it in a 404 (``id 3``)."""
        when = as_of_instant(request)
        check_page_window(request)
        name = str(self.model._meta.verbose_name)
        if pk is None:
            raise NotFound(f"No {name} has the {label}.")
        existing_id(self.model, pk)

        def build() -> dict[str, Any]:
            revisions = selectors.object_history(self.model, pk)
            if not revisions:
                raise NotFound(f"No {name} has the {label}.")
            if when is not None:
                revisions = [rev for rev in revisions if rev.effective_at <= when]
            context = revision_context(revisions, staff_reader=self.staff_reader())
            return page(request, self, revisions, RevisionSerializer, context)

        return generation_read(
            request, build, parameters=(AsOfFilterSet, PageFilterSet)
        )


def version_schema(kind: str, path: str) -> dict[str, Any]:
    """The schema of an object's one-version endpoint (``kind``: post, person, ...;
    ``path``: the first segment of its address, which starts its operation id)."""
    return {
        "operation_id": f"{path}_version_retrieve",
        "summary": f"One version of {'an' if kind[0] in 'aeiou' else 'a'} {kind}, "
        "a superseded one included",
        "description": f"The version `history_id` of the {kind}, as in its history. A "
        "version a correction of the past superseded is no longer in the history as "
        "known now (the history's `corrects_version` names it); it is answered here "
        "as the registry recorded it just before the correction, with "
        "`superseded_on` and `superseded_by` (the version that replaced it). 404 if "
        f"it is not a version of the {kind} (or not recorded by `known_at`).",
        "responses": {200: VersionSerializer, **ERRORS},
    }


# One version of one object of a history-backed model, as its history lists it, or
# as recorded before a correction superseded it. Subclasses name the model; their
# ``get`` carries the schema (``version_schema``) and calls ``version``.
class ObjectVersionView(RegistryView):
    model: ClassVar[type[RecordedModel]]

    def version(
        self, request: Request, pk: int | None, label: str, history_id: int
    ) -> Response:
        """The object's version ``history_id``; ``label`` names it in a 404."""
        name = str(self.model._meta.verbose_name)
        if pk is None:
            raise NotFound(f"No {name} has the {label}.")
        existing_id(self.model, pk)

        def build() -> dict[str, Any]:
            version = selectors.object_version(
                self.model, pk, history_id, selectors.HISTORY_FIELDS[self.model]
            )
            if version is None:
                raise NotFound(
                    f"Version {history_id} is not a version of the {name} with the "
                    f"{label}."
                )
            revision = version.revision
            context = revision_context([revision], staff_reader=self.staff_reader())
            superseded_on = version.superseded_on
            return {
                **RevisionSerializer(revision, context=context).data,
                "superseded_on": superseded_on
                and serializers.DateTimeField().to_representation(superseded_on),
                "superseded_by": version.superseded_by,
            }

        return generation_read(request, build, parameters=())


def revision_context(
    revisions: Iterable[selectors.UnitRevision], *, staff_reader: bool
) -> dict[str, Any]:
    """What ``RevisionSerializer`` needs beside ``revisions``: the slugs of the objects
    their changes and corrections link to (one query a kind), and the reader."""
    linked: dict[str, set[int]] = {}
    for revision in revisions:
        for change in (*revision.changes, *revision.corrections):
            if change.field in LINK_SLUG_MAPS:
                linked.setdefault(LINK_SLUG_MAPS[change.field], set()).update(
                    (change.old, change.new)
                )
    context: dict[str, Any] = {
        map_name: selectors.slug_map(model, linked.get(map_name, ()))
        for map_name, model in SLUG_MAP_MODELS.items()
    }
    context["staff_reader"] = staff_reader
    return context


# The model each slug map of a serializer context names.
SLUG_MAP_MODELS: dict[str, type[models.Model]] = {
    "unit_slugs": OrganizationalUnit,
    "post_slugs": Post,
    "person_slugs": Person,
}

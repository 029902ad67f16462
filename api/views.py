"""The REST API: thin views over units.selectors (reads) and units.services (writes).

Reads accept ``as_of`` (an ISO 8601 date or date-time) and answer with the structure as
it stood then. Whole-registry reads are cached per registry generation; single objects
carry a version ETag that writes can send back in ``If-Match``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, ClassVar

from django.db import models
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from api import serializers as api_serializers
from api.conditional import (
    expected_version,
    generation_read,
    generation_read_json,
    object_read,
    object_response,
)
from api.exceptions import api_exception_handler
from api.permissions import ReadAnyoneWriteWithModelPermission, may_see_staff_identities
from api.tree_json import current_branch_json, current_tree_json, tree_json
from units import selectors, services
from units.change_cursor import (
    InvalidChangeCursor,
    change_cursor,
    read_change_cursor,
)
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RelationshipKind,
    UnitKind,
    UnitRelationship,
    appointment_is_current,
)
from units.selectors import UnitNode

# --- Shared parameters and helpers ----------------------------------------------------

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.STR,
    description="ISO 8601 date or date-time; answer as the registry stood then. "
    "A date means the end of that day (UTC).",
)
INCLUDE_ABOLISHED = OpenApiParameter(
    "include_abolished",
    OpenApiTypes.BOOL,
    description="Also show abolished units (flagged with status abolished).",
)
# The largest page: a list answer is built in memory and cached whole, so a client
# asking for everything at once must page instead (a larger limit is a 400, not a
# silently shorter page, so the client learns why).
MAX_PAGE_SIZE = 1000
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
    description="The ETag you read; the write is refused (412) if it is outdated.",
)

UNIT_ORDERINGS: dict[str, Callable[[UnitNode], Any]] = {
    "name": lambda node: node.name.casefold(),
    "slug": lambda node: node.slug,
    "kind": lambda node: node.kind,
    "established_on": lambda node: node.established_on or datetime.date.min,
}


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
) -> dict[str, Any]:
    check_page_window(request)
    paginator = LimitOffsetPagination()
    selected = paginator.paginate_queryset(items, request, view=view) or []
    return {
        "count": paginator.count,
        "next": paginator.get_next_link(),
        "previous": paginator.get_previous_link(),
        "results": serializer_class(selected, many=True, context=context).data,
    }


def whole_number(text: str) -> int | None:
    """A plain non-negative integer (ASCII digits, below 2**63), or None."""
    digits = text.lstrip("0") or "0"
    if text.isascii() and text.isdigit() and len(digits) <= len(str(LARGEST_ID)):
        number = int(digits)
        return number if number <= LARGEST_ID else None
    return None


def check_page_window(
    request: Request, *, read_on: str = "read the rest with offset"
) -> None:
    """Refuse a malformed or oversized ``limit``/``offset`` instead of ignoring it.

    ``read_on`` tells a client asking for too large a page how to read the rest.
    """
    limit_text = request.query_params.get("limit")
    if limit_text is not None:
        limit = whole_number(limit_text)
        is_digits = limit_text.isascii() and limit_text.isdigit()
        if is_digits and (limit is None or limit > MAX_PAGE_SIZE):
            raise ValidationError(
                {
                    "limit": f"{limit_text[:20]} is more than the largest page, "
                    f"{MAX_PAGE_SIZE}; {read_on}."
                }
            )
        if limit is None or limit < 1:
            raise ValidationError(
                {
                    "limit": f"“{limit_text[:40]}” is not a whole number "
                    f"from 1 to {MAX_PAGE_SIZE}."
                }
            )
    offset_text = request.query_params.get("offset")
    if offset_text is not None and whole_number(offset_text) is None:
        raise ValidationError(
            {"offset": f"“{offset_text[:40]}” is not a whole number from 0 upwards."}
        )


def flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValidationError({name: f"“{value}” is not a boolean; use true or false."})


def choice(request: Request, name: str, allowed: Iterable[str]) -> str | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    allowed = list(allowed)
    if value not in allowed:
        raise ValidationError({name: f"“{value}” is not one of: {', '.join(allowed)}."})
    return value


def search_matches(query: str | None, *texts: str) -> bool:
    if not query:
        return True
    needle = query.casefold()
    return any(needle in text.casefold() for text in texts)


def tree_at(
    when: datetime.datetime | None, *, include_abolished: bool
) -> list[UnitNode]:
    if when is None:
        return selectors.unit_tree(include_abolished=include_abolished)
    return selectors.unit_tree_as_of(when, include_abolished=include_abolished)


def all_nodes(roots: list[UnitNode]) -> list[UnitNode]:
    return [node for root in roots for node in root.walk()]


def unit_id_or_404(slug: str) -> int:
    unit_id = selectors.id_for_slug(OrganizationalUnit, slug)
    if unit_id is None:
        raise NotFound(f"No unit has the slug “{slug}”.")
    return unit_id


# Ids are 64-bit; a larger number in a URL cannot name anything (and would overflow).
LARGEST_ID = 2**63 - 1


def existing_id(model: type[models.Model], pk: int) -> int:
    """Refuse ids no row can have before they reach the database."""
    if pk > LARGEST_ID:
        raise NotFound(f"{model._meta.verbose_name.capitalize()} {pk} does not exist.")
    return pk


def absent_at(kind: str, slug: str, when: datetime.datetime | None) -> NotFound:
    moment = f"{when:%Y-%m-%d %H:%M} UTC" if when else "now"
    return NotFound(
        f"The {kind} “{slug}” is not in the registry as of {moment} "
        "(not yet established, or abolished: try include_abolished=true)."
    )


def write_input(
    serializer_class: type[serializers.Serializer], request: Request
) -> tuple[dict[str, Any], str, Any]:
    """Validated fields of a write, with its reason and effective time taken out."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    fields = dict(serializer.validated_data)
    return fields, fields.pop("reason"), fields.pop("effective_at", None)


# Base of every API view: open reads, permission-checked writes, clear errors. (A
# comment, not a docstring: drf-spectacular would show it on every operation.)
class RegistryView(APIView):
    permission_classes = [ReadAnyoneWriteWithModelPermission]
    write_permissions: ClassVar[dict[str, tuple[str, ...]]] = {}

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return api_exception_handler

    def show_authors(self) -> bool:
        return may_see_staff_identities(self.request.user)


# --- Units ----------------------------------------------------------------------------


def unit_written(unit_id: int, status: int = HTTPStatus.OK) -> Response:
    """The representation of a unit just written, with its new version ETag."""
    row = selectors.unit_record(unit_id, None)
    assert row is not None  # noqa: S101 - the service has just saved it
    data = api_serializers.UnitDetailSerializer(
        row,
        context={
            "unit_slugs": selectors.slug_map(OrganizationalUnit, [row["parent_id"]])
        },
    ).data
    response = object_response(
        data, kind="unit", pk=unit_id, version=row["version"], status=status
    )
    if status == HTTPStatus.CREATED:
        response["Location"] = data["url"]
    return response


class UnitListView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.add_organizationalunit",)}

    @extend_schema(
        summary="List units",
        operation_id="units_list",
        parameters=[
            AS_OF,
            OpenApiParameter("kind", OpenApiTypes.STR, enum=UnitKind.values),
            STATUS,
            OpenApiParameter("parent", OpenApiTypes.STR, description="Parent's slug."),
            OpenApiParameter(
                "q", OpenApiTypes.STR, description="Search name, acronym and mandate."
            ),
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                enum=["tree", *UNIT_ORDERINGS, *(f"-{key}" for key in UNIT_ORDERINGS)],
            ),
            *PAGE,
        ],
        responses={
            200: paginated_serializer(api_serializers.UnitWithHeadSerializer),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        """Every unit that existed at the instant, abolished ones flagged, tree order."""
        when = selectors.as_of_parameter(request.query_params)
        kind = choice(request, "kind", UnitKind.values)
        status = choice(request, "status", ["active", "abolished"])
        ordering = choice(
            request,
            "ordering",
            ["tree", *UNIT_ORDERINGS, *(f"-{key}" for key in UNIT_ORDERINGS)],
        )
        parent_slug = request.query_params.get("parent")
        query = request.query_params.get("q")

        def build() -> dict[str, Any]:
            nodes = all_nodes(tree_at(when, include_abolished=True))
            slugs = {node.id: node.slug for node in nodes}
            parent_id = None
            if parent_slug is not None:
                ids = {slug: pk for pk, slug in slugs.items()}
                if parent_slug not in ids:
                    raise ValidationError(
                        {"parent": f"No unit “{parent_slug}” exists at that instant."}
                    )
                parent_id = ids[parent_slug]
            selected = [
                node
                for node in nodes
                if (kind is None or node.kind == kind)
                and (status is None or (status == "active") == node.is_active)
                and (parent_slug is None or node.parent_id == parent_id)
                and search_matches(query, node.name, node.short_name, node.mandate)
            ]
            if ordering and ordering != "tree":
                key = UNIT_ORDERINGS[ordering.removeprefix("-")]
                selected.sort(key=key, reverse=ordering.startswith("-"))
            return page(
                request,
                self,
                selected,
                api_serializers.UnitWithHeadSerializer,
                {"unit_slugs": slugs},
            )

        return generation_read(request, build)

    @extend_schema(
        summary="Establish a unit",
        request=api_serializers.UnitCreateSerializer,
        responses={201: api_serializers.UnitDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, reason, effective_at = write_input(
            api_serializers.UnitCreateSerializer, request
        )
        unit = services.unit_create(
            user=request.user, reason=reason, effective_at=effective_at, **fields
        )
        return unit_written(unit.pk, status=HTTPStatus.CREATED)


class UnitDetailView(RegistryView):
    write_permissions: ClassVar = {"PATCH": ("units.change_organizationalunit",)}

    @extend_schema(
        summary="One unit",
        parameters=[AS_OF],
        responses={200: api_serializers.UnitDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        when = selectors.as_of_parameter(request.query_params)
        unit_id = unit_id_or_404(slug)
        row = selectors.unit_record(unit_id, when)
        if row is None:
            raise absent_at("unit", slug, when)
        data = api_serializers.UnitDetailSerializer(
            row,
            context={
                "unit_slugs": selectors.slug_map(OrganizationalUnit, [row["parent_id"]])
            },
        ).data
        return object_read(
            request, data, kind="unit", pk=unit_id, version=row["version"]
        )

    @extend_schema(
        summary="Rename a unit or change its mandate and other descriptive fields",
        parameters=[IF_MATCH],
        request=api_serializers.UnitUpdateSerializer,
        responses={200: api_serializers.UnitDetailSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, slug: str) -> Response:
        unit_id = unit_id_or_404(slug)
        version = expected_version(request, kind="unit", pk=unit_id)
        fields, reason, effective_at = write_input(
            api_serializers.UnitUpdateSerializer, request
        )
        services.unit_update(
            unit=unit_id,
            user=request.user,
            reason=reason,
            effective_at=effective_at,
            expected_version=version,
            **fields,
        )
        return unit_written(unit_id)


class UnitMoveView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.change_organizationalunit",)}

    @extend_schema(
        summary="Make a unit (and its subtree) report to another unit",
        description="Name the new parent (`parent`, optionally with `sibling_order`), "
        "or place the unit relative to another one: `position` `first-child` or "
        "`last-child` of `target`, or `before`/`after` the sibling `target`. Siblings "
        "are renumbered (each a recorded change with the same reason) when the "
        "neighbours leave no free order. 409 if the new parent is the unit itself or "
        "inside its subtree; nothing is written on any refusal.",
        parameters=[IF_MATCH],
        request=api_serializers.UnitMoveSerializer,
        responses={200: api_serializers.UnitDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        unit_id = unit_id_or_404(slug)
        version = expected_version(request, kind="unit", pk=unit_id)
        fields, reason, effective_at = write_input(
            api_serializers.UnitMoveSerializer, request
        )
        if "position" in fields:
            services.unit_move_to_position(
                unit=unit_id,
                target=fields.pop("target"),
                position=fields.pop("position"),
                user=request.user,
                reason=reason,
                effective_at=effective_at,
                expected_version=version,
                **fields,
            )
        else:
            services.unit_move(
                unit=unit_id,
                new_parent=fields.pop("parent"),
                user=request.user,
                reason=reason,
                effective_at=effective_at,
                expected_version=version,
                **fields,
            )
        return unit_written(unit_id)


class UnitAbolishView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.change_organizationalunit",)}

    @extend_schema(
        summary="Abolish a unit (it stays in the registry and its history)",
        parameters=[IF_MATCH],
        request=api_serializers.UnitAbolishSerializer,
        responses={200: api_serializers.UnitDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        unit_id = unit_id_or_404(slug)
        version = expected_version(request, kind="unit", pk=unit_id)
        fields, reason, effective_at = write_input(
            api_serializers.UnitAbolishSerializer, request
        )
        services.unit_abolish(
            unit=unit_id,
            user=request.user,
            reason=reason,
            effective_at=effective_at,
            expected_version=version,
            **fields,
        )
        return unit_written(unit_id)


class UnitsAbolishView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.change_organizationalunit",)}

    @extend_schema(
        operation_id="units_abolish_many",
        summary="Abolish several units at once (all of them, or none)",
        description="Like abolishing each unit, in tree order, with one reason, "
        "effective time and sub-unit policy, in one transaction: if one of them is "
        "refused, none is abolished. A unit already abolished with the subtree of an "
        "earlier one is passed over. Answers the named units as abolished, in tree "
        "order. No If-Match: abolish one unit for the lost-update check.",
        request=api_serializers.UnitsAbolishSerializer,
        responses={
            200: api_serializers.UnitDetailSerializer(many=True),
            **WITHOUT_IF_MATCH_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        fields, reason, effective_at = write_input(
            api_serializers.UnitsAbolishSerializer, request
        )
        abolished = services.units_abolish(
            units=fields.pop("units"),
            user=request.user,
            reason=reason,
            effective_at=effective_at,
            **fields,
        )
        rows = [selectors.unit_record(unit.pk, None) for unit in abolished]
        parent_slugs = selectors.slug_map(
            OrganizationalUnit, [row["parent_id"] for row in rows if row]
        )
        return Response(
            api_serializers.UnitDetailSerializer(
                [row for row in rows if row],
                many=True,
                context={"unit_slugs": parent_slugs},
            ).data
        )


class UnitRevertView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.change_organizationalunit",)}

    @extend_schema(
        summary="Bring a unit back to one of its earlier versions, as a new change",
        description="The unit takes the fields, parent and status of the version named "
        "by `history_id` (see the unit's history). The revert is recorded now as a new "
        "version with its own reason; no version is erased. Reverting to a version from "
        "before the unit was abolished reinstates it; to an abolished version, abolishes "
        "it. 404 if the version is not one of this unit's, 409 if the old parent is now "
        "inside the unit's subtree, 400 if the unit already matches that version.",
        parameters=[IF_MATCH],
        request=api_serializers.UnitRevertSerializer,
        responses={200: api_serializers.UnitDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        unit_id = unit_id_or_404(slug)
        version = expected_version(request, kind="unit", pk=unit_id)
        fields, reason, _ = write_input(api_serializers.UnitRevertSerializer, request)
        services.unit_revert(
            unit=unit_id,
            history_id=fields["history_id"],
            user=request.user,
            reason=reason,
            expected_version=version,
        )
        return unit_written(unit_id)


# Children or ancestors of a unit, as of an instant.
class UnitRelativesView(RegistryView):
    relation: ClassVar[str] = "children"

    def get(self, request: Request, slug: str) -> Response:
        when = selectors.as_of_parameter(request.query_params)
        include_abolished = flag(request, "include_abolished")

        def build() -> list[dict[str, Any]]:
            nodes = all_nodes(tree_at(when, include_abolished=True))
            by_id = {node.id: node for node in nodes}
            node = next((node for node in nodes if node.slug == slug), None)
            if node is None or (not include_abolished and not node.is_active):
                unit_id_or_404(slug)
                raise absent_at("unit", slug, when)
            if self.relation == "children":
                relatives = [
                    child
                    for child in node.children
                    if include_abolished or child.is_active
                ]
            else:
                relatives = []
                parent = by_id.get(node.parent_id)
                while parent is not None:
                    relatives.insert(0, parent)
                    parent = by_id.get(parent.parent_id)
            return api_serializers.UnitWithHeadSerializer(
                relatives,
                many=True,
                context={"unit_slugs": {node.id: node.slug for node in nodes}},
            ).data

        return generation_read(request, build)


class UnitChildrenView(UnitRelativesView):
    relation = "children"

    @extend_schema(
        summary="Direct sub-units of a unit",
        parameters=[AS_OF, INCLUDE_ABOLISHED],
        responses={200: api_serializers.UnitWithHeadSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        return super().get(request, slug)


class UnitAncestorsView(UnitRelativesView):
    relation = "ancestors"

    @extend_schema(
        summary="The units above a unit, from the top down",
        parameters=[AS_OF, INCLUDE_ABOLISHED],
        responses={200: api_serializers.UnitWithHeadSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        return super().get(request, slug)


class TreeView(RegistryView):
    @extend_schema(
        summary="The whole organization, nested",
        parameters=[AS_OF, INCLUDE_ABOLISHED],
        responses={200: api_serializers.TreeNodeSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        when = selectors.as_of_parameter(request.query_params)
        include_abolished = flag(request, "include_abolished")

        def build() -> bytes:
            if when is None:
                # Encoded while the rows arrive: no registry-sized list beside the JSON.
                return current_tree_json(include_abolished=include_abolished)
            tree = selectors.unit_tree_as_of_flat(
                when, include_abolished=include_abolished
            )
            return tree_json(tree)

        return generation_read_json(request, build)


class UnitTreeView(RegistryView):
    @extend_schema(
        summary="A unit with its whole subtree, nested",
        parameters=[AS_OF, INCLUDE_ABOLISHED],
        responses={200: api_serializers.TreeNodeSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        when = selectors.as_of_parameter(request.query_params)
        include_abolished = flag(request, "include_abolished")

        def build() -> bytes:
            # The current branch is read alone; a past one is cut from its tree.
            if when is None:
                body = current_branch_json(slug, include_abolished=include_abolished)
            else:
                branch = selectors.unit_tree_as_of_flat(
                    when, include_abolished=include_abolished, root_slug=slug
                )
                body = None if branch is None else tree_json(branch, single_root=True)
            if body is None:
                unit_id_or_404(slug)
                raise absent_at("unit", slug, when)
            return body

        return generation_read_json(request, build)


class UnitHistoryView(RegistryView):
    @extend_schema(
        summary="A unit's versions, newest first, with field-level changes",
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.STR,
                description="Only versions effective at or before this instant.",
            ),
            *PAGE,
        ],
        responses={
            200: paginated_serializer(api_serializers.RevisionSerializer),
            **ERRORS,
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        when = selectors.as_of_parameter(request.query_params)
        unit_id = unit_id_or_404(slug)

        def build() -> dict[str, Any]:
            revisions = selectors.unit_history(unit_id)
            if when is not None:
                revisions = [rev for rev in revisions if rev.effective_at <= when]
            parent_ids = {
                value
                for revision in revisions
                for change in revision.changes
                if change.field == "parent_id"
                for value in (change.old, change.new)
            }
            context = {
                "unit_slugs": selectors.slug_map(OrganizationalUnit, parent_ids),
                "show_authors": self.show_authors(),
            }
            return page(
                request, self, revisions, api_serializers.RevisionSerializer, context
            )

        return generation_read(request, build)


# --- The change feed --------------------------------------------------------------------

# Before any change the services can record (a day of margin below year 1's end).
BEGINNING = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)


def change_window(query: Any) -> tuple[datetime.datetime, datetime.datetime]:
    """The (since, until] window of a feed request.

    ``since`` given as a bare date includes that whole day (it starts the window at the
    day's beginning); ``until`` as a bare date includes that day too.
    """
    since_text = query.get("since")
    until_text = query.get("until")
    since = BEGINNING
    if since_text is not None:
        since = selectors.parse_instant(since_text, parameter="since")
        is_bare_date = (
            since.time() == datetime.time.max and "T" not in since_text.upper()
        )
        if is_bare_date:
            # The end of the previous day: the window then starts with this day.
            since = (
                since - datetime.timedelta(days=1)
                if since > BEGINNING
                else BEGINNING - datetime.timedelta(days=1)
            )
    until = (
        selectors.parse_instant(until_text, parameter="until")
        if until_text is not None
        else selectors.LATEST
    )
    if until < since:
        raise selectors.InvalidInstant("until must not be earlier than since.")
    return since, until


def read_feed_cursor(text: str) -> tuple[str, selectors.ChangeKey]:
    """The direction and position of a ``cursor``; 400 unless this API issued it."""
    try:
        return read_change_cursor(text)
    except InvalidChangeCursor:
        raise ValidationError(
            {
                "cursor": f"“{text[:40]}” is not a cursor of this feed (changed, cut "
                "short or from elsewhere). Use the next and previous links as given, "
                "or start again without cursor."
            }
        ) from None


def feed_page_size(request: Request) -> int:
    check_page_window(request, read_on="read the rest by following next")
    limit = request.query_params.get("limit")
    return int(limit) if limit is not None else api_settings.PAGE_SIZE


class ChangePageSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        allow_null=True,
        help_text="Changes in the window: only with offset (deprecated); null on "
        "cursor pages, whose cost does not grow with the window.",
    )
    next = serializers.URLField(
        allow_null=True,
        help_text="The following page; null at the end of the window.",
    )
    previous = serializers.URLField(
        allow_null=True,
        help_text="The page before; null at the start of the window.",
    )
    results = api_serializers.ChangeSerializer(many=True)


class ChangesView(RegistryView):
    @extend_schema(
        summary="What changed between two instants, oldest first",
        description="A page of changes, read from a cursor: follow `next` until it is "
        "null. A page holds at most `limit` changes and can hold fewer while more "
        "follow (some revisions record nothing the feed lists). `offset` is the "
        "former way to page, deprecated: its cost grows with the window.",
        parameters=[
            OpenApiParameter(
                "since",
                OpenApiTypes.STR,
                description="ISO 8601 date or date-time (exclusive; a date includes "
                "that day). Default: the beginning.",
            ),
            OpenApiParameter(
                "until",
                OpenApiTypes.STR,
                description="ISO 8601 date or date-time (inclusive). Default: now.",
            ),
            OpenApiParameter(
                "cursor",
                OpenApiTypes.STR,
                description="Where the page starts: take it from a next or previous "
                "link, never build it.",
            ),
            LIMIT,
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0},
                deprecated=True,
                description="Deprecated: counts and pages the whole window (slow on "
                "long windows) and gives offset links. Use cursor (the next links).",
            ),
        ],
        responses={200: ChangePageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        since, until = change_window(request.query_params)
        context = {"show_authors": self.show_authors()}
        cursor = request.query_params.get("cursor")
        if "offset" in request.query_params:
            if cursor is not None:
                raise ValidationError(
                    {"offset": "Page with cursor or with offset, not both."}
                )
            return generation_read(
                request,
                lambda: page(
                    request,
                    self,
                    selectors.changes_between(since, until),
                    api_serializers.ChangeSerializer,
                    context,
                ),
            )
        limit = feed_page_size(request)
        direction, position = (
            read_feed_cursor(cursor) if cursor is not None else ("after", None)
        )

        def build() -> dict[str, Any]:
            if direction == "before":
                feed_page = selectors.changes_page_before(
                    since, until, before=position, limit=limit
                )
            else:
                feed_page = selectors.changes_page(
                    since, until, after=position, limit=limit
                )
            url = request.build_absolute_uri()
            links = {
                name: None
                if key is None
                else replace_query_param(url, "cursor", change_cursor(way, key))
                for name, way, key in (
                    ("next", "after", feed_page.later),
                    ("previous", "before", feed_page.earlier),
                )
            }
            return {
                "count": None,
                **links,
                "results": api_serializers.ChangeSerializer(
                    feed_page.changes, many=True, context=context
                ).data,
            }

        return generation_read(request, build)


# --- Posts, people, appointments, relationships ----------------------------------------


Row = dict[str, Any]
RowKey = Callable[[Row], Any]


def by_text(field: str) -> RowKey:
    return lambda row: row[field].casefold()


def by_date(field: str, *, missing: datetime.date) -> RowKey:
    """Order on a date that may be absent; ``missing`` says where absent dates go."""
    return lambda row: row[field] or missing


def by_field(field: str) -> RowKey:
    return lambda row: row[field]


def ordering_choices(orderings: Iterable[str]) -> list[str]:
    """Each ordering key and its descending ``-`` form, as ``ordering`` accepts them."""
    keys = list(orderings)
    return [*keys, *(f"-{key}" for key in keys)]


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


# A list of one model's objects as of an instant, filtered, searched, ordered, one page
# at a time. Subclasses declare what ``q`` searches and which orderings exist.
class HistoryBackedListView(RegistryView):
    model: ClassVar[type[models.Model]]
    serializer_class: ClassVar[type[serializers.Serializer]]
    # Context key → (model, field of the row holding its id) for id-to-slug maps.
    slug_maps: ClassVar[dict[str, tuple[type[models.Model], tuple[str, ...]]]] = {}
    # The row's own texts that ``q`` searches.
    search_fields: ClassVar[tuple[str, ...]] = ()
    # Texts of related objects that ``q`` searches, read as of the same instant:
    # (model, fields of the row holding its ids, its fields to search).
    search_related: ClassVar[
        tuple[tuple[type[models.Model], tuple[str, ...], tuple[str, ...]], ...]
    ] = ()
    # Ordering key → sort key; ties are broken by id (descending with ``-``).
    orderings: ClassVar[dict[str, RowKey]] = {"id": by_field("id")}
    default_ordering: ClassVar[str] = "id"

    def filter_rows(self, rows: list[Row], when: datetime.datetime | None) -> list[Row]:
        return rows

    def list_response(self, request: Request) -> Response:
        when = selectors.as_of_parameter(request.query_params)
        self.validate_filters(request)
        ordering = (
            choice(request, "ordering", ordering_choices(self.orderings))
            or self.default_ordering
        )
        query = request.query_params.get("q")
        check_page_window(request)

        def build() -> dict[str, Any]:
            rows = selectors.records_as_of(
                self.model, when, selectors.RECORD_FIELDS[self.model]
            )
            rows = self.filter_rows(rows, when)
            if query:
                rows = self.search(rows, query, when)
            key = self.orderings[ordering.removeprefix("-")]
            rows.sort(
                key=lambda row: (key(row), row["id"]),
                reverse=ordering.startswith("-"),
            )
            context = {
                key: selectors.slug_map(
                    model, {row[field] for row in rows for field in fields}
                )
                for key, (model, fields) in self.slug_maps.items()
            }
            return page(request, self, rows, self.serializer_class, context)

        return generation_read(request, build)

    def search(
        self, rows: list[Row], query: str, when: datetime.datetime | None
    ) -> list[Row]:
        """The rows whose own or related texts contain ``query`` (one query per model)."""
        related = [
            (
                id_fields,
                selectors.texts_as_of(
                    model,
                    when,
                    {row[field] for row in rows for field in id_fields},
                    text_fields,
                ),
            )
            for model, id_fields, text_fields in self.search_related
        ]

        def texts(row: Row) -> list[str]:
            found = [row[field] for field in self.search_fields]
            for id_fields, texts_by_id in related:
                for field in id_fields:
                    found.extend(texts_by_id.get(row[field], ()))
            return found

        return [row for row in rows if search_matches(query, *texts(row))]

    def validate_filters(self, request: Request) -> None:
        """Refuse malformed filters before anything is read."""

    def related_id(self, name: str, model: type[models.Model]) -> int | None:
        """The id behind a slug filter; an unknown slug is a 400 naming it."""
        slug = self.request.query_params.get(name)
        if slug is None:
            return None
        pk = selectors.id_for_slug(model, slug)
        if pk is None:
            raise ValidationError(
                {name: f"No {model._meta.verbose_name} has the slug “{slug}”."}
            )
        return pk


def created(
    model: type[models.Model], pk: int, serializer_class: type, kind: str, url: str
) -> Response:
    row = selectors.records_as_of(
        model, None, selectors.RECORD_FIELDS[model], ids=[pk]
    )[0]
    context = context_for(row)
    response = object_response(
        serializer_class(row, context=context).data,
        kind=kind,
        pk=pk,
        version=row["version"],
        status=HTTPStatus.CREATED,
    )
    response["Location"] = url
    return response


def context_for(row: dict[str, Any]) -> dict[str, Any]:
    """Slug maps for the foreign keys a single row carries (one query each)."""
    unit_ids = {row.get(key) for key in ("unit_id", "source_id", "target_id")}
    return {
        "unit_slugs": selectors.slug_map(OrganizationalUnit, unit_ids),
        "post_slugs": selectors.slug_map(Post, [row.get("post_id")]),
        "person_slugs": selectors.slug_map(Person, [row.get("person_id")]),
    }


def object_detail(
    request: Request,
    model: type[models.Model],
    pk: int | None,
    label: str,
    serializer_class: type,
    kind: str,
) -> Response:
    when = selectors.as_of_parameter(request.query_params)
    if pk is None:
        raise NotFound(f"No {model._meta.verbose_name} has the {label}.")
    existing_id(model, pk)
    rows = selectors.records_as_of(
        model, when, selectors.RECORD_FIELDS[model], ids=[pk]
    )
    if not rows:
        raise absent_at(str(model._meta.verbose_name), label, when)
    row = rows[0]
    data = serializer_class(row, context=context_for(row)).data
    return object_read(request, data, kind=kind, pk=pk, version=row["version"])


POST_ORDERINGS: dict[str, RowKey] = {
    "id": by_field("id"),
    "title": by_text("title"),
    "slug": by_field("slug"),
    "established_on": by_date("established_on", missing=datetime.date.min),
}


class PostListView(HistoryBackedListView):
    model = Post
    serializer_class = api_serializers.PostSerializer
    slug_maps: ClassVar = {"unit_slugs": (OrganizationalUnit, ("unit_id",))}
    write_permissions: ClassVar = {"POST": ("units.add_post",)}
    search_fields = ("title",)
    orderings = POST_ORDERINGS

    def validate_filters(self, request: Request) -> None:
        self.unit_id = self.related_id("unit", OrganizationalUnit)
        self.status = choice(request, "status", ["active", "abolished"])
        self.is_head = (
            flag(request, "is_head") if "is_head" in request.query_params else None
        )

    def filter_rows(
        self, rows: list[dict[str, Any]], when: datetime.datetime | None
    ) -> list[dict[str, Any]]:
        return [
            row
            for row in rows
            if (self.unit_id is None or row["unit_id"] == self.unit_id)
            and (
                self.status is None
                or (self.status == "active") == (row["abolished_on"] is None)
            )
            and (self.is_head is None or row["is_head"] == self.is_head)
        ]

    @extend_schema(
        summary="List posts",
        operation_id="posts_list",
        parameters=[
            AS_OF,
            OpenApiParameter("unit", OpenApiTypes.STR, description="Unit's slug."),
            STATUS,
            OpenApiParameter("is_head", OpenApiTypes.BOOL),
            search_parameter("post titles"),
            ordering_parameter(POST_ORDERINGS, "id"),
            *PAGE,
        ],
        responses={200: paginated_serializer(api_serializers.PostSerializer), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return self.list_response(request)

    @extend_schema(
        summary="Create a post in a unit",
        request=api_serializers.PostCreateSerializer,
        responses={201: api_serializers.PostSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, reason, effective_at = write_input(
            api_serializers.PostCreateSerializer, request
        )
        post = services.post_create(
            user=request.user, reason=reason, effective_at=effective_at, **fields
        )
        return created(
            Post,
            post.pk,
            api_serializers.PostSerializer,
            "post",
            reverse("api:post-detail", kwargs={"slug": post.slug}),
        )


def post_id_or_404(slug: str) -> int:
    post_id = selectors.id_for_slug(Post, slug)
    if post_id is None:
        raise NotFound(f"No post has the slug “{slug}”.")
    return post_id


class PostDetailView(RegistryView):
    write_permissions: ClassVar = {"PATCH": ("units.change_post",)}

    @extend_schema(
        summary="Retitle a post, move it to another unit or change how it is filled",
        parameters=[IF_MATCH],
        request=api_serializers.PostUpdateSerializer,
        responses={200: api_serializers.PostSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, slug: str) -> Response:
        post_id = post_id_or_404(slug)
        version = expected_version(request, kind="post", pk=post_id)
        fields, reason, effective_at = write_input(
            api_serializers.PostUpdateSerializer, request
        )
        services.post_update(
            post=post_id,
            user=request.user,
            reason=reason,
            effective_at=effective_at,
            expected_version=version,
            **fields,
        )
        return written(Post, post_id, api_serializers.PostSerializer, "post")

    @extend_schema(
        summary="One post",
        parameters=[AS_OF],
        responses={200: api_serializers.PostSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        return object_detail(
            request,
            Post,
            selectors.id_for_slug(Post, slug),
            f"slug “{slug}”",
            api_serializers.PostSerializer,
            "post",
        )


class PostAbolishView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.change_post",)}

    @extend_schema(
        summary="Abolish a post; its holder's appointment ends the same day",
        parameters=[IF_MATCH],
        request=api_serializers.PostAbolishSerializer,
        responses={200: api_serializers.PostSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        post_id = post_id_or_404(slug)
        version = expected_version(request, kind="post", pk=post_id)
        _, reason, effective_at = write_input(
            api_serializers.PostAbolishSerializer, request
        )
        services.post_abolish(
            post=post_id,
            user=request.user,
            reason=reason,
            effective_at=effective_at,
            expected_version=version,
        )
        return written(Post, post_id, api_serializers.PostSerializer, "post")


PERSON_ORDERINGS: dict[str, RowKey] = {
    "full_name": by_text("full_name"),
    "slug": by_field("slug"),
    "id": by_field("id"),
}


class PersonListView(HistoryBackedListView):
    model = Person
    serializer_class = api_serializers.PersonSerializer
    write_permissions: ClassVar = {"POST": ("units.add_person",)}
    search_fields = ("full_name",)
    orderings = PERSON_ORDERINGS
    default_ordering = "full_name"

    @extend_schema(
        summary="List people",
        operation_id="people_list",
        parameters=[
            AS_OF,
            search_parameter("full names"),
            ordering_parameter(PERSON_ORDERINGS, "full_name"),
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
        request=api_serializers.PersonCreateSerializer,
        responses={201: api_serializers.PersonSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, reason, effective_at = write_input(
            api_serializers.PersonCreateSerializer, request
        )
        person = services.person_create(
            user=request.user, reason=reason, effective_at=effective_at, **fields
        )
        return created(
            Person,
            person.pk,
            api_serializers.PersonSerializer,
            "person",
            reverse("api:person-detail", kwargs={"slug": person.slug}),
        )


class PersonDetailView(RegistryView):
    write_permissions: ClassVar = {"PATCH": ("units.change_person",)}

    @extend_schema(
        summary="Correct a person's name",
        parameters=[IF_MATCH],
        request=api_serializers.PersonUpdateSerializer,
        responses={200: api_serializers.PersonSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, slug: str) -> Response:
        person_id = selectors.id_for_slug(Person, slug)
        if person_id is None:
            raise NotFound(f"No person has the slug “{slug}”.")
        version = expected_version(request, kind="person", pk=person_id)
        fields, reason, effective_at = write_input(
            api_serializers.PersonUpdateSerializer, request
        )
        services.person_update(
            person=person_id,
            user=request.user,
            reason=reason,
            effective_at=effective_at,
            expected_version=version,
            **fields,
        )
        return written(Person, person_id, api_serializers.PersonSerializer, "person")

    @extend_schema(
        summary="One person",
        parameters=[AS_OF],
        responses={200: api_serializers.PersonSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        return object_detail(
            request,
            Person,
            selectors.id_for_slug(Person, slug),
            f"slug “{slug}”",
            api_serializers.PersonSerializer,
            "person",
        )


APPOINTMENT_ORDERINGS: dict[str, RowKey] = {
    "started_on": by_field("started_on"),
    # An appointment still running ends after every ended one.
    "ended_on": by_date("ended_on", missing=datetime.date.max),
    "id": by_field("id"),
}


class AppointmentListView(HistoryBackedListView):
    model = Appointment
    serializer_class = api_serializers.AppointmentSerializer
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
        return created(
            Appointment,
            appointment.pk,
            api_serializers.AppointmentSerializer,
            "appointment",
            reverse("api:appointment-detail", kwargs={"pk": appointment.pk}),
        )


class AppointmentDetailView(RegistryView):
    @extend_schema(
        summary="One appointment",
        parameters=[AS_OF],
        responses={200: api_serializers.AppointmentSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return object_detail(
            request,
            Appointment,
            pk,
            f"id {pk}",
            api_serializers.AppointmentSerializer,
            "appointment",
        )


class AppointmentEndView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.change_appointment",)}

    @extend_schema(
        summary="End an appointment",
        parameters=[IF_MATCH],
        request=api_serializers.AppointmentEndSerializer,
        responses={200: api_serializers.AppointmentSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        existing_id(Appointment, pk)
        version = expected_version(request, kind="appointment", pk=pk)
        fields, reason, effective_at = write_input(
            api_serializers.AppointmentEndSerializer, request
        )
        services.appointment_end(
            appointment=pk,
            user=request.user,
            reason=reason,
            effective_at=effective_at,
            expected_version=version,
            **fields,
        )
        return written(
            Appointment, pk, api_serializers.AppointmentSerializer, "appointment"
        )


def written(
    model: type[models.Model], pk: int, serializer_class: type, kind: str
) -> Response:
    row = selectors.records_as_of(
        model, None, selectors.RECORD_FIELDS[model], ids=[pk]
    )[0]
    return object_response(
        serializer_class(row, context=context_for(row)).data,
        kind=kind,
        pk=pk,
        version=row["version"],
    )


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
        return created(
            UnitRelationship,
            relationship.pk,
            api_serializers.RelationshipSerializer,
            "relationship",
            reverse("api:relationship-detail", kwargs={"pk": relationship.pk}),
        )


class RelationshipDetailView(RegistryView):
    @extend_schema(
        summary="One relationship",
        parameters=[AS_OF],
        responses={200: api_serializers.RelationshipSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return object_detail(
            request,
            UnitRelationship,
            pk,
            f"id {pk}",
            api_serializers.RelationshipSerializer,
            "relationship",
        )


class RelationshipEndView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.change_unitrelationship",)}

    @extend_schema(
        summary="End a relationship (it stays in history)",
        parameters=[IF_MATCH],
        request=api_serializers.RelationshipEndSerializer,
        responses={200: api_serializers.RelationshipSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        existing_id(UnitRelationship, pk)
        version = expected_version(request, kind="relationship", pk=pk)
        _, reason, effective_at = write_input(
            api_serializers.RelationshipEndSerializer, request
        )
        services.relationship_end(
            relationship=pk,
            user=request.user,
            reason=reason,
            effective_at=effective_at,
            expected_version=version,
        )
        return written(
            UnitRelationship, pk, api_serializers.RelationshipSerializer, "relationship"
        )

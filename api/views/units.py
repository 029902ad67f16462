"""Units: list, one unit, its relatives and history, and the writes on a unit."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, ClassVar, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.serializer_helpers import ReturnList

from api import serializers as api_serializers
from api.conditional import (
    generation_read,
    object_read,
    object_response,
)
from api.filters import (
    AsOfFilterSet,
    PageFilterSet,
    TreeFilterSet,
    UnitFilterSet,
    ordering_choices,
)
from api.formats.state import all_nodes, tree_at
from api.views.base import (
    AS_OF,
    ERRORS,
    IF_MATCH,
    INCLUDE_ABOLISHED,
    PAGE,
    STATUS,
    WITHOUT_IF_MATCH_ERRORS,
    WRITE_ERRORS,
    HistoryBackedView,
    ObjectVersionView,
    RegistryView,
    absent_at,
    as_of_instant,
    origin,
    page,
    paginated_serializer,
    recorded_since,
    unit_id_or_404,
    version_schema,
    write_input,
)
from units import selectors, services
from units.content_languages import UNIT_TRANSLATED, pop_translations
from units.models import OrganizationalUnit, UnitKind


def lineage_tag(data: dict[str, Any]) -> str:
    """What an answer shows of a unit's lineage, for its ETag: a successor named later
    (an absorption) or renamed changes the answer, not the unit's version."""
    shown = repr((data["predecessors"], data["successors"])).encode()
    return f"l{zlib.crc32(shown):08x}"


def unit_written(
    request: Request,
    unit_id: int,
    newest_before: int | None,
    status: int = HTTPStatus.OK,
) -> Response:
    """A unit just written, with its new version ETag and what the write recorded."""
    row = selectors.unit_record(unit_id, None)
    assert row is not None  # noqa: S101 - the service has just saved it
    recorded = recorded_since(OrganizationalUnit, unit_id, newest_before)
    data = api_serializers.UnitWrittenSerializer(
        {**row, "recorded": recorded},
        context={
            "unit_slugs": selectors.slug_map(OrganizationalUnit, [row["parent_id"]]),
            "lineage": selectors.lineage_of([unit_id], None),
            "origin": origin(request),
        },
    ).data
    response = object_response(
        data, kind="unit", pk=unit_id, version=row["version"], status=status
    )
    if status == HTTPStatus.CREATED:
        response["Location"] = data["url"]
    return response


class UnitWriteView(HistoryBackedView):
    """A view with writes on one unit: each answered with the unit as it stands now
    and the lineage it shows (``unit_written``)."""

    model = OrganizationalUnit
    object_kind = "unit"
    written_serializer = api_serializers.UnitWrittenSerializer

    def written(
        self, pk: int, newest_before: int | None, status: int = HTTPStatus.OK
    ) -> Response:
        return unit_written(self.request, pk, newest_before, status)

    def change_unit(
        self,
        request: Request,
        slug: str,
        input_serializer: type[serializers.Serializer],
        service: Callable[..., object],
    ) -> Response:
        """``change`` on the unit named by ``slug`` (404 if there is none)."""
        unit_id = unit_id_or_404(slug)
        return self.change(request, unit_id, input_serializer, service, unit=unit_id)


class UnitListView(RegistryView):
    write_permissions: ClassVar = {"POST": ("units.add_organizationalunit",)}

    @extend_schema(
        summary="List units",
        description=(
            "Every unit that existed at `as_of` (default now), abolished ones flagged "
            "`status: abolished`, in tree order unless `ordering` says otherwise: "
            "filter by `kind`, `status` and `parent` (a slug), search names, acronyms "
            "and mandates with `q`; paged with `limit` and `offset`."
        ),
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
                enum=["tree", *ordering_choices(selectors.UNIT_ORDERINGS)],
            ),
            *PAGE,
        ],
        responses={
            200: paginated_serializer(api_serializers.UnitListItemSerializer),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        """Every unit that existed at the instant, abolished ones flagged, tree order."""
        filters = UnitFilterSet(request.query_params).selector_arguments()

        def build() -> dict[str, Any]:
            listed = selectors.unit_list(**filters)
            return page(
                request,
                self,
                listed.units,
                api_serializers.UnitListItemSerializer,
                {"unit_slugs": listed.slugs, "origin": origin(request)},
                page_context=lambda units: {
                    "lineage": selectors.lineage_of(
                        (unit.id for unit in units), filters["when"]
                    )
                },
            )

        return generation_read(
            request, build, parameters=(UnitFilterSet, PageFilterSet)
        )

    @extend_schema(
        summary="Establish a unit",
        description=(
            "A new unit under `parent` (a unit's slug; none for the top level), with a "
            "`reason`. `effective_at` (default now) is when it took effect and its "
            "`established_on`; its slug is made from its name unless given. Answers 201 "
            "with `Location`, the unit, its `ETag` and `recorded`."
        ),
        request=api_serializers.UnitCreateSerializer,
        responses={201: api_serializers.UnitWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, why, effective_at = write_input(
            api_serializers.UnitCreateSerializer, request
        )
        translations = pop_translations(fields, UNIT_TRANSLATED)
        unit = services.unit_create(
            user=request.user,
            **why,
            effective_at=effective_at,
            translations=translations,
            **fields,
        )
        return unit_written(request, unit.pk, None, status=HTTPStatus.CREATED)


class UnitDetailView(UnitWriteView):
    write_permissions: ClassVar = {"PATCH": ("units.change_organizationalunit",)}

    @extend_schema(
        summary="One unit",
        description=(
            "The unit as it stood at `as_of` (404 if it did not exist then), with its "
            "provenance note and `version`. Its `ETag` names that version: send it in "
            "`If-Match` with a write."
        ),
        parameters=[AS_OF],
        responses={200: api_serializers.UnitDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        when = as_of_instant(request)
        unit_id = unit_id_or_404(slug)
        row = selectors.unit_record(unit_id, when)
        if row is None:
            raise absent_at("unit", slug, when)
        lineage = selectors.lineage_of([unit_id], when)
        data = api_serializers.UnitDetailSerializer(
            row,
            context={
                "unit_slugs": selectors.slug_map(
                    OrganizationalUnit, [row["parent_id"]]
                ),
                "lineage": lineage,
                "origin": origin(request),
            },
        ).data
        return object_read(
            request,
            data,
            kind="unit",
            pk=unit_id,
            version=row["version"],
            shown=lineage_tag(data) if lineage[unit_id] else "",
        )

    @extend_schema(
        summary="Rename a unit or change its mandate and other descriptive fields",
        description=(
            "Change any of the unit's descriptive fields (name, acronym, kind, mandate, "
            "location, link, provenance, reporting line, sibling order), with a "
            "`reason`. Send the `ETag` you read in `If-Match`: the write is refused "
            "(412) if the unit changed since. A PATCH that changes nothing records "
            "nothing (`recorded: null`)."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.UnitUpdateSerializer,
        responses={200: api_serializers.UnitWrittenSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, slug: str) -> Response:
        return self.change_unit(
            request, slug, api_serializers.UnitUpdateSerializer, services.unit_update
        )


class UnitMoveView(UnitWriteView):
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
        responses={200: api_serializers.UnitWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        return self.change_unit(
            request, slug, api_serializers.UnitMoveSerializer, _move
        )


def _move(**write: Any) -> OrganizationalUnit:
    """The move the input names: beside or under ``target`` (``position``), or under
    a new ``parent``."""
    if "position" in write:
        return services.unit_move_to_position(**write)
    return services.unit_move(new_parent=write.pop("parent"), **write)


class UnitAbolishView(UnitWriteView):
    write_permissions: ClassVar = {"POST": ("units.change_organizationalunit",)}

    @extend_schema(
        summary="Abolish a unit (it stays in the registry and its history)",
        description=(
            "Records the unit as abolished at `effective_at` (default now). `sub_units` "
            "says what becomes of its active sub-units: `refuse` (409 if it has any), "
            "`abolish` them too, or `move` them to `move_sub_units_to`. The unit stays "
            "readable at earlier instants and in its history. `If-Match` as for every "
            "write."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.UnitAbolishSerializer,
        responses={200: api_serializers.UnitWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        return self.change_unit(
            request, slug, api_serializers.UnitAbolishSerializer, services.unit_abolish
        )


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
            200: api_serializers.UnitWrittenSerializer(many=True),
            **WITHOUT_IF_MATCH_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        fields, why, effective_at = write_input(
            api_serializers.UnitsAbolishSerializer, request
        )
        newest_before = selectors.latest_revisions(OrganizationalUnit, fields["units"])
        abolished = services.units_abolish(
            units=fields.pop("units"),
            user=request.user,
            **why,
            effective_at=effective_at,
            **fields,
        )
        rows = [selectors.unit_record(unit.pk, None) for unit in abolished]
        parent_slugs = selectors.slug_map(
            OrganizationalUnit, [row["parent_id"] for row in rows if row]
        )
        newest = selectors.latest_revisions(
            OrganizationalUnit, [unit.pk for unit in abolished]
        )
        # Every named unit is abolished by this write, itself or with an earlier one's
        # subtree, so each has a new revision.
        return Response(
            api_serializers.UnitWrittenSerializer(
                [
                    {
                        **row,
                        "recorded": newest[row["id"]]
                        if newest[row["id"]] != newest_before.get(row["id"])
                        else None,
                    }
                    for row in rows
                    if row
                ],
                many=True,
                context={
                    "unit_slugs": parent_slugs,
                    "lineage": selectors.lineage_of(
                        [unit.pk for unit in abolished], None
                    ),
                    "origin": origin(request),
                },
            ).data
        )


class UnitRevertView(UnitWriteView):
    write_permissions: ClassVar = {"POST": ("units.change_organizationalunit",)}

    @extend_schema(
        summary="Bring a unit back to one of its earlier versions, as a new change",
        description="The unit takes the fields, parent and status of the version named "
        "by `history_id` (see the unit's history). The revert is recorded now as a new "
        "version with its own reason; no version is erased. Reverting to a version from "
        "before the unit was abolished reinstates it; to an abolished version, abolishes "
        "it. With `mode` `correct`, it is instead a correction effective when the change "
        "after that version took effect, restoring the fields that change made. 404 if "
        "the version is not one of this unit's, 409 if the old parent is now inside the "
        "unit's subtree, 400 if the unit already matches that version (or, correcting, "
        "if no change follows it) or for an unknown `mode`.",
        parameters=[IF_MATCH],
        request=api_serializers.UnitRevertSerializer,
        responses={200: api_serializers.UnitWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        # The input has no effective time (a revert cannot be given one): None.
        return self.change_unit(
            request, slug, api_serializers.UnitRevertSerializer, services.unit_revert
        )


class UnitReinstateView(UnitWriteView):
    write_permissions: ClassVar = {"POST": ("units.change_organizationalunit",)}

    @extend_schema(
        summary="Reinstate an abolished unit, now or from a past date",
        description="The unit takes back its last version before its abolition, as a "
        "new change effective `effective_at` (default now): a past date like any other "
        "change, but not before the abolition (400 `before_abolition`) nor in the "
        "future. 409 if its parent was abolished at any time from then on, 400 "
        "`no_change` if the unit is not abolished. `If-Match` as for every write.",
        parameters=[IF_MATCH],
        request=api_serializers.UnitReinstateSerializer,
        responses={200: api_serializers.UnitWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        return self.change_unit(
            request,
            slug,
            api_serializers.UnitReinstateSerializer,
            services.unit_reinstate,
        )


# Children or ancestors of a unit, as of an instant.
class UnitRelativesView(RegistryView):
    relation: ClassVar[str] = "children"

    def get(self, request: Request, slug: str) -> Response:
        query = TreeFilterSet(request.query_params).selector_arguments()
        when, include_abolished = query["when"], query["include_abolished"]

        def build() -> list[dict[str, Any]]:
            nodes = all_nodes(tree_at(when, include_abolished=True))
            by_id: dict[int | None, selectors.UnitNode] = {
                node.id: node for node in nodes
            }
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
            # many=True makes a ListSerializer, whose data is a list.
            return cast(
                ReturnList,
                api_serializers.UnitWithHeadSerializer(
                    relatives,
                    many=True,
                    context={
                        "unit_slugs": {node.id: node.slug for node in nodes},
                        "origin": origin(request),
                    },
                ).data,
            )

        return generation_read(request, build, parameters=(TreeFilterSet,))


class UnitChildrenView(UnitRelativesView):
    relation = "children"

    @extend_schema(
        summary="Direct sub-units of a unit",
        description=(
            "The units reporting directly to this one at `as_of`, in sibling order, "
            "each with its head post and holder. Abolished ones are left out unless "
            "`include_abolished=true`."
        ),
        parameters=[AS_OF, INCLUDE_ABOLISHED],
        responses={200: api_serializers.UnitWithHeadSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        return super().get(request, slug)


class UnitAncestorsView(UnitRelativesView):
    relation = "ancestors"

    @extend_schema(
        summary="The units above a unit, from the top down",
        description=(
            "The chain of units this one reports to, from the top unit down, as they "
            "stood at `as_of`: a breadcrumb."
        ),
        parameters=[AS_OF, INCLUDE_ABOLISHED],
        responses={200: api_serializers.UnitWithHeadSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        return super().get(request, slug)


class UnitHistoryView(RegistryView):
    @extend_schema(
        summary="A unit's versions, newest first, with field-level changes",
        description=(
            "Every recorded version of the unit: when it took effect (`effective_at`) "
            "and when it was recorded (`recorded_at`), who and why, and each changed "
            "field's old and new value. `as_of` keeps the versions effective by then; "
            "paged with `limit` and `offset`."
        ),
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
        when = as_of_instant(request)
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
                "staff_reader": self.staff_reader(),
            }
            return page(
                request, self, revisions, api_serializers.RevisionSerializer, context
            )

        return generation_read(
            request, build, parameters=(AsOfFilterSet, PageFilterSet)
        )


class UnitVersionView(ObjectVersionView):
    model = OrganizationalUnit

    @extend_schema(**version_schema("unit", "units"))
    def get(self, request: Request, slug: str, history_id: int) -> Response:
        return self.version(request, unit_id_or_404(slug), f"slug “{slug}”", history_id)

"""Reorganizations: list, one, draft, operations, submit, approve, reject, cancel, revert.

Thin over ``units.services.reorganizations``: every rule (four eyes, the approve
permission, validation against the registry at the effective time) is the services'.
Anyone reads the approved and applied ones; drafts, submitted, rejected, cancelled and
failed ones are for readers holding ``units.view_reorganization``, and authors are
named, as everywhere in the API, only to staff (``may_see_staff_identities``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api_serializers
from api.filters import (
    SCHEDULED,
    ReorganizationFilterSet,
    ReorganizationImportFilterSet,
)
from api.formats.tree_json import as_of_tree_json
from api.views.base import (
    PAGE,
    WITHOUT_IF_MATCH_ERRORS,
    RegistryView,
    existing_id,
    origin,
    page,
    paginated_serializer,
)
from orgregistry.database_routing import writes_undone
from units import selectors, services
from units.models import (
    Reorganization,
    ReorganizationOperation,
    ReorganizationStatus,
)
from units.selectors.languages import content_language
from units.selectors.planned import plan_summary
from units.services.imports import read_upload

# What anyone may read: what was decided and stands (the plans once approved).
PUBLIC_STATUSES = (ReorganizationStatus.APPROVED, ReorganizationStatus.APPLIED)
ERRORS = {
    **WITHOUT_IF_MATCH_ERRORS,
    403: OpenApiResponse(
        description="Not authenticated, missing permission, or approving your own "
        "(`self_approval`)."
    ),
    409: OpenApiResponse(
        description="Its status does not allow the step (`wrong_status`), or an "
        "operation does not apply (`does_not_validate`, each problem in `problems`)."
    ),
}


def _input(
    serializer_class: type[serializers.Serializer], request: Request
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# What the reorganization views share: who sees what, and the answer to a write.
class ReorganizationView(RegistryView):
    def visible(self) -> QuerySet[Reorganization]:
        reorganizations = selectors.reorganizations_with_operations()
        if not self.request.user.has_perm("units.view_reorganization"):
            reorganizations = reorganizations.filter(status__in=PUBLIC_STATUSES)
        return reorganizations

    def context(self) -> dict[str, Any]:
        return {"origin": origin(self.request), "staff_reader": self.staff_reader()}

    def one(self, pk: int) -> Reorganization:
        existing_id(Reorganization, pk)
        found = self.visible().filter(pk=pk).first()
        if found is None:
            raise NotFound(f"Reorganization {pk} does not exist.")
        return found

    def answer(self, pk: int, status: int = HTTPStatus.OK) -> Response:
        data = api_serializers.ReorganizationSerializer(
            self.one(pk), context=self.context()
        ).data
        return Response(data, status=status)

    def created(self, pk: int) -> Response:
        """201 with the new reorganization, and where it lives (``Location``)."""
        response = self.answer(pk, HTTPStatus.CREATED)
        response["Location"] = self.request.build_absolute_uri(
            reverse("api:reorganization-detail", kwargs={"pk": pk})
        )
        return response


class ReorganizationListView(ReorganizationView):
    write_permissions: ClassVar = {"POST": ("units.add_reorganization",)}

    @extend_schema(
        summary="List reorganizations, latest effective first",
        description="Reorganizations with their operations, status and problems, the "
        "latest effective first. Approved and applied ones are public; drafts, "
        "submitted, rejected, cancelled and failed ones need the permission to view "
        "reorganizations. Filter by `status`.",
        operation_id="reorganizations_list",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=[*ReorganizationStatus.values, SCHEDULED],
                description="One status, or `scheduled`: approved and waiting for "
                "its effective time.",
            ),
            *PAGE,
        ],
        responses={
            200: paginated_serializer(api_serializers.ReorganizationSerializer),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        status = ReorganizationFilterSet(request.query_params).selector_arguments()[
            "status"
        ]
        reorganizations = self.visible()
        if status == SCHEDULED:
            reorganizations = reorganizations.filter(
                status=ReorganizationStatus.APPROVED, effective_at__gt=timezone.now()
            )
        elif status is not None:
            reorganizations = reorganizations.filter(status=status)
        return Response(
            page(
                request,
                self,
                list(reorganizations),
                api_serializers.ReorganizationSerializer,
                self.context(),
            )
        )

    @extend_schema(
        summary="Draft a reorganization (its operations are added one by one)",
        description="Start a draft: a title, a reference, one reason (with its "
        "`reason_visibility`) and one effective time, past, now or future. Nothing in "
        "the registry changes until it is approved; add operations next.",
        request=api_serializers.ReorganizationCreateSerializer,
        responses={201: api_serializers.ReorganizationSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields = _input(api_serializers.ReorganizationCreateSerializer, request)
        reorganization = services.reorganization_create(
            user=request.user,
            title=fields["title"],
            reason=fields["reason"],
            reference=fields.get("reference", ""),
            effective_at=fields.get("effective_at"),
            reason_visibility=fields.get("reason_visibility"),
        )
        return self.created(reorganization.pk)


class ReorganizationImportView(ReorganizationView):
    write_permissions: ClassVar = {"POST": ("units.add_reorganization",)}
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="Import a spreadsheet of units as a draft reorganization",
        description="Upload the units as a workbook or CSV (`file`, multipart; the "
        "columns of `export/units.csv`, whose export read back is the template). The "
        "registry compares it with its own state, rows matched by `slug`, or by name "
        "and parent without one, and drafts a reorganization of the difference: units "
        "to establish, change, move, abolish or reinstate. `dry_run=true` answers the "
        "difference and drafts nothing. A file with a problem (not a workbook or CSV, "
        "too large, unknown or missing columns, formulas, merged cells, several header "
        "rows, ambiguous matches, unknown parents) is a 400 whose `problems` name each "
        "`row`, `column` and problem; nothing is drafted. A file matching the registry "
        "is a 400 `no_change`. The same permission as drafting one.",
        parameters=[
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                description="Answer the difference without drafting anything.",
            )
        ],
        request={"multipart/form-data": api_serializers.ReorganizationImportSerializer},
        responses={
            200: api_serializers.ImportDifferenceSerializer,
            201: api_serializers.ReorganizationSerializer,
            **ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        dry_run = ReorganizationImportFilterSet(
            request.query_params
        ).selector_arguments()["dry_run"]
        fields = _input(api_serializers.ReorganizationImportSerializer, request)
        upload = fields["file"]
        content = read_upload(upload)
        if dry_run:
            changes = services.import_difference(content, upload.name or "")
            return Response(
                api_serializers.ImportDifferenceSerializer({"operations": changes}).data
            )
        reorganization = services.reorganization_import(
            user=request.user,
            content=content,
            filename=upload.name or "",
            title=fields.get("title", ""),
            reason=fields.get("reason", ""),
            reference=fields.get("reference", ""),
            effective_at=fields.get("effective_at"),
            reason_visibility=fields.get("reason_visibility"),
        )
        return self.created(reorganization.pk)


class ReorganizationDetailView(ReorganizationView):
    write_permissions: ClassVar = {"PATCH": ("units.change_reorganization",)}

    @extend_schema(
        summary="One reorganization with its operations",
        description="A reorganization with its operations in order, its status, "
        "`scheduled` while approved and waiting for its date, and `problems`: what "
        "stands in its way, each with the index of its operation.",
        responses={200: api_serializers.ReorganizationSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self.answer(pk)

    @extend_schema(
        summary="Edit a draft's title, reference, reason or effective time",
        description="Change a draft's title, reference, reason, reason visibility or "
        "effective time. Only drafts can be edited (409 `wrong_status` otherwise); the "
        "draft is validated again and `problems` says what now stands in its way.",
        request=api_serializers.ReorganizationUpdateSerializer,
        responses={200: api_serializers.ReorganizationSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        self.one(pk)
        changes = _input(api_serializers.ReorganizationUpdateSerializer, request)
        services.reorganization_update(reorganization=pk, user=request.user, **changes)
        return self.answer(pk)


class ReorganizationOperationsView(ReorganizationView):
    write_permissions: ClassVar = {"POST": ("units.change_reorganization",)}

    @extend_schema(
        summary="Add an operation to a draft (validated at once, see `problems`)",
        description="Add one operation (`kind` and its `payload`; units, posts and "
        "people named by slug) at `position`, default last. A malformed payload is a "
        "400; one the registry would refuse is kept and reported in `problems`.",
        request=api_serializers.OperationInputSerializer,
        responses={201: api_serializers.ReorganizationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        self.one(pk)
        fields = _input(api_serializers.OperationInputSerializer, request)
        services.operation_add(reorganization=pk, user=request.user, **fields)
        return self.answer(pk, HTTPStatus.CREATED)


class OperationDetailView(ReorganizationView):
    write_permissions: ClassVar = {
        "PATCH": ("units.change_reorganization",),
        "DELETE": ("units.change_reorganization",),
    }

    def reorganization_of(self, pk: int) -> int:
        existing_id(ReorganizationOperation, pk)
        reorganization_id = (
            ReorganizationOperation.objects.filter(pk=pk)
            .values_list("reorganization_id", flat=True)
            .first()
        )
        if reorganization_id is None:
            raise NotFound(f"Operation {pk} does not exist.")
        return self.one(reorganization_id).pk

    @extend_schema(
        summary="One operation of a reorganization",
        description="One operation: its kind, its payload and its position in the "
        "reorganization, readable by whoever may read the reorganization itself.",
        responses={200: api_serializers.OperationSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        self.reorganization_of(pk)
        operation = ReorganizationOperation.objects.get(pk=pk)
        return Response(api_serializers.OperationSerializer(operation).data)

    @extend_schema(
        summary="Change an operation of a draft",
        description="Change an operation's kind, payload or position while its "
        "reorganization is a draft; the draft is validated again and the answer is "
        "the whole reorganization with its `problems`.",
        request=api_serializers.OperationChangeSerializer,
        responses={200: api_serializers.ReorganizationSerializer, **ERRORS},
    )
    def patch(self, request: Request, pk: int) -> Response:
        reorganization = self.reorganization_of(pk)
        fields = _input(api_serializers.OperationChangeSerializer, request)
        services.operation_update(operation=pk, user=request.user, **fields)
        return self.answer(reorganization)

    @extend_schema(
        summary="Take an operation out of a draft",
        description="Remove an operation while its reorganization is a draft; the "
        "others keep their order, the draft is validated again, and the answer is the "
        "whole reorganization.",
        responses={200: api_serializers.ReorganizationSerializer, **ERRORS},
    )
    def delete(self, request: Request, pk: int) -> Response:
        reorganization = self.reorganization_of(pk)
        services.operation_delete(operation=pk, user=request.user)
        return self.answer(reorganization)


# One step of the life cycle (submit, approve, reject, cancel): a POST that calls the
# step's service with the step's input. Who may take it is the service's to say (an
# approver, not the author; the author or an approver), so that the refusal names the
# reason; the API only asks that the caller is signed in. Each step is a subclass that
# names its service and carries its schema texts (``_step_schema``).
class ReorganizationStepView(ReorganizationView):
    write_permissions: ClassVar = {"POST": ()}
    input_serializer: ClassVar[type[serializers.Serializer]] = (
        api_serializers.NoInputSerializer
    )
    service: ClassVar[Callable[..., Reorganization]]

    def post(self, request: Request, pk: int) -> Response:
        existing_id(Reorganization, pk)
        if not Reorganization.objects.filter(pk=pk).exists():
            raise NotFound(f"Reorganization {pk} does not exist.")
        fields = _input(self.input_serializer, request)
        self.service(reorganization=pk, user=request.user, **fields)
        return self.answer(pk)


def _step_schema(
    summary: str,
    description: str,
    request: type[serializers.Serializer] = api_serializers.NoInputSerializer,
) -> Callable[[type[ReorganizationStepView]], type[ReorganizationStepView]]:
    """The schema of a step's POST, on the step's own class (not the shared base)."""
    return extend_schema_view(
        post=extend_schema(
            summary=summary,
            description=description,
            request=request,
            responses={200: api_serializers.ReorganizationSerializer, **ERRORS},
        )
    )


class ReorganizationRevertView(ReorganizationView):
    write_permissions: ClassVar = {"POST": ("units.add_reorganization",)}

    @extend_schema(
        summary='Draft the undo of an applied reorganization ("Reverts <title>")',
        description='Make a new draft, titled "Reverts <title>", whose operations '
        "restore the registry as it stood just before the reorganization applied: "
        "units it established abolished, units it abolished reinstated with their "
        "sub-units back in their old order, moves, field changes, appointments and "
        "dotted lines undone. What cannot be restored is listed in `not_restored`. "
        "The draft then goes through submit and approval like any other. With `mode` "
        "`correct` it takes effect at the reorganization's own time, correcting the "
        "record once applied (400 with `effective_at`). Only an applied "
        "reorganization can be reverted (409 `wrong_status`).",
        request=api_serializers.RevertReorganizationSerializer,
        responses={201: api_serializers.ReorganizationSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        self.one(pk)
        fields = _input(api_serializers.RevertReorganizationSerializer, request)
        revert = services.reorganization_revert(
            reorganization=pk,
            user=request.user,
            reason=fields["reason"],
            effective_at=fields.get("effective_at"),
            reason_visibility=fields.get("reason_visibility"),
            mode=fields["mode"],
        )
        return self.created(revert.pk)


@_step_schema(
    "Submit a draft for approval (refused while an operation fails)",
    "Send a draft to the approvers. It is validated first against the registry as "
    "it will stand at its effective time; while any operation fails, the answer is "
    "409 `does_not_validate` with each problem.",
)
class ReorganizationSubmitView(ReorganizationStepView):
    write_permissions: ClassVar = {"POST": ("units.change_reorganization",)}
    service = staticmethod(services.reorganization_submit)


@_step_schema(
    "Approve (a registry approver other than the author); applied at once when "
    "due, else scheduled",
    "Approve a submitted reorganization: a member of Registry approvers who is not "
    "its author (403 `self_approval` otherwise). It is validated again; due, it is "
    "applied at once, all or nothing; later, it is scheduled for its time.",
)
class ReorganizationApproveView(ReorganizationStepView):
    service = staticmethod(services.reorganization_approve)


@_step_schema(
    "Reject a submitted reorganization, saying why",
    "Send a submitted reorganization back with the reason why (required). Nothing "
    "of it is applied; its author sees the reason.",
    api_serializers.RejectSerializer,
)
class ReorganizationRejectView(ReorganizationStepView):
    input_serializer = api_serializers.RejectSerializer
    service = staticmethod(services.reorganization_reject)


@_step_schema(
    "Cancel before it applies (its author or an approver)",
    "Withdraw a reorganization that has not been applied yet (a draft, submitted, "
    "or approved and scheduled). Nothing of it is applied, and it stays listed as "
    "cancelled.",
)
class ReorganizationCancelView(ReorganizationStepView):
    service = staticmethod(services.reorganization_cancel)


class ReorganizationPreviewView(ReorganizationView):
    @extend_schema(
        summary="Preview: the structure after it, and what it changes",
        description="Tries the reorganization out on the registry as it will stand at "
        "its effective time (the approved ones due by then first) and answers with "
        "the whole tree after it (`tree`, as `tree/?as_of=` would show it) and the "
        "changes it makes (`changes`, as the change feed lists them between before "
        "and after; their `history_id` names nothing, as nothing is kept). Nothing "
        "is written. A draft or submitted one is previewed by readers who may see "
        "it (404 otherwise); an applied, rejected, cancelled or failed one is a 409. "
        "While an operation fails, `problems` says why and `tree` and `changes` are "
        "empty.",
        responses={200: api_serializers.ReorganizationPreviewSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        reorganization = self.one(pk)
        when = reorganization.effective_at
        context = self.context()
        with (
            writes_undone(),
            services.registry_as_planned(when, also=reorganization) as plan,
        ):
            changes = services.previewed_changes(plan)
            tree = (
                []
                if plan.preview_problems
                else json.loads(
                    as_of_tree_json(
                        when,
                        include_abolished=False,
                        origin=context["origin"],
                        language=content_language(),
                    )
                    or b"[]"
                )
            )
            data = {
                "reorganization": api_serializers.ReorganizationSerializer(
                    reorganization, context=context
                ).data,
                "problems": plan.preview_problems,
                "tree": tree,
                "changes": api_serializers.ChangeSerializer(
                    changes, many=True, context=context
                ).data,
                **plan_summary(plan, staff=context["staff_reader"]),
            }
        return Response(data)

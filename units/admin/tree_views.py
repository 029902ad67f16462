"""The unit tree's own admin pages: abolish and reinstate units, and the drag-and-drop
moves.

Each answers with one service call (``units_abolish``, ``unit_reinstate``; a move through
``single_operation_apply`` or ``operation_add``); a
refusal comes back with the status ``services.refusal_status`` gives it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from units import services
from units.admin.base import refusal_field
from units.admin.forms import (
    AbolishForm,
    AbolishUnitForm,
    MoveDialogForm,
    ReinstateForm,
)
from units.admin.history_views import object_context, object_or_404
from units.models import (
    OperationKind,
    OrganizationalUnit,
    ReorganizationOperation,
)

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

ABOLISH_TEMPLATE = "admin/units/organizationalunit/abolish.html"
REINSTATE_TEMPLATE = "admin/units/organizationalunit/reinstate.html"
# The draggable tree's positions (django-mptt's) as the move service names them.
DRAG_POSITIONS: dict[str, services.MovePosition] = {
    "last-child": "last-child",
    "left": "before",
    "right": "after",
}


def abolish(
    request: HttpRequest, units: list[OrganizationalUnit], form: AbolishForm
) -> tuple[int, bool]:
    """Abolish ``units`` as the posted ``form`` says: its status, and whether done.

    A refusal of the services goes onto the form, next to the field it concerns. The
    version the editor loaded comes only from a unit's own page; the action
    abolishing several units does not send one.
    """
    if not form.is_valid():
        return HTTPStatus.BAD_REQUEST, False
    loaded_version = form.cleaned_data.get("expected_version")
    try:
        services.units_abolish(
            units=units,
            user=request.user,
            reason=form.cleaned_data["reason"],
            reason_visibility=form.cleaned_data["reason_visibility"],
            effective_at=form.effective_at,
            expected_versions=(
                None if loaded_version is None else {units[0].pk: loaded_version}
            ),
            **form.service_arguments(),
        )
    except ValidationError as error:
        field = refusal_field(error, form.fields)
        if isinstance(error, services.SubUnitRefusal) and isinstance(
            form, AbolishUnitForm
        ):
            field = form.sub_unit_field(error.sub_unit_id)
        # Nothing was written (the transaction rolled back); the valid form takes the
        # refusal as an error of its own.
        form.add_error(field if field in form.fields else None, error)
        return services.refusal_status(error), False
    return HTTPStatus.OK, True


def unit_abolish_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """The "Abolish" button of a unit's page: each active sub-unit gets its own say."""
    unit = object_or_404(model_admin, request, object_id)
    if not model_admin.has_change_permission(request, unit):
        raise PermissionDenied
    status: int = HTTPStatus.OK
    if request.method == "POST":
        form = AbolishUnitForm(request.POST, unit=unit)
        status, done = abolish(request, [unit], form)
        if done:
            messages.success(
                request,
                _("“%(unit)s” was abolished. It stays in the registry, read-only.")
                % {"unit": unit},
            )
            return HttpResponseRedirect(
                reverse("admin:units_organizationalunit_change", args=[unit.pk])
            )
    else:
        form = AbolishUnitForm(initial={"expected_version": unit.version}, unit=unit)
    context = {
        **object_context(model_admin, request, unit),
        "title": _("Abolish %(unit)s") % {"unit": unit},
        "form": form,
        "units": [unit],
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, ABOLISH_TEMPLATE, context, status=status)


def unit_reinstate_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """The "Reinstate" button of an abolished unit's page, dated like any change."""
    unit = object_or_404(model_admin, request, object_id)
    if not model_admin.has_change_permission(request, unit):
        raise PermissionDenied
    status: int = HTTPStatus.OK
    if request.method == "POST":
        form = ReinstateForm(request.POST)
        status = HTTPStatus.BAD_REQUEST
        if form.is_valid():
            try:
                services.unit_reinstate(
                    unit=unit,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    reason_visibility=form.cleaned_data["reason_visibility"],
                    effective_at=form.effective_at,
                    expected_version=form.cleaned_data.get("expected_version"),
                )
            except ValidationError as error:
                field = refusal_field(error, form.fields)
                form.add_error(field, error)
                status = services.refusal_status(error)
            else:
                messages.success(
                    request, _("“%(unit)s” was reinstated.") % {"unit": unit}
                )
                return HttpResponseRedirect(
                    reverse("admin:units_organizationalunit_change", args=[unit.pk])
                )
    else:
        form = ReinstateForm(initial={"expected_version": unit.version})
    context = {
        **object_context(model_admin, request, unit),
        "title": _("Reinstate %(unit)s") % {"unit": unit},
        "form": form,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, REINSTATE_TEMPLATE, context, status=status)


def abolish_selected_view(
    model_admin: ModelAdmin, request: HttpRequest, units: list[OrganizationalUnit]
) -> HttpResponse | None:
    """The "Abolish selected units" action: its form, then None once done."""
    status: int = HTTPStatus.OK
    if "confirm" in request.POST:
        form = AbolishUnitForm(request.POST, units=units)
        status, done = abolish(request, units, form)
        if done:
            model_admin.message_user(
                request,
                _("Abolished: %(units)s.")
                % {"units": ", ".join(str(unit) for unit in units)},
                messages.SUCCESS,
            )
            return None
    else:
        form = AbolishUnitForm(units=units)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Abolish units"),
        "opts": model_admin.model._meta,
        "form": form,
        "units": units,
        "selected_ids": [unit.pk for unit in units],
        "action_name": "abolish_selected",
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, ABOLISH_TEMPLATE, context, status=status)


def move_node_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Answer the tree's drag-and-drop dialog (``cmd=move_node``).

    Applied at once, the move is a one-operation reorganization approved by its
    author (``single_operation_apply``); or it is added as an operation to one of the
    editor's drafts (``operation_add``). Any refusal is a plain-text answer the dialog
    shows, with nothing moved.
    """
    position = request.POST.get("position")
    if position not in DRAG_POSITIONS:
        return _move_refused(_("Did not understand the move."), HTTPStatus.BAD_REQUEST)
    unit = model_admin.get_object(request, request.POST.get("cut_item", ""))
    target = model_admin.get_object(request, request.POST.get("pasted_on", ""))
    if unit is None or target is None:
        return _move_refused(
            _("One of these units no longer exists; reload the page."),
            HTTPStatus.NOT_FOUND,
        )
    if not model_admin.has_change_permission(request, unit):
        return _move_refused(
            _("You may not change the structure."), HTTPStatus.FORBIDDEN
        )
    form = MoveDialogForm(request.POST, user=request.user)
    if not form.is_valid():
        return _move_refused(_form_errors(form), HTTPStatus.BAD_REQUEST)
    payload = {
        "unit": unit.slug,
        "position": DRAG_POSITIONS[position],
        "target": target.slug,
    }
    if form.cleaned_data["reporting_line"]:
        payload["reporting_line"] = form.cleaned_data["reporting_line"]
    try:
        if form.adds_to_draft:
            draft = form.cleaned_data["draft"]
            added = services.operation_add(
                reorganization=draft,
                user=request.user,
                kind=OperationKind.MOVE_UNIT,
                payload=payload,
            )
        else:
            services.single_operation_apply(
                user=request.user,
                kind=OperationKind.MOVE_UNIT,
                payload=payload,
                reason=form.cleaned_data["reason"],
                # The dialog asks for it; a value the services refuse is a 400.
                reason_visibility=form.cleaned_data["reason_visibility"] or None,
                effective_at=form.effective_at,
                title=_("Move “%(unit)s”") % {"unit": unit},
            )
    except ValidationError as error:
        return _move_refused(" ".join(error.messages), services.refusal_status(error))
    level = messages.SUCCESS
    if form.adds_to_draft:
        message = _("The move of “%(unit)s” was added to the draft “%(draft)s”.") % {
            "unit": unit,
            "draft": draft,
        }
        problem = _draft_problem(added)
        if problem:
            level = messages.WARNING
            # Kept, as every draft's operation is; the draft says it at every edit.
            message += " " + _(
                "As the draft stands, it does not apply: %(problem)s"
            ) % {"problem": problem}
    else:
        moved = OrganizationalUnit.objects.select_related("parent").get(pk=unit.pk)
        parent = moved.parent
        message = _("“%(unit)s” now reports to %(parent)s.") % {
            "unit": moved,
            "parent": f"“{parent}”" if parent else _("nobody (top level)"),
        }
    model_admin.message_user(request, message, level)
    return HttpResponse(message, content_type="text/plain")


def _draft_problem(operation: ReorganizationOperation) -> str:
    """What the draft's validation found wrong with ``operation``, if anything."""
    draft = operation.reorganization
    draft.refresh_from_db(fields=["problems"])
    order = list(
        draft.operations.order_by("position", "pk").values_list("pk", flat=True)
    )
    index = order.index(operation.pk)
    return " ".join(
        str(problem["message"])
        for problem in draft.problems
        if problem.get("operation") == index
    )


def _form_errors(form: MoveDialogForm) -> str:
    return " ".join(
        f"{form.fields[field].label}: {' '.join(map(str, errors))}"
        if field in form.fields
        else " ".join(map(str, errors))
        for field, errors in form.errors.items()
    )


def _move_refused(message: str, status: int) -> HttpResponse:
    """The refusal, shown in the dialog (which stays open): not also a page message."""
    return HttpResponse(message, status=status, content_type="text/plain")

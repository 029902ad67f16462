"""The unit tree's own admin pages: abolish units, and the drag-and-drop moves.

Each answers with one service call (``units_abolish``, ``unit_move_to_position``); a
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
from units.admin.forms import AbolishForm, AbolishUnitForm, AbolishUnitsForm
from units.admin.history_views import object_context, object_or_404
from units.models import OrganizationalUnit

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

ABOLISH_TEMPLATE = "admin/units/organizationalunit/abolish.html"
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


def abolish_selected_view(
    model_admin: ModelAdmin, request: HttpRequest, units: list[OrganizationalUnit]
) -> HttpResponse | None:
    """The "Abolish selected units" action: its form, then None once done."""
    status: int = HTTPStatus.OK
    if "confirm" in request.POST:
        form = AbolishUnitsForm(request.POST, units=units)
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
        form = AbolishUnitsForm(units=units)
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
    """Answer the draggable tree's ``cmd=move_node`` POST through the move service."""
    position = request.POST.get("position")
    if position not in DRAG_POSITIONS:
        return _move_refused(
            model_admin,
            request,
            _("Did not understand the move."),
            HTTPStatus.BAD_REQUEST,
        )
    unit = model_admin.get_object(request, request.POST.get("cut_item", ""))
    target = model_admin.get_object(request, request.POST.get("pasted_on", ""))
    if unit is None or target is None:
        return _move_refused(
            model_admin,
            request,
            _("One of these units no longer exists; reload the page."),
            HTTPStatus.NOT_FOUND,
        )
    if not model_admin.has_change_permission(request, unit):
        return _move_refused(
            model_admin,
            request,
            _("You may not change the structure."),
            HTTPStatus.FORBIDDEN,
        )
    try:
        moved = services.unit_move_to_position(
            unit=unit,
            target=target,
            position=DRAG_POSITIONS[position],
            user=request.user,
            reason=request.POST.get("reason", ""),
            # The drag's script asks for it; a value the services refuse is a 400.
            reason_visibility=request.POST.get("reason_visibility") or None,
        )
    except ValidationError as error:
        return _move_refused(
            model_admin,
            request,
            " ".join(error.messages),
            services.refusal_status(error),
        )
    parent = moved.parent
    model_admin.message_user(
        request,
        _("“%(unit)s” now reports to %(parent)s.")
        % {
            "unit": moved,
            "parent": f"“{parent}”" if parent else _("nobody (top level)"),
        },
        messages.SUCCESS,
    )
    return HttpResponse(_("Moved."), content_type="text/plain")


def _move_refused(
    model_admin: ModelAdmin, request: HttpRequest, message: str, status: int
) -> HttpResponse:
    model_admin.message_user(request, message, messages.ERROR)
    return HttpResponse(message, status=status, content_type="text/plain")

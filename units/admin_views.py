"""The admin's own pages: history and revert of units, posts and people; abolish; moves.

Reads come from ``units.selectors``, writes from ``units.services``; these functions
only translate between HTTP and those calls.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from units import selectors, services
from units.forms import AbolishForm, RevertForm
from units.models import OrganizationalUnit

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

# Fields whose old and new values are shown as one text with the edits marked.
TEXT_DIFF_FIELDS = frozenset({"name", "short_name", "mandate", "location"})
# Words, runs of spaces and punctuation apart, so "registry." vs "registry and" keeps
# the shared word.
DIFF_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")
# The draggable tree's positions (django-mptt's) as the move service names them.
DRAG_POSITIONS: dict[str, services.MovePosition] = {
    "last-child": "last-child",
    "left": "before",
    "right": "after",
}


# --- Differences ----------------------------------------------------------------------


def inline_word_diff(old: str, new: str) -> SafeString:
    """Mark words removed (<del>) and added (<ins>) between two texts."""
    old_tokens = DIFF_TOKEN.findall(old or "")
    new_tokens = DIFF_TOKEN.findall(new or "")
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    parts: list[str] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        removed = "".join(old_tokens[old_start:old_end])
        added = "".join(new_tokens[new_start:new_end])
        if tag == "equal":
            parts.append(escape(removed))
            continue
        if removed:
            parts.append(format_html("<del>{}</del>", removed))
        if added:
            parts.append(format_html("<ins>{}</ins>", added))
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped above


@dataclass
class DisplayedChange:
    """One field's change as the history pages show it."""

    label: str
    old: str
    new: str
    diff: SafeString | None


def displayed_changes(revision: selectors.UnitRevision) -> list[DisplayedChange]:
    creation = revision.history_type == "+"
    return [
        DisplayedChange(
            label=change.label,
            old=change.old_display,
            new=change.new_display,
            diff=(
                inline_word_diff(change.old or "", change.new or "")
                if change.field in TEXT_DIFF_FIELDS and not creation
                else None
            ),
        )
        for change in revision.changes
    ]


def _changes_since(
    revisions: list[selectors.UnitRevision], current_version: int, loaded_version: int
) -> list[selectors.UnitRevision]:
    """The revisions written after the version an editor loaded (newest first).

    Every service write raises the version by one and leaves one history row, so the
    newest ``current - loaded`` revisions are exactly the ones the editor did not see.
    """
    return revisions[: max(current_version - loaded_version, 0)]


def conflict_context(
    unit: OrganizationalUnit, loaded_version: int | None
) -> dict[str, Any]:
    """What changed since the editor loaded the form, for the conflict message."""
    if loaded_version is None:
        return {}
    current = OrganizationalUnit.objects.filter(pk=unit.pk).first()
    if current is None:
        return {}
    revisions = _changes_since(
        selectors.unit_history(current), current.version, loaded_version
    )
    return {
        "conflict_revisions": [
            {"revision": revision, "changes": displayed_changes(revision)}
            for revision in revisions
        ]
    }


# --- History pages ----------------------------------------------------------------------


def _unit_or_404(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> Any:
    unit = model_admin.get_object(request, object_id)
    if unit is None:
        raise Http404(_("There is no unit with the id %(id)s.") % {"id": object_id})
    if not model_admin.has_view_permission(request, unit):
        raise PermissionDenied
    return unit


def unit_history_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """Every version of a unit with effective date, recorded at, author, reason, diff."""
    unit = _unit_or_404(model_admin, request, object_id)
    revisions = selectors.unit_history(unit)
    context = {
        **_object_context(model_admin, request, unit),
        "title": _("History of %(unit)s") % {"unit": unit},
        "revisions": [
            {
                "revision": revision,
                "changes": displayed_changes(revision),
                "url": reverse(
                    "admin:units_organizationalunit_version",
                    args=[unit.pk, revision.history_id],
                ),
            }
            for revision in revisions
        ],
    }
    return TemplateResponse(
        request, "admin/units/organizationalunit/history.html", context
    )


def unit_version_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str, history_id: int
) -> HttpResponse:
    """One version of a unit, its difference to the one before, and a revert form."""
    unit = _unit_or_404(model_admin, request, object_id)
    version = selectors.object_version(
        OrganizationalUnit, unit.pk, history_id, selectors.UNIT_HISTORY_FIELDS
    )
    if version is None:
        return HttpResponse(
            _("Version %(version)s is not a version of this unit.")
            % {"version": history_id},
            status=HTTPStatus.NOT_FOUND,
        )
    can_change = model_admin.has_change_permission(request, unit)
    form = RevertForm(initial={"expected_version": unit.version})
    status = HTTPStatus.OK
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = RevertForm(request.POST)
        status = HTTPStatus.BAD_REQUEST
        if form.is_valid():
            try:
                services.unit_revert(
                    unit=unit,
                    history_id=history_id,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["expected_version"],
                )
            except ValidationError as error:
                form = RevertForm(request.POST)
                form.service_error = error
                form.is_valid()
                status = services.refusal_status(error)
            else:
                messages.success(
                    request,
                    _("“%(unit)s” was reverted to the version of %(date)s.")
                    % {
                        "unit": unit,
                        "date": f"{version.revision.effective_at:%Y-%m-%d %H:%M}",
                    },
                )
                return HttpResponseRedirect(
                    reverse("admin:units_organizationalunit_history", args=[unit.pk])
                )
    revision = version.revision
    context = {
        **_object_context(model_admin, request, unit),
        "title": _("%(unit)s as of %(date)s")
        % {"unit": unit, "date": f"{revision.effective_at:%Y-%m-%d %H:%M} UTC"},
        "revision": revision,
        "changes": displayed_changes(revision),
        "fields": list(version.state.items()),
        "is_latest": version.is_latest,
        "form": form,
        "can_change": can_change,
    }
    return TemplateResponse(
        request, "admin/units/object_version.html", context, status=status
    )


# --- History and revert of posts and people ---------------------------------------------


def _object_or_404(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> Any:
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        raise Http404(
            _("There is no %(kind)s with the id %(id)s.")
            % {"kind": model_admin.model._meta.verbose_name, "id": object_id}
        )
    if not model_admin.has_view_permission(request, obj):
        raise PermissionDenied
    return obj


def _object_context(
    model_admin: ModelAdmin, request: HttpRequest, obj: Any
) -> dict[str, Any]:
    opts = model_admin.model._meta
    return {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "original": obj,
        "object": obj,
        "changelist_url": reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist"
        ),
        "history_url": reverse(
            f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]
        ),
        "change_url": reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
        ),
        "can_change": model_admin.has_change_permission(request, obj),
    }


def object_history_view(
    model_admin: ModelAdmin,
    request: HttpRequest,
    object_id: str,
    fields: tuple[str, ...],
) -> HttpResponse:
    """Every version of a post or person, laid out like a unit's history."""
    obj = _object_or_404(model_admin, request, object_id)
    opts = model_admin.model._meta
    version_url_name = f"admin:{opts.app_label}_{opts.model_name}_simple_history"
    context = {
        **_object_context(model_admin, request, obj),
        "title": _("History of %(object)s") % {"object": obj},
        "revisions": [
            {
                "revision": revision,
                "changes": displayed_changes(revision),
                "url": reverse(version_url_name, args=[obj.pk, revision.history_id]),
            }
            for revision, _state in selectors.object_revisions(
                model_admin.model, obj.pk, fields
            )
        ],
    }
    return TemplateResponse(request, "admin/units/object_history.html", context)


def object_version_view(
    model_admin: ModelAdmin,
    request: HttpRequest,
    object_id: str,
    history_id: str,
    *,
    fields: tuple[str, ...],
    revert: Callable[..., Any],
    revert_note: str = "",
) -> HttpResponse:
    """One version of a post or person, its difference, and a revert form.

    ``revert`` is the service (``post_revert``/``person_revert``) called with the
    object, the version, the user, the reason and the version the editor loaded.
    """
    obj = _object_or_404(model_admin, request, object_id)
    version = selectors.object_version(model_admin.model, obj.pk, history_id, fields)
    if version is None:
        return HttpResponse(
            _("Version %(version)s is not a version of “%(object)s”.")
            % {"version": history_id, "object": obj},
            status=HTTPStatus.NOT_FOUND,
            content_type="text/plain; charset=utf-8",
        )
    revision = version.revision
    can_change = model_admin.has_change_permission(request, obj)
    form = RevertForm(initial={"expected_version": obj.version})
    status = HTTPStatus.OK
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = RevertForm(request.POST)
        status = HTTPStatus.BAD_REQUEST
        if form.is_valid():
            try:
                reverted = revert(
                    obj,
                    history_id=revision.history_id,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["expected_version"],
                )
            except ValidationError as error:
                form = RevertForm(request.POST)
                form.service_error = error
                form.is_valid()
                status = services.refusal_status(error)
            else:
                messages.success(
                    request,
                    _("“%(object)s” was reverted to the version of %(date)s.")
                    % {
                        "object": reverted,
                        "date": f"{revision.effective_at:%Y-%m-%d %H:%M}",
                    },
                )
                return HttpResponseRedirect(
                    _object_context(model_admin, request, obj)["history_url"]
                )
    context = {
        **_object_context(model_admin, request, obj),
        "title": _("%(object)s as of %(date)s")
        % {"object": obj, "date": f"{revision.effective_at:%Y-%m-%d %H:%M} UTC"},
        "revision": revision,
        "changes": displayed_changes(revision),
        "fields": list(version.state.items()),
        "is_latest": version.is_latest,
        "form": form,
        "can_change": can_change,
        "revert_note": revert_note,
    }
    return TemplateResponse(
        request, "admin/units/object_version.html", context, status=status
    )


# --- Abolish ---------------------------------------------------------------------------


def unit_abolish_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """The "Abolish" button of a unit's page."""
    unit = _unit_or_404(model_admin, request, object_id)
    if not model_admin.has_change_permission(request, unit):
        raise PermissionDenied
    form = AbolishForm(initial={"expected_version": unit.version})
    status = HTTPStatus.OK
    if request.method == "POST":
        form = AbolishForm(request.POST)
        if form.is_valid():
            expected_version = form.cleaned_data.get("expected_version")
            try:
                services.units_abolish(
                    units=[unit],
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                    effective_at=form.effective_at,
                    sub_units=form.cleaned_data["sub_units"],
                    move_sub_units_to=form.cleaned_data.get("move_sub_units_to"),
                    expected_versions=(
                        None
                        if expected_version is None
                        else {unit.pk: expected_version}
                    ),
                )
            except ValidationError as error:
                form = AbolishForm(request.POST)
                form.service_error = error
                form.is_valid()
                status = services.refusal_status(error)
            else:
                messages.success(
                    request, _("“%(unit)s” was abolished.") % {"unit": unit}
                )
                return HttpResponseRedirect(
                    reverse("admin:units_organizationalunit_change", args=[unit.pk])
                )
        else:
            status = HTTPStatus.BAD_REQUEST
    context = {
        **_object_context(model_admin, request, unit),
        "title": _("Abolish %(unit)s") % {"unit": unit},
        "form": form,
        "units": [unit],
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(
        request, "admin/units/organizationalunit/abolish.html", context, status=status
    )


# --- Drag-and-drop moves ---------------------------------------------------------------


def move_node_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Answer the draggable tree's ``cmd=move_node`` POST through the move service."""
    position = request.POST.get("position")
    reason = request.POST.get("reason", "")
    queryset = OrganizationalUnit.objects.all()
    if position not in DRAG_POSITIONS:
        return _move_refused(
            model_admin,
            request,
            _("Did not understand the move."),
            HTTPStatus.BAD_REQUEST,
        )
    try:
        unit = queryset.get(pk=request.POST.get("cut_item"))
        target = queryset.get(pk=request.POST.get("pasted_on"))
    except (OrganizationalUnit.DoesNotExist, TypeError, ValueError):
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
            reason=reason,
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

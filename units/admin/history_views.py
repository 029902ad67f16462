"""The history pages of units, posts and people: every version, one version, revert.

simple-history's own pages are replaced: its list did not say which date is the
effective one, and its version page would save a form past the services. Reads come
from ``units.selectors``, a revert is one service call.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from units import selectors, services
from units.admin.diffs import displayed_changes
from units.admin.forms import RevertForm
from units.dates import moment_text
from units.selectors.fields import translated_text

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    # To the type checker the mixin is a ModelAdmin, as every admin it joins is one:
    # the pages below use both its attributes and the ModelAdmin's.
    _AdminBase = ModelAdmin[Any]
else:
    _AdminBase = object


class RevertibleHistory(_AdminBase):
    """What a ModelAdmin tells the history pages: fields shown, how to revert.

    Mixed into the units', posts' and people's admins; the pages below read these.
    """

    history_fields: tuple[str, ...] = ()
    # The admin URL name (without "admin:") of one version's page.
    version_url_name = ""
    history_template = "admin/units/object_history.html"
    revert_note: str | Promise = ""

    def revert(self, obj: Any, **arguments: Any) -> Any:
        """The revert service, called with the object, version, user, reason, version."""
        raise NotImplementedError


def conflict_context(unit_id: int, loaded_version: int | None) -> dict[str, Any]:
    """What changed since the editor loaded the form, for the conflict message."""
    if loaded_version is None:
        return {}
    return {
        "conflict_revisions": [
            {"revision": revision, "changes": displayed_changes(revision)}
            for revision in selectors.unit_revisions_since(unit_id, loaded_version)
        ]
    }


def object_or_404(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> Any:
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        raise Http404(
            _("There is no %(kind)s with the id %(id)s.")
            % {"kind": model_admin.model._meta.verbose_name, "id": object_id}
        )
    if not model_admin.has_view_permission(request, obj):
        raise PermissionDenied
    return obj


def object_context(
    model_admin: ModelAdmin, request: HttpRequest, obj: Any
) -> dict[str, Any]:
    """The admin's page frame for one object: breadcrumbs, links, permissions."""
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


def history_view(
    model_admin: RevertibleHistory, request: HttpRequest, object_id: str
) -> HttpResponse:
    """Every version with effective date, recorded at, author, reason, difference."""
    obj = object_or_404(model_admin, request, object_id)
    context = {
        **object_context(model_admin, request, obj),
        "title": _("History of %(object)s") % {"object": obj},
        "revisions": [
            {
                "revision": revision,
                "changes": displayed_changes(revision),
                "url": reverse(
                    f"admin:{model_admin.version_url_name}",
                    args=[obj.pk, revision.history_id],
                ),
                # The version this one's correction superseded, still readable.
                "corrected_url": reverse(
                    f"admin:{model_admin.version_url_name}",
                    args=[obj.pk, revision.corrects_revision],
                )
                if revision.corrects_revision
                else "",
            }
            for revision, _state in selectors.object_revisions(
                model_admin.model, obj.pk, model_admin.history_fields
            )
        ],
    }
    return TemplateResponse(request, model_admin.history_template, context)


def version_view(
    model_admin: RevertibleHistory,
    request: HttpRequest,
    object_id: str,
    history_id: int | str,
) -> HttpResponse:
    """One version, its difference to the one before, and a form to revert to it."""
    obj = object_or_404(model_admin, request, object_id)
    version = selectors.object_version(
        model_admin.model, obj.pk, history_id, model_admin.history_fields
    )
    if version is None:
        return HttpResponse(
            _("Version %(version)s is not a version of “%(object)s”.")
            % {"version": history_id, "object": obj},
            status=HTTPStatus.NOT_FOUND,
            content_type="text/plain; charset=utf-8",
        )
    revision = version.revision
    frame = object_context(model_admin, request, obj)
    form = RevertForm(initial={"expected_version": obj.version})
    status: int = HTTPStatus.OK
    if request.method == "POST":
        if not frame["can_change"]:
            raise PermissionDenied
        if version.superseded_by is not None:
            return HttpResponse(
                _(
                    "A correction superseded this version; it can be read, not "
                    "reverted to. Revert to the version that replaced it."
                ),
                status=HTTPStatus.CONFLICT,
                content_type="text/plain; charset=utf-8",
            )
        form, status, reverted = _revert(model_admin.revert, request, obj, revision)
        if reverted is not None:
            corrected = form.cleaned_data["mode"] == services.RevertMode.CORRECT
            message = (
                _(
                    "The record of “%(object)s” was corrected: the change after the "
                    "version of %(date)s no longer holds from when it took effect."
                )
                if corrected
                else _("“%(object)s” was reverted to the version of %(date)s.")
            )
            messages.success(
                request,
                message
                % {
                    "object": reverted,
                    "date": moment_text(revision.effective_at),
                },
            )
            return HttpResponseRedirect(frame["history_url"])
    context = {
        **frame,
        "title": _("%(object)s as of %(date)s")
        % {"object": obj, "date": moment_text(revision.effective_at)},
        "revision": revision,
        "changes": displayed_changes(revision),
        "fields": _state_rows(model_admin, version.state),
        "is_latest": version.is_latest,
        "superseded_on": version.superseded_on,
        "superseded_url": reverse(
            f"admin:{model_admin.version_url_name}",
            args=[obj.pk, version.superseded_by],
        )
        if version.superseded_by is not None
        else "",
        "form": form,
        "revert_note": model_admin.revert_note,
    }
    return TemplateResponse(
        request, "admin/units/object_version.html", context, status=status
    )


def _state_rows(
    model_admin: RevertibleHistory, state: selectors.ShownState
) -> list[tuple[str, str, str]]:
    """A version's fields as (label, value, language of a text kept in several
    languages, else ""), in ``history_fields`` order, as the state was read."""
    model: type[Model] = model_admin.model
    return [
        (label, value, (translated_text(model, attname) or ("", ""))[1])
        for attname, (label, value) in zip(
            model_admin.history_fields, state.items(), strict=True
        )
    ]


def _revert(
    revert: Callable[..., Any],
    request: HttpRequest,
    obj: Any,
    revision: selectors.UnitRevision,
) -> tuple[RevertForm, int, Any]:
    """Post the revert form: the form to show, its status, and what was reverted."""
    form = RevertForm(request.POST)
    if not form.is_valid():
        return form, HTTPStatus.BAD_REQUEST, None
    try:
        reverted = revert(
            obj,
            history_id=revision.history_id,
            user=request.user,
            reason=form.cleaned_data["reason"],
            reason_visibility=form.cleaned_data["reason_visibility"],
            expected_version=form.cleaned_data["expected_version"],
            mode=form.cleaned_data["mode"],
        )
    except ValidationError as error:
        form = RevertForm(request.POST)
        form.service_error = error
        form.is_valid()
        return form, services.refusal_status(error), None
    return form, HTTPStatus.OK, reverted

"""What every registry admin shares: writes through services, no deletion.

A save goes through ``units.services`` (never ``obj.save()``): the form collects a
reason, an optional effective date and the version the editor loaded, and a refusal
from the services comes back as an error on the re-rendered form with nothing written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from units import services
from units.admin import history_views

RECORD_FIELDSET_FIELDS = [
    "reason",
    "reason_visibility",
    "effective_date",
    "expected_version",
]


def revision_record(request: HttpRequest, form: Any) -> dict[str, Any]:
    """Who made the change, why and when it took effect: what every service takes."""
    return {
        "user": request.user,
        "reason": form.cleaned_data["reason"],
        "reason_visibility": form.cleaned_data["reason_visibility"],
        "effective_at": form.effective_at,
    }


def copy_saved_state(obj: Model, saved: Model) -> None:
    """Give the admin's ``obj`` the state a service saved, instead of saving it.

    The admin goes on with ``obj`` (inlines, log entry, redirect) after save_model.
    """
    for field in type(obj)._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False


def formset_bookkeeping(formset: Any, new: list, changed: list) -> None:
    """What the admin's change message reads from a saved formset."""
    formset.new_objects = new
    formset.changed_objects = changed
    formset.deleted_objects = []


# The form fields a refusal concerns, by refusal code, most specific first: the
# refusal is shown next to the first of them the form has.
REFUSAL_FIELDS: dict[str, tuple[str, ...]] = {
    services.Refusal.REASON_REQUIRED: ("reason",),
    services.Refusal.FUTURE_EFFECTIVE_TIME: ("effective_date",),
    services.Refusal.OUT_OF_ORDER: ("effective_date",),
    services.Refusal.BEFORE_ABOLITION: ("effective_date",),
    services.Refusal.SLUG_TAKEN: ("slug",),
    services.Refusal.HEAD_EXISTS: ("is_head",),
    services.Refusal.CYCLE: ("parent",),
    services.Refusal.PARENT_ABOLISHED: ("parent", "unit", "target"),
    services.Refusal.PARENT_NOT_YET_ESTABLISHED: ("parent", "unit", "target"),
    services.Refusal.UNIT_ABOLISHED: ("unit",),
}


def refusal_field(error: ValidationError, fields: Iterable[str]) -> str | None:
    """The field of ``fields`` a refusal concerns, or None for the whole form."""
    fields = list(fields)
    if hasattr(error, "error_dict"):
        # full_clean() found invalid values: keyed by model field names.
        candidates: tuple[str, ...] = tuple(error.error_dict)
    else:
        candidates = REFUSAL_FIELDS.get(services.refusal_code(error), ())
    return next((name for name in candidates if name in fields), None)


class ServiceRefused(Exception):
    """A service refused a save; carries its ValidationError back to the form.

    ``field`` is the field it concerns when the caller knows it; ``row`` the prefix of
    the inline row it came from (the row then shows it, and the page says where).
    """

    def __init__(
        self,
        error: ValidationError,
        *,
        subject: str = "",
        field: str | None = None,
        row: str | None = None,
    ) -> None:
        # Flattened to one message: a model-level error keyed by a field the form
        # does not show would otherwise make the form itself fail.
        prefix = f"{subject}: " if subject else ""
        code = services.refusal_code(error)
        self.plain_error = ValidationError(" ".join(error.messages), code=code)
        self.error = ValidationError(
            " ".join(f"{prefix}{message}" for message in error.messages), code=code
        )
        super().__init__(self.error.messages)
        self.field = field
        self.row = row
        self.subject = subject


class RefusedRowInline(InlineModelAdmin):
    """An inline whose rows show a refusal of the services next to their field."""

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is not None and refusal.row is not None:
            row_refusals = {refusal.row: (refusal.field, refusal.plain_error)}
            formset.form = type(
                formset.form.__name__, (formset.form,), {"row_refusals": row_refusals}
            )
        return formset


class ServiceWriteAdmin(admin.ModelAdmin):
    """Shared rules: writes only through services, no deletion, read-only history."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing is ever deleted, not even by a superuser: units and posts are
        # abolished, appointments and relationships ended, history is append-only.
        return False

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refusal:
            # The first pass ran in a transaction that the exception rolled back; the
            # second pass only re-renders the posted form with the refusal on it.
            request._service_refusal = refusal  # type: ignore[attr-defined]
            context = {
                **(extra_context or {}),
                **self.refusal_context(request, object_id, refusal),
            }
            response = super().changeform_view(request, object_id, form_url, context)
            response.status_code = services.refusal_status(refusal.error)
            return response

    def refusal_context(
        self, request: HttpRequest, object_id: str | None, refusal: ServiceRefused
    ) -> dict[str, Any]:
        return {}

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form
        if refusal.row is not None:
            # The row shows the refusal itself; the top of the page says where.
            error = ValidationError(
                _("Nothing was saved: %(subject)s was refused, see below.")
                % {"subject": refusal.subject or _("a row")},
                code=refusal.error.code,
            )
            field = None
        else:
            error = refusal.plain_error
            field = refusal.field or refusal_field(
                refusal.plain_error, form.base_fields
            )
            if field is None:
                error = refusal.error
        return type(
            form.__name__,
            (form,),
            {"service_error": error, "service_error_field": field},
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets = list(self.content_fieldsets(request, obj))
        if obj is None or self.has_change_permission(request, obj):
            fieldsets.append(
                (_("Record this change"), {"fields": RECORD_FIELDSET_FIELDS})
            )
        return fieldsets

    def content_fieldsets(self, request: HttpRequest, obj: Any) -> list[Any]:
        raise NotImplementedError


class RevertibleHistoryAdmin(
    history_views.RevertibleHistory, ServiceWriteAdmin, SimpleHistoryAdmin
):
    """Posts' and people's history and version pages, laid out like a unit's.

    simple-history's URLs are kept (``<id>/history/<version>/`` is its
    ``_simple_history`` page); its views are replaced by the registry's.
    """

    def history_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return history_views.history_view(self, request, object_id)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return history_views.version_view(self, request, object_id, version_id)

"""The admin's import of a spreadsheet of units: upload, see the difference, save it
as a draft reorganization.

Thin over ``units.services.imports``. The page keeps no state between its two steps:
the difference page carries the file itself (base64, in a hidden field) to the save,
which reads and compares it again, so what is drafted is what the registry differs by
at the moment of saving.
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from units import services
from units.admin.forms import ServiceErrorMixin, reason_visibility_field
from units.models import OperationKind, Reorganization
from units.services.imports import Change, FileProblem, FileRefusal, read_upload

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

IMPORT_TEMPLATE = "admin/units/reorganization/import.html"


class ImportForm(ServiceErrorMixin, forms.ModelForm):
    """The draft's fields, the file, and the file carried from the difference page."""

    file = forms.FileField(
        label=gettext_lazy("Spreadsheet of units"),
        required=False,
        help_text=gettext_lazy(
            "An Excel workbook (.xlsx: its Units sheet, else its first) or a CSV file "
            "in UTF-8, with the columns of the units' export, which is the template."
        ),
    )
    carried = forms.CharField(widget=forms.HiddenInput, required=False)
    filename = forms.CharField(widget=forms.HiddenInput, required=False)
    reason_visibility = reason_visibility_field()

    class Meta:
        model = Reorganization
        fields = ["title", "reference", "reason", "reason_visibility", "effective_at"]
        widgets = {
            "effective_at": forms.DateTimeInput(
                attrs={"placeholder": "2026-12-31 09:00"}
            )
        }
        help_texts = {
            "effective_at": gettext_lazy(
                "When it takes effect (past, now or future); empty: now."
            )
        }

    field_order = ("file", "title", "reference", "reason", "reason_visibility")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_at"].required = False


def _uploaded(request: HttpRequest) -> tuple[bytes, str] | None:
    """The file just uploaded, or the one the difference page carried; None: none."""
    upload = request.FILES.get("file")
    if upload is not None:
        return read_upload(upload), upload.name or ""
    carried = request.POST.get("carried", "")
    if not carried:
        return None
    try:
        content = base64.b64decode(carried, validate=True)
    except (binascii.Error, ValueError):
        return None
    return content, request.POST.get("filename", "")


def import_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Upload a file, see its difference with the registry, save it as a draft."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    status: int = HTTPStatus.OK
    changes: list[Change] | None = None
    problems: list[FileProblem] = []
    file_error = ""
    carried = filename = ""
    if request.method != "POST":
        form = ImportForm()
    else:
        uploaded = _uploaded(request)
        saving = "_save" in request.POST
        # The difference page asks nothing but the file: the draft's fields are
        # checked when it is saved.
        form = (
            ImportForm(request.POST, request.FILES)
            if saving
            else ImportForm(initial=request.POST.dict())
        )
        if uploaded is None:
            file_error = _("Choose a spreadsheet of units to upload.")
            status = HTTPStatus.BAD_REQUEST
        elif saving and form.is_valid():
            content, filename = uploaded
            try:
                draft = services.reorganization_import(
                    user=request.user,
                    content=content,
                    filename=filename,
                    title=form.cleaned_data["title"],
                    reason=form.cleaned_data["reason"],
                    reference=form.cleaned_data.get("reference") or "",
                    effective_at=form.cleaned_data.get("effective_at"),
                    reason_visibility=form.cleaned_data.get("reason_visibility")
                    or None,
                )
            except FileRefusal as refusal:
                problems = refusal.file_problems
                status = HTTPStatus.BAD_REQUEST
            except ValidationError as error:
                form.add_error(None, error)
                status = services.refusal_status(error)
            else:
                messages.success(
                    request,
                    _(
                        "The draft “%(title)s” holds the file's %(count)s changes; "
                        "submit it for approval when it is ready."
                    )
                    % {"title": draft.title, "count": draft.operations.count()},
                )
                return HttpResponseRedirect(
                    reverse("admin:units_reorganization_change", args=[draft.pk])
                )
        elif saving:
            status = HTTPStatus.BAD_REQUEST
        if uploaded is not None and not problems:
            content, filename = uploaded
            try:
                changes = services.import_difference(content, filename)
            except FileRefusal as refusal:
                problems = refusal.file_problems
                status = HTTPStatus.BAD_REQUEST
            else:
                carried = base64.b64encode(content).decode()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Import a spreadsheet of units"),
        "form": form,
        "changes": changes,
        "kinds": dict(OperationKind.choices),
        "problems": problems,
        "file_error": file_error,
        "carried": carried,
        "filename": filename,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, IMPORT_TEMPLATE, context, status=status)

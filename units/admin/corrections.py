"""Correcting an appointment's or a relationship's record from the admin (issue 14).

Reached from the person's posts held and the unit's dotted lines ("Correct…"): the
services write the correction as new rows only, from when each corrected value began,
so readings "as recorded" before it still give the old record.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from units import services
from units.admin.forms import REASON_HELP, ServiceErrorMixin, reason_visibility_field
from units.admin.history_views import object_context, object_or_404
from units.content_languages import RELATIONSHIP_TRANSLATED, language_fields
from units.models import (
    Appointment,
    RecordedModel,
    UnitRelationship,
    column_field,
)

TEMPLATE = "admin/units/correct_record.html"


class CorrectionForm(ServiceErrorMixin, forms.Form):
    """The corrected values, why, and the version the editor loaded."""

    record_fields: tuple[str, ...] = ()

    reason = forms.CharField(
        label=gettext_lazy("Reason for this correction"),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=REASON_HELP,
    )
    reason_visibility = reason_visibility_field()
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def changes(self, record: RecordedModel) -> dict[str, Any]:
        """The record's fields the editor changed (the others are not corrected)."""
        return {
            name: self.cleaned_data[name]
            for name in self.record_fields
            if self.cleaned_data[name] != getattr(record, name)
        }


class CorrectAppointmentForm(CorrectionForm):
    record_fields = ("started_on", "ended_on", "note")

    started_on = forms.DateField(label=gettext_lazy("Started on"))
    ended_on = forms.DateField(label=gettext_lazy("Ended on"), required=False)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=255)


def _description_field(name: str) -> forms.CharField:
    """The description in one language, labelled as the model labels it."""
    return forms.CharField(
        label=capfirst(column_field(UnitRelationship, name).verbose_name),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class CorrectRelationshipForm(CorrectionForm):
    record_fields = (
        "started_on",
        "ended_on",
        *language_fields(RELATIONSHIP_TRANSLATED),
    )

    started_on = forms.DateField(label=gettext_lazy("Started on"), required=False)
    ended_on = forms.DateField(label=gettext_lazy("Ended on"), required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea
    )
    description_fr = _description_field("description_fr")
    description_es = _description_field("description_es")


def correct_view(
    model_admin: ModelAdmin,
    request: HttpRequest,
    object_id: str,
    record: RecordedModel,
    form_class: type[CorrectionForm],
    correct: Callable[..., Any],
) -> HttpResponse:
    """The correction page of ``record``, which belongs to the admin's object."""
    owner = object_or_404(model_admin, request, object_id)
    if not model_admin.has_change_permission(request, owner):
        raise PermissionDenied
    change_url = reverse(
        f"admin:{owner._meta.app_label}_{owner._meta.model_name}_change",
        args=[owner.pk],
    )
    status: int = HTTPStatus.OK
    initial = {name: getattr(record, name) for name in form_class.record_fields}
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                correct(
                    user=request.user,
                    reason=data["reason"],
                    reason_visibility=data["reason_visibility"],
                    expected_version=data["expected_version"],
                    **form.changes(record),
                )
            except ValidationError as error:
                form = form_class(request.POST)
                form.service_error = error
                form.is_valid()
                status = services.refusal_status(error)
            else:
                messages.success(
                    request,
                    _("The record of “%(record)s” was corrected.") % {"record": record},
                )
                return HttpResponseRedirect(change_url)
        else:
            status = HTTPStatus.BAD_REQUEST
    else:
        form = form_class(initial={**initial, "expected_version": record.version})
    context = {
        **object_context(model_admin, request, owner),
        "title": _("Correct the record of %(record)s") % {"record": record},
        "form": form,
        "record_fields": [form[name] for name in form_class.record_fields],
        "change_url": change_url,
    }
    return TemplateResponse(request, TEMPLATE, context, status=status)


def correct_appointment_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str, record_id: int
) -> HttpResponse:
    appointment = Appointment.objects.filter(
        pk=record_id, person_id=_int(object_id)
    ).first()
    if appointment is None:
        raise Http404(_("This person has no such appointment."))
    return correct_view(
        model_admin,
        request,
        object_id,
        appointment,
        CorrectAppointmentForm,
        lambda **arguments: services.appointment_correct(
            appointment=appointment, **arguments
        ),
    )


def correct_relationship_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str, record_id: int
) -> HttpResponse:
    relationship = UnitRelationship.objects.filter(
        pk=record_id, source_id=_int(object_id)
    ).first()
    if relationship is None:
        raise Http404(_("This unit has no such dotted-line relationship."))
    return correct_view(
        model_admin,
        request,
        object_id,
        relationship,
        CorrectRelationshipForm,
        lambda **arguments: services.relationship_correct(
            relationship=relationship, **arguments
        ),
    )


def _int(object_id: str) -> int:
    if not object_id.isdigit() or len(object_id) > 18:
        raise Http404(_("There is no such object."))
    return int(object_id)

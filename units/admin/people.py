"""The people's admin: a person, the posts they hold or held, history and revert."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from units import services
from units.admin import corrections
from units.admin.base import (
    RefusedRowInline,
    RevertibleHistoryAdmin,
    ServiceRefused,
    copy_saved_state,
    formset_bookkeeping,
    revision_record,
)
from units.admin.forms import AppointmentInlineForm, PersonForm
from units.models import Appointment, Person


class AppointmentInline(RefusedRowInline, admin.TabularInline):
    """The posts a person holds or held; appoint to a post or end an appointment."""

    model = Appointment
    form = AppointmentInlineForm
    fields = ("post", "unit_of_post", "started_on", "ended_on", "note", "correct")
    readonly_fields = ("unit_of_post", "correct")
    autocomplete_fields = ("post",)
    extra = 0
    can_delete = False
    verbose_name = _("post held")
    verbose_name_plural = _("posts held")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("post__unit")

    @admin.display(description=_("unit"))
    def unit_of_post(self, appointment: Appointment) -> str:
        return str(appointment.post.unit) if appointment.pk else ""

    @admin.display(description=_("correct"))
    def correct(self, appointment: Appointment) -> str:
        """A link to correct the recorded dates or note (new rows only)."""
        if appointment.pk is None:
            return ""
        url = reverse(
            "admin:units_person_correct_appointment",
            args=[appointment.person_id, appointment.pk],
        )
        return format_html('<a href="{}">{}</a>', url, _("Correct…"))


@admin.register(Person)
class PersonAdmin(RevertibleHistoryAdmin):
    form = PersonForm
    list_display = ("full_name", "slug")
    search_fields = ("full_name", "slug")
    inlines = (AppointmentInline,)
    history_fields = ("full_name", "slug")
    version_url_name = "units_person_simple_history"

    def revert(self, obj: Person, **arguments: Any) -> Person:
        return services.person_revert(person=obj, **arguments)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/appointments/<int:record_id>/correct/",
                self.admin_site.admin_view(self.correct_appointment_view),
                name="units_person_correct_appointment",
            ),
        ]
        return own + super().get_urls()

    def correct_appointment_view(
        self, request: HttpRequest, object_id: str, record_id: int
    ) -> HttpResponse:
        return corrections.correct_appointment_view(self, request, object_id, record_id)

    def content_fieldsets(self, request: HttpRequest, obj: Person | None) -> list[Any]:
        return [(None, {"fields": ["full_name", "slug"]})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["slug"] if obj is not None else []

    def save_model(
        self, request: HttpRequest, obj: Person, form: PersonForm, change: bool
    ) -> None:
        data = form.cleaned_data
        record = revision_record(request, form)
        try:
            if not change:
                person = services.person_create(
                    **record, full_name=data["full_name"], slug=data.get("slug") or ""
                )
            else:
                changes = (
                    {"full_name": data["full_name"]}
                    if "full_name" in form.changed_data
                    else {}
                )
                person = services.person_update(
                    **record,
                    person=obj,
                    expected_version=data.get("expected_version"),
                    **changes,
                )
        except ValidationError as error:
            raise ServiceRefused(error) from error
        copy_saved_state(obj, person)

    def save_formset(
        self, request: HttpRequest, form: PersonForm, formset: Any, change: bool
    ) -> None:
        # Appointments are dated by their own days, not by the form's effective date.
        author = {
            "user": request.user,
            "reason": form.cleaned_data["reason"],
            "reason_visibility": form.cleaned_data["reason_visibility"],
        }
        new: list[Appointment] = []
        ended: list[tuple[Appointment, list[str]]] = []
        for appointment_form in formset.forms:
            if not appointment_form.has_changed() or not appointment_form.cleaned_data:
                continue
            data = appointment_form.cleaned_data
            appointment = appointment_form.instance
            try:
                if appointment.pk is None:
                    new.append(
                        services.appointment_start(
                            **author,
                            person=form.instance,
                            post=data["post"],
                            started_on=data["started_on"],
                            note=data.get("note", ""),
                        )
                    )
                    # A past appointment is two changes, each effective on its own
                    # day: its start, then its end.
                    if data.get("ended_on"):
                        services.appointment_end(
                            **author, appointment=new[-1], ended_on=data["ended_on"]
                        )
                elif "ended_on" in appointment_form.changed_data and data.get(
                    "ended_on"
                ):
                    ended.append(
                        (
                            services.appointment_end(
                                **author,
                                appointment=appointment,
                                ended_on=data["ended_on"],
                            ),
                            ["ended_on"],
                        )
                    )
            except ValidationError as error:
                subject = str(
                    _("Appointment to “%(post)s”") % {"post": data.get("post")}
                )
                ending = appointment.pk is not None or (
                    services.refusal_code(error) == services.Refusal.ENDS_BEFORE_START
                )
                raise ServiceRefused(
                    error,
                    subject=subject,
                    field="ended_on" if ending else "post",
                    row=appointment_form.prefix,
                ) from error
        formset_bookkeeping(formset, new, ended)

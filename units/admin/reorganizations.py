"""The reorganizations' admin: a draft and its operations, and the steps of its life.

Thin over ``units.services.reorganizations``: the draft and each operation are saved
through the services (which validate the whole draft at every edit and keep each
operation's problem), and the actions submit, approve, reject (with the reason typed
beside the action) and cancel. Only a draft is edited; the others are read-only. An
applied one has a "Revert…" button: it asks for the reason and drafts the undo.
A draft can also come from a spreadsheet of units (``imports.py``, its own page).
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from orgregistry.database_routing import writes_undone
from units import services
from units.admin.base import (
    RefusedRowInline,
    ServiceRefused,
    ServiceWriteAdmin,
    copy_saved_state,
    formset_bookkeeping,
)
from units.admin.forms import (
    InlineRowForm,
    RevertReorganizationForm,
    ServiceErrorMixin,
    reason_visibility_field,
)
from units.admin.history_views import object_context, object_or_404
from units.admin.imports import import_view
from units.models import (
    Reorganization,
    ReorganizationOperation,
    ReorganizationStatus,
)
from units.services.reorganizations import check_payload
from units.services.reorganizations.planned import PREVIEWABLE

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

EDITABLE_FIELDS = ("title", "reference", "reason", "reason_visibility", "effective_at")


class ReorganizationForm(ServiceErrorMixin, forms.ModelForm):
    # Radio buttons starting at the registry's default, as every other reason's.
    reason_visibility = reason_visibility_field()

    class Meta:
        model = Reorganization
        fields = list(EDITABLE_FIELDS)


class OperationForm(InlineRowForm):
    """One operation; its payload's shape is checked here, before anything is saved."""

    class Meta:
        model = ReorganizationOperation
        fields = ["position", "kind", "payload"]

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        kind, payload = cleaned_data.get("kind"), cleaned_data.get("payload")
        if kind and not self.cleaned_data.get("DELETE"):
            try:
                check_payload(kind, payload)
            except ValidationError as error:
                self.add_error("payload", error)
        return cleaned_data


def _problem_of(operation: ReorganizationOperation) -> str:
    """The last validation's problem with ``operation`` (by its index), or nothing."""
    reorganization = operation.reorganization
    order = list(reorganization.operations.values_list("pk", flat=True))
    index = order.index(operation.pk) if operation.pk in order else None
    return " ".join(
        str(problem["message"])
        for problem in reorganization.problems
        if problem.get("operation") == index
    )


class OperationInline(RefusedRowInline, admin.TabularInline):
    model = ReorganizationOperation
    form = OperationForm
    fields = ("position", "kind", "payload", "problem")
    readonly_fields = ("problem",)
    extra = 0
    ordering = ("position", "pk")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_draft(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or _is_draft(obj)) and super().has_add_permission(
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Taking an operation out of a draft changes the draft; nobody holds a delete
        # permission in the registry (migration 0003).
        return _is_draft(obj) and request.user.has_perm("units.change_reorganization")

    @admin.display(description=_("problem"))
    def problem(self, operation: ReorganizationOperation) -> str:
        return _problem_of(operation) if operation.pk else ""


def _is_draft(reorganization: Reorganization | None) -> bool:
    return reorganization is None or reorganization.status == ReorganizationStatus.DRAFT


class ReasonActionForm(ActionForm):
    reason = forms.CharField(
        label=_("Reason (to reject)"),
        required=False,
        widget=forms.TextInput(attrs={"size": 40}),
    )


def _step(
    name: str,
    step: Callable[..., Reorganization],
    description: StrOrPromise,
    done: str,
    *,
    with_reason: bool = False,
) -> Callable[[Any, HttpRequest, QuerySet[Reorganization]], None]:
    """The admin action ``name``, taking one step on each chosen reorganization.

    Each is its own transaction; a refusal is reported with its reasons (each problem
    beside its operation's number) and leaves that one as it was. ``with_reason``: the
    step takes the reason typed beside the action (reject).
    """

    @admin.action(description=description)
    def action(
        admin_: Any, request: HttpRequest, queryset: QuerySet[Reorganization]
    ) -> None:
        extra = {"reason": request.POST.get("reason", "")} if with_reason else {}
        for reorganization in queryset.order_by("pk"):
            try:
                step(reorganization=reorganization, user=request.user, **extra)
            except ValidationError as error:
                admin_.message_user(
                    request,
                    f"“{reorganization}”: {' '.join(error.messages)}",
                    messages.ERROR,
                )
            else:
                admin_.message_user(request, f"“{reorganization}” {done}.")

    # The admin names an action by its function (``action=submit`` in the form).
    action.__name__ = name
    return action


@admin.register(Reorganization)
class ReorganizationAdmin(ServiceWriteAdmin):
    form = ReorganizationForm
    inlines = (OperationInline,)
    action_form = ReasonActionForm
    list_display = (
        "title",
        "reference",
        "effective_at",
        "status",
        "author",
        "reverts_shown",
    )
    list_filter = ("status",)
    search_fields = ("title", "reference")
    readonly_fields = (
        "status",
        "scheduled",
        "author",
        "approver",
        "decided_at",
        "applied_at",
        "rejection_reason",
        "problems_shown",
        "reverts_shown",
        "not_restored_shown",
        "preview_link",
    )
    actions = (
        _step(
            "submit",
            services.reorganization_submit,
            _("Submit the chosen drafts for approval"),
            "was submitted",
        ),
        _step(
            "approve",
            services.reorganization_approve,
            _("Approve the chosen reorganizations"),
            "was approved",
        ),
        _step(
            "reject",
            services.reorganization_reject,
            _("Reject the chosen reorganizations (give a reason)"),
            "was rejected",
            with_reason=True,
        ),
        _step(
            "cancel",
            services.reorganization_cancel,
            _("Cancel the chosen reorganizations"),
            "was cancelled",
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reorganization]:
        return (
            super()
            .get_queryset(request)
            .select_related("author", "approver", "reverts")
        )

    @admin.display(description=_("reverts"))
    def reverts_shown(self, reorganization: Reorganization) -> str:
        original = reorganization.reverts
        if original is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:units_reorganization_change", args=[original.pk]),
            _("reverts %(title)s") % {"title": original.title},
        )

    @admin.display(description=_("what it cannot restore"))
    def not_restored_shown(self, reorganization: Reorganization) -> str:
        if not reorganization.not_restored:
            return "—"
        return format_html_join(
            "",
            "<p>{}</p>",
            ((item["message"],) for item in reorganization.not_restored),
        )

    # --- Own pages: import a spreadsheet, revert (a new draft undoing it), preview ----

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="units_reorganization_import",
            ),
            path(
                "<path:object_id>/revert/",
                self.admin_site.admin_view(self.revert_view),
                name="units_reorganization_revert",
            ),
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="units_reorganization_preview",
            ),
        ]
        return own + super().get_urls()

    def can_revert(self, request: HttpRequest, reorganization: Any) -> bool:
        return (
            reorganization is not None
            and reorganization.status == ReorganizationStatus.APPLIED
            and self.has_add_permission(request)
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_revert": self.can_revert(request, self.get_object(request, object_id)),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def revert_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The "Revert…" button: the reason (and when), then the new draft's page."""
        original = object_or_404(self, request, object_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        status: int = HTTPStatus.OK
        form = RevertReorganizationForm()
        if request.method == "POST":
            form = RevertReorganizationForm(request.POST)
            status = HTTPStatus.BAD_REQUEST
            if form.is_valid():
                try:
                    revert = services.reorganization_revert(
                        reorganization=original.pk,
                        user=request.user,
                        reason=form.cleaned_data["reason"],
                        effective_at=form.cleaned_data["effective_at"],
                        reason_visibility=form.cleaned_data["reason_visibility"],
                        mode=form.cleaned_data["mode"],
                    )
                except ValidationError as error:
                    form = RevertReorganizationForm(request.POST)
                    form.service_error = error
                    form.is_valid()
                    status = services.refusal_status(error)
                else:
                    self.message_user(
                        request,
                        _(
                            "“%(title)s” was drafted. Check its operations and what it "
                            "cannot restore, then submit it for approval."
                        )
                        % {"title": revert.title},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:units_reorganization_change", args=[revert.pk])
                    )
        context = {
            **object_context(self, request, original),
            "title": _("Revert %(title)s") % {"title": original.title},
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request, "admin/units/reorganization/revert.html", context, status=status
        )

    def import_view(self, request: HttpRequest) -> HttpResponse:
        return import_view(self, request)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets: list[Any] = [(None, {"fields": list(EDITABLE_FIELDS)})]
        if obj is not None:
            fieldsets.append((_("Status"), {"fields": list(self.readonly_fields)}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and not _is_draft(obj):
            return (*EDITABLE_FIELDS, *self.readonly_fields)
        return self.readonly_fields

    @admin.display(description=_("scheduled"), boolean=True)
    def scheduled(self, reorganization: Reorganization) -> bool:
        return reorganization.is_scheduled

    @admin.display(description=_("preview"))
    def preview_link(self, reorganization: Reorganization) -> str:
        if reorganization.pk is None or reorganization.status not in PREVIEWABLE:
            return "—"
        return format_html(
            '<a href="{}" id="reorganization-preview-link">{}</a>',
            reverse("admin:units_reorganization_preview", args=[reorganization.pk]),
            _("Preview: the structure after it and what it changes"),
        )

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """What the reorganization changes and the chart after it, tried out on the
        registry as it will stand at its time; nothing is kept."""
        reorganization = self.get_object(request, object_id)
        if reorganization is None or not self.has_view_permission(
            request, reorganization
        ):
            raise Http404(_("No such reorganization."))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "reorganization": reorganization,
            "title": _("Preview of “%(title)s”") % {"title": reorganization.title},
            "previewable": reorganization.status in PREVIEWABLE,
        }
        if context["previewable"]:
            with (
                writes_undone(),
                services.registry_as_planned(
                    reorganization.effective_at, also=reorganization
                ) as plan,
            ):
                context["changes"] = services.previewed_changes(plan)
                context["problems"] = plan.preview_problems
                context["earlier"] = plan.reorganizations
            # As it will stand at its time: the chart's title names that date.
            planned = urlencode(
                {
                    "preview": reorganization.pk,
                    "as_of": reorganization.effective_at.isoformat(),
                }
            )
            chart = reverse("units:chart")
            context["chart_url"] = f"{chart}?{planned}&depth=all"
            context["structure_url"] = f"{reverse('units:structure')}?{planned}"
            context["chart_svg_url"] = (
                reverse("units:chart-download", args=["svg"]) + f"?{planned}&depth=all"
            )
        return TemplateResponse(
            request, "admin/units/reorganization/preview.html", context
        )

    @admin.display(description=_("what stands in its way"))
    def problems_shown(self, reorganization: Reorganization) -> str:
        if not reorganization.problems:
            return "—"
        return format_html_join(
            "",
            "<p>{}</p>",
            (
                (
                    (
                        _("The whole")
                        if problem.get("operation") is None
                        else _("Operation %(number)s")
                        % {"number": problem["operation"] + 1}
                    )
                    + f": {problem['message']}",
                )
                for problem in reorganization.problems
            ),
        )

    def save_model(
        self, request: HttpRequest, obj: Reorganization, form: Any, change: bool
    ) -> None:
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        try:
            if change:
                changed = {
                    name: fields[name] for name in form.changed_data if name in fields
                }
                saved = (
                    services.reorganization_update(
                        reorganization=obj.pk, user=request.user, **changed
                    )
                    if changed
                    else obj
                )
            else:
                saved = services.reorganization_create(user=request.user, **fields)
        except ValidationError as error:
            raise ServiceRefused(error) from error
        copy_saved_state(obj, saved)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        new, changed = [], []
        for row in formset.forms:
            if not row.has_changed() and row.instance.pk is not None:
                continue
            data = row.cleaned_data
            if not data:
                continue
            try:
                if data.get("DELETE"):
                    if row.instance.pk is not None:
                        services.operation_delete(
                            operation=row.instance.pk, user=request.user
                        )
                elif row.instance.pk is None:
                    new.append(
                        services.operation_add(
                            reorganization=form.instance.pk,
                            user=request.user,
                            kind=data["kind"],
                            payload=data["payload"],
                            position=data.get("position"),
                        )
                    )
                else:
                    changed.append(
                        (
                            services.operation_update(
                                operation=row.instance.pk,
                                user=request.user,
                                kind=data["kind"],
                                payload=data["payload"],
                                position=data.get("position"),
                            ),
                            row.changed_data,
                        )
                    )
            except ValidationError as error:
                raise ServiceRefused(
                    error, subject=str(_("an operation")), row=row.prefix
                ) from error
        formset_bookkeeping(formset, new, changed)

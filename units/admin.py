"""The registry admin: editors change the structure, auditors read it and its history.

Every save goes through ``units.services`` (never ``obj.save()``): the form collects a
reason, an optional effective date and the version the editor loaded, and a refusal
from the services comes back as an error on the re-rendered form with nothing written.
Nothing can be deleted here, not even by superusers: units are abolished instead.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from js_asset import Script
from mptt.admin import DraggableMPTTAdmin, MPTTModelAdmin
from simple_history.admin import SimpleHistoryAdmin

import units.admin_users  # noqa: F401 - registers the User admin (deactivate, not delete)
from units import admin_views, selectors, services
from units.forms import (
    AbolishForm,
    AppointmentInlineForm,
    PersonForm,
    PostForm,
    PostInlineForm,
    RelationshipInlineForm,
    UnitForm,
)
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    UnitRelationship,
)

RECORD_FIELDSET_FIELDS = ["reason", "effective_date", "expected_version"]


def revision_record(request: HttpRequest, form: Any) -> dict[str, Any]:
    """Who made the change, why and when it took effect: what every service takes."""
    return {
        "user": request.user,
        "reason": form.cleaned_data["reason"],
        "effective_at": form.effective_at,
    }


class ServiceRefused(Exception):
    """A service refused a save; carries its ValidationError back to the form."""

    def __init__(self, error: ValidationError, *, subject: str = "") -> None:
        # Flattened to one message: a model-level error keyed by a field the form
        # does not show would otherwise make the form itself fail.
        prefix = f"{subject}: " if subject else ""
        code = getattr(error, "code", None)
        if code is None and not hasattr(error, "error_dict"):
            code = getattr(error.error_list[0], "code", None)
        error = ValidationError(
            " ".join(f"{prefix}{message}" for message in error.messages), code=code
        )
        super().__init__(error.messages)
        self.error = error


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
        if refusal is not None:
            form = type(form.__name__, (form,), {"service_error": refusal.error})
        return form

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets = list(self.content_fieldsets(request, obj))
        if obj is None or self.has_change_permission(request, obj):
            fieldsets.append(
                (_("Record this change"), {"fields": RECORD_FIELDSET_FIELDS})
            )
        return fieldsets

    def content_fieldsets(self, request: HttpRequest, obj: Any) -> list[Any]:
        raise NotImplementedError


def _refuse(error: ValidationError, subject: str = "") -> ServiceRefused:
    return ServiceRefused(error, subject=subject)


def _formset_bookkeeping(formset: Any, new: list, changed: list) -> None:
    """What the admin's change message reads from a saved formset."""
    formset.new_objects = new
    formset.changed_objects = changed
    formset.deleted_objects = []


# --- Filters --------------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", _("Active")), ("abolished", _("Abolished"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "active":
            return queryset.filter(abolished_on__isnull=True)
        if self.value() == "abolished":
            return queryset.filter(abolished_on__isnull=False)
        return queryset


class ParentFilter(admin.SimpleListFilter):
    """Direct sub-units of a unit; only the upper levels are offered as choices.

    Listing every possible parent would load thousands of units on each page; any
    unit can still be chosen through the URL (``?parent=<id>``).
    """

    title = _("reports to")
    parameter_name = "parent"
    offered_levels = 1

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        parents = (
            OrganizationalUnit.objects.filter(level__lte=self.offered_levels)
            .with_sub_units()
            .in_tree_order()
            .values_list("pk", "name", "level")
        )
        return [(str(pk), "\u2003" * level + name) for pk, name, level in parents]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(parent_id=int(value))


# --- Units ----------------------------------------------------------------------------


class PostInline(admin.TabularInline):
    """The unit's posts with their current holders; appoint or end from here."""

    model = Post
    form = PostInlineForm
    fields = (
        "title",
        "is_head",
        "filling_method",
        "current_holder",
        "appoint_person",
        "appointed_on",
        "end_holder_on",
        "abolish",
        "abolished_on",
        "expected_version",
    )
    readonly_fields = ("current_holder", "abolished_on")
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        open_appointments = Appointment.objects.filter(
            ended_on__isnull=True
        ).select_related("person")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "appointments",
                    queryset=open_appointments,
                    to_attr="open_appointments",
                )
            )
        )

    @admin.display(description=_("held by"))
    def current_holder(self, post: Post) -> str:
        holders = getattr(post, "open_appointments", None)
        if holders is None and post.pk:
            holders = list(post.appointments.filter(ended_on__isnull=True))
        if not holders:
            return "—" if post.pk else ""
        holder = holders[0]
        return f"{holder.person} (since {holder.started_on:%Y-%m-%d})"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not obj.is_active:
            return False
        return super().has_add_permission(request, obj)


class RelationshipInline(admin.TabularInline):
    """Dotted lines from this unit to others; existing ones can only be ended."""

    model = UnitRelationship
    fk_name = "source"
    form = RelationshipInlineForm
    fields = ("target", "kind", "description", "started_on", "ended_on", "end")
    readonly_fields = ("started_on", "ended_on")
    autocomplete_fields = ("target",)
    extra = 0
    can_delete = False
    verbose_name = _("dotted-line relationship")
    verbose_name_plural = _("dotted-line relationships")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("target")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        # An ended or frozen description is a disabled field: in a one-line input the
        # end of a long text could not even be scrolled to, so it wraps in a text area.
        kwargs.setdefault(
            "widgets", {"description": forms.Textarea(attrs={"rows": 2, "cols": 60})}
        )
        return super().get_formset(request, obj, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not obj.is_active:
            return False
        return super().has_add_permission(request, obj)


@admin.register(OrganizationalUnit)
class OrganizationalUnitAdmin(ServiceWriteAdmin, DraggableMPTTAdmin):
    """The tree: paginated, drag-and-drop moves through ``services.unit_move``."""

    form = UnitForm
    list_display = (
        "tree_actions",
        "indented_title",
        "acronym",
        "kind",
        "status",
        "sub_unit_count",
    )
    list_display_links = ("indented_title",)
    list_filter = (StatusFilter, "kind", ParentFilter)
    search_fields = ("name", "short_name", "slug")
    # The draggable tree loads only the units of one page (see changelist_view), so
    # the changelist stays usable with tens of thousands of units.
    list_per_page = 100
    list_max_show_all = 500
    empty_value_display = ""
    show_full_result_count = False
    sortable_by = ()
    expand_tree_by_default = True
    mptt_level_indent = 22
    autocomplete_fields = ("parent",)
    inlines = (PostInline, RelationshipInline)
    actions = ("abolish_selected",)

    def content_fieldsets(
        self, request: HttpRequest, obj: OrganizationalUnit | None
    ) -> list[Any]:
        identity = ["name", "short_name", "slug", "kind"]
        place = ["parent", "reporting_line", "sibling_order"]
        fieldsets: list[Any] = [
            (None, {"fields": identity}),
            (_("Place in the structure"), {"fields": place}),
            (_("Description"), {"fields": ["mandate", "location", "learn_more_url"]}),
        ]
        if obj is not None:
            fieldsets.append(
                (
                    _("Status"),
                    {"fields": ["established_on", "abolished_on", "version"]},
                )
            )
        return fieldsets

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is not None and not obj.is_active:
            return self.content_fieldsets(request, obj)
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        if not obj.is_active:
            return [
                name
                for _title, options in self.content_fieldsets(request, obj)
                for name in options["fields"]
            ]
        return ["slug", "established_on", "abolished_on", "version"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # Choosing a parent or a target (autocomplete) offers active units only.
        if request.path.endswith("/autocomplete/"):
            queryset = queryset.filter(abolished_on__isnull=True)
        return super().get_search_results(request, queryset, search_term)

    # --- Changelist: a paginated tree ------------------------------------------------

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        if self.has_change_permission(request):
            return self.list_display
        return ("tree_toggle", *self.list_display[1:])

    @admin.display(description="")
    def tree_toggle(self, unit: OrganizationalUnit) -> str:
        """The tree marker without the drag handle, for people who may not move."""
        return format_html(
            '<div class="tree-node" data-pk="{}" data-level="{}"></div>',
            unit.pk,
            unit.level,
        )

    @admin.display(description=_("title"))
    def indented_title(self, unit: OrganizationalUnit) -> str:
        # Padding rather than mptt's text-indent, so wrapped names stay indented.
        return format_html(
            '<span class="tree-title" style="padding-left:{}px">{}</span>',
            unit.level * self.mptt_level_indent,
            unit,
        )

    @admin.display(description=_("acronym"))
    def acronym(self, unit: OrganizationalUnit) -> str:
        return unit.short_name

    @admin.display(description=_("status"))
    def status(self, unit: OrganizationalUnit) -> str:
        if unit.is_active:
            return _("Active")
        return _("Abolished on %(day)s") % {"day": f"{unit.abolished_on:%Y-%m-%d}"}

    @admin.display(description=_("below"))
    def sub_unit_count(self, unit: OrganizationalUnit) -> int:
        return unit.get_descendant_count()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST" and request.POST.get("cmd") == "move_node":
            return admin_views.move_node_view(self, request)
        # Skip DraggableMPTTAdmin.changelist_view: it serializes the whole tree.
        response = MPTTModelAdmin.changelist_view(self, request, extra_context)
        context = getattr(response, "context_data", None)
        if not context or "cl" not in context:
            return response
        page_units = list(context["cl"].result_list)
        context["media"] = context["media"] + forms.Media(
            css={"all": ["mptt/draggable-admin.css", "units/admin/registry-admin.css"]},
            js=[
                "admin/js/vendor/jquery/jquery.js",
                "admin/js/jquery.init.js",
                "units/admin/tree-move.js",
                Script(
                    "mptt/draggable-admin.js",
                    id="draggable-admin-context",
                    **{
                        "data-context": json.dumps(
                            self._page_tree_context(page_units), cls=DjangoJSONEncoder
                        )
                    },
                ),
            ],
        )
        return response

    def _page_tree_context(self, page_units: list[OrganizationalUnit]) -> dict:
        """The draggable tree's data for the units on this page only."""
        on_page = {unit.pk for unit in page_units}
        children: dict[str, list[int]] = {}
        for unit in page_units:
            if unit.parent_id in on_page:
                children.setdefault(str(unit.parent_id), []).append(unit.pk)
        opts = self.model._meta
        return {
            "storageName": f"tree_{opts.app_label}_{opts.model_name}_collapsed",
            "treeStructure": children,
            "levelIndent": self.mptt_level_indent,
            "messages": {
                "before": str(_("move before this unit")),
                "child": str(_("move under this unit")),
                "after": str(_("move after this unit")),
                "collapseTree": str(_("Collapse tree")),
                "expandTree": str(_("Expand tree")),
            },
            "expandTreeByDefault": self.expand_tree_by_default,
        }

    # --- Own pages ------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/history/<int:history_id>/",
                self.admin_site.admin_view(self.version_view),
                name="units_organizationalunit_version",
            ),
            path(
                "<path:object_id>/abolish/",
                self.admin_site.admin_view(self.abolish_view),
                name="units_organizationalunit_abolish",
            ),
        ]
        return own + super().get_urls()

    def history_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return admin_views.unit_history_view(self, request, object_id)

    def version_view(
        self, request: HttpRequest, object_id: str, history_id: int
    ) -> HttpResponse:
        return admin_views.unit_version_view(self, request, object_id, history_id)

    def abolish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return admin_views.unit_abolish_view(self, request, object_id)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        unit = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if unit is not None and not unit.is_active:
            extra_context.update(show_save=False, show_save_and_continue=False)
        extra_context["can_abolish"] = (
            unit is not None
            and unit.is_active
            and self.has_change_permission(request, unit)
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def refusal_context(
        self, request: HttpRequest, object_id: str | None, refusal: ServiceRefused
    ) -> dict[str, Any]:
        if object_id is None or getattr(refusal.error, "code", None) != "stale_version":
            return {}
        unit = self.get_object(request, object_id)
        if unit is None:
            return {}
        loaded = request.POST.get("expected_version", "")
        return admin_views.conflict_context(
            unit, int(loaded) if loaded.isdigit() else None
        )

    # --- Saving through the services ---------------------------------------------------

    def save_model(
        self,
        request: HttpRequest,
        obj: OrganizationalUnit,
        form: UnitForm,
        change: bool,
    ) -> None:
        data = form.cleaned_data
        record = revision_record(request, form)
        try:
            if not change:
                unit = services.unit_create(
                    **record,
                    name=data["name"],
                    kind=data["kind"],
                    parent=data.get("parent"),
                    slug=data.get("slug") or "",
                    short_name=data.get("short_name", ""),
                    mandate=data.get("mandate", ""),
                    location=data.get("location", ""),
                    learn_more_url=data.get("learn_more_url", ""),
                    reporting_line=data["reporting_line"],
                    sibling_order=data.get("sibling_order"),
                )
            else:
                unit = self._save_changes(obj, form, record)
        except ValidationError as error:
            raise _refuse(error) from error
        # The admin goes on with ``obj`` (inlines, log entry, redirect): give it the
        # saved state instead of saving it.
        for field in OrganizationalUnit._meta.concrete_fields:
            setattr(obj, field.attname, getattr(unit, field.attname))
        obj._state.adding = False

    def _save_changes(
        self, unit: OrganizationalUnit, form: UnitForm, record: dict[str, Any]
    ) -> OrganizationalUnit:
        data = form.cleaned_data
        changed = set(form.changed_data)
        version = data.get("expected_version")
        updates = {
            name: data[name]
            for name in services.UNIT_UPDATABLE_FIELDS
            if name in changed and name in data
        }
        if updates.get("sibling_order", 0) is None:
            del updates["sibling_order"]
        if "parent" in changed:
            updates["new_parent"] = data.get("parent")
        # One call, so a move and a rename saved together are one revision. Also with
        # no changes: the version check still tells a stale editor.
        return services.unit_update(
            **record, unit=unit, expected_version=version, **updates
        )

    def save_formset(
        self, request: HttpRequest, form: UnitForm, formset: Any, change: bool
    ) -> None:
        record = revision_record(request, form)
        unit = form.instance
        if formset.model is Post:
            self._save_posts(unit, formset, record)
        elif formset.model is UnitRelationship:
            self._save_relationships(unit, formset, record)

    def _save_posts(
        self, unit: OrganizationalUnit, formset: Any, record: dict[str, Any]
    ) -> None:
        new: list[Post] = []
        changed_posts: list[tuple[Post, list[str]]] = []
        for post_form in formset.forms:
            if not post_form.has_changed() or not post_form.cleaned_data:
                continue
            data = post_form.cleaned_data
            post = post_form.instance
            subject = str(_("Post “%(title)s”") % {"title": data.get("title") or post})
            try:
                if post.pk is None:
                    post = services.post_create(
                        **record,
                        unit=unit,
                        title=data["title"],
                        is_head=data.get("is_head", False),
                        filling_method=data["filling_method"],
                        term_years=data.get("term_years"),
                        term_note=data.get("term_note", ""),
                    )
                    new.append(post)
                else:
                    changes = {
                        name: data[name]
                        for name in post_form.changed_data
                        if name in services.POST_UPDATABLE_FIELDS
                    }
                    if changes:
                        post = services.post_update(
                            **record,
                            post=post,
                            expected_version=data.get("expected_version"),
                            **changes,
                        )
                        changed_posts.append((post, list(changes)))
                self._save_post_holder(post, data, record)
                if data.get("abolish"):
                    services.post_abolish(**record, post=post)
            except ValidationError as error:
                raise _refuse(error, subject) from error
        _formset_bookkeeping(formset, new, changed_posts)

    def _save_post_holder(
        self, post: Post, data: dict[str, Any], record: dict[str, Any]
    ) -> None:
        if data.get("end_holder_on"):
            holder = post.appointments.filter(ended_on__isnull=True).first()
            if holder is None:
                raise ValidationError(
                    _("nobody holds it, so no appointment can end."),
                    code="not_found",
                )
            services.appointment_end(
                appointment=holder,
                ended_on=data["end_holder_on"],
                user=record["user"],
                reason=record["reason"],
            )
        if data.get("appoint_person"):
            services.appointment_start(
                person=data["appoint_person"],
                post=post,
                started_on=data["appointed_on"],
                user=record["user"],
                reason=record["reason"],
            )

    def _save_relationships(
        self, unit: OrganizationalUnit, formset: Any, record: dict[str, Any]
    ) -> None:
        new: list[UnitRelationship] = []
        ended: list[tuple[UnitRelationship, list[str]]] = []
        for relationship_form in formset.forms:
            if (
                not relationship_form.has_changed()
                or not relationship_form.cleaned_data
            ):
                continue
            data = relationship_form.cleaned_data
            relationship = relationship_form.instance
            subject = str(_("Relationship"))
            try:
                if relationship.pk is None:
                    new.append(
                        services.relationship_create(
                            **record,
                            source=unit,
                            target=data["target"],
                            kind=data["kind"],
                            description=data.get("description", ""),
                        )
                    )
                elif data.get("end"):
                    ended.append(
                        (
                            services.relationship_end(
                                **record, relationship=relationship
                            ),
                            ["ended_on"],
                        )
                    )
            except ValidationError as error:
                raise _refuse(error, subject) from error
        _formset_bookkeeping(formset, new, ended)

    # --- Abolish action ------------------------------------------------------------

    @admin.action(description=_("Abolish selected units…"), permissions=["change"])
    def abolish_selected(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        units = list(queryset.in_tree_order())
        form = AbolishForm()
        status = 200
        if "confirm" in request.POST:
            form = AbolishForm(request.POST)
            if form.is_valid():
                try:
                    services.units_abolish(
                        units=units,
                        user=request.user,
                        reason=form.cleaned_data["reason"],
                        effective_at=form.effective_at,
                        sub_units=form.cleaned_data["sub_units"],
                        move_sub_units_to=form.cleaned_data.get("move_sub_units_to"),
                    )
                except ValidationError as error:
                    form = AbolishForm(request.POST)
                    form.service_error = error
                    form.is_valid()
                    status = services.refusal_status(error)
                else:
                    self.message_user(
                        request,
                        _("Abolished: %(units)s.")
                        % {"units": ", ".join(str(unit) for unit in units)},
                        messages.SUCCESS,
                    )
                    return None
            else:
                status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": _("Abolish units"),
            "opts": self.model._meta,
            "form": form,
            "units": units,
            "selected_ids": [unit.pk for unit in units],
            "action_name": "abolish_selected",
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request,
            "admin/units/organizationalunit/abolish.html",
            context,
            status=status,
        )


# --- Posts and people -------------------------------------------------------------------


class RevertibleHistoryAdmin(ServiceWriteAdmin, SimpleHistoryAdmin):
    """History and version pages laid out like a unit's, with a revert form.

    simple-history's own pages are replaced: its list did not say which date is the
    effective one, and its version page would save a form past the services.
    """

    history_fields: tuple[str, ...] = ()
    revert_note = ""

    def revert(self, obj: Any, **arguments: Any) -> Any:
        raise NotImplementedError

    def history_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return admin_views.object_history_view(
            self, request, object_id, self.history_fields
        )

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return admin_views.object_version_view(
            self,
            request,
            object_id,
            version_id,
            fields=self.history_fields,
            revert=self.revert,
            revert_note=self.revert_note,
        )


@admin.register(Post)
class PostAdmin(RevertibleHistoryAdmin):
    form = PostForm
    list_display = ("title", "unit", "is_head", "filling_method", "abolished_on")
    list_select_related = ("unit",)
    list_filter = (StatusFilter, "is_head", "filling_method")
    search_fields = ("title", "slug", "unit__name", "unit__short_name")
    autocomplete_fields = ("unit",)
    show_full_result_count = False
    history_fields = selectors.POST_HISTORY_FIELDS
    revert_note = _(
        "Reverting to a version in which the post is abolished abolishes it again and "
        "ends its holder's appointment; reviving a post does not bring back who held it."
    )

    def revert(self, obj: Post, **arguments: Any) -> Post:
        return services.post_revert(post=obj, **arguments)

    def content_fieldsets(self, request: HttpRequest, obj: Post | None) -> list[Any]:
        fields = ["title", "slug", "unit", "is_head", "filling_method"]
        fieldsets: list[Any] = [
            (None, {"fields": fields}),
            (_("Term"), {"fields": ["term_years", "term_note"]}),
        ]
        if obj is not None:
            fieldsets.append(
                (_("Status"), {"fields": ["established_on", "abolished_on", "version"]})
            )
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["slug", "established_on", "abolished_on", "version"]

    def save_model(
        self, request: HttpRequest, obj: Post, form: PostForm, change: bool
    ) -> None:
        data = form.cleaned_data
        record = revision_record(request, form)
        try:
            if not change:
                post = services.post_create(
                    **record,
                    title=data["title"],
                    unit=data["unit"],
                    slug=data.get("slug") or "",
                    is_head=data.get("is_head", False),
                    filling_method=data["filling_method"],
                    term_years=data.get("term_years"),
                    term_note=data.get("term_note", ""),
                )
            else:
                post = services.post_update(
                    **record,
                    post=obj,
                    expected_version=data.get("expected_version"),
                    **{
                        name: data[name]
                        for name in form.changed_data
                        if name in services.POST_UPDATABLE_FIELDS
                    },
                )
        except ValidationError as error:
            raise _refuse(error) from error
        for field in Post._meta.concrete_fields:
            setattr(obj, field.attname, getattr(post, field.attname))
        obj._state.adding = False


class AppointmentInline(admin.TabularInline):
    """The posts a person holds or held; appoint to a post or end an appointment."""

    model = Appointment
    form = AppointmentInlineForm
    fields = ("post", "unit_of_post", "started_on", "ended_on", "note")
    readonly_fields = ("unit_of_post",)
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


@admin.register(Person)
class PersonAdmin(RevertibleHistoryAdmin):
    form = PersonForm
    list_display = ("full_name", "slug")
    search_fields = ("full_name", "slug")
    inlines = (AppointmentInline,)
    history_fields = ("full_name", "slug")

    def revert(self, obj: Person, **arguments: Any) -> Person:
        return services.person_revert(person=obj, **arguments)

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
            raise _refuse(error) from error
        for field in Person._meta.concrete_fields:
            setattr(obj, field.attname, getattr(person, field.attname))
        obj._state.adding = False

    def save_formset(
        self, request: HttpRequest, form: PersonForm, formset: Any, change: bool
    ) -> None:
        reason = form.cleaned_data["reason"]
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
                            person=form.instance,
                            post=data["post"],
                            started_on=data["started_on"],
                            note=data.get("note", ""),
                            user=request.user,
                            reason=reason,
                        )
                    )
                    if data.get("ended_on"):
                        services.appointment_end(
                            appointment=new[-1],
                            ended_on=data["ended_on"],
                            user=request.user,
                            reason=reason,
                        )
                elif "ended_on" in appointment_form.changed_data and data.get(
                    "ended_on"
                ):
                    ended.append(
                        (
                            services.appointment_end(
                                appointment=appointment,
                                ended_on=data["ended_on"],
                                user=request.user,
                                reason=reason,
                            ),
                            ["ended_on"],
                        )
                    )
            except ValidationError as error:
                subject = str(
                    _("Appointment to “%(post)s”") % {"post": data.get("post")}
                )
                raise _refuse(error, subject) from error
        _formset_bookkeeping(formset, new, ended)

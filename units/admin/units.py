"""The units' admin: a paginated, draggable tree; changes, moves and abolishing.

Nothing can be deleted here, not even by superusers: units are abolished instead.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from js_asset import Script
from mptt.admin import DraggableMPTTAdmin, MPTTModelAdmin

from units import selectors, services
from units.admin import corrections, history_views, tree_views
from units.admin.base import (
    ServiceRefused,
    ServiceWriteAdmin,
    copy_saved_state,
    revision_record,
)
from units.admin.filters import MissingTranslationFilter, ParentFilter, StatusFilter
from units.admin.forms import MoveDialogForm, UnitForm
from units.admin.history_views import RevertibleHistory
from units.admin.unit_inlines import (
    PostInline,
    RelationshipInline,
    save_posts,
    save_relationships,
)
from units.content_languages import UNIT_TRANSLATED, language_fields, translation_fields
from units.dates import day_text
from units.models import OrganizationalUnit, Post, UnitQuerySet, UnitRelationship

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# registry-admin.css has a .tree-level-N class up to this level; deeper units share it.
DEEPEST_INDENTED_LEVEL = 15


@admin.register(OrganizationalUnit)
class OrganizationalUnitAdmin(RevertibleHistory, ServiceWriteAdmin, DraggableMPTTAdmin):
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
    list_filter = (StatusFilter, "kind", ParentFilter, MissingTranslationFilter)
    search_fields = (*language_fields(("name", "short_name")), "slug")
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
    history_fields = selectors.UNIT_HISTORY_FIELDS
    version_url_name = "units_organizationalunit_version"
    history_template = "admin/units/organizationalunit/history.html"
    change_list_template = "admin/units/organizationalunit/change_list.html"

    def revert(self, obj: OrganizationalUnit, **arguments: Any) -> OrganizationalUnit:
        return services.unit_revert(unit=obj, **arguments)

    def content_fieldsets(
        self, request: HttpRequest, obj: OrganizationalUnit | None
    ) -> list[Any]:
        # Each text with its translations on one row: English, French, Spanish.
        identity = [
            language_fields(["name"]),
            language_fields(["short_name"]),
            "slug",
            "kind",
        ]
        place = ["parent", "reporting_line", "sibling_order"]
        description = [
            language_fields(["mandate"]),
            language_fields(["location"]),
            "learn_more_url",
            "provenance",
        ]
        fieldsets: list[Any] = [
            (None, {"fields": identity}),
            (_("Place in the structure"), {"fields": place}),
            (_("Description"), {"fields": description}),
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
                for line in options["fields"]
                for name in ((line,) if isinstance(line, str) else line)
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
        # A class per level, not a style attribute: the Content-Security-Policy allows
        # no inline styles. Padding rather than text-indent, so wrapped names stay
        # indented; registry-admin.css indents each level by mptt_level_indent.
        return format_html(
            '<span class="tree-title tree-level-{}">{}</span>',
            min(unit.level, DEEPEST_INDENTED_LEVEL),
            unit,
        )

    @admin.display(description=_("acronym"))
    def acronym(self, unit: OrganizationalUnit) -> str:
        return unit.short_name

    @admin.display(description=_("status"))
    def status(self, unit: OrganizationalUnit) -> StrOrPromise:
        if unit.is_active:
            return _("Active")
        return _("Abolished on %(day)s") % {"day": day_text(unit.abolished_on)}

    @admin.display(description=_("below"))
    def sub_unit_count(self, unit: OrganizationalUnit) -> int:
        return unit.get_descendant_count()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST" and request.POST.get("cmd") == "move_node":
            return tree_views.move_node_view(self, request)
        if self.has_change_permission(request):
            # The drag-and-drop dialog, rendered hidden with the page.
            extra_context = {
                **(extra_context or {}),
                "move_dialog": MoveDialogForm(user=request.user),
            }
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
            path(
                "<path:object_id>/reinstate/",
                self.admin_site.admin_view(self.reinstate_view),
                name="units_organizationalunit_reinstate",
            ),
            path(
                "<path:object_id>/relationships/<int:record_id>/correct/",
                self.admin_site.admin_view(self.correct_relationship_view),
                name="units_organizationalunit_correct_relationship",
            ),
        ]
        return own + super().get_urls()

    def history_view(
        self,
        request: HttpRequest,
        object_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return history_views.history_view(self, request, object_id)

    def version_view(
        self, request: HttpRequest, object_id: str, history_id: int
    ) -> HttpResponse:
        return history_views.version_view(self, request, object_id, history_id)

    def abolish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return tree_views.unit_abolish_view(self, request, object_id)

    def reinstate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return tree_views.unit_reinstate_view(self, request, object_id)

    def correct_relationship_view(
        self, request: HttpRequest, object_id: str, record_id: int
    ) -> HttpResponse:
        return corrections.correct_relationship_view(
            self, request, object_id, record_id
        )

    @admin.action(description=_("Abolish selected units…"), permissions=["change"])
    def abolish_selected(
        self, request: HttpRequest, queryset: UnitQuerySet
    ) -> HttpResponse | None:
        return tree_views.abolish_selected_view(
            self, request, list(queryset.in_tree_order())
        )

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
            # Read-only: no button saves, and "add another" has nothing to add to.
            extra_context.update(
                show_save=False,
                show_save_and_continue=False,
                show_save_and_add_another=False,
            )
        may_change = unit is not None and self.has_change_permission(request, unit)
        extra_context["can_abolish"] = (
            may_change and unit is not None and unit.is_active
        )
        extra_context["can_reinstate"] = (
            may_change and unit is not None and not unit.is_active
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
        return history_views.conflict_context(
            unit.pk, int(loaded) if loaded.isascii() and loaded.isdecimal() else None
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
                    provenance=data.get("provenance", ""),
                    reporting_line=data["reporting_line"],
                    sibling_order=data.get("sibling_order"),
                    translations={
                        name: data.get(name, "")
                        for name in translation_fields(UNIT_TRANSLATED)
                    },
                )
            else:
                unit = self._save_changes(obj, form, record)
        except ValidationError as error:
            raise ServiceRefused(error) from error
        copy_saved_state(obj, unit)

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
        if formset.model is Post:
            save_posts(form.instance, formset, record)
        elif formset.model is UnitRelationship:
            save_relationships(form.instance, formset, record)

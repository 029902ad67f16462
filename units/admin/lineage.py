"""The lineage links, read only: written by a reorganization's merge, split, replace
and absorb operations (``units.services.lineage``), never changed or deleted here.

Their history and versions use the registry's history pages (``history_views``),
without revert: nobody may change a link.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from units import selectors
from units.admin import history_views
from units.models import UnitSuccession


@admin.register(UnitSuccession)
class UnitSuccessionAdmin(history_views.RevertibleHistory, admin.ModelAdmin):
    list_display = ("predecessor", "closure_reason", "successor", "effective_on")
    list_select_related = ("predecessor", "successor")
    list_filter = ("closure_reason",)
    search_fields = (
        "predecessor__name",
        "predecessor__short_name",
        "successor__name",
        "successor__short_name",
    )
    date_hierarchy = "effective_on"
    show_full_result_count = False
    fields = ("predecessor", "successor", "closure_reason", "effective_on", "event")
    readonly_fields = fields
    history_fields = selectors.LINEAGE_HISTORY_FIELDS
    version_url_name = "units_unitsuccession_version"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        version = path(
            "<path:object_id>/history/<int:history_id>/",
            self.admin_site.admin_view(self.version_view),
            name=self.version_url_name,
        )
        return [version, *super().get_urls()]

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
        # A POST (a revert) is refused: nobody may change a link.
        return history_views.version_view(self, request, object_id, history_id)

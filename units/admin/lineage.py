"""The lineage links, read only: written by a reorganization's merge, split, replace
and absorb operations (``units.services.lineage``), never changed or deleted here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from units.models import UnitSuccession


@admin.register(UnitSuccession)
class UnitSuccessionAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

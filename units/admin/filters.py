"""The changelists' own filters; each reads its value before it reaches a query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from units import selectors
from units.admin.parameters import QueryParameterError, id_parameter, shown

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class StatusFilter(admin.SimpleListFilter):
    """Active or abolished units (or posts)."""

    title = _("status")
    parameter_name = "status"

    def lookups(
        self, request: HttpRequest, model_admin: Any
    ) -> list[tuple[str, StrOrPromise]]:
        return [("active", _("Active")), ("abolished", _("Abolished"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value == "active":
            return queryset.filter(abolished_on__isnull=True)
        if value == "abolished":
            return queryset.filter(abolished_on__isnull=False)
        raise QueryParameterError(
            _("The status filter takes “active” or “abolished”, not “%(value)s”.")
            % {"value": shown(value)}
        )


class ParentFilter(admin.SimpleListFilter):
    """Direct sub-units of a unit; only the upper levels are offered as choices.

    Listing every possible parent would load thousands of units on each page; any
    unit can still be chosen through the URL (``?parent=<id>``).
    """

    title = _("reports to")
    parameter_name = "parent"
    offered_levels = 1

    def lookups(
        self, request: HttpRequest, model_admin: Any
    ) -> list[tuple[str, StrOrPromise]]:
        return [
            (str(pk), "\u2003" * level + name)
            for pk, name, level in selectors.parents_down_to(self.offered_levels)
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(parent_id=id_parameter(self.parameter_name, value))

"""The changelists' own filters; each reads its value before it reaches a query."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from units import selectors
from units.admin.parameters import QueryParameterError, id_parameter, shown
from units.content_languages import (
    POST_TRANSLATED,
    TRANSLATION_LANGUAGES,
    UNIT_TRANSLATED,
    field_in,
)
from units.models import OrganizationalUnit, Post

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# The texts each filtered changelist's model has in several languages.
TRANSLATED_TEXTS: dict[type, tuple[str, ...]] = {
    OrganizationalUnit: UNIT_TRANSLATED,
    Post: POST_TRANSLATED,
}


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


class MissingTranslationFilter(admin.SimpleListFilter):
    """Records with a text not yet in French (or Spanish): a text whose English is
    filled in while that language's field is blank (``units.content_languages``)."""

    title = _("translation")
    parameter_name = "missing"

    def lookups(
        self, request: HttpRequest, model_admin: Any
    ) -> list[tuple[str, StrOrPromise]]:
        return [("fr", _("Missing French")), ("es", _("Missing Spanish"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        language = self.value()
        if language is None:
            return queryset
        if language not in TRANSLATION_LANGUAGES:
            raise QueryParameterError(
                _("The translation filter takes “fr” or “es”, not “%(value)s”.")
                % {"value": shown(language)}
            )
        missing = Q()
        for name in TRANSLATED_TEXTS[queryset.model]:
            missing |= Q(**{field_in(name, language): ""}) & ~Q(**{name: ""})
        return queryset.filter(missing)

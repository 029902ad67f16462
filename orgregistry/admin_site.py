"""The admin site: Django's, with every request's query parameters read first.

Every admin page passes through ``admin_view`` (changelists, autocomplete, history,
the registry's own pages, and the pages of the users, groups, tokens and lockouts
other apps register), so a parameter no query can take is refused here once, as a
400 that names it, instead of a server error from the database. It lives outside
``units.admin``: building the default site must not import the modules that register
on it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponseBase

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class RegistryAdminSite(admin.AdminSite):
    # Read on each page, so that the name is the setting's (REGISTRY_NAME) rather than
    # "Django administration".
    @property
    def site_header(self) -> str:  # type: ignore[override]
        return settings.REGISTRY_NAME

    @property
    def site_title(self) -> str:  # type: ignore[override]
        return f"{settings.REGISTRY_NAME} admin"

    @property
    def index_title(self) -> str:  # type: ignore[override]
        return f"{settings.REGISTRY_NAME} administration"

    def admin_view(self, view: View, cacheable: bool = False) -> View:
        # Imported here: this module is loaded with the app registry, before models
        # (and so units.admin) can be imported. Pages are wrapped once apps are ready.
        from units.admin.parameters import (
            QueryParameterError,
            check_query_parameters,
            refused_parameter,
        )

        @functools.wraps(view)
        def checked(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            try:
                check_query_parameters(request.GET)
                return view(request, *args, **kwargs)
            except QueryParameterError as error:
                # Raised above, or by a list filter that could not read its value.
                return refused_parameter(error)

        # Inside Django's wrapper: who may see the page is decided first.
        # The wrapper takes what the view takes (functools.wraps), as AdminSite's own.
        return super().admin_view(cast(View, checked), cacheable)


class RegistryAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``admin.site`` a RegistryAdminSite."""

    default_site = "orgregistry.admin_site.RegistryAdminSite"

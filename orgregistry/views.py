"""Answers of the site as a whole, outside any app's pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control

FAVICON = "units/favicon.svg"


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico``, which browsers and feed readers ask for unprompted: the icon.

    A temporary redirect, cached for a day: the static file's name changes with its
    content from release to release, so a permanent one would outlive it.
    """
    response = HttpResponseRedirect(static(FAVICON))
    patch_cache_control(response, public=True, max_age=86_400)
    return response

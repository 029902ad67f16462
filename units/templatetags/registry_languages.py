"""The same page in every language: the switcher's targets and the hreflang links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils import translation
from django.utils.safestring import SafeString

from units.selectors.languages import localized as localized_text_of
from units.selectors.languages import localized_html, localized_parts

register = template.Library()


@dataclass(frozen=True)
class LanguageVersion:
    code: str
    name: str  # in its own language ("Français"), as a reader looks for it
    path: str  # this page and its query string, in that language
    url: str  # the same, absolute (hreflang alternates must be)
    is_current: bool


@register.simple_tag(takes_context=True)
def language_versions(context: template.Context) -> list[LanguageVersion]:
    """This page in each language of ``settings.LANGUAGES``, in their order; none
    for a page that has no language versions (the API's pages, a 404), where a
    switcher could only send the reader back to the same page."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return []
    here = request.get_full_path()
    current = translation.get_language()
    versions = []
    for code, name in settings.LANGUAGES:
        path = translate_url(here, code)
        versions.append(
            LanguageVersion(
                code=code,
                name=name,
                path=path,
                url=request.build_absolute_uri(path),
                is_current=code == current,
            )
        )
    if len({version.path for version in versions}) == 1:
        return []
    return versions


@register.simple_tag
def localized(source: Any, name: str) -> SafeString:
    """``{% localized unit "name" %}``: the text in the page's language, or the
    English one marked as such (``units.selectors.languages.localized_html``)."""
    return localized_html(source, name)


@register.simple_tag
def localized_text(source: Any, name: str) -> str:
    """The plain text in the page's language or English (for titles, attributes)."""
    return localized_text_of(source, name)[0]


@register.simple_tag(name="localized_parts")
def localized_parts_tag(source: Any, name: str) -> tuple[SafeString, SafeString]:
    """``{% localized_parts post "title" as parts %}``: the marked text and the "not
    yet translated" note apart, so a link holds ``parts.0`` alone and its accessible
    name stays the text (the tree's links do the same)."""
    return localized_parts(source, name)

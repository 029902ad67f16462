"""Languages in the pages: the same page in every language (the switcher's targets,
the hreflang links) and a record's text in the page's language, marked as English
where it fell back.

The HTML lives here, not in ``units.selectors.languages``: selectors return data
(the text and its language), template tags turn it into markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from units.highlight import highlighted
from units.selectors import Change
from units.selectors.changes.entries import OBJECT_TYPES
from units.selectors.fields import translated_text
from units.selectors.languages import content_language
from units.selectors.languages import localized as localized_text_of

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


def localized_parts(
    source: Any, name: str, language: str | None = None, query: str = ""
) -> tuple[SafeString, SafeString]:
    """``localized`` as HTML, in two parts: the text (a fallback is the English text
    marked ``lang="en"``, so screen readers pronounce it as English) and a discreet
    "not yet translated" note (empty when translated). Apart, so a link can hold the
    text alone and keep the unit's name as its accessible name. The words of
    ``query`` are marked in the text (the search page's matches)."""
    wanted = content_language(language)
    text, found = localized_text_of(source, name, wanted)
    shown = highlighted(text, query) if query else conditional_escape(text)
    if found == wanted or not text:
        return shown, SafeString("")
    return (
        format_html('<span lang="en">{}</span>', shown),
        format_html(
            ' <span class="untranslated">({})</span>', gettext("not yet translated")
        ),
    )


def localized_html(source: Any, name: str, language: str | None = None) -> SafeString:
    """``localized_parts`` as one piece of HTML: the text, then its note if any."""
    text, note = localized_parts(source, name, language)
    return SafeString(text + note)


@register.simple_tag
def localized(source: Any, name: str) -> SafeString:
    """``{% localized unit "name" %}``: the text in the page's language, or the
    English one marked as such (``localized_html``)."""
    return localized_html(source, name)


@register.simple_tag
def localized_text(source: Any, name: str) -> str:
    """The plain text in the page's language or English (for titles, attributes)."""
    return localized_text_of(source, name)[0]


# The model of each kind of object the change feed names (``Change.object_type``).
_FEED_MODELS = {object_type: model for model, object_type in OBJECT_TYPES.items()}


@dataclass(frozen=True)
class ChangedText:
    name: str  # the text ("mandate"), whatever the language of the field changed
    language: str  # the language of its values ("fr" for ``mandate_fr``)


@register.filter
def changed_text(change: Change) -> ChangedText | None:
    """The text a feed change of one field (``<field>_changed``) changed, and in which
    language; None for any other change. So the compare page diffs a mandate in every
    language alike and marks the ``lang`` of the values it quotes."""
    field = (change.details or {}).get("field")
    model = _FEED_MODELS.get(change.object_type)
    if not isinstance(field, str) or model is None:
        return None
    found = translated_text(model, field)
    return ChangedText(*found) if found else None


@register.simple_tag(name="localized_parts")
def localized_parts_tag(
    source: Any, name: str, query: str = ""
) -> tuple[SafeString, SafeString]:
    """``{% localized_parts post "title" as parts %}``: the marked text and the "not
    yet translated" note apart, so a link holds ``parts.0`` alone and its accessible
    name stays the text (the tree's links do the same). ``{% localized_parts hit
    "name" query as parts %}`` also marks the search words in the text."""
    return localized_parts(source, name, query=query)

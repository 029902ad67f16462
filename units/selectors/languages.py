"""The text of a record in the reader's language, or in English where it is missing.

The one place that chooses between ``name`` and ``name_fr``: pages, the API and
exports all ask here, so a missing translation falls back the same way everywhere
and says so (the caller marks the English text as English).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import translation

from units.content_languages import (
    SOURCE_LANGUAGE,
    TRANSLATION_LANGUAGES,
    field_in,
)


def content_language(language: str | None = None) -> str:
    """``language``, else the active one, as a content language (others: English)."""
    code = (language or translation.get_language() or SOURCE_LANGUAGE).split("-")[0]
    return code if code in TRANSLATION_LANGUAGES else SOURCE_LANGUAGE


def _value(source: Any, name: str) -> Any:
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def localized(source: Any, name: str, language: str | None = None) -> tuple[str, str]:
    """``source``'s ``name`` in ``language`` (default: the active language) and the
    language of the text returned.

    ``source`` is a model instance, a selector's result or a row (a mapping). A
    blank or missing translation gives the English text and ``"en"``: the caller
    tells a fallback by the language differing from the one asked for.
    """
    wanted = content_language(language)
    if wanted != SOURCE_LANGUAGE:
        text = _value(source, field_in(name, wanted))
        if isinstance(text, str) and text.strip():
            return text, wanted
    return _value(source, name) or "", SOURCE_LANGUAGE


def all_languages(source: Any, name: str) -> dict[str, str | None]:
    """``name`` in every content language, None where it is not translated."""
    texts: dict[str, str | None] = {}
    for language in (SOURCE_LANGUAGE, *TRANSLATION_LANGUAGES):
        text = _value(source, field_in(name, language))
        texts[language] = text if isinstance(text, str) and text.strip() else None
    return texts


def localized_texts(
    source: Any, names: Iterable[str], language: str | None = None
) -> tuple[list[str], list[str]]:
    """``localized`` of each of ``names``, and which of them are shown in English for
    want of a translation (none in English; an empty English text is not counted,
    there being nothing to translate), for answers that mark their fallbacks."""
    wanted = content_language(language)
    texts: list[str] = []
    untranslated: list[str] = []
    for name in names:
        text, found = localized(source, name, wanted)
        texts.append(text)
        if found != wanted and text:
            untranslated.append(name)
    return texts, untranslated

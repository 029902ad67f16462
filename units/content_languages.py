"""Which texts of the registry exist in more than one language, and under which names.

English is the field itself (``name``), required where it always was; French and
Spanish are plain sibling fields (``name_fr``, ``name_es``), blank until someone
translates them. Plain fields rather than a translation library, so every language is
an ordinary column of the model and, with it, of its history: a French rename is a
revision like any other, read by ``as_of`` and ``known_at`` without special cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from units.services.refusals import Refusal

# The language of the fields themselves, and the languages stored beside them.
SOURCE_LANGUAGE = "en"
TRANSLATION_LANGUAGES = ("fr", "es")
CONTENT_LANGUAGES = (SOURCE_LANGUAGE, *TRANSLATION_LANGUAGES)

# The translated texts of each model, by model label (no model import: the models
# module is imported by this one's readers, not the reverse).
UNIT_TRANSLATED = ("name", "short_name", "mandate", "location")
POST_TRANSLATED = ("title",)
RELATIONSHIP_TRANSLATED = ("description",)


def field_in(name: str, language: str) -> str:
    """The field holding ``name`` in ``language`` (English: the field itself)."""
    return name if language == SOURCE_LANGUAGE else f"{name}_{language}"


def translation_fields(names: Iterable[str]) -> tuple[str, ...]:
    """The French and Spanish fields of ``names``, in a stable order."""
    return tuple(
        field_in(name, language) for name in names for language in TRANSLATION_LANGUAGES
    )


def pop_translations(fields: dict[str, Any], names: Iterable[str]) -> dict[str, str]:
    """Take the French and Spanish fields of ``names`` out of a create's ``fields``:
    the services take them apart, as ``translations``."""
    return {
        name: fields.pop(name) for name in translation_fields(names) if name in fields
    }


def language_fields(names: Iterable[str]) -> tuple[str, ...]:
    """Every language's field of ``names``: each English field, then its translations."""
    return tuple(
        field_in(name, language) for name in names for language in CONTENT_LANGUAGES
    )


def clean_translations(
    translations: Mapping[str, str] | None, names: Iterable[str]
) -> dict[str, str]:
    """The translations a creating write was given, stripped; refuse unknown fields.

    ``translations`` maps field names (``name_fr``) to texts; only the French and
    Spanish fields of ``names`` are accepted.
    """
    allowed = set(translation_fields(names))
    given = dict(translations or {})
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise ValidationError(
            f"These fields cannot be set here: {', '.join(unknown)}.",
            code=Refusal.NOT_UPDATABLE,
        )
    return {
        name: value.strip() if isinstance(value, str) else value
        for name, value in given.items()
    }


def check_source_texts(instance: Any, names: Iterable[str]) -> None:
    """Refuse a translation of nothing: a French or Spanish text whose English one
    is blank (where English may be blank at all, as a relationship's description).

    English is what every other language falls back to, and what a translator
    translates; a record translated but blank in English would show nothing to an
    English reader and say nothing to the next translator.
    """
    errors = {
        name: ValidationError(
            _(
                "The English %(field)s cannot be blank while it has a French or "
                "Spanish translation: give the English text, or withdraw the "
                "translations too."
            )
            % {"field": name},
            code=Refusal.INVALID,
        )
        for name in names
        if not (getattr(instance, name) or "").strip()
        and any(
            (getattr(instance, field) or "").strip()
            for field in translation_fields((name,))
        )
    }
    if errors:
        raise ValidationError(errors)

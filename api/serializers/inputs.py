"""The input each write accepts: strict, with a reason, each field checked."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import MAX_UNITS_ABOLISHED_AT_ONCE
from orgregistry.query_string import NUL, shown
from units.content_languages import (
    CONTENT_LANGUAGES,
    POST_TRANSLATED,
    RELATIONSHIP_TRANSLATED,
    SOURCE_LANGUAGE,
    UNIT_TRANSLATED,
    field_in,
)
from units.models import (
    FillingMethod,
    OrganizationalUnit,
    Person,
    Post,
    ReasonVisibility,
    RelationshipKind,
    ReportingLine,
    UnitKind,
)
from units.services import MOVE_POSITIONS, RevertMode


@extend_schema_field(OpenApiTypes.STR)
class InstantField(serializers.Field):
    """An ISO 8601 date (the change takes effect at its start) or date-time."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date or date-time, such as 2024-03-01 or "
        "2024-03-01T12:00:00Z.",
        "out_of_range": "This date-time lies outside the years 1 to 9999 in UTC.",
    }

    def to_internal_value(self, data: Any) -> datetime.date | datetime.datetime:
        text = str(data).strip()
        try:
            value = parse_date(text) or parse_datetime(text)
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if isinstance(value, datetime.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=datetime.UTC)
            try:
                # The database stores UTC; an offset could push it past year 1 or 9999.
                value = value.astimezone(datetime.UTC)
            except OverflowError:
                self.fail("out_of_range")
        return value

    def to_representation(self, value: Any) -> str:
        return value.isoformat()


class BySlugField(serializers.SlugRelatedField):
    """An object named by its slug; a slug holding NUL names none.

    PostgreSQL refuses a query comparing with a NUL character (a 500, not the 400
    that says no such object exists), and no slug can hold one.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and NUL in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=shown(data))
        return super().to_internal_value(data)


def unit_by_slug(**kwargs: Any) -> BySlugField:
    return BySlugField(
        slug_field="slug", queryset=OrganizationalUnit.objects.all(), **kwargs
    )


def reason_visibility_field() -> serializers.ChoiceField:
    """The ``reason_visibility`` every write takes beside its reason."""
    return serializers.ChoiceField(
        choices=ReasonVisibility.choices,
        required=False,
        help_text="Who may read the reason: public (everyone) or internal (editors "
        "and auditors only). Default: the registry's REASON_VISIBILITY_DEFAULT "
        "(internal unless its operator chose public).",
        error_messages={
            "invalid_choice": "“{input}” is not a reason visibility: say public "
            "(everyone may read the reason) or internal (editors and auditors only)."
        },
    )


class StrictSerializer(serializers.Serializer):
    """An input that refuses fields it does not know, rather than ignore them."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown or unchangeable fields: {', '.join(unknown)}."
            )
        return attrs


class WriteSerializer(StrictSerializer):
    """What every write carries: why, and since when."""

    reason = serializers.CharField(
        allow_blank=True, help_text="Why this change is made (required)."
    )
    reason_visibility = reason_visibility_field()
    effective_at = InstantField(
        required=False, help_text="When the change took effect; default now."
    )


def translation_input(max_length: int | None = None) -> serializers.CharField:
    """A French or Spanish text (``name_fr``...): optional, blank withdraws it."""
    help_text = "Not yet translated when blank; English is shown in its place."
    if max_length is None:
        return serializers.CharField(
            required=False, allow_blank=True, help_text=help_text
        )
    return serializers.CharField(
        max_length=max_length, required=False, allow_blank=True, help_text=help_text
    )


# The languages' names in refusals ("the French title"), by code.
LANGUAGE_NAMES = {
    SOURCE_LANGUAGE: gettext_lazy("English"),
    "fr": gettext_lazy("French"),
    "es": gettext_lazy("Spanish"),
}


def _texts_schema(max_length: int | None) -> dict[str, Any]:
    text: dict[str, Any] = {"type": "string"}
    if max_length is not None:
        text["maxLength"] = max_length
    return {
        "oneOf": [
            {**text, "description": "The English text alone."},
            {
                "type": "object",
                "description": "Texts by language (en, fr, es). On a change, a "
                "language left out stays as it is; a blank or null translation "
                "withdraws it.",
                "properties": {
                    language: text
                    if language == SOURCE_LANGUAGE
                    else {**text, "nullable": True}
                    for language in CONTENT_LANGUAGES
                },
                "additionalProperties": False,
            },
        ]
    }


class TextInLanguages(serializers.Field):
    """A translated text: the English one as a plain string, or the texts by
    language (``{"en": ..., "fr": ..., "es": ...}``), as answers give them in
    ``languages``. Validated into ``{language: text}``; the serializer spreads it
    over the model's fields (``title``, ``title_fr``...) with ``spread_languages``.
    """

    default_error_messages = {
        "invalid": gettext_lazy(
            "Give a text, or an object of texts by language (en, fr, es)."
        ),
    }

    def __init__(
        self,
        *,
        max_length: int | None = None,
        english_may_be_blank: bool = False,
        **kwargs: Any,
    ) -> None:
        self.max_length = max_length
        self.english_may_be_blank = english_may_be_blank
        super().__init__(**kwargs)
        # What ``extend_schema_field`` records on a class, for this field alone: the
        # schema depends on ``max_length``.
        set_override(self, "field", _texts_schema(max_length))

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, str):
            data = {SOURCE_LANGUAGE: data}
        if not isinstance(data, dict) or not data:
            self.fail("invalid")
        unknown = sorted(str(code) for code in set(data) - set(CONTENT_LANGUAGES))
        if unknown:
            raise serializers.ValidationError(
                _(
                    "Unknown languages: %(unknown)s. Texts are given in en "
                    "(English), fr (French) and es (Spanish)."
                )
                % {"unknown": ", ".join(unknown)}
            )
        texts: dict[str, str] = {}
        errors: dict[str, list[str]] = {}
        for language in CONTENT_LANGUAGES:
            if language not in data:
                continue
            problem, text = self._checked(language, data[language])
            if problem:
                errors[language] = [problem]
            else:
                texts[language] = text
        if errors:
            raise serializers.ValidationError(errors)
        return texts

    def _checked(self, language: str, value: Any) -> tuple[str | None, str]:
        """Why ``value`` cannot be the text in ``language`` (or None), and the text."""
        names = {"language": LANGUAGE_NAMES[language], "field": self.field_name}
        if value is None and language != SOURCE_LANGUAGE:
            return None, ""
        if not isinstance(value, str):
            return _("The %(language)s %(field)s must be a text.") % names, ""
        text = value.strip()
        if language == SOURCE_LANGUAGE and not text and not self.english_may_be_blank:
            return (
                _(
                    "The English %(field)s cannot be blank: it is the text shown "
                    "wherever a translation is missing."
                )
                % names,
                "",
            )
        if self.max_length is not None and len(text) > self.max_length:
            return (
                _(
                    "The %(language)s %(field)s has %(length)d characters; it may "
                    "have at most %(max_length)d."
                )
                % {**names, "length": len(text), "max_length": self.max_length},
                "",
            )
        return None, text

    def to_representation(self, value: Any) -> Any:
        return value


def spread_languages(attrs: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``attrs`` with each ``TextInLanguages`` value of ``names`` spread over its
    fields (``{"title": {"fr": "Chef"}}`` → ``{"title_fr": "Chef"}``); a language
    given both ways (``title.fr`` and ``title_fr``) is refused."""
    spread = dict(attrs)
    for name in names:
        texts = spread.pop(name, None)
        if texts is None:
            continue
        for language, text in texts.items():
            field = field_in(name, language)
            if field in spread and spread[field] != text:
                raise serializers.ValidationError(
                    {
                        field: [
                            _(
                                "Given twice, differently: in %(name)s.%(language)s "
                                "and in %(field)s. Give it once."
                            )
                            % {"name": name, "language": language, "field": field}
                        ]
                    }
                )
            spread[field] = text
    return spread


# A write whose ``translated`` texts are ``TextInLanguages`` fields: validated into
# the model's fields, one per language, a required one with its English. (A comment,
# not a docstring: drf-spectacular would publish it as each write's schema text.)
class TranslatedWriteSerializer(WriteSerializer):
    translated: tuple[str, ...] = ()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = spread_languages(super().validate(attrs), self.translated)
        for name in self.translated:
            if self.fields[name].required and name not in attrs:
                raise serializers.ValidationError(
                    {name: [_("The English %(field)s is required.") % {"field": name}]}
                )
        return attrs


# A unit's translated texts: the longest text each field holds (None: any length).
UNIT_TEXT_LENGTHS = {"name": 255, "short_name": 64, "mandate": None, "location": 128}


def unit_text(name: str, *, required: bool = False) -> TextInLanguages:
    """One of a unit's translated texts, a plain English string or texts by language
    (``{"fr": "OIM"}``); only the name may not be blank in English."""
    return TextInLanguages(
        max_length=UNIT_TEXT_LENGTHS[name],
        required=required,
        english_may_be_blank=name != "name",
        help_text='In English, or by language (`{"en": ..., "fr": ..., "es": ...}`).',
    )


class UnitCreateSerializer(TranslatedWriteSerializer):
    translated = UNIT_TRANSLATED
    name = unit_text("name", required=True)
    short_name = unit_text("short_name")
    mandate = unit_text("mandate")
    location = unit_text("location")
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    parent = unit_by_slug(required=False, allow_null=True)  # type: ignore[assignment]
    slug = serializers.SlugField(max_length=100, required=False)
    learn_more_url = serializers.URLField(required=False, allow_blank=True)
    provenance = serializers.CharField(required=False, allow_blank=True)
    reporting_line = serializers.ChoiceField(
        choices=ReportingLine.choices, required=False
    )
    sibling_order = serializers.IntegerField(min_value=0, required=False)
    name_fr = translation_input(255)
    name_es = translation_input(255)
    short_name_fr = translation_input(64)
    short_name_es = translation_input(64)
    mandate_fr = translation_input()
    mandate_es = translation_input()
    location_fr = translation_input(128)
    location_es = translation_input(128)


class UnitUpdateSerializer(TranslatedWriteSerializer):
    translated = UNIT_TRANSLATED
    name = unit_text("name")
    short_name = unit_text("short_name")
    mandate = unit_text("mandate")
    location = unit_text("location")
    kind = serializers.ChoiceField(choices=UnitKind.choices, required=False)
    learn_more_url = serializers.URLField(required=False, allow_blank=True)
    provenance = serializers.CharField(required=False, allow_blank=True)
    reporting_line = serializers.ChoiceField(
        choices=ReportingLine.choices, required=False
    )
    sibling_order = serializers.IntegerField(min_value=0, required=False)
    name_fr = translation_input(255)
    name_es = translation_input(255)
    short_name_fr = translation_input(64)
    short_name_es = translation_input(64)
    mandate_fr = translation_input()
    mandate_es = translation_input()
    location_fr = translation_input(128)
    location_es = translation_input(128)


# Either ``parent`` (with an optional ``sibling_order``), or ``position`` and ``target``.
# (A comment, not a docstring: drf-spectacular would publish it as the schema's text.)
class UnitMoveSerializer(WriteSerializer):
    parent = unit_by_slug(  # type: ignore[assignment]
        required=False,
        allow_null=True,
        help_text="Slug of the new parent; null makes it top-level.",
    )
    reporting_line = serializers.ChoiceField(
        choices=ReportingLine.choices, required=False
    )
    sibling_order = serializers.IntegerField(min_value=0, required=False)
    position = serializers.ChoiceField(
        choices=MOVE_POSITIONS,
        required=False,
        help_text="Where the unit goes relative to `target` (instead of `parent`): "
        "its first or last sub-unit, or its sibling just before or after it.",
    )
    target = unit_by_slug(
        required=False, help_text="Slug of the unit `position` is relative to."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        positional = "position" in attrs or "target" in attrs
        if not positional:
            if "parent" not in attrs:
                raise serializers.ValidationError(
                    {"parent": [self.fields["parent"].error_messages["required"]]},
                    code="required",
                )
            return attrs
        if "position" not in attrs or "target" not in attrs:
            raise serializers.ValidationError(
                "Give position and target together (or parent alone)."
            )
        clashing = sorted({"parent", "sibling_order"} & set(attrs))
        if clashing:
            raise serializers.ValidationError(
                f"A move by position and target takes no {' or '.join(clashing)}: "
                "the target decides the parent and the order among siblings."
            )
        return attrs


class UnitAbolishSerializer(WriteSerializer):
    sub_units = serializers.ChoiceField(
        choices=["refuse", "abolish", "move"],
        default="refuse",
        help_text="What happens to active sub-units: refuse (default), abolish, move.",
    )
    move_sub_units_to = unit_by_slug(required=False, allow_null=True)


class UnitsAbolishSerializer(UnitAbolishSerializer):
    units = serializers.ListField(
        child=serializers.SlugField(max_length=100),
        allow_empty=False,
        min_length=1,
        max_length=MAX_UNITS_ABOLISHED_AT_ONCE,
        help_text="Slugs of the units to abolish: all of them, or none if one is "
        f"refused (at most {MAX_UNITS_ABOLISHED_AT_ONCE}).",
    )

    def validate_units(self, slugs: list[str]) -> list[int]:
        """The units' ids, in one query; every unknown slug named."""
        ids = dict(
            OrganizationalUnit.objects.filter(slug__in=slugs).values_list("slug", "id")
        )
        unknown = [slug for slug in dict.fromkeys(slugs) if slug not in ids]
        if unknown:
            raise serializers.ValidationError(
                f"No unit has the slug {', '.join(unknown)}."
            )
        return [ids[slug] for slug in slugs]


class UnitRevertSerializer(WriteSerializer):
    """A revert is a new change: undone from now, or correcting the record from the
    time of the mistake; either way it cannot be given a time of its own."""

    history_id = serializers.IntegerField(
        min_value=1,
        # Ids are 64-bit; a larger number names no version and would overflow.
        max_value=2**63 - 1,
        help_text="The version to bring back: a history_id from units/{slug}/history/.",
    )
    mode = serializers.ChoiceField(
        choices=RevertMode.choices,
        required=False,
        default=RevertMode.UNDO,
        help_text="`undo` (default): takes effect now; the history keeps the mistake "
        "and shows it undone. `correct`: corrects the record from the time of the "
        "change that followed the version (the mistake), as if it had never been "
        "recorded; reads `known_at` an instant before the correction still show it.",
    )
    effective_at = None  # type: ignore[assignment]


class UnitReinstateSerializer(WriteSerializer):
    """A reinstatement, dated like any other change (not before the abolition)."""


class PostCreateSerializer(TranslatedWriteSerializer):
    translated = POST_TRANSLATED
    title = TextInLanguages(
        max_length=255,
        help_text="The title in English, or by language: "
        '`{"en": "Director", "fr": "Directeur"}` (English required).',
    )
    unit = unit_by_slug()
    is_head = serializers.BooleanField(required=False, default=False)
    filling_method = serializers.ChoiceField(
        choices=FillingMethod.choices, required=False
    )
    term_years = serializers.IntegerField(
        min_value=0, max_value=32767, required=False, allow_null=True
    )
    term_note = serializers.CharField(max_length=255, required=False, allow_blank=True)
    slug = serializers.SlugField(max_length=100, required=False)
    title_fr = translation_input(255)
    title_es = translation_input(255)


class PostUpdateSerializer(TranslatedWriteSerializer):
    translated = POST_TRANSLATED
    title = TextInLanguages(
        max_length=255,
        required=False,
        help_text="The new title in English, or by language: "
        '`{"fr": "Directeur"}` changes the French title alone.',
    )
    unit = unit_by_slug(required=False)
    is_head = serializers.BooleanField(required=False)
    filling_method = serializers.ChoiceField(
        choices=FillingMethod.choices, required=False
    )
    term_years = serializers.IntegerField(
        min_value=0, max_value=32767, required=False, allow_null=True
    )
    term_note = serializers.CharField(max_length=255, required=False, allow_blank=True)
    title_fr = translation_input(255)
    title_es = translation_input(255)


class PostAbolishSerializer(WriteSerializer):
    pass


class PersonUpdateSerializer(WriteSerializer):
    full_name = serializers.CharField(max_length=255, required=False)


class PersonCreateSerializer(WriteSerializer):
    full_name = serializers.CharField(max_length=255)
    slug = serializers.SlugField(max_length=100, required=False)


class AppointmentCreateSerializer(WriteSerializer):
    person = BySlugField(slug_field="slug", queryset=Person.objects.all())
    post = BySlugField(slug_field="slug", queryset=Post.objects.all())
    started_on = serializers.DateField()
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)
    effective_at = InstantField(
        required=False,
        help_text="When the change took effect; default the start of `started_on` "
        "(UTC), or later that day if the post was recorded later that day.",
    )


class AppointmentEndSerializer(WriteSerializer):
    ended_on = serializers.DateField()
    effective_at = InstantField(
        required=False,
        help_text="When the change took effect; default the start of `ended_on` "
        "(UTC), or later that day if the appointment was recorded later that day.",
    )


CORRECTION_EFFECTIVE_AT = (
    "From when the record is corrected; default: each field from when its recorded "
    "value began (a start from the first record, an end from the change that ended "
    "it), so the whole record says the corrected thing."
)


class AppointmentCorrectSerializer(WriteSerializer):
    person = BySlugField(
        slug_field="slug", queryset=Person.objects.all(), required=False
    )
    post = BySlugField(slug_field="slug", queryset=Post.objects.all(), required=False)
    started_on = serializers.DateField(required=False)
    ended_on = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)
    effective_at = InstantField(required=False, help_text=CORRECTION_EFFECTIVE_AT)


class RelationshipCreateSerializer(TranslatedWriteSerializer):
    translated = RELATIONSHIP_TRANSLATED
    source = unit_by_slug()  # type: ignore[assignment]
    target = unit_by_slug()
    kind = serializers.ChoiceField(choices=RelationshipKind.choices)
    description = TextInLanguages(
        required=False,
        english_may_be_blank=True,
        help_text="The description in English, or by language: "
        '`{"en": "Shares staff", "fr": "Partage du personnel"}`.',
    )
    description_fr = translation_input()
    description_es = translation_input()
    effective_at = InstantField(
        required=False,
        help_text="When the change took effect; default now. Its date is the "
        "relationship's `started_on`.",
    )


class RelationshipEndSerializer(WriteSerializer):
    effective_at = InstantField(
        required=False,
        help_text="When the change took effect; default now. Its date is the "
        "relationship's `ended_on`.",
    )


class RelationshipCorrectSerializer(TranslatedWriteSerializer):
    translated = RELATIONSHIP_TRANSLATED
    started_on = serializers.DateField(required=False)
    ended_on = serializers.DateField(required=False, allow_null=True)
    description = TextInLanguages(
        required=False,
        english_may_be_blank=True,
        help_text="The corrected description in English, or by language: "
        '`{"fr": "Partage du personnel"}` corrects the French one alone.',
    )
    description_fr = translation_input()
    description_es = translation_input()
    effective_at = InstantField(required=False, help_text=CORRECTION_EFFECTIVE_AT)

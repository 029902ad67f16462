"""Posts, people, search results, appointments, relationships and lineage links."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from api.serializers.common import slug_in_context
from api.serializers.units import (
    LocalizedCharField,
    UntranslatedField,
    languages_schema,
)
from units.content_languages import POST_TRANSLATED, RELATIONSHIP_TRANSLATED
from units.models import (
    ClosureReason,
    FillingMethod,
    RelationshipKind,
)
from units.selectors.languages import all_languages, localized, localized_texts


class PostSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = LocalizedCharField(
        help_text="In the answer's language (`?lang=`, else Accept-Language); "
        "English where not yet translated."
    )
    unit = serializers.SerializerMethodField()
    is_head = serializers.BooleanField()
    filling_method = serializers.ChoiceField(choices=FillingMethod.choices)
    term_years = serializers.IntegerField(allow_null=True)
    term_note = serializers.CharField()
    established_on = serializers.DateField(allow_null=True)
    abolished_on = serializers.DateField(allow_null=True)
    status = serializers.SerializerMethodField()
    version = serializers.IntegerField()
    languages = serializers.SerializerMethodField(
        help_text='The title in every language (`{"title": {"en": ..., "fr": ..., '
        '"es": ...}}`), null where not yet translated.'
    )

    def get_unit(self, post: dict[str, Any]) -> str | None:
        return slug_in_context(self.context, "unit_slugs", post["unit_id"])

    def get_status(self, post: dict[str, Any]) -> str:
        return "active" if post["abolished_on"] is None else "abolished"

    @extend_schema_field(languages_schema(POST_TRANSLATED))
    def get_languages(self, post: dict[str, Any]) -> dict[str, dict[str, str | None]]:
        return {name: all_languages(post, name) for name in POST_TRANSLATED}


class PersonSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    full_name = serializers.CharField()
    version = serializers.IntegerField()


# The API address of each type of search result, by its slug.
SEARCH_RESULT_ROUTES = {
    "unit": "api:unit-detail",
    "post": "api:post-detail",
    "person": "api:person-detail",
}


# The texts of each type of search result that are translated (a person's name is not).
SEARCH_RESULT_TRANSLATED: dict[str, tuple[str, ...]] = {
    "unit": ("name", "short_name", "excerpt"),
    "post": ("name",),
    "person": (),
}


class SearchResultUntranslatedField(UntranslatedField):
    """``UntranslatedField`` for a result, whose translated texts depend on its type."""

    def get_attribute(self, instance: Any) -> list[str]:
        names = SEARCH_RESULT_TRANSLATED[instance.type]
        untranslated = localized_texts(instance, names)[1]
        if not untranslated:
            raise SkipField
        return untranslated


class SearchResultSerializer(serializers.Serializer):
    """One result of the registry search: a unit, a post or a person (``type``)."""

    type = serializers.ChoiceField(
        choices=["unit", "post", "person"], help_text="What the result is."
    )
    slug = serializers.SlugField()
    name = LocalizedCharField(
        help_text="A unit's name, a post's title, a person's; a unit's and a post's "
        "in the answer's language (`?lang=`, else Accept-Language), English where "
        "not yet translated."
    )
    kind = serializers.SerializerMethodField(
        help_text="A unit's kind (department, division, ...); null for the others."
    )
    short_name = serializers.SerializerMethodField(
        help_text="A unit's acronym, in the answer's language (English where not yet "
        "translated); null for the others."
    )
    unit = serializers.SerializerMethodField(
        help_text="A post's unit (its slug); null for the others."
    )
    is_head = serializers.SerializerMethodField(
        help_text="Whether a post heads its unit; null for the others."
    )
    matched_fields = serializers.ListField(child=serializers.CharField())
    excerpt = LocalizedCharField(
        help_text="A unit's mandate around the match, in the answer's language "
        "(English where not yet translated)."
    )
    untranslated = SearchResultUntranslatedField(
        (),
        help_text="The texts shown in English, not yet translated into the answer's "
        'language (`["name", "excerpt"]`); absent when there are none.',
    )
    url = serializers.SerializerMethodField()

    def get_kind(self, hit: Any) -> str | None:
        return hit.unit.kind if hit.unit is not None else None

    def get_short_name(self, hit: Any) -> str | None:
        return localized(hit, "short_name")[0] if hit.type == "unit" else None

    def get_unit(self, hit: Any) -> str | None:
        return hit.unit_slug if hit.type == "post" else None

    def get_is_head(self, hit: Any) -> bool | None:
        return hit.is_head if hit.type == "post" else None

    def get_url(self, hit: Any) -> str:
        # Absolute, as every link the API emits (``origin`` in the context).
        path = reverse(SEARCH_RESULT_ROUTES[hit.type], kwargs={"slug": hit.slug})
        return f"{self.context.get('origin', '')}{path}"


class AppointmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.SerializerMethodField()
    post = serializers.SerializerMethodField()
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    version = serializers.IntegerField()

    def get_person(self, appointment: dict[str, Any]) -> str | None:
        return slug_in_context(self.context, "person_slugs", appointment["person_id"])

    def get_post(self, appointment: dict[str, Any]) -> str | None:
        return slug_in_context(self.context, "post_slugs", appointment["post_id"])


class RelationshipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.SerializerMethodField()  # type: ignore[assignment]
    target = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=RelationshipKind.choices)
    description = LocalizedCharField(
        help_text="In the answer's language (`?lang=`, else Accept-Language); "
        "English where not yet translated."
    )
    started_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    status = serializers.SerializerMethodField()
    version = serializers.IntegerField()
    languages = serializers.SerializerMethodField(
        help_text='The description in every language (`{"description": {"en": ..., '
        '"fr": ..., "es": ...}}`), null where missing.'
    )

    def get_source(self, relationship: dict[str, Any]) -> str | None:
        return slug_in_context(self.context, "unit_slugs", relationship["source_id"])

    def get_target(self, relationship: dict[str, Any]) -> str | None:
        return slug_in_context(self.context, "unit_slugs", relationship["target_id"])

    def get_status(self, relationship: dict[str, Any]) -> str:
        return "active" if relationship["ended_on"] is None else "ended"

    @extend_schema_field(languages_schema(RELATIONSHIP_TRANSLATED))
    def get_languages(
        self, relationship: dict[str, Any]
    ) -> dict[str, dict[str, str | None]]:
        return {
            name: all_languages(relationship, name) for name in RELATIONSHIP_TRANSLATED
        }


class LineageRecordSerializer(serializers.Serializer):
    """A lineage link: ``successor`` took over (part of) the closed ``predecessor``."""

    id = serializers.IntegerField()
    predecessor = serializers.SerializerMethodField(help_text="The closed unit's slug.")
    successor = serializers.SerializerMethodField(
        help_text="The slug of the unit that took over its work."
    )
    closure_reason = serializers.ChoiceField(choices=ClosureReason.choices)
    effective_on = serializers.DateField()
    version = serializers.IntegerField()

    def get_predecessor(self, link: dict[str, Any]) -> str | None:
        return slug_in_context(self.context, "unit_slugs", link["predecessor_id"])

    def get_successor(self, link: dict[str, Any]) -> str | None:
        return slug_in_context(self.context, "unit_slugs", link["successor_id"])

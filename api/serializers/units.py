"""Units: as listed, in detail, with their head and lineage, and as a tree."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.utils.serializer_helpers import ReturnList

from api.serializers.common import slug_in_context, value_of
from units.content_languages import (
    CONTENT_LANGUAGES,
    POST_TRANSLATED,
    SOURCE_LANGUAGE,
    UNIT_TRANSLATED,
)
from units.models import (
    ClosureReason,
    ReportingLine,
    UnitKind,
)
from units.selectors.languages import all_languages, localized, localized_texts


class LocalizedCharField(serializers.CharField):
    """A text in the answer's language (``?lang=`` or Accept-Language), English
    where it is not translated (``units.selectors.languages.localized``)."""

    def get_attribute(self, instance: Any) -> str:
        return localized(instance, str(self.source))[0]


class UntranslatedField(serializers.ListField):
    """Which of ``names`` the answer shows in English, not yet translated into its
    language; left out when there are none (so always from English answers)."""

    def __init__(self, names: tuple[str, ...], **kwargs: Any) -> None:
        self.names = names
        super().__init__(child=serializers.CharField(), required=False, **kwargs)

    def get_attribute(self, instance: Any) -> list[str]:
        untranslated = localized_texts(instance, self.names)[1]
        if not untranslated:
            raise SkipField
        return untranslated


def languages_schema(names: tuple[str, ...]) -> dict[str, Any]:
    """The OpenAPI schema of a ``languages`` object: each of ``names`` in every
    content language, null where not yet translated."""
    return {
        "type": "object",
        "properties": {
            name: {
                "type": "object",
                "properties": {
                    language: {"type": "string", "nullable": True}
                    for language in CONTENT_LANGUAGES
                },
            }
            for name in names
        },
    }


class UnitSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = LocalizedCharField()
    short_name = LocalizedCharField()
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    mandate = LocalizedCharField()
    location = LocalizedCharField()
    learn_more_url = serializers.CharField()
    parent = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="Slug of the unit it reports to."
    )
    reporting_line = serializers.ChoiceField(choices=ReportingLine.choices)
    sibling_order = serializers.IntegerField()
    established_on = serializers.DateField(allow_null=True)
    abolished_on = serializers.DateField(allow_null=True)
    status = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    def get_parent(self, unit: Any) -> str | None:
        return slug_in_context(self.context, "unit_slugs", value_of(unit, "parent_id"))

    def get_status(self, unit: Any) -> str:
        return "active" if value_of(unit, "abolished_on") is None else "abolished"

    def get_url(self, unit: Any) -> str:
        prefix, suffix = unit_url_parts(self.context.get("origin", ""))
        return f"{prefix}{value_of(unit, 'slug')}{suffix}"


def unit_url_parts(origin: str) -> tuple[str, str]:
    """A unit's API address around its slug, absolute when ``origin`` is given.

    ``origin`` is ``api.views.base.origin(request)``: every link the API emits is
    absolute, as DRF's ``next``/``previous`` links are. Built once per answer, not by a
    ``reverse()`` per unit.
    """
    prefix, suffix = reverse("api:unit-detail", kwargs={"slug": "SLUG"}).split("SLUG")
    return f"{origin}{prefix}", suffix


class HolderSerializer(serializers.Serializer):
    person = serializers.CharField(source="person_slug")
    name = serializers.CharField(source="person_name")
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)


class HeadSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = LocalizedCharField(
        help_text="In the answer's language; English where not yet translated."
    )
    holder = HolderSerializer(allow_null=True)


class UnitWithHeadSerializer(UnitSerializer):
    head = HeadSerializer(allow_null=True)


class LineageLinkSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField(help_text="Its name at `as_of`.")
    url = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=ClosureReason.choices,
        help_text="The closure reason: how the predecessor's work passed on.",
    )
    date = serializers.DateField(help_text="When it took effect.")


def lineage_items(
    context: dict[str, Any], unit: Any, side: str
) -> list[dict[str, Any]]:
    """A unit's predecessors or successors, from the ``lineage`` map in the context
    (``selectors.lineage_of``, read once for every unit of the answer)."""
    lineage = context.get("lineage", {}).get(value_of(unit, "id"))
    if lineage is None:
        return []
    prefix, suffix = unit_url_parts(context.get("origin", ""))
    return [
        {
            "slug": link.slug,
            "name": link.name,
            "url": f"{prefix}{link.slug}{suffix}",
            "reason": link.reason,
            "date": link.date,
        }
        for link in getattr(lineage, side)
    ]


class LineageFieldsSerializer(serializers.Serializer):
    """``predecessors`` and ``successors`` of a unit (lineage: merges, splits...)."""

    predecessors = serializers.SerializerMethodField(
        help_text="The units it was formed from (merged, split, replaced, absorbed)."
    )
    successors = serializers.SerializerMethodField(
        help_text="The units that took over its work when it closed."
    )

    @extend_schema_field(LineageLinkSerializer(many=True))
    def get_predecessors(self, unit: Any) -> list[dict[str, Any]]:
        return lineage_items(self.context, unit, "predecessors")

    @extend_schema_field(LineageLinkSerializer(many=True))
    def get_successors(self, unit: Any) -> list[dict[str, Any]]:
        return lineage_items(self.context, unit, "successors")


class UnitListItemSerializer(UnitWithHeadSerializer, LineageFieldsSerializer):
    pass


class UnitDetailSerializer(UnitSerializer, LineageFieldsSerializer):
    provenance = serializers.CharField(
        help_text="Where the record comes from and what in it is an interpretation "
        "of the source (such as a placement the source does not state)."
    )
    version = serializers.IntegerField()
    languages = serializers.SerializerMethodField(
        help_text="The name, short name, mandate and location in every language "
        '(`{"name": {"en": ..., "fr": ..., "es": ...}, ...}`), null where not yet '
        "translated; the plain fields above are in the answer's language."
    )

    @extend_schema_field(languages_schema(UNIT_TRANSLATED))
    def get_languages(self, unit: Any) -> dict[str, dict[str, str | None]]:
        return {name: all_languages(unit, name) for name in UNIT_TRANSLATED}


class TreeHeadSerializer(HeadSerializer):
    title = LocalizedCharField()
    untranslated = UntranslatedField(
        POST_TRANSLATED,
        help_text='`["title"]` when the title is in English, not yet translated into '
        "the answer's language; absent otherwise.",
    )


class TreeNodeSerializer(UnitWithHeadSerializer):
    head = TreeHeadSerializer(allow_null=True)
    untranslated = UntranslatedField(
        UNIT_TRANSLATED,
        help_text="The texts shown in English, not yet translated into the answer's "
        'language (`["name", "mandate"]`); absent when there are none.',
    )
    children = serializers.SerializerMethodField()

    @extend_schema_field(
        {"type": "array", "items": {"$ref": "#/components/schemas/TreeNode"}}
    )
    def get_children(self, unit: Any) -> list[dict[str, Any]]:
        # many=True makes a ListSerializer, whose data is a list: the stubs do not know.
        return cast(
            ReturnList,
            TreeNodeSerializer(unit.children, many=True, context=self.context).data,
        )


def tree_payload(
    roots: list[Any],
    unit_slugs: dict[int, str],
    *,
    origin: str = "",
    language: str = SOURCE_LANGUAGE,
) -> list[dict[str, Any]]:
    """The ``TreeNodeSerializer`` representation of whole trees, built directly.

    A recursive DRF serializer costs most of a millisecond per node (field objects,
    ``reverse()`` per URL), which made a 10,000-unit tree take seconds. This builds the
    same dictionaries in plain Python, iteratively; a test keeps both representations
    equal, and the serializer still documents the shape in the OpenAPI schema. The
    texts are in ``language``, English (listed in ``untranslated``) where missing.
    """
    prefix, suffix = unit_url_parts(origin)

    def head_payload(head: Any) -> dict[str, Any]:
        holder = head.holder
        (title,), untranslated = localized_texts(head, POST_TRANSLATED, language)
        return {
            "slug": head.slug,
            "title": title,
            **({"untranslated": untranslated} if untranslated else {}),
            "holder": None
            if holder is None
            else {
                "person": holder.person_slug,
                "name": holder.person_name,
                "started_on": _iso(holder.started_on),
                "ended_on": _iso(holder.ended_on),
            },
        }

    def node_payload(node: Any) -> dict[str, Any]:
        head = node.head
        texts, untranslated = localized_texts(node, UNIT_TRANSLATED, language)
        name, short_name, mandate, location = texts
        return {
            "slug": node.slug,
            "name": name,
            "short_name": short_name,
            "kind": node.kind,
            "mandate": mandate,
            "location": location,
            **({"untranslated": untranslated} if untranslated else {}),
            "learn_more_url": node.learn_more_url,
            "parent": unit_slugs.get(node.parent_id) if node.parent_id else None,
            "reporting_line": node.reporting_line,
            "sibling_order": node.sibling_order,
            "established_on": _iso(node.established_on),
            "abolished_on": _iso(node.abolished_on),
            "status": "active" if node.abolished_on is None else "abolished",
            "url": f"{prefix}{node.slug}{suffix}",
            "head": None if head is None else head_payload(head),
            "children": [],
        }

    payload = [node_payload(root) for root in roots]
    stack = list(zip(roots, payload, strict=True))
    while stack:
        node, data = stack.pop()
        for child in node.children:
            child_data = node_payload(child)
            data["children"].append(child_data)
            stack.append((child, child_data))
    return payload


def _iso(day: datetime.date | None) -> str | None:
    return None if day is None else day.isoformat()

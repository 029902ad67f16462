"""Representations of the registry, and the input each write accepts.

Output serializers read plain data (selector dataclasses and history rows), never model
instances, so serializing cannot trigger a query. Maps from ids to slugs come in the
serializer context, fetched once per request.
"""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.urls import reverse
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import ReturnList

from units import selectors
from units.change_links import object_api_path, object_page_path
from units.models import (
    INTEGER_MAX,
    ClosureReason,
    FillingMethod,
    OperationKind,
    OrganizationalUnit,
    Person,
    Post,
    ReasonVisibility,
    RelationshipKind,
    ReorganizationStatus,
    ReportingLine,
    UnitKind,
)
from units.services import MOVE_POSITIONS

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
# One abolish-many request stays one bounded transaction (the admin's action offers
# at most a page of 500 units too).
MAX_UNITS_ABOLISHED_AT_ONCE = 500


def value_of(item: Any, name: str) -> Any:
    """Read a field from a history row (dict) or a selector dataclass alike."""
    return item[name] if isinstance(item, dict) else getattr(item, name)


def _slug(context: dict[str, Any], map_name: str, pk: int | None) -> str | None:
    if pk is None:
        return None
    return context[map_name].get(pk)


def _staff_reader(context: dict[str, Any]) -> bool:
    """Whether the reader sees authors and internal reasons (``selectors.audience``)."""
    return bool(context.get("staff_reader"))


REASON_HELP = (
    "Why the change was made; null when the reason is internal and you are not an "
    "authenticated auditor or editor."
)
REASON_VISIBILITY_HELP = (
    "public (everyone reads the reason) or internal (editors and auditors only)."
)


# Fields named parent, label or source: the DRF stubs give every Field (and so every
# Serializer) attributes of those names, but the serializer metaclass moves declared
# fields out of the class, so nothing is shadowed at run time; hence the
# ``type: ignore[assignment]`` on those lines, and on ``effective_at = None``, DRF's way
# of leaving out an inherited field.

# --- Units ------------------------------------------------------------------------------


class UnitSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    mandate = serializers.CharField()
    location = serializers.CharField()
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
        return _slug(self.context, "unit_slugs", value_of(unit, "parent_id"))

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
    title = serializers.CharField()
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


class TreeNodeSerializer(UnitWithHeadSerializer):
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
    roots: list[Any], unit_slugs: dict[int, str], *, origin: str = ""
) -> list[dict[str, Any]]:
    """The ``TreeNodeSerializer`` representation of whole trees, built directly.

    A recursive DRF serializer costs most of a millisecond per node (field objects,
    ``reverse()`` per URL), which made a 10,000-unit tree take seconds. This builds the
    same dictionaries in plain Python, iteratively; a test keeps both representations
    equal, and the serializer still documents the shape in the OpenAPI schema.
    """
    prefix, suffix = unit_url_parts(origin)

    def node_payload(node: Any) -> dict[str, Any]:
        head = node.head
        holder = head.holder if head is not None else None
        return {
            "slug": node.slug,
            "name": node.name,
            "short_name": node.short_name,
            "kind": node.kind,
            "mandate": node.mandate,
            "location": node.location,
            "learn_more_url": node.learn_more_url,
            "parent": unit_slugs.get(node.parent_id) if node.parent_id else None,
            "reporting_line": node.reporting_line,
            "sibling_order": node.sibling_order,
            "established_on": _iso(node.established_on),
            "abolished_on": _iso(node.abolished_on),
            "status": "active" if node.abolished_on is None else "abolished",
            "url": f"{prefix}{node.slug}{suffix}",
            "head": None
            if head is None
            else {
                "slug": head.slug,
                "title": head.title,
                "holder": None
                if holder is None
                else {
                    "person": holder.person_slug,
                    "name": holder.person_name,
                    "started_on": _iso(holder.started_on),
                    "ended_on": _iso(holder.ended_on),
                },
            },
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


# --- History and changes ----------------------------------------------------------------


# A history's links to other objects: the field's id, and the slug map (in the
# serializer context) that names what it links to.
LINK_SLUG_MAPS = {
    "parent_id": "unit_slugs",
    "unit_id": "unit_slugs",
    "source_id": "unit_slugs",
    "target_id": "unit_slugs",
    "predecessor_id": "unit_slugs",
    "successor_id": "unit_slugs",
    "person_id": "person_slugs",
    "post_id": "post_slugs",
}


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.SerializerMethodField(
        help_text="The field, as the object's representation names it (`parent`, "
        "`unit`, `person`, ...)."
    )
    label = serializers.CharField()  # type: ignore[assignment]
    old = serializers.SerializerMethodField(
        help_text="The value before; a link to another object is its slug."
    )
    new = serializers.SerializerMethodField(help_text="The value after.")
    old_display = serializers.CharField()
    new_display = serializers.CharField()

    def get_field(self, change: Any) -> str:
        if change.field in LINK_SLUG_MAPS:
            return str(change.field).removesuffix("_id")
        return str(change.field)

    def _value(self, change: Any, value: Any) -> Any:
        if change.field in LINK_SLUG_MAPS:
            return _slug(self.context, LINK_SLUG_MAPS[change.field], value)
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value

    @extend_schema_field(OpenApiTypes.ANY)
    def get_old(self, change: Any) -> Any:
        return self._value(change, change.old)

    @extend_schema_field(OpenApiTypes.ANY)
    def get_new(self, change: Any) -> Any:
        return self._value(change, change.new)


class RevisionSerializer(serializers.Serializer):
    history_id = serializers.IntegerField()
    effective_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    is_backdated = serializers.BooleanField()
    type = serializers.SerializerMethodField(
        help_text="created, changed, or reverted (a revert to an earlier version, "
        "`reverts_version`)."
    )
    reverts_version = serializers.IntegerField(
        source="reverts_revision",
        allow_null=True,
        help_text="For a revert: the history_id of the version it went back to.",
    )
    reason = serializers.SerializerMethodField(help_text=REASON_HELP)
    reason_visibility = serializers.ChoiceField(
        choices=ReasonVisibility.choices, help_text=REASON_VISIBILITY_HELP
    )
    author = serializers.SerializerMethodField(
        help_text="Username; null unless you are an authenticated auditor or editor."
    )
    changes = FieldChangeSerializer(many=True)

    def get_type(self, revision: Any) -> str:
        if revision.reverts_revision is not None:
            return "reverted"
        return HISTORY_TYPES.get(revision.history_type, revision.history_type)

    def get_author(self, revision: Any) -> str | None:
        return revision.author if _staff_reader(self.context) else None

    def get_reason(self, revision: Any) -> str | None:
        return selectors.shown_reason(revision, staff=_staff_reader(self.context))


# The objects the API names by id rather than by slug.
ID_NAMED_OBJECTS = frozenset({"appointment", "relationship", "lineage"})


class ChangedObjectSerializer(serializers.Serializer):
    """What a change changed, and where to read it (``Change.object_*``)."""

    type = serializers.ChoiceField(
        choices=selectors.OBJECT_TYPES,
        source="object_type",
        help_text="What the change changed: unit, post, person, appointment, "
        "relationship or lineage (a link from a closed unit to its successor).",
    )
    id = serializers.SerializerMethodField(
        help_text="An appointment's, a relationship's or a lineage link's id (their "
        "API address); null for units, posts and people, which the API names by slug."
    )
    slug = serializers.SerializerMethodField(
        help_text="A unit's, post's or person's slug, as it was at this change; null "
        "for appointments, relationships and lineage links."
    )
    name = serializers.CharField(
        source="object_name",
        help_text="Its name: a unit's or person's name, a post's title, "
        '"person, post" for an appointment, "source supports target" for a '
        'relationship, "A merged into C" for a lineage link.',
    )
    url = serializers.SerializerMethodField(
        help_text="Its address in this API (absolute); null if it has no slug."
    )
    page = serializers.SerializerMethodField(
        help_text="The public page that shows it (absolute): a unit's page, a post on "
        "its unit's page, a person in the list of people, an appointment with its "
        "post, a relationship on its source unit's page, a lineage link on its "
        "successor's page."
    )

    def get_id(self, change: Any) -> int | None:
        return change.object_id if change.object_type in ID_NAMED_OBJECTS else None

    def get_slug(self, change: Any) -> str | None:
        return change.object_slug or None

    def get_url(self, change: Any) -> str | None:
        path = object_api_path(change)
        return None if path is None else f"{self.context.get('origin', '')}{path}"

    def get_page(self, change: Any) -> str:
        return f"{self.context.get('origin', '')}{object_page_path(change)}"


class ChangeSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="What happened. To a unit: added, abolished, reinstated, moved, "
        "renamed, mandate_changed, reporting_line_changed, reordered, reverted (a "
        "revert to an earlier version: details version, kinds and changes, what it "
        "brought back). To a post: post_added, post_abolished, post_reinstated, "
        "post_moved (to another unit), post_renamed, post_reverted. To a person: "
        "person_added, person_renamed, person_reverted. Appointments: "
        "appointment_started, appointment_ended. Dotted lines: relationship_added, "
        "relationship_ended. Lineage: lineage_recorded (details closure_reason, "
        "predecessor, successor, effective_on). A change of any other field is <field>_changed "
        "(kind_changed, location_changed, ...) for a unit, and post_<field>_changed, "
        "person_<field>_changed, appointment_<field>_changed or "
        "relationship_<field>_changed for the others, with details field, label, "
        "old, new, old_display and new_display."
    )
    object = ChangedObjectSerializer(
        source="*", help_text="What the change changed, and where to read it."
    )
    effective_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    history_id = serializers.IntegerField()
    reason = serializers.SerializerMethodField(help_text=REASON_HELP)
    reason_visibility = serializers.ChoiceField(
        choices=ReasonVisibility.choices, help_text=REASON_VISIBILITY_HELP
    )
    author = serializers.SerializerMethodField(
        help_text="Username; null unless you are an authenticated auditor or editor."
    )
    unit = serializers.CharField(
        source="unit_slug",
        help_text="Slug of the unit the change belongs to: the unit itself, a post's "
        "unit, an appointment's post's unit, a relationship's source unit; empty for "
        "a person, who belongs to no unit.",
    )
    unit_name = serializers.CharField()
    summary = serializers.CharField()
    details = serializers.JSONField()
    # Shadows Serializer.fields only in the stubs: DRF's metaclass takes it as a field.
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(),
        help_text="The fields of the changed object this change records; a "
        "version's changes together name every field it changed.",
    )

    def get_author(self, change: Any) -> str | None:
        return change.author if _staff_reader(self.context) else None

    def get_reason(self, change: Any) -> str | None:
        return selectors.shown_reason(change, staff=_staff_reader(self.context))


class ReorganizationHeadingSerializer(serializers.Serializer):
    """A reorganization as the change feed names it above its changes."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    reference = serializers.CharField(
        help_text='For example "DG bulletin 2026/14"; empty if none.'
    )
    reason = serializers.SerializerMethodField(
        help_text="Why it was made (every change beneath carries it too); null when "
        "it is internal and you are not an authenticated auditor or editor."
    )
    reason_visibility = serializers.ChoiceField(
        choices=ReasonVisibility.choices, help_text=REASON_VISIBILITY_HELP
    )
    effective_at = serializers.DateTimeField(
        help_text="When it took effect: every change beneath took effect then."
    )
    status = serializers.ChoiceField(choices=ReorganizationStatus.choices)
    author = serializers.SerializerMethodField(
        help_text="Who drafted it; null unless you are an authenticated auditor or "
        "editor."
    )
    url = serializers.SerializerMethodField(
        help_text="Its address in this API (absolute): its operations and status."
    )
    problems = serializers.SerializerMethodField(
        help_text="Why a failed reorganization did not apply, each "
        '{"operation": its index or null, "message"}; empty for an applied one. '
        "Failed reorganizations are listed to authenticated editors and auditors "
        "only."
    )

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "operation": {"type": "integer", "nullable": True},
                    "message": {"type": "string"},
                },
            },
        }
    )
    def get_problems(self, heading: Any) -> list[dict[str, Any]]:
        return list(heading.problems) if _staff_reader(self.context) else []

    def get_reason(self, heading: Any) -> str | None:
        return selectors.shown_reason(heading, staff=_staff_reader(self.context))

    def get_author(self, heading: Any) -> str | None:
        return heading.author if _staff_reader(self.context) else None

    def get_url(self, heading: Any) -> str:
        path = reverse("api:reorganization-detail", kwargs={"pk": heading.id})
        return f"{self.context.get('origin', '')}{path}"


class ChangeGroupSerializer(serializers.Serializer):
    """The changes one reorganization recorded, as one entry of the change feed."""

    reorganization = ReorganizationHeadingSerializer(
        help_text="The reorganization whose application recorded the changes."
    )
    effective_at = serializers.DateTimeField(
        help_text="The reorganization's effective time, where the entry stands."
    )
    changes = ChangeSerializer(
        many=True,
        help_text="Its changes on this page, in feed order (each as a change entry); "
        "none for a failed reorganization.",
    )


def feed_entries_data(
    entries: list[selectors.FeedEntry], context: dict[str, Any]
) -> list[Any]:
    """The change feed's entries as JSON: a change as ``ChangeSerializer`` writes it,
    a reorganization's changes as ``ChangeGroupSerializer``."""
    return [
        (
            ChangeGroupSerializer(entry, context=context)
            if isinstance(entry, selectors.ChangeGroup)
            else ChangeSerializer(entry, context=context)
        ).data
        for entry in entries
    ]


# --- Posts, people, appointments, relationships -----------------------------------------


class PostSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    unit = serializers.SerializerMethodField()
    is_head = serializers.BooleanField()
    filling_method = serializers.ChoiceField(choices=FillingMethod.choices)
    term_years = serializers.IntegerField(allow_null=True)
    term_note = serializers.CharField()
    established_on = serializers.DateField(allow_null=True)
    abolished_on = serializers.DateField(allow_null=True)
    status = serializers.SerializerMethodField()
    version = serializers.IntegerField()

    def get_unit(self, post: dict[str, Any]) -> str | None:
        return _slug(self.context, "unit_slugs", post["unit_id"])

    def get_status(self, post: dict[str, Any]) -> str:
        return "active" if post["abolished_on"] is None else "abolished"


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


class SearchResultSerializer(serializers.Serializer):
    """One result of the registry search: a unit, a post or a person (``type``)."""

    type = serializers.ChoiceField(
        choices=["unit", "post", "person"], help_text="What the result is."
    )
    slug = serializers.SlugField()
    name = serializers.CharField(help_text="A unit's name, a post's title, a person's.")
    kind = serializers.SerializerMethodField(
        help_text="A unit's kind (department, division, ...); null for the others."
    )
    short_name = serializers.SerializerMethodField(
        help_text="A unit's acronym; null for the others."
    )
    unit = serializers.SerializerMethodField(
        help_text="A post's unit (its slug); null for the others."
    )
    is_head = serializers.SerializerMethodField(
        help_text="Whether a post heads its unit; null for the others."
    )
    matched_fields = serializers.ListField(child=serializers.CharField())
    excerpt = serializers.CharField(help_text="A unit's mandate around the match.")
    url = serializers.SerializerMethodField()

    def get_kind(self, hit: Any) -> str | None:
        return hit.unit.kind if hit.unit is not None else None

    def get_short_name(self, hit: Any) -> str | None:
        return hit.unit.short_name if hit.unit is not None else None

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
        return _slug(self.context, "person_slugs", appointment["person_id"])

    def get_post(self, appointment: dict[str, Any]) -> str | None:
        return _slug(self.context, "post_slugs", appointment["post_id"])


class RelationshipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.SerializerMethodField()  # type: ignore[assignment]
    target = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=RelationshipKind.choices)
    description = serializers.CharField()
    started_on = serializers.DateField(allow_null=True)
    ended_on = serializers.DateField(allow_null=True)
    status = serializers.SerializerMethodField()
    version = serializers.IntegerField()

    def get_source(self, relationship: dict[str, Any]) -> str | None:
        return _slug(self.context, "unit_slugs", relationship["source_id"])

    def get_target(self, relationship: dict[str, Any]) -> str | None:
        return _slug(self.context, "unit_slugs", relationship["target_id"])

    def get_status(self, relationship: dict[str, Any]) -> str:
        return "active" if relationship["ended_on"] is None else "ended"


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
        return _slug(self.context, "unit_slugs", link["predecessor_id"])

    def get_successor(self, link: dict[str, Any]) -> str | None:
        return _slug(self.context, "unit_slugs", link["successor_id"])


# --- What a write recorded --------------------------------------------------------------


class RecordedSerializer(serializers.Serializer):
    history_id = serializers.IntegerField(
        help_text="The new version's id, as listed by the object's history/."
    )
    effective_at = serializers.DateTimeField(help_text="When the change took effect.")
    recorded_at = serializers.DateTimeField(help_text="When it was written down.")


def recorded_field() -> RecordedSerializer:
    return RecordedSerializer(
        allow_null=True,
        help_text="The version this write recorded. null when the write changed "
        "nothing (every field already had the value sent): nothing was recorded and "
        "the object is shown as it stands.",
    )


# The answer to a write: the object as it stands, and what the write recorded.
class UnitWrittenSerializer(UnitDetailSerializer):
    recorded = recorded_field()


class PostWrittenSerializer(PostSerializer):
    recorded = recorded_field()


class PersonWrittenSerializer(PersonSerializer):
    recorded = recorded_field()


class AppointmentWrittenSerializer(AppointmentSerializer):
    recorded = recorded_field()


class RelationshipWrittenSerializer(RelationshipSerializer):
    recorded = recorded_field()


# --- Input ------------------------------------------------------------------------------


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


def unit_by_slug(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
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


class UnitCreateSerializer(WriteSerializer):
    name = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    parent = unit_by_slug(required=False, allow_null=True)  # type: ignore[assignment]
    slug = serializers.SlugField(max_length=100, required=False)
    short_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    mandate = serializers.CharField(required=False, allow_blank=True)
    location = serializers.CharField(max_length=128, required=False, allow_blank=True)
    learn_more_url = serializers.URLField(required=False, allow_blank=True)
    provenance = serializers.CharField(required=False, allow_blank=True)
    reporting_line = serializers.ChoiceField(
        choices=ReportingLine.choices, required=False
    )
    sibling_order = serializers.IntegerField(min_value=0, required=False)


class UnitUpdateSerializer(WriteSerializer):
    name = serializers.CharField(max_length=255, required=False)
    short_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=UnitKind.choices, required=False)
    mandate = serializers.CharField(required=False, allow_blank=True)
    location = serializers.CharField(max_length=128, required=False, allow_blank=True)
    learn_more_url = serializers.URLField(required=False, allow_blank=True)
    provenance = serializers.CharField(required=False, allow_blank=True)
    reporting_line = serializers.ChoiceField(
        choices=ReportingLine.choices, required=False
    )
    sibling_order = serializers.IntegerField(min_value=0, required=False)


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
    """A revert takes effect now: it is a new change, so it cannot be backdated."""

    history_id = serializers.IntegerField(
        min_value=1,
        # Ids are 64-bit; a larger number names no version and would overflow.
        max_value=2**63 - 1,
        help_text="The version to bring back: a history_id from units/{slug}/history/.",
    )
    effective_at = None  # type: ignore[assignment]


class PostCreateSerializer(WriteSerializer):
    title = serializers.CharField(max_length=255)
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


class PostUpdateSerializer(WriteSerializer):
    title = serializers.CharField(max_length=255, required=False)
    unit = unit_by_slug(required=False)
    is_head = serializers.BooleanField(required=False)
    filling_method = serializers.ChoiceField(
        choices=FillingMethod.choices, required=False
    )
    term_years = serializers.IntegerField(
        min_value=0, max_value=32767, required=False, allow_null=True
    )
    term_note = serializers.CharField(max_length=255, required=False, allow_blank=True)


class PostAbolishSerializer(WriteSerializer):
    pass


class PersonUpdateSerializer(WriteSerializer):
    full_name = serializers.CharField(max_length=255, required=False)


class PersonCreateSerializer(WriteSerializer):
    full_name = serializers.CharField(max_length=255)
    slug = serializers.SlugField(max_length=100, required=False)


class AppointmentCreateSerializer(WriteSerializer):
    person = serializers.SlugRelatedField(
        slug_field="slug", queryset=Person.objects.all()
    )
    post = serializers.SlugRelatedField(slug_field="slug", queryset=Post.objects.all())
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


class RelationshipCreateSerializer(WriteSerializer):
    source = unit_by_slug()  # type: ignore[assignment]
    target = unit_by_slug()
    kind = serializers.ChoiceField(choices=RelationshipKind.choices)
    description = serializers.CharField(required=False, allow_blank=True)
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


# --- Reorganizations ------------------------------------------------------------------


class OperationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=OperationKind.choices)
    payload = serializers.JSONField(
        help_text="What it changes; units, posts and people are named by slug."
    )


class RevertedSerializer(serializers.Serializer):
    """The reorganization a revert undoes: its id and title."""

    id = serializers.IntegerField()
    title = serializers.CharField()


class ReorganizationSerializer(serializers.Serializer):
    """A reorganization with its operations; authors only to authorized readers."""

    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    title = serializers.CharField()
    reference = serializers.CharField()
    reason = serializers.SerializerMethodField(
        help_text="Why it is made; null for a reader who may not read an internal "
        "reason."
    )
    reason_visibility = serializers.ChoiceField(choices=ReasonVisibility.choices)
    effective_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ReorganizationStatus.choices)
    scheduled = serializers.BooleanField(
        source="is_scheduled", help_text="Approved, waiting for its effective time."
    )
    author = serializers.SerializerMethodField()
    approver = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    applied_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()
    problems = serializers.JSONField(
        help_text="What stands in its way, each with the index of its operation "
        "(from 0; null: the whole), a message and the refusal's code."
    )
    operations = OperationSerializer(many=True)
    reverts = RevertedSerializer(
        allow_null=True,
        help_text="The reorganization this one reverts (its id and title); null for "
        "one that reverts none.",
    )
    not_restored = serializers.JSONField(
        help_text="For a revert: what of the original it cannot bring back (changed "
        "again since, a post now held by someone else, ...), each with a message."
    )

    def get_url(self, reorganization: Any) -> str:
        return self.context["origin"] + reverse(
            "api:reorganization-detail", kwargs={"pk": reorganization.pk}
        )

    def get_reason(self, reorganization: Any) -> str | None:
        return selectors.shown_reason(reorganization, staff=_staff_reader(self.context))

    def get_author(self, reorganization: Any) -> str | None:
        if not _staff_reader(self.context):
            return None
        return str(reorganization.author.get_username())

    def get_approver(self, reorganization: Any) -> str | None:
        if not _staff_reader(self.context) or reorganization.approver is None:
            return None
        return str(reorganization.approver.get_username())


class ReorganizationCreateSerializer(StrictSerializer):
    title = serializers.CharField(max_length=255)
    reference = serializers.CharField(max_length=128, required=False, allow_blank=True)
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Why it is made (required); every revision it writes carries it.",
    )
    reason_visibility = reason_visibility_field()
    effective_at = InstantField(
        required=False,
        help_text="When it takes effect (past, now or future); default now.",
    )


class ReorganizationImportSerializer(ReorganizationCreateSerializer):
    file = serializers.FileField(
        help_text="The units as an Excel workbook (.xlsx: its Units sheet, else its "
        "first) or a CSV file in UTF-8, with the columns of `export/units.csv`."
    )
    # Not needed for a dry run, which drafts nothing; the draft refuses them missing.
    title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    reason = serializers.CharField(required=False, allow_blank=True)


class ImportedChangeSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True,
        help_text="The file's row (1 is the header); null: a unit the file leaves out.",
    )
    kind = serializers.ChoiceField(choices=OperationKind.choices)
    payload = serializers.JSONField()
    summary = serializers.CharField()


class ImportDifferenceSerializer(serializers.Serializer):
    operations = ImportedChangeSerializer(many=True)


class ReorganizationUpdateSerializer(ReorganizationCreateSerializer):
    title = serializers.CharField(max_length=255, required=False)
    reason = serializers.CharField(allow_blank=True, required=False)


class OperationInputSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=OperationKind.choices)
    payload = serializers.JSONField()
    position = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=INTEGER_MAX,
        help_text="Where it goes among the operations; default last.",
    )


class PlannedReorganizationSerializer(serializers.Serializer):
    """A reorganization a planned answer shows applied."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    reference = serializers.CharField()
    effective_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ReorganizationStatus.choices)
    reason = serializers.CharField(
        allow_null=True, help_text="Null for a reader who may not read it."
    )
    reason_visibility = serializers.ChoiceField(choices=ReasonVisibility.choices)


class ReorganizationPreviewSerializer(serializers.Serializer):
    """A reorganization tried out: the tree after it and what it changes."""

    reorganization = ReorganizationSerializer()
    problems = serializers.JSONField(
        help_text="What stands in its way (empty when it applies)."
    )
    tree = TreeNodeSerializer(many=True, help_text="The whole tree after it.")
    changes = ChangeSerializer(many=True, help_text="What it changes.")
    planned = serializers.BooleanField(help_text="Always true: a plan, not a record.")
    planned_until = serializers.DateTimeField()
    planned_reorganizations = PlannedReorganizationSerializer(
        many=True,
        help_text="The approved reorganizations applied before it, then it.",
    )


class OperationChangeSerializer(OperationInputSerializer):
    kind = serializers.ChoiceField(choices=OperationKind.choices, required=False)
    payload = serializers.JSONField(required=False)


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(
        allow_blank=True, help_text="Why it is rejected (required)."
    )


class RevertReorganizationSerializer(StrictSerializer):
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Why it is reverted (required); every revision the revert writes "
        "carries it.",
    )
    reason_visibility = reason_visibility_field()
    effective_at = InstantField(
        required=False,
        help_text="When the revert takes effect (now or later); default now.",
    )


class NoInputSerializer(StrictSerializer):
    """A step that takes no input (submit, approve, cancel)."""

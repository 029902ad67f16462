"""History and changes: revisions, field changes, the change feed and its groups."""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import (
    HISTORY_TYPES,
    REASON_HELP,
    REASON_VISIBILITY_HELP,
    reads_as_staff,
    slug_in_context,
)
from units import selectors
from units.change_links import object_api_path, object_page_path
from units.models import (
    ReasonVisibility,
    ReorganizationStatus,
)

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
    corrected_on = serializers.DateTimeField(
        allow_null=True,
        help_text="When a correction of the past changed this field's value at this "
        "version (recorded then); null if never.",
    )
    was_display = serializers.CharField(
        help_text="With corrected_on: the value recorded before the correction, as "
        "shown; empty otherwise."
    )

    def get_field(self, change: Any) -> str:
        if change.field in LINK_SLUG_MAPS:
            return str(change.field).removesuffix("_id")
        return str(change.field)

    def _value(self, change: Any, value: Any) -> Any:
        if change.field in LINK_SLUG_MAPS:
            return slug_in_context(self.context, LINK_SLUG_MAPS[change.field], value)
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
    corrects_version = serializers.IntegerField(
        source="corrects_revision",
        allow_null=True,
        help_text="For a correction of the past: the history_id of the version whose "
        "recorded state it corrects (and replaces, read as known now).",
    )
    corrected_on = serializers.DateTimeField(
        allow_null=True,
        help_text="When a correction changed what this version records; null if "
        "never. `corrections` says which fields and what they were.",
    )
    corrections = FieldChangeSerializer(
        many=True,
        help_text="Every field whose recorded value a correction changed at this "
        "version (`old`: the value before), including fields this version did not "
        "change.",
    )

    def get_type(self, revision: Any) -> str:
        if revision.reverts_revision is not None:
            return "reverted"
        return HISTORY_TYPES.get(revision.history_type, revision.history_type)

    def get_author(self, revision: Any) -> str | None:
        return revision.author if reads_as_staff(self.context) else None

    def get_reason(self, revision: Any) -> str | None:
        return selectors.shown_reason(revision, staff=reads_as_staff(self.context))


class VersionSerializer(RevisionSerializer):
    """One version, which a correction may have superseded (then read as the
    registry recorded it just before the correction)."""

    superseded_on = serializers.DateTimeField(
        allow_null=True,
        help_text="When a correction superseded this version (it is shown as recorded "
        "before then); null if it is in the history as known now.",
    )
    superseded_by = serializers.IntegerField(
        allow_null=True,
        help_text="The history_id of the version that replaced it; null if none did.",
    )


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

    correction = serializers.SerializerMethodField(
        help_text="For a correction of the past, shown at its effective time: "
        "`corrected_on` (when the registry learned it), `recorded_at` (the same), "
        "`corrects_version` (the history_id of the revision it corrects) and "
        "`previous` (each corrected field's value before, by field; a link to "
        "another object is its id, as `parent_id`) and `previous_display` (the "
        "same values as a reader sees them: names, labels, dates); "
        "null for an ordinary change."
    )

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "corrected_on": {"type": "string", "format": "date-time"},
                "recorded_at": {"type": "string", "format": "date-time"},
                "corrects_version": {"type": "integer"},
                "previous": {"type": "object", "additionalProperties": True},
                "previous_display": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
            },
        }
    )
    def get_correction(self, change: Any) -> dict[str, Any] | None:
        correction = change.correction
        if correction is None:
            return None
        previous, previous_display = {}, {}
        for attname, value in correction.previous.items():
            name = attname
            if attname in LINK_SLUG_MAPS and LINK_SLUG_MAPS[attname] in self.context:
                name = attname.removesuffix("_id")
                value = slug_in_context(self.context, LINK_SLUG_MAPS[attname], value)
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            previous[name] = value
            previous_display[name] = correction.previous_display.get(attname, "")
        corrected_on = serializers.DateTimeField().to_representation(
            correction.corrected_on
        )
        return {
            "corrected_on": corrected_on,
            "recorded_at": corrected_on,
            "corrects_version": correction.corrects_revision,
            "previous": previous,
            "previous_display": previous_display,
        }

    def get_author(self, change: Any) -> str | None:
        return change.author if reads_as_staff(self.context) else None

    def get_reason(self, change: Any) -> str | None:
        return selectors.shown_reason(change, staff=reads_as_staff(self.context))


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
        return list(heading.problems) if reads_as_staff(self.context) else []

    def get_reason(self, heading: Any) -> str | None:
        return selectors.shown_reason(heading, staff=reads_as_staff(self.context))

    def get_author(self, heading: Any) -> str | None:
        return heading.author if reads_as_staff(self.context) else None

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
    a reorganization's changes as ``ChangeGroupSerializer``.

    One serializer of each kind serves every entry: a serializer deep-copies its
    fields when it is made, and one made per entry copied them for every entry."""
    change = ChangeSerializer(context=context)
    group = ChangeGroupSerializer(context=context)
    return [
        (
            group if isinstance(entry, selectors.ChangeGroup) else change
        ).to_representation(entry)
        for entry in entries
    ]

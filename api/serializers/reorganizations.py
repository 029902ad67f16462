"""Reorganizations: as read, their preview, and the input of each step."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from api.serializers.changes import ChangeSerializer
from api.serializers.common import reads_as_staff
from api.serializers.inputs import (
    InstantField,
    StrictSerializer,
    reason_visibility_field,
)
from api.serializers.units import TreeNodeSerializer
from units import selectors
from units.models import (
    INTEGER_MAX,
    OperationKind,
    ReasonVisibility,
    ReorganizationStatus,
)
from units.services.reverts import RevertMode


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
        return selectors.shown_reason(
            reorganization, staff=reads_as_staff(self.context)
        )

    def get_author(self, reorganization: Any) -> str | None:
        if not reads_as_staff(self.context):
            return None
        return str(reorganization.author.get_username())

    def get_approver(self, reorganization: Any) -> str | None:
        if not reads_as_staff(self.context) or reorganization.approver is None:
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
    mode = serializers.ChoiceField(
        choices=RevertMode.choices,
        required=False,
        default=RevertMode.UNDO,
        help_text="`undo` (default): the draft takes effect at `effective_at`; the "
        "history keeps the reorganization and shows it undone. `correct`: the draft "
        "takes effect at the reorganization's own time (leave `effective_at` out), "
        "so that, applied, it corrects the record as if the reorganization had never "
        "applied; reads `known_at` an instant before still show it.",
    )


class NoInputSerializer(StrictSerializer):
    """A step that takes no input (submit, approve, cancel)."""

"""What a write recorded: the object written, with the version it made."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers.records import (
    AppointmentSerializer,
    PersonSerializer,
    PostSerializer,
    RelationshipSerializer,
)
from api.serializers.units import UnitDetailSerializer


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

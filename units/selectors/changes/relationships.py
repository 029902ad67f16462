"""The feed's changes of a dotted-line relationship: added, ended, any field."""

from __future__ import annotations

from units.models import UnitRelationship
from units.selectors.changes.entries import (
    FieldsLeft,
    Revision,
    Subject,
    change,
    field_changes,
)
from units.selectors.changes.names import FeedNames
from units.selectors.fields import tracked_fields
from units.selectors.results import Change

RELATIONSHIP_CHANGE_FIELDS = ("id", *tracked_fields(UnitRelationship))


def relationship_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    source = names.units.get(row["source_id"])
    source_name = names.unit_name(row["source_id"])
    target_name = names.unit_name(row["target_id"])
    verb = row["kind"].replace("_", " ")
    line = f"{source_name} {verb} {target_name}"
    subject = Subject(
        "relationship",
        row["id"],
        "",
        line,
        source["slug"] if source else "",
        source["name"] if source else "",
    )
    details = {
        "relationship": row["kind"],
        "source": names.unit_ref(row["source_id"]),
        "target": names.unit_ref(row["target_id"]),
    }
    if previous is None:
        return [
            change(
                "relationship_added",
                row,
                subject,
                summary=f"{source_name} now {verb} {target_name}",
                details=details,
                fields=RELATIONSHIP_CHANGE_FIELDS[1:],
            )
        ]
    left = FieldsLeft(RELATIONSHIP_CHANGE_FIELDS, row, previous)
    changes = []
    if previous["ended_on"] is None and row["ended_on"] is not None:
        changes.append(
            change(
                "relationship_ended",
                row,
                subject,
                summary=f"{source_name} no longer {verb} {target_name}",
                details=details,
                fields=left.take("ended_on"),
            )
        )
    changes += field_changes(
        UnitRelationship,
        names,
        row,
        previous,
        left.names,
        f"the dotted line “{line}”",
        subject,
    )
    return changes

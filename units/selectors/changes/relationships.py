"""The feed's changes of a dotted-line relationship: added, ended, any field."""

from __future__ import annotations

from django.utils.translation import gettext as _

from units.models import RelationshipKind, UnitRelationship
from units.selectors.changes.entries import (
    FieldsLeft,
    Revision,
    change,
    field_changes,
    subject_of,
)
from units.selectors.changes.names import FeedNames
from units.selectors.fields import tracked_fields
from units.selectors.results import Change


def relationship_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    source_name = names.unit_name(row["source_id"])
    target_name = names.unit_name(row["target_id"])
    words = {
        "source": source_name,
        "target": target_name,
        "relationship": str(RelationshipKind(row["kind"]).label)
        if row["kind"] in RelationshipKind.values
        else row["kind"].replace("_", " "),
    }
    line = _("%(source)s %(relationship)s %(target)s") % words
    subject = subject_of(
        UnitRelationship, row, line, unit=names.units.get(row["source_id"])
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
                summary=_("%(source)s now %(relationship)s %(target)s") % words,
                details=details,
                fields=tracked_fields(UnitRelationship),
            )
        ]
    left = FieldsLeft(UnitRelationship, row, previous)
    changes = []
    if previous["ended_on"] is None and row["ended_on"] is not None:
        changes.append(
            change(
                "relationship_ended",
                row,
                subject,
                summary=_("%(source)s no longer %(relationship)s %(target)s") % words,
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
        _("the dotted line “%(line)s”") % {"line": line},
        subject,
    )
    return changes

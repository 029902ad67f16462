"""The feed's changes of a person: recorded, renamed, any other field changed.

A person belongs to no unit: their entries name none (``unit`` is empty); the units
they serve in appear in the entries of their appointments.
"""

from __future__ import annotations

from units.models import Person
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

PERSON_CHANGE_FIELDS = ("id", *tracked_fields(Person))


def person_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    """The changes one person revision records, every changed field in one of them."""
    name = row["full_name"]
    subject = Subject("person", row["id"], row["slug"], name)
    if previous is None:
        return [
            change(
                "person_added",
                row,
                subject,
                summary=f"{name} recorded as a person",
                fields=PERSON_CHANGE_FIELDS[1:],
            )
        ]
    left = FieldsLeft(PERSON_CHANGE_FIELDS, row, previous)
    changes: list[Change] = []
    if previous["full_name"] != name:
        changes.append(
            change(
                "person_renamed",
                row,
                subject,
                summary=f"{previous['full_name']} renamed {name}",
                details={"old_name": previous["full_name"], "new_name": name},
                fields=left.take("full_name"),
            )
        )
    changes += field_changes(Person, names, row, previous, left.names, name, subject)
    return changes

"""The feed's changes of a person: recorded, renamed, any other field changed.

A person belongs to no unit: their entries name none (``unit`` is empty); the units
they serve in appear in the entries of their appointments.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from units.models import Person
from units.selectors.changes.entries import (
    FieldsLeft,
    Revision,
    as_revert,
    change,
    field_changes,
    subject_of,
)
from units.selectors.changes.names import FeedNames
from units.selectors.fields import tracked_fields
from units.selectors.results import Change


def person_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    """The changes one person revision records, every changed field in one of them."""
    name = row["full_name"]
    subject = subject_of(Person, row, name, slug=row["slug"])
    if previous is None:
        return [
            change(
                "person_added",
                row,
                subject,
                summary=_("%(name)s recorded as a person") % {"name": name},
                fields=tracked_fields(Person),
            )
        ]
    left = FieldsLeft(Person, row, previous)
    changes: list[Change] = []
    if previous["full_name"] != name:
        changes.append(
            change(
                "person_renamed",
                row,
                subject,
                summary=_("%(old_name)s renamed %(new_name)s")
                % {"old_name": previous["full_name"], "new_name": name},
                details={"old_name": previous["full_name"], "new_name": name},
                fields=left.take("full_name"),
            )
        )
    changes += field_changes(Person, names, row, previous, left.names, name, subject)
    return as_revert(Person, row, subject, changes)

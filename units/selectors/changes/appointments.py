"""The feed's changes of an appointment: started, ended, any field changed."""

from __future__ import annotations

from units.models import Appointment
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

APPOINTMENT_CHANGE_FIELDS = ("id", *tracked_fields(Appointment))


def appointment_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    post = names.posts.get(row["post_id"])
    unit = names.units.get(post["unit_id"]) if post else None
    details = {
        "person": names.person_name(row["person_id"]),
        "post": post["title"] if post else "",
        "post_slug": post["slug"] if post else "",
        "started_on": row["started_on"],
        "ended_on": row["ended_on"],
    }
    wording = f"the appointment of {details['person']} as {details['post']}"
    subject = Subject(
        "appointment",
        row["id"],
        "",
        f"{details['person']}, {details['post']}",
        unit["slug"] if unit else "",
        unit["name"] if unit else "",
    )
    changes = []
    if previous is None:
        changes.append(
            change(
                "appointment_started",
                row,
                subject,
                summary=f"{details['person']} appointed {details['post']}",
                details=details,
                fields=tuple(
                    name for name in APPOINTMENT_CHANGE_FIELDS[1:] if name != "ended_on"
                ),
            )
        )
    left = FieldsLeft(APPOINTMENT_CHANGE_FIELDS, row, previous or row)
    if row["ended_on"] is not None and (
        previous is None or previous["ended_on"] is None
    ):
        left.take("ended_on")
        changes.append(
            change(
                "appointment_ended",
                row,
                subject,
                summary=f"{details['person']} no longer {details['post']}",
                details=details,
                fields=("ended_on",),
            )
        )
    if previous is not None:
        changes += field_changes(
            Appointment, names, row, previous, left.names, wording, subject
        )
    return changes

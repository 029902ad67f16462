"""The feed's changes of an appointment: started, ended, any field changed."""

from __future__ import annotations

from django.utils.translation import gettext as _

from units.models import Appointment
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


def appointment_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    post = names.posts.get(row["post_id"])
    unit = names.units.get(post["unit_id"]) if post else None
    details = {
        "person": names.person_name(row["person_id"], row["history_date"]),
        "post": post["title"] if post else "",
        "post_slug": post["slug"] if post else "",
        "started_on": row["started_on"],
        "ended_on": row["ended_on"],
    }
    wording = _("the appointment of %(person)s as %(post)s") % details
    subject = subject_of(
        Appointment, row, f"{details['person']}, {details['post']}", unit=unit
    )
    changes = []
    if previous is None:
        changes.append(
            change(
                "appointment_started",
                row,
                subject,
                summary=_("%(person)s appointed %(post)s") % details,
                details=details,
                fields=tuple(
                    name for name in tracked_fields(Appointment) if name != "ended_on"
                ),
            )
        )
    left = FieldsLeft(Appointment, row, previous or row)
    if row["ended_on"] is not None and (
        previous is None or previous["ended_on"] is None
    ):
        left.take("ended_on")
        changes.append(
            change(
                "appointment_ended",
                row,
                subject,
                summary=_("%(person)s no longer %(post)s") % details,
                details=details,
                fields=("ended_on",),
            )
        )
    if previous is not None:
        changes += field_changes(
            Appointment, names, row, previous, left.names, wording, subject
        )
    return changes

"""The feed's change of a lineage link: recorded (links are never changed after)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from units.models import ClosureReason, UnitSuccession
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

# How a link reads, predecessor first: "Department A merged into Department C".
# Lazy: read in the reader's language where a link is worded.
LINK_VERBS = {
    ClosureReason.MERGED: gettext_lazy("merged into"),
    ClosureReason.SPLIT: gettext_lazy("split into"),
    ClosureReason.REPLACED: gettext_lazy("replaced by"),
    ClosureReason.ABSORBED: gettext_lazy("absorbed into"),
    ClosureReason.CHANGED_NAME: gettext_lazy("renamed; continued as"),
}


def lineage_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    before = names.unit_name(row["predecessor_id"])
    after = names.unit_name(row["successor_id"])
    verb = LINK_VERBS.get(row["closure_reason"], row["closure_reason"])
    line = _("%(predecessor)s %(link)s %(successor)s") % {
        "predecessor": before,
        "link": verb,
        "successor": after,
    }
    # The link belongs to the unit that carries the work on: the successor.
    subject = subject_of(
        UnitSuccession, row, line, unit=names.units.get(row["successor_id"])
    )
    details = {
        "closure_reason": row["closure_reason"],
        "predecessor": names.unit_ref(row["predecessor_id"]),
        "successor": names.unit_ref(row["successor_id"]),
        "effective_on": row["effective_on"],
    }
    if previous is None:
        return [
            change(
                "lineage_recorded",
                row,
                subject,
                summary=line,
                details=details,
                fields=tracked_fields(UnitSuccession),
            )
        ]
    # Links are written once; a later revision (a restored backup, a script) still
    # shows each field it changed.
    left = FieldsLeft(UnitSuccession, row, previous)
    return field_changes(
        UnitSuccession,
        names,
        row,
        previous,
        left.names,
        _("the lineage link “%(line)s”") % {"line": line},
        subject,
    )

"""The feed's changes of a unit: established, abolished, moved, renamed, and so on."""

from __future__ import annotations

from units.models import OrganizationalUnit
from units.selectors.changes.entries import (
    FieldsLeft,
    Revision,
    abolition,
    as_revert,
    change,
    field_changes,
    subject_of,
)
from units.selectors.changes.names import FeedNames
from units.selectors.fields import tracked_fields
from units.selectors.results import Change


def unit_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    """The changes one unit revision records, every changed field in one of them."""
    subject = subject_of(
        OrganizationalUnit, row, row["name"], slug=row["slug"], unit=row
    )
    if previous is None:
        return [
            change(
                "added",
                row,
                subject,
                summary=f"{row['name']} established under "
                f"{names.unit_name(row['parent_id'])}",
                details={"parent": names.unit_ref(row["parent_id"])},
                fields=tracked_fields(OrganizationalUnit),
            )
        ]
    left = FieldsLeft(OrganizationalUnit, row, previous)
    changes: list[Change] = []
    if verb := abolition(row, previous):
        changes.append(
            change(
                verb,
                row,
                subject,
                summary=f"{row['name']} {verb}",
                fields=left.take("abolished_on"),
            )
        )
    if previous["parent_id"] != row["parent_id"]:
        changes.append(
            change(
                "moved",
                row,
                subject,
                summary=(
                    f"{row['name']} moved from {names.unit_name(previous['parent_id'])} "
                    f"to {names.unit_name(row['parent_id'])}"
                ),
                details={
                    "from": names.unit_ref(previous["parent_id"]),
                    "to": names.unit_ref(row["parent_id"]),
                },
                # Its place among its new siblings comes with the move.
                fields=left.take("parent_id", "sibling_order"),
            )
        )
    if previous["name"] != row["name"] or previous["short_name"] != row["short_name"]:
        if previous["name"] != row["name"]:
            summary = f"{previous['name']} renamed {row['name']}"
        else:
            summary = (
                f"Acronym of {row['name']} changed from "
                f"{previous['short_name'] or '(none)'} to {row['short_name'] or '(none)'}"
            )
        changes.append(
            change(
                "renamed",
                row,
                subject,
                summary=summary,
                details={
                    "old_name": previous["name"],
                    "new_name": row["name"],
                    "old_short_name": previous["short_name"],
                    "new_short_name": row["short_name"],
                },
                fields=left.take("name", "short_name"),
            )
        )
    if previous["mandate"] != row["mandate"]:
        changes.append(
            change(
                "mandate_changed",
                row,
                subject,
                summary=f"Mandate of {row['name']} changed",
                details={
                    "old_mandate": previous["mandate"],
                    "new_mandate": row["mandate"],
                },
                fields=left.take("mandate"),
            )
        )
    if previous["reporting_line"] != row["reporting_line"]:
        old, new = (
            names.shown(OrganizationalUnit, "reporting_line", state["reporting_line"])
            for state in (previous, row)
        )
        changes.append(
            change(
                "reporting_line_changed",
                row,
                subject,
                summary=f"Reporting line of {row['name']} changed from {old} to {new}",
                details={
                    "old": previous["reporting_line"],
                    "new": row["reporting_line"],
                },
                fields=left.take("reporting_line"),
            )
        )
    if "sibling_order" in left.names:
        changes.append(
            change(
                "reordered",
                row,
                subject,
                summary=f"{row['name']} reordered among the sub-units of "
                f"{names.unit_name(row['parent_id'])}",
                details={
                    "parent": names.unit_ref(row["parent_id"]),
                    "old_order": previous["sibling_order"],
                    "new_order": row["sibling_order"],
                },
                fields=left.take("sibling_order"),
            )
        )
    changes += field_changes(
        OrganizationalUnit, names, row, previous, left.names, row["name"], subject
    )
    return as_revert(OrganizationalUnit, row, subject, changes)

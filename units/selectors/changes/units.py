"""The feed's changes of a unit: established, abolished, moved, renamed, and so on."""

from __future__ import annotations

from django.utils.translation import gettext as _

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
from units.selectors.languages import localized
from units.selectors.results import Change


def unit_changes(
    row: Revision, previous: Revision | None, names: FeedNames
) -> list[Change]:
    """The changes one unit revision records, every changed field in one of them.

    The unit is named as this revision recorded it, in the reader's language; a
    change of the English name quotes the English names it changed.
    """
    name = localized(row, "name")[0]
    subject = subject_of(
        OrganizationalUnit,
        row,
        name,
        slug=row["slug"],
        unit={"slug": row["slug"], "name": name},
    )
    if previous is None:
        return [
            change(
                "added",
                row,
                subject,
                summary=_("%(unit)s established under %(parent)s")
                % {"unit": name, "parent": names.unit_name(row["parent_id"])},
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
                summary=(
                    _("%(unit)s abolished")
                    if verb == "abolished"
                    else _("%(unit)s reinstated")
                )
                % {"unit": name},
                fields=left.take("abolished_on"),
            )
        )
    if previous["parent_id"] != row["parent_id"]:
        changes.append(
            change(
                "moved",
                row,
                subject,
                summary=_("%(unit)s moved from %(old_parent)s to %(new_parent)s")
                % {
                    "unit": name,
                    "old_parent": names.unit_name(previous["parent_id"]),
                    "new_parent": names.unit_name(row["parent_id"]),
                },
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
            summary = _("%(old_name)s renamed %(new_name)s") % {
                "old_name": previous["name"],
                "new_name": row["name"],
            }
        else:
            summary = _("Acronym of %(unit)s changed from %(old)s to %(new)s") % {
                "unit": name,
                "old": previous["short_name"] or _("(none)"),
                "new": row["short_name"] or _("(none)"),
            }
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
                summary=_("Mandate of %(unit)s changed") % {"unit": name},
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
                summary=_("Reporting line of %(unit)s changed from %(old)s to %(new)s")
                % {"unit": name, "old": old, "new": new},
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
                summary=_("%(unit)s reordered among the sub-units of %(parent)s")
                % {"unit": name, "parent": names.unit_name(row["parent_id"])},
                details={
                    "parent": names.unit_ref(row["parent_id"]),
                    "old_order": previous["sibling_order"],
                    "new_order": row["sibling_order"],
                },
                fields=left.take("sibling_order"),
            )
        )
    changes += field_changes(
        OrganizationalUnit, names, row, previous, left.names, name, subject
    )
    return as_revert(OrganizationalUnit, row, subject, changes)

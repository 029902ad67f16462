"""The history of one object: its versions, each with its field-level changes."""

from __future__ import annotations

from typing import Any

from units.models import (
    OrganizationalUnit,
)
from units.selectors.fields import UNIT_HISTORY_FIELDS
from units.selectors.results import FieldChange, UnitRevision


def _display(field_name: str, value: Any, unit_names: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field_name == "parent_id":
        return unit_names.get(value, f"unit {value}")
    model_field = OrganizationalUnit._meta.get_field(
        "parent" if field_name == "parent_id" else field_name
    )
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def _label(field_name: str) -> str:
    name = "parent" if field_name == "parent_id" else field_name
    return str(OrganizationalUnit._meta.get_field(name).verbose_name)


def unit_history(unit: OrganizationalUnit | int) -> list[UnitRevision]:
    """A unit's versions, newest first, each with field-level differences (2 queries)."""
    unit_id = getattr(unit, "pk", unit)
    rows = list(
        OrganizationalUnit.history.filter(id=unit_id)
        .order_by("history_date", "history_id")
        .values(
            "history_id",
            "history_date",
            "recorded_at",
            "history_type",
            "history_change_reason",
            "history_user__username",
            *UNIT_HISTORY_FIELDS,
        )
    )
    parent_ids = {row["parent_id"] for row in rows if row["parent_id"]}
    unit_names = dict(
        OrganizationalUnit.objects.filter(pk__in=parent_ids).values_list("id", "name")
    )
    revisions = []
    previous: dict[str, Any] | None = None
    for row in rows:
        changes = []
        for field_name in UNIT_HISTORY_FIELDS:
            old = previous[field_name] if previous else None
            new = row[field_name]
            if previous is None and new in (None, ""):
                continue
            if old != new:
                changes.append(
                    FieldChange(
                        field=field_name,
                        label=_label(field_name),
                        old=old,
                        new=new,
                        old_display=_display(field_name, old, unit_names),
                        new_display=_display(field_name, new, unit_names),
                    )
                )
        revisions.append(
            UnitRevision(
                history_id=row["history_id"],
                effective_at=row["history_date"],
                recorded_at=row["recorded_at"],
                author=row["history_user__username"],
                reason=row["history_change_reason"] or "",
                history_type=row["history_type"],
                changes=changes,
            )
        )
        previous = row
    revisions.reverse()
    return revisions

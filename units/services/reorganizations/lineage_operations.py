"""Applying merge, split, replace and absorb: the unit services, then the lineage.

Each operation, in the reorganization's transaction:

1. establishes the successors its "establish" lists (``unit_create``);
2. closes each predecessor (``unit_abolish`` with a destination for each active
   sub-unit: as "sub_units" says, else the first successor; a sub-unit that is itself
   a successor first takes the predecessor's place under its parent);
3. records the lineage links (``lineage_record``), with the closure reason of the kind.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from django.core.exceptions import ValidationError

from units.models import ClosureReason, OperationKind, OrganizationalUnit
from units.services.abolitions import unit_abolish
from units.services.lineage import lineage_record
from units.services.refusals import Refusal
from units.services.reorganizations.payloads import lineage_slugs
from units.services.revisions import Write
from units.services.units import unit_create, unit_move


def _unit(slug: str) -> OrganizationalUnit:
    found = OrganizationalUnit.objects.filter(slug=slug).first()
    if found is None:
        raise ValidationError(
            f"No organizational unit has the slug “{slug}”.", code=Refusal.NOT_FOUND
        )
    return found


def _close(
    predecessor: OrganizationalUnit,
    successors: list[OrganizationalUnit],
    sub_units: dict[str, str | None],
    write: Write,
) -> None:
    """Abolish ``predecessor``, each active sub-unit going where the payload says."""
    children = list(
        OrganizationalUnit.objects.filter(parent=predecessor).active().order_by("pk")
    )
    by_slug = {child.slug: child for child in children}
    strangers = sorted(set(sub_units) - set(by_slug))
    if strangers:
        raise ValidationError(
            f"“{strangers[0]}” is not an active sub-unit of “{predecessor}”.",
            code=Refusal.INVALID,
        )
    successor_ids = {unit.pk for unit in successors}
    destinations: dict[int, OrganizationalUnit | int | None] = {}
    for child in children:
        if child.slug in sub_units:
            target = sub_units[child.slug]
            destinations[child.pk] = None if target is None else _unit(target)
        elif child.pk in successor_ids:
            # A successor inside the closing unit takes its place in the tree.
            unit_move(unit=child, new_parent=predecessor.parent_id, **write.keywords())
        else:
            destinations[child.pk] = successors[0]
    unit_abolish(
        unit=predecessor, sub_unit_destinations=destinations, **write.keywords()
    )


def _apply_lineage(
    kind: str, closure_reason: str, payload: dict[str, Any], write: Write
) -> None:
    before, after = lineage_slugs(kind, payload)
    for spec in payload.get("establish", []):
        fields = {key: value for key, value in spec.items() if key != "parent"}
        parent = spec.get("parent")
        unit_create(
            parent=None if parent is None else _unit(parent),
            **write.keywords(),
            **fields,
        )
    successors = [_unit(slug) for slug in after]
    predecessors = [_unit(slug) for slug in before]
    for unit in successors:
        if not unit.is_active:
            raise ValidationError(
                f"“{unit}” is abolished; it cannot take over another unit's work.",
                code=Refusal.PARENT_ABOLISHED,
            )
    for predecessor in predecessors:
        _close(
            OrganizationalUnit.objects.get(pk=predecessor.pk),
            successors,
            payload.get("sub_units", {}),
            write,
        )
    lineage_record(
        predecessors=predecessors,
        successors=successors,
        closure_reason=closure_reason,
        **write.keywords(),
    )


def _merge(payload: dict[str, Any], write: Write) -> None:
    _apply_lineage(OperationKind.MERGE_UNITS, ClosureReason.MERGED, payload, write)


def _split(payload: dict[str, Any], write: Write) -> None:
    _apply_lineage(OperationKind.SPLIT_UNIT, ClosureReason.SPLIT, payload, write)


def _replace(payload: dict[str, Any], write: Write) -> None:
    reason = payload.get("closure_reason", ClosureReason.REPLACED)
    _apply_lineage(OperationKind.REPLACE_UNIT, reason, payload, write)


def _absorb(payload: dict[str, Any], write: Write) -> None:
    _apply_lineage(OperationKind.ABSORB_UNIT, ClosureReason.ABSORBED, payload, write)


def _slugs_named(value: Any) -> set[str]:
    """Every text in a payload, at any depth (slugs among them)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_slugs_named(item) for item in (*value, *value.values())))
    if isinstance(value, list):
        return set().union(*(_slugs_named(item) for item in value))
    return set()


def closed_units(kind: str, payload: dict[str, Any]) -> list[str]:
    """The slugs of the units an operation closes (abolishes)."""
    if kind in LINEAGE_APPLY:
        return lineage_slugs(kind, payload)[0]
    if kind == OperationKind.ABOLISH_UNIT and isinstance(payload.get("unit"), str):
        return [payload["unit"]]
    return []


def conflict_note(
    operations: list[tuple[str, dict[str, Any]]],
    index: int,
    refused: Collection[int] = (),
) -> str:
    """Which earlier operation closes a unit the refused operation ``index`` names:
    "(Operation 1 closes “dept-a”.)", or nothing. Operations ``refused`` themselves
    closed nothing; a reinstatement names a closed unit on purpose."""
    kind, payload = operations[index]
    if kind == OperationKind.REINSTATE_UNIT:
        return ""
    named = _slugs_named(payload)
    for earlier, (earlier_kind, earlier_payload) in enumerate(operations[:index]):
        if earlier in refused:
            continue
        try:
            closed = closed_units(earlier_kind, earlier_payload)
        except (KeyError, TypeError):
            continue
        both = [slug for slug in closed if slug in named]
        if both:
            return f"(Operation {earlier + 1} closes “{both[0]}”.)"
    return ""


LINEAGE_APPLY: dict[str, Callable[[dict[str, Any], Write], None]] = {
    OperationKind.MERGE_UNITS: _merge,
    OperationKind.SPLIT_UNIT: _split,
    OperationKind.REPLACE_UNIT: _replace,
    OperationKind.ABSORB_UNIT: _absorb,
}

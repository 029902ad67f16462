"""Lineage: which units took over the work of a unit that closed, and why.

``lineage_record`` writes the links of one event (a merge, split, replacement or
absorption): one ``UnitSuccession`` per predecessor and successor, each one revision,
never changed or deleted afterwards. It validates as GOV.UK's organisations register
does: a closure reason from the fixed list, successors where the reason needs them
(here: always, and as many as the reason says), each existing and active at the
effective time, no unit succeeding itself, no cycle in the lineage.

The restructuring itself (establishing the successors, abolishing the predecessors
and placing their sub-units) is done by the unit services; the reorganization
operations (``reorganizations.lineage_operations``) call both in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from units.dates import day_text
from units.models import ClosureReason, OrganizationalUnit, UnitSuccession
from units.services.refusals import Refusal
from units.services.revisions import (
    Actor,
    EffectiveTime,
    begin_write,
    check_effective_time,
    check_recorded_by,
    fresh,
    save_revision,
)

# How many predecessors and successors each reason takes: (fewest, most; None: any).
REASON_COUNTS: dict[str, tuple[tuple[int, int | None], tuple[int, int | None]]] = {
    ClosureReason.MERGED: ((1, None), (1, 1)),
    ClosureReason.SPLIT: ((1, 1), (2, None)),
    ClosureReason.REPLACED: ((1, 1), (1, 1)),
    ClosureReason.ABSORBED: ((1, 1), (1, 1)),
    ClosureReason.CHANGED_NAME: ((1, 1), (1, 1)),
}


def _count_problem(role: str, count: int, bounds: tuple[int, int | None]) -> str | None:
    fewest, most = bounds
    if count < fewest:
        return f"needs at least {fewest} {role}"
    if most is not None and count > most:
        return f"takes {'exactly' if fewest == most else 'at most'} {most} {role}"
    return None


def check_lineage_counts(
    closure_reason: str, predecessors: int, successors: int
) -> None:
    """Refuse an event whose numbers of units do not fit its closure reason."""
    if closure_reason not in REASON_COUNTS:
        raise ValidationError(
            f"“{closure_reason}” is not a closure reason: use one of "
            f"{', '.join(ClosureReason.values)}.",
            code=Refusal.INVALID,
        )
    before, after = REASON_COUNTS[closure_reason]
    problems = [
        problem
        for problem in (
            _count_problem("predecessor(s)", predecessors, before),
            _count_problem("successor(s)", successors, after),
        )
        if problem
    ]
    if problems:
        label = ClosureReason(closure_reason).label
        raise ValidationError(
            f"A closure “{label}” {' and '.join(problems)}.",
            code=Refusal.SUCCESSOR_REQUIRED,
        )


def _descendants_in_lineage(start: set[int]) -> set[int]:
    """Every unit that succeeds one of ``start``, directly or through others."""
    seen: set[int] = set()
    frontier = set(start)
    while frontier:
        found = set(
            UnitSuccession.objects.filter(predecessor_id__in=frontier).values_list(
                "successor_id", flat=True
            )
        )
        frontier = found - seen
        seen |= found
    return seen


@transaction.atomic
def lineage_record(
    *,
    predecessors: Sequence[OrganizationalUnit | int],
    successors: Sequence[OrganizationalUnit | int],
    closure_reason: str,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
) -> list[UnitSuccession]:
    """Record that ``successors`` took over the work of ``predecessors``.

    Each predecessor must be closed (abolished) by the effective day, each successor
    active then; a unit is never its own successor and the lineage never loops back.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    check_effective_time(None, write.effective_at)
    check_lineage_counts(closure_reason, len(predecessors), len(successors))
    before = [fresh(OrganizationalUnit, unit) for unit in predecessors]
    after = [fresh(OrganizationalUnit, unit) for unit in successors]
    before_ids = {unit.pk for unit in before}
    after_ids = {unit.pk for unit in after}
    if len(before_ids) < len(before) or len(after_ids) < len(after):
        raise ValidationError(
            "A unit is named twice among the predecessors or the successors.",
            code=Refusal.INVALID,
        )
    both = before_ids & after_ids
    if both:
        unit = next(unit for unit in before if unit.pk in both)
        raise ValidationError(
            f"“{unit}” cannot succeed itself.", code=Refusal.SELF_SUCCESSION
        )
    day = write.effective_at.date()
    for unit in before:
        if unit.abolished_on is None or unit.abolished_on > day:
            raise ValidationError(
                f"“{unit}” is not closed on {day_text(day)}: abolish it (in the same "
                "reorganization) before naming its successors.",
                code=Refusal.PREDECESSOR_ACTIVE,
            )
        check_recorded_by(unit, write.effective_at, code=Refusal.NOT_YET_ESTABLISHED)
    for unit in after:
        if not unit.is_active:
            raise ValidationError(
                f"“{unit}” was abolished on {day_text(unit.abolished_on)}; an "
                "abolished unit cannot be a successor.",
                code=Refusal.PARENT_ABOLISHED,
            )
        check_recorded_by(
            unit, write.effective_at, code=Refusal.PARENT_NOT_YET_ESTABLISHED
        )
    looping = _descendants_in_lineage(after_ids) & before_ids
    if looping:
        unit = next(unit for unit in before if unit.pk in looping)
        raise ValidationError(
            f"“{unit}” already succeeds one of these successors: the lineage would "
            "loop back on itself.",
            code=Refusal.LINEAGE_CYCLE,
        )
    if UnitSuccession.objects.filter(
        predecessor_id__in=before_ids, successor_id__in=after_ids
    ).exists():
        raise ValidationError(
            "One of these units is already recorded as a successor of another.",
            code=Refusal.DUPLICATE_SUCCESSION,
        )
    event = uuid.uuid4()
    links = []
    for predecessor in before:
        for successor in after:
            link = UnitSuccession(
                predecessor=predecessor,
                successor=successor,
                closure_reason=closure_reason,
                effective_on=day,
                event=event,
            )
            save_revision(link, write, is_new=True)
            links.append(link)
    return links

"""Whether the read being answered shows the registry as planned, and by which plans.

A read as of a future instant runs inside ``registry_as_planned`` (the services'
reorganizations package): the approved reorganizations due by then are applied in a
transaction that is rolled back once the read is answered. While it runs, this module
says so (``current_plan``), so the read can mark its answer as planned (API fields, the
pages' banner, the chart's title) and no cache keeps an answer built from rows that
are about to disappear.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from units.models import Reorganization
from units.selectors.audience import shown_reason


@dataclass(frozen=True)
class Plan:
    """The instant a planned read shows, and the reorganizations applied for it."""

    until: datetime.datetime
    reorganizations: list[Reorganization] = field(default_factory=list)
    # A draft or submitted reorganization shown on top of them (a preview): what
    # stands in its way (nothing shown of it then), and the freshness stamp before it.
    previewed: Reorganization | None = None
    preview_problems: list[dict[str, Any]] = field(default_factory=list)
    preview_stamp: tuple[int, ...] | None = None


_plan: ContextVar[Plan | None] = ContextVar("planned_registry", default=None)


def current_plan() -> Plan | None:
    """The plan the registry is read under, or None for the registry as recorded."""
    return _plan.get()


@contextlib.contextmanager
def reading_plan(plan: Plan) -> Iterator[Plan]:
    token = _plan.set(plan)
    try:
        yield plan
    finally:
        _plan.reset(token)


def plan_summary(plan: Plan, *, staff: bool) -> dict[str, Any]:
    """What an answer says of the plan it shows: the reorganizations applied in it,
    each reason as ``audience`` lets this reader read it (authors to nobody here)."""
    applied = list(plan.reorganizations)
    if plan.previewed is not None and not plan.preview_problems:
        applied.append(plan.previewed)
    return {
        "planned": True,
        "planned_until": plan.until.isoformat().replace("+00:00", "Z"),
        "planned_reorganizations": [
            {
                "id": reorganization.pk,
                "title": reorganization.title,
                "reference": reorganization.reference,
                "effective_at": reorganization.effective_at.isoformat().replace(
                    "+00:00", "Z"
                ),
                "status": reorganization.status,
                "reason": shown_reason(reorganization, staff=staff),
                "reason_visibility": reorganization.reason_visibility,
            }
            for reorganization in applied
        ],
    }

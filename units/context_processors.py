"""What every page's template may read besides its own context."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from units.selectors.planned import current_plan


def planned(request: HttpRequest) -> dict[str, Any]:
    """``plan``: the scheduled reorganizations the page shows applied (None: the
    registry as recorded); the banner in ``base.html`` says so."""
    return {"plan": current_plan()}

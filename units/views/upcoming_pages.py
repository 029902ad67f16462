"""The upcoming page: reorganizations scheduled to take effect, and the latest applied."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from units import selectors
from units.selectors.reorganizations import (
    operations_in_words,
    recently_applied_reorganizations,
    upcoming_reorganizations,
)
from units.views.base import AsOf, _page

# Applied reorganizations listed below the scheduled ones.
RECENTLY_APPLIED = 10


@require_safe
def upcoming(request: HttpRequest) -> HttpResponse:
    """Approved reorganizations waiting for their date (each linking to the structure
    and chart as planned on that date), then the last applied; a fixed number of
    queries however many operations they hold. Reasons as ``audience`` allows."""
    scheduled = list(upcoming_reorganizations(timezone.now()))
    applied = list(recently_applied_reorganizations(RECENTLY_APPLIED))
    words = operations_in_words([*scheduled, *applied])
    staff = selectors.may_see_staff_identities(request.user)

    def rows(reorganizations: list) -> list[dict]:
        return [
            {
                "reorganization": reorganization,
                "as_of": reorganization.effective_at.isoformat().replace("+00:00", "Z"),
                "reason": selectors.shown_reason(reorganization, staff=staff),
                "operations": words[reorganization.pk],
            }
            for reorganization in reorganizations
        ]

    return _page(
        request,
        "units/upcoming.html",
        AsOf(),
        {"scheduled": rows(scheduled), "applied": rows(applied)},
    )

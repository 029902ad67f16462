"""Filters of the registry's admin pages."""

from __future__ import annotations

import datetime

from django import template

from units.selectors.instants import moment_text

register = template.Library()


@register.filter
def effective(moment: datetime.datetime | None) -> str:
    """An effective time, without "00:00" when the change is dated by day."""
    return "" if moment is None else moment_text(moment)

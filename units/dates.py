"""Dates and times as people read them, in the language's formats.

Every page, admin screen, chart title and message that writes a date for a person goes
through here (or the ``when`` template filter, which calls it), so a date reads the
same everywhere: ``DATE_FORMAT`` and ``DATETIME_FORMAT`` of ``orgregistry/formats``.
Machine formats stay ISO 8601 and do not come here.
"""

from __future__ import annotations

import datetime

from django.utils import formats, timezone


def day_text(day: datetime.date | None) -> str:
    """A day: "1 January 2024" (empty for no day)."""
    return "" if day is None else formats.date_format(day, "DATE_FORMAT")


def moment_text(moment: datetime.datetime | datetime.date) -> str:
    """A date or a time, with the time only where one was given.

    Changes dated by day (an appointment's first day, a backdated abolition) take
    effect at midnight; "1 January 2024, 00:00 UTC" would suggest a time nobody gave.
    """
    if not isinstance(moment, datetime.datetime):
        return day_text(moment)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    # Midnight: a change dated by day; the last instant of a day: "as of" that day.
    if moment.time() in (datetime.time.min, datetime.time.max):
        return day_text(moment.date())
    return formats.date_format(moment, "DATETIME_FORMAT")


def exact_moment_text(moment: datetime.datetime) -> str:
    """A time written in full even at midnight (when the time itself matters)."""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "DATETIME_FORMAT")

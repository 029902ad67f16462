"""Instants: reading ``as_of``/``since``/``until`` values, and the registry's clock."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from units.models import (
    OrganizationalUnit,
    RegistryState,
)

# "Now" for history reads: later than any effective time the services accept.
LATEST = datetime.datetime.max.replace(tzinfo=datetime.UTC) - datetime.timedelta(days=1)


def moment_text(moment: datetime.datetime) -> str:
    """An effective time as people read it: a day alone when a day is meant.

    Changes dated by day (an appointment's first day, a backdated abolition) take
    effect at midnight UTC; "2024-01-01 00:00 UTC" would suggest a time nobody gave.
    """
    moment = moment.astimezone(datetime.UTC)
    if moment.time() == datetime.time.min:
        return f"{moment:%Y-%m-%d}"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


class InvalidInstant(ValueError):
    """A malformed ``as_of``/``since``/``until`` value; the message says what is wrong."""


def parse_instant(value: str, *, parameter: str = "as_of") -> datetime.datetime:
    """Read an ISO 8601 date or date-time.

    A date means the end of that day (UTC): "as of 2024-03-01" includes every change
    that took effect on that day. A date-time without offset is taken as UTC.
    """
    value = (value or "").strip()
    try:
        # parse_datetime also accepts a bare date (as midnight); read dates first.
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError as error:
        raise InvalidInstant(
            f"{parameter}: “{value}” is not a valid date ({error})."
        ) from None
    if day is not None:
        moment = datetime.datetime.combine(day, datetime.time.max, tzinfo=datetime.UTC)
    elif moment is None:
        raise InvalidInstant(
            f"{parameter}: “{value}” is not an ISO 8601 date or date-time "
            "(for example 2024-03-01 or 2024-03-01T12:00:00Z)."
        )
    elif timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    try:
        # "0001-01-01T00:00+14:00" is valid ISO 8601 but lies before year 1 in UTC;
        # the database adapter would overflow on it.
        return moment.astimezone(datetime.UTC)
    except OverflowError:
        raise InvalidInstant(
            f"{parameter}: “{value}” lies outside the years 1 to 9999 in UTC."
        ) from None


def first_recorded_instant() -> datetime.datetime | None:
    """The effective time of the earliest change in the registry."""
    return (
        OrganizationalUnit.history.order_by("history_date")
        .values_list("history_date", flat=True)
        .first()
    )


def registry_generation() -> int:
    """A number that changes with every committed write (for ETags and cache keys)."""
    return (
        RegistryState.objects.filter(pk=1).values_list("generation", flat=True).first()
        or 0
    )

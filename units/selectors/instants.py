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


def parse_window_start(value: str, *, parameter: str = "since") -> datetime.datetime:
    """Read where a window of changes starts, as the exclusive instant before it.

    Change windows are (since, until]. A date means that whole day is in: the window
    opens at the end of the day before, so "from 2024-03-01 to 2024-03-01" holds every
    change that took effect on 1 March (UTC). A date-time is the instant itself, and a
    change at exactly that instant is out (it was in the window that ended there).
    """
    moment = parse_instant(value, parameter=parameter)
    if parse_date((value or "").strip()) is None:
        return moment
    day_start = datetime.datetime.combine(
        moment.date(), datetime.time.min, tzinfo=datetime.UTC
    )
    if day_start.date() == datetime.date.min:
        # Nothing lies before year 1; the services record nothing that early either.
        return day_start
    return day_start - datetime.timedelta(microseconds=1)


def window_starts_a_day(since: datetime.datetime) -> bool:
    """Whether the window opening after ``since`` starts a day: (since, ...] holds
    that day whole, as a date given to ``parse_window_start`` does."""
    return (since + datetime.timedelta(microseconds=1)).time() == datetime.time.min


def window_ends_a_day(until: datetime.datetime) -> bool:
    """Whether a window closing at ``until`` (inclusive) holds its whole last day."""
    return until.time() == datetime.time.max


def change_window(
    since: str | None,
    until: str | None,
    *,
    default_since: datetime.datetime,
    default_until: datetime.datetime,
    since_parameter: str = "since",
    until_parameter: str = "until",
) -> tuple[datetime.datetime, datetime.datetime]:
    """The (since, until] window of a request for changes; dates are whole days.

    ``since`` reads as ``parse_window_start`` does, ``until`` as ``parse_instant``:
    "since 2024-03-01 until 2024-03-02" holds both days. Either may be None for its
    default. InvalidInstant names the parameter at fault.
    """
    start = (
        default_since
        if since is None
        else parse_window_start(since, parameter=since_parameter)
    )
    end = (
        default_until
        if until is None
        else parse_instant(until, parameter=until_parameter)
    )
    # A day given as ``since`` starts just after ``start``: an end at ``start`` lies
    # before that day.
    since_is_day = since is not None and parse_date(since.strip()) is not None
    if end < start or (since_is_day and end == start):
        raise InvalidInstant(
            f"{until_parameter} must not be earlier than {since_parameter}."
        )
    return start, end


def first_recorded_instant() -> datetime.datetime | None:
    """The effective time of the earliest change in the registry."""
    return (
        OrganizationalUnit.history.order_by("history_date")
        .values_list("history_date", flat=True)
        .first()
    )


def first_recorded_at() -> datetime.datetime | None:
    """When the registry's first change was recorded: no ``known_at`` lies before it.

    Units come first (a post, a dotted line or an appointment belongs to one).
    """
    return (
        OrganizationalUnit.history.order_by("recorded_at")
        .values_list("recorded_at", flat=True)
        .first()
    )


def registry_generation() -> int:
    """A number that changes with every committed write (for ETags and cache keys)."""
    return (
        RegistryState.objects.filter(pk=1).values_list("generation", flat=True).first()
        or 0
    )

"""The one filter that writes a date or a time for people, on pages and in the admin."""

from __future__ import annotations

import datetime

from django import template

from units.dates import moment_text

register = template.Library()


@register.filter
def when(moment: datetime.datetime | datetime.date | str | None) -> str:
    """A date, or a date and time ("00:00" left out when only a day was given).

    An ISO 8601 text (a change's details, as the API gives them) is read first.
    """
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
    return moment_text(moment)

"""What every public page shares: the as-of date it shows, the page frame, paging."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orgregistry.known_at import request_known_at
from units import selectors
from units.dates import day_text, exact_moment_text
from units.models import UnitKind
from units.selectors import (
    InvalidInstant,
    first_recorded_instant,
    parse_instant,
)


def kind_labels() -> dict[str, str]:
    """Each kind of unit's name in the active language (read per request: a
    module-level dict would keep the language active at import)."""
    return {value: str(label) for value, label in UnitKind.choices}


MAX_QUERY_LENGTH = 200


@dataclass(slots=True)
class AsOf:
    """The date a page shows: ``when`` is None for "now"; ``error`` explains a bad input."""

    raw: str = ""
    when: datetime.datetime | None = None
    error: str = ""
    # What is wrong with ``raw``, without what the page does about it.
    problem: str = ""
    # ``known_at``: the page shows what the registry had recorded by then (None: now).
    known_raw: str = ""
    known_at: datetime.datetime | None = None

    @property
    def known_label(self) -> str:
        """The ``known_at`` instant as the banner says it ("1 June 2024")."""
        if self.known_at is None:
            return ""
        if self.known_at.time() == datetime.time.max:
            return day_text(self.known_at.date())
        return exact_moment_text(self.known_at)

    @property
    def known_input_value(self) -> str:
        """What the "as recorded on" control shows: the date, or empty for now."""
        return self.known_at.date().isoformat() if self.known_at else ""

    @property
    def is_dated(self) -> bool:
        """Whether the page shows anything but the registry as it stands today."""
        return self.when is not None or self.known_at is not None

    @property
    def is_past(self) -> bool:
        return self.when is not None

    @property
    def is_future(self) -> bool:
        """A date after now: the page shows the structure as planned."""
        return self.when is not None and self.when > timezone.now()

    @property
    def day(self) -> datetime.date | None:
        return self.when.date() if self.when else None

    @property
    def label(self) -> str:
        if self.when is None:
            return ""
        if self.when.time() == datetime.time.max:
            return day_text(self.when.date())
        return exact_moment_text(self.when)

    @property
    def input_value(self) -> str:
        """What the date control shows: the date asked for, or empty for today."""
        return self.when.date().isoformat() if self.when else ""

    @property
    def query(self) -> str:
        """``as_of=...&known_at=...`` to carry the dates along links, or empty for
        today: a permalink keeps both."""
        carried = {}
        if self.when:
            carried["as_of"] = self.raw
        if self.known_at:
            carried["known_at"] = self.known_raw
        return urlencode(carried)


def read_as_of(request: HttpRequest) -> AsOf:
    """The page's ``?as_of=`` and ``?known_at=``; a malformed or too early value
    gives a message instead (the page then answers 400)."""
    as_of = _read_as_of(request)
    known = request_known_at(request)
    if known.problem:
        # The middleware read the page as known now; the page says why, with a 400.
        known.shown = True
        message = _("%(problem)s Showing the registry as recorded today instead.") % {
            "problem": known.problem
        }
        as_of.error = f"{as_of.error} {message}" if as_of.error else message
    elif known.when is not None:
        as_of.known_raw, as_of.known_at = known.raw, known.when
    return as_of


def _read_as_of(request: HttpRequest) -> AsOf:
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return AsOf()
    problem = ""
    try:
        when = parse_instant(raw)
    except InvalidInstant:
        problem = _(
            "“%(raw)s” is not a valid date: use the form YYYY-MM-DD, for example "
            "2024-03-01."
        ) % {"raw": raw}
    else:
        # A future date shows the structure as planned (orgregistry.planned_reads).
        if (first := first_recorded_instant()) is not None and when < first:
            problem = _(
                "The registry starts on %(first)s: there is no record of the "
                "structure on %(day)s. Pick a date on or after %(first)s."
            ) % {"first": day_text(first.date()), "day": day_text(when.date())}
    if problem:
        return AsOf(
            raw=raw,
            problem=problem,
            error=_("%(problem)s Showing the structure as it is today instead.")
            % {"problem": problem},
        )
    return AsOf(raw=raw, when=when)


def _page(
    request: HttpRequest,
    template: str,
    as_of: AsOf,
    context: dict,
    *,
    status: int | None = None,
) -> HttpResponse:
    """Render a page with the date bar; a bad ``as_of`` makes the response a 400."""
    if status is None:
        status = HTTPStatus.BAD_REQUEST if as_of.error else HTTPStatus.OK
    others = request.GET.copy()
    others.pop("as_of", None)
    others.pop("known_at", None)
    today_url = request.path + (f"?{others.urlencode()}" if others else "")
    return render(
        request,
        template,
        {"as_of": as_of, "today_url": today_url, **context},
        status=status,
    )


def _plain(message: str, status: int) -> HttpResponse:
    """A short answer for scripts: the message alone, as text."""
    return HttpResponse(
        message, status=status, content_type="text/plain; charset=utf-8"
    )


@dataclass(slots=True)
class Pager:
    """Links between the pages of a long list, keeping the page's other parameters."""

    number: int
    count: int
    previous_url: str
    next_url: str


def _asked_page(request: HttpRequest) -> tuple[int, str]:
    """The ``?page=`` asked for (1 by default) and what is wrong with it, if anything."""
    raw = request.GET.get("page", "").strip()
    if not raw:
        return 1, ""
    if raw.isascii() and raw.isdigit() and int(raw) >= 1:
        return int(raw), ""
    return 1, f"“{raw}” is not a page number. Showing the first page instead."


def _pager(request: HttpRequest, page: selectors.PageOf) -> Pager:
    def url(number: int) -> str:
        if not 1 <= number <= page.count:
            return ""
        params = request.GET.copy()
        params["page"] = str(number)
        return f"{request.path}?{params.urlencode()}"

    return Pager(page.number, page.count, url(page.number - 1), url(page.number + 1))


def _missing_page(page: selectors.PageOf) -> str:
    if page.missing is None:
        return ""
    return ngettext(
        "There is no page %(missing)s: there is %(count)s page. Showing the first "
        "page instead.",
        "There is no page %(missing)s: there are %(count)s pages. Showing the first "
        "page instead.",
        page.count,
    ) % {"missing": page.missing, "count": page.count}


def _listing_status(as_of: AsOf, problem: str) -> int:
    return HTTPStatus.BAD_REQUEST if as_of.error or problem else HTTPStatus.OK

"""The compare page: what changed between two days, a page of changes at a time."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from units.change_cursor import InvalidChangeCursor, change_cursor, read_change_cursor
from units.dates import day_text, exact_moment_text
from units.selectors import (
    Change,
    ChangeGroup,
    InvalidInstant,
    changes_page,
    changes_page_before,
    corrections_between,
    may_see_staff_identities,
    page_entries,
    parse_instant,
    parse_window_start,
    window_ends_a_day,
    window_starts_a_day,
)
from units.views.base import (
    AsOf,
    _page,
    read_as_of,
)

# Changes the compare page reads at a time (by index, from a cursor, as the change
# feed does), so its cost stays flat however long the window; "Earlier changes" and
# "Later changes" page through the rest. At most the API's largest page
# (api.views.MAX_PAGE_SIZE): the page links its changes as one page of the feed.
COMPARE_PAGE_CHANGES = 1000
# Changes listed per section of a compare page; the change feed has them all.
COMPARE_SECTION_CHANGES = 100
CHANGE_SECTIONS = (
    ("added", gettext_lazy("Units added")),
    ("abolished", gettext_lazy("Units abolished")),
    ("reinstated", gettext_lazy("Units reinstated")),
    ("moved", gettext_lazy("Units moved")),
    ("renamed", gettext_lazy("Units renamed")),
    ("mandate_changed", gettext_lazy("Mandates changed")),
    ("reporting_line_changed", gettext_lazy("Reporting lines changed")),
    ("reordered", gettext_lazy("Units reordered among their siblings")),
    ("reverted", gettext_lazy("Units reverted to an earlier version")),
    ("post_added", gettext_lazy("Posts established")),
    ("post_abolished", gettext_lazy("Posts abolished")),
    ("post_reinstated", gettext_lazy("Posts reinstated")),
    ("post_moved", gettext_lazy("Posts moved to another unit")),
    ("post_renamed", gettext_lazy("Posts retitled")),
    ("post_reverted", gettext_lazy("Posts reverted to an earlier version")),
    ("person_added", gettext_lazy("People recorded")),
    ("person_renamed", gettext_lazy("People renamed")),
    ("person_reverted", gettext_lazy("People reverted to an earlier version")),
    ("appointment_started", gettext_lazy("Appointments started")),
    ("appointment_ended", gettext_lazy("Appointments ended")),
    ("relationship_added", gettext_lazy("Dotted-line relationships added")),
    ("relationship_ended", gettext_lazy("Dotted-line relationships ended")),
    (
        "lineage_recorded",
        gettext_lazy("Lineage: units merged, split, replaced or absorbed"),
    ),
)


def _instant_or_error(
    raw: str, parameter: str, label: str
) -> tuple[datetime.datetime | None, str]:
    """The instant ``raw`` names (the window's start for "from"), or what is wrong."""
    read = parse_window_start if parameter == "from" else parse_instant
    try:
        return read(raw, parameter=parameter), ""
    except InvalidInstant:
        return None, (
            _(
                "The %(label)s date “%(raw)s” is not a date: use the form "
                "YYYY-MM-DD, for example 2024-03-01."
            )
            % {"label": label, "raw": raw}
        )


def _window_bounds(
    since: datetime.datetime, until: datetime.datetime, *, until_now: bool = False
) -> tuple[str, str, str]:
    """How a compare page names its window: its first day, its last, and exactly
    which instants it holds (UTC), for a reader to check a change against."""
    if window_starts_a_day(since):
        first = day_text((since + datetime.timedelta(microseconds=1)).date())
        opens = _("the start of %(day)s") % {"day": first}
    else:
        first = exact_moment_text(since)
        opens = _("just after %(moment)s") % {"moment": first}
    if until_now:
        last = _("now")
        closes = _("now, %(moment)s") % {"moment": exact_moment_text(until)}
    elif window_ends_a_day(until):
        last = day_text(until.date())
        closes = _("the end of %(day)s") % {"day": last}
    else:
        last = closes = exact_moment_text(until)
    # Days are UTC days; a time says its zone itself.
    zone = " (UTC)" if "UTC" not in f"{opens}{closes}" else ""
    return (
        first,
        last,
        _("from %(opens)s to %(closes)s%(zone)s")
        % {
            "opens": opens,
            "closes": closes,
            "zone": zone,
        },
    )


@require_safe
def compare(request: HttpRequest) -> HttpResponse:
    """What changed between two dates, grouped by kind of change, a page at a time.

    The page reads at most ``COMPARE_PAGE_CHANGES`` changes by index from a cursor (as
    the API's change feed does), so its cost does not grow with the window; a window
    of one page reads exactly as before, with its exact counts.
    """
    as_of = read_as_of(request)
    if "known_from" in request.GET or "known_to" in request.GET:
        return _compare_known(request, as_of)
    raw_from = request.GET.get("from", "").strip()
    raw_to = request.GET.get("to", "").strip()
    context: dict = {"raw_from": raw_from, "raw_to": raw_to or as_of.input_value}
    if not raw_from and not raw_to:
        return _page(request, "units/compare.html", as_of, context)
    errors = []
    since, error = _instant_or_error(raw_from, "from", _("“from”"))
    if not raw_from:
        error = _("Give the “from” date as well as the “to” date.")
    errors += [error] if error else []
    if raw_to:
        until, error = _instant_or_error(raw_to, "to", _("“to”"))
        errors += [error] if error else []
    else:
        until = as_of.when or timezone.now()
    # "from" is the instant before the window's first day: a window ending there or
    # earlier ends before it starts.
    if since and until and until <= since:
        errors.append(_("The “from” date must be on or before the “to” date."))
    # Both dates are read when no error was found (the None checks say so to mypy).
    if errors or since is None or until is None:
        return _compare_refused(request, as_of, context, errors)

    def compare_url(cursor: str | None = None) -> str:
        """This window again (the dates as asked, and the page date), at ``cursor``."""
        query = {"from": raw_from}
        if raw_to:
            query["to"] = raw_to
        if as_of.when is not None:
            query["as_of"] = as_of.raw
        if cursor is not None:
            query["cursor"] = cursor
        return f"{request.path}?{urlencode(query)}"

    direction, position = "after", None
    cursor_text = request.GET.get("cursor")
    if cursor_text is not None:
        try:
            direction, position = read_change_cursor(cursor_text)
        except InvalidChangeCursor:
            context["first_page_url"] = compare_url()
            message = _(
                "The link you followed points to no place in the list of changes: it "
                "was changed, cut short or not made by this site. Use the “Earlier "
                "changes” and “Later changes” links as given, or start again from "
                "the first changes."
            )
            return _compare_refused(request, as_of, context, [message])
        if not since < position.effective_at <= until:
            # Cursors are only issued inside their window; this one outlived a change
            # of the dates (the date bar keeps it). Start the window again, and say so.
            context["outside_window"] = True
            direction, position = "after", None
    if direction == "before":
        page = changes_page_before(
            since, until, before=position, limit=COMPARE_PAGE_CHANGES
        )
    else:
        page = changes_page(since, until, after=position, limit=COMPARE_PAGE_CHANGES)
    # A reorganization's changes are listed under it; the others by kind, as ever.
    entries = page_entries(
        page,
        since,
        until,
        direction=direction,
        position=position,
        failed=may_see_staff_identities(request.user),
    )
    reorganizations = [entry for entry in entries if isinstance(entry, ChangeGroup)]
    sections = _sections([entry for entry in entries if isinstance(entry, Change)])
    # The same (since, until] window in the API's feed, as exact instants.
    feed_query = {"since": since.isoformat(), "until": until.isoformat()}
    is_whole_window = page.earlier is None and page.later is None
    if not is_whole_window:
        # The feed page holding exactly this page's changes: same place, same size.
        if position is not None:
            feed_query["cursor"] = change_cursor(direction, position)
        feed_query["limit"] = str(COMPARE_PAGE_CHANGES)
    first, last, included = _window_bounds(
        since, until, until_now=not raw_to and as_of.when is None
    )
    context.update(
        {
            "since": since,
            "until": until,
            "window_first": first,
            "window_last": last,
            "window_included": included,
            "sections": sections,
            "reorganizations": reorganizations,
            "change_count": len(page.changes),
            "feed_url": f"{reverse('api:changes')}?{urlencode(feed_query)}",
            "is_paged": not is_whole_window,
            "page_place": (
                "first"
                if page.earlier is None
                else "last"
                if page.later is None
                else "next"
            ),
            "first_day": page.changes[0].effective_at if page.changes else None,
            "last_day": page.changes[-1].effective_at if page.changes else None,
            "earlier_url": None
            if page.earlier is None
            else compare_url(change_cursor("before", page.earlier)),
            "later_url": None
            if page.later is None
            else compare_url(change_cursor("after", page.later)),
        }
    )
    return _page(request, "units/compare.html", as_of, context)


def _compare_known(request: HttpRequest, as_of: AsOf) -> HttpResponse:
    """What the registry corrected about one "as of" instant between two "known at"
    instants (``known_from``, ``known_to``; default now): the two states of the
    registry told apart, as the compare page's sections of changes."""
    raw_from = request.GET.get("known_from", "").strip()
    raw_to = request.GET.get("known_to", "").strip()
    context: dict = {
        "raw_from": "",
        "raw_to": as_of.input_value,
        "raw_known_from": raw_from,
        "raw_known_to": raw_to,
    }
    errors = []
    known_from, error = _instant_or_error(raw_from, "known_from", _("“recorded on”"))
    if not raw_from:
        error = _("Give the “recorded on” date to compare with.")
    errors += [error] if error else []
    known_to: datetime.datetime | None = timezone.now()
    if raw_to:
        known_to, error = _instant_or_error(raw_to, "known_to", _("“and on”"))
        errors += [error] if error else []
    if known_from and known_to and known_to < known_from:
        errors.append(
            _("The first “recorded on” date must be on or before the second.")
        )
    if errors or known_from is None or known_to is None:
        return _compare_refused(request, as_of, context, errors)
    when = as_of.when or timezone.now()
    changes = corrections_between(when, known_from, known_to)
    context.update(
        {
            "known_compare": True,
            "known_from": known_from,
            "known_to": known_to,
            "known_when": when,
            "change_count": len(changes),
            "sections": _sections(changes),
        }
    )
    return _page(request, "units/compare.html", as_of, context)


# Titles of the sections of changes of one field, by what the field belongs to.
FIELD_SECTION_TITLES = {
    "": gettext_lazy("%(label)s changed"),
    "appointment_": gettext_lazy("Appointments: %(label)s changed"),
    "relationship_": gettext_lazy("Dotted-line relationships: %(label)s changed"),
    "post_": gettext_lazy("Posts: %(label)s changed"),
    "person_": gettext_lazy("People: %(label)s changed"),
}


def _sections(changes: list) -> list[ChangeSection]:
    """A compare page's sections: its changes by kind, the first of each shown."""
    by_kind: dict[str, list] = {}
    for change in changes:
        by_kind.setdefault(change.kind, []).append(change)
    return [
        ChangeSection(
            kind=kind,
            title=str(title),
            changes=by_kind[kind][:COMPARE_SECTION_CHANGES],
            total=len(by_kind[kind]),
        )
        for kind, title in (*CHANGE_SECTIONS, *_field_sections(by_kind))
        if kind in by_kind
    ]


def _field_sections(by_kind: dict[str, list]) -> list[tuple[str, str]]:
    """The sections of the kinds of change ``CHANGE_SECTIONS`` does not name, titled
    from their changes' field labels: every change on a page has a section."""
    named = {kind for kind, _title in CHANGE_SECTIONS}
    sections = []
    for kind, changes in by_kind.items():
        if kind in named:
            continue
        label = changes[0].details.get("label") or kind.replace("_", " ")
        prefix = next(
            (
                prefix
                for prefix in sorted(FIELD_SECTION_TITLES, key=len, reverse=True)
                if kind.startswith(prefix)
            ),
            "",
        )
        title = FIELD_SECTION_TITLES[prefix] % {"label": label}
        sections.append((kind, title[:1].upper() + title[1:]))
    return sorted(sections, key=lambda section: section[1])


def _compare_refused(
    request: HttpRequest, as_of: AsOf, context: dict, errors: list[str]
) -> HttpResponse:
    """The compare page with what is wrong with its request, as a 400."""
    context["errors"] = errors
    return _page(
        request,
        "units/compare.html",
        as_of,
        context,
        status=HTTPStatus.BAD_REQUEST,
    )


@dataclass(slots=True)
class ChangeSection:
    """One kind of change on a compare page: the first ones, and how many it holds."""

    kind: str
    title: str
    changes: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.changes)

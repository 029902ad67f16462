"""Public pages: the structure now and on any past date, a unit, compare, chart, search.

Views stay thin: every read goes through ``units.selectors``, each page costs a fixed number of queries whatever the size of
the tree, and nothing here ever shows who made a change (staff identities stay in the
admin): only when it took effect and why.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode

import cairosvg
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from units import chart as org_chart
from units import selectors
from units.change_cursor import InvalidChangeCursor, change_cursor, read_change_cursor
from units.chart.pages import PAGE_SIZES, chart_pdf
from units.models import OrganizationalUnit, Person, UnitKind
from units.selectors import (
    InvalidInstant,
    PartialTree,
    UnitNode,
    changes_page,
    changes_page_before,
    first_recorded_instant,
    parse_instant,
    parse_window_start,
    unit_children,
    unit_family,
    unit_lineage,
    unit_posts_as_of,
    unit_tree_levels,
    unit_tree_top,
    window_ends_a_day,
    window_starts_a_day,
)

KIND_LABELS = {value: str(label) for value, label in UnitKind.choices}
MAX_QUERY_LENGTH = 200
DEFAULT_CHART_DEPTH = 3
# Without an explicit depth, fold levels until the chart has at most this many boxes.
DEFAULT_CHART_BOXES = 200
MAX_CHART_DEPTH = 30
# Cap on exported PNG size so that a chart of thousands of units cannot exhaust memory.
MAX_PNG_PIXELS = 40_000_000
# The structure page shows whole top levels holding at most this many units; deeper
# branches load their sub-units when opened. The seed (44 units) always shows whole.
STRUCTURE_UNITS = 400
# Changes the compare page reads at a time (by index, from a cursor, as the change
# feed does), so its cost stays flat however long the window; "Earlier changes" and
# "Later changes" page through the rest. At most the API's largest page
# (api.views.MAX_PAGE_SIZE): the page links its changes as one page of the feed.
COMPARE_PAGE_CHANGES = 1000
# Changes listed per section of a compare page; the change feed has them all.
COMPARE_SECTION_CHANGES = 100
# Search results listed; a reader narrows a longer list with more words.
SEARCH_RESULTS = 200
# Units (with their posts) and people listed per page of the posts and people pages.
POSTS_PAGE_UNITS = 50
PEOPLE_PAGE_SIZE = 100
CHANGE_SECTIONS = (
    ("added", "Units added"),
    ("abolished", "Units abolished"),
    ("reinstated", "Units reinstated"),
    ("moved", "Units moved"),
    ("renamed", "Units renamed"),
    ("mandate_changed", "Mandates changed"),
    ("reporting_line_changed", "Reporting lines changed"),
    ("reordered", "Units reordered among their siblings"),
    ("appointment_started", "Appointments started"),
    ("appointment_ended", "Appointments ended"),
    ("relationship_added", "Dotted-line relationships added"),
    ("relationship_ended", "Dotted-line relationships ended"),
)


@dataclass(slots=True)
class AsOf:
    """The date a page shows: ``when`` is None for "now"; ``error`` explains a bad input."""

    raw: str = ""
    when: datetime.datetime | None = None
    error: str = ""
    # What is wrong with ``raw``, without what the page does about it.
    problem: str = ""

    @property
    def is_past(self) -> bool:
        return self.when is not None

    @property
    def day(self) -> datetime.date | None:
        return self.when.date() if self.when else None

    @property
    def label(self) -> str:
        if self.when is None:
            return ""
        if self.when.time() == datetime.time.max:
            return f"{self.when:%-d %B %Y}"
        return f"{self.when:%-d %B %Y, %H:%M} UTC"

    @property
    def input_value(self) -> str:
        """What the date control shows: the date asked for, or empty for today."""
        return self.when.date().isoformat() if self.when else ""

    @property
    def query(self) -> str:
        """``as_of=...`` to carry the date along links, or empty for today."""
        return urlencode({"as_of": self.raw}) if self.when else ""


def read_as_of(request: HttpRequest) -> AsOf:
    """The page's ``?as_of=``; a malformed or too early value gives a message instead."""
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return AsOf()
    problem = ""
    try:
        when = parse_instant(raw)
    except InvalidInstant:
        problem = (
            f"“{raw}” is not a valid date: use the form YYYY-MM-DD, for example "
            "2024-03-01."
        )
    else:
        if when > timezone.now() + datetime.timedelta(days=1):
            problem = (
                f"{when:%-d %B %Y} is in the future: the registry only shows changes "
                "that have taken effect."
            )
        elif (first := first_recorded_instant()) is not None and when < first:
            problem = (
                f"The registry starts on {first:%-d %B %Y}: there is no record of the "
                f"structure on {when:%-d %B %Y}. Pick a date on or after "
                f"{first:%Y-%m-%d}."
            )
    if problem:
        return AsOf(
            raw=raw,
            problem=problem,
            error=f"{problem} Showing the structure as it is today instead.",
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


@require_safe
def structure(request: HttpRequest) -> HttpResponse:
    """Home: the organization as a collapsible tree, its top levels at first.

    A large registry shows the top levels holding at most ``STRUCTURE_UNITS`` units;
    each branch below them loads its sub-units when opened (``unit_children_part``).
    """
    as_of = read_as_of(request)
    tree = unit_tree_top(as_of.when, max_units=STRUCTURE_UNITS)
    return _page(request, "units/structure.html", as_of, {"tree": tree})


@require_safe
def unit_children_part(request: HttpRequest, slug: str) -> HttpResponse:
    """The sub-units of one unit as a piece of the structure page's tree (for script).

    Errors are short texts the page shows in place of the sub-units: 400 for a bad
    date, 404 for a unit that does not exist or is not part of the structure then.
    """
    as_of = read_as_of(request)
    if as_of.error:
        return _plain(as_of.problem, HTTPStatus.BAD_REQUEST)
    part = unit_children(slug, as_of.when)
    if part is None:
        if not selectors.unit_exists(slug):
            return _plain(
                f"There is no unit “{slug}” in the registry.", HTTPStatus.NOT_FOUND
            )
        on = f"on {as_of.label}" if as_of.is_past else "today"
        return _plain(
            f"The unit “{slug}” is not part of the structure {on}.",
            HTTPStatus.NOT_FOUND,
        )
    return render(request, "units/unit_children.html", {"tree": part, "as_of": as_of})


@require_safe
def unit_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """One unit: its mandate, posts and holders, place in the tree and its timeline."""
    as_of = read_as_of(request)
    family = unit_family(slug, as_of.when)
    if family is None:
        if not selectors.unit_exists(slug):
            raise Http404(f"There is no unit “{slug}” in the registry.")
        # The unit exists, just not on that date: say so on the page.
        return _page(
            request,
            "units/unit_not_yet.html",
            as_of,
            {"slug": slug},
            status=HTTPStatus.NOT_FOUND,
        )
    node = family.unit
    posts = unit_posts_as_of(node.id, as_of.when)
    post_tenures = selectors.tenures(as_of.when, post_ids=[post.id for post in posts])
    past_holders = [tenure for tenure in post_tenures if not tenure.is_current]
    timeline = selectors.unit_timeline(node.id, as_of.when)
    # A unit whose founding date is not known (a seed records a structure as it
    # stood on some day) says since when it is recorded instead: its first version,
    # which the timeline holds (the unit exists at as_of, so it is not cut off).
    recorded_since = min(
        (entry.effective_at for entry in timeline if entry.revision is not None),
        default=None,
    )
    relationships = selectors.relationships_as_of(as_of.when, unit_id=node.id)
    return _page(
        request,
        "units/unit_detail.html",
        as_of,
        {
            "unit": node,
            "kind_label": KIND_LABELS.get(node.kind, node.kind),
            "ancestors": family.ancestors,
            "active_children": [child for child in family.children if child.is_active],
            "abolished_children": [
                child for child in family.children if not child.is_active
            ],
            "posts": posts,
            "past_holders": past_holders,
            "relationships": relationships,
            "timeline": timeline,
            "recorded_since": recorded_since,
            "provenance": selectors.unit_provenance(node.id, as_of.when),
        },
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
            f"The {label} date “{raw}” is not a date: use the form YYYY-MM-DD, "
            "for example 2024-03-01."
        )


def _window_bounds(
    since: datetime.datetime, until: datetime.datetime, *, until_now: bool = False
) -> tuple[str, str, str]:
    """How a compare page names its window: its first day, its last, and exactly
    which instants it holds (UTC), for a reader to check a change against."""
    if window_starts_a_day(since):
        first = f"{since + datetime.timedelta(microseconds=1):%-d %B %Y}"
        opens = f"the start of {first}"
    else:
        opens = f"just after {since:%-d %B %Y, %H:%M:%S}"
        first = f"{since:%-d %B %Y, %H:%M:%S} UTC"
    if until_now:
        last, closes = "now", f"now, {until:%-d %B %Y, %H:%M:%S}"
    elif window_ends_a_day(until):
        last = f"{until:%-d %B %Y}"
        closes = f"the end of {last}"
    else:
        closes = f"{until:%-d %B %Y, %H:%M:%S}"
        last = f"{closes} UTC"
    return first, last, f"from {opens} to {closes} (UTC)"


@require_safe
def compare(request: HttpRequest) -> HttpResponse:
    """What changed between two dates, grouped by kind of change, a page at a time.

    The page reads at most ``COMPARE_PAGE_CHANGES`` changes by index from a cursor (as
    the API's change feed does), so its cost does not grow with the window; a window
    of one page reads exactly as before, with its exact counts.
    """
    as_of = read_as_of(request)
    raw_from = request.GET.get("from", "").strip()
    raw_to = request.GET.get("to", "").strip()
    context: dict = {"raw_from": raw_from, "raw_to": raw_to or as_of.input_value}
    if not raw_from and not raw_to:
        return _page(request, "units/compare.html", as_of, context)
    errors = []
    since, error = _instant_or_error(raw_from, "from", "“from”")
    if not raw_from:
        error = "Give the “from” date as well as the “to” date."
    errors += [error] if error else []
    if raw_to:
        until, error = _instant_or_error(raw_to, "to", "“to”")
        errors += [error] if error else []
    else:
        until = as_of.when or timezone.now()
    # "from" is the instant before the window's first day: a window ending there or
    # earlier ends before it starts.
    if since and until and until <= since:
        errors.append("The “from” date must be on or before the “to” date.")
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
            message = (
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
    by_kind: dict[str, list] = {}
    for change in page.changes:
        by_kind.setdefault(change.kind, []).append(change)
    sections = [
        ChangeSection(
            kind=kind,
            title=title,
            changes=by_kind[kind][:COMPARE_SECTION_CHANGES],
            total=len(by_kind[kind]),
        )
        for kind, title in (*CHANGE_SECTIONS, *_field_sections(by_kind))
        if kind in by_kind
    ]
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


# Titles of the sections of changes of one field, by what the field belongs to.
FIELD_SECTION_TITLES = {
    "": "{label} changed",
    "appointment_": "Appointments: {label} changed",
    "relationship_": "Dotted-line relationships: {label} changed",
}


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
        title = FIELD_SECTION_TITLES[prefix].format(label=label)
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


@dataclass(slots=True)
class ChartRequest:
    as_of: AsOf
    depth: int
    root_slug: str
    # The drawn levels alone, with what each folded box holds.
    tree: PartialTree
    ancestors: list[UnitNode]
    links: list[org_chart.ChartLink]
    messages: list[str]

    @property
    def roots(self) -> list[UnitNode]:
        return self.tree.roots


def _chart_levels_that_fit(units_per_level: dict[int, int]) -> int:
    """The levels drawn without an explicit depth: the roots and those that fit."""
    return 1 + org_chart.depth_that_fits(
        units_per_level, max_boxes=DEFAULT_CHART_BOXES, ceiling=DEFAULT_CHART_DEPTH
    )


def _chart_request(request: HttpRequest) -> ChartRequest:
    """Read the chart's date, depth and opened sub-tree; 404 for an unknown unit."""
    as_of = read_as_of(request)
    messages: list[str] = []
    raw_depth = request.GET.get("depth", "").strip()
    depth = DEFAULT_CHART_DEPTH
    if not raw_depth:
        depth = 0  # chosen below, from how many units each level holds
    elif raw_depth == "all":
        depth = MAX_CHART_DEPTH
    elif raw_depth:
        try:
            depth = int(raw_depth)
        except ValueError:
            messages.append(
                f"The depth “{raw_depth}” is not a number; showing "
                f"{DEFAULT_CHART_DEPTH} levels."
            )
        else:
            if not 1 <= depth <= MAX_CHART_DEPTH:
                messages.append(
                    f"The depth must be between 1 and {MAX_CHART_DEPTH}; showing "
                    f"{DEFAULT_CHART_DEPTH} levels."
                )
                depth = DEFAULT_CHART_DEPTH
    root_slug = request.GET.get("root", "").strip()
    links = [
        org_chart.ChartLink(
            source_slug=line.source.slug,
            target_slug=line.target.slug,
            label=f"{line.source.name} {line.kind_label} {line.target.name}",
            kind=line.kind_label,
        )
        for line in selectors.relationships_as_of(as_of.when)
    ]
    # Only the drawn levels are read: the tree counts what each folded box holds,
    # tells which box folds each unit a dotted line joins, and, without a depth,
    # counts the units per level to choose one before reading them.
    levels, fit = depth + 1, None
    if not depth:
        levels, fit = DEFAULT_CHART_DEPTH + 1, _chart_levels_that_fit
    placing = {slug for link in links for slug in (link.source_slug, link.target_slug)}
    ancestors: list[UnitNode] = []
    tree: PartialTree | None = None
    if root_slug:
        tree = unit_tree_levels(
            as_of.when, slug=root_slug, levels=levels, fit=fit, placing=placing
        )
        if tree is None:
            if not selectors.unit_exists(root_slug):
                raise Http404(f"There is no unit “{root_slug}” in the registry.")
            messages.append(
                "That unit was not part of the structure on this date; showing the "
                "whole organization."
            )
            root_slug = ""
        else:
            ancestors = (unit_lineage(root_slug, as_of.when) or [])[:-1]
    if tree is None:
        tree = unit_tree_levels(as_of.when, levels=levels, fit=fit, placing=placing)
    return ChartRequest(
        as_of, tree.levels - 1, root_slug, tree, ancestors, links, messages
    )


def _chart_svg(
    request: HttpRequest, chart: ChartRequest, *, absolute: bool = False
) -> str:
    suffix = f"?{chart.as_of.query}" if chart.as_of.query else ""

    def unit_url(slug: str) -> str:
        url = reverse("units:unit-detail", kwargs={"slug": slug}) + suffix
        return request.build_absolute_uri(url) if absolute else url

    def expand_url(slug: str) -> str:
        params = {"root": slug, "depth": chart.depth}
        if chart.as_of.query:
            params["as_of"] = chart.as_of.raw
        url = f"{reverse('units:chart')}?{urlencode(params)}"
        return request.build_absolute_uri(url) if absolute else url

    title = "Organization chart"
    if chart.root_slug and chart.roots:
        title = f"Organization chart: {chart.roots[0].name}"
    return org_chart.render_svg(
        chart.roots,
        links=chart.links,
        max_depth=chart.depth,
        title=title,
        organization=chart_organization(chart.roots, chart.ancestors),
        unit_url=unit_url,
        expand_url=expand_url,
        kind_labels=KIND_LABELS,
        as_of=chart.as_of.day or timezone.now().date(),
        descendants=chart.tree.descendants,
        folded=chart.tree.folded,
    )


def chart_organization(roots: list[UnitNode], ancestors: list[UnitNode]) -> str:
    """Whose chart it is: the top unit above the drawn one, or the registry's name.

    A registry holding several top units is not one organization, so its own name
    (``REGISTRY_NAME``) stands for them.
    """
    if ancestors:
        return ancestors[0].name
    if len(roots) == 1:
        return roots[0].name
    return settings.REGISTRY_NAME


def _chart_params(chart: ChartRequest, **extra: str) -> str:
    params = {"depth": str(chart.depth)}
    if chart.root_slug:
        params["root"] = chart.root_slug
    if chart.as_of.when is not None:
        params["as_of"] = chart.as_of.raw
    params.update(extra)
    return urlencode(params)


@require_safe
def chart(request: HttpRequest) -> HttpResponse:
    """The org chart as an inline SVG, with depth and sub-tree controls and downloads."""
    chart_request = _chart_request(request)
    roots = chart_request.roots
    return _page(
        request,
        "units/chart.html",
        chart_request.as_of,
        {
            "svg": _chart_svg(request, chart_request),
            "chart": chart_request,
            "opened": roots[0] if chart_request.root_slug else None,
            "ancestors": chart_request.ancestors,
            "depth_choices": range(1, 9),
            "download_query": _chart_params(chart_request),
            "unit_count": chart_request.tree.unit_count,
        },
    )


@require_safe
def chart_download(request: HttpRequest, file_format: str) -> HttpResponse:
    """The same chart as a file: SVG as drawn, PNG or PDF rendered by CairoSVG.

    The PDF is on A4 (or, with ``page=a3``, A3) landscape pages, split over several
    where one page would print the text too small to read.
    """
    if file_format not in {"svg", "png", "pdf"}:
        raise Http404(
            f"The chart can be downloaded as SVG, PNG or PDF, not “{file_format}”."
        )
    chart_request = _chart_request(request)
    raw_page = request.GET.get("page", "a4").strip()
    page = PAGE_SIZES.get(raw_page.lower())
    page_problem = ""
    if page is None:
        offered = " or ".join(size.label for size in PAGE_SIZES.values())
        page_problem = (
            f"The page size “{raw_page}” is not offered; choose {offered} (landscape)."
        )
    if chart_request.as_of.error or chart_request.messages or page is None:
        problems = [chart_request.as_of.error, *chart_request.messages, page_problem]
        return HttpResponse(
            " ".join(problem for problem in problems if problem),
            status=HTTPStatus.BAD_REQUEST,
            content_type="text/plain; charset=utf-8",
        )
    svg = _chart_svg(request, chart_request, absolute=True)
    stamp = (chart_request.as_of.day or timezone.now().date()).isoformat()
    name = f"org-chart-{chart_request.root_slug or 'all'}-{stamp}.{file_format}"
    if file_format == "svg":
        body, content_type = svg.encode(), "image/svg+xml"
    elif file_format == "png":
        width, height = org_chart.document_size(svg)
        pixels = width * height
        scale = min(2.0, (MAX_PNG_PIXELS / pixels) ** 0.5)
        body = cairosvg.svg2png(bytestring=svg.encode(), scale=scale)
        content_type = "image/png"
    else:
        title = chart_organization(chart_request.roots, chart_request.ancestors)
        body = chart_pdf(svg, page=page, title=f"{title} — organization chart, {stamp}")
        content_type = "application/pdf"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """Units, posts and people matching every word as they stood at ``as_of``:
    units by name, acronym or mandate, posts by title, people by name, highlighted."""
    as_of = read_as_of(request)
    query = request.GET.get("q", "").strip()
    context: dict = {"query": query, "hits": [], "hit_count": 0}
    if len(query) > MAX_QUERY_LENGTH:
        context["query_error"] = (
            f"The search text is too long ({len(query)} characters); use at most "
            f"{MAX_QUERY_LENGTH}."
        )
        return _page(
            request,
            "units/search.html",
            as_of,
            context,
            status=HTTPStatus.BAD_REQUEST,
        )
    if query:
        context["hits"], context["hit_count"] = selectors.search_registry(
            query, as_of.when, limit=SEARCH_RESULTS
        )
    return _page(request, "units/search.html", as_of, context)


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
    there = "is 1 page" if page.count == 1 else f"are {page.count} pages"
    return (
        f"There is no page {page.missing}: there {there}. Showing the first page "
        "instead."
    )


def _listing_status(as_of: AsOf, problem: str) -> int:
    return HTTPStatus.BAD_REQUEST if as_of.error or problem else HTTPStatus.OK


@require_safe
def posts(request: HttpRequest) -> HttpResponse:
    """Posts unit by unit in tree order, with holders and past holders, page by page.

    ``?unit=<slug>`` shows one unit's posts (what other pages link to).
    """
    as_of = read_as_of(request)
    number, problem = _asked_page(request)
    unit_slug = request.GET.get("unit", "").strip()
    unit_id = None
    if unit_slug:
        unit_id = selectors.id_for_slug(OrganizationalUnit, unit_slug)
        if unit_id is None:
            raise Http404(f"There is no unit “{unit_slug}” in the registry.")
    listing = selectors.posts_page(
        as_of.when, number=number, per_page=POSTS_PAGE_UNITS, unit_id=unit_id
    )
    problem = problem or _missing_page(listing.page)
    return _page(
        request,
        "units/posts.html",
        as_of,
        {
            "listing": listing,
            "pager": _pager(request, listing.page),
            "problem": problem,
            "unit_slug": unit_slug,
        },
        status=_listing_status(as_of, problem),
    )


@require_safe
def people(request: HttpRequest) -> HttpResponse:
    """Everyone who has held a post, by name, page by page: their posts now and before.

    ``?person=<slug>`` shows one person (what other pages link to).
    """
    as_of = read_as_of(request)
    number, problem = _asked_page(request)
    person_slug = request.GET.get("person", "").strip()
    person_id = None
    if person_slug:
        person_id = selectors.id_for_slug(Person, person_slug)
        if person_id is None:
            raise Http404(f"There is no person “{person_slug}” in the registry.")
    listing = selectors.people_page(
        as_of.when, number=number, per_page=PEOPLE_PAGE_SIZE, person_id=person_id
    )
    problem = problem or _missing_page(listing.page)
    return _page(
        request,
        "units/people.html",
        as_of,
        {
            "listing": listing,
            "pager": _pager(request, listing.page),
            "problem": problem,
            "person_slug": person_slug,
        },
        status=_listing_status(as_of, problem),
    )

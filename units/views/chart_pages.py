"""The organization chart page and its SVG, PNG and PDF downloads."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode

import cairosvg
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from units import chart as org_chart
from units import selectors
from units.chart.pages import PAGE_SIZES, chart_pdf
from units.chart.texts import Marked, fill, text_in
from units.content_languages import SOURCE_LANGUAGE
from units.dates import day_text
from units.selectors import (
    PartialTree,
    UnitNode,
    unit_lineage,
    unit_tree_levels,
)
from units.selectors.languages import content_language
from units.selectors.planned import current_plan
from units.views.base import (
    AsOf,
    _page,
    kind_labels,
    read_as_of,
)

DEFAULT_CHART_DEPTH = 3
# Without an explicit depth, fold levels until the chart has at most this many boxes.
DEFAULT_CHART_BOXES = 200
MAX_CHART_DEPTH = 30
# Cap on exported PNG size so that a chart of thousands of units cannot exhaust memory.
MAX_PNG_PIXELS = 40_000_000


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


def _chart_link(line: selectors.RelationshipLine) -> org_chart.ChartLink:
    """A dotted line to draw, named in the page's language ("A supports B")."""
    label = fill(
        "%(source)s %(kind)s %(target)s",
        source=text_in(line.source, "name"),
        kind=line.kind_label,
        target=text_in(line.target, "name"),
    )
    return org_chart.ChartLink(
        source_slug=line.source.slug,
        target_slug=line.target.slug,
        label=label.text,
        kind=line.kind_label,
        english=label.english,
    )


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
                _("The depth “%(depth)s” is not a number; showing %(levels)s levels.")
                % {"depth": raw_depth, "levels": DEFAULT_CHART_DEPTH}
            )
        else:
            if not 1 <= depth <= MAX_CHART_DEPTH:
                messages.append(
                    _(
                        "The depth must be between 1 and %(most)s; showing "
                        "%(levels)s levels."
                    )
                    % {"most": MAX_CHART_DEPTH, "levels": DEFAULT_CHART_DEPTH}
                )
                depth = DEFAULT_CHART_DEPTH
    root_slug = request.GET.get("root", "").strip()
    links = [_chart_link(line) for line in selectors.relationships_as_of(as_of.when)]
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
                raise Http404(
                    _("There is no unit “%(slug)s” in the registry.")
                    % {"slug": root_slug}
                )
            messages.append(
                _(
                    "That unit was not part of the structure on this date; showing "
                    "the whole organization."
                )
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

    title: str | Marked = _("Organization chart")
    if chart.root_slug and chart.roots:
        title = fill(
            _("Organization chart: %(name)s"), name=text_in(chart.roots[0], "name")
        )
    return org_chart.render_svg(
        chart.roots,
        links=chart.links,
        max_depth=chart.depth,
        title=title,
        organization=chart_organization(chart.roots, chart.ancestors),
        unit_url=unit_url,
        expand_url=expand_url,
        kind_labels=kind_labels(),
        as_of=chart.as_of.day or timezone.now().date(),
        descendants=chart.tree.descendants,
        folded=chart.tree.folded,
        planned=chart.as_of.is_future or current_plan() is not None,
        language=content_language(),
    )


def chart_organization(roots: list[UnitNode], ancestors: list[UnitNode]) -> Marked:
    """Whose chart it is: the top unit above the drawn one, or the registry's name,
    in the page's language (an English fallback marked).

    A registry holding several top units is not one organization, so its own name
    (``REGISTRY_NAME``) stands for them.
    """
    if ancestors:
        return text_in(ancestors[0], "name")
    if len(roots) == 1:
        return text_in(roots[0], "name")
    return Marked(settings.REGISTRY_NAME)


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
            _("The chart can be downloaded as SVG, PNG or PDF, not “%(format)s”.")
            % {"format": file_format}
        )
    chart_request = _chart_request(request)
    raw_page = request.GET.get("page", "a4").strip()
    page = PAGE_SIZES.get(raw_page.lower())
    page_problem = ""
    if page is None:
        offered = _(" or ").join(size.label for size in PAGE_SIZES.values())
        page_problem = _(
            "The page size “%(page)s” is not offered; choose %(offered)s (landscape)."
        ) % {"page": raw_page, "offered": offered}
    if chart_request.as_of.error or chart_request.messages or page is None:
        problems = [chart_request.as_of.error, *chart_request.messages, page_problem]
        return HttpResponse(
            " ".join(problem for problem in problems if problem),
            status=HTTPStatus.BAD_REQUEST,
            content_type="text/plain; charset=utf-8",
        )
    svg = _chart_svg(request, chart_request, absolute=True)
    day = chart_request.as_of.day or timezone.now().date()
    stamp = day.isoformat()
    # A French download is not saved over the English one of the same chart.
    language = content_language()
    suffix = "" if language == SOURCE_LANGUAGE else f"-{language}"
    name = f"org-chart-{chart_request.root_slug or 'all'}-{stamp}{suffix}.{file_format}"
    if file_format == "svg":
        body, content_type = svg.encode(), "image/svg+xml"
    elif file_format == "png":
        width, height = org_chart.document_size(svg)
        pixels = width * height
        scale = min(2.0, (MAX_PNG_PIXELS / pixels) ** 0.5)
        body = cairosvg.svg2png(bytestring=svg.encode(), scale=scale)
        content_type = "image/png"
    else:
        organization = chart_organization(chart_request.roots, chart_request.ancestors)
        title = _("%(organization)s — organization chart, %(day)s") % {
            "organization": organization.text,
            "day": day_text(day),
        }
        body = chart_pdf(svg, page=page, title=title)
        content_type = "application/pdf"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

"""The laid-out, routed chart written as a standalone SVG document.

Every style is a presentation attribute (not a stylesheet) so that exported files look
the same as the page in any viewer; CairoSVG renders the very same markup to PNG/PDF.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from xml.sax.saxutils import escape, quoteattr

from django.utils.translation import gettext, ngettext

from units.characters import xml_safe
from units.chart.layout import (
    BOX_WIDTH,
    LEGEND_HEIGHT,
    MARGIN,
    ChartLayout,
    ChartLink,
    PlacedBox,
    Point,
    layout,
)
from units.chart.routing import (
    NUDGE_CLEARANCE,
    Rect,
    TrackPlan,
    _free,
    _Lines,
    _Obstacles,
    _pieces,
    _route,
    _separate,
    plan_tracks,
)
from units.chart.texts import (
    Marked,
    Piece,
    as_marked,
    fill,
    line_text,
    marked_markup,
    text_in,
    wrapped_pieces,
)
from units.dates import day_text
from units.models import ReportingLine
from units.selectors import UnitNode
from units.selectors.languages import content_language

# The text in the boxes, at sizes read without zooming (``SMALLEST_TEXT`` is the
# smallest size anywhere in the chart; the page's "Fit" keeps it readable). The line
# lengths are for the box's inner width at those sizes, with room for wide letters.
NAME_FONT_SIZE = 14
HEAD_FONT_SIZE = 12
SMALLEST_TEXT = 12
NAME_LINE_CHARS = 23
HEAD_LINE_CHARS = 29
NAME_TOP = 20  # first name baseline below the box's top
NAME_LINE_HEIGHT = 17
HEAD_GAP = 18  # from the last name baseline to the first head baseline
HEAD_LINE_HEIGHT = 15
TEXT_BOTTOM = 10  # from the last baseline to the box's foot
BADGE_ROOM = 12
MIN_BOX_HEIGHT = 64
FONT_FAMILY = "Liberation Sans, Arial, Helvetica, sans-serif"

# Colours chosen for WCAG AA contrast on white (text) and to tell the lines apart in
# grey-scale print as well: solid, long dashes and dots.
INK = "#1b2533"
MUTED_INK = "#3d4b5c"
BRAND = "#0b3d91"
SUPERVISION_STROKE = "#3d4b5c"
OVERSIGHT_STROKE = "#8a2d91"
RELATIONSHIP_STROKE = "#00695c"
OVERSIGHT_DASH = "9 5"
RELATIONSHIP_DASH = "2 4"
LABEL_FONT_SIZE = 12
HEADING_FONT_SIZE = 20
SUBHEADING_FONT_SIZE = 14
# Generous average advances (bold heading, plain subheading) for widening the chart.
HEADING_CHAR_WIDTH = 11.5
SUBHEADING_CHAR_WIDTH = 7.5
LABEL_CHAR_WIDTH = 6.7
# A label keeps this far from the ends of the piece it stands by (its corners).
LABEL_END_ROOM = 6
# Spots tried each way from a piece's middle, at most (a long piece is tried sparser).
LABEL_SPOTS = 20
KEY_LINE_HEIGHT = 18
# How many times the dotted lines' tracks are planned, at most, before the chart is
# drawn with the last plan (a gap planned for a line it no longer takes is harmless).
PLAN_ATTEMPTS = 4
# How many times the dotted lines are routed and labelled, at most, while some line
# finds no room for its label and can still be kept closer to its channels.
LABEL_ATTEMPTS = 4


def wrap(text: str, width: int = NAME_LINE_CHARS) -> list[str]:
    """Greedy word wrap to lines of at most ``width`` characters, losing nothing.

    A name is never cut short: it takes as many lines as it needs (the box grows),
    and a word longer than a line is broken with a hyphen.
    """
    return [line_text(text, pieces) for pieces in wrapped_pieces(text, width)]


@dataclass(frozen=True, slots=True)
class _BoxText:
    """A box's two texts in the chart's language, and the lines each wraps to."""

    name: Marked
    name_lines: list[list[Piece]]
    head: Marked
    head_lines: list[list[Piece]]


def _box_text(node: UnitNode, language: str | None) -> _BoxText:
    """The lines of a box: its name, then who heads it."""
    name = text_in(node, "name", language)
    head = head_phrase(node, language)
    return _BoxText(
        name,
        wrapped_pieces(name.text, NAME_LINE_CHARS),
        head,
        wrapped_pieces(head.text, HEAD_LINE_CHARS),
    )


def box_height(
    node: UnitNode, hidden_descendants: int, language: str | None = None
) -> float:
    """How tall the box of ``node`` is drawn: enough for every line of its text
    (in ``language``, default the active one: a translation may wrap otherwise).

    A box that folds sub-units keeps a strip at its foot for the "+N" badge.
    """
    text = _box_text(node, language)
    name_lines, head_lines = text.name_lines, text.head_lines
    height = NAME_TOP + (len(name_lines) - 1) * NAME_LINE_HEIGHT + TEXT_BOTTOM
    if head_lines:
        height += HEAD_GAP + (len(head_lines) - 1) * HEAD_LINE_HEIGHT
    if hidden_descendants:
        height += BADGE_ROOM
    return max(MIN_BOX_HEIGHT, height)


def _edge_style(reporting_line: str) -> str:
    if reporting_line == ReportingLine.OVERSIGHT:
        return (
            f'stroke="{OVERSIGHT_STROKE}" stroke-width="2" '
            f'stroke-dasharray="{OVERSIGHT_DASH}" class="edge edge-oversight"'
        )
    return (
        f'stroke="{SUPERVISION_STROKE}" stroke-width="1.5" '
        'class="edge edge-supervision"'
    )


def render_svg(
    roots: Sequence[UnitNode],
    *,
    links: Iterable[ChartLink] = (),
    max_depth: int,
    title: str | Marked,
    organization: str | Marked = "",
    unit_url: Callable[[str], str],
    expand_url: Callable[[str], str],
    kind_labels: dict[str, str],
    as_of: datetime.date | None = None,
    descendants: Mapping[int, int] | None = None,
    folded: Mapping[str, str] | None = None,
    planned: bool = False,
    language: str | None = None,
) -> str:
    """The chart as a standalone SVG document (inline it, or serve it as a file).

    Names and head post titles are in ``language`` (default: the active language),
    English where not yet translated, marked ``lang="en"``; the document says its
    language. ``title`` and ``organization`` may carry such marks (``Marked``).

    ``descendants`` is as for ``layout()``. A relationship with a folded unit is
    drawn to the box that folds it: ``folded`` names that box for the units below the
    drawn levels (``PartialTree.folded``, by slug); without it the folded boxes'
    sub-trees are walked.

    The picture carries its own heading (``organization``, then ``title`` and the
    date ``as_of``, "planned" for a future one) so that a downloaded or printed file
    says what it shows.
    """
    links = list(links)
    language = content_language(language)
    heights = partial(box_height, language=language)
    chart = layout(
        roots, max_depth=max_depth, descendants=descendants, box_height=heights
    )
    ends = _ends(chart, links, folded)
    top_room = 0.0
    plan = TrackPlan([], {})
    # Laid out again with a track of its own for each dotted line in every band and
    # gap it takes. The bands depend on the tree alone; which gap a line takes may
    # change with the widened layout (a unit passing to the other side of its
    # superior's middle), so it is planned again until the plan holds.
    for _attempt in range(PLAN_ATTEMPTS):
        if not ends:
            break
        replanned = plan_tracks((source, target) for _link, source, target in ends)
        if replanned == plan:
            break
        plan = replanned
        top_room = plan.top_room()
        chart = layout(
            roots,
            max_depth=max_depth,
            descendants=descendants,
            box_height=heights,
            band_room=plan.band_room(),
            top_room=top_room,
            gap_room=plan.gap_room(),
        )
        ends = _ends(chart, links, folded)
    heading, subheading = _headings(title, organization, as_of, planned=planned)
    # The heading is never cut: a narrow chart (one branch) widens to hold it.
    chart.width = max(
        chart.width,
        2 * MARGIN + len(heading) * HEADING_CHAR_WIDTH,
        2 * MARGIN + len(subheading) * SUBHEADING_CHAR_WIDTH,
    )
    relationships, key = (
        _relationships(chart, ends, plan, MARGIN + LEGEND_HEIGHT + top_room)
        if ends
        else ([], [])
    )
    key_top = chart.height - MARGIN
    if key:
        chart.height += KEY_LINE_HEIGHT * (len(key) + 1)
        chart.width = max(
            chart.width,
            2 * MARGIN + max(len(line) for line in key) * LABEL_CHAR_WIDTH,
        )
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
        f'width="{chart.width:.0f}" height="{chart.height:.0f}" '
        f'viewBox="0 0 {chart.width:.0f} {chart.height:.0f}" '
        f'font-family="{FONT_FAMILY}" class="org-chart" '
        f'data-smallest-text="{SMALLEST_TEXT}" '
        f'lang="{language}" xml:lang="{language}" '
        f'aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(f"{heading} — {subheading}")}</title>',
        f'<desc id="chart-desc">{escape(_description())}</desc>',
        f'<rect x="0" y="0" width="{chart.width:.0f}" height="{chart.height:.0f}" '
        'fill="#ffffff"/>',
        '<defs><marker id="relationship-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="5" markerHeight="5" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{RELATIONSHIP_STROKE}"/></marker></defs>',
    ]
    parts.append(_legend(heading, subheading))
    parts.append('<g class="edges" fill="none">')
    for path, reporting_line in chart.edges:
        parts.append(f'<path d="{path}" {_edge_style(reporting_line)}/>')
    parts.append("</g>")
    parts.append('<g class="relationships" fill="none">')
    parts.extend(relationships)
    parts.append("</g>")
    if key:
        parts.append(_key(key, key_top))
    parts.append('<g class="units">')
    for box in chart.boxes:
        parts.append(_box(box, unit_url, expand_url, kind_labels, language))
    parts.append("</g></svg>")
    # Names and mandates stored before the services refused control characters must
    # not make the document malformed (and CairoSVG's PNG and PDF renders fail).
    return xml_safe("".join(parts))


def _description() -> str:
    return gettext(
        "Boxes are units, linked to their pages. Solid lines: direct supervision. "
        "Long dashes: oversight. Dotted lines with an arrow, running between the "
        "boxes: dotted-line relationships, named along the line or in its tooltip. "
        "A “+N” badge opens a folded sub-tree."
    )


def document_size(svg: str) -> tuple[float, float]:
    """The width and height of a document ``render_svg`` wrote, in user units."""
    size = re.match(r'<svg [^>]*?width="([\d.]+)" height="([\d.]+)"', svg)
    if size is None:
        raise ValueError("Not an org chart drawn by render_svg: no size.")
    return float(size.group(1)), float(size.group(2))


def _ends(
    chart: ChartLayout,
    links: Iterable[ChartLink],
    folded: Mapping[str, str] | None,
) -> list[tuple[ChartLink, PlacedBox, PlacedBox]]:
    """The relationships to draw, each with the boxes it joins.

    A relationship with a folded unit goes to the box that folds it; one within a
    single box is not drawn.
    """
    by_slug = {box.node.slug: box for box in chart.boxes}
    if folded is None:
        for box in chart.boxes:
            if box.hidden_descendants:
                for descendant in box.node.walk():
                    by_slug.setdefault(descendant.slug, box)
    else:
        for slug, box_slug in folded.items():
            folded_into = by_slug.get(box_slug)
            if folded_into is not None and folded_into.hidden_descendants:
                by_slug.setdefault(slug, folded_into)
    ends = []
    for link in links:
        source, target = by_slug.get(link.source_slug), by_slug.get(link.target_slug)
        if source is not None and target is not None and source is not target:
            ends.append((link, source, target))
    return ends


def _relationships(
    chart: ChartLayout,
    ends: list[tuple[ChartLink, PlacedBox, PlacedBox]],
    plan: TrackPlan,
    boxes_top: float,
) -> tuple[list[str], list[Marked]]:
    """Each relationship routed between the boxes, as a group with its title and
    label; and the key's lines for those labelled by a number.

    A line that finds no room for a label where it runs is routed again, kept to its
    channels (no direct line, then no shortcut), where its tracks were planned with
    room for a number; the others are then labelled again around it.
    """
    obstacles = _Obstacles(chart.boxes)
    # How far each line is kept to its channels: 0 not, 1 no direct line, 2 no shortcut.
    kept: dict[int, int] = {}
    routes = _routes(chart, ends, plan, boxes_top, obstacles, kept)
    labels, key = _labels(chart, ends, routes, obstacles)
    for _attempt in range(LABEL_ATTEMPTS):
        unlabelled = [
            index
            for index, label in enumerate(labels)
            if label is None and kept.get(index, 0) < 2
        ]
        if not unlabelled:
            break
        for index in unlabelled:
            kept[index] = kept.get(index, 0) + 1
        rerouted = _routes(chart, ends, plan, boxes_top, obstacles, kept)
        # Labelled again only if some line moved (a line that took no direct route
        # moves only when kept from its shortcuts too).
        if rerouted != routes:
            routes = rerouted
            labels, key = _labels(chart, ends, routes, obstacles)
    # White casings under all the dotted lines keep the dots readable where they cross
    # solid lines, without covering another dotted line or its arrowhead.
    casings = [
        '<g class="relationship-casings" stroke="#ffffff" stroke-width="6" '
        'stroke-linejoin="round">'
    ]
    parts = []
    for (link, source, target), points, label in zip(ends, routes, labels, strict=True):
        path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
        casings.append(f'<path d="{path}"/>')
        parts.append(
            f'<g class="relationship" data-from={quoteattr(source.node.slug)} '
            f"data-to={quoteattr(target.node.slug)}>"
            f"<title>{escape(link.label)}</title>"
            # An invisible wider stroke makes the thin line easy to point at.
            f'<path d="{path}" stroke="#ffffff" stroke-opacity="0" stroke-width="8" '
            'class="relationship-hit"/>'
            f'<path d="{path}" stroke="{RELATIONSHIP_STROKE}" stroke-width="2.2" '
            f'stroke-dasharray="{RELATIONSHIP_DASH}" stroke-linecap="round" '
            'stroke-linejoin="round" marker-end="url(#relationship-arrow)" '
            'class="edge edge-relationship"/>'
        )
        if label is not None:
            parts.append(label)
        parts.append("</g>")
    casings.append("</g>")
    return casings + parts, key


def _routes(
    chart: ChartLayout,
    ends: list[tuple[ChartLink, PlacedBox, PlacedBox]],
    plan: TrackPlan,
    boxes_top: float,
    obstacles: _Obstacles,
    kept: Mapping[int, int],
) -> list[list[Point]]:
    """Each relationship's line, set apart from the others and the solid lines.

    Only the first line between two boxes may take a direct route (see ``_route``),
    and none that ``kept`` keeps to its channels.
    """
    drawn = []
    joined: set[frozenset[int]] = set()
    for index, (_link, source, target) in enumerate(ends):
        pair = frozenset((id(source), id(target)))
        points = _route(
            source,
            target,
            obstacles,
            plan.track(index, boxes_top),
            plan.lane(index),
            direct=pair not in joined and not kept.get(index, 0),
            straighten=kept.get(index, 0) < 2,
        )
        joined.add(pair)
        drawn.append((points, source, target))
    separated = _separate(drawn, _pieces(chart.lines), obstacles)
    return [
        apart if _free(apart, obstacles, source, target, NUDGE_CLEARANCE) else points
        for (points, source, target), apart in zip(drawn, separated, strict=True)
    ]


def _labels(
    chart: ChartLayout,
    ends: list[tuple[ChartLink, PlacedBox, PlacedBox]],
    routes: list[list[Point]],
    obstacles: _Obstacles,
) -> tuple[list[str | None], list[Marked]]:
    """Each line's label (None where none has room), and the key's lines.

    The kind goes beside the line; where it has no room, a number on the line, spelled
    out in the key. Labels go where they hide neither a box nor another line.
    """
    lines = _Lines()
    for start, end in _pieces(chart.lines):
        lines.add(start, end)
    for points in routes:
        for start, end in zip(points, points[1:], strict=False):
            lines.add(start, end, points)
    taken: list[Rect] = []
    bounds = (0.0, 0.0, chart.width, chart.height)
    labels: list[str | None] = []
    key: list[Marked] = []
    for (link, _source, _target), points in zip(ends, routes, strict=True):
        text = link.kind or link.label
        label = _along(points, text, obstacles, lines, taken, bounds)
        if label is None:
            number = str(len(key) + 1)
            label = _along(points, number, obstacles, lines, taken, bounds, True)
            if label is not None:
                key.append(
                    fill(
                        "%(number)s: %(label)s",
                        number=number,
                        label=Marked(link.label, link.english),
                    )
                )
        labels.append(label)
    return labels, key


def _label_spots(
    points: list[Point], width: float, height: float, on_uprights: bool
) -> Iterable[tuple[Rect, list[Point]]]:
    """Where a label of ``width`` x ``height`` may stand by the line, best first.

    Above, then below, the longest level pieces, from their middle outward; a
    number (``on_uprights``) stands on the line itself first, upright pieces too.
    """
    pieces = sorted(
        zip(points, points[1:], strict=False),
        key=lambda piece: (
            -(abs(piece[1][0] - piece[0][0]) + abs(piece[1][1] - piece[0][1]))
        ),
    )
    for start, end in pieces:
        level = start[1] == end[1]
        if not level and not on_uprights:
            continue
        along = 0 if level else 1
        low, high = sorted((start[along], end[along]))
        size = width if level else height
        room = (high - low) - size - 2 * (1 if on_uprights else LABEL_END_ROOM)
        if room < 0:
            continue
        middle = (low + high) / 2
        # Every 4 units outward; on a long piece at most ``LABEL_SPOTS`` each way,
        # spread along it, so that a crowded wide chart stays quick to label.
        stride = max(4.0, room / 2 / LABEL_SPOTS)
        offsets = [0.0]
        step = stride
        while step <= room / 2:
            offsets += [step, -step]
            step += stride
        across = start[1] if level else start[0]
        for offset in offsets:
            centre = middle + offset
            if level:
                # A number stands on the line, else (a line running close beside
                # it) just above or below it, as a kind does.
                beside = [across - height / 2 - 1, across + height / 2 + 1]
                sides = [across, *beside] if on_uprights else beside
                for y in sides:
                    yield (
                        (
                            centre - width / 2,
                            y - height / 2,
                            centre + width / 2,
                            y + height / 2,
                        ),
                        [start, end],
                    )
            else:
                # On the line, else just beside it on either side.
                for x in (across, across - width / 2 - 2, across + width / 2 + 2):
                    yield (
                        (
                            x - width / 2,
                            centre - height / 2,
                            x + width / 2,
                            centre + height / 2,
                        ),
                        [start, end],
                    )


def _along(
    points: list[Point],
    text: str,
    obstacles: _Obstacles,
    lines: _Lines,
    labels: list[Rect],
    bounds: Rect,
    on_line: bool = False,
) -> str | None:
    """A label written by the line where it hides no box, line or other label.

    The kind goes beside a level piece; a number (``on_line``) stands on the line,
    over its own dots. None where no spot is free.
    """
    width = len(text) * LABEL_CHAR_WIDTH + 6
    height = LABEL_FONT_SIZE + 4
    if on_line:
        width = max(width, height)
    for rect, _piece in _label_spots(points, width, height, on_line):
        if (
            rect[0] < bounds[0]
            or rect[1] < bounds[1]
            or rect[2] > bounds[2]
            or rect[3] > bounds[3]
            or obstacles.rect_blocked(rect)
            or lines.crosses(rect, ignore=points)
            or any(_overlap(rect, other) for other in labels)
        ):
            continue
        labels.append(rect)
        left, top = rect[0], rect[1]
        middle = (rect[0] + rect[2]) / 2
        shape = (
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" '
            f'height="{height}" rx="{height / 2 if on_line else 3}" '
            f'fill="#ffffff" stroke="{RELATIONSHIP_STROKE}" '
            f'stroke-width="{1.2 if on_line else 0}" '
            'class="relationship-label-back"/>'
        )
        return shape + (
            f'<text x="{middle:.1f}" y="{top + height - 4:.1f}" '
            f'font-size="{LABEL_FONT_SIZE}" fill="{RELATIONSHIP_STROKE}" '
            f'text-anchor="middle" class="relationship-label">{escape(text)}</text>'
        )
    return None


def _key(lines: list[Marked], top: float) -> str:
    """Below the chart: what each numbered dotted line stands for."""
    parts = [
        f'<g class="relationship-key"><text x="{MARGIN}" y="{top + KEY_LINE_HEIGHT:.1f}" '
        f'font-size="{LABEL_FONT_SIZE}" font-weight="bold" fill="{INK}">'
        f"{escape(gettext('Numbered dotted lines'))}</text>"
    ]
    for index, line in enumerate(lines, start=2):
        parts.append(
            f'<text x="{MARGIN}" y="{top + index * KEY_LINE_HEIGHT:.1f}" '
            f'font-size="{LABEL_FONT_SIZE}" fill="{RELATIONSHIP_STROKE}" '
            f'class="relationship-key-entry">{marked_markup(line)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _overlap(first: Rect, second: Rect) -> bool:
    return (
        first[0] < second[2]
        and second[0] < first[2]
        and first[1] < second[3]
        and second[1] < first[3]
    )


def _headings(
    title: str | Marked,
    organization: str | Marked,
    as_of: datetime.date | None,
    *,
    planned: bool = False,
) -> tuple[Marked, Marked]:
    """The chart's heading (the organization) and what it shows, on which date;
    ``planned``: a future date, the structure as the approved reorganizations make it."""
    if as_of is None:
        subheading = as_marked(title)
    elif planned:
        subheading = fill(
            gettext("%(title)s — planned for %(day)s"), title=title, day=day_text(as_of)
        )
    else:
        subheading = fill(
            gettext("%(title)s — as of %(day)s"), title=title, day=day_text(as_of)
        )
    return as_marked(organization or title), subheading


def _text(marked: Marked, attributes: str) -> str:
    """A ``<text>`` element of ``marked``: ``lang="en"`` on it when it is all an
    English fallback, else on each English run inside it."""
    if marked.all_english:
        return f'<text {attributes} lang="en">{escape(marked.text)}</text>'
    return f"<text {attributes}>{marked_markup(marked)}</text>"


def _legend(heading: Marked, subheading: Marked) -> str:
    y = MARGIN
    items = [
        (
            gettext("Direct supervision"),
            f'stroke="{SUPERVISION_STROKE}" stroke-width="1.5"',
        ),
        (
            gettext("Oversight"),
            f'stroke="{OVERSIGHT_STROKE}" stroke-width="2" '
            f'stroke-dasharray="{OVERSIGHT_DASH}"',
        ),
        (
            gettext("Dotted-line relationship"),
            f'stroke="{RELATIONSHIP_STROKE}" stroke-width="2.2" '
            f'stroke-dasharray="{RELATIONSHIP_DASH}" stroke-linecap="round"',
        ),
    ]
    parts = [
        '<g class="legend">',
        _text(
            heading,
            f'x="{MARGIN}" y="{y + 16}" font-size="{HEADING_FONT_SIZE}" '
            f'font-weight="bold" fill="{INK}" class="chart-heading"',
        ),
        _text(
            subheading,
            f'x="{MARGIN}" y="{y + 38}" font-size="{SUBHEADING_FONT_SIZE}" '
            f'fill="{INK}" class="chart-subheading"',
        ),
    ]
    x = MARGIN
    for label, style in items:
        parts.append(
            f'<line x1="{x}" y1="{y + 62}" x2="{x + 44}" y2="{y + 62}" {style}/>'
            f'<text x="{x + 52}" y="{y + 66}" font-size="12" fill="{MUTED_INK}">'
            f"{escape(label)}</text>"
        )
        x += 70 + len(label) * 7
    parts.append("</g>")
    return "".join(parts)


def head_phrase(node: UnitNode, language: str | None = None) -> Marked:
    """Who heads the unit on the chart's date: where readers look for the head.

    "Director General: António Vitorino", or "Head post vacant: Deputy Director
    General for Operations"; empty for a unit without a head post. The post's title
    in ``language``, marked where it is the English one.
    """
    if node.head is None:
        return Marked("")
    title = text_in(node.head, "title", language)
    if node.head.holder is None:
        return fill(gettext("Head post vacant: %(post)s"), post=title)
    return fill(
        gettext("%(post)s: %(holder)s"),
        post=title,
        holder=node.head.holder.person_name,
    )


def head_text(node: UnitNode, language: str | None = None) -> str:
    """``head_phrase`` as plain text."""
    return head_phrase(node, language).text


def _lines(
    text: Marked,
    lines: list[list[Piece]],
    x: float,
    y: float,
    step: float,
    style: str,
) -> str:
    """One text of several lines (one ``tspan`` each), read as one by screen readers.

    An English fallback is marked ``lang="en"``: on the ``text`` when it is all of
    it, else on a ``tspan`` around each English run within a line."""
    if text.all_english:
        style += ' lang="en"'
        contents = [escape(line_text(text.text, pieces)) for pieces in lines]
    else:
        contents = [marked_markup(text, pieces) for pieces in lines]
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{y + index * step:.1f}">{content}</tspan>'
        for index, content in enumerate(contents)
    )
    return f"<text {style}>{spans}</text>"


def _box(
    box: PlacedBox,
    unit_url: Callable[[str], str],
    expand_url: Callable[[str], str],
    kind_labels: dict[str, str],
    language: str,
) -> str:
    node = box.node
    is_top = node.level == 0
    # A folded box has sub-units too, although they are not loaded.
    has_sub_units = bool(node.children) or box.hidden_descendants > 0
    fill = BRAND if is_top else ("#e8eef8" if has_sub_units else "#ffffff")
    ink = "#ffffff" if is_top else INK
    muted = "#ffffff" if is_top else MUTED_INK
    text = _box_text(node, language)
    label = text.name.text
    short_name = text_in(node, "short_name", language).text
    if short_name:
        label += f" ({short_name})"
    tooltip = f"{label} — {kind_labels.get(node.kind, node.kind)}"
    if node.head is not None:
        holder = node.head.holder.person_name if node.head.holder else gettext("vacant")
        tooltip += f"; {text_in(node.head, 'title', language).text}: {holder}"
    parts = [
        f'<g class="unit" data-slug={quoteattr(node.slug)}>',
        f"<a href={quoteattr(unit_url(node.slug))}>",
        f"<title>{escape(tooltip)}</title>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{BOX_WIDTH}" '
        f'height="{box.height:.1f}" rx="6" fill="{fill}" stroke="{BRAND}" '
        'stroke-width="1.2" class="box"/>',
    ]
    x = box.x + 10
    parts.append(
        _lines(
            text.name,
            text.name_lines,
            x,
            box.y + NAME_TOP,
            NAME_LINE_HEIGHT,
            f'font-size="{NAME_FONT_SIZE}" font-weight="bold" fill="{ink}" '
            'class="name"',
        )
    )
    if text.head_lines:
        head_lines = text.head_lines
        # The head stands at the foot of the box, level across a row of boxes.
        bottom = box.y + box.height - TEXT_BOTTOM
        if box.hidden_descendants:
            bottom -= BADGE_ROOM
        parts.append(
            _lines(
                text.head,
                head_lines,
                x,
                bottom - (len(head_lines) - 1) * HEAD_LINE_HEIGHT,
                HEAD_LINE_HEIGHT,
                f'font-size="{HEAD_FONT_SIZE}" fill="{muted}" class="head"',
            )
        )
    parts.append("</a>")
    if box.hidden_descendants:
        badge_x = box.x + BOX_WIDTH - 46
        badge_y = box.y + box.height - 12
        count = box.hidden_descendants
        opens = ngettext(
            "Open the %(count)s sub-unit of %(name)s",
            "Open the %(count)s sub-units of %(name)s",
            count,
        ) % {"count": count, "name": label}
        parts.append(
            f'<a href={quoteattr(expand_url(node.slug))} class="expand" '
            f"aria-label={quoteattr(f'+{count}: {opens}')}>"
            f"<title>{escape(opens)}</title>"
            f'<rect x="{badge_x:.1f}" y="{badge_y:.1f}" width="52" height="22" '
            f'rx="11" fill="{BRAND}" stroke="#ffffff" stroke-width="1.5"/>'
            f'<text x="{badge_x + 26:.1f}" y="{badge_y + 15:.1f}" font-size="12" '
            f'font-weight="bold" fill="#ffffff" text-anchor="middle">+{count}</text>'
            "</a>"
        )
    parts.append("</g>")
    return "".join(parts)

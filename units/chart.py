"""The org chart as an SVG picture, laid out on the server.

Laying out on the server means the picture works without JavaScript, prints, and
exports to PNG/PDF identically (CairoSVG renders the very same markup). The layout is a
compact org chart: a unit whose sub-units have no visible sub-units of their own stacks
them in a column below it; otherwise the sub-trees stand side by side under it. That
keeps the seed organization readable at a glance, and a tree of thousands of units stays
usable because levels below ``max_depth`` are folded into a "+N" badge that opens the
sub-tree on its own.

Every style is a presentation attribute (not a stylesheet) so that exported files look
the same as the page in any viewer.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from units.models import ReportingLine
from units.selectors import UnitNode

BOX_WIDTH = 200
BOX_HEIGHT = 74
HORIZONTAL_GAP = 24
LEVEL_GAP = 44
STACK_INDENT = 22
STACK_GAP = 12
MARGIN = 24
LEGEND_HEIGHT = 78
NAME_LINE_CHARS = 28
NAME_LINES = 3
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


@dataclass(slots=True)
class ChartLink:
    """A dotted-line relationship to draw between two units (by slug)."""

    source_slug: str
    target_slug: str
    label: str


@dataclass(slots=True)
class PlacedBox:
    node: UnitNode
    x: float
    y: float
    hidden_descendants: int = 0


@dataclass(slots=True)
class _Block:
    """The measured footprint of a sub-tree, before it is given a position."""

    node: UnitNode
    width: float
    height: float
    stacked: bool
    children: list[_Block] = field(default_factory=list)
    hidden_descendants: int = 0


@dataclass(slots=True)
class ChartLayout:
    boxes: list[PlacedBox]
    edges: list[tuple[str, str]]  # (path data, reporting line)
    width: float
    height: float


def _count_descendants(node: UnitNode) -> int:
    return sum(1 for _ in node.walk()) - 1


def _measure(node: UnitNode, depth: int, max_depth: int) -> _Block:
    if depth >= max_depth:
        return _Block(
            node,
            BOX_WIDTH,
            BOX_HEIGHT,
            stacked=False,
            hidden_descendants=_count_descendants(node),
        )
    children = [_measure(child, depth + 1, max_depth) for child in node.children]
    if not children:
        return _Block(node, BOX_WIDTH, BOX_HEIGHT, stacked=False)
    if all(not child.children for child in children):
        height = BOX_HEIGHT + len(children) * (BOX_HEIGHT + STACK_GAP)
        return _Block(
            node, STACK_INDENT + BOX_WIDTH, height, stacked=True, children=children
        )
    width = sum(child.width for child in children) + HORIZONTAL_GAP * (
        len(children) - 1
    )
    height = BOX_HEIGHT + LEVEL_GAP + max(child.height for child in children)
    return _Block(node, max(width, BOX_WIDTH), height, stacked=False, children=children)


def _place(
    block: _Block,
    left: float,
    top: float,
    boxes: list[PlacedBox],
    edges: list[tuple[str, str]],
) -> None:
    if block.stacked:
        boxes.append(PlacedBox(block.node, left, top, block.hidden_descendants))
        trunk_x = left + STACK_INDENT / 2
        # Each child owns the trunk segment from the previous child down to itself, so
        # an oversight line stays dashed only where it leads to an overseen unit.
        trunk_y = top + BOX_HEIGHT
        for index, child in enumerate(block.children):
            child_top = top + BOX_HEIGHT + STACK_GAP + index * (BOX_HEIGHT + STACK_GAP)
            child_left = left + STACK_INDENT
            middle = child_top + BOX_HEIGHT / 2
            edges.append(
                (
                    f"M{trunk_x:.1f},{trunk_y:.1f} V{middle:.1f} H{child_left:.1f}",
                    child.node.reporting_line,
                )
            )
            trunk_y = middle
            boxes.append(
                PlacedBox(child.node, child_left, child_top, child.hidden_descendants)
            )
        return
    box_left = left + (block.width - BOX_WIDTH) / 2
    boxes.append(PlacedBox(block.node, box_left, top, block.hidden_descendants))
    if not block.children:
        return
    children_width = sum(child.width for child in block.children) + HORIZONTAL_GAP * (
        len(block.children) - 1
    )
    child_left = left + (block.width - children_width) / 2
    child_top = top + BOX_HEIGHT + LEVEL_GAP
    parent_x = box_left + BOX_WIDTH / 2
    bus_y = top + BOX_HEIGHT + LEVEL_GAP / 2
    for child in block.children:
        # A stacked block keeps its head box at its left edge; others centre it.
        child_box_x = (
            child_left if child.stacked else child_left + (child.width - BOX_WIDTH) / 2
        )
        edges.append(
            (
                f"M{parent_x:.1f},{top + BOX_HEIGHT:.1f} V{bus_y:.1f} "
                f"H{child_box_x + BOX_WIDTH / 2:.1f} V{child_top:.1f}",
                child.node.reporting_line,
            )
        )
        _place(child, child_left, child_top, boxes, edges)
        child_left += child.width + HORIZONTAL_GAP


def depth_that_fits(roots: Sequence[UnitNode], *, max_boxes: int, ceiling: int) -> int:
    """The most levels (at least one, at most ``ceiling``) that draw ``max_boxes`` or fewer.

    A large organization then opens as a readable overview rather than a picture
    thousands of boxes wide; its folded branches open one at a time.
    """
    per_level: dict[int, int] = {}
    stack = [(root, 0) for root in roots]
    while stack:
        node, depth = stack.pop()
        per_level[depth] = per_level.get(depth, 0) + 1
        if depth < ceiling:
            stack.extend((child, depth + 1) for child in node.children)
    shown = per_level.get(0, 0)
    best = 1
    for depth in range(1, ceiling + 1):
        shown += per_level.get(depth, 0)
        if shown > max_boxes:
            break
        best = depth
    return best


def layout(roots: Sequence[UnitNode], *, max_depth: int) -> ChartLayout:
    """Position every unit down to ``max_depth`` levels below the roots."""
    boxes: list[PlacedBox] = []
    edges: list[tuple[str, str]] = []
    left = MARGIN
    height = 0.0
    for root in roots:
        block = _measure(root, 0, max_depth)
        _place(block, left, MARGIN + LEGEND_HEIGHT, boxes, edges)
        left += block.width + HORIZONTAL_GAP * 2
        height = max(height, block.height)
    width = max(left - HORIZONTAL_GAP * 2 + MARGIN, 560)
    return ChartLayout(boxes, edges, width, height + LEGEND_HEIGHT + MARGIN * 2)


def wrap(text: str, width: int = NAME_LINE_CHARS, lines: int = NAME_LINES) -> list[str]:
    """Greedy word wrap to at most ``lines`` lines, with an ellipsis if cut."""
    result: list[str] = []
    current = ""
    words = text.split()
    for index, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
            continue
        result.append(current)
        current = word
        if len(result) == lines:
            current = ""
            remaining = " ".join(words[index:])
            if remaining:
                last = result[-1]
                result[-1] = (last[: width - 1].rstrip() + "…") if last else "…"
            break
    if current:
        result.append(current)
    return [line if len(line) <= width else line[: width - 1] + "…" for line in result]


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


def _relationship_path(source: PlacedBox, target: PlacedBox) -> str:
    """A curve between the facing sides of two boxes, bowed so it clears the lines."""
    sx, sy = source.x + BOX_WIDTH / 2, source.y + BOX_HEIGHT / 2
    tx, ty = target.x + BOX_WIDTH / 2, target.y + BOX_HEIGHT / 2
    if abs(tx - sx) >= abs(ty - sy):
        sx += math.copysign(BOX_WIDTH / 2, tx - sx)
        tx -= math.copysign(BOX_WIDTH / 2, tx - sx)
    else:
        sy += math.copysign(BOX_HEIGHT / 2, ty - sy)
        ty -= math.copysign(BOX_HEIGHT / 2, ty - sy)
    bow = min(80.0, 0.25 * math.hypot(tx - sx, ty - sy))
    cx, cy = (sx + tx) / 2, (sy + ty) / 2 - bow
    return f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {tx:.1f},{ty:.1f}"


def render_svg(
    roots: Sequence[UnitNode],
    *,
    links: Iterable[ChartLink] = (),
    max_depth: int,
    title: str,
    unit_url: Callable[[str], str],
    expand_url: Callable[[str], str],
    kind_labels: dict[str, str],
    as_of: datetime.date | None = None,
) -> str:
    """The chart as a standalone SVG document (inline it, or serve it as a file)."""
    chart = layout(roots, max_depth=max_depth)
    by_slug = {box.node.slug: box for box in chart.boxes}
    # A relationship with a folded unit is drawn to the box that folds it.
    for box in chart.boxes:
        if box.hidden_descendants:
            for descendant in box.node.walk():
                by_slug.setdefault(descendant.slug, box)
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
        f'width="{chart.width:.0f}" height="{chart.height:.0f}" '
        f'viewBox="0 0 {chart.width:.0f} {chart.height:.0f}" '
        f'font-family="{FONT_FAMILY}" class="org-chart" '
        f'aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">Boxes are units, linked to their pages. Solid lines: '
        "direct supervision. Long dashes: oversight. Dotted curves: dotted-line "
        "relationships. A “+N” badge opens a folded sub-tree.</desc>",
        f'<rect x="0" y="0" width="{chart.width:.0f}" height="{chart.height:.0f}" '
        'fill="#ffffff"/>',
        '<defs><marker id="relationship-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{RELATIONSHIP_STROKE}"/></marker></defs>',
    ]
    parts.append(_legend(title, as_of))
    parts.append('<g class="edges" fill="none">')
    for path, reporting_line in chart.edges:
        parts.append(f'<path d="{path}" {_edge_style(reporting_line)}/>')
    parts.append("</g>")
    parts.append('<g class="relationships" fill="none">')
    for link in links:
        source, target = by_slug.get(link.source_slug), by_slug.get(link.target_slug)
        if source is None or target is None or source is target:
            continue
        parts.append(
            f'<path d="{_relationship_path(source, target)}" '
            f'stroke="{RELATIONSHIP_STROKE}" stroke-width="2.2" '
            f'stroke-dasharray="{RELATIONSHIP_DASH}" stroke-linecap="round" '
            'marker-end="url(#relationship-arrow)" class="edge edge-relationship">'
            f"<title>{escape(link.label)}</title></path>"
        )
    parts.append("</g>")
    parts.append('<g class="units">')
    for box in chart.boxes:
        parts.append(_box(box, unit_url, expand_url, kind_labels))
    parts.append("</g></svg>")
    return "".join(parts)


def _legend(title: str, as_of: datetime.date | None) -> str:
    heading = title if as_of is None else f"{title} — as of {as_of:%-d %B %Y}"
    y = MARGIN
    items = [
        ("Direct supervision", f'stroke="{SUPERVISION_STROKE}" stroke-width="1.5"'),
        (
            "Oversight",
            f'stroke="{OVERSIGHT_STROKE}" stroke-width="2" '
            f'stroke-dasharray="{OVERSIGHT_DASH}"',
        ),
        (
            "Dotted-line relationship",
            f'stroke="{RELATIONSHIP_STROKE}" stroke-width="2.2" '
            f'stroke-dasharray="{RELATIONSHIP_DASH}" stroke-linecap="round"',
        ),
    ]
    parts = [
        f'<g class="legend"><text x="{MARGIN}" y="{y + 12}" font-size="16" '
        f'font-weight="bold" fill="{INK}">{escape(heading)}</text>'
    ]
    x = MARGIN
    for label, style in items:
        parts.append(
            f'<line x1="{x}" y1="{y + 40}" x2="{x + 44}" y2="{y + 40}" {style}/>'
            f'<text x="{x + 52}" y="{y + 44}" font-size="12" fill="{MUTED_INK}">'
            f"{escape(label)}</text>"
        )
        x += 70 + len(label) * 7
    parts.append("</g>")
    return "".join(parts)


def _box(
    box: PlacedBox,
    unit_url: Callable[[str], str],
    expand_url: Callable[[str], str],
    kind_labels: dict[str, str],
) -> str:
    node = box.node
    is_top = node.level == 0
    fill = BRAND if is_top else ("#e8eef8" if node.children else "#ffffff")
    ink = "#ffffff" if is_top else INK
    muted = "#ffffff" if is_top else MUTED_INK
    name_lines = wrap(node.name)
    if node.head is None:
        head_line = kind_labels.get(node.kind, node.kind)
    elif node.head.holder is None:
        head_line = "Head post vacant"
    else:
        head_line = node.head.holder.person_name
    head_line = wrap(head_line, width=34, lines=1)[0] if head_line else ""
    label = str(node.name)
    if node.short_name:
        label += f" ({node.short_name})"
    tooltip = f"{label} — {kind_labels.get(node.kind, node.kind)}"
    if node.head is not None:
        holder = node.head.holder.person_name if node.head.holder else "vacant"
        tooltip += f"; {node.head.title}: {holder}"
    parts = [
        f'<g class="unit" data-slug={quoteattr(node.slug)}>',
        f"<a href={quoteattr(unit_url(node.slug))}>",
        f"<title>{escape(tooltip)}</title>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{BOX_WIDTH}" '
        f'height="{BOX_HEIGHT}" rx="6" fill="{fill}" stroke="{BRAND}" '
        'stroke-width="1.2" class="box"/>',
    ]
    text_y = box.y + 18
    for line in name_lines:
        parts.append(
            f'<text x="{box.x + 10:.1f}" y="{text_y:.1f}" font-size="12" '
            f'font-weight="bold" fill="{ink}">{escape(line)}</text>'
        )
        text_y += 15
    parts.append(
        f'<text x="{box.x + 10:.1f}" y="{box.y + BOX_HEIGHT - 9:.1f}" '
        f'font-size="11" fill="{muted}">{escape(head_line)}</text>'
    )
    parts.append("</a>")
    if box.hidden_descendants:
        badge_x = box.x + BOX_WIDTH - 46
        badge_y = box.y + BOX_HEIGHT - 12
        count = box.hidden_descendants
        noun = "sub-unit" if count == 1 else "sub-units"
        parts.append(
            f'<a href={quoteattr(expand_url(node.slug))} class="expand" '
            f"aria-label={quoteattr(f'+{count}: open the {count} {noun} of {label}')}>"
            f"<title>Open the {count} {noun} of {escape(label)}</title>"
            f'<rect x="{badge_x:.1f}" y="{badge_y:.1f}" width="52" height="22" '
            f'rx="11" fill="{BRAND}" stroke="#ffffff" stroke-width="1.5"/>'
            f'<text x="{badge_x + 26:.1f}" y="{badge_y + 15:.1f}" font-size="12" '
            f'font-weight="bold" fill="#ffffff" text-anchor="middle">+{count}</text>'
            "</a>"
        )
    parts.append("</g>")
    return "".join(parts)

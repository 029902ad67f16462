"""The org chart as an SVG picture, laid out on the server.

Laying out on the server means the picture works without JavaScript, prints, and
exports to PNG/PDF identically (CairoSVG renders the very same markup). The layout is a
compact org chart: a unit whose sub-units have no visible sub-units of their own stacks
them in a column below it; otherwise the sub-trees stand side by side under it. That
keeps the seed organization readable at a glance, and a tree of thousands of units stays
usable because levels below ``max_depth`` are folded into a "+N" badge that opens the
sub-tree on its own.

Dotted-line relationships are routed, not drawn straight: every tidy-tree layout leaves
free channels (the band between a unit and its sub-units, the gap beside every sub-tree,
the space above the top units), so a relationship climbs from each end through those
channels to the band of the units' nearest common superior, is then straightened where a
shorter orthogonal path is free, and parallel lines sharing a channel are set apart. A
dotted line therefore never passes behind a box other than its two ends.

Every style is a presentation attribute (not a stylesheet) so that exported files look
the same as the page in any viewer.
"""

from __future__ import annotations

import datetime
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
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

# Routing of dotted lines. A band's track runs this far below the superior's box, above
# the solid bus line in the middle of the band; above the top units it runs this far
# above them.
BAND_TRACK = 11
TOP_TRACK = 16
# Side ports sit this far below a box's top (a stacked unit's connector enters at its
# middle); top and bottom ports this far from the centre, where the solid lines are.
PORT_Y = 24
PORT_SHIFT = 40
# Straightened lines keep this far from boxes; lines sharing a channel are set apart by
# NUDGE and may come within NUDGE_CLEARANCE of a box.
CLEARANCE = 6
NUDGE = 4
NUDGE_CLEARANCE = 3
MAX_TRACK = 3
# The last piece of a dotted line is kept at least this long, for its arrowhead.
ARROW_ROOM = 11
BEND_COST = 60
LABEL_FONT_SIZE = 10
LABEL_CHAR_WIDTH = 5.6

Point = tuple[float, float]


class BoxRole(StrEnum):
    """Where a box stands in the layout, which decides how lines leave it."""

    FORK = "fork"  # sub-trees side by side below it, under a band
    COLUMN = "column"  # its sub-units stacked in a column below it
    STACKED = "stacked"  # one of the stacked sub-units of a column
    LEAF = "leaf"  # nothing drawn below it (it may fold a sub-tree)


@dataclass(slots=True)
class ChartLink:
    """A dotted-line relationship to draw between two units (by slug)."""

    source_slug: str
    target_slug: str
    label: str
    # The kind of relationship ("supports"), written along the line where it fits.
    kind: str = ""


@dataclass(slots=True, eq=False)
class PlacedBox:
    node: UnitNode
    x: float
    y: float
    hidden_descendants: int = 0
    parent: PlacedBox | None = None
    role: BoxRole = BoxRole.LEAF
    # Centres of the free gaps left and right of the box's sub-tree (of its column, for
    # a stacked box): nothing else is drawn there below the band above it.
    left_lane: float = 0.0
    right_lane: float = 0.0

    @property
    def centre(self) -> float:
        return self.x + BOX_WIDTH / 2

    def lane(self, side: int) -> float:
        return self.right_lane if side > 0 else self.left_lane


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
    # The corner points of each solid line, which dotted lines must not run along.
    lines: list[list[Point]] = field(default_factory=list)


def _count_descendants(node: UnitNode) -> int:
    return sum(1 for _ in node.walk()) - 1


def _measure(
    node: UnitNode,
    depth: int,
    max_depth: int,
    descendants: Mapping[int, int] | None,
) -> _Block:
    if depth >= max_depth:
        return _Block(
            node,
            BOX_WIDTH,
            BOX_HEIGHT,
            stacked=False,
            hidden_descendants=(
                _count_descendants(node)
                if descendants is None
                else descendants.get(node.id, 0)
            ),
        )
    children = [
        _measure(child, depth + 1, max_depth, descendants) for child in node.children
    ]
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


def _add_edge(chart: ChartLayout, points: list[Point], reporting_line: str) -> None:
    parts = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    previous = points[0]
    for point in points[1:]:
        if point[0] == previous[0]:
            parts.append(f"V{point[1]:.1f}")
        else:
            parts.append(f"H{point[0]:.1f}")
        previous = point
    chart.edges.append((" ".join(parts), reporting_line))
    chart.lines.append(points)


def _pieces(lines: Iterable[list[Point]]) -> Iterable[tuple[Point, Point]]:
    """The straight pieces of lines given by their corner points."""
    for points in lines:
        yield from zip(points, points[1:], strict=False)


def _place(
    block: _Block,
    left: float,
    top: float,
    parent: PlacedBox | None,
    chart: ChartLayout,
) -> None:
    left_lane = left - HORIZONTAL_GAP / 2
    right_lane = left + block.width + HORIZONTAL_GAP / 2
    if block.stacked:
        head = PlacedBox(
            block.node,
            left,
            top,
            block.hidden_descendants,
            parent,
            BoxRole.COLUMN,
            left_lane,
            right_lane,
        )
        chart.boxes.append(head)
        trunk_x = left + STACK_INDENT / 2
        # Each child owns the trunk segment from the previous child down to itself, so
        # an oversight line stays dashed only where it leads to an overseen unit.
        trunk_y = top + BOX_HEIGHT
        for index, child in enumerate(block.children):
            child_top = top + BOX_HEIGHT + STACK_GAP + index * (BOX_HEIGHT + STACK_GAP)
            child_left = left + STACK_INDENT
            middle = child_top + BOX_HEIGHT / 2
            _add_edge(
                chart,
                [(trunk_x, trunk_y), (trunk_x, middle), (child_left, middle)],
                child.node.reporting_line,
            )
            trunk_y = middle
            chart.boxes.append(
                PlacedBox(
                    child.node,
                    child_left,
                    child_top,
                    child.hidden_descendants,
                    head,
                    BoxRole.STACKED,
                    left_lane,
                    right_lane,
                )
            )
        return
    box_left = left + (block.width - BOX_WIDTH) / 2
    box = PlacedBox(
        block.node,
        box_left,
        top,
        block.hidden_descendants,
        parent,
        BoxRole.FORK if block.children else BoxRole.LEAF,
        left_lane,
        right_lane,
    )
    chart.boxes.append(box)
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
        child_x = child_box_x + BOX_WIDTH / 2
        _add_edge(
            chart,
            [
                (parent_x, top + BOX_HEIGHT),
                (parent_x, bus_y),
                (child_x, bus_y),
                (child_x, child_top),
            ],
            child.node.reporting_line,
        )
        _place(child, child_left, child_top, box, chart)
        child_left += child.width + HORIZONTAL_GAP


def depth_that_fits(
    units_per_level: Mapping[int, int], *, max_boxes: int, ceiling: int
) -> int:
    """The most levels (at least one, at most ``ceiling``) that draw ``max_boxes`` or fewer.

    ``units_per_level`` counts the units on each level, the roots' being 0, at least
    down to ``ceiling`` (``PartialTree.units_per_level``). A large organization then
    opens as a readable overview rather than a picture thousands of boxes wide; its
    folded branches open one at a time.
    """
    shown = units_per_level.get(0, 0)
    best = 1
    for depth in range(1, ceiling + 1):
        shown += units_per_level.get(depth, 0)
        if shown > max_boxes:
            break
        best = depth
    return best


def layout(
    roots: Sequence[UnitNode],
    *,
    max_depth: int,
    descendants: Mapping[int, int] | None = None,
) -> ChartLayout:
    """Position every unit down to ``max_depth`` levels below the roots.

    A unit on the last drawn level folds what lies below it into a "+N" badge: N is
    its entry in ``descendants`` (by unit id: ``PartialTree.descendants``, whose
    roots need be loaded no deeper than drawn) or, without it, counted by walking
    ``roots``, which are then whole trees.
    """
    chart = ChartLayout([], [], 0.0, 0.0)
    left = MARGIN
    height = 0.0
    for root in roots:
        block = _measure(root, 0, max_depth, descendants)
        _place(block, left, MARGIN + LEGEND_HEIGHT, None, chart)
        left += block.width + HORIZONTAL_GAP * 2
        height = max(height, block.height)
    chart.width = max(left - HORIZONTAL_GAP * 2 + MARGIN, 560)
    chart.height = height + LEGEND_HEIGHT + MARGIN * 2
    return chart


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


Rect = tuple[float, float, float, float]


class _Obstacles:
    """The boxes and their "+N" badges, indexed to test level and upright segments.

    Rectangles are filed in horizontal strips sorted by left edge and in vertical
    strips sorted by top edge; a segment looks only at the few strips it lies in and,
    by bisection, at the rectangles that can reach it, so a line across a chart of
    thousands of boxes stays cheap to test.
    """

    STRIP = 128

    def __init__(self, boxes: Iterable[PlacedBox]) -> None:
        rects: list[tuple[Rect, PlacedBox]] = []
        for box in boxes:
            rects.append(((box.x, box.y, box.x + BOX_WIDTH, box.y + BOX_HEIGHT), box))
            if box.hidden_descendants:
                x, y = box.x + BOX_WIDTH - 46, box.y + BOX_HEIGHT - 12
                rects.append(((x, y, x + 52, y + 22), box))
        self.widest = max((rect[2] - rect[0] for rect, _box in rects), default=0.0)
        self.tallest = max((rect[3] - rect[1] for rect, _box in rects), default=0.0)
        self.rows = self._strips(rects, vertical=False)
        self.columns = self._strips(rects, vertical=True)

    def _strips(
        self, rects: list[tuple[Rect, PlacedBox]], *, vertical: bool
    ) -> dict[int, tuple[list[float], list[tuple[Rect, PlacedBox]]]]:
        across, along = (0, 1) if vertical else (1, 0)
        strips: dict[int, list[tuple[Rect, PlacedBox]]] = {}
        for rect, box in rects:
            first = int(rect[across] // self.STRIP)
            last = int(rect[across + 2] // self.STRIP)
            for strip in range(first, last + 1):
                strips.setdefault(strip, []).append((rect, box))
        result = {}
        for strip, members in strips.items():
            members.sort(key=lambda member: member[0][along])
            result[strip] = ([member[0][along] for member in members], members)
        return result

    def blocked(
        self,
        start: Point,
        end: Point,
        clearance: float,
        ignore: tuple[PlacedBox, ...] = (),
    ) -> bool:
        """Whether the segment comes within ``clearance`` of a box not in ``ignore``."""
        left, right = sorted((start[0], end[0]))
        top, bottom = sorted((start[1], end[1]))
        return self.rect_blocked(
            (left - clearance, top - clearance, right + clearance, bottom + clearance),
            ignore,
        )

    def rect_blocked(self, rect: Rect, ignore: tuple[PlacedBox, ...] = ()) -> bool:
        """Whether the rectangle overlaps a box (or badge) not in ``ignore``."""
        left, top, right, bottom = rect
        wide = right - left >= bottom - top
        strips, across, along, reach = (
            (self.rows, (top, bottom), (left, right), self.widest)
            if wide
            else (self.columns, (left, right), (top, bottom), self.tallest)
        )
        for strip in range(
            int(across[0] // self.STRIP), int(across[1] // self.STRIP) + 1
        ):
            found = strips.get(strip)
            if found is None:
                continue
            starts, members = found
            first = bisect_right(starts, along[0] - reach)
            last = bisect_left(starts, along[1])
            for (box_left, box_top, box_right, box_bottom), box in members[first:last]:
                if (
                    left < box_right
                    and right > box_left
                    and top < box_bottom
                    and bottom > box_top
                    and not any(box is ignored for ignored in ignore)
                ):
                    return True
        return False


class _Lines:
    """Level and upright lines by their height or abscissa, to keep labels off them."""

    def __init__(self) -> None:
        self.level: dict[float, list[tuple[float, float, object]]] = {}
        self.upright: dict[float, list[tuple[float, float, object]]] = {}
        self._sorted: tuple[list[float], list[float]] | None = None

    def add(self, start: Point, end: Point, owner: object = None) -> None:
        if start[1] == end[1]:
            low, high = sorted((start[0], end[0]))
            self.level.setdefault(start[1], []).append((low, high, owner))
        else:
            low, high = sorted((start[1], end[1]))
            self.upright.setdefault(start[0], []).append((low, high, owner))
        self._sorted = None

    def crosses(self, rect: Rect, ignore: object = None) -> bool:
        """Whether a line not owned by ``ignore`` runs through the rectangle."""
        if self._sorted is None:
            self._sorted = (sorted(self.level), sorted(self.upright))
        heights, abscissas = self._sorted
        left, top, right, bottom = rect
        for height in heights[
            bisect_right(heights, top) : bisect_left(heights, bottom)
        ]:
            if any(
                low < right and high > left and owner is not ignore
                for low, high, owner in self.level[height]
            ):
                return True
        for at in abscissas[
            bisect_right(abscissas, left) : bisect_left(abscissas, right)
        ]:
            if any(
                low < bottom and high > top and owner is not ignore
                for low, high, owner in self.upright[at]
            ):
                return True
        return False


def _chain(box: PlacedBox) -> list[PlacedBox]:
    """The box and the boxes above it, up to its top unit."""
    chain = []
    current: PlacedBox | None = box
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain


def _track(fork: PlacedBox | None, top_track: float) -> float:
    """The height at which dotted lines cross the band below ``fork`` (or the top)."""
    if fork is None:
        return top_track
    return fork.y + BOX_HEIGHT + BAND_TRACK


def _side(box: PlacedBox, toward: PlacedBox) -> int:
    return 1 if toward.centre >= box.centre else -1


def _side_port(box: PlacedBox, side: int) -> list[Point]:
    """From one side of a box, above its middle, out to the gap beside it."""
    y = box.y + PORT_Y
    return [(box.x + BOX_WIDTH if side > 0 else box.x, y), (box.lane(side), y)]


def _climb(
    box: PlacedBox, ancestor: PlacedBox | None, side: int, top_track: float
) -> list[Point]:
    """From ``box`` up through the gaps and bands to the band of ``ancestor``.

    The gap beside every sub-tree is free from the band above it all the way down, and
    each band spans its sub-trees and the gaps beside them; so going up beside a sub-tree
    to the band of its superior, along that band to the gap beside the superior's own
    sub-tree, and so on, never meets a box. ``side`` says which gaps (right or left) to
    use. Ends on the band's track, or in the column's gap if ``ancestor`` is the column
    that stacks ``box``.
    """
    if box.role == BoxRole.STACKED and box.parent is not None:
        points = _side_port(box, side)
        beside = box.parent
        if beside is ancestor:
            return points
    else:
        parent = box.parent
        x = box.centre + side * PORT_SHIFT
        track = _track(parent, top_track)
        points = [(x, box.y), (x, track)]
        if parent is ancestor or parent is None:
            return points
        points.append((parent.lane(side), track))
        beside = parent
    while True:
        parent = beside.parent
        track = _track(parent, top_track)
        points.append((beside.lane(side), track))
        if parent is ancestor or parent is None:
            return points
        points.append((parent.lane(side), track))
        beside = parent


def _structural_route(
    source: PlacedBox, target: PlacedBox, top_track: float
) -> list[Point]:
    """A route through the layout's channels that is free by construction."""
    above_source = set(_chain(source))
    common = next((box for box in _chain(target) if box in above_source), None)
    if common is source or common is target:
        superior, inferior = (source, target) if common is source else (target, source)
        if superior.role == BoxRole.COLUMN:
            down = _side_port(superior, 1)
            up = _climb(inferior, superior, 1, top_track)
        else:
            side = _side(superior, inferior)
            x = superior.centre + side * PORT_SHIFT
            down = [(x, superior.y + BOX_HEIGHT), (x, _track(superior, top_track))]
            up = _climb(inferior, superior, -side, top_track)
        route = down + up[::-1]
        return route if common is source else route[::-1]
    if common is not None and common.role == BoxRole.COLUMN:
        side = 1
        other_side = 1
    else:
        side = _side(source, target)
        other_side = -side
    return (
        _climb(source, common, side, top_track)
        + _climb(target, common, other_side, top_track)[::-1]
    )


def _direction(start: Point, end: Point) -> tuple[int, int]:
    return (
        (end[0] > start[0]) - (end[0] < start[0]),
        (end[1] > start[1]) - (end[1] < start[1]),
    )


def _tidy(points: list[Point]) -> list[Point]:
    """Without repeated points or points in the middle of a straight run."""
    result: list[Point] = []
    for point in points:
        if result and point == result[-1]:
            continue
        if len(result) >= 2:
            before, middle = result[-2], result[-1]
            if (before[0] == middle[0] == point[0]) or (
                before[1] == middle[1] == point[1]
            ):
                result[-1] = point
                continue
        result.append(point)
    return result


def _bends(points: list[Point]) -> int:
    return max(len(points) - 2, 0)


def _length(points: list[Point]) -> float:
    return sum(
        abs(end[0] - start[0]) + abs(end[1] - start[1])
        for start, end in zip(points, points[1:], strict=False)
    )


def _cost(points: list[Point]) -> float:
    return _length(points) + BEND_COST * _bends(points)


def _free(
    points: list[Point],
    obstacles: _Obstacles,
    source: PlacedBox,
    target: PlacedBox,
    clearance: float,
) -> bool:
    """Whether a route keeps off every box; its first and last pieces touch their ends."""
    last = len(points) - 2
    for index, (start, end) in enumerate(zip(points, points[1:], strict=False)):
        if (start[0] != end[0] and start[1] != end[1]) or start == end:
            return False
        ends = (source,) if index == 0 else ()
        ends += (target,) if index == last else ()
        if obstacles.blocked(start, end, clearance, ends):
            return False
        # A first or last piece may touch only the border of its own box.
        if any(_crosses_interior(start, end, box) for box in ends):
            return False
    return True


def _crosses_interior(start: Point, end: Point, box: PlacedBox) -> bool:
    left, right = sorted((start[0], end[0]))
    top, bottom = sorted((start[1], end[1]))
    return (
        left < box.x + BOX_WIDTH
        and right > box.x
        and top < box.y + BOX_HEIGHT
        and bottom > box.y
    )


def _straighten(
    points: list[Point],
    obstacles: _Obstacles,
) -> list[Point]:
    """Replace detours by shorter free orthogonal paths, keeping both end pieces."""
    points = _tidy(points)
    index = 1
    while index < len(points) - 2:
        for later in range(len(points) - 2, index + 1, -1):
            shortcut = _shortcut(points, index, later, obstacles)
            if shortcut is not None:
                points = _tidy(points[: index + 1] + shortcut + points[later:])
                break
        index += 1
    return points


def _shortcut(
    points: list[Point], index: int, later: int, obstacles: _Obstacles
) -> list[Point] | None:
    """Corner points of a free path with at most one bend from one point to another."""
    start, end = points[index], points[later]
    incoming = _direction(points[index - 1], start)
    outgoing = _direction(end, points[later + 1])
    if start[0] == end[0] or start[1] == end[1]:
        options: list[list[Point]] = [[]]
    else:
        options = [[(start[0], end[1])], [(end[0], start[1])]]
    best: list[Point] | None = None
    best_cost = _cost(points[index - 1 : later + 2])
    for corners in options:
        path = [start, *corners, end]
        first = _direction(path[0], path[1])
        last = _direction(path[-2], path[-1])
        if first == (-incoming[0], -incoming[1]) or last == (
            -outgoing[0],
            -outgoing[1],
        ):
            continue
        if any(
            obstacles.blocked(a, b, CLEARANCE)
            for a, b in zip(path, path[1:], strict=False)
        ):
            continue
        cost = _cost(_tidy([points[index - 1], *path, points[later + 1]]))
        if cost < best_cost:
            best, best_cost = corners, cost
    return best


def _direct_routes(source: PlacedBox, target: PlacedBox) -> list[list[Point]]:
    """Straight and one-bend routes between facing sides, tried before the channels."""
    routes: list[list[Point]] = []
    side = _side(source, target)
    source_edge = source.x + BOX_WIDTH if side > 0 else source.x
    target_edge = target.x if side > 0 else target.x + BOX_WIDTH
    # Side by side: one straight line between facing sides, clear of the connector
    # that enters a stacked box at its middle.
    top = max(source.y, target.y) + 10
    bottom = min(source.y, target.y) + BOX_HEIGHT - 10
    if top <= bottom and (target_edge - source_edge) * side > 0:
        for y in (max(source.y, target.y) + PORT_Y, (top + bottom) / 2, top, bottom):
            if top <= y <= bottom and all(
                abs(y - (box.y + BOX_HEIGHT / 2)) > NUDGE for box in (source, target)
            ):
                routes.append([(source_edge, y), (target_edge, y)])
                break
    # One above the other: a straight line between facing top and bottom, clear of the
    # solid lines at the centres.
    left = max(source.x, target.x) + 10
    right = min(source.x, target.x) + BOX_WIDTH - 10
    down = 1 if target.y > source.y else -1
    source_y = source.y + BOX_HEIGHT if down > 0 else source.y
    target_y = target.y if down > 0 else target.y + BOX_HEIGHT
    if left <= right and (target_y - source_y) * down > 0:
        middle = (left + right) / 2
        for x in (middle, middle + PORT_SHIFT, middle - PORT_SHIFT):
            if left <= x <= right and all(
                abs(x - box.centre) > PORT_SHIFT / 2 for box in (source, target)
            ):
                routes.append([(x, source_y), (x, target_y)])
                break
    # One bend: out of a side of one box and into the top or bottom of the other.
    for first, second, reverse in ((source, target, False), (target, source, True)):
        toward = _side(first, second)
        edge = first.x + BOX_WIDTH if toward > 0 else first.x
        y = first.y + PORT_Y
        x = second.centre - toward * PORT_SHIFT
        if (x - edge) * toward <= 0:
            continue
        if y < second.y:
            end_y = second.y
        elif y > second.y + BOX_HEIGHT:
            end_y = second.y + BOX_HEIGHT
        else:
            continue
        route = [(edge, y), (x, y), (x, end_y)]
        routes.append(route[::-1] if reverse else route)
    return routes


def _route(
    source: PlacedBox,
    target: PlacedBox,
    obstacles: _Obstacles,
    top_track: float,
) -> list[Point]:
    """The corner points of an orthogonal dotted line from ``source`` to ``target``."""
    structural = _tidy(_structural_route(source, target, top_track))
    candidates = [_straighten(structural, obstacles)]
    candidates.extend(
        route
        for route in _direct_routes(source, target)
        if _free(route, obstacles, source, target, CLEARANCE)
    )
    best = min(candidates, key=_cost)
    if _free(best, obstacles, source, target, NUDGE_CLEARANCE):
        return best
    return structural


def _shortens_arrow(points: list[list[float]], axis: int, offset: float) -> bool:
    """Whether moving the next-to-last corner leaves the arrowhead too little room."""
    corner, tip = points[-2], points[-1]
    before = abs(tip[axis] - corner[axis])
    after = abs(tip[axis] - (corner[axis] + offset))
    return after < min(before, ARROW_ROOM)


def _separate(
    routes: list[tuple[list[Point], PlacedBox, PlacedBox]],
    solid: Iterable[tuple[Point, Point]],
    obstacles: _Obstacles,
) -> list[list[Point]]:
    """Set apart dotted pieces that would run on or right beside another line.

    Each piece, in turn, takes the first track (offsets 0, +NUDGE, -NUDGE, +2 NUDGE,
    ...) that keeps it NUDGE away from every parallel piece already placed and from
    the solid lines, and clear of the boxes; so each dotted line stays visible on its
    own. A piece with no such track keeps its place.
    """
    taken: dict[tuple[bool, int], list[tuple[float, float]]] = {}

    def span(start: Point, end: Point) -> tuple[bool, float, float, float]:
        vertical = start[0] == end[0]
        low, high = sorted((start[1], end[1]) if vertical else (start[0], end[0]))
        return vertical, start[0] if vertical else start[1], low, high

    def crowded(vertical: bool, at: float, low: float, high: float) -> bool:
        return any(
            low < other_high + 2 and other_low < high + 2
            for key in range(round(at) - NUDGE + 1, round(at) + NUDGE)
            for other_low, other_high in taken.get((vertical, key), ())
        )

    def take(vertical: bool, at: float, low: float, high: float) -> None:
        taken.setdefault((vertical, round(at)), []).append((low, high))

    # Only the solid lines near some dotted piece can be in the way.
    reach = NUDGE * (MAX_TRACK + 1)
    near = {
        (vertical, key)
        for points, _source, _target in routes
        for start, end in zip(points, points[1:], strict=False)
        for vertical in (start[0] == end[0],)
        for key in range(
            round(start[0] if vertical else start[1]) - reach,
            round(start[0] if vertical else start[1]) + reach + 1,
        )
    }
    for start, end in solid:
        vertical = start[0] == end[0]
        if (vertical, round(start[0] if vertical else start[1])) in near:
            take(*span(start, end))
    result = []
    for points, source, target in routes:
        shifted = [list(point) for point in points]
        last = len(points) - 2
        for piece in range(len(points) - 1):
            start, end = tuple(shifted[piece]), tuple(shifted[piece + 1])
            vertical, at, low, high = span(start, end)
            axis = 0 if vertical else 1
            ends = (source,) if piece == 0 else ()
            ends += (target,) if piece == last else ()
            for number in range(2 * MAX_TRACK + 1):
                offset = NUDGE * ((number + 1) // 2) * (1 if number % 2 else -1)
                moved_start, moved_end = list(start), list(end)
                moved_start[axis] += offset
                moved_end[axis] += offset
                a, b = (moved_start[0], moved_start[1]), (moved_end[0], moved_end[1])
                if crowded(vertical, at + offset, low, high) or obstacles.blocked(
                    a, b, NUDGE_CLEARANCE, ends
                ):
                    continue
                if any(_crosses_interior(a, b, box) for box in ends):
                    continue
                if piece == last - 1 and _shortens_arrow(shifted, axis, offset):
                    continue
                shifted[piece][axis] += offset
                shifted[piece + 1][axis] += offset
                take(vertical, at + offset, low, high)
                break
            else:
                take(vertical, at, low, high)
        result.append([(point[0], point[1]) for point in shifted])
    return result


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
    descendants: Mapping[int, int] | None = None,
    folded: Mapping[str, str] | None = None,
) -> str:
    """The chart as a standalone SVG document (inline it, or serve it as a file).

    ``descendants`` is as for ``layout()``. A relationship with a folded unit is
    drawn to the box that folds it: ``folded`` names that box for the units below the
    drawn levels (``PartialTree.folded``, by slug); without it the folded boxes'
    sub-trees are walked.
    """
    chart = layout(roots, max_depth=max_depth, descendants=descendants)
    by_slug = {box.node.slug: box for box in chart.boxes}
    if folded is None:
        for box in chart.boxes:
            if box.hidden_descendants:
                for descendant in box.node.walk():
                    by_slug.setdefault(descendant.slug, box)
    else:
        for slug, box_slug in folded.items():
            box = by_slug.get(box_slug)
            if box is not None and box.hidden_descendants:
                by_slug.setdefault(slug, box)
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
        f'width="{chart.width:.0f}" height="{chart.height:.0f}" '
        f'viewBox="0 0 {chart.width:.0f} {chart.height:.0f}" '
        f'font-family="{FONT_FAMILY}" class="org-chart" '
        f'aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">Boxes are units, linked to their pages. Solid lines: '
        "direct supervision. Long dashes: oversight. Dotted lines with an arrow, "
        "running between the boxes: dotted-line relationships, named along the line "
        "or in its tooltip. A “+N” badge opens a folded sub-tree.</desc>",
        f'<rect x="0" y="0" width="{chart.width:.0f}" height="{chart.height:.0f}" '
        'fill="#ffffff"/>',
        '<defs><marker id="relationship-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="5" markerHeight="5" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{RELATIONSHIP_STROKE}"/></marker></defs>',
    ]
    parts.append(_legend(title, as_of))
    parts.append('<g class="edges" fill="none">')
    for path, reporting_line in chart.edges:
        parts.append(f'<path d="{path}" {_edge_style(reporting_line)}/>')
    parts.append("</g>")
    parts.append('<g class="relationships" fill="none">')
    parts.extend(_relationships(chart, by_slug, links))
    parts.append("</g>")
    parts.append('<g class="units">')
    for box in chart.boxes:
        parts.append(_box(box, unit_url, expand_url, kind_labels))
    parts.append("</g></svg>")
    return "".join(parts)


def _relationships(
    chart: ChartLayout, by_slug: dict[str, PlacedBox], links: Iterable[ChartLink]
) -> list[str]:
    """Each relationship routed between the boxes, as a group with its title."""
    ends = []
    for link in links:
        source, target = by_slug.get(link.source_slug), by_slug.get(link.target_slug)
        if source is not None and target is not None and source is not target:
            ends.append((link, source, target))
    if not ends:
        return []
    obstacles = _Obstacles(chart.boxes)
    top_track = MARGIN + LEGEND_HEIGHT - TOP_TRACK
    drawn = [
        (link, source, target, _route(source, target, obstacles, top_track))
        for link, source, target in ends
    ]
    separated = _separate(
        [(points, source, target) for _link, source, target, points in drawn],
        _pieces(chart.lines),
        obstacles,
    )
    routes = [
        apart if _free(apart, obstacles, source, target, NUDGE_CLEARANCE) else points
        for (_link, source, target, points), apart in zip(drawn, separated, strict=True)
    ]
    # Labels go where they hide neither a box nor another line.
    lines = _Lines()
    if any(link.kind for link, *_ in drawn):
        for start, end in _pieces(chart.lines):
            lines.add(start, end)
    for points in routes:
        for start, end in zip(points, points[1:], strict=False):
            lines.add(start, end, points)
    labels: list[Rect] = []
    # White casings under all the dotted lines keep the dots readable where they cross
    # solid lines, without covering another dotted line or its arrowhead.
    casings = [
        '<g class="relationship-casings" stroke="#ffffff" stroke-width="6" '
        'stroke-linejoin="round">'
    ]
    parts = []
    for (link, source, target, _points), points in zip(drawn, routes, strict=True):
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
        if link.kind:
            parts.append(
                _relationship_label(points, link.kind, obstacles, lines, labels)
            )
        parts.append("</g>")
    casings.append("</g>")
    return casings + parts


def _relationship_label(
    points: list[Point],
    text: str,
    obstacles: _Obstacles,
    lines: _Lines,
    labels: list[Rect],
) -> str:
    """The kind written above the longest level piece it fits on, hiding nothing.

    The label may sit on its own line but not on a box, another line or another
    label; where no piece has room the kind stays in the line's tooltip only.
    """
    width = len(text) * LABEL_CHAR_WIDTH + 6
    height = LABEL_FONT_SIZE + 4
    pieces = sorted(
        (
            (abs(end[0] - start[0]), start, end)
            for start, end in zip(points, points[1:], strict=False)
            if start[1] == end[1]
        ),
        key=lambda piece: -piece[0],
    )
    for length, start, end in pieces:
        if length < width + 2 * PORT_Y:
            break
        middle = (start[0] + end[0]) / 2
        left, top = middle - width / 2, start[1] - height - 1
        rect = (left, top, left + width, top + height)
        if (
            obstacles.rect_blocked(rect)
            or lines.crosses(rect, ignore=points)
            or any(_overlap(rect, other) for other in labels)
        ):
            continue
        labels.append(rect)
        return (
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" '
            f'height="{height}" rx="3" fill="#ffffff" fill-opacity="0.85" '
            'class="relationship-label-back"/>'
            f'<text x="{middle:.1f}" y="{top + height - 4:.1f}" '
            f'font-size="{LABEL_FONT_SIZE}" fill="{RELATIONSHIP_STROKE}" '
            f'text-anchor="middle" class="relationship-label">{escape(text)}</text>'
        )
    return ""


def _overlap(first: Rect, second: Rect) -> bool:
    return (
        first[0] < second[2]
        and second[0] < first[2]
        and first[1] < second[3]
        and second[1] < first[3]
    )


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
    # A folded box has sub-units too, although they are not loaded.
    has_sub_units = bool(node.children) or box.hidden_descendants > 0
    fill = BRAND if is_top else ("#e8eef8" if has_sub_units else "#ffffff")
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

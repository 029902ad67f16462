"""Routing of the dotted-line relationships between the boxes of a laid-out chart.

Dotted-line relationships are routed, not drawn straight: every tidy-tree layout leaves
free channels (the band between a unit and its sub-units, the gap beside every sub-tree,
the space above the top units), so a relationship climbs from each end through those
channels to the band of the units' nearest common superior, is then straightened where a
shorter orthogonal path is free, and parallel lines sharing a channel are set apart. A
dotted line therefore never passes behind a box other than its two ends. In each band a
line has a track of its own (``plan_tracks``), away from the solid bus line, with room
above it for its label; in each gap beside a sub-tree it runs up or down, an upright
track of its own, ``LANE_SPACING`` from the next, with room on it for a number.

Why widen the gaps rather than squeeze more lines into them: a gap of the compact layout
is 24 units wide, room for about five lines nudged 4 apart and for no number on any of
them (a number is 16 wide), and a line within a column, or between neighbours, has no
other long piece to carry its label. The demand is known before the layout is final (the
gaps a route takes follow from the tree and, for a unit below its superior, from which
side of its middle it stands), so the layout reserves it: a gap with one line keeps its
plain width, and the chart is only as much wider as its crowded gaps need.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from units.chart.layout import (
    BOX_WIDTH,
    BoxRole,
    GapKey,
    PlacedBox,
    Point,
)

# Routing of dotted lines. A band's track runs this far below the superior's box, above
# the solid bus line in the middle of the band; above the top units it runs this far
# above them.
BAND_TRACK = 11
TOP_TRACK = 16
# Tracks of their own are this far apart: a label's height and a little air.
TRACK_SPACING = 22
# Upright tracks in a gap beside a sub-tree are this far apart: a number stands on
# its line clear of the lines beside it.
LANE_SPACING = 26
# Side ports sit this far below a box's top (a stacked unit's connector enters at its
# middle); top and bottom ports this far from the centre, where the solid lines are.
PORT_Y = 24
PORT_SHIFT = 40
# Straightened lines keep this far from boxes; lines sharing a channel are set apart by
# NUDGE and may come within NUDGE_CLEARANCE of a box.
CLEARANCE = 6
NUDGE = 4
NUDGE_CLEARANCE = 3
MAX_TRACK = 5
# The last piece of a dotted line is kept at least this long, for its arrowhead.
ARROW_ROOM = 11
BEND_COST = 60
# The shortest line with room for a numbered label on it.
SHORTEST_LABELLED = 24

Rect = tuple[float, float, float, float]


def _pieces(lines: Iterable[list[Point]]) -> Iterable[tuple[Point, Point]]:
    """The straight pieces of lines given by their corner points."""
    for points in lines:
        yield from zip(points, points[1:], strict=False)


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
            rects.extend((rect, box) for rect in _rects(box))
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


# The height at which one dotted line crosses the band below a unit (None: the space
# above the top units).
Track = Callable[[PlacedBox | None], float]
# The abscissa at which one dotted line runs up or down the gap on one side (1: right,
# -1: left) of a box's sub-tree (of its column, for a stacked box).
Lane = Callable[[PlacedBox, int], float]


def middle_lane(box: PlacedBox, side: int) -> float:
    """One track a gap, in its middle, for a layout drawn without room for more."""
    return box.lane(side)


def fixed_track(top_track: float) -> Track:
    """One track a band, for a layout drawn without room for the dotted lines."""

    def track(fork: PlacedBox | None) -> float:
        if fork is None:
            return top_track
        return fork.y + fork.height + BAND_TRACK

    return track


@dataclass(slots=True)
class TrackPlan:
    """Which track of each band and gap every dotted line takes, so that none shares one.

    Bands are named by the id of the unit above them (None: above the top units), gaps
    by their ``GapKey``. Each line crossing a band gets a track of its own,
    ``TRACK_SPACING`` apart, with room above it for the line's label; each line running
    along a gap gets an upright track of its own, ``LANE_SPACING`` apart, with room on
    it for a number. The layout widens each band and gap to hold them.
    """

    slots: list[dict[int | None, int]]
    counts: dict[int | None, int]
    lane_slots: list[dict[GapKey, int]] = field(default_factory=list)
    lane_counts: dict[GapKey, int] = field(default_factory=dict)

    def band_room(self) -> dict[int, float]:
        return {
            band: count * TRACK_SPACING
            for band, count in self.counts.items()
            if band is not None
        }

    def top_room(self) -> float:
        count = self.counts.get(None, 0)
        return count * TRACK_SPACING + TOP_TRACK if count else 0.0

    def gap_room(self) -> dict[GapKey, float]:
        """How much wider than ``HORIZONTAL_GAP`` each gap is drawn.

        One line keeps the middle of the plain gap (the seed chart's look); more
        stand ``LANE_SPACING`` apart, the outermost as far from the boxes as one
        alone would be.
        """
        return {
            gap: (count - 1) * LANE_SPACING
            for gap, count in self.lane_counts.items()
            if count > 1
        }

    def track(self, line: int, boxes_top: float) -> Track:
        """The tracks of the ``line``-th dotted line, in a layout made with this plan."""
        slots = self.slots[line]

        def track(fork: PlacedBox | None) -> float:
            key = None if fork is None else fork.node.id
            slot = slots.get(key, 0)
            if fork is None:
                above = self.counts.get(None, 1) - 1 - slot
                return boxes_top - TOP_TRACK - above * TRACK_SPACING
            return fork.y + fork.height + TRACK_SPACING * (slot + 1)

        return track

    def lane(self, line: int) -> Lane:
        """The upright tracks of the ``line``-th dotted line in the gaps it runs along."""
        slots = self.lane_slots[line]

        def lane(box: PlacedBox, side: int) -> float:
            key = box.gap(side)
            count = self.lane_counts.get(key, 1)
            slot = slots.get(key, (count - 1) / 2)
            return box.lane(side) + (slot - (count - 1) / 2) * LANE_SPACING

        return lane


def plan_tracks(ends: Iterable[tuple[PlacedBox, PlacedBox]]) -> TrackPlan:
    """Give each dotted line its own track in every band and gap its route takes.

    The bands a route crosses depend only on where the two units stand in the tree,
    so a first layout tells them; the gaps also on which side of a superior a unit
    stands, which the widened layout rarely changes (``render_svg`` plans again until
    the plan holds). The chart is then laid out again with the room.
    """
    plan = TrackPlan([], {})
    for source, target in ends:
        asked: dict[int | None, int] = {}
        lanes: dict[GapKey, int] = {}

        def record(
            fork: PlacedBox | None, asked: dict[int | None, int] = asked
        ) -> float:
            key = None if fork is None else fork.node.id
            if key not in asked:
                asked[key] = plan.counts.get(key, 0)
                plan.counts[key] = asked[key] + 1
            return 0.0

        def record_lane(
            box: PlacedBox, side: int, lanes: dict[GapKey, int] = lanes
        ) -> float:
            key = box.gap(side)
            if key not in lanes:
                lanes[key] = plan.lane_counts.get(key, 0)
                plan.lane_counts[key] = lanes[key] + 1
            return 0.0

        _structural_route(source, target, record, record_lane)
        plan.slots.append(asked)
        plan.lane_slots.append(lanes)
    return plan


def _side(box: PlacedBox, toward: PlacedBox) -> int:
    return 1 if toward.centre >= box.centre else -1


def _side_port(box: PlacedBox, side: int, lane_of: Lane) -> list[Point]:
    """From one side of a box, above its middle, out to the gap beside it."""
    y = box.y + PORT_Y
    return [(box.x + BOX_WIDTH if side > 0 else box.x, y), (lane_of(box, side), y)]


def _climb(
    box: PlacedBox,
    ancestor: PlacedBox | None,
    side: int,
    track_of: Track,
    lane_of: Lane,
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
        points = _side_port(box, side, lane_of)
        beside = box.parent
        if beside is ancestor:
            return points
    else:
        parent = box.parent
        x = box.centre + side * PORT_SHIFT
        track = track_of(parent)
        points = [(x, box.y), (x, track)]
        if parent is ancestor or parent is None:
            return points
        points.append((lane_of(parent, side), track))
        beside = parent
    while True:
        parent = beside.parent
        track = track_of(parent)
        points.append((lane_of(beside, side), track))
        if parent is ancestor or parent is None:
            return points
        points.append((lane_of(parent, side), track))
        beside = parent


def _structural_route(
    source: PlacedBox,
    target: PlacedBox,
    track_of: Track,
    lane_of: Lane = middle_lane,
) -> list[Point]:
    """A route through the layout's channels that is free by construction."""
    above_source = set(_chain(source))
    common = next((box for box in _chain(target) if box in above_source), None)
    if common is source or common is target:
        superior, inferior = (source, target) if common is source else (target, source)
        if superior.role == BoxRole.COLUMN:
            down = _side_port(superior, 1, lane_of)
            up = _climb(inferior, superior, 1, track_of, lane_of)
        else:
            side = _side(superior, inferior)
            x = superior.centre + side * PORT_SHIFT
            down = [(x, superior.y + superior.height), (x, track_of(superior))]
            up = _climb(inferior, superior, -side, track_of, lane_of)
        route = down + up[::-1]
        return route if common is source else route[::-1]
    if common is not None and common.role == BoxRole.COLUMN:
        side = 1
        other_side = 1
    else:
        side = _side(source, target)
        other_side = -side
    return (
        _climb(source, common, side, track_of, lane_of)
        + _climb(target, common, other_side, track_of, lane_of)[::-1]
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
        ends: tuple[PlacedBox, ...] = (source,) if index == 0 else ()
        ends += (target,) if index == last else ()
        if obstacles.blocked(start, end, clearance, ends):
            return False
        # A first or last piece may touch only the border of its own box.
        if any(_crosses_interior(start, end, box) for box in ends):
            return False
    return True


def _crosses_interior(start: Point, end: Point, box: PlacedBox) -> bool:
    """Whether the segment enters the box or its "+N" badge, not only their border."""
    left, right = sorted((start[0], end[0]))
    top, bottom = sorted((start[1], end[1]))
    return any(
        left < rect[2] and right > rect[0] and top < rect[3] and bottom > rect[1]
        for rect in _rects(box)
    )


def _rects(box: PlacedBox) -> list[Rect]:
    """The box and, if it folds a sub-tree, its "+N" badge (which juts out of it)."""
    rects = [(box.x, box.y, box.x + BOX_WIDTH, box.y + box.height)]
    if box.hidden_descendants:
        x, y = box.x + BOX_WIDTH - 46, box.y + box.height - 12
        rects.append((x, y, x + 52, y + 22))
    return rects


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
    bottom = min(source.y + source.height, target.y + target.height) - 10
    if top <= bottom and (target_edge - source_edge) * side > 0:
        for y in (max(source.y, target.y) + PORT_Y, (top + bottom) / 2, top, bottom):
            if top <= y <= bottom and all(
                abs(y - (box.y + box.height / 2)) > NUDGE for box in (source, target)
            ):
                routes.append([(source_edge, y), (target_edge, y)])
                break
    # One above the other: a straight line between facing top and bottom, clear of the
    # solid lines at the centres.
    left = max(source.x, target.x) + 10
    right = min(source.x, target.x) + BOX_WIDTH - 10
    down = 1 if target.y > source.y else -1
    source_y = source.y + source.height if down > 0 else source.y
    target_y = target.y if down > 0 else target.y + target.height
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
        elif y > second.y + second.height:
            end_y = second.y + second.height
        else:
            continue
        route = [(edge, y), (x, y), (x, end_y)]
        routes.append(route[::-1] if reverse else route)
    return routes


def _route(
    source: PlacedBox,
    target: PlacedBox,
    obstacles: _Obstacles,
    track_of: Track,
    lane_of: Lane = middle_lane,
    *,
    direct: bool = True,
    straighten: bool = True,
) -> list[Point]:
    """The corner points of an orthogonal dotted line from ``source`` to ``target``.

    ``direct`` False keeps the line in its channels, where it has tracks of its own
    (``plan_tracks``): for the second line between two boxes, whose direct line and
    its label would crowd the first one's, and for a line whose direct line has no
    room for its label. ``straighten`` False keeps it to its tracks all the way.
    """
    structural = _tidy(_structural_route(source, target, track_of, lane_of))
    candidates = [_straighten(structural, obstacles) if straighten else structural]
    # A direct line too short to carry even a number on it is not taken.
    candidates.extend(
        route
        for route in (_direct_routes(source, target) if direct else [])
        if _free(route, obstacles, source, target, CLEARANCE)
        and _length(route) >= SHORTEST_LABELLED
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
            start = (shifted[piece][0], shifted[piece][1])
            end = (shifted[piece + 1][0], shifted[piece + 1][1])
            vertical, at, low, high = span(start, end)
            axis = 0 if vertical else 1
            ends: tuple[PlacedBox, ...] = (source,) if piece == 0 else ()
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

"""Where each unit's box stands in the org chart.

The layout is a compact org chart: a unit whose sub-units have no visible sub-units of
their own stacks them in a column below it; otherwise the sub-trees stand side by side
under it. That keeps the seed organization readable at a glance, and a tree of
thousands of units stays usable because levels below ``max_depth`` are folded into a
"+N" badge that opens the sub-tree on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from units.selectors import UnitNode

BOX_WIDTH = 200
# The height of a box when nobody measures its text (``layout()``'s default), and the
# least height of any box.
BOX_HEIGHT = 74
HORIZONTAL_GAP = 24
LEVEL_GAP = 44
STACK_INDENT = 22
STACK_GAP = 12
MARGIN = 24
LEGEND_HEIGHT = 100

Point = tuple[float, float]
# A free gap beside a sub-tree, where dotted lines run up and down: (the unit id of the
# sub-tree on its left, 1), or (a top unit's id, -1) for the gap left of a top unit.
# The gap left of any other sub-tree is the one right of its left neighbour, and a
# sub-tree outermost on one side of its superior's shares its superior's gap there.
GapKey = tuple[int, int]
# How tall a unit's box must be to hold its text, given how many units it folds.
BoxHeight = Callable[["UnitNode", int], float]


def _fixed_height(node: UnitNode, hidden_descendants: int) -> float:
    return BOX_HEIGHT


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
    # Where ``label`` holds a unit's English name in a chart of another language
    # (character ranges; ``units.chart.texts.Marked``).
    english: tuple[tuple[int, int], ...] = ()


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
    height: float = BOX_HEIGHT
    # Which gaps those are (``GapKey``), for the tracks the dotted lines take in them.
    left_gap: GapKey = (0, -1)
    right_gap: GapKey = (0, 1)

    @property
    def centre(self) -> float:
        return self.x + BOX_WIDTH / 2

    def lane(self, side: int) -> float:
        return self.right_lane if side > 0 else self.left_lane

    def gap(self, side: int) -> GapKey:
        return self.right_gap if side > 0 else self.left_gap


@dataclass(slots=True)
class _Block:
    """The measured footprint of a sub-tree, before it is given a position."""

    node: UnitNode
    width: float
    height: float
    stacked: bool
    children: list[_Block] = field(default_factory=list)
    hidden_descendants: int = 0
    # Room added to the band below the box for the dotted lines crossing it.
    band_room: float = 0.0
    # The height of the unit's own box (its sub-tree's is ``height``).
    box_height: float = BOX_HEIGHT
    # The widths of the gaps between its sub-trees standing side by side.
    gaps: list[float] = field(default_factory=list)


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


def _hidden(
    node: UnitNode, depth: int, max_depth: int, descendants: Mapping[int, int] | None
) -> int:
    """How many units the box of ``node`` folds (none above the last drawn level)."""
    if depth < max_depth:
        return 0
    if descendants is None:
        return _count_descendants(node)
    return descendants.get(node.id, 0)


def _measure(
    node: UnitNode,
    depth: int,
    max_depth: int,
    descendants: Mapping[int, int] | None,
    box_height: BoxHeight,
    row_height: float = 0.0,
    band_room: Mapping[int, float] | None = None,
    gap_room: Mapping[GapKey, float] | None = None,
) -> _Block:
    """The footprint of the sub-tree of ``node``; its box is at least ``row_height``
    tall, so that boxes standing side by side in a row line up top and bottom."""
    hidden = _hidden(node, depth, max_depth, descendants)
    own = max(row_height, box_height(node, hidden))
    if depth >= max_depth or not node.children:
        return _Block(
            node,
            BOX_WIDTH,
            own,
            stacked=False,
            hidden_descendants=hidden,
            box_height=own,
        )
    drawn_below = depth + 1 < max_depth
    if not drawn_below or all(not child.children for child in node.children):
        children = [
            _measure(
                child,
                depth + 1,
                max_depth,
                descendants,
                box_height,
                0.0,
                band_room,
                gap_room,
            )
            for child in node.children
        ]
        height = own + sum(child.box_height + STACK_GAP for child in children)
        return _Block(
            node,
            STACK_INDENT + BOX_WIDTH,
            height,
            stacked=True,
            children=children,
            box_height=own,
        )
    row = max(
        box_height(child, _hidden(child, depth + 1, max_depth, descendants))
        for child in node.children
    )
    children = [
        _measure(
            child,
            depth + 1,
            max_depth,
            descendants,
            box_height,
            row,
            band_room,
            gap_room,
        )
        for child in node.children
    ]
    gaps = [_gap_width(child.node.id, 1, gap_room) for child in children[:-1]]
    width = sum(child.width for child in children) + sum(gaps)
    extra = (band_room or {}).get(node.id, 0.0)
    height = own + extra + LEVEL_GAP + max(child.height for child in children)
    return _Block(
        node,
        max(width, BOX_WIDTH),
        height,
        stacked=False,
        children=children,
        box_height=own,
        band_room=extra,
        gaps=gaps,
    )


def _gap_width(
    unit_id: int, side: int, gap_room: Mapping[GapKey, float] | None
) -> float:
    """How wide the free gap on one side of a sub-tree is: wider for more tracks."""
    return HORIZONTAL_GAP + (gap_room or {}).get((unit_id, side), 0.0)


# A gap as ``_place`` hands it down: its key and the abscissa of its middle.
_Gap = tuple[GapKey, float]


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


def _place(
    block: _Block,
    left: float,
    top: float,
    parent: PlacedBox | None,
    chart: ChartLayout,
    left_gap: _Gap,
    right_gap: _Gap,
) -> None:
    """Place the sub-tree of ``block`` with its left edge at ``left``; ``left_gap``
    and ``right_gap`` are the free gaps beside it."""
    (left_key, left_lane), (right_key, right_lane) = left_gap, right_gap
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
            block.box_height,
            left_key,
            right_key,
        )
        chart.boxes.append(head)
        trunk_x = left + STACK_INDENT / 2
        # Each child owns the trunk segment from the previous child down to itself, so
        # an oversight line stays dashed only where it leads to an overseen unit.
        trunk_y = top + block.box_height
        child_top = trunk_y + STACK_GAP
        for child in block.children:
            child_left = left + STACK_INDENT
            middle = child_top + child.box_height / 2
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
                    child.box_height,
                    left_key,
                    right_key,
                )
            )
            child_top += child.box_height + STACK_GAP
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
        block.box_height,
        left_key,
        right_key,
    )
    chart.boxes.append(box)
    if not block.children:
        return
    children_width = sum(child.width for child in block.children) + sum(block.gaps)
    child_left = left + (block.width - children_width) / 2
    bottom = top + block.box_height
    # Dotted lines cross the band in tracks of their own between the box and the bus.
    child_top = bottom + block.band_room + LEVEL_GAP
    parent_x = box_left + BOX_WIDTH / 2
    bus_y = bottom + block.band_room + LEVEL_GAP / 2
    # The gap left of each sub-tree is the one right of its neighbour; the outermost
    # sub-trees share the gaps beside this one.
    gap_before = left_gap
    last = len(block.children) - 1
    for index, child in enumerate(block.children):
        # A stacked block keeps its head box at its left edge; others centre it.
        child_box_x = (
            child_left if child.stacked else child_left + (child.width - BOX_WIDTH) / 2
        )
        child_x = child_box_x + BOX_WIDTH / 2
        _add_edge(
            chart,
            [
                (parent_x, bottom),
                (parent_x, bus_y),
                (child_x, bus_y),
                (child_x, child_top),
            ],
            child.node.reporting_line,
        )
        child_right = child_left + child.width
        gap_after: _Gap = right_gap
        if index < last:
            gap_after = ((child.node.id, 1), child_right + block.gaps[index] / 2)
        _place(child, child_left, child_top, box, chart, gap_before, gap_after)
        gap_before = gap_after
        if index < last:
            child_left = child_right + block.gaps[index]


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
    box_height: BoxHeight = _fixed_height,
    band_room: Mapping[int, float] | None = None,
    top_room: float = 0.0,
    gap_room: Mapping[GapKey, float] | None = None,
) -> ChartLayout:
    """Position every unit down to ``max_depth`` levels below the roots.

    A unit on the last drawn level folds what lies below it into a "+N" badge: N is
    its entry in ``descendants`` (by unit id: ``PartialTree.descendants``, whose
    roots need be loaded no deeper than drawn) or, without it, counted by walking
    ``roots``, which are then whole trees. ``box_height`` says how tall each box
    must be to hold its text (by default all are ``BOX_HEIGHT``).

    ``band_room`` (by unit id) widens the band below a unit whose sub-trees stand side
    by side, ``top_room`` the space above the top units, and ``gap_room`` (by
    ``GapKey``) the gap beside a sub-tree, for the tracks of the dotted lines that
    cross or run along them (``routing.plan_tracks``). Without room a gap is
    ``HORIZONTAL_GAP`` wide; the margin left of the first top unit is such a gap too,
    and so is the one right of the last.
    """
    chart = ChartLayout([], [], 0.0, 0.0)
    right: float = 0.0
    height = 0.0
    for root in roots:
        block = _measure(
            root, 0, max_depth, descendants, box_height, 0.0, band_room, gap_room
        )
        before = _gap_width(root.id, -1, gap_room)
        after = _gap_width(root.id, 1, gap_room)
        left = right + before
        right = left + block.width
        _place(
            block,
            left,
            MARGIN + LEGEND_HEIGHT + top_room,
            None,
            chart,
            ((root.id, -1), left - before / 2),
            ((root.id, 1), right + after / 2),
        )
        right += after
        height = max(height, block.height)
    chart.width = max(right, 560)
    chart.height = height + LEGEND_HEIGHT + top_room + MARGIN * 2
    return chart

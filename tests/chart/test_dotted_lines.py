"""Dotted lines run in channels of their own and each carries a label (issue 16).

Read from the SVG itself, as a viewer or CairoSVG would draw it: the solid connectors,
the dotted lines, the boxes and the labels, with the seed organization and with
generated ones holding many dotted lines.
"""

from __future__ import annotations

import itertools
import random
import re
import xml.etree.ElementTree as ElementTree
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tests.chart.test_chart import (
    SVG,
    column_and_forks,
    crossing_problems,
    drawn,
    node,
    random_links,
    random_organization,
    relationship_path,
    render,
    set_levels,
)
from units import chart
from units.chart import routing

Point = tuple[float, float]
Piece = tuple[Point, Point]
Rect = tuple[float, float, float, float]
# Parallel lines closer than this read as one line.
APART = 3.0


def solid_pieces(svg: str) -> list[Piece]:
    """The straight pieces of the solid and long-dashed connectors ("M x,y V y H x")."""
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- our own output
    pieces = []
    for group in tree.iter(f"{SVG}g"):
        if group.get("class") != "edges":
            continue
        for path in group.iter(f"{SVG}path"):
            x = y = 0.0
            for command, value in re.findall(r"([MVH])([-\d.,]+)", path.get("d", "")):
                if command == "M":
                    x, y = (float(part) for part in value.split(","))
                    continue
                start = (x, y)
                if command == "V":
                    y = float(value)
                else:
                    x = float(value)
                pieces.append((start, (x, y)))
    return pieces


def dotted_pieces(svg: str) -> list[tuple[int, Piece]]:
    return [
        (index, piece)
        for index, (_source, _target, points, _title) in enumerate(drawn(svg).lines)
        for piece in itertools.pairwise(points)
    ]


def runs_along(first: Piece, second: Piece) -> bool:
    """Whether two straight pieces lie on (or right beside) each other for a stretch."""
    (a, b), (c, d) = first, second
    first_upright, second_upright = a[0] == b[0], c[0] == d[0]
    first_level, second_level = a[1] == b[1], c[1] == d[1]
    if first_upright and second_upright and not (first_level or second_level):
        across, along = 0, 1
    elif first_level and second_level and not (first_upright or second_upright):
        across, along = 1, 0
    else:
        return False
    if abs(a[across] - c[across]) >= APART:
        return False
    low, high = sorted((a[along], b[along]))
    other_low, other_high = sorted((c[along], d[along]))
    return min(high, other_high) - max(low, other_low) > 1.0


def sharing_problems(svg: str) -> list[str]:
    """Dotted pieces that run along a connector or another dotted line."""
    problems: list[str] = []
    dotted = dotted_pieces(svg)
    solid = solid_pieces(svg)
    for index, piece in dotted:
        problems.extend(
            f"line {index} {piece} runs along connector {connector}"
            for connector in solid
            if runs_along(piece, connector)
        )
        problems.extend(
            f"line {index} {piece} runs along line {other} {other_piece}"
            for other, other_piece in dotted
            if other > index and runs_along(piece, other_piece)
        )
    return problems


def label_problems(svg: str) -> list[str]:
    """Dotted lines without a label inside the picture, or labels hiding a box."""
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- our own output
    width, height = chart.document_size(svg)
    picture = drawn(svg)
    boxes = [rect for rects in picture.boxes.values() for rect in rects]
    key = {
        (entry.text or "").split(":")[0]
        for entry in tree.iter(f"{SVG}text")
        if entry.get("class") == "relationship-key-entry"
    }
    problems = []
    for group in tree.iter(f"{SVG}g"):
        if group.get("class") != "relationship":
            continue
        name = f"{group.get('data-from')} -> {group.get('data-to')}"
        text = group.find(f"{SVG}text[@class='relationship-label']")
        back = group.find(f"{SVG}rect[@class='relationship-label-back']")
        if text is None or back is None or not (text.text or "").strip():
            problems.append(f"{name}: no label")
            continue
        x, y = float(back.get("x", 0)), float(back.get("y", 0))
        rect = (x, y, x + float(back.get("width", 0)), y + float(back.get("height", 0)))
        if rect[0] < 0 or rect[1] < 0 or rect[2] > width or rect[3] > height:
            problems.append(f"{name}: label {rect} outside the picture")
        if any(
            rect[0] < box[2]
            and box[0] < rect[2]
            and rect[1] < box[3]
            and box[1] < rect[3]
            for box in boxes
        ):
            problems.append(f"{name}: label {rect} hides a box")
        if (text.text or "").isdigit() and text.text not in key:
            problems.append(f"{name}: number {text.text} is not in the key")
    return problems


def test_the_checks_catch_a_shared_channel_and_a_missing_label() -> None:
    left, right = node("Left"), node("Right")
    root = set_levels(node("Root", left, right))
    svg = render(
        [root],
        links=[chart.ChartLink("left", "right", "Left supports Right", "supports")],
    )
    assert sharing_problems(svg) == []
    assert label_problems(svg) == []
    points = drawn(svg).lines[0][2]
    (x, y), (x2, _y2) = points[0], points[1]
    # The first piece of the line, drawn again as a connector: caught.
    along = svg.replace(
        '<g class="edges" fill="none">',
        f'<g class="edges" fill="none"><path d="M{x},{y} V{y + 30}"/>'
        if x == x2
        else f'<g class="edges" fill="none"><path d="M{x},{y} H{x2}"/>',
    )
    assert sharing_problems(along)
    unlabelled = re.sub(r'<text [^>]*class="relationship-label">[^<]*</text>', "", svg)
    assert label_problems(unlabelled) == ["left -> right: no label"]


# Where several lines and their reverse crowd one gap beside a column, the gap widens to
# a track of its own for each, with room for a number on it (seeds 1, 2, 4 and 8 were
# the known limit before).
@pytest.mark.parametrize("seed", range(60))
def test_generated_dotted_lines_have_channels_and_labels_of_their_own(
    seed: int,
) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible shapes, not secrets
    roots, units = random_organization(rng, rng.choice([20, 40, 80]))
    links = random_links(rng, units, rng.choice([4, 8, 16]))
    svg = render(roots, links=links, max_depth=rng.choice([3, 5, 12]))
    assert crossing_problems(drawn(svg)) == []
    assert sharing_problems(svg) == []
    assert label_problems(svg) == []


@pytest.mark.django_db
def test_the_seed_charts_dotted_lines_have_channels_and_labels_of_their_own() -> None:
    call_command("load_seed", stdout=StringIO())
    svg = Client().get("/chart/download.svg").content.decode()
    picture = drawn(svg)
    assert len(picture.lines) == 3
    assert crossing_problems(picture) == []
    assert sharing_problems(svg) == []
    assert label_problems(svg) == []
    # Each kind is written along its line, not only in a key.
    labels = re.findall(r'class="relationship-label">([^<]*)<', svg)
    assert sorted(labels) == sorted(
        ["collaborates with", "supports", "works in conjunction with"]
    )


def test_a_gap_given_room_widens_and_the_sub_trees_beside_it_move_apart() -> None:
    left = node("Left", node("L1"), node("L2"))
    right = node("Right", node("R1"))
    root = set_levels(node("Root", left, right))
    plain = {box.node.slug: box for box in chart.layout([root], max_depth=5).boxes}
    widened = chart.layout([root], max_depth=5, gap_room={(left.id, 1): 52})
    wide = {box.node.slug: box for box in widened.boxes}
    assert wide["left"].x == plain["left"].x
    assert wide["l1"].x == plain["l1"].x
    assert wide["right"].x == plain["right"].x + 52
    assert wide["r1"].x == plain["r1"].x + 52
    # A stacked box runs its lines along its column's gaps; the gap between the two
    # columns is named after the left one, and its middle moved with it.
    assert wide["l1"].right_gap == wide["left"].right_gap == (left.id, 1)
    assert wide["right"].left_gap == (left.id, 1)
    column_right = wide["l1"].x + chart.BOX_WIDTH
    assert wide["l1"].right_lane == (column_right + wide["right"].x) / 2
    # The outermost sub-trees share the top unit's gaps, the margins of the chart.
    assert wide["left"].left_gap == wide["root"].left_gap == (root.id, -1)
    assert wide["right"].right_gap == wide["r1"].right_gap == (root.id, 1)
    margin = chart.layout([root], max_depth=5, gap_room={(root.id, -1): 30})
    assert margin.boxes[0].x == plain["root"].x + 30
    # Each top unit has gaps of its own on either side, the chart's margins outside.
    tops = [set_levels(node(f"Top{index}", node(f"T{index}"))) for index in range(3)]
    spaced = chart.layout(tops, max_depth=5, gap_room={(tops[2].id, 1): 40})
    assert spaced.width == chart.layout(tops, max_depth=5).width + 40
    assert spaced.boxes[-1].right_lane == spaced.width - (chart.MARGIN + 40) / 2


def upright_tracks(svg: str, low: float, high: float) -> set[float]:
    """The abscissas of the dotted lines' upright pieces between ``low`` and ``high``."""
    return {
        start[0]
        for _index, (start, end) in dotted_pieces(svg)
        if start[0] == end[0] and low < start[0] < high
    }


def test_lines_crowding_the_gap_beside_a_column_get_tracks_and_numbers() -> None:
    """Three lines within a column and their reverse: six in the gap beside it, each
    on a track of its own with room for its number; the gap widens to hold them."""
    column = node("Column", *(node(f"C{index}") for index in range(6)))
    root = set_levels(node("Top", column, node("Next", node("N0"), node("N1"))))
    pairs = [("c0", "c3"), ("c1", "c4"), ("c2", "c5")]
    links = [
        chart.ChartLink(first, second, f"{first} and {second}", kind)
        for source, target in pairs
        for first, second, kind in ((source, target, "supports"), (target, source, ""))
    ]
    svg = render([root], links=links)
    assert crossing_problems(drawn(svg)) == []
    assert sharing_problems(svg) == []
    assert label_problems(svg) == []
    boxes = {slug: rects[0] for slug, rects in drawn(svg).boxes.items()}
    gap = (boxes["c0"][2], boxes["next"][0])
    tracks = sorted(upright_tracks(svg, *gap))
    assert len(tracks) == 6
    assert all(
        second - first >= routing.LANE_SPACING - 2 * chart.NUDGE
        for first, second in itertools.pairwise(tracks)
    )
    plain = {box.node.slug: box for box in chart.layout([root], max_depth=5).boxes}
    assert gap[1] - gap[0] == (
        plain["next"].x - plain["c0"].x - chart.BOX_WIDTH + 5 * routing.LANE_SPACING
    )


def test_one_line_in_a_gap_keeps_the_plain_gap() -> None:
    """The seed chart's look: a gap holding one dotted line is not widened."""
    top = column_and_forks()
    # Up the gap right of the column and those left of RB and of Right; and up the
    # gap between LA and LB.
    links = [
        chart.ChartLink("c4", "rb", "column to a far branch", "supports"),
        chart.ChartLink("la1", "lb1", "between two columns", "advises"),
    ]
    svg = render([top], links=links)
    plain = chart.layout([top], max_depth=5, box_height=chart.box_height)
    drawn_boxes = drawn(svg).boxes
    assert {box.node.slug: drawn_boxes[box.node.slug][0][0] for box in plain.boxes} == {
        box.node.slug: box.x for box in plain.boxes
    }
    assert label_problems(svg) == []


def test_neighbours_joined_both_ways_each_have_a_label() -> None:
    """The first line between two neighbours goes straight across the gap; the one
    back goes round through its channels, where its label has room."""
    root = set_levels(node("Top", node("West"), node("East"), node("Sub", node("S1"))))
    svg = render(
        [root],
        links=[
            chart.ChartLink("west", "east", "West supports East", "supports"),
            chart.ChartLink("east", "west", "East advises West", "advises"),
        ],
    )
    there = relationship_path(svg, "west", "east")
    back = relationship_path(svg, "east", "west")
    assert len(there) == 2
    assert len(back) > 2
    assert sharing_problems(svg) == []
    assert label_problems(svg) == []


def test_a_line_may_not_run_through_the_badge_of_its_own_box() -> None:
    """The "+N" badge juts out of its box: a line leaving the box beside it would run
    through it."""
    folder, other = node("Folder", node("Inside")), node("Other")
    set_levels(node("Top", folder, other))
    box = chart.PlacedBox(folder, 0.0, 0.0, hidden_descendants=1, height=64.0)
    far = chart.PlacedBox(other, 300.0, 0.0, height=64.0)
    obstacles = routing._Obstacles([box, far])
    beside_badge = [(200.0, 60.0), (300.0, 60.0)]
    above_badge = [(200.0, 30.0), (300.0, 30.0)]
    assert not routing._free(beside_badge, obstacles, box, far, chart.CLEARANCE)
    assert routing._free(above_badge, obstacles, box, far, chart.CLEARANCE)

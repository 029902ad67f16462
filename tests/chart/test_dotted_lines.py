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
    crossing_problems,
    drawn,
    node,
    random_links,
    random_organization,
    render,
    set_levels,
)
from units import chart

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
    for index, piece in dotted:
        problems.extend(
            f"line {index} {piece} runs along connector {solid}"
            for solid in solid_pieces(svg)
            if runs_along(piece, solid)
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


# Known limit: where several lines and their reverse crowd one 24-unit gap beside a
# column, the gap has no room for another track or for a numbered label.
CROWDED_GAPS = pytest.mark.xfail(
    strict=True, reason="more dotted lines than tracks in a gap beside a column"
)


@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(seed, marks=CROWDED_GAPS) if seed in (1, 2, 4, 8) else seed
        for seed in range(10)
    ],
)
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

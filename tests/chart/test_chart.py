"""The org chart layout and SVG, on plain trees (no database)."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import random
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass
from typing import Any

import cairosvg
import pytest

from units import chart
from units.chart import pages, routing
from units.models import ReportingLine
from units.selectors import Holder, PostState, UnitNode


def number(element: ElementTree.Element | None, name: str) -> float:
    """An element's numeric attribute; the test fails if either is missing."""
    assert element is not None
    value = element.get(name)
    assert value is not None, name
    return float(value)


SVG = "{http://www.w3.org/2000/svg}"
_ids = itertools.count(1)


def node(
    name: str,
    *children: UnitNode,
    reporting_line: str = ReportingLine.DIRECT_SUPERVISION,
    level: int = 0,
) -> UnitNode:
    unit = UnitNode(
        id=next(_ids),
        slug=name.lower().replace(" ", "-"),
        name=name,
        short_name="",
        kind="unit",
        mandate="",
        location="",
        learn_more_url="",
        parent_id=None,
        reporting_line=reporting_line,
        sibling_order=0,
        established_on=None,
        abolished_on=None,
        level=level,
        children=list(children),
    )
    for child in children:
        child.parent_id = unit.id
    return unit


def set_levels(root: UnitNode) -> UnitNode:
    stack = [(root, 0)]
    while stack:
        current, level = stack.pop()
        current.level = level
        stack.extend((child, level + 1) for child in current.children)
    return root


def render(roots: list[UnitNode], **options: Any) -> str:
    defaults: dict[str, Any] = {
        "max_depth": 5,
        "title": "Chart",
        "unit_url": lambda slug: f"/units/{slug}/",
        "expand_url": lambda slug: f"/chart/?root={slug}",
        "kind_labels": {"unit": "Unit"},
    }
    defaults.update(options)
    return chart.render_svg(roots, **defaults)


def overlapping(boxes: list[chart.PlacedBox]) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap (sweep over x so large charts stay quick)."""
    found = []
    ordered = sorted(boxes, key=lambda box: box.x)
    for index, box in enumerate(ordered):
        for other in ordered[index + 1 :]:
            if other.x >= box.x + chart.BOX_WIDTH:
                break
            if other.y < box.y + box.height and box.y < other.y + other.height:
                found.append((box.node.name, other.node.name))
    return found


def test_leaf_children_stack_in_a_column_under_their_parent() -> None:
    root = set_levels(node("Root", node("A"), node("B"), node("C")))
    layout = chart.layout([root], max_depth=5)
    placed = {box.node.name: box for box in layout.boxes}
    assert placed["A"].x == placed["B"].x == placed["C"].x
    assert placed["A"].x == placed["Root"].x + chart.STACK_INDENT
    assert placed["A"].y < placed["B"].y < placed["C"].y
    assert not overlapping(layout.boxes)


def test_subtrees_stand_side_by_side_with_the_parent_centred() -> None:
    left = node("Left", node("L1"), node("L2"))
    right = node("Right", node("R1"))
    root = set_levels(node("Root", left, right))
    layout = chart.layout([root], max_depth=5)
    placed = {box.node.name: box for box in layout.boxes}
    assert placed["Left"].y == placed["Right"].y
    assert placed["Left"].x < placed["Right"].x
    centre = placed["Root"].x + chart.BOX_WIDTH / 2
    assert placed["Left"].x < centre < placed["Right"].x + chart.BOX_WIDTH
    assert not overlapping(layout.boxes)


def test_levels_below_the_depth_fold_into_a_count() -> None:
    root = set_levels(node("Root", node("A", node("A1", node("A1a")), node("A2"))))
    layout = chart.layout([root], max_depth=1)
    placed = {box.node.name: box for box in layout.boxes}
    assert set(placed) == {"Root", "A"}
    assert placed["A"].hidden_descendants == 3
    svg = render([root], max_depth=1)
    assert 'href="/chart/?root=a"' in svg
    assert ">+3</text>" in svg
    assert "Open the 3 sub-units of A" in svg


def test_a_large_tree_lays_out_without_overlaps() -> None:
    def branch(prefix: str, depth: int) -> UnitNode:
        if depth == 0:
            return node(prefix)
        return node(prefix, *(branch(f"{prefix}.{i}", depth - 1) for i in range(4)))

    root = set_levels(branch("U", 5))  # 1,365 units
    layout = chart.layout([root], max_depth=10)
    assert len(layout.boxes) == 1365
    assert not overlapping(layout.boxes)
    assert all(
        0 <= box.x <= layout.width - chart.BOX_WIDTH
        and 0 <= box.y <= layout.height - box.height
        for box in layout.boxes
    )


def test_oversight_and_relationships_are_drawn_distinctly() -> None:
    overseen = node("Audit", reporting_line=ReportingLine.OVERSIGHT)
    supervised = node("Finance")
    root = set_levels(node("Board", overseen, supervised))
    svg = render(
        [root],
        links=[
            chart.ChartLink("finance", "audit", "Finance supports Audit"),
            chart.ChartLink("finance", "elsewhere", "not drawn: not on the chart"),
        ],
    )
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- our own output
    paths = tree.iter(f"{SVG}path")
    by_class: dict[str, list[ElementTree.Element]] = {}
    for path in paths:
        by_class.setdefault(path.get("class", ""), []).append(path)
    oversight = by_class["edge edge-oversight"]
    supervision = by_class["edge edge-supervision"]
    relationships = by_class["edge edge-relationship"]
    assert len(oversight) == len(supervision) == len(relationships) == 1
    assert oversight[0].get("stroke-dasharray") == chart.OVERSIGHT_DASH
    assert supervision[0].get("stroke-dasharray") is None
    assert relationships[0].get("stroke-dasharray") == chart.RELATIONSHIP_DASH
    group = tree.find(f".//{SVG}g[@class='relationship']")
    assert group is not None
    title = group.find(f"{SVG}title")
    assert title is not None
    assert title.text == "Finance supports Audit"


def test_names_are_escaped_and_heads_shown() -> None:
    unit = node("R&D <Lab>")
    unit.head = PostState(
        id=1,
        slug="head",
        title="Head",
        unit_id=unit.id,
        is_head=True,
        filling_method="other",
        term_years=None,
        term_note="",
        abolished_on=None,
        holder=Holder(
            1, "ana", "Ana Lima", started_on=datetime.date(2020, 1, 1), ended_on=None
        ),
    )
    vacant = node("Empty")
    vacant.head = PostState(
        id=2,
        slug="head-2",
        title="Chief",
        unit_id=vacant.id,
        is_head=True,
        filling_method="other",
        term_years=None,
        term_note="",
        abolished_on=None,
    )
    svg = render([set_levels(node("Top", unit, vacant))])
    ElementTree.fromstring(svg)  # noqa: S314 -- well-formed despite the markup
    assert "R&amp;D &lt;Lab&gt;" in svg
    assert ">Head: Ana Lima</tspan>" in svg
    assert ">Head post vacant: Chief</tspan>" in svg
    # A unit without a head post shows no line where the head would be, not its kind.
    assert svg.count('class="head"') == 2
    assert ">Unit</text>" not in svg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Short name", ["Short name"]),
        (
            "Department of Programme Support and Migration Management",
            ["Department of Programme", "Support and Migration", "Management"],
        ),
        (
            "Prevention of and Response to Sexual Exploitation and Abuse and "
            "Sexual Harassment Unit",
            [
                "Prevention of and",
                "Response to Sexual",
                "Exploitation and Abuse",
                "and Sexual Harassment",
                "Unit",
            ],
        ),
        (
            "The Supercalifragilisticexpialidociouslylong Unit",
            ["The", "Supercalifragilisticex-", "pialidociouslylong Unit"],
        ),
    ],
)
def test_wrap_keeps_every_word_of_a_name(text: str, expected: list[str]) -> None:
    lines = chart.wrap(text)
    assert lines == expected
    assert all(len(line) <= chart.NAME_LINE_CHARS for line in lines)
    assert "…" not in "".join(lines)
    joined = "".join(line.removesuffix("-") for line in lines)
    assert joined.replace(" ", "") == text.replace(" ", "")


def box_texts(svg: str) -> dict[str, tuple[float, list[str], list[str]]]:
    """Each box's height, name lines and head lines, by unit slug."""
    found = {}
    for unit in ElementTree.fromstring(svg).iter(f"{SVG}g"):  # noqa: S314
        if unit.get("class") != "unit":
            continue
        box = unit.find(f".//{SVG}rect[@class='box']")
        lines = {
            kind: [
                span.text or ""
                for span in unit.findall(f".//{SVG}text[@class='{kind}']/{SVG}tspan")
            ]
            for kind in ("name", "head")
        }
        found[unit.get("data-slug", "")] = (
            number(box, "height"),
            lines["name"],
            lines["head"],
        )
    return found


def test_boxes_grow_to_hold_every_line_of_their_text() -> None:
    long_name = (
        "Prevention of and Response to Sexual Exploitation and Abuse and Sexual "
        "Harassment Unit"
    )
    headed = node(long_name)
    headed.head = PostState(
        id=1,
        slug="head",
        title="Deputy Director General for Operations",
        unit_id=headed.id,
        is_head=True,
        filling_method="other",
        term_years=None,
        term_note="",
        abolished_on=None,
    )
    short = node("Audit")
    svg = render([set_levels(node("Top", headed, short, node("Sub", node("Leaf"))))])
    texts = box_texts(svg)
    height, name, head = texts[headed.slug]
    assert " ".join(name) == long_name
    assert " ".join(head) == (
        "Head post vacant: Deputy Director General for Operations"
    )
    assert len(name) == 5
    assert len(head) == 3
    # Boxes side by side line up; a box in a column is as tall as its own text.
    assert texts["audit"][0] == height
    leaf_height, leaf_name, leaf_head = texts["leaf"]
    assert (leaf_name, leaf_head) == (["Leaf"], [])
    assert leaf_height < height
    # The text stays inside its box: the last line's baseline is above its foot.
    tree = ElementTree.fromstring(svg)  # noqa: S314
    for unit in tree.iter(f"{SVG}g"):
        if unit.get("class") != "unit":
            continue
        box = unit.find(f".//{SVG}rect[@class='box']")
        bottom = number(box, "y") + number(box, "height")
        for span in unit.findall(f".//{SVG}tspan"):
            assert number(box, "y") < number(span, "y") <= bottom - 8
    # No text in the chart is smaller than the smallest size the page keeps readable.
    sizes = {number(text, "font-size") for text in tree.iter(f"{SVG}text")}
    assert min(sizes) >= chart.SMALLEST_TEXT
    assert tree.get("data-smallest-text") == str(chart.SMALLEST_TEXT)


def test_boxes_side_by_side_line_up_and_a_column_follows_its_boxes() -> None:
    tall = node("A Name Long Enough to Take Three Lines in Its Box", node("A1"))
    tall_column = node(
        "Column",
        node(
            "First With a Name So Long That It Needs Four or Five Full Lines in Its Box"
        ),
        node("Second"),
    )
    root = set_levels(node("Root", tall, tall_column))
    layout = chart.layout([root], max_depth=5, box_height=chart.box_height)
    boxes = {box.node.slug: box for box in layout.boxes}
    # A row of sub-trees side by side: their boxes share top and height.
    assert boxes[tall.slug].y == boxes["column"].y
    assert boxes[tall.slug].height == boxes["column"].height
    # A column: each box starts below the previous one, whatever its height.
    first = boxes[
        "first-with-a-name-so-long-that-it-needs-four-or-five-full-lines-in-its-box"
    ]
    second = boxes["second"]
    assert first.height > second.height
    assert second.y == first.y + first.height + 12
    assert layout.height >= max(box.y + box.height for box in layout.boxes)
    assert overlapping(layout.boxes) == []


def test_the_svg_converts_to_png_and_pdf() -> None:
    svg = render([set_levels(node("Root", node("A"), node("B")))])
    assert cairosvg.svg2png(bytestring=svg.encode()).startswith(b"\x89PNG")
    assert cairosvg.svg2pdf(bytestring=svg.encode()).startswith(b"%PDF")


def test_default_depth_folds_a_large_tree_into_an_overview() -> None:
    def branch(prefix: str, depth: int, width: int) -> UnitNode:
        if depth == 0:
            return node(prefix)
        return node(
            prefix, *(branch(f"{prefix}.{i}", depth - 1, width) for i in range(width))
        )

    # 1 + 12 + 144 + 1,728 units: three levels (157 boxes) fit in 200, four do not.
    large = set_levels(branch("L", 3, 12))
    assert chart.depth_that_fits(units_per_level([large]), **DEFAULT_FIT) == 2
    small = set_levels(branch("S", 3, 3))
    assert chart.depth_that_fits(units_per_level([small]), **DEFAULT_FIT) == 3
    # A shallow tree is drawn whole at the deepest default.
    shallow = set_levels(node("S", node("S1"), node("S2")))
    assert chart.depth_that_fits(units_per_level([shallow]), **DEFAULT_FIT) == 3
    # Never fewer than one level below the top, however wide the first level.
    wide = set_levels(node("W", *(node(f"W{i}") for i in range(500))))
    assert chart.depth_that_fits(units_per_level([wide]), **DEFAULT_FIT) == 1


DEFAULT_FIT = {"max_boxes": 200, "ceiling": 3}


def units_per_level(roots: list[UnitNode]) -> dict[int, int]:
    """How many units each level of whole trees holds, the roots' being 0."""
    return dict(
        Counter(node.level - root.level for root in roots for node in root.walk())
    )


def test_relationships_with_folded_units_go_to_the_box_that_folds_them() -> None:
    inner = node("Inner")
    root = set_levels(node("Top", node("Left", node("Folder", inner)), node("Right")))
    links = [
        chart.ChartLink("right", "inner", "Right advises Inner"),
        chart.ChartLink("folder", "inner", "inside one box: not drawn"),
    ]
    svg = render([root], links=links, max_depth=2)
    assert svg.count('class="edge edge-relationship"') == 1
    assert "<title>Right advises Inner</title>" in svg


# --- Dotted-line relationships routed between the boxes ------------------------------


@dataclass
class Drawn:
    """What the SVG shows: the box rectangles by slug and each dotted line."""

    boxes: dict[str, list[tuple[float, float, float, float]]]
    lines: list[tuple[str, str, list[tuple[float, float]], str | None]]
    labels: list[tuple[float, float, float, float]]


def drawn(svg: str) -> Drawn:
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- our own output
    boxes: dict[str, list[tuple[float, float, float, float]]] = {}
    for unit in tree.iter(f"{SVG}g"):
        if unit.get("class") != "unit":
            continue
        rects = boxes.setdefault(unit.get("data-slug", ""), [])
        for rect in unit.iter(f"{SVG}rect"):  # the box and its "+N" badge
            x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
            width, height = float(rect.get("width", 0)), float(rect.get("height", 0))
            rects.append((x, y, x + width, y + height))
    lines = []
    labels = []
    for group in tree.iter(f"{SVG}g"):
        if group.get("class") != "relationship":
            continue
        path = group.find(f"{SVG}path[@class='edge edge-relationship']")
        assert path is not None
        points = []
        for command in path.get("d", "").split():
            x_text, y_text = command.lstrip("ML").split(",")
            points.append((float(x_text), float(y_text)))
        title = group.find(f"{SVG}title")
        lines.append(
            (
                group.get("data-from", ""),
                group.get("data-to", ""),
                points,
                title.text if title is not None else "",
            )
        )
        for back in group.iter(f"{SVG}rect"):
            x, y = float(back.get("x", 0)), float(back.get("y", 0))
            width, height = float(back.get("width", 0)), float(back.get("height", 0))
            labels.append((x, y, x + width, y + height))
    return Drawn(boxes, lines, labels)


def meets(
    start: tuple[float, float],
    end: tuple[float, float],
    rect: tuple[float, float, float, float],
    *,
    interior_only: bool,
) -> bool:
    """Whether a level or upright segment meets a rectangle (or only its inside)."""
    left, right = sorted((start[0], end[0]))
    top, bottom = sorted((start[1], end[1]))
    if interior_only:
        return left < rect[2] and right > rect[0] and top < rect[3] and bottom > rect[1]
    return left <= rect[2] and right >= rect[0] and top <= rect[3] and bottom >= rect[1]


def on_border(point: tuple[float, float], rect: tuple[float, float, float, float]):
    x, y = point
    inside_x, inside_y = rect[0] <= x <= rect[2], rect[1] <= y <= rect[3]
    return (inside_y and x in (rect[0], rect[2])) or (
        inside_x and y in (rect[1], rect[3])
    )


def crossing_problems(picture: Drawn) -> list[str]:
    """Every way a dotted line leaves its channels: the list should be empty."""
    problems = []
    for source, target, points, title in picture.lines:
        if len(points) < 2:
            problems.append(f"{title}: fewer than two points")
            continue
        if not on_border(points[0], picture.boxes[source][0]):
            problems.append(f"{title}: does not start on the border of {source}")
        if not on_border(points[-1], picture.boxes[target][0]):
            problems.append(f"{title}: does not end on the border of {target}")
        for start, end in itertools.pairwise(points):
            if start == end or (start[0] != end[0] and start[1] != end[1]):
                problems.append(f"{title}: piece {start}-{end} is not level or upright")
            for slug, rects in picture.boxes.items():
                own = slug in (source, target)
                for rect in rects:
                    if meets(start, end, rect, interior_only=own):
                        problems.append(f"{title}: piece {start}-{end} crosses {slug}")
    return problems


def random_organization(
    rng: random.Random, units: int
) -> tuple[list[UnitNode], list[UnitNode]]:
    """Roots of a tree of about ``units`` units mixing columns, wide forks and chains."""
    roots = [node(f"R{index}") for index in range(rng.choice([1, 1, 2, 3]))]
    every = list(roots)
    while len(every) < units:
        parent = rng.choice(every)
        shape = rng.random()
        if shape < 0.3:  # a column of leaves
            children = [node(f"U{len(every) + i}") for i in range(rng.randint(2, 9))]
        elif shape < 0.5:  # a short chain
            child = node(f"U{len(every)}")
            children = [child]
        else:
            children = [node(f"U{len(every) + i}") for i in range(rng.randint(1, 4))]
        for child in children:
            child.parent_id = parent.id
            child.reporting_line = rng.choice(list(ReportingLine))
        parent.children.extend(children)
        every.extend(children)
    for root in roots:
        set_levels(root)
    return roots, every


def random_links(
    rng: random.Random, units: list[UnitNode], count: int
) -> list[chart.ChartLink]:
    """Links between random units, with superiors, siblings and repeated pairs."""
    links: list[chart.ChartLink] = []
    for index in range(count):
        source = rng.choice(units)
        if index % 5 == 0 and source.children:
            target = rng.choice(source.children)  # to a sub-unit
        elif index % 7 == 0 and links:
            previous = links[-1]
            links.append(
                chart.ChartLink(previous.target_slug, previous.source_slug, "back")
            )
            continue
        else:
            target = rng.choice(units)
        if target is source:
            continue
        links.append(
            chart.ChartLink(
                source.slug, target.slug, f"{source.name} to {target.name}", "supports"
            )
        )
    return links


@pytest.mark.parametrize("seed", range(12))
def test_dotted_lines_never_cross_a_box_other_than_their_ends(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible shapes, not secrets
    roots, units = random_organization(rng, rng.choice([30, 80, 160]))
    links = random_links(rng, units, rng.choice([20, 60, 150]))
    depth = rng.choice([2, 3, 5, 12])
    picture = drawn(render(roots, links=links, max_depth=depth))
    assert crossing_problems(picture) == []
    # Every link between two different boxes is drawn, a folded unit standing for the
    # box that folds it; a link within one box is not.
    box_of = {}
    for box in chart.layout(roots, max_depth=depth).boxes:
        for unit in box.node.walk() if box.hidden_descendants else [box.node]:
            box_of[unit.slug] = box.node.slug
    expected = sorted(
        (box_of[link.source_slug], box_of[link.target_slug])
        for link in links
        if box_of.get(link.source_slug, "") != box_of.get(link.target_slug, "")
    )
    assert sorted((source, target) for source, target, *_ in picture.lines) == expected
    assert len(expected) > len(links) / 3


def test_the_geometry_check_catches_a_line_through_a_box() -> None:
    picture = Drawn(
        boxes={
            "a": [(0, 0, 200, 74)],
            "b": [(0, 200, 200, 274)],
            "c": [(0, 100, 200, 174)],
        },
        lines=[("a", "b", [(100, 74), (100, 200)], "straight through c")],
        labels=[],
    )
    assert crossing_problems(picture) == [
        "straight through c: piece (100, 74)-(100, 200) crosses c"
    ]
    picture.lines = [("a", "b", [(100, 74), (300, 200)], "slanted")]
    assert "slanted: piece (100, 74)-(300, 200) is not level or upright" in (
        crossing_problems(picture)
    )
    picture.lines = [("a", "b", [(100, 30), (100, 200)], "from inside a")]
    assert crossing_problems(picture)[0] == (
        "from inside a: does not start on the border of a"
    )


def column_and_forks() -> UnitNode:
    """A top unit over a column of five and two forks, each over columns."""
    column = node("Column", *(node(f"C{index}") for index in range(5)))
    left = node(
        "Left",
        node("LA", *(node(f"LA{index}") for index in range(4))),
        node("LB", *(node(f"LB{index}") for index in range(6))),
    )
    right = node(
        "Right",
        node("RA", *(node(f"RA{index}") for index in range(3))),
        node("RB"),
    )
    return set_levels(node("Top", column, left, right))


def relationship_path(svg: str, source: str, target: str) -> list[tuple[float, float]]:
    for line_source, line_target, points, _title in drawn(svg).lines:
        if (line_source, line_target) == (source, target):
            return points
    raise AssertionError(f"no line from {source} to {target}")


def test_neighbours_are_joined_by_one_straight_line_with_room_for_a_label() -> None:
    """Side by side: one straight line. One right above the other in a column, the
    12-unit gap is too short to label, so the line goes round through the gap beside
    the column, where its number has room."""
    top = column_and_forks()
    svg = render(
        [top],
        links=[
            chart.ChartLink("c1", "c2", "one above the other"),
            chart.ChartLink("la1", "lb1", "side by side in two columns"),
        ],
    )
    stacked = relationship_path(svg, "c1", "c2")
    assert len(stacked) == 4
    assert stacked[0][1] == stacked[1][1] and stacked[2][1] == stacked[3][1]
    assert stacked[1][0] == stacked[2][0] > stacked[0][0]
    side_by_side = relationship_path(svg, "la1", "lb1")
    assert len(side_by_side) == 2 and side_by_side[0][1] == side_by_side[1][1]
    assert crossing_problems(drawn(svg)) == []


def test_distant_units_are_joined_through_the_gaps_and_bands() -> None:
    top = column_and_forks()
    layout = chart.layout([top], max_depth=5, box_height=chart.box_height)
    placed = {box.node.slug: box for box in layout.boxes}
    links = [
        chart.ChartLink("c4", "rb", "column to a far branch"),
        chart.ChartLink("lb5", "ra2", "deep in one fork to deep in another"),
        chart.ChartLink("top", "lb3", "top unit to a unit two levels down"),
        chart.ChartLink("ra0", "c0", "back to the column"),
    ]
    svg = render([top], links=links)
    picture = drawn(svg)
    assert crossing_problems(picture) == []
    assert len(picture.lines) == 4
    for source, target, points, _title in picture.lines:
        assert len(points) >= 3, "no straight line exists between these"
        # An arrow needs room: the last piece is at least an arrowhead long.
        last = abs(points[-1][0] - points[-2][0]) + abs(points[-1][1] - points[-2][1])
        assert last >= chart.ARROW_ROOM
        assert placed[source] is not placed[target]
    # From the top unit the line leaves its bottom, beside the solid line.
    top_line = relationship_path(svg, "top", "lb3")
    top_box = placed["top"]
    assert top_line[0][1] == top_box.y + top_box.height
    assert top_line[0][0] != top_box.x + chart.BOX_WIDTH / 2


def test_lines_sharing_a_channel_are_set_apart() -> None:
    top = column_and_forks()
    links = [
        chart.ChartLink("la0", "rb", "first"),
        chart.ChartLink("la1", "rb", "second"),
        chart.ChartLink("la2", "rb", "third"),
        chart.ChartLink("rb", "la0", "back"),
    ]
    picture = drawn(render([top], links=links))
    assert crossing_problems(picture) == []
    pieces = []
    for index, (_source, _target, points, _title) in enumerate(picture.lines):
        for start, end in itertools.pairwise(points):
            vertical = start[0] == end[0]
            at = start[0] if vertical else start[1]
            low, high = sorted((start[1], end[1]) if vertical else (start[0], end[0]))
            pieces.append((index, vertical, at, low, high))
    on_top = [
        (first, second)
        for first, second in itertools.combinations(pieces, 2)
        if first[0] != second[0]
        and first[1] == second[1]
        and abs(first[2] - second[2]) < chart.NUDGE
        and min(first[4], second[4]) - max(first[3], second[3]) > 2
    ]
    assert on_top == []


def test_relationship_kinds_are_written_clear_of_the_boxes() -> None:
    top = column_and_forks()
    links = [
        chart.ChartLink("c4", "rb", "C4 supports RB", "supports"),
        chart.ChartLink("lb5", "ra2", "LB5 advises RA2", "advises"),
        chart.ChartLink("c0", "c1", "no room on a short line", "coordinates with"),
    ]
    svg = render([top], links=links)
    picture = drawn(svg)
    texts = [
        text.text or ""
        for text in ElementTree.fromstring(svg).iter(f"{SVG}text")  # noqa: S314
        if text.get("class") == "relationship-label"
    ]
    # The short line is numbered, and the key below the chart says what it is.
    assert sorted(texts) == ["1", "advises", "supports"]
    assert "1: no room on a short line</text>" in svg
    for label in picture.labels:
        for slug, rects in picture.boxes.items():
            assert not any(overlap(label, rect) for rect in rects), slug
    for first, second in itertools.combinations(picture.labels, 2):
        assert not overlap(first, second)


def overlap(
    first: tuple[float, float, float, float], second: tuple[float, float, float, float]
) -> bool:
    return (
        first[0] < second[2]
        and second[0] < first[2]
        and first[1] < second[3]
        and second[1] < first[3]
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_route_through_the_channels_is_free_for_any_two_boxes(seed: int) -> None:
    """The route every line can fall back on keeps off all boxes by construction."""
    rng = random.Random(seed)  # noqa: S311 - reproducible shapes, not secrets
    roots, _units = random_organization(rng, 120)
    layout = chart.layout(roots, max_depth=rng.choice([3, 12]))
    obstacles = routing._Obstacles(layout.boxes)
    track = routing.fixed_track(chart.MARGIN + chart.LEGEND_HEIGHT - chart.TOP_TRACK)
    pairs = list(itertools.permutations(layout.boxes, 2))
    for source, target in rng.sample(pairs, min(len(pairs), 1500)):
        route = routing._tidy(routing._structural_route(source, target, track))
        assert routing._free(route, obstacles, source, target, chart.CLEARANCE), (
            source.node.name,
            target.node.name,
            route,
        )


def test_a_chart_with_many_relationships_converts_to_png_and_pdf() -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible shapes, not secrets
    roots, units = random_organization(rng, 60)
    svg = render(roots, links=random_links(rng, units, 40))
    assert len(drawn(svg).lines) > 20
    assert cairosvg.svg2png(bytestring=svg.encode()).startswith(b"\x89PNG")
    assert cairosvg.svg2pdf(bytestring=svg.encode()).startswith(b"%PDF")


def cut(roots: list[UnitNode], depth: int) -> tuple[list[UnitNode], dict[int, int]]:
    """Copies of ``roots`` down ``depth`` levels below them, as a ``PartialTree`` holds
    them, and each copied unit's descendants in the whole trees."""
    descendants = {}

    def copy(unit: UnitNode, level: int) -> UnitNode:
        descendants[unit.id] = sum(1 for _ in unit.walk()) - 1
        below = (
            [copy(child, level + 1) for child in unit.children] if level < depth else []
        )
        return dataclasses.replace(unit, children=below)

    return [copy(root, 0) for root in roots], descendants


def folded_units(roots: list[UnitNode], depth: int) -> dict[str, str]:
    """Each unit below ``depth`` levels, by slug, and the slug of the box folding it."""
    folded = {}
    for root in roots:
        stack = [(root, 0, "")]
        while stack:
            unit, level, box = stack.pop()
            if level > depth:
                folded[unit.slug] = box
            if level == depth:
                box = unit.slug
            stack.extend((child, level + 1, box) for child in unit.children)
    return folded


def placed(layout: chart.ChartLayout) -> list[tuple[str, float, float, int]]:
    return [
        (box.node.slug, box.x, box.y, box.hidden_descendants) for box in layout.boxes
    ]


@pytest.mark.parametrize("seed", range(6))
def test_levels_cut_below_the_drawn_ones_draw_the_chart_of_the_whole_tree(
    seed: int,
) -> None:
    """Given what each folded box holds, the drawn levels alone make the same bytes."""
    rng = random.Random(seed)  # noqa: S311 - reproducible shapes, not secrets
    roots, units = random_organization(rng, rng.choice([80, 160]))
    links = random_links(rng, units, 40)
    for depth in (1, 2, 3, 5):
        drawn_roots, descendants = cut(roots, depth)
        if depth == 1:
            assert len(descendants) < len(units)
        partial = render(
            drawn_roots,
            links=links,
            max_depth=depth,
            descendants=descendants,
            folded=folded_units(roots, depth),
        )
        assert partial == render(roots, links=links, max_depth=depth)
        layout = chart.layout(drawn_roots, max_depth=depth, descendants=descendants)
        assert placed(layout) == placed(chart.layout(roots, max_depth=depth))


def test_the_chart_is_headed_by_the_organization_and_its_date() -> None:
    svg = render(
        [set_levels(node("Root", node("A")))],
        title="Organization chart",
        organization="International Organization for Migration",
        as_of=datetime.date(2024, 3, 5),
    )
    tree = ElementTree.fromstring(svg)  # noqa: S314 -- our own markup
    heading = tree.find(f".//{SVG}text[@class='chart-heading']")
    subheading = tree.find(f".//{SVG}text[@class='chart-subheading']")
    assert heading is not None
    assert heading.text == "International Organization for Migration"
    assert subheading is not None
    assert subheading.text == "Organization chart — as of 5 March 2024"
    title = tree.find(f"{SVG}title")
    assert title is not None
    assert title.text == (
        "International Organization for Migration — Organization chart — as of "
        "5 March 2024"
    )


def test_a_narrow_chart_widens_to_hold_its_heading() -> None:
    name = "The Very Long Name of an Organization That Runs Past One Box " * 2
    svg = render([set_levels(node("Leaf"))], organization=name.strip())
    width = number(ElementTree.fromstring(svg), "width")  # noqa: S314
    assert width >= len(name.strip()) * 11


@pytest.mark.parametrize("page", ["a4", "a3"])
@pytest.mark.parametrize(
    ("width", "height"), [(560, 300), (2172, 1423), (9000, 800), (1200, 5000)]
)
def test_the_pdf_tiles_cover_the_chart_at_a_legible_size(
    page: str, width: float, height: float
) -> None:
    size = pages.PAGE_SIZES[page]
    tiles = pages.tiling(width, height, size)
    assert tiles.scale * chart.SMALLEST_TEXT >= pages.MIN_TEXT_PT - 1e-9
    assert tiles.scale <= 1
    # The tiles cover the chart, and one fewer column or row would not.
    assert tiles.columns * tiles.tile_width >= width
    assert tiles.rows * tiles.tile_height >= height
    assert (tiles.columns - 1) * tiles.tile_width < width
    assert (tiles.rows - 1) * tiles.tile_height < height
    # Each tile fills the printable area of the page, no more.
    printable_width = size.width - 2 * pages.MARGIN_PT
    assert tiles.tile_width * tiles.scale == pytest.approx(printable_width)
    if tiles.pages == 1:
        # A chart that fits one page is scaled to it (never enlarged).
        assert tiles.scale == pytest.approx(
            min(
                1,
                printable_width / width,
                (size.height - 2 * pages.MARGIN_PT - pages.FOOTER_PT) / height,
            )
        )


def test_a_small_chart_is_one_page_a_wide_one_several_and_the_pdf_a4() -> None:
    a4 = pages.PAGE_SIZES["a4"]
    assert pages.tiling(560, 300, a4).pages == 1
    assert pages.tiling(9000, 800, a4).pages > 1
    svg = render([set_levels(node("Root", *(node(f"U{i}") for i in range(30))))])
    pdf = pages.chart_pdf(svg, page=a4, title="Chart")
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/MediaBox [ 0 0 841.89 595.28 ]") >= 1

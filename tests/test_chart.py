"""The org chart layout and SVG, on plain trees (no database)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ElementTree

import cairosvg
import pytest

from units import chart
from units.models import ReportingLine
from units.selectors import Holder, PostState, UnitNode

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


def render(roots: list[UnitNode], **options: object) -> str:
    defaults: dict[str, object] = {
        "max_depth": 5,
        "title": "Chart",
        "unit_url": lambda slug: f"/units/{slug}/",
        "expand_url": lambda slug: f"/chart/?root={slug}",
        "kind_labels": {"unit": "Unit"},
    }
    defaults.update(options)
    return chart.render_svg(roots, **defaults)  # type: ignore[arg-type]


def overlapping(boxes: list[chart.PlacedBox]) -> list[tuple[str, str]]:
    """Pairs of boxes that overlap (sweep over x so large charts stay quick)."""
    found = []
    ordered = sorted(boxes, key=lambda box: box.x)
    for index, box in enumerate(ordered):
        for other in ordered[index + 1 :]:
            if other.x >= box.x + chart.BOX_WIDTH:
                break
            if abs(other.y - box.y) < chart.BOX_HEIGHT:
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
        and 0 <= box.y <= layout.height - chart.BOX_HEIGHT
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
    assert relationships[0].find(f"{SVG}title").text == "Finance supports Audit"


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
        holder=Holder(1, "ana", "Ana Lima", started_on=None, ended_on=None),  # type: ignore[arg-type]
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
    assert ">Ana Lima</text>" in svg
    assert ">Head post vacant</text>" in svg


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
                "Prevention of and Response",
                "to Sexual Exploitation and",
                "Abuse and Sexual Harassment…",
            ],
        ),
        ("Supercalifragilisticexpialidociouslylong", ["Supercalifragilisticexpiali…"]),
    ],
)
def test_wrap_fits_names_in_three_lines(text: str, expected: list[str]) -> None:
    assert chart.wrap(text) == expected
    assert all(len(line) <= chart.NAME_LINE_CHARS for line in chart.wrap(text))


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
    assert chart.depth_that_fits([large], max_boxes=200, ceiling=3) == 2
    small = set_levels(branch("S", 3, 3))
    assert chart.depth_that_fits([small], max_boxes=200, ceiling=3) == 3
    # Never fewer than one level below the top, however wide the first level.
    wide = set_levels(node("W", *(node(f"W{i}") for i in range(500))))
    assert chart.depth_that_fits([wide], max_boxes=200, ceiling=3) == 1


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

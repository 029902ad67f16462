"""The org chart as an SVG picture, laid out on the server.

Laying out on the server means the picture works without JavaScript, prints, and
exports to PNG/PDF identically (CairoSVG renders the very same markup). ``layout``
places the boxes, ``routing`` draws the dotted-line relationships between them
through the free channels, and ``svg`` writes the document.

Dotted lines have channels of their own: ``routing.plan_tracks`` gives each line a
track in every band it crosses and in every gap beside a sub-tree it runs along, and the
chart is laid out again with the bands and crowded gaps widened to hold those tracks, a
label's height (in a band) or a number's width (in a gap) apart and clear of the solid
bus lines. Each line carries its kind beside a level piece; where no piece has room, a
number on the line and a key below the chart, so PNG and PDF exports name every line. A
line that finds no room for either where it runs (a direct line across a narrow gap that
other lines cross) is routed again through its own tracks.

Why not a layout engine. Graphviz (``dot``, ``splines=ortho``) and ELK (layered,
orthogonal routing) were considered. Graphviz would be a system package for CI, ``make
run`` and every deployment, its orthogonal router does not place edge labels (only
``xlabel``, placed after routing, free to land on other lines), and ``dot`` has no
notion of the compact columns that keep an organization of a hundred units readable.
ELK runs in JavaScript (elkjs): drawing on the server would need Node.js beside Django
for every render. The hand-written router knows the layout's channels, needs nothing
beyond Python and CairoSVG, and is checked by geometric tests
(``tests/chart/test_dotted_lines.py``, on the seed and 60 generated organizations). Its
cost: a gap crowded with n lines is 26 (n - 1) units wider, so a chart with a great many
dotted lines between few units grows wide; one line a gap keeps the compact look.
"""

from units.chart.layout import (
    BOX_HEIGHT,
    BOX_WIDTH,
    LEGEND_HEIGHT,
    MARGIN,
    STACK_INDENT,
    BoxRole,
    ChartLayout,
    ChartLink,
    PlacedBox,
    depth_that_fits,
    layout,
)
from units.chart.routing import ARROW_ROOM, CLEARANCE, NUDGE, TOP_TRACK
from units.chart.svg import (
    HEAD_LINE_CHARS,
    NAME_LINE_CHARS,
    OVERSIGHT_DASH,
    OVERSIGHT_STROKE,
    RELATIONSHIP_DASH,
    RELATIONSHIP_STROKE,
    SMALLEST_TEXT,
    SUPERVISION_STROKE,
    box_height,
    document_size,
    head_phrase,
    head_text,
    render_svg,
    wrap,
)

__all__ = [
    "ARROW_ROOM",
    "BOX_HEIGHT",
    "BOX_WIDTH",
    "CLEARANCE",
    "LEGEND_HEIGHT",
    "MARGIN",
    "HEAD_LINE_CHARS",
    "NAME_LINE_CHARS",
    "NUDGE",
    "OVERSIGHT_DASH",
    "OVERSIGHT_STROKE",
    "RELATIONSHIP_DASH",
    "RELATIONSHIP_STROKE",
    "SMALLEST_TEXT",
    "STACK_INDENT",
    "SUPERVISION_STROKE",
    "TOP_TRACK",
    "BoxRole",
    "ChartLayout",
    "ChartLink",
    "PlacedBox",
    "box_height",
    "depth_that_fits",
    "document_size",
    "head_phrase",
    "head_text",
    "layout",
    "render_svg",
    "wrap",
]

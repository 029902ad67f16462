"""The org chart as an SVG picture, laid out on the server.

Laying out on the server means the picture works without JavaScript, prints, and
exports to PNG/PDF identically (CairoSVG renders the very same markup). ``layout``
places the boxes, ``routing`` draws the dotted-line relationships between them
through the free channels, and ``svg`` writes the document.
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
    "head_text",
    "layout",
    "render_svg",
    "wrap",
]

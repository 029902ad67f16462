"""The chart as a PDF on paper: A4 or A3 landscape, split over pages if need be.

CairoSVG draws one SVG per PDF, at the picture's own size. A chart is scaled to the
printable area of the page; where that would make its smallest text smaller than
``MIN_TEXT_PT`` it is printed at that size instead and cut into tiles, one a page, in
reading order (left to right, then down), each saying where it belongs.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import cairocffi
import cairosvg
from cairosvg.parser import Tree
from django.utils.translation import gettext

from units.chart.svg import FONT_FAMILY, MUTED_INK, SMALLEST_TEXT, document_size

# Printed text smaller than this is hard to read on paper.
MIN_TEXT_PT = 6.5
MARGIN_PT = 28
FOOTER_PT = 14


@dataclass(frozen=True, slots=True)
class PageSize:
    label: str
    width: float  # points, landscape
    height: float


PAGE_SIZES = {
    "a4": PageSize("A4", 841.89, 595.28),
    "a3": PageSize("A3", 1190.55, 841.89),
}


@dataclass(frozen=True, slots=True)
class Tiling:
    """How a chart of ``width`` x ``height`` user units is laid on pages."""

    scale: float  # points per user unit
    columns: int
    rows: int
    # The part of the chart each page shows, in user units.
    tile_width: float
    tile_height: float

    @property
    def pages(self) -> int:
        return self.columns * self.rows


def tiling(width: float, height: float, page: PageSize) -> Tiling:
    """Scale the chart to fit one page, or to the least legible size over several."""
    area_width = page.width - 2 * MARGIN_PT
    area_height = page.height - 2 * MARGIN_PT - FOOTER_PT
    fit = min(area_width / width, area_height / height, 1.0)
    scale = max(fit, MIN_TEXT_PT / SMALLEST_TEXT)
    tile_width, tile_height = area_width / scale, area_height / scale
    return Tiling(
        scale,
        # A sliver of a point is no reason for another page.
        max(1, math.ceil(width / tile_width - 1e-6)),
        max(1, math.ceil(height / tile_height - 1e-6)),
        tile_width,
        tile_height,
    )


def _page_svg(
    chart_body: str, tiles: Tiling, page: PageSize, column: int, row: int, footer: str
) -> str:
    left, top = column * tiles.tile_width, row * tiles.tile_height
    area_width = tiles.tile_width * tiles.scale
    area_height = tiles.tile_height * tiles.scale
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{page.width:.2f}pt" height="{page.height:.2f}pt" '
        f'viewBox="0 0 {page.width:.2f} {page.height:.2f}" '
        f'font-family="{FONT_FAMILY}">'
        f'<defs><clipPath id="printable"><rect x="{MARGIN_PT}" y="{MARGIN_PT}" '
        f'width="{area_width:.2f}" height="{area_height:.2f}"/></clipPath></defs>'
        f'<g clip-path="url(#printable)"><g transform="translate('
        f"{MARGIN_PT - left * tiles.scale:.3f},{MARGIN_PT - top * tiles.scale:.3f}) "
        f'scale({tiles.scale:.5f})">{chart_body}</g></g>'
        f'<text x="{MARGIN_PT}" y="{page.height - MARGIN_PT / 2:.2f}" font-size="8" '
        f'fill="{MUTED_INK}">{escape(footer)}</text></svg>'
    )


def _body(svg: str) -> str:
    """What lies inside the outer ``svg`` element of a chart ``render_svg`` wrote."""
    start = svg.index(">") + 1
    end = svg.rindex("</svg>")
    return svg[start:end]


def chart_pdf(svg: str, *, page: PageSize, title: str) -> bytes:
    """The chart ``svg`` (from ``render_svg``) on ``page``-sized landscape pages.

    ``title`` is the document's title (its metadata, in the chart's language) and
    each page's footer."""
    width, height = document_size(svg)
    tiles = tiling(width, height, page)
    body = _body(svg)
    output = io.BytesIO()
    surface = cairocffi.PDFSurface(output, page.width, page.height)
    surface.set_metadata(cairocffi.PDF_METADATA_TITLE, title)

    class _OnePage(cairosvg.surface.PDFSurface):
        """Draws on the shared PDF, one page at a time, instead of a new file."""

        def _create_surface(
            self, width: float, height: float
        ) -> tuple[Any, float, float]:
            return surface, width, height

    number = 0
    for row in range(tiles.rows):
        for column in range(tiles.columns):
            number += 1
            footer = title
            if tiles.pages > 1:
                footer = gettext(
                    "%(title)s — page %(number)s of %(pages)s (row %(row)s of "
                    "%(rows)s, column %(column)s of %(columns)s)"
                ) % {
                    "title": title,
                    "number": number,
                    "pages": tiles.pages,
                    "row": row + 1,
                    "rows": tiles.rows,
                    "column": column + 1,
                    "columns": tiles.columns,
                }
            document = _page_svg(body, tiles, page, column, row, footer)
            _OnePage(Tree(bytestring=document.encode()), None, 96)
            surface.show_page()
    surface.finish()
    return output.getvalue()

"""Public pages: the structure now and on any past date, a unit, compare, chart, search.

Views stay thin: every read goes through ``units.selectors``, each page costs a fixed
number of queries whatever the size of the tree, and nothing here ever shows who made a
change (staff identities stay in the admin): only when it took effect and why.

- ``base``: the as-of date a page shows, the page frame, paging.
- ``structure_pages``: the structure page, its parts, a unit's page.
- ``compare_pages``, ``chart_pages``: the compare page; the chart page and its downloads.
- ``listing_pages``: search, posts and people.
- ``upcoming_pages``: scheduled reorganizations and the last applied.
"""

from units.views.base import MAX_QUERY_LENGTH, kind_labels
from units.views.chart_pages import (
    DEFAULT_CHART_BOXES,
    DEFAULT_CHART_DEPTH,
    MAX_CHART_DEPTH,
    MAX_PNG_PIXELS,
    chart,
    chart_download,
)
from units.views.compare_pages import (
    COMPARE_PAGE_CHANGES,
    COMPARE_SECTION_CHANGES,
    compare,
)
from units.views.listing_pages import (
    PEOPLE_PAGE_SIZE,
    POSTS_PAGE_UNITS,
    SEARCH_RESULTS,
    people,
    posts,
    search,
)
from units.views.structure_pages import (
    STRUCTURE_UNITS,
    structure,
    unit_children_part,
    unit_detail,
)
from units.views.upcoming_pages import RECENTLY_APPLIED, upcoming

__all__ = [
    "COMPARE_PAGE_CHANGES",
    "COMPARE_SECTION_CHANGES",
    "DEFAULT_CHART_BOXES",
    "DEFAULT_CHART_DEPTH",
    "kind_labels",
    "MAX_CHART_DEPTH",
    "MAX_PNG_PIXELS",
    "MAX_QUERY_LENGTH",
    "PEOPLE_PAGE_SIZE",
    "POSTS_PAGE_UNITS",
    "RECENTLY_APPLIED",
    "SEARCH_RESULTS",
    "STRUCTURE_UNITS",
    "chart",
    "chart_download",
    "compare",
    "people",
    "posts",
    "search",
    "structure",
    "unit_children_part",
    "unit_detail",
    "upcoming",
]

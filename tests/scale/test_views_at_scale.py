"""The public pages on a registry too large to show at once (3,000 generated units).

One registry serves the whole module: generating it for each test cost minutes.
"""

from __future__ import annotations

import datetime
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from benchmarks.generate import GeneratedRegistry, generate
from tests.conftest import at, page_text, rolled_back_registry
from units import chart, services
from units.models import OrganizationalUnit, Person, Post, RelationshipKind
from units.selectors import (
    UnitNode,
    parse_instant,
    posts_as_of,
    relationships_as_of,
    subtree,
    tenures,
    unit_children,
    unit_lineage,
    unit_tree,
    unit_tree_as_of,
    unit_tree_levels,
    unit_tree_top,
)
from units.views import (
    COMPARE_PAGE_CHANGES,
    COMPARE_SECTION_CHANGES,
    DEFAULT_CHART_BOXES,
    DEFAULT_CHART_DEPTH,
    PEOPLE_PAGE_SIZE,
    POSTS_PAGE_UNITS,
    SEARCH_RESULTS,
    STRUCTURE_UNITS,
    kind_labels,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]


# Large enough that the structure page folds levels (more than STRUCTURE_UNITS units).
LARGE_REGISTRY = 3000
PAST = "2019-01-01"


@pytest.fixture(scope="module")
def large_registry(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[GeneratedRegistry]:
    """One generated registry for this module's tests, rolled back after the last.

    Generating it for each test cost CI two minutes.
    """
    with rolled_back_registry(django_db_blocker):
        yield generate(LARGE_REGISTRY, seed=11)


def whole_tree_at(as_of: str | None) -> tuple[datetime.datetime | None, list[UnitNode]]:
    """The instant of ``as_of`` (None: now) and the whole tree then, walked in full."""
    when = parse_instant(as_of) if as_of else None
    return when, unit_tree() if when is None else unit_tree_as_of(when)


def descendant_counts(roots: list[UnitNode]) -> dict[str, int]:
    """Each unit's descendants, counted by walking a whole tree."""
    return {
        node.slug: sum(1 for _ in node.walk()) - 1
        for root in roots
        for node in root.walk()
    }


def tree_nodes(roots: list[UnitNode]) -> list[UnitNode]:
    return [node for root in roots for node in root.walk()]


def tree_order(roots: list[UnitNode], *, below: int | None = None) -> list[str]:
    return [
        node.slug
        for root in roots
        for node in root.walk()
        if below is None or node.level < below
    ]


@pytest.mark.parametrize("as_of", [None, PAST])
def test_tree_top_holds_whole_levels_of_the_tree_with_counts_from_data(
    large_registry: GeneratedRegistry, as_of: str | None
) -> None:
    when, whole = whole_tree_at(as_of)
    top = unit_tree_top(when, max_units=STRUCTURE_UNITS)
    assert top.is_cut
    assert top.loaded_count <= STRUCTURE_UNITS
    assert top.unit_count == len(tree_order(whole))
    # Exactly the units of the top levels, in the same order, each with its heads.
    assert tree_order(top.roots) == tree_order(whole, below=top.levels)
    assert len(tree_order(whole, below=top.levels + 1)) > STRUCTURE_UNITS
    expected = descendant_counts(whole)
    shown = {node.slug: node for root in top.roots for node in root.walk()}
    assert {slug: top.descendants[node.id] for slug, node in shown.items()} == {
        slug: expected[slug] for slug in shown
    }
    whole_nodes = {node.slug: node for root in whole for node in root.walk()}
    assert all(node.head == whole_nodes[slug].head for slug, node in shown.items())
    # Abolished units are in the nested sets but in no count.
    assert OrganizationalUnit.objects.abolished().exists()


@pytest.mark.parametrize("as_of", [None, PAST])
def test_sub_units_of_a_cut_branch_match_the_whole_tree(
    large_registry: GeneratedRegistry, as_of: str | None
) -> None:
    when, whole = whole_tree_at(as_of)
    whole_nodes = {node.slug: node for root in whole for node in root.walk()}
    expected = descendant_counts(whole)
    top = unit_tree_top(when, max_units=STRUCTURE_UNITS)
    cut = [
        node
        for root in top.roots
        for node in root.walk()
        if top.descendants[node.id] and not node.children
    ]
    assert cut
    for branch in sorted(cut, key=lambda node: -top.descendants[node.id])[:5]:
        part = unit_children(branch.slug, when)
        assert part is not None
        children = whole_nodes[branch.slug].children
        assert [child.slug for child in part.roots] == [c.slug for c in children]
        assert part.unit_count == expected[branch.slug]
        for child in part.roots:
            assert part.descendants[child.id] == expected[child.slug]
            assert child.head == whole_nodes[child.slug].head
            assert not child.children


def test_structure_page_of_a_large_registry_loads_deeper_branches_on_demand(
    client: Client, large_registry: GeneratedRegistry
) -> None:
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert html.count('class="unit-link"') <= STRUCTURE_UNITS
    counts = descendant_counts(unit_tree())
    assert f"{sum(1 for _ in counts):,} units." in page_text(response)
    assert "a branch below them loads its sub-units when you open it" in html
    assert ">Expand all loaded</button>" in html
    folded = re.findall(
        r'<details data-children-url="/units/([\w-]+)/children/">'
        r"<summary>([\d,]+) sub-units?<.*?"
        r'<a href="/units/\1/#subunits-heading">See the sub-units of ',
        html,
    )
    assert folded
    assert all(count == f"{counts[slug]:,}" for slug, count in folded)
    slug = folded[0][0]
    part = client.get(f"/units/{slug}/children/")
    assert part.status_code == HTTPStatus.OK
    # Without script, the placeholder's link leads to a page listing the sub-units.
    unit_page = client.get(f"/units/{slug}/")
    for child in re.findall(
        r'class="unit-link" href="/units/([\w-]+)/"', part.content.decode()
    ):
        assert f'href="/units/{child}/"' in unit_page.content.decode()


@pytest.mark.parametrize("as_of", [None, PAST])
def test_unit_lineage_follows_the_parent_links_of_that_date(
    large_registry: GeneratedRegistry, as_of: str | None
) -> None:
    when = parse_instant(as_of) if as_of else None
    whole = (
        unit_tree(include_abolished=True)
        if when is None
        else unit_tree_as_of(when, include_abolished=True)
    )
    parents = {
        child.slug: node
        for root in whole
        for node in root.walk()
        for child in node.children
    }
    deep = [node for root in whole for node in root.walk() if node.level >= 4][:20]
    assert deep
    for node in deep:
        lineage = unit_lineage(node.slug, when)
        assert lineage is not None
        expected = []
        current: UnitNode | None = node
        while current is not None:
            expected.append(current.slug)
            current = parents.get(current.slug)
        assert [unit.slug for unit in lineage] == expected[::-1]
        assert lineage[-1].name == node.name


def test_compare_lists_the_first_changes_of_each_kind_and_links_the_feed(
    client: Client, large_registry: GeneratedRegistry
) -> None:
    response = client.get("/compare/?from=2015-01-01&to=2020-12-31")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    # The window holds more than a page: the page says which part it shows, and
    # counts only what it read.
    text = page_text(response)
    assert f"These are the first {COMPARE_PAGE_CHANGES:,} changes, from " in text
    assert "; more follow." in text
    assert re.search(r"[\d,]+ changes between", text) is None
    renamed = html.split('class="change-section change-renamed"')[1].split(
        "</section>"
    )[0]
    count = re.search(r'<span class="count">(\d+) on this page</span>', renamed)
    assert count is not None
    total = int(count.group(1))
    assert total > COMPARE_SECTION_CHANGES
    assert renamed.count("<li>") == COMPARE_SECTION_CHANGES
    assert f"And {total - COMPARE_SECTION_CHANGES} more on this page" in renamed
    feed = re.search(
        r'<a href="(/api/v1/changes/\?[^"]+)">these ([\d,]+) changes', renamed
    )
    assert feed is not None
    assert feed.group(2) == f"{COMPARE_PAGE_CHANGES:,}"
    answer = client.get(feed.group(1).replace("&amp;", "&"))
    assert answer.status_code == HTTPStatus.OK
    # The feed gives this page's changes, as one page of the same window: both days
    # whole, from the start of the "from" day to the end of the "to" day.
    results = answer.json()["results"]
    assert len(results) == COMPARE_PAGE_CHANGES
    assert sum(change["kind"] == "renamed" for change in results) == total
    instants = [change["effective_at"] for change in results]
    assert all("2015-01-01" <= instant < "2021-01-01" for instant in instants)


def test_search_lists_the_first_hits_and_says_how_many_match(
    client: Client, large_registry: GeneratedRegistry
) -> None:
    # Every generated unit name has "of"; open posts and people are searched too.
    hits = (
        OrganizationalUnit.objects.active().count()
        + Post.objects.filter(abolished_on=None, title__icontains="of").count()
        + Person.objects.filter(full_name__icontains="of").count()
    )
    text = page_text(client.get("/search/?q=of"))
    assert f"{hits:,} results matching “of”" in text
    assert f"The first {SEARCH_RESULTS} are listed" in text
    html = client.get("/search/?q=of").content.decode()
    assert html.count("<h3>") == SEARCH_RESULTS


@pytest.mark.parametrize("as_of", [None, PAST])
def test_posts_page_by_page_in_tree_order(
    client: Client, large_registry: GeneratedRegistry, as_of: str | None
) -> None:
    when, whole = whole_tree_at(as_of)
    suffix = f"&as_of={as_of}" if as_of else ""
    posts = posts_as_of(when)
    with_posts = {post.unit_id for post in posts}
    expected = [node.slug for node in tree_nodes(whole) if node.id in with_posts]
    pages = -(-len(expected) // POSTS_PAGE_UNITS)
    assert pages > 2
    for number in (1, 2, pages):
        response = client.get(f"/posts/?page={number}{suffix}")
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        listed = re.findall(r'<h2 id="posts-([\w-]+)">', html)
        start = (number - 1) * POSTS_PAGE_UNITS
        assert listed == expected[start : start + POSTS_PAGE_UNITS]
        text = page_text(response)
        assert f"{len(posts):,} posts in {len(expected):,} units" in text
        assert f"Page {number} of {pages}" in text
        assert ('rel="prev"' in html) == (number > 1)
        assert ('rel="next"' in html) == (number < pages)
    assert f'href="/posts/?page=2{suffix.replace("&", "&amp;")}" rel="next"' in (
        client.get(f"/posts/?page=1{suffix}").content.decode()
    )


@pytest.mark.parametrize("as_of", [None, PAST])
def test_people_page_by_page_by_name(
    client: Client, large_registry: GeneratedRegistry, as_of: str | None
) -> None:
    when = parse_instant(as_of) if as_of else None
    suffix = f"&as_of={as_of}" if as_of else ""
    held = sorted(
        {(tenure.person_name, tenure.person_slug) for tenure in tenures(when)}
    )
    pages = -(-len(held) // PEOPLE_PAGE_SIZE)
    assert pages > 2
    for number in (1, pages):
        response = client.get(f"/people/?page={number}{suffix}")
        assert response.status_code == HTTPStatus.OK
        listed = re.findall(
            r'<li id="([\w-]+)" class="person">', response.content.decode()
        )
        start = (number - 1) * PEOPLE_PAGE_SIZE
        assert listed == [slug for _, slug in held[start : start + PEOPLE_PAGE_SIZE]]
        assert f"{len(held):,} people, by name: page {number} of {pages}" in (
            page_text(response)
        )


# --- The org chart: the drawn levels alone, drawn as from the whole tree --------------


def chart_query(*, root: str | None, depth: int | None, as_of: str | None) -> str:
    """The query of a chart URL, its parameters in the order the chart writes them."""
    params = {"root": root, "depth": depth, "as_of": as_of}
    return urlencode({name: value for name, value in params.items() if value})


@dataclass
class WholeTreeChart:
    """The chart as drawn before it read only the levels it draws."""

    svg: str  # as on the page
    download: str  # as downloaded: absolute links
    depth: int
    units: int


def chart_from_the_whole_tree(
    *, root: str | None, depth: int | None, as_of: str | None
) -> WholeTreeChart:
    """Draw the chart from the whole tree at that date, walking it to count the units
    each folded box holds, to choose the default depth and to place dotted lines."""
    when, whole = whole_tree_at(as_of)
    roots, title = whole, "Organization chart"
    organization = whole[0].name if len(whole) == 1 else settings.REGISTRY_NAME
    if root is not None:
        branch = subtree(whole, root)
        assert branch is not None
        roots, title = [branch], f"{title}: {branch.name}"
        organization = next(
            top.name for top in whole if any(unit is branch for unit in top.walk())
        )
    if depth is None:
        depth = chart.depth_that_fits(
            Counter(unit.level - top.level for top in roots for unit in top.walk()),
            max_boxes=DEFAULT_CHART_BOXES,
            ceiling=DEFAULT_CHART_DEPTH,
        )
    links = [
        chart.ChartLink(
            line.source.slug,
            line.target.slug,
            f"{line.source.name} {line.kind_label} {line.target.name}",
            line.kind_label,
        )
        for line in relationships_as_of(when)
    ]
    suffix = f"?{urlencode({'as_of': as_of})}" if as_of else ""

    def draw(host: str) -> str:
        return chart.render_svg(
            roots,
            links=links,
            max_depth=depth,
            title=title,
            organization=organization,
            unit_url=lambda slug: f"{host}/units/{slug}/{suffix}",
            expand_url=lambda slug: (
                f"{host}/chart/?{chart_query(root=slug, depth=depth, as_of=as_of)}"
            ),
            kind_labels=kind_labels(),
            as_of=when.date() if when else timezone.now().date(),
        )

    units = sum(1 for top in roots for _ in top.walk())
    return WholeTreeChart(draw(""), draw("http://testserver"), depth, units)


def assert_chart_drawn_as_from_the_whole_tree(
    client: Client, *, root: str | None, depth: int | None, as_of: str | None
) -> WholeTreeChart:
    """The chart page and its download draw, byte for byte, what the whole tree drew."""
    expected = chart_from_the_whole_tree(root=root, depth=depth, as_of=as_of)
    query = chart_query(root=root, depth=depth, as_of=as_of)
    page = client.get(f"/chart/?{query}")
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    drawn = re.search(r'<svg [^>]*class="org-chart".*?</svg>', html, re.S)
    assert drawn is not None
    assert drawn.group(0) == expected.svg
    noun = "unit" if expected.units == 1 else "units"
    assert f" {expected.units:,} {noun}. " in page_text(page)
    assert re.search(rf'download\.svg\?depth={expected.depth}(&amp;|")', html)
    download = client.get(f"/chart/download.svg?{query}")
    assert download.status_code == HTTPStatus.OK
    assert download.content.decode() == expected.download
    return expected


@pytest.fixture(scope="class")
def dotted_lines(
    large_registry: GeneratedRegistry, django_db_blocker: DjangoDbBlocker
) -> Iterator[list[tuple[str, str]]]:
    """Dotted lines since mid-2018 (the generator writes none): within the largest
    branch, out of it and elsewhere, between units at every level.

    Written once for the class's tests, in a savepoint rolled back after them, so the
    module's other tests never see them.
    """
    with rolled_back_registry(django_db_blocker):
        yield _write_dotted_lines(large_registry)


def _write_dotted_lines(large_registry: GeneratedRegistry) -> list[tuple[str, str]]:
    editor = get_user_model().objects.create_user(username="chart-editor")
    since = at("2018-06-01")
    existing = {unit.slug for unit in tree_nodes(unit_tree_as_of(since))}
    now = unit_tree()
    branch = subtree(now, large_registry.largest_branch_slug)
    branch_then = subtree(
        unit_tree_as_of(parse_instant(PAST)), large_registry.largest_branch_slug
    )
    assert branch is not None and branch_then is not None
    # In the branch both now and on the past day.
    inside_then = {unit.slug for unit in branch_then.walk()}
    inside = [
        unit
        for unit in branch.walk()
        if unit.slug in existing and unit.slug in inside_then
    ]
    everywhere = [unit for unit in tree_nodes(now) if unit.slug in existing]
    rng = random.Random(5)  # noqa: S311 - reproducible picks, not secrets
    pairs = {
        (source.slug, target.slug)
        for sources, targets in [
            (inside, inside),
            (inside, everywhere),
            (everywhere, everywhere),
        ]
        for source, target in zip(
            rng.sample(sources, 6), rng.sample(targets, 6), strict=True
        )
        if source is not target
    }
    units = OrganizationalUnit.objects.in_bulk(
        {slug for pair in pairs for slug in pair}, field_name="slug"
    )
    kinds = list(RelationshipKind)
    for index, (source, target) in enumerate(sorted(pairs)):
        services.relationship_create(
            source=units[source],
            target=units[target],
            kind=kinds[index % len(kinds)],
            user=editor,
            reason="Working arrangement",
            effective_at=since,
        )
    return sorted(pairs)


@pytest.mark.usefixtures("dotted_lines")
class TestChartWithDottedLines:
    @pytest.mark.parametrize("depth", [None, 1, 2, 4])
    @pytest.mark.parametrize("opened", [False, True], ids=["whole", "largest-branch"])
    @pytest.mark.parametrize("as_of", [None, PAST])
    def test_chart_reads_its_levels_alone_and_draws_what_the_whole_tree_drew(
        self,
        client: Client,
        large_registry: GeneratedRegistry,
        as_of: str | None,
        opened: bool,
        depth: int | None,
    ) -> None:
        root = large_registry.largest_branch_slug if opened else None
        expected = assert_chart_drawn_as_from_the_whole_tree(
            client, root=root, depth=depth, as_of=as_of
        )
        assert expected.units > (1000 if not opened else 100)
        assert 'class="relationship"' in expected.svg
        assert 'class="expand"' in expected.svg  # some levels are folded


@pytest.mark.parametrize("opened", [False, True], ids=["whole", "largest-branch"])
@pytest.mark.parametrize("as_of", [None, PAST])
def test_tree_levels_hold_the_drawn_levels_with_counts_from_data(
    large_registry: GeneratedRegistry, as_of: str | None, opened: bool
) -> None:
    when, whole = whole_tree_at(as_of)
    slug = large_registry.largest_branch_slug if opened else None
    if slug is None:
        roots = whole
    else:
        branch = subtree(whole, slug)
        assert branch is not None
        roots = [branch]
    top = roots[0].level
    every = tree_nodes(roots)
    by_slug = {unit.slug: unit for unit in every}
    expected = descendant_counts(roots)
    per_level = Counter(unit.level - top for unit in every)
    for levels in (1, 2, 4):
        part = unit_tree_levels(
            when, slug=slug, levels=levels, placing=[unit.slug for unit in every]
        )
        assert part is not None
        assert part.levels == levels
        assert part.unit_count == len(every)
        loaded = tree_nodes(part.roots)
        assert [unit.slug for unit in loaded] == [
            unit.slug for unit in every if unit.level < top + levels
        ]
        assert part.loaded_count == len(loaded) < len(every)
        for unit in loaded:
            assert part.descendants[unit.id] == expected[unit.slug]
            assert unit.level == by_slug[unit.slug].level
            assert unit.head == by_slug[unit.slug].head
            below_loaded = unit.level < top + levels - 1
            assert bool(unit.children) == (
                below_loaded and bool(by_slug[unit.slug].children)
            )
        # Every unit below the loaded levels is placed in the loaded unit above it.
        assert part.folded == {
            below.slug: unit.slug
            for unit in loaded
            if unit.level == top + levels - 1
            for below in by_slug[unit.slug].walk()
            if below is not by_slug[unit.slug]
        }
    # Without a depth, the levels are chosen from counts of the first few levels.
    chosen = unit_tree_levels(when, slug=slug, levels=4, fit=lambda counts: 2)
    assert chosen is not None
    assert chosen.units_per_level == {
        level: count for level, count in per_level.items() if level < 4
    }
    assert chosen.levels == 2
    assert chosen.loaded_count == per_level[0] + per_level[1]


# Pages whose query count must not grow with the registry: {branch} is the largest
# top-level branch, {top} the top unit.
SCALED_PAGES = [
    ("/", 6),
    (f"/?as_of={PAST}", 5),
    ("/units/{top}/children/", 6),
    (f"/units/{{top}}/children/?as_of={PAST}", 5),
    # The timeline: sub-units' and appointments' revisions and the posts and names
    # they need (6 queries); the unit's provenance note, read on its own (1); its
    # lineage (1; one more for the linked units' names when it has links).
    ("/units/{top}/", 18),
    (f"/units/{{top}}/?as_of={PAST}", 20),
    ("/chart/", 7),
    (f"/chart/?as_of={PAST}", 6),
    ("/chart/?depth=2", 6),
    ("/chart/download.svg", 7),
    ("/chart/?root={branch}", 9),
    (f"/chart/?root={{branch}}&as_of={PAST}", 8),
    # Units (texts, listed rows), posts, people, the listed posts' units.
    ("/search/?q=migration", 5),
    (f"/search/?q=migration&as_of={PAST}", 5),
    # Six history tables read by index, the states before the revisions of the four
    # the generator writes (no dotted lines, no lineage: a table with none on the page
    # needs no states before), and the units, posts and people named.
    (f"/compare/?from=2015-01-01&to={PAST}", 12),
    ("/posts/", 9),
    (f"/posts/?as_of={PAST}", 9),
    ("/people/", 5),
    (f"/people/?as_of={PAST}", 6),
]


def queries_per_page(client: Client, registry: GeneratedRegistry) -> dict[str, int]:
    """How many queries each of ``SCALED_PAGES`` takes on ``registry``."""
    # The top unit has held posts and sub-units all along, at any size.
    slugs = {"branch": registry.largest_branch_slug, "top": "unit-1"}
    taken = {}
    for url, _ in SCALED_PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url.format(**slugs))
        assert response.status_code == HTTPStatus.OK, url
        taken[url] = len(queries)
    return taken


def test_pages_take_as_many_queries_for_thousands_of_units_as_for_44(
    client: Client, large_registry: GeneratedRegistry
) -> None:
    # tests/pages/test_views.py counts the same pages on a generated registry of 44 units.
    assert queries_per_page(client, large_registry) == dict(SCALED_PAGES)

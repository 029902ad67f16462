"""The public pages on a registry too large to show at once (3,000 generated units).

One registry serves the whole module: generating it for each test cost minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoDbBlocker

from benchmarks.generate import GeneratedRegistry, generate
from tests.conftest import page_text
from units.models import OrganizationalUnit
from units.page_queries import tenures
from units.selectors import (
    UnitNode,
    parse_instant,
    posts_as_of,
    unit_children,
    unit_lineage,
    unit_tree,
    unit_tree_as_of,
    unit_tree_top,
)
from units.views import (
    COMPARE_PAGE_CHANGES,
    COMPARE_SECTION_CHANGES,
    PEOPLE_PAGE_SIZE,
    POSTS_PAGE_UNITS,
    SEARCH_RESULTS,
    STRUCTURE_UNITS,
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

    Every test here reads it; each runs in a savepoint inside this transaction
    (pytest-django's ``db``), so nothing one test writes reaches the next. Generating
    it for each test cost CI two minutes.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield generate(LARGE_REGISTRY, seed=11)
        transaction.set_rollback(True)


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
    when = parse_instant(as_of) if as_of else None
    whole = unit_tree() if when is None else unit_tree_as_of(when)
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
    when = parse_instant(as_of) if as_of else None
    whole = unit_tree() if when is None else unit_tree_as_of(when)
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
        current = node
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
    total = int(
        re.search(r'<span class="count">(\d+) on this page</span>', renamed).group(1)
    )
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
    # The feed gives this page's changes, as one page of the same window: after the
    # end of the "from" day, up to the end of the "to" day.
    results = answer.json()["results"]
    assert len(results) == COMPARE_PAGE_CHANGES
    assert sum(change["kind"] == "renamed" for change in results) == total
    instants = [change["effective_at"] for change in results]
    assert all("2015-01-02" <= instant < "2021-01-01" for instant in instants)


def test_search_lists_the_first_hits_and_says_how_many_match(
    client: Client, large_registry: GeneratedRegistry
) -> None:
    active = OrganizationalUnit.objects.active().count()
    text = page_text(client.get("/search/?q=of"))  # every generated name has "of"
    assert f"{active:,} units matching “of”" in text
    assert f"The first {SEARCH_RESULTS} are listed" in text
    html = client.get("/search/?q=of").content.decode()
    assert html.count("<h3>") == SEARCH_RESULTS


@pytest.mark.parametrize("as_of", [None, PAST])
def test_posts_page_by_page_in_tree_order(
    client: Client, large_registry: GeneratedRegistry, as_of: str | None
) -> None:
    when = parse_instant(as_of) if as_of else None
    suffix = f"&as_of={as_of}" if as_of else ""
    whole = unit_tree() if when is None else unit_tree_as_of(when)
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


# Pages whose query count must not grow with the registry: {branch} is the largest
# top-level branch, {top} the top unit.
SCALED_PAGES = [
    ("/", 6),
    (f"/?as_of={PAST}", 5),
    ("/units/{top}/children/", 6),
    (f"/units/{{top}}/children/?as_of={PAST}", 5),
    ("/units/{top}/", 10),
    (f"/units/{{top}}/?as_of={PAST}", 12),
    ("/chart/?root={branch}", 6),
    (f"/chart/?root={{branch}}&as_of={PAST}", 8),
    ("/search/?q=migration", 2),
    (f"/search/?q=migration&as_of={PAST}", 2),
    # The generator writes no dotted lines: a compare page reads no states before
    # revisions of a table with none on the page (changes_between read them anyway).
    (f"/compare/?from=2015-01-01&to={PAST}", 8),
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
    # tests/test_views.py counts the same pages on a generated registry of 44 units.
    assert queries_per_page(client, large_registry) == dict(SCALED_PAGES)

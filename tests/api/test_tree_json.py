"""The fast tree answer: the same bytes as DRF rendering ``tree_payload``, fewer reads.

``api.formats.tree_json`` encodes ``selectors.*_flat`` rows directly, and the tree
endpoints cache the rendered bytes; these tests hold them to the documented
representation.
"""

from __future__ import annotations

import datetime
import gc
import json
import tracemalloc
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from pytest_django import DjangoDbBlocker
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from api.formats.tree_json import (
    as_of_tree_json,
    current_branch_json,
    current_tree_json,
    tree_json,
)
from api.serializers import tree_payload
from benchmarks.generate import GeneratedRegistry, generate
from tests.commands.test_backup import empty_the_registry
from tests.conftest import at, rolled_back_registry
from units import selectors, services
from units.models import OrganizationalUnit, Post, UnitKind

API = "/api/v1/"


def rendered(
    roots: list[selectors.UnitNode], branch: str | None = None, *, origin: str = ""
) -> bytes:
    """What the API sent before: DRF's JSON renderer over ``tree_payload``."""
    slugs = {node.id: node.slug for root in roots for node in root.walk()}
    if branch is None:
        return JSONRenderer().render(tree_payload(roots, slugs, origin=origin))
    node = selectors.subtree(roots, branch)
    assert node is not None
    return JSONRenderer().render(tree_payload([node], slugs, origin=origin)[0])


@pytest.fixture
def awkward_registry(scripted_history: Any, editor: Any) -> Any:
    """Siblings that sort by order then name, two roots, text JSON must escape.

    "Beta" shares "alpha"'s position, as past states and older registries hold ties
    (the services now refuse one): written behind their back, the name decides.
    """
    department_b = scripted_history.department_b
    for name, order in (("Zeta", 1), ("alpha", 2), ("Beta", 3), ("Ærø desk", 0)):
        services.unit_create(
            user=editor,
            reason="Setup",
            name=name,
            kind=UnitKind.UNIT,
            parent=department_b,
            sibling_order=order,
            mandate='Quotes " and \\ and \u2028 line and \u2029 paragraph, ünïcødé',
        )
    OrganizationalUnit.objects.filter(name="Beta").update(sibling_order=2)
    OrganizationalUnit.history.filter(name="Beta").update(sibling_order=2)
    services.unit_create(
        user=editor, reason="Setup", name="Second root", kind=UnitKind.OFFICE
    )
    return scripted_history


@pytest.mark.django_db
@pytest.mark.parametrize("include_abolished", [False, True])
def test_current_tree_bytes_equal_the_rendered_payload(
    awkward_registry: Any, include_abolished: bool
) -> None:
    flat = selectors.unit_tree_flat(include_abolished=include_abolished)
    roots = selectors.unit_tree(include_abolished=include_abolished)
    assert len(roots) == 2
    assert tree_json(flat) == rendered(roots)
    assert b"\\u2028" in tree_json(flat)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day", ["2019-12-31", "2020-06-01", "2021-06-01", "2023-07-01"]
)
@pytest.mark.parametrize("include_abolished", [False, True])
def test_past_tree_bytes_equal_the_rendered_payload(
    awkward_registry: Any, day: str, include_abolished: bool
) -> None:
    flat = selectors.unit_tree_as_of_flat(at(day), include_abolished=include_abolished)
    roots = selectors.unit_tree_as_of(at(day), include_abolished=include_abolished)
    assert flat is not None
    assert tree_json(flat) == rendered(roots)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day", ["2019-12-31", "2020-06-01", "2021-06-01", "2023-07-01"]
)
@pytest.mark.parametrize("include_abolished", [False, True])
def test_streamed_past_tree_bytes_equal_the_rendered_payload(
    awkward_registry: Any,
    day: str,
    include_abolished: bool,
    django_assert_num_queries: Any,
) -> None:
    roots = selectors.unit_tree_as_of(at(day), include_abolished=include_abolished)
    # Units, posts, appointments, and the holders' names as of then; at the end of
    # 2019 nobody held a post yet, so there are no names to read.
    queries = 3 if day == "2019-12-31" else 4
    with django_assert_num_queries(queries):
        body = as_of_tree_json(at(day), include_abolished=include_abolished)
    assert body == rendered(roots)


@pytest.mark.django_db
def test_streamed_past_branches_equal_the_branch_cut_from_the_whole_tree(
    awkward_registry: Any,
) -> None:
    past = selectors.unit_tree_as_of(at("2021-06-01"))
    for slug in ("hq", "department-a", "unit-x"):
        body = as_of_tree_json(at("2021-06-01"), root_slug=slug)
        assert body == rendered(past, slug), slug
    assert as_of_tree_json(at("2023-01-01"), root_slug="unit-y") is None
    assert as_of_tree_json(at("2023-01-01"), root_slug="no-such-unit") is None


@pytest.mark.django_db
def test_branches_equal_the_branch_cut_from_the_whole_tree(awkward_registry) -> None:
    roots = selectors.unit_tree()
    for slug in ("hq", "department-b", "unit-x", "second-root"):
        branch = selectors.subtree_flat(slug)
        assert branch is not None, slug
        assert tree_json(branch, single_root=True) == rendered(roots, slug)
    past = selectors.unit_tree_as_of(at("2021-06-01"))
    branch = selectors.unit_tree_as_of_flat(at("2021-06-01"), root_slug="department-a")
    assert branch is not None
    assert tree_json(branch, single_root=True) == rendered(past, "department-a")


@pytest.mark.django_db
def test_abolished_or_unknown_branch_is_none(scripted_history) -> None:
    assert selectors.subtree_flat("department-a") is None
    assert selectors.subtree_flat("no-such-unit") is None
    abolished = selectors.subtree_flat("department-a", include_abolished=True)
    assert abolished is not None
    assert [row[1] for _, row in abolished.units] == ["department-a"]
    assert selectors.unit_tree_as_of_flat(at("2023-01-01"), root_slug="unit-y") is None


@pytest.mark.django_db
@pytest.mark.slow
def test_generated_registry_trees_equal_the_rendered_payload() -> None:
    """Two hundred units with ten years of moves, renames and abolitions."""
    generated = generate(200)
    assert tree_json(selectors.unit_tree_flat()) == rendered(selectors.unit_tree())
    for day in ("2014-01-01", "2019-01-01", "2024-06-30"):
        flat = selectors.unit_tree_as_of_flat(at(day), include_abolished=True)
        roots = selectors.unit_tree_as_of(at(day), include_abolished=True)
        assert tree_json(flat) == rendered(roots)
    roots = selectors.unit_tree()
    for slug in (generated.largest_branch_slug, generated.other_branch_slug):
        branch = selectors.subtree_flat(slug)
        assert branch is not None, slug
        assert tree_json(branch, single_root=True) == rendered(roots, slug)


@pytest.mark.django_db
def test_branch_reads_only_its_own_units(scripted_history, make_unit) -> None:
    """A subtree's rows come from its lft..rght range, not from the whole registry."""
    for number in range(30):
        make_unit(f"Elsewhere {number}", scripted_history.root)
    branch = selectors.subtree_flat("department-b")
    assert branch is not None
    assert [row[1] for _, row in branch.units] == ["department-b", "unit-x", "unit-y"]
    assert set(branch.heads) <= {row[0] for _, row in branch.units}
    assert branch.slugs[scripted_history.root.pk] == "hq"


@pytest.mark.django_db
def test_branch_costs_four_queries(scripted_history, django_assert_num_queries) -> None:
    with django_assert_num_queries(4):
        selectors.subtree_flat("department-b")
    with django_assert_num_queries(4):
        selectors.unit_tree_flat()


@pytest.mark.django_db
def test_api_tree_sends_cached_bytes_equal_to_the_rendered_payload(
    scripted_history, django_assert_num_queries
) -> None:
    client = APIClient()
    cache.clear()
    first = client.get(f"{API}tree/")
    assert first.status_code == HTTPStatus.OK
    assert first["Content-Type"] == "application/json"
    assert first.content == rendered(selectors.unit_tree(), origin="http://testserver")
    with django_assert_num_queries(1):  # the registry generation only
        again = client.get(f"{API}tree/")
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]


@pytest.mark.django_db
def test_api_tree_follows_a_write(scripted_history, editor) -> None:
    """The cached bytes are keyed on the registry generation, which a write raises."""
    client = APIClient()
    before = client.get(f"{API}units/department-b/tree/").json()
    services.unit_update(
        unit=OrganizationalUnit.objects.get(slug="unit-y"),
        user=editor,
        reason="Rename",
        name="Unit Why",
    )
    after = client.get(f"{API}units/department-b/tree/").json()
    assert [child["name"] for child in before["children"]] == ["Unit Ex", "Unit Y"]
    assert [child["name"] for child in after["children"]] == ["Unit Ex", "Unit Why"]


@pytest.mark.django_db
def test_api_tree_in_other_renderings(scripted_history) -> None:
    """Indented JSON and the browsable API start from the same cached answer."""
    client = APIClient()
    compact = client.get(f"{API}tree/").json()
    indented = client.get(f"{API}tree/", HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b'[\n  {\n    "slug": "hq"')
    assert json.loads(indented.content) == compact
    page = client.get(f"{API}units/department-b/tree/", HTTP_ACCEPT="text/html")
    assert page.status_code == HTTPStatus.OK
    assert "Unit Ex" in page.content.decode()


@pytest.mark.django_db
def test_api_subtree_refusals_name_the_problem(scripted_history) -> None:
    client = APIClient()
    unknown = client.get(f"{API}units/no-such-unit/tree/")
    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert "no-such-unit" in unknown.json()["detail"]
    abolished = client.get(f"{API}units/department-a/tree/")
    assert abolished.status_code == HTTPStatus.NOT_FOUND
    assert "include_abolished" in abolished.json()["detail"]
    shown = client.get(f"{API}units/department-a/tree/", {"include_abolished": "true"})
    assert shown.json()["status"] == "abolished"
    bad = client.get(f"{API}units/unit-x/tree/", {"as_of": "yesterday-ish"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert "as_of" in json.dumps(bad.json())


# --- Streamed from the database: same bytes, whatever order the rows were filed in ---


def streamed_equals_sorted(slugs: tuple[str, ...] = ()) -> None:
    """The streamed answers equal the sorted ``FlatTree`` ones, whole and by branch."""
    for include_abolished in (False, True):
        flat = selectors.unit_tree_flat(include_abolished=include_abolished)
        assert current_tree_json(include_abolished=include_abolished) == tree_json(flat)
        for slug in slugs:
            branch = selectors.subtree_flat(slug, include_abolished=include_abolished)
            expected = None if branch is None else tree_json(branch, single_root=True)
            streamed = current_branch_json(slug, include_abolished=include_abolished)
            assert streamed == expected, (slug, include_abolished)


@pytest.mark.django_db
def test_streamed_tree_equals_the_rendered_payload(awkward_registry) -> None:
    roots = selectors.unit_tree()
    assert current_tree_json() == rendered(roots)
    for slug in ("hq", "department-b", "unit-x", "second-root"):
        assert current_branch_json(slug) == rendered(roots, slug)
    streamed_equals_sorted(("hq", "department-a", "department-b", "second-root"))


@pytest.mark.django_db
def test_streamed_tree_sorts_siblings_filed_out_of_order(
    awkward_registry, django_assert_num_queries
) -> None:
    """Siblings (and roots) whose stored ``lft`` order disagrees with (order, name).

    Written behind mptt's back, as a database collating names differently would file
    them; the streamed bytes are reordered in place, without reading the rows again.
    """
    department_b = OrganizationalUnit.objects.get(slug="department-b")
    children = list(department_b.get_children().order_by("lft"))
    assert len(children) >= 4
    for position, child in enumerate(children):
        OrganizationalUnit.objects.filter(pk=child.pk).update(
            sibling_order=len(children) - position
        )
    OrganizationalUnit.objects.filter(slug="second-root").update(sibling_order=0)
    OrganizationalUnit.objects.filter(slug="hq").update(sibling_order=5)
    roots = selectors.unit_tree()
    assert [root.slug for root in roots] == ["second-root", "hq"]
    with django_assert_num_queries(1):
        streamed = current_tree_json()
    assert streamed == rendered(roots)
    with django_assert_num_queries(1):
        branch = current_branch_json("department-b")
    assert branch == rendered(roots, "department-b")
    streamed_equals_sorted(("hq", "department-b"))


@pytest.mark.django_db
def test_streamed_tree_falls_back_when_an_active_unit_sits_under_an_abolished_one(
    scripted_history, django_assert_num_queries
) -> None:
    """Rows that are no clean tree (here written behind the services' back) are read
    again and sorted, so the answer still equals ``unit_tree()``'s."""
    OrganizationalUnit.objects.filter(slug="department-b").update(
        abolished_on=datetime.date(2024, 1, 1)
    )
    roots = selectors.unit_tree()
    assert "unit-x" in [root.slug for root in roots]  # an orphan shown as a root
    with django_assert_num_queries(5):
        streamed = current_tree_json()
    assert streamed == rendered(roots)
    assert current_branch_json("department-b") is None
    assert current_branch_json("hq") == rendered(roots, "hq")
    streamed_equals_sorted(("hq", "department-b", "unit-x"))


@pytest.mark.django_db
def test_streamed_tree_falls_back_when_a_unit_has_two_current_heads(
    scripted_history, django_assert_num_queries
) -> None:
    """A second head (written behind the services' back) would repeat the unit in
    the joined rows; the stream notices and the answer still equals ``unit_tree()``'s."""
    head = scripted_history.head_of_x
    Post.objects.create(
        unit=head.unit, slug="second-head", title="Co-head", is_head=True
    )
    roots = selectors.unit_tree()
    with django_assert_num_queries(5):
        streamed = current_tree_json()
    assert streamed == rendered(roots)
    assert current_branch_json(head.unit.slug) == rendered(roots, head.unit.slug)
    assert json.loads(streamed)[0]["children"]  # the unit is there once, not twice
    assert streamed.count(f'"slug":"{head.unit.slug}"'.encode()) == 1


@pytest.mark.django_db
def test_streamed_branch_of_an_unknown_or_abolished_unit_is_none(
    scripted_history,
) -> None:
    assert current_branch_json("no-such-unit") is None
    assert current_branch_json("department-a") is None
    shown = current_branch_json("department-a", include_abolished=True)
    assert shown is not None
    assert json.loads(shown)["status"] == "abolished"


@pytest.mark.django_db
def test_streamed_generated_registry_equals_the_rendered_payload() -> None:
    generated = generate(300)
    roots = selectors.unit_tree()
    assert current_tree_json() == rendered(roots)
    for slug in (generated.largest_branch_slug, generated.other_branch_slug):
        assert current_branch_json(slug) == rendered(roots, slug)


@pytest.fixture(scope="module")
def large_registry(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[GeneratedRegistry]:
    """A thousand generated units for the memory tests, generated once for both.

    Smaller registries do not show the bounds: at 400 units fixed costs take the
    past tree to 3.2 times its JSON. The module's shared scripted history, written
    before (and rolled back after) this, is emptied out of the way within it.
    """
    with rolled_back_registry(django_db_blocker):
        empty_the_registry()
        yield generate(1000)


def traced_peak(build: Any) -> tuple[int, bytes]:
    """Peak bytes Python allocated while ``build`` ran, and what it returned."""
    build()  # imports and URL resolver caches, not the tree's cost
    gc.collect()
    tracemalloc.start()
    try:
        body = build()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, body


@pytest.mark.django_db
@pytest.mark.slow
def test_streamed_tree_holds_little_beside_its_json(
    large_registry: GeneratedRegistry,
) -> None:
    """Issue 6: the rows are encoded as they arrive, never all held beside the JSON.

    Sorting every row first (``unit_tree_flat``) holds about four times the JSON at
    this size; streaming about 2.5-3 times (the head posts, read up front, dominate).
    """
    streamed_peak, body = traced_peak(current_tree_json)
    sorted_peak, sorted_body = traced_peak(
        lambda: tree_json(selectors.unit_tree_flat())
    )
    assert body == sorted_body
    assert streamed_peak < 3.5 * len(body), f"{streamed_peak} for {len(body)} bytes"
    assert streamed_peak < 0.8 * sorted_peak, (streamed_peak, sorted_peak)


@pytest.mark.django_db
@pytest.mark.slow
def test_streamed_past_tree_holds_at_most_three_times_its_json(
    large_registry: GeneratedRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the as-of tree held 5.3x its JSON as rows; each row is now encoded
    as it arrives and only what ordering needs is kept beside its bytes.

    Rows are read 2,000 at a time, 2% of a 100,000-unit registry but all of this
    one: read 50 at a time here, as large registries are.
    """
    monkeypatch.setattr("units.selectors.as_of.CHUNK_ROWS", 50)
    when = at("2019-01-01")
    streamed_peak, body = traced_peak(lambda: as_of_tree_json(when))
    sorted_peak, sorted_body = traced_peak(
        lambda: tree_json(selectors.unit_tree_as_of_flat(when))
    )
    assert body == sorted_body
    assert streamed_peak < 3 * len(body), f"{streamed_peak} for {len(body)} bytes"
    assert streamed_peak < 0.8 * sorted_peak, (streamed_peak, sorted_peak)


@pytest.mark.django_db
def test_units_are_indexed_in_tree_order() -> None:
    """The streamed tree reads by (tree_id, lft) and branches by lft ranges in one
    tree; without this index both sort or scan the whole table (one tree_id at 100k)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, OrganizationalUnit._meta.db_table
        )
    assert any(
        info["index"] and info["columns"] == ["tree_id", "lft"]
        for info in constraints.values()
    )

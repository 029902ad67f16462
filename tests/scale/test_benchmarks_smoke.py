"""The benchmark generator, at a small scale: what it inserts is a valid registry.

The benchmarks themselves are not part of the suite (``make benchmark``); this checks
that the registry they measure is one the services could have written.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import User
from django.db.models import Min

from benchmarks import floors
from benchmarks.generate import ABOLISHED_SHARE, GeneratedRegistry, generate
from tests.conftest import assert_tree_matches_rebuild
from units import selectors, services
from units.models import Appointment, OrganizationalUnit, Person, Post

pytestmark = pytest.mark.django_db

UNITS = 200


@pytest.fixture
def generated() -> GeneratedRegistry:
    return generate(UNITS, seed=11)


def test_generated_registry_is_consistent(generated: GeneratedRegistry) -> None:
    assert selectors.registry_problems() == []
    assert_tree_matches_rebuild()


def test_generated_registry_has_the_promised_shape(
    generated: GeneratedRegistry,
) -> None:
    assert OrganizationalUnit.objects.count() == UNITS
    revisions = OrganizationalUnit.history.count()
    assert 9 * UNITS <= revisions <= 11 * UNITS
    depth = max(OrganizationalUnit.objects.values_list("level", flat=True)) + 1
    assert 5 <= depth <= 10
    abolished = OrganizationalUnit.objects.abolished().count()
    assert 0 < abolished <= UNITS * ABOLISHED_SHARE
    # Every active unit has exactly one active head post; abolished ones have none.
    heads = Post.objects.filter(is_head=True, abolished_on__isnull=True)
    assert heads.count() == UNITS - abolished
    assert not heads.filter(unit__abolished_on__isnull=False).exists()
    assert Appointment.objects.filter(ended_on__isnull=True).count() <= heads.count()
    moves = sum(
        1
        for change in selectors.changes_between(
            datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC),
            datetime.datetime.now(tz=datetime.UTC),
        )
        if change.kind == "moved"
    )
    assert moves > UNITS // 2
    assert selectors.registry_generation() == sum(
        model.history.count()
        for model in (OrganizationalUnit, Post, Person, Appointment)
    )


def test_generated_past_differs_from_the_present(generated: GeneratedRegistry) -> None:
    early = selectors.unit_tree_as_of(
        datetime.datetime(2012, 6, 1, tzinfo=datetime.UTC)
    )
    now = selectors.unit_tree()
    count_early = sum(1 for root in early for _ in root.walk())
    count_now = sum(1 for root in now for _ in root.walk())
    assert 0 < count_early < count_now


def test_services_work_on_the_generated_registry(
    generated: GeneratedRegistry, editor: User
) -> None:
    branch = OrganizationalUnit.objects.get(slug=generated.largest_branch_slug)
    target = OrganizationalUnit.objects.get(slug=generated.other_branch_slug)
    services.unit_move(
        unit=branch, new_parent=target, user=editor, reason="Smoke test move"
    )
    assert selectors.registry_problems() == []
    assert_tree_matches_rebuild()


def test_floors_fetch_the_same_units_as_the_selectors(
    generated: GeneratedRegistry,
) -> None:
    active = OrganizationalUnit.objects.active().count()
    assert sum(1 for root in selectors.unit_tree() for _ in root.walk()) == active
    assert floors.tree() > 0
    assert floors.nodes_as_json(selectors.unit_tree()) > 0


def test_generator_refuses_a_non_empty_registry(generated: GeneratedRegistry) -> None:
    with pytest.raises(RuntimeError, match="empty registry"):
        generate(10)
    assert OrganizationalUnit.objects.count() == UNITS


def test_generated_corrections_leave_a_past_that_known_at_tells_apart() -> None:
    """``corrections``: out-of-order writes through the services, recorded now."""
    generated = generate(UNITS, seed=11, corrections=10)
    assert selectors.registry_problems() == []
    corrected = OrganizationalUnit.history.filter(corrects_revision__isnull=False)
    assert corrected.values("id").distinct().count() == 10
    assert generated.history_rows == sum(
        model.history.count()
        for model in (OrganizationalUnit, Post, Person, Appointment)
    )
    first = corrected.earliest("recorded_at").recorded_at
    before = first - datetime.timedelta(seconds=1)
    as_of = datetime.datetime(2018, 12, 1, 9, 0, tzinfo=datetime.UTC)
    # Each correction is effective before revisions recorded long before it.
    starts = corrected.values("id").annotate(start=Min("history_date"))
    assert all(row["start"] < as_of for row in starts)
    now = {n.id: n.name for r in selectors.unit_tree_as_of(as_of) for n in r.walk()}
    with selectors.reading_as_known_at(before):
        then = {
            n.id: n.name for r in selectors.unit_tree_as_of(as_of) for n in r.walk()
        }
    renamed = {pk for pk, name in now.items() if name != then.get(pk)}
    assert renamed and all(now[pk].startswith("Corrected unit") for pk in renamed)

"""Every API read costs a fixed number of queries, whatever the size of the tree.

The same requests run against a handful of units and against more than 500 (with heads,
holders, moves and renames in their history); each must issue exactly the same number
of queries, on a cold cache.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient

from tests.conftest import rolled_back_registry
from tests.factories import (
    AppointmentFactory,
    PersonFactory,
    PostFactory,
    UnitFactory,
    editor_user,
)
from units import services
from units.models import OrganizationalUnit, Person, UnitKind

API = "/api/v1/"
START = datetime.datetime(2020, 1, 1, 12, tzinfo=datetime.UTC)


def build_registry(editor: User, departments: int, divisions: int, units: int) -> int:
    """Root → departments → divisions (each headed and held) → units; returns the count."""
    setup = {"user": editor, "reason": "Setup", "effective_at": START}
    root = UnitFactory.create(name="Organization", kind=UnitKind.ORGANIZATION, **setup)
    created = 1
    for d in range(departments):
        department = UnitFactory.create(
            name=f"Department {d}", parent=root, kind=UnitKind.DEPARTMENT, **setup
        )
        created += 1
        for v in range(divisions):
            division = UnitFactory.create(
                name=f"Division {d}.{v}",
                parent=department,
                kind=UnitKind.DIVISION,
                **setup,
            )
            created += 1
            AppointmentFactory.create(
                user=editor,
                reason="Setup",
                person=PersonFactory.create(full_name=f"Person {d}.{v}", **setup),
                post=PostFactory.create(
                    title=f"Director {d}.{v}", unit=division, is_head=True, **setup
                ),
                started_on=START.date(),
            )
            for u in range(units):
                UnitFactory.create(
                    name=f"Unit {d}.{v}.{u}",
                    parent=division,
                    kind=UnitKind.UNIT,
                    **setup,
                )
                created += 1
    later = START + datetime.timedelta(days=400)
    target = OrganizationalUnit.objects.get(name="Division 0.0")
    services.unit_update(
        unit=target,
        user=editor,
        reason="Rename",
        name="Division Zero",
        effective_at=later,
    )
    services.unit_move(
        unit=target,
        new_parent=OrganizationalUnit.objects.get(name=f"Department {departments - 1}"),
        user=editor,
        reason="Move",
        effective_at=later + datetime.timedelta(days=1),
    )
    # Lineage: a unit absorbed into the division the requests read.
    absorbed = OrganizationalUnit.objects.get(name="Unit 0.1.0")
    closed = later + datetime.timedelta(days=2)
    services.unit_abolish(
        unit=absorbed, user=editor, reason="Absorbed", effective_at=closed
    )
    services.lineage_record(
        predecessors=[absorbed],
        successors=[target],
        closure_reason="absorbed",
        user=editor,
        reason="Absorbed",
        effective_at=closed,
    )
    return created


REQUESTS = [
    ("tree/", {}),
    ("tree/", {"as_of": "2020-06-01"}),
    ("tree/", {"include_abolished": "true"}),
    ("units/", {}),
    ("units/", {"as_of": "2020-06-01", "q": "unit", "limit": "500"}),
    ("units/", {"kind": "division", "ordering": "-name"}),
    ("units/division-00/", {}),
    ("units/division-00/", {"as_of": "2020-06-01"}),
    ("units/division-00/tree/", {}),
    ("units/division-00/tree/", {"as_of": "2020-06-01"}),
    # The same trees in French and Spanish: the translations are columns of the rows.
    ("tree/", {"lang": "fr"}),
    ("tree/", {"as_of": "2020-06-01", "lang": "fr"}),
    ("units/division-00/tree/", {"lang": "es"}),
    ("units/division-00/children/", {}),
    ("units/division-00/ancestors/", {"as_of": "2020-06-01"}),
    ("units/division-00/history/", {}),
    ("changes/", {}),
    ("changes/", {"since": "2020-06-01", "until": "2022-01-01"}),
    ("posts/", {"limit": "500"}),
    ("people/", {"as_of": "2020-06-01"}),
    ("appointments/", {"current": "true"}),
    ("relationships/", {}),
    ("export/units.csv", {}),
    ("export/org.jsonld", {"as_of": "2021-06-01"}),
    ("export/popolo.json", {}),
    ("export/snapshot.zip", {"as_of": "2021-06-01"}),
    ("export/units.xlsx", {"as_of": "2021-06-01"}),
]

# Queries per request, in the order of REQUESTS (anonymous caller, cold cache). Each
# counts one read of the registry generation; the rest are the selectors' fixed reads.
# None: a change-feed page, which looks up posts, people and relationships only for
# the kinds of revision on it, so its count follows what the page holds (and history
# ids, which PostgreSQL's sequences do not reset between tests): at most FEED_AT_MOST.
# A unit list or a unit adds the lineage of the units it shows: one read of the links,
# one of the linked units' names when there are links (the second "units/" lists none
# at its date, and the one unit read in the past has none either). The JSON-LD export
# reads the lineage links for its change events (one query), and so does the snapshot.
# The whole current tree also reads the history stamp it is built at, so that after a
# write it can be derived from this answer (api.formats.tree_patch).
EXPECTED = [
    3,
    5,
    3,
    7,
    6,
    7,
    5,
    4,
    2,
    5,
    3,
    5,
    2,
    5,
    5,
    5,
    None,
    None,
    3,
    2,
    4,
    2,
    5,
    9,
    8,
    17,
    9,
]
# One generation read, six history reads (units, appointments, relationships, posts,
# people, lineage links), six reads of the states before, and the units, posts and
# people named.
FEED_AT_MOST = 16


# Each size's registry is written once for the module's two tests (they wrote it
# each, over 500 units through the services), and rolled back after the last.
SIZES = {"small": (1, 2, 1, 5), "over-500-units": (6, 6, 13, 500)}


@dataclass
class SizedRegistry:
    departments: int
    divisions: int


@pytest.fixture(scope="module", params=list(SIZES))
def sized_registry(
    request: pytest.FixtureRequest,
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
) -> Iterator[SizedRegistry]:
    departments, divisions, units, at_least = SIZES[request.param]
    with rolled_back_registry(django_db_blocker):
        assert build_registry(editor_user(), departments, divisions, units) >= at_least
        yield SizedRegistry(departments, divisions)


@pytest.mark.slow
def test_reads_cost_a_fixed_number_of_queries(
    sized_registry: SizedRegistry,
    db: None,
    django_assert_num_queries: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = APIClient()
    for (path, query), expected in zip(REQUESTS, EXPECTED, strict=True):
        cache.clear()
        counted = (
            django_assert_max_num_queries(FEED_AT_MOST)
            if expected is None
            else django_assert_num_queries(expected)
        )
        with counted:
            response = client.get(f"{API}{path}", query)
        assert response.status_code == 200, (path, response.content[:300])


# Queries: the registry generation, the list's states, one slug map per linked model
# with rows to show, and with q one read of each linked model's names as of the instant.
LIST_REQUESTS = [
    ("posts/", {"q": "director", "ordering": "-title", "limit": "1000"}, 3),
    ("people/", {"q": "person", "ordering": "-slug", "as_of": "2020-06-01"}, 2),
    ("appointments/", {"q": "director", "ordering": "ended_on"}, 6),
    ("relationships/", {"q": "division", "ordering": "-started_on"}, 4),
    ("relationships/", {"ordering": "kind", "limit": "7", "offset": "2"}, 3),
]


@pytest.mark.slow
def test_searched_and_ordered_lists_cost_a_fixed_number_of_queries(
    sized_registry: SizedRegistry, editor: User, django_assert_num_queries: Any
) -> None:
    divisions_now = list(OrganizationalUnit.objects.filter(kind="division"))
    for source, target in zip(divisions_now, divisions_now[1:], strict=False):
        services.relationship_create(
            user=editor,
            reason="Joint work",
            source=source,
            target=target,
            kind="coordinates_with",
            effective_at=datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC),
        )
    assert Person.objects.count() == sized_registry.departments * (
        sized_registry.divisions
    )
    client = APIClient()
    for path, query, expected in LIST_REQUESTS:
        cache.clear()
        with django_assert_num_queries(expected):
            response = client.get(f"{API}{path}", query)
        assert response.status_code == HTTPStatus.OK, (path, response.content[:300])
        assert response.json()["count"] > 0, (path, query)

"""Lineage in the exports: an ``org:ChangeEvent`` per event in JSON-LD (parsed with
rdflib), founding and dissolution dates in Popolo, as of any instant."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import XSD

from tests.conftest import at
from units import services
from units.models import OrganizationalUnit, UnitKind

pytestmark = pytest.mark.django_db
API = "/api/v1/"
ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DCT = Namespace("http://purl.org/dc/terms/")


def unit_uri(slug: str) -> URIRef:
    return URIRef(f"http://testserver{API}units/{slug}/")


@pytest.fixture
def lineage(editor: User) -> dict[str, OrganizationalUnit]:
    """A and B merged into a new C (1 March 2025); C split into D and E (2026)."""

    def unit(name: str, slug: str, day: str) -> OrganizationalUnit:
        return services.unit_create(
            name=name,
            slug=slug,
            kind=UnitKind.DEPARTMENT,
            user=editor,
            reason="Setup",
            effective_at=at(day),
        )

    def closed(units: list[Any], successors: list[Any], why: str, day: str) -> None:
        for closing in units:
            services.unit_abolish(
                unit=closing, user=editor, reason=why, effective_at=at(day)
            )
        services.lineage_record(
            predecessors=units,
            successors=successors,
            closure_reason=why,
            user=editor,
            reason=why,
            effective_at=at(day),
        )

    a, b = (
        unit("Dept A", "dept-a", "2024-01-01"),
        unit("Dept B", "dept-b", "2024-01-01"),
    )
    c = unit("Dept C", "dept-c", "2025-03-01")
    closed([a, b], [c], "merged", "2025-03-01")
    d, e = (
        unit("Dept D", "dept-d", "2026-01-01"),
        unit("Dept E", "dept-e", "2026-01-01"),
    )
    closed([c], [d, e], "split", "2026-01-01")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def graph_of(client: Client, **query: str) -> Graph:
    response = client.get(f"{API}export/org.jsonld", query)
    assert response.status_code == 200
    return Graph().parse(data=response.content, format="json-ld")


def test_each_lineage_event_is_an_org_change_event(
    lineage: Any, client: Client
) -> None:
    graph = graph_of(client)
    events = set(graph.subjects(RDF.type, ORG.ChangeEvent))
    lineage_events = {
        event for event in events if (event, ORG.originalOrganization, None) in graph
    }
    assert len(lineage_events) == 2
    by_reason = {
        str(graph.value(event, DCT.description)): event for event in lineage_events
    }
    merge, split = by_reason["merged"], by_reason["split"]
    assert set(graph.objects(merge, ORG.originalOrganization)) == {
        unit_uri("dept-a"),
        unit_uri("dept-b"),
    }
    assert set(graph.objects(merge, ORG.resultingOrganization)) == {unit_uri("dept-c")}
    assert set(graph.objects(split, ORG.originalOrganization)) == {unit_uri("dept-c")}
    assert set(graph.objects(split, ORG.resultingOrganization)) == {
        unit_uri("dept-d"),
        unit_uri("dept-e"),
    }
    at_time = graph.value(merge, PROV.atTime)
    assert isinstance(at_time, Literal) and at_time.datatype == XSD.dateTime
    assert at_time.toPython() == at("2025-03-01")
    assert (unit_uri("dept-c"), ORG.resultedFrom, merge) in graph
    assert (unit_uri("dept-d"), ORG.resultedFrom, split) in graph


def test_the_events_are_those_of_the_instant(lineage: Any, client: Client) -> None:
    graph = graph_of(client, as_of="2025-06-01")
    events = [
        event
        for event in graph.subjects(RDF.type, ORG.ChangeEvent)
        if (event, ORG.originalOrganization, None) in graph
    ]
    assert len(events) == 1
    assert str(graph.value(events[0], DCT.description)) == "merged"
    assert (unit_uri("dept-d"), None, None) not in graph
    assert (
        graph_of(client, as_of="2024-06-01").value(predicate=ORG.originalOrganization)
        is None
    )


def test_popolo_carries_founding_and_dissolution_dates(
    lineage: Any, client: Client
) -> None:
    body = client.get(f"{API}export/popolo.json").json()
    organizations = {row["id"]: row for row in body["organizations"]}
    assert organizations["dept-c"]["founding_date"] == "2025-03-01"
    assert organizations["dept-c"]["dissolution_date"] == "2026-01-01"
    assert organizations["dept-a"]["dissolution_date"] == "2025-03-01"
    assert organizations["dept-d"]["dissolution_date"] is None

"""Exports of the current or as-of structure: CSV, W3C ORG (JSON-LD) and Popolo.

Each export holds the units that existed at the instant (abolished ones flagged with
their date), the posts, the people who held them and every appointment known then with
its start and end dates.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.conditional import generation_read
from api.filters import AsOfFilterSet
from api.views.base import AS_OF, ERRORS, RegistryView, as_of_instant
from api.views.tree import all_nodes, tree_at
from units import selectors
from units.models import Appointment, Person, Post, appointment_is_current
from units.selectors import UnitNode

ORG_CONTEXT: dict[str, Any] = {
    "org": "http://www.w3.org/ns/org#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "dct": "http://purl.org/dc/terms/",
    "time": "http://www.w3.org/2006/time#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "name": "skos:prefLabel",
    "altName": "skos:altLabel",
    "identifier": "org:identifier",
    "description": "dct:description",
    "fullName": "foaf:name",
    "subOrganizationOf": {"@id": "org:subOrganizationOf", "@type": "@id"},
    "postIn": {"@id": "org:postIn", "@type": "@id"},
    "heldBy": {"@id": "org:heldBy", "@type": "@id"},
    "member": {"@id": "org:member", "@type": "@id"},
    "organization": {"@id": "org:organization", "@type": "@id"},
    "role": {"@id": "org:role", "@type": "@id"},
    "memberDuring": {"@id": "org:memberDuring"},
    "changedBy": {"@id": "org:changedBy"},
    "date": {"@id": "dct:date", "@type": "xsd:date"},
    "created": {"@id": "dct:created", "@type": "xsd:date"},
    "hasBeginning": {"@id": "time:hasBeginning"},
    "hasEnd": {"@id": "time:hasEnd"},
    "inXSDDate": {"@id": "time:inXSDDate", "@type": "xsd:date"},
    # Lineage: one org:ChangeEvent per merge, split, replacement or absorption.
    "prov": "http://www.w3.org/ns/prov#",
    "originalOrganization": {"@id": "org:originalOrganization", "@type": "@id"},
    "resultingOrganization": {"@id": "org:resultingOrganization", "@type": "@id"},
    "resultedFrom": {"@id": "org:resultedFrom", "@type": "@id"},
    "atTime": {"@id": "prov:atTime", "@type": "xsd:dateTime"},
}


@dataclass(slots=True)
class Snapshot:
    """Everything an export needs, read in a fixed number of queries."""

    units: list[UnitNode]
    posts: list[dict[str, Any]]
    people: list[dict[str, Any]]
    appointments: list[dict[str, Any]]
    day: datetime.date

    @property
    def unit_slugs(self) -> dict[int, str]:
        return {unit.id: unit.slug for unit in self.units}

    def holders(self) -> dict[int, dict[str, Any]]:
        """The appointment running on the snapshot's day, by post id."""
        return {
            row["post_id"]: row
            for row in self.appointments
            if appointment_is_current(row["started_on"], row["ended_on"], self.day)
        }


def snapshot(when: datetime.datetime | None) -> Snapshot:
    units = all_nodes(tree_at(when, include_abolished=True))
    known_units = {unit.id for unit in units}
    posts = [
        row
        for row in selectors.records_as_of(Post, when, selectors.POST_RECORD_FIELDS)
        if row["unit_id"] in known_units
    ]
    known_posts = {row["id"] for row in posts}
    appointments = [
        row
        for row in selectors.records_as_of(
            Appointment, when, selectors.APPOINTMENT_RECORD_FIELDS
        )
        if row["post_id"] in known_posts
    ]
    people = selectors.records_as_of(
        Person,
        when,
        selectors.PERSON_RECORD_FIELDS,
        ids={row["person_id"] for row in appointments},
    )
    day = (when or datetime.datetime.now(tz=datetime.UTC)).date()
    return Snapshot(units, posts, people, appointments, day)


# A spreadsheet opening the CSV runs a cell starting with one of these as a formula
# (=HYPERLINK(...), +cmd|...): OWASP's CSV injection rule.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell that a spreadsheet shows as text, never evaluates.

    Text starting with a formula trigger gets a leading single quote, which spreadsheets
    hide and treat as "this is text". Numbers pass through, so a level stays a number.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _date(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


# Errors still answer in JSON whatever the client accepts.
class ExportView(RegistryView):
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        return super().perform_content_negotiation(request, force=True)


CSV_COLUMNS = (
    "slug",
    "name",
    "short_name",
    "kind",
    "parent",
    "reporting_line",
    "level",
    "status",
    "established_on",
    "abolished_on",
    "location",
    "mandate",
    "head_post",
    "head_holder",
)


class UnitsCsvView(ExportView):
    @extend_schema(
        summary="Units as CSV, in tree order",
        description=(
            "One row per unit as the registry stood at `as_of` (default now), in tree "
            "order, abolished units included with their date: for spreadsheets."
        ),
        parameters=[AS_OF],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        when = as_of_instant(request)

        def build() -> str:
            units = all_nodes(tree_at(when, include_abolished=True))
            # Looked up by parent_id, None for a top-level unit (no parent slug).
            slugs: dict[int | None, str] = {unit.id: unit.slug for unit in units}
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(CSV_COLUMNS)
            for unit in units:
                head = unit.head
                row = [
                    unit.slug,
                    unit.name,
                    unit.short_name,
                    unit.kind,
                    slugs.get(unit.parent_id, ""),
                    unit.reporting_line,
                    unit.level,
                    "active" if unit.is_active else "abolished",
                    _date(unit.established_on) or "",
                    _date(unit.abolished_on) or "",
                    unit.location,
                    unit.mandate,
                    head.title if head else "",
                    head.holder.person_name if head and head.holder else "",
                ]
                writer.writerow([spreadsheet_safe(cell) for cell in row])
            return buffer.getvalue()

        return as_file(
            generation_read(request, build, parameters=(AsOfFilterSet,)),
            "text/csv; charset=utf-8",
        )


def as_file(response: Response, content_type: str) -> Response | HttpResponse:
    """Send a cached export body as it is, keeping the ETag and Vary headers."""
    if response.status_code != 200:
        return response
    file_response = HttpResponse(response.data, content_type=content_type)
    for header in ("ETag", "Vary"):
        if header in response:
            file_response[header] = response[header]
    return file_response


class OrgJsonLdView(ExportView):
    @extend_schema(
        summary="The structure in the W3C Organization Ontology (JSON-LD)",
        description=(
            "The structure at `as_of` in the W3C Organization Ontology (`org:`), as "
            "JSON-LD: the units as organizations in their hierarchy, for linked-data "
            "tools."
        ),
        parameters=[AS_OF],
        responses={
            (200, "application/ld+json"): OpenApiResponse(OpenApiTypes.OBJECT),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        when = as_of_instant(request)
        base = request.build_absolute_uri("/api/v1/")

        def build() -> str:
            graph = org_graph(snapshot(when), base, selectors.lineage_links(when))
            return JSONRenderer().render(graph).decode()

        return as_file(
            generation_read(request, build, parameters=(AsOfFilterSet,)),
            "application/ld+json",
        )


def lineage_events(
    links: list[dict[str, Any]], unit_uri: Callable[[int], str]
) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    """One ``org:ChangeEvent`` per lineage event (the links one merge, split, ...
    wrote), and the events each resulting unit resulted from."""
    events: dict[str, dict[str, Any]] = {}
    resulted_from: dict[int, list[str]] = {}
    for link in links:
        event_id = f"urn:uuid:{link['event']}"
        if event_id not in events:
            events[event_id] = {
                "@id": event_id,
                "@type": "org:ChangeEvent",
                "description": link["closure_reason"],
                "date": link["effective_on"].isoformat(),
                "atTime": link["history_date"].isoformat(),
                "originalOrganization": [],
                "resultingOrganization": [],
            }
        event = events[event_id]
        for key, unit_id in (
            ("originalOrganization", link["predecessor_id"]),
            ("resultingOrganization", link["successor_id"]),
        ):
            if unit_uri(unit_id) not in event[key]:
                event[key].append(unit_uri(unit_id))
        sources = resulted_from.setdefault(link["successor_id"], [])
        if event_id not in sources:
            sources.append(event_id)
    return list(events.values()), resulted_from


def org_graph(
    data: Snapshot, base: str, lineage: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The snapshot as a JSON-LD document with its @context inline (parses offline);
    ``lineage`` (``selectors.lineage_links``) adds its change events."""
    slugs = data.unit_slugs
    people = {row["id"]: row for row in data.people}
    posts = {row["id"]: row for row in data.posts}

    def unit_uri(unit_id: int) -> str:
        return f"{base}units/{slugs[unit_id]}/"

    def post_uri(post_id: int) -> str:
        return f"{base}posts/{posts[post_id]['slug']}/"

    def person_uri(person_id: int) -> str:
        return f"{base}people/{people[person_id]['slug']}/"

    holders = data.holders()
    events, resulted_from = lineage_events(
        [
            link
            for link in lineage or []
            if link["predecessor_id"] in slugs and link["successor_id"] in slugs
        ],
        unit_uri,
    )
    graph: list[dict[str, Any]] = []
    for unit in data.units:
        node: dict[str, Any] = {
            "@id": unit_uri(unit.id),
            "@type": ["org:OrganizationalUnit"]
            + ([] if unit.parent_id else ["org:FormalOrganization"]),
            "name": unit.name,
            "identifier": unit.slug,
        }
        if unit.short_name:
            node["altName"] = unit.short_name
        if unit.mandate:
            node["description"] = unit.mandate
        if unit.parent_id:
            node["subOrganizationOf"] = unit_uri(unit.parent_id)
        if unit.established_on:
            node["created"] = unit.established_on.isoformat()
        if unit.abolished_on:
            node["changedBy"] = {
                "@type": "org:ChangeEvent",
                "description": "abolished",
                "date": unit.abolished_on.isoformat(),
            }
        if unit.id in resulted_from:
            node["resultedFrom"] = resulted_from[unit.id]
        graph.append(node)
    for post in data.posts:
        node = {
            "@id": post_uri(post["id"]),
            "@type": "org:Post",
            "name": post["title"],
            "identifier": post["slug"],
            "postIn": unit_uri(post["unit_id"]),
        }
        holder = holders.get(post["id"])
        if holder and holder["person_id"] in people:
            node["heldBy"] = person_uri(holder["person_id"])
        graph.append(node)
    for person in data.people:
        graph.append(
            {
                "@id": person_uri(person["id"]),
                "@type": "foaf:Person",
                "fullName": person["full_name"],
            }
        )
    for appointment in data.appointments:
        if appointment["person_id"] not in people:
            continue
        interval: dict[str, Any] = {
            "@type": "time:Interval",
            "hasBeginning": {
                "@type": "time:Instant",
                "inXSDDate": appointment["started_on"].isoformat(),
            },
        }
        if appointment["ended_on"]:
            interval["hasEnd"] = {
                "@type": "time:Instant",
                "inXSDDate": appointment["ended_on"].isoformat(),
            }
        graph.append(
            {
                "@id": f"{base}appointments/{appointment['id']}/",
                "@type": "org:Membership",
                "member": person_uri(appointment["person_id"]),
                "organization": unit_uri(posts[appointment["post_id"]]["unit_id"]),
                "role": post_uri(appointment["post_id"]),
                "memberDuring": interval,
            }
        )
    graph.extend(events)
    return {"@context": ORG_CONTEXT, "@graph": graph}


class PopoloView(ExportView):
    @extend_schema(
        summary="The structure as Popolo organizations, posts, persons, memberships",
        description=(
            "The structure at `as_of` in the Popolo data standard: units as "
            "organizations, their posts, the people and their memberships "
            "(appointments), for tools that read Popolo."
        ),
        parameters=[AS_OF],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        when = as_of_instant(request)
        return generation_read(
            request,
            lambda: popolo(snapshot(when)),
            parameters=(AsOfFilterSet,),
        )


def popolo(data: Snapshot) -> dict[str, Any]:
    slugs = data.unit_slugs
    posts = {row["id"]: row for row in data.posts}
    people = {row["id"]: row for row in data.people}
    return {
        "organizations": [
            {
                "id": unit.slug,
                "name": unit.name,
                "other_names": (
                    [{"name": unit.short_name, "note": "acronym"}]
                    if unit.short_name
                    else []
                ),
                "classification": unit.kind,
                "parent_id": (
                    None if unit.parent_id is None else slugs.get(unit.parent_id)
                ),
                "founding_date": _date(unit.established_on),
                "dissolution_date": _date(unit.abolished_on),
                "description": unit.mandate,
            }
            for unit in data.units
        ],
        "posts": [
            {
                "id": post["slug"],
                "label": post["title"],
                "organization_id": slugs[post["unit_id"]],
                "start_date": _date(post["established_on"]),
                "end_date": _date(post["abolished_on"]),
            }
            for post in data.posts
        ],
        "persons": [
            {"id": person["slug"], "name": person["full_name"]}
            for person in data.people
        ],
        "memberships": [
            {
                "id": f"appointment-{row['id']}",
                "person_id": people[row["person_id"]]["slug"],
                "organization_id": slugs[posts[row["post_id"]]["unit_id"]],
                "post_id": posts[row["post_id"]]["slug"],
                "start_date": _date(row["started_on"]),
                "end_date": _date(row["ended_on"]),
            }
            for row in data.appointments
            if row["person_id"] in people
        ],
    }

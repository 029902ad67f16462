"""Exports of the current or as-of structure: CSV, W3C ORG (JSON-LD) and Popolo.

Each export holds the units that existed at the instant (abolished ones flagged with
their date), the posts, the people who held them and every appointment known then with
its start and end dates.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
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
from units.models import (
    Appointment,
    Person,
    Post,
    UnitRelationship,
    appointment_is_current,
)
from units.selectors import UnitNode
from units.services.imports import UNIT_COLUMNS

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
}


@dataclass(slots=True)
class Snapshot:
    """Everything an export needs, read in a fixed number of queries."""

    units: list[UnitNode]
    posts: list[dict[str, Any]]
    people: list[dict[str, Any]]
    appointments: list[dict[str, Any]]
    day: datetime.date
    # Dotted lines between the units, each known then (ended ones with their date).
    relationships: list[dict[str, Any]] = field(default_factory=list)

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
    relationships = [
        row
        for row in selectors.records_as_of(
            UnitRelationship, when, selectors.RELATIONSHIP_RECORD_FIELDS
        )
        if row["source_id"] in known_units and row["target_id"] in known_units
    ]
    day = (when or datetime.datetime.now(tz=datetime.UTC)).date()
    return Snapshot(units, posts, people, appointments, day, relationships)


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


# The columns an import of units reads back (``units.services.imports``).
CSV_COLUMNS = UNIT_COLUMNS


def unit_rows(units: list[UnitNode]) -> list[list[Any]]:
    """One row of ``CSV_COLUMNS`` per unit (dates as dates, blanks as ""): the CSV
    export, the workbook's Units sheet and the import's template share it."""
    # Looked up by parent_id, None for a top-level unit (no parent slug).
    slugs: dict[int | None, str] = {unit.id: unit.slug for unit in units}
    rows = []
    for unit in units:
        head = unit.head
        rows.append(
            [
                unit.slug,
                unit.name,
                unit.short_name,
                unit.kind,
                slugs.get(unit.parent_id, ""),
                unit.reporting_line,
                unit.level,
                "active" if unit.is_active else "abolished",
                unit.established_on or "",
                unit.abolished_on or "",
                unit.location,
                unit.mandate,
                head.title if head else "",
                head.holder.person_name if head and head.holder else "",
            ]
        )
    return rows


def _csv_cell(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime.date) else value


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
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(CSV_COLUMNS)
            for row in unit_rows(all_nodes(tree_at(when, include_abolished=True))):
                writer.writerow([spreadsheet_safe(_csv_cell(cell)) for cell in row])
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
            return JSONRenderer().render(org_graph(snapshot(when), base)).decode()

        return as_file(
            generation_read(request, build, parameters=(AsOfFilterSet,)),
            "application/ld+json",
        )


def org_graph(data: Snapshot, base: str) -> dict[str, Any]:
    """The snapshot as a JSON-LD document with its @context inline (parses offline)."""
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

"""Exports of the current or as-of structure: CSV, W3C ORG (JSON-LD) and Popolo.

Each export holds the units that existed at the instant (abolished ones flagged with
their date), the posts, the people who held them and every appointment known then with
its start and end dates. Each is one plain function from the registry at an instant
(``RegistryAt``) and the site's origin to bytes: the views in ``api.views.exports``
send them, and a snapshot (``api.formats.snapshots``) packs the same bytes.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from typing import Any

from rest_framework.renderers import JSONRenderer

from api.formats.state import RegistryAt, RegistryRecords
from units.content_languages import SOURCE_LANGUAGE, TRANSLATION_LANGUAGES
from units.selectors import UnitNode
from units.selectors.languages import all_languages
from units.services.imports import UNIT_COLUMNS
from units.services.imports.columns import TRANSLATED_UNIT_COLUMNS

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


# The columns an import of units reads back (``units.services.imports``).
CSV_COLUMNS = UNIT_COLUMNS


# How the Table Schema describes a column; any other column (the French and Spanish
# texts among them) is an optional string.
_CSV_FIELD_SHAPES: dict[str, dict[str, Any]] = {
    "slug": {"type": "string", "constraints": {"required": True}},
    "name": {"type": "string", "constraints": {"required": True}},
    "kind": {"type": "string", "constraints": {"required": True}},
    "level": {"type": "integer", "constraints": {"minimum": 0}},
    "status": {
        "type": "string",
        "constraints": {"required": True, "enum": ["active", "abolished"]},
    },
    "established_on": {"type": "date"},
    "abolished_on": {"type": "date"},
}

# The CSV's Table Schema (frictionless): how a snapshot describes units.csv, and what
# its validation checks (types, the slug as key, a parent naming a unit of the file).
UNITS_CSV_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": name, **_CSV_FIELD_SHAPES.get(name, {"type": "string"})}
        for name in CSV_COLUMNS
    ],
    "missingValues": [""],
    "primaryKey": ["slug"],
    "foreignKeys": [
        {"fields": ["parent"], "reference": {"resource": "", "fields": ["slug"]}}
    ],
}


def translated_cells(source: Any, names: tuple[str, ...]) -> list[str]:
    """The French and Spanish texts of ``names``, "" where not translated (no English
    in their place: a blank cell says "not translated"), in the columns' order."""
    return [
        all_languages(source, name)[language] or ""
        for name in names
        for language in TRANSLATION_LANGUAGES
    ]


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
                *translated_cells(unit, TRANSLATED_UNIT_COLUMNS),
                *(translated_cells(head, ("title",)) if head else ["", ""]),
            ]
        )
    return rows


def _csv_cell(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime.date) else value


def units_csv(state: RegistryAt, origin: str) -> bytes:
    """One row per unit, in tree order, abolished units included (for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in unit_rows(state.units):
        writer.writerow([spreadsheet_safe(_csv_cell(cell)) for cell in row])
    return buffer.getvalue().encode()


def org_jsonld(state: RegistryAt, origin: str) -> bytes:
    """The W3C Organization Ontology graph; its IRIs are the API's addresses."""
    graph = org_graph(state.records, f"{origin}/api/v1/", state.lineage)
    return JSONRenderer().render(graph)


def tagged_literals(source: Any, name: str) -> list[dict[str, str]]:
    """``name`` as one language-tagged literal per language that has a text
    (``{"@value": ..., "@language": "fr"}``): a graph never states an English text as
    French, and an untranslated text simply has no French literal."""
    return [
        {"@value": text, "@language": language}
        for language, text in all_languages(source, name).items()
        if text is not None
    ]


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
    data: RegistryRecords, base: str, lineage: list[dict[str, Any]] | None = None
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
            "name": tagged_literals(unit, "name"),
            "identifier": unit.slug,
        }
        for key, name in (("altName", "short_name"), ("description", "mandate")):
            literals = tagged_literals(unit, name)
            if literals:
                node[key] = literals
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
            "name": tagged_literals(post, "title"),
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


def popolo_json(state: RegistryAt, origin: str) -> bytes:
    """The Popolo document (it names no address, so ``origin`` is not read)."""
    return JSONRenderer().render(popolo(state.records))


# Popolo's other_names has no language of its own: each name in another language is
# an other name with a ``lang``, noted "multilingual" (EveryPolitician's convention).
TRANSLATION_NOTE = "multilingual"
ACRONYM_NOTE = "acronym"


def other_names(unit: UnitNode) -> list[dict[str, str]]:
    """The unit's name in French and Spanish, then its acronym in each language that
    has one, each with its ``lang``."""
    names = [
        {"name": text, "lang": language, "note": TRANSLATION_NOTE}
        for language, text in all_languages(unit, "name").items()
        if text is not None and language != SOURCE_LANGUAGE
    ]
    names.extend(
        {"name": text, "lang": language, "note": ACRONYM_NOTE}
        for language, text in all_languages(unit, "short_name").items()
        if text is not None
    )
    return names


def popolo(data: RegistryRecords) -> dict[str, Any]:
    """Popolo organizations, posts, persons and memberships; names and texts in
    English, other languages as ``other_names`` (Popolo has one ``name``)."""
    slugs = data.unit_slugs
    posts = {row["id"]: row for row in data.posts}
    people = {row["id"]: row for row in data.people}
    return {
        "organizations": [
            {
                "id": unit.slug,
                "name": unit.name,
                "other_names": other_names(unit),
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

"""The OpenAPI schema as a newcomer reads it: tags in the order they need them, every
operation under one tag and described, and the tour's explanations carried along."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from api import schema as api_schema
from api.schema_texts import TAGS
from tests.api.test_api_reorganizations import REORGANIZATION_WRITES

pytestmark = pytest.mark.django_db

API = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
NEWCOMER_ORDER = [
    "tree",
    "units",
    "changes",
    "exports",
    "search",
    "posts",
    "people",
    "appointments",
    "relationships",
    "lineage",
    "reorganizations",
    "tokens",
    "root",
]
# Writes that act on no one object's version: creations, the token, and abolishing
# several units at once (which takes no If-Match: abolish one unit for that check).
WRITES_WITHOUT_A_VERSION = {
    ("post", "/api/v1/units/"),
    ("post", "/api/v1/posts/"),
    ("post", "/api/v1/people/"),
    ("post", "/api/v1/appointments/"),
    ("post", "/api/v1/relationships/"),
    ("post", "/api/v1/units/abolish/"),
    ("post", "/api/v1/token/"),
    ("delete", "/api/v1/token/"),
    # Reorganizations are guarded by their status (409 `wrong_status`), not a version.
    *REORGANIZATION_WRITES,
}


@pytest.fixture
def schema() -> dict[str, Any]:
    response = APIClient().get(
        f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == HTTPStatus.OK
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) in the schema's order."""
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_schema_is_valid_openapi(schema: dict[str, Any]) -> None:
    validate_schema(schema)


def test_the_tags_come_in_a_newcomers_order_each_with_a_description(
    schema: dict[str, Any],
) -> None:
    assert [tag["name"] for tag in schema["tags"]] == NEWCOMER_ORDER
    assert schema["tags"] == TAGS
    for tag in schema["tags"]:
        assert len(tag["description"]) >= 40, tag


def test_every_operation_has_one_listed_tag_and_they_come_grouped_in_order(
    schema: dict[str, Any],
) -> None:
    places = []
    for method, path, operation in operations(schema):
        assert len(operation.get("tags", [])) == 1, (method, path)
        (tag,) = operation["tags"]
        assert tag in NEWCOMER_ORDER, (method, path, tag)
        places.append(NEWCOMER_ORDER.index(tag))
    # The paths themselves are in tag order (ReDoc and readers of the JSON see it so).
    assert places == sorted(places)
    # The tree comes first, the units next: where a newcomer starts.
    assert [path for _method, path, _operation in operations(schema)][:2] == [
        "/api/v1/tree/",
        "/api/v1/units/",
    ]
    # Every tag has operations: none listed for nothing.
    assert set(places) == set(range(len(NEWCOMER_ORDER)))


def test_a_path_without_a_tag_is_refused_by_name() -> None:
    assert api_schema.path_tag("/api/v1/units/{slug}/move/") == "units"
    assert api_schema.path_tag("/api/v1/") == "root"
    with pytest.raises(ValueError, match="SEGMENT_TAGS"):
        api_schema.path_tag("/api/v1/budgets/")


def test_every_operation_has_a_summary_and_a_description_of_its_own(
    schema: dict[str, Any],
) -> None:
    descriptions = []
    for method, path, operation in operations(schema):
        summary = operation.get("summary", "")
        description = operation.get("description", "")
        assert len(summary) >= 8, (method, path)
        # Several sentences: what it answers and what a caller must know.
        assert len(description) >= 80, (method, path, description)
        assert description != summary, (method, path)
        descriptions.append(description)
    # Written for each operation, not one text for many (histories share a pattern).
    assert len(set(descriptions)) == len(descriptions)


def test_the_schema_carries_the_tours_explanations(schema: dict[str, Any]) -> None:
    text = " ".join(schema["info"]["description"].split())
    for explained in (
        "`as_of`",
        "end* of that day",
        "cursor",
        "stays valid after later writes",
        "`ETag`",
        "If-None-Match",
        "If-Match",
        "412",
        "`recorded`",
        "409",
        "Retry-After",
        "/api/v1/tour/",
    ):
        assert explained in text, explained


def parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def test_every_write_to_one_object_documents_if_match(schema: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in operations(schema):
        if method == "get" or (method, path) in WRITES_WITHOUT_A_VERSION:
            continue
        header = parameters(operation).get(("header", "If-Match"))
        assert header is not None, (method, path)
        assert "412" in header["description"]
        assert "weak" in header["description"]
        assert "412" in operation["responses"], (method, path)
        checked += 1
    # PATCH of units, posts, people; move, abolish, revert, reinstate a unit; abolish
    # a post; end an appointment or a relationship; correct (PATCH) an appointment or
    # a relationship.
    assert checked == 12


def test_every_as_of_and_the_cursor_say_how_they_read(schema: dict[str, Any]) -> None:
    as_of_reads = 0
    for method, path, operation in operations(schema):
        as_of = parameters(operation).get(("query", "as_of"))
        if as_of is None:
            continue
        as_of_reads += 1
        description = as_of["description"]
        assert "ISO 8601" in description or "instant" in description, (method, path)
    assert as_of_reads >= 20
    tree = parameters(schema["paths"]["/api/v1/tree/"]["get"])[("query", "as_of")]
    assert "end of that day" in tree["description"]
    feed = parameters(schema["paths"]["/api/v1/changes/"]["get"])
    assert "never build it" in feed[("query", "cursor")]["description"]
    assert "valid after later writes" in feed[("query", "cursor")]["description"]


def test_the_feeds_entries_are_documented_with_what_they_changed(
    schema: dict[str, Any],
) -> None:
    components = schema["components"]["schemas"]
    change = components["Change"]["properties"]
    assert "object" in change
    reference = change["object"].get("$ref") or change["object"]["allOf"][0]["$ref"]
    changed = components[reference.rsplit("/", 1)[1]]["properties"]
    assert {"type", "id", "slug", "name", "url", "page"} <= set(changed)
    object_type = changed["type"]
    if "enum" not in object_type:
        reference = object_type.get("$ref") or object_type["allOf"][0]["$ref"]
        object_type = components[reference.rsplit("/", 1)[1]]
    type_enum = object_type["enum"]
    assert set(type_enum) == {
        "unit",
        "post",
        "person",
        "appointment",
        "relationship",
        "lineage",
    }
    for kind in (
        "post_added",
        "post_abolished",
        "person_renamed",
        "person_added",
        "lineage_recorded",
    ):
        assert re.search(rf"\b{kind}\b", change["kind"]["description"]), kind

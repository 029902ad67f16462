"""How the OpenAPI schema presents the API: its tags in the order a newcomer needs them,
each operation under one, and the tour's explanations at the top.

drf-spectacular reads these through ``SPECTACULAR_SETTINGS`` (``SORT_OPERATIONS``; the
texts, ``TAGS`` and ``DESCRIPTION``, are in ``api.schema_texts``, which the settings
import) and ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import alpha_operation_sorter

from api.schema_texts import TAGS

TAG_ORDER = [tag["name"] for tag in TAGS]

# Each path's tag, by its first segment after /api/v1/. A path whose segment is not
# here fails the schema's generation (and its test) until it is given a tag.
SEGMENT_TAGS = {
    "": "root",
    "tree": "tree",
    "units": "units",
    "changes": "changes",
    "export": "exports",
    "search": "search",
    "posts": "posts",
    "people": "people",
    "appointments": "appointments",
    "relationships": "relationships",
    "lineage": "lineage",
    "reorganizations": "reorganizations",
    "operations": "reorganizations",
    "token": "tokens",
}
API_PREFIX = "/api/v1/"


def path_tag(path: str) -> str:
    """The tag of an API path (``/api/v1/units/{slug}/`` → ``units``)."""
    segment = path.removeprefix(API_PREFIX).split("/", 1)[0]
    try:
        return SEGMENT_TAGS[segment]
    except KeyError:
        raise ValueError(
            f"{path} has no tag: add its first segment to api.schema.SEGMENT_TAGS."
        ) from None


def sort_operations(endpoint: tuple[str, str, str, Any]) -> tuple[int, Any]:
    """Operations in tag order, then as drf-spectacular sorts them (path, method).

    Endpoints left out of the schema (the schema's own) are sorted too: last.
    """
    segment = endpoint[0].removeprefix(API_PREFIX).split("/", 1)[0]
    tag = SEGMENT_TAGS.get(segment)
    place = TAG_ORDER.index(tag) if tag else len(TAG_ORDER)
    return place, alpha_operation_sorter(endpoint)


class RegistryAutoSchema(AutoSchema):
    """Every operation under the one tag of its path (``SEGMENT_TAGS``)."""

    def get_tags(self) -> list[str]:
        return [path_tag(self.path)]

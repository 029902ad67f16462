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
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

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


# Every read takes it (``orgregistry.known_at``): documented once, added to each read.
KNOWN_AT = OpenApiParameter(
    "known_at",
    OpenApiTypes.STR,
    description="Answer with what the registry had recorded by this instant (default: "
    "now): corrections recorded later are left out, so the answer is what the registry "
    "said then, and never changes. Read as `as_of` is (a date means the end of that "
    "day, UTC); combine both for the structure as of one instant as recorded at "
    "another. An instant at or after now is now. A malformed value, or one before the "
    "registry's first record, is a 400 naming `known_at` (`code`: `invalid_instant`). "
    "The answer says which instant it read in its `Registry-Known-At` header.",
)


# Tags whose reads are not of the registry's recorded history (the API's root and
# tokens; reorganizations, which are plans and keep no history rows).
NOT_READ_AS_KNOWN = frozenset({"root", "tokens", "reorganizations"})


class RegistryAutoSchema(AutoSchema):
    """Every operation under the one tag of its path (``SEGMENT_TAGS``); every read
    of the registry with ``known_at``."""

    def get_tags(self) -> list[str]:
        return [path_tag(self.path)]

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if (
            self.method == "GET"
            and getattr(self.view, "reads_registry", True)
            and path_tag(self.path) not in NOT_READ_AS_KNOWN
        ):
            parameters.append(KNOWN_AT)
        return parameters

"""Where each entry of the change feed links: the page of the object it changed.

Shared by the compare page, the Atom feed and the API's feed (which also links the
object's API address). A post is shown on its unit's page, a person in the people
page, an appointment with its post, a dotted line on its source unit's page, a
lineage link on its successor's page.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.urls import get_script_prefix, reverse

from units.selectors import Change

MARK = "MARK"


@functools.lru_cache(maxsize=8)
def _routes(script_prefix: str) -> dict[str, str]:
    """Each route's path with MARK for its slug or id, once per script prefix."""
    del script_prefix  # The cache key: reverse() reads it itself.
    return {
        "units:unit-detail": reverse("units:unit-detail", kwargs={"slug": MARK}),
        "units:people": reverse("units:people"),
        "units:structure": reverse("units:structure"),
        **{
            name: reverse(name, kwargs={"slug": MARK})
            for name in ("api:unit-detail", "api:post-detail", "api:person-detail")
        },
        **{
            name: reverse(name, kwargs={"pk": 0}).replace("/0/", f"/{MARK}/")
            for name in (
                "api:appointment-detail",
                "api:relationship-detail",
                "api:lineage-detail",
            )
        },
    }


def _route(name: str, mark: str | int = "") -> str:
    return _routes(get_script_prefix())[name].replace(MARK, str(mark))


def _unit_page(unit_slug: str) -> str:
    if not unit_slug:
        return _route("units:structure")
    return _route("units:unit-detail", unit_slug)


def _post_page(unit_slug: str, post_slug: str) -> str:
    """A post on its unit's page, which lists its posts and (in its timeline) the
    appointments to them, and which answers for an abolished unit too (the list of
    posts does not: it lists active units' posts)."""
    if not unit_slug or not post_slug:
        return _unit_page(unit_slug)
    return f"{_unit_page(unit_slug)}#post-{post_slug}"


def object_page_path(change: Change) -> str:
    """The public page showing what ``change`` changed (as it stands now)."""
    if change.object_type == "post":
        return _post_page(change.unit_slug, change.object_slug)
    if change.object_type == "person":
        query = urlencode({"person": change.object_slug})
        return f"{_route('units:people')}?{query}#{change.object_slug}"
    if change.object_type == "appointment":
        return _post_page(change.unit_slug, change.details.get("post_slug", ""))
    return _unit_page(change.unit_slug)


def object_api_path(change: Change) -> str | None:
    """The API address of what ``change`` changed; None if it has no slug yet."""
    if change.object_type in ("appointment", "relationship", "lineage"):
        return _route(f"api:{change.object_type}-detail", change.object_id)
    if not change.object_slug:
        return None
    return _route(f"api:{change.object_type}-detail", change.object_slug)

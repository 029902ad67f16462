"""The change feed as JSON: what changed between two instants, page by page."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api import serializers as api_serializers
from api.conditional import ReadNow, generation_read
from api.filters import ChangeFeedFilterSet, feed_filter
from api.views.base import ERRORS, LIMIT, RegistryView, origin
from units import selectors
from units.change_cursor import change_cursor


class ChangePageSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        allow_null=True,
        help_text="Always null: counting the window would cost what a page does "
        "not (kept for clients of the former offset pages).",
    )
    next = serializers.URLField(
        allow_null=True,
        help_text="The following page; null at the end of the window.",
    )
    previous = serializers.URLField(
        allow_null=True,
        help_text="The page before; null at the start of the window.",
    )
    results = PolymorphicProxySerializer(
        component_name="ChangeFeedEntry",
        serializers=[
            api_serializers.ChangeSerializer,
            api_serializers.ChangeGroupSerializer,
        ],
        resource_type_field_name=None,
        many=True,
        help_text="Changes made outside any reorganization, each an entry of its "
        "own, and each applied reorganization's changes gathered in one entry "
        "(it has `reorganization` and `changes`), oldest first.",
    )


class ChangesView(RegistryView):
    @extend_schema(
        summary="What changed between two instants, oldest first",
        description="Every recorded change of every field of units, posts, people, "
        "appointments and dotted lines with effect in the window, oldest first; each "
        "says what it changed (`object`: its type, name, API `url` and public `page`) "
        "and which unit it belongs to (`unit`: a post's unit, an appointment's post's "
        "unit, a dotted line's source; empty for a person). A page of changes, read "
        "from a cursor: follow `next` until it is null. A page holds at most `limit` "
        "changes and can hold fewer while more follow (some revisions record nothing "
        "the feed lists). The changes an applied reorganization recorded come as one "
        "entry (`reorganization`: its title, reference, reason, time and `url`; "
        "`changes`: its changes), which a page never splits unless it alone fills "
        "the page (then it goes on on the next page, with the same "
        "`reorganization.id`). Editors and auditors also read the reorganizations "
        "that failed to apply, at their effective time (`status` failed, no "
        "`changes`, the reasons in `problems`). `offset`, the former way to page, "
        "is removed: any value is a 400. A correction of the past shows once, at its "
        "effective time, with `correction` (when it was recorded and what the "
        "corrected fields were); `recorded_since` and `recorded_until` read what the "
        "registry learned in a window of recorded time.",
        parameters=[
            OpenApiParameter(
                "since",
                OpenApiTypes.STR,
                description="ISO 8601 date or date-time (exclusive; a date includes "
                "that day). Default: the beginning.",
            ),
            OpenApiParameter(
                "until",
                OpenApiTypes.STR,
                description="ISO 8601 date or date-time (inclusive). Default: now.",
            ),
            OpenApiParameter(
                "recorded_since",
                OpenApiTypes.STR,
                description="ISO 8601 date or date-time (exclusive; a date includes "
                "that day): only what the registry learned (recorded) after it, "
                "whatever the effective time, read as known at `recorded_until`. A "
                "correction of the past is then one change at its effective time "
                "(with `correction`); the later revisions it carried forward add "
                "nothing. Default: no bound.",
            ),
            OpenApiParameter(
                "recorded_until",
                OpenApiTypes.STR,
                description="ISO 8601 date or date-time (inclusive): only what was "
                "recorded by then. Not earlier than `recorded_since`. Default: now.",
            ),
            OpenApiParameter(
                "cursor",
                OpenApiTypes.STR,
                description="Where the page starts: take it from a `next` or "
                "`previous` link, never build it. Opaque and signed: an altered or cut "
                "cursor is a 400 naming `cursor`. It names a place in the feed, not a "
                "snapshot, so it stays valid after later writes and leads on to the "
                "changes that took effect after that place. Not with `offset`.",
            ),
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                enum=list(selectors.FEED_TYPES),
                description="Only changes of this kind of object, or "
                "(`reorganization`) only those reorganizations recorded. Another "
                "value is a 400.",
            ),
            OpenApiParameter(
                "unit",
                OpenApiTypes.STR,
                description="A unit's slug: only the changes of that unit (and, "
                "with `unit_posts`, of its posts). An unknown slug is a 400.",
            ),
            OpenApiParameter(
                "unit_posts",
                OpenApiTypes.BOOL,
                description="With `unit`: the changes of the posts that belonged to "
                "the unit too. Default false.",
            ),
            LIMIT,
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0},
                deprecated=True,
                description="Removed (it computed the whole window for every "
                "page): any value is a 400. Page by cursor: follow the next links.",
            ),
        ],
        responses={200: ChangePageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = ChangeFeedFilterSet(request.query_params).selector_arguments()
        since, until, limit = query["since"], query["until"], query["limit"]
        only = feed_filter(query)
        staff = self.staff_reader()
        context = {"staff_reader": staff, "origin": origin(request)}
        direction, position = query["cursor"] or ("after", None)
        # A window that has ended is a past answer (``freshness``): it stays cached
        # across writes effective after it, unless they revise a unit, post or person
        # the page names by its current name. Staff pages show authors and failed
        # reorganizations, read without history, and an open window or a window of
        # recorded time takes in what is recorded next: those follow the generation.
        instant = (
            until
            if until <= timezone.now() and not staff and not only.by_recorded_time
            else None
        )

        def build() -> dict[str, Any] | ReadNow:
            generation = selectors.registry_generation() if instant else None
            with selectors.names_read_now() as names:
                if direction == "before":
                    feed_page = selectors.changes_page_before(
                        since, until, before=position, limit=limit, only=only
                    )
                else:
                    feed_page = selectors.changes_page(
                        since, until, after=position, limit=limit, only=only
                    )
                entries = selectors.page_entries(
                    feed_page,
                    since,
                    until,
                    direction=direction,
                    position=position,
                    failed=staff,
                    only=only,
                )
            url = request.build_absolute_uri()
            links = {
                name: None
                if key is None
                else replace_query_param(url, "cursor", change_cursor(way, key))
                for name, way, key in (
                    ("next", "after", feed_page.later),
                    ("previous", "before", feed_page.earlier),
                )
            }
            data = {
                "count": None,
                **links,
                "results": api_serializers.feed_entries_data(entries, context),
            }
            if instant is None:
                return data
            # A reorganization's heading (its status, its title) is kept without
            # history: a page showing one is stale after any write.
            grouped = any(isinstance(entry, selectors.ChangeGroup) for entry in entries)
            current = names.current_reads(generation if grouped else None)
            return ReadNow(data, current)

        return generation_read(
            request, build, parameters=(ChangeFeedFilterSet,), instant=instant
        )

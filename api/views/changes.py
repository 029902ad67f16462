"""The change feed as JSON: what changed between two instants, page by page."""

from __future__ import annotations

import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

from api import serializers as api_serializers
from api.conditional import generation_read
from api.views.base import (
    ERRORS,
    LIMIT,
    RegistryView,
    check_page_window,
    page,
)
from units import selectors
from units.change_cursor import InvalidChangeCursor, change_cursor, read_change_cursor

# Before any change the services can record (a day of margin below year 1's end).
BEGINNING = datetime.datetime(1, 1, 2, tzinfo=datetime.UTC)


def change_window(query: Any) -> tuple[datetime.datetime, datetime.datetime]:
    """The (since, until] window of a feed request (see ``selectors.change_window``).

    Instants stay instants (``since`` exclusive, ``until`` inclusive); a bare date is
    a whole day at either end, as on the compare page.
    """
    return selectors.change_window(
        query.get("since"),
        query.get("until"),
        default_since=BEGINNING,
        default_until=selectors.LATEST,
    )


def read_feed_cursor(text: str) -> tuple[str, selectors.ChangeKey]:
    """The direction and position of a ``cursor``; 400 unless this API issued it."""
    try:
        return read_change_cursor(text)
    except InvalidChangeCursor:
        raise ValidationError(
            {
                "cursor": f"“{text[:40]}” is not a cursor of this feed (changed, cut "
                "short or from elsewhere). Use the next and previous links as given, "
                "or start again without cursor."
            }
        ) from None


def feed_page_size(request: Request) -> int:
    check_page_window(request, read_on="read the rest by following next")
    limit = request.query_params.get("limit")
    return int(limit) if limit is not None else api_settings.PAGE_SIZE


class ChangePageSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        allow_null=True,
        help_text="Changes in the window: only with offset (deprecated); null on "
        "cursor pages, whose cost does not grow with the window.",
    )
    next = serializers.URLField(
        allow_null=True,
        help_text="The following page; null at the end of the window.",
    )
    previous = serializers.URLField(
        allow_null=True,
        help_text="The page before; null at the start of the window.",
    )
    results = api_serializers.ChangeSerializer(many=True)


class ChangesView(RegistryView):
    @extend_schema(
        summary="What changed between two instants, oldest first",
        description="A page of changes, read from a cursor: follow `next` until it is "
        "null. A page holds at most `limit` changes and can hold fewer while more "
        "follow (some revisions record nothing the feed lists). `offset` is the "
        "former way to page, deprecated: its cost grows with the window.",
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
                "cursor",
                OpenApiTypes.STR,
                description="Where the page starts: take it from a next or previous "
                "link, never build it.",
            ),
            LIMIT,
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0},
                deprecated=True,
                description="Deprecated: counts and pages the whole window (slow on "
                "long windows) and gives offset links. Use cursor (the next links).",
            ),
        ],
        responses={200: ChangePageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        since, until = change_window(request.query_params)
        context = {"show_authors": self.show_authors()}
        cursor = request.query_params.get("cursor")
        if "offset" in request.query_params:
            if cursor is not None:
                raise ValidationError(
                    {"offset": "Page with cursor or with offset, not both."}
                )
            return generation_read(
                request,
                lambda: page(
                    request,
                    self,
                    selectors.changes_between(since, until),
                    api_serializers.ChangeSerializer,
                    context,
                ),
            )
        limit = feed_page_size(request)
        direction, position = (
            read_feed_cursor(cursor) if cursor is not None else ("after", None)
        )

        def build() -> dict[str, Any]:
            if direction == "before":
                feed_page = selectors.changes_page_before(
                    since, until, before=position, limit=limit
                )
            else:
                feed_page = selectors.changes_page(
                    since, until, after=position, limit=limit
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
            return {
                "count": None,
                **links,
                "results": api_serializers.ChangeSerializer(
                    feed_page.changes, many=True, context=context
                ).data,
            }

        return generation_read(request, build)

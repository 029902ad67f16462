"""Search: units, posts and people matching words, as they stood at an instant."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api_serializers
from api.conditional import generation_read
from api.filters import PageFilterSet, SearchFilterSet
from api.views.base import (
    AS_OF,
    ERRORS,
    PAGE,
    RegistryView,
    check_page_window,
    origin,
    paginated_serializer,
)
from units import selectors


class SearchView(RegistryView):
    @extend_schema(
        summary="Search units, posts and people",
        description="Every word of `q` must occur (case-insensitive) in a unit's "
        "name, acronym or mandate, a post's title (in any language) or a person's "
        "full name, as they stood at `as_of`; abolished units and posts are not "
        "found. Results that match by name come first, then units, posts and "
        "people, each by name. Units and posts are named in the answer's language "
        "(`?lang=`, else Accept-Language), in English where not yet translated "
        "(listed in `untranslated`). Each result says what it is in `type` and "
        "links to it in `url`.",
        parameters=[
            AS_OF,
            OpenApiParameter(
                "q", OpenApiTypes.STR, description="The words; none finds nothing."
            ),
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                enum=list(selectors.SEARCH_TYPES),
                description="Only results of this type.",
            ),
            *PAGE,
        ],
        responses={
            200: paginated_serializer(api_serializers.SearchResultSerializer),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        filters = SearchFilterSet(request.query_params).selector_arguments()
        check_page_window(request)
        search_type = filters["search_type"]
        types = (search_type,) if search_type else selectors.SEARCH_TYPES

        def build() -> dict[str, Any]:
            paginator = LimitOffsetPagination()
            # Set as paginate_queryset would, but only the page's hits are built.
            paginator.request = request
            paginator.limit = paginator.get_limit(request)
            paginator.offset = paginator.get_offset(request)
            hits, paginator.count = selectors.search_registry(
                filters["query"] or "",
                filters["when"],
                types=types,
                offset=paginator.offset,
                limit=paginator.limit or paginator.default_limit or 50,
            )
            return {
                "count": paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": api_serializers.SearchResultSerializer(
                    hits, many=True, context={"origin": origin(request)}
                ).data,
            }

        return generation_read(
            request, build, parameters=(SearchFilterSet, PageFilterSet)
        )

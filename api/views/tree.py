"""The organization as a nested tree, whole or from one unit down."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from api import serializers as api_serializers
from api.conditional import generation_read_json
from api.filters import TreeFilterSet
from api.formats.state import RegistryAt
from api.formats.tree_json import (
    as_of_tree_json,
    current_branch_json,
    whole_tree_json,
)
from api.formats.tree_patch import patched_current_tree, whole_current_tree
from api.views.base import (
    AS_OF,
    ERRORS,
    INCLUDE_ABOLISHED,
    RegistryView,
    absent_at,
    origin,
    unit_id_or_404,
)
from units.selectors.languages import content_language


class TreeView(RegistryView):
    @extend_schema(
        summary="The whole organization, nested",
        description=(
            "Every unit at `as_of` (default now), nested from the top unit down: each "
            "with its head post and holder, and its `children` in sibling order. "
            "Abolished units are left out unless `include_abolished=true`. For one "
            "branch, read `units/{slug}/tree/`."
        ),
        parameters=[AS_OF, INCLUDE_ABOLISHED],
        responses={200: api_serializers.TreeNodeSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        query = TreeFilterSet(request.query_params).selector_arguments()
        when, include_abolished = query["when"], query["include_abolished"]
        language = content_language()
        state = RegistryAt(when)
        if state.when is None:
            # Now: after a write, derived from the previous answer where it can be.
            return generation_read_json(
                request,
                lambda: whole_current_tree(
                    include_abolished=include_abolished,
                    origin=origin(request),
                    language=language,
                ),
                parameters=(TreeFilterSet,),
                derive=lambda previous, basis: patched_current_tree(
                    previous,
                    basis,
                    include_abolished=include_abolished,
                    origin=origin(request),
                    language=language,
                ),
            )

        def build() -> bytes:
            return whole_tree_json(
                state,
                origin(request),
                include_abolished=include_abolished,
                language=language,
            )

        return generation_read_json(
            request, build, parameters=(TreeFilterSet,), instant=when
        )


class UnitTreeView(RegistryView):
    @extend_schema(
        summary="A unit with its whole subtree, nested",
        description=(
            "The unit at `as_of` with every unit below it, nested as in `tree/`: one "
            "branch of the organization. 404 if the unit did not exist at that instant."
        ),
        parameters=[AS_OF, INCLUDE_ABOLISHED],
        responses={200: api_serializers.TreeNodeSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        query = TreeFilterSet(request.query_params).selector_arguments()
        when, include_abolished = query["when"], query["include_abolished"]
        language = content_language()

        def build() -> bytes:
            # The current branch is read alone; a past one is cut from its tree.
            if when is None:
                body = current_branch_json(
                    slug,
                    include_abolished=include_abolished,
                    origin=origin(request),
                    language=language,
                )
            else:
                body = as_of_tree_json(
                    when,
                    include_abolished=include_abolished,
                    root_slug=slug,
                    origin=origin(request),
                    language=language,
                )
            if body is None:
                unit_id_or_404(slug)
                raise absent_at("unit", slug, when)
            return body

        return generation_read_json(
            request, build, parameters=(TreeFilterSet,), instant=when
        )

"""Posts: list, one post, and the writes on posts."""

from __future__ import annotations

from typing import Any, ClassVar

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from api import serializers as api_serializers
from api.conditional import expected_version
from api.filters import PostFilterSet
from api.views.base import (
    AS_OF,
    ERRORS,
    IF_MATCH,
    PAGE,
    STATUS,
    WRITE_ERRORS,
    HistoryBackedListView,
    ObjectHistoryView,
    ObjectVersionView,
    ObjectView,
    history_schema,
    newest_revision,
    ordering_parameter,
    paginated_serializer,
    search_parameter,
    version_schema,
    write_input,
)
from units import selectors, services
from units.content_languages import POST_TRANSLATED, pop_translations
from units.models import OrganizationalUnit, Post


class PostListView(HistoryBackedListView):
    model = Post
    serializer_class = api_serializers.PostSerializer
    written_serializer = api_serializers.PostWrittenSerializer
    object_kind = "post"
    slug_maps: ClassVar = {"unit_slugs": (OrganizationalUnit, ("unit_id",))}
    write_permissions: ClassVar = {"POST": ("units.add_post",)}
    filterset_class = PostFilterSet

    def records(self, **filters: Any) -> list[dict[str, Any]]:
        return selectors.post_records(**filters)

    @extend_schema(
        summary="List posts",
        description=(
            "Posts as they stood at `as_of`: filter by `unit` (its slug), `is_head` and "
            "`status`, search titles with `q`, sort with `ordering`; paged with `limit` "
            "and `offset`."
        ),
        operation_id="posts_list",
        parameters=[
            AS_OF,
            OpenApiParameter("unit", OpenApiTypes.STR, description="Unit's slug."),
            STATUS,
            OpenApiParameter("is_head", OpenApiTypes.BOOL),
            search_parameter("post titles"),
            ordering_parameter(selectors.POST_ORDERINGS, "id"),
            *PAGE,
        ],
        responses={200: paginated_serializer(api_serializers.PostSerializer), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return self.list_response(request)

    @extend_schema(
        summary="Create a post in a unit",
        description=(
            "A new post in `unit`, with a `reason`. `is_head` makes it the unit's head "
            "post (a unit has one at most: 409 `head_exists`). `effective_at` (default "
            "now) is its `established_on`. Answers 201 with `Location`, its `ETag` and "
            "`recorded`."
        ),
        request=api_serializers.PostCreateSerializer,
        responses={201: api_serializers.PostWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        fields, why, effective_at = write_input(
            api_serializers.PostCreateSerializer, request
        )
        translations = pop_translations(fields, POST_TRANSLATED)
        post = services.post_create(
            user=request.user,
            **why,
            effective_at=effective_at,
            translations=translations,
            **fields,
        )
        return self.created(
            post.pk, reverse("api:post-detail", kwargs={"slug": post.slug})
        )


def post_id_or_404(slug: str) -> int:
    post_id = selectors.id_for_slug(Post, slug)
    if post_id is None:
        raise NotFound(f"No post has the slug “{slug}”.")
    return post_id


class PostDetailView(ObjectView):
    model = Post
    serializer_class = api_serializers.PostSerializer
    written_serializer = api_serializers.PostWrittenSerializer
    object_kind = "post"
    write_permissions: ClassVar = {"PATCH": ("units.change_post",)}

    @extend_schema(
        summary="Retitle a post, move it to another unit or change how it is filled",
        description=(
            "Change the title, unit, head flag, filling method or term of the post, "
            "with a `reason`. Send the `ETag` you read in `If-Match`: the write is "
            "refused (412) if the post changed since. A PATCH that changes nothing "
            "records nothing."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.PostUpdateSerializer,
        responses={200: api_serializers.PostWrittenSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, slug: str) -> Response:
        post_id = post_id_or_404(slug)
        return self.change(
            request,
            post_id,
            api_serializers.PostUpdateSerializer,
            services.post_update,
            post=post_id,
        )

    @extend_schema(
        summary="One post",
        description=(
            "The post as it stood at `as_of`, with its unit and `version`; its `ETag` "
            "is what a write sends in `If-Match`. Who holds it: `appointments/?post=` "
            "with its slug."
        ),
        parameters=[AS_OF],
        responses={200: api_serializers.PostSerializer, **ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        return self.read_object(
            request, selectors.id_for_slug(Post, slug), f"slug “{slug}”"
        )


class PostAbolishView(ObjectView):
    model = Post
    serializer_class = api_serializers.PostSerializer
    written_serializer = api_serializers.PostWrittenSerializer
    object_kind = "post"
    write_permissions: ClassVar = {"POST": ("units.change_post",)}

    @extend_schema(
        summary="Abolish a post; its holder's appointment ends the same day",
        description=(
            "Records the post as abolished at `effective_at` (default now); an "
            "appointment running in it ends the same day, as a change of its own. The "
            "post stays in history. `If-Match` as for every write."
        ),
        parameters=[IF_MATCH],
        request=api_serializers.PostAbolishSerializer,
        responses={200: api_serializers.PostWrittenSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        post_id = post_id_or_404(slug)
        version = expected_version(request, kind="post", pk=post_id)
        _, why, effective_at = write_input(
            api_serializers.PostAbolishSerializer, request
        )
        newest_before = newest_revision(Post, post_id)
        services.post_abolish(
            post=post_id,
            user=request.user,
            **why,
            effective_at=effective_at,
            expected_version=version,
        )
        return self.written(post_id, newest_before)


class PostHistoryView(ObjectHistoryView):
    model = Post

    @extend_schema(**history_schema("post"))
    def get(self, request: Request, slug: str) -> Response:
        return self.history(
            request, selectors.id_for_slug(Post, slug), f"slug “{slug}”"
        )


class PostVersionView(ObjectVersionView):
    model = Post

    @extend_schema(**version_schema("post", "posts"))
    def get(self, request: Request, slug: str, history_id: int) -> Response:
        return self.version(
            request, selectors.id_for_slug(Post, slug), f"slug “{slug}”", history_id
        )

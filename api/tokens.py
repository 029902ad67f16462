"""A signed-in person's own API token: the endpoint, and the page that uses it.

Without this, a token took shell or admin access (``drf_create_token``). The endpoint
takes the session alone, with its CSRF check: a token cannot mint or revoke tokens,
so one that leaks cannot lock its owner out or outlive a revocation. The key is
shown once, in the answer that creates it; nothing reads it back.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from api.views.base import RegistryView
from units import selectors, services

SIGNED_IN_ONLY = {
    403: OpenApiResponse(
        description="Not signed in through the site (a token is not accepted here), "
        "or the CSRF token is missing or wrong."
    )
}


def signed_in(user: User | AnonymousUser) -> User:
    """The signed-in person (``SignedIn`` and ``login_required`` have let only them in)."""
    if not isinstance(user, User):
        raise PermissionDenied(SignedIn.message)
    return user


class SignedIn(BasePermission):
    """A signed-in person; OPTIONS (which says what the endpoint offers) for anyone."""

    message = "Sign in to the site to manage your API token."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method == "OPTIONS":
            return True
        return bool(request.user and request.user.is_authenticated)


class TokenView(RegistryView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [SignedIn]

    @extend_schema(
        summary="Whether you have an API token (its key is never shown again)",
        description=(
            "For the signed-in user (session): whether they have an API token and when "
            "it was created. The key itself is shown once, when created."
        ),
        responses={
            200: inline_serializer(
                "TokenState",
                {
                    "exists": serializers.BooleanField(),
                    "created": serializers.DateTimeField(allow_null=True),
                },
            ),
            **SIGNED_IN_ONLY,
        },
    )
    def get(self, request: Request) -> Response:
        created = selectors.api_token_created(signed_in(request.user))
        return Response({"exists": created is not None, "created": created})

    @extend_schema(
        summary="Create your API token, replacing any you had",
        description="The answer holds the key, once: keep it. Any earlier token stops "
        "working. Signed-in session with its CSRF token only.",
        request=None,
        responses={
            201: inline_serializer(
                "NewToken",
                {
                    "key": serializers.CharField(
                        help_text="Send it as `Authorization: Token <key>`."
                    ),
                    "created": serializers.DateTimeField(),
                },
            ),
            **SIGNED_IN_ONLY,
        },
    )
    def post(self, request: Request) -> Response:
        token = services.api_token_create(user=signed_in(request.user))
        response = Response(
            {"key": token.key, "created": token.created}, status=HTTPStatus.CREATED
        )
        # The key must not be kept by a browser or a proxy.
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Revoke your API token",
        description="Your token stops working at once: scripts that send it are "
        "refused until you create a new one. Answers 204 whether or not you had one. "
        "Signed-in session with its CSRF token only.",
        request=None,
        responses={204: None, **SIGNED_IN_ONLY},
    )
    def delete(self, request: Request) -> Response:
        services.api_token_revoke(user=signed_in(request.user))
        return Response(status=HTTPStatus.NO_CONTENT)


# Read-only, as the tour: any other method is a 405 with Allow. The page's script
# sends the CSRF token the page carries to the endpoint.
@csrf_exempt
@require_safe
@login_required
def token_page(request: HttpRequest) -> HttpResponse:
    """The page where a signed-in person creates, replaces or revokes their token."""
    return render(
        request,
        "api/token.html",
        {"token_created": selectors.api_token_created(signed_in(request.user))},
    )

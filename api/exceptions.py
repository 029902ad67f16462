"""Turn every refusal into an HTTP answer with a message a person understands.

Services raise Django's ``ValidationError`` with a ``code``; the code decides the status
(``units.services.refusals``, the same mapping the admin answers with), so the API never
answers a refused write with a 500. Nothing is written on any error:
each service runs in its own transaction, which the exception has already rolled back.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from units.selectors import InvalidInstant, MissingAtInstant
from units.services.refusals import refusal_code, refusal_status


class PreconditionFailed(exceptions.APIException):
    status_code = HTTPStatus.PRECONDITION_FAILED
    default_detail = "The If-Match header does not match the current version."
    default_code = "stale_version"


def _service_refusal(error: DjangoValidationError) -> Response:
    code = refusal_code(error)
    body: dict[str, Any] = {"detail": " ".join(error.messages), "code": code}
    if hasattr(error, "error_dict"):
        # full_clean() found invalid field values: name each field and its problem.
        body["errors"] = error.message_dict
    if hasattr(error, "problems"):
        # A reorganization's refusal: each problem with the index of its operation.
        body["problems"] = error.problems
    return Response(body, status=refusal_status(error))


def _oversized_request(exc: Exception) -> Response | None:
    """Django's request size limits, as JSON instead of its bare HTML 400 page.

    Django raises these while the body is parsed (DRF parses it inside the view, so they
    reach this handler); nothing has been read into the registry at that point.
    """
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = (
            f"The request body is too large: the API accepts at most {limit:,} bytes."
        )
        code = "request_too_large"
    elif isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        detail = f"The request has too many fields: the API accepts at most {limit:,}."
        code = "too_many_fields"
    elif isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        detail = f"The request has too many files: the API accepts at most {limit:,}."
        code = "too_many_files"
    else:
        return None
    return Response({"detail": detail, "code": code}, status=HTTPStatus.BAD_REQUEST)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the registry's own refusals."""
    oversized = _oversized_request(exc)
    if oversized is not None:
        return oversized
    if isinstance(exc, InvalidInstant):
        return Response(
            {"detail": str(exc), "code": "invalid_instant"},
            status=HTTPStatus.BAD_REQUEST,
        )
    if isinstance(exc, MissingAtInstant):
        # A list filter naming what did not exist then: the parameter and why.
        return Response({exc.parameter: exc.message}, status=HTTPStatus.BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        return _service_refusal(exc)
    if isinstance(exc, IntegrityError):
        # A database constraint caught what validation missed (e.g. a concurrent write
        # of the same slug); the transaction is rolled back, so nothing was written.
        return Response(
            {
                "detail": "The change conflicts with data already in the registry; "
                "reload and try again.",
                "code": "conflict",
            },
            status=HTTPStatus.CONFLICT,
        )
    return drf_exception_handler(exc, context)

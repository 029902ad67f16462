"""Which language a request is answered in, beyond what Django's LocaleMiddleware does.

Pages carry their language in the address: English unprefixed (today's addresses keep
working), French under ``/fr/``, Spanish under ``/es/``. LocaleMiddleware then answers
every unprefixed address in English, so two rules are added here:

- **A first visit follows Accept-Language.** A browser that has never chosen a
  language (no language cookie) and prefers French or Spanish is sent from an English
  address to the same page under its prefix. Choosing a language with the switcher
  (Django's ``set_language``) sets the cookie, after which English stays English.
- **The API is unprefixed and chooses by ``?lang=``, else Accept-Language.** An unknown
  ``?lang=`` is a 400 that lists the supported codes, in the API's way of refusing a
  parameter (``{"lang": "message"}``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import translate_url
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import trans_real

API_PREFIX = "/api/"
# Unprefixed addresses that are not pages of a language: the admin, the API, the
# switcher's own endpoint, static files and the icon.
NOT_PAGES = (API_PREFIX, "/admin/", "/static/", "/favicon.ico")


def supported_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def preferred_language(request: HttpRequest) -> str | None:
    """The first supported language of the request's Accept-Language, if any."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def unknown_language(code: str) -> str:
    return _("“%(code)s” is not a supported language; use one of: %(codes)s.") % {
        "code": code[:20],
        "codes": ", ".join(supported_codes()),
    }


class LanguageMiddleware:
    """The API's language and a first visit's redirect (after LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            return self._api(request)
        redirect = self._first_visit(request)
        if redirect is not None:
            return redirect
        return self.get_response(request)

    def _api(self, request: HttpRequest) -> HttpResponse:
        code = request.GET.get("lang")
        if code is None:
            code = preferred_language(request) or settings.LANGUAGE_CODE
        elif code not in supported_codes():
            response: HttpResponse = JsonResponse(
                {"lang": unknown_language(code)}, status=400
            )
            patch_vary_headers(response, ("Accept-Language",))
            return response
        translation.activate(code)
        request.LANGUAGE_CODE = code
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", code)
        patch_vary_headers(response, ("Accept-Language",))
        return response

    def _first_visit(self, request: HttpRequest) -> HttpResponse | None:
        """The same page in the browser's language, on a first visit to an English
        address; None to answer the request as it is."""
        if (
            request.method not in {"GET", "HEAD"}
            or request.path_info.startswith(NOT_PAGES)
            or settings.LANGUAGE_COOKIE_NAME in request.COOKIES
            or translation.get_language_from_path(request.path_info) is not None
        ):
            return None
        wanted = preferred_language(request)
        if wanted is None or wanted == settings.LANGUAGE_CODE:
            return None
        target = translate_url(request.get_full_path(), wanted)
        if target == request.get_full_path():
            return None  # not a page of the language-prefixed part
        response = HttpResponseRedirect(target)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response


@receiver(request_finished, dispatch_uid="orgregistry.languages.forget_the_language")
def forget_the_language(**kwargs: object) -> None:
    """Back to English once an answer is sent (streamed answers included).

    LocaleMiddleware activates a request's language for its thread and leaves it
    there: a management command, a task or a test reversing an address afterwards in
    the same thread would get /fr/ addresses and French texts.
    """
    translation.deactivate()

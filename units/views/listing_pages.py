"""Search, and the posts and people pages, a page at a time."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from http import HTTPStatus
from typing import Protocol

from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from units import selectors
from units.models import OrganizationalUnit, Person
from units.views.base import (
    MAX_QUERY_LENGTH,
    _asked_page,
    _listing_status,
    _missing_page,
    _page,
    _pager,
    read_as_of,
)

# Search results listed; a reader narrows a longer list with more words.
SEARCH_RESULTS = 200
# Units (with their posts) and people listed per page of the posts and people pages.
POSTS_PAGE_UNITS = 50
PEOPLE_PAGE_SIZE = 100
# What a listing's ?unit= or ?person= names, in "There is no unit “x” in the registry".
LISTED_OBJECTS = {"unit": gettext_lazy("unit"), "person": gettext_lazy("person")}


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """Units, posts and people matching every word as they stood at ``as_of``:
    units by name, acronym or mandate, posts by title, people by name, highlighted."""
    as_of = read_as_of(request)
    query = request.GET.get("q", "").strip()
    context: dict = {"query": query, "hits": [], "hit_count": 0}
    if len(query) > MAX_QUERY_LENGTH:
        context["query_error"] = _(
            "The search text is too long (%(length)s characters); use at most %(most)s."
        ) % {"length": len(query), "most": MAX_QUERY_LENGTH}
        return _page(
            request,
            "units/search.html",
            as_of,
            context,
            status=HTTPStatus.BAD_REQUEST,
        )
    if query:
        context["hits"], context["hit_count"] = selectors.search_registry(
            query, as_of.when, limit=SEARCH_RESULTS
        )
    return _page(request, "units/search.html", as_of, context)


@require_safe
def posts(request: HttpRequest) -> HttpResponse:
    """Posts unit by unit in tree order, with holders and past holders, page by page.

    ``?unit=<slug>`` shows one unit's posts (what other pages link to).
    """
    return _listing(
        request,
        "units/posts.html",
        OrganizationalUnit,
        "unit",
        lambda when, number, unit_id: selectors.posts_page(
            when, number=number, per_page=POSTS_PAGE_UNITS, unit_id=unit_id
        ),
    )


@require_safe
def people(request: HttpRequest) -> HttpResponse:
    """Everyone who has held a post, by name, page by page: their posts now and before.

    ``?person=<slug>`` shows one person (what other pages link to).
    """
    return _listing(
        request,
        "units/people.html",
        Person,
        "person",
        lambda when, number, person_id: selectors.people_page(
            when, number=number, per_page=PEOPLE_PAGE_SIZE, person_id=person_id
        ),
    )


class _Listing(Protocol):
    @property
    def page(self) -> selectors.PageOf: ...


def _listing(
    request: HttpRequest,
    template: str,
    model: type[models.Model],
    parameter: str,
    read: Callable[[datetime.datetime | None, int, int | None], _Listing],
) -> HttpResponse:
    """One page of a listing as of the page's date, or the one object of ``model``
    that ``?<parameter>=<slug>`` names (404 if there is none).

    ``read(when, page number, object id or None)`` reads the page.
    """
    as_of = read_as_of(request)
    number, problem = _asked_page(request)
    slug = request.GET.get(parameter, "").strip()
    object_id = None
    if slug:
        object_id = selectors.id_for_slug(model, slug)
        if object_id is None:
            raise Http404(
                _("There is no %(what)s “%(slug)s” in the registry.")
                % {"what": LISTED_OBJECTS.get(parameter, parameter), "slug": slug}
            )
    listing = read(as_of.when, number, object_id)
    problem = problem or _missing_page(listing.page)
    return _page(
        request,
        template,
        as_of,
        {
            "listing": listing,
            "pager": _pager(request, listing.page),
            "problem": problem,
            f"{parameter}_slug": slug,
        },
        status=_listing_status(as_of, problem),
    )

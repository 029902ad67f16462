"""Search, and the posts and people pages, a page at a time."""

from __future__ import annotations

from http import HTTPStatus

from django.http import Http404, HttpRequest, HttpResponse
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


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """Units, posts and people matching every word as they stood at ``as_of``:
    units by name, acronym or mandate, posts by title, people by name, highlighted."""
    as_of = read_as_of(request)
    query = request.GET.get("q", "").strip()
    context: dict = {"query": query, "hits": [], "hit_count": 0}
    if len(query) > MAX_QUERY_LENGTH:
        context["query_error"] = (
            f"The search text is too long ({len(query)} characters); use at most "
            f"{MAX_QUERY_LENGTH}."
        )
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
    as_of = read_as_of(request)
    number, problem = _asked_page(request)
    unit_slug = request.GET.get("unit", "").strip()
    unit_id = None
    if unit_slug:
        unit_id = selectors.id_for_slug(OrganizationalUnit, unit_slug)
        if unit_id is None:
            raise Http404(f"There is no unit “{unit_slug}” in the registry.")
    listing = selectors.posts_page(
        as_of.when, number=number, per_page=POSTS_PAGE_UNITS, unit_id=unit_id
    )
    problem = problem or _missing_page(listing.page)
    return _page(
        request,
        "units/posts.html",
        as_of,
        {
            "listing": listing,
            "pager": _pager(request, listing.page),
            "problem": problem,
            "unit_slug": unit_slug,
        },
        status=_listing_status(as_of, problem),
    )


@require_safe
def people(request: HttpRequest) -> HttpResponse:
    """Everyone who has held a post, by name, page by page: their posts now and before.

    ``?person=<slug>`` shows one person (what other pages link to).
    """
    as_of = read_as_of(request)
    number, problem = _asked_page(request)
    person_slug = request.GET.get("person", "").strip()
    person_id = None
    if person_slug:
        person_id = selectors.id_for_slug(Person, person_slug)
        if person_id is None:
            raise Http404(f"There is no person “{person_slug}” in the registry.")
    listing = selectors.people_page(
        as_of.when, number=number, per_page=PEOPLE_PAGE_SIZE, person_id=person_id
    )
    problem = problem or _missing_page(listing.page)
    return _page(
        request,
        "units/people.html",
        as_of,
        {
            "listing": listing,
            "pager": _pager(request, listing.page),
            "problem": problem,
            "person_slug": person_slug,
        },
        status=_listing_status(as_of, problem),
    )

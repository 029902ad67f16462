"""The admin's query parameters, read before they reach a query.

PostgreSQL cannot hold a NUL character in a string and refuses a query that carries
one, so a ``%00`` in a filter, a search or an autocomplete term used to end in a
server error. Here such input is refused up front with a 400 that says which parameter
was wrong: a NUL can match nothing in the registry, so there is no result to show.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils.translation import gettext as _

from orgregistry.query_string import NUL, nul_refusal, shown

# The largest id a BigAutoField holds; a longer number cannot name any row.
MAX_ID = 2**63 - 1


class QueryParameterError(BadRequest):
    """A query parameter no query can take; its message names the parameter."""


def check_query_parameters(query: QueryDict) -> None:
    """Refuse a NUL character in any parameter's name or value.

    ``orgregistry.query_string`` refuses them for every request already; this check
    stays with the admin's pages so that they hold on their own.
    """
    for name, values in query.lists():
        if NUL in name or any(NUL in value for value in values):
            raise QueryParameterError(nul_refusal(name))


def id_parameter(name: str, value: str) -> int:
    """An object id from the query string: decimal digits within a database id."""
    # Not str.isdigit(): it also accepts "²", which int() refuses.
    if not (value.isascii() and value.isdecimal()) or int(value) > MAX_ID:
        raise QueryParameterError(
            _("“%(value)s” is not an id, so the filter “%(name)s” cannot use it.")
            % {"value": shown(value), "name": name}
        )
    return int(value)


def refused_parameter(error: QueryParameterError) -> HttpResponse:
    return HttpResponseBadRequest(
        " ".join(error.args), content_type="text/plain; charset=utf-8"
    )

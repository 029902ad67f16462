"""The lists' query parameters, read once by a FilterSet per list (api/filters.py).

Every bad value of every filter is a 400 naming that parameter and nothing else; the
FilterSets and the published schema name the same parameters, so what is validated and
what is documented cannot drift apart.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.http import QueryDict
from django.test import Client

from api.filters import (
    AppointmentFilterSet,
    ChoiceTextField,
    FlagField,
    ListFilterSet,
    PersonFilterSet,
    PostFilterSet,
    RelationshipFilterSet,
    SlugIdField,
    UnitFilterSet,
)
from tests.conftest import ScriptedHistory, at
from units import selectors

API = "/api/v1/"
FILTERSETS: dict[str, type[ListFilterSet]] = {
    "units/": UnitFilterSet,
    "posts/": PostFilterSet,
    "people/": PersonFilterSet,
    "appointments/": AppointmentFilterSet,
    "relationships/": RelationshipFilterSet,
}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def bad_values(filterset: type[ListFilterSet]) -> list[tuple[str, str, str]]:
    """(parameter, bad value, expected message) for every filter that can refuse."""
    cases = [("as_of", "yesterday", "as_of: “yesterday” is not an ISO 8601 date")]
    for name, parameter_filter in filterset.base_filters.items():
        field = parameter_filter.field
        if isinstance(field, ChoiceTextField):
            allowed = ", ".join(field.allowed)
            cases.append((name, "Bogus", f"“Bogus” is not one of: {allowed}."))
        elif isinstance(field, FlagField):
            cases.append(
                (name, "Maybe", "“maybe” is not a boolean; use true or false.")
            )
        elif isinstance(field, SlugIdField):
            kind = field.model._meta.verbose_name
            cases.append((name, "atlantis", f"No {kind} has the slug “atlantis”."))
    return cases


CASES = [
    (path, *case)
    for path, filterset in FILTERSETS.items()
    for case in bad_values(filterset)
]


@pytest.mark.parametrize(("path", "parameter", "value", "message"), CASES)
def test_every_bad_filter_value_is_a_400_naming_its_parameter(
    client: Client,
    scripted_history: ScriptedHistory,
    path: str,
    parameter: str,
    value: str,
    message: str,
) -> None:
    response = client.get(f"{API}{path}", {parameter: value})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    if parameter == "as_of":
        assert body["code"] == "invalid_instant"
        assert body["detail"].startswith(message)
    else:
        assert body == {parameter: message}


def test_the_cases_cover_every_kind_of_filter() -> None:
    kinds = {(path, parameter) for path, parameter, *_ in CASES}
    assert {
        ("units/", "kind"),
        ("units/", "ordering"),
        ("posts/", "unit"),
        ("posts/", "is_head"),
        ("appointments/", "person"),
        ("appointments/", "post"),
        ("appointments/", "current"),
        ("relationships/", "unit"),
        ("relationships/", "status"),
        ("people/", "ordering"),
    } <= kinds


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        # as_of is read first, then the filters in the order the list documents them.
        ("posts/", {"ordering": "bogus", "as_of": "never"}, "detail"),
        ("posts/", {"ordering": "bogus", "unit": "atlantis"}, "unit"),
        ("appointments/", {"current": "perhaps", "person": "nobody"}, "person"),
        ("relationships/", {"status": "gone", "kind": "loves"}, "kind"),
        ("units/", {"limit": "0", "ordering": "bogus"}, "ordering"),
    ],
)
def test_the_first_bad_parameter_is_the_one_named(
    client: Client,
    scripted_history: ScriptedHistory,
    path: str,
    query: dict,
    named: str,
) -> None:
    response = client.get(f"{API}{path}", query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert named in response.json()
    assert len(response.json()) == (2 if named == "detail" else 1)


@pytest.mark.django_db
@pytest.mark.parametrize("path", FILTERSETS)
def test_the_filtersets_read_what_the_schema_documents(
    client: Client, path: str
) -> None:
    schema = client.get(f"{API}schema/", {"format": "json"}).json()
    documented = {
        parameter["name"]
        for parameter in schema["paths"][f"{API}{path}"]["get"]["parameters"]
        if parameter["in"] == "query"
    }
    # Paging is read by the pager, the rest by the list's FilterSet.
    assert documented - {"limit", "offset"} == set(FILTERSETS[path].base_filters)


def test_the_schema_enums_are_the_values_the_filtersets_accept(client: Client) -> None:
    schema = client.get(f"{API}schema/", {"format": "json"}).json()
    for path, filterset in FILTERSETS.items():
        parameters = schema["paths"][f"{API}{path}"]["get"]["parameters"]
        for parameter in parameters:
            enum = parameter["schema"].get("enum")
            field = filterset.base_filters.get(parameter["name"])
            if enum and field is not None:
                # The schema may sort an enum (a component such as UnitKindEnum).
                assert set(enum) == set(field.field.allowed), (path, parameter["name"])


def test_a_filterset_gives_the_selector_its_keyword_arguments(
    scripted_history: ScriptedHistory,
) -> None:
    query = QueryDict(
        "unit=unit-x&is_head=Yes&q=+Head&ordering=-title&as_of=2021-01-01"
    )

    arguments = PostFilterSet(query).selector_arguments()

    assert arguments == {
        "when": at("2021-01-01").replace(
            hour=23, minute=59, second=59, microsecond=999999
        ),
        "unit_id": scripted_history.unit_x.pk,
        "status": None,
        "is_head": True,
        # Spaces in a search count, as before: q is not trimmed.
        "query": " Head",
        "ordering": "-title",
    }


def test_an_absent_flag_filters_nothing_and_an_empty_one_is_false(
    scripted_history: ScriptedHistory,
) -> None:
    assert AppointmentFilterSet(QueryDict("")).selector_arguments()["current"] is None
    arguments = AppointmentFilterSet(QueryDict("current=")).selector_arguments()
    assert arguments["current"] is False


def test_a_parent_that_did_not_exist_at_the_instant_is_refused(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    # Unit Y was established in 2023: in 2021 nothing could report to it.
    response = client.get(f"{API}units/", {"parent": "unit-y", "as_of": "2021-01-01"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"parent": "No unit “unit-y” exists at that instant."}

    with pytest.raises(selectors.MissingAtInstant) as refused:
        selectors.unit_list(at("2021-01-01"), parent="unit-y")
    assert refused.value.parameter == "parent"

    now = client.get(f"{API}units/", {"parent": "unit-y"})
    assert now.status_code == HTTPStatus.OK
    assert now.json()["count"] == 0


NOT_A_CURSOR = (
    "“garbage” is not a cursor of this feed (changed, cut short or from elsewhere). "
    "Use the next and previous links as given, or start again without cursor."
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The window first: since, until, then the two together.
        (
            {"since": "never", "until": "nor", "cursor": "x", "offset": "1"},
            "since: “never” is not an ISO 8601 date",
        ),
        ({"until": "nor", "cursor": "x", "offset": "1"}, "until: “nor” is not an"),
        (
            {"since": "2023-01-01", "until": "2022-01-01", "limit": "0", "offset": "x"},
            "until must not be earlier than since.",
        ),
        # Then cursor and offset together, which makes the page's size moot.
        (
            {"cursor": "garbage", "offset": "-1", "limit": "0"},
            {"offset": "Page with cursor or with offset, not both."},
        ),
        (
            {"cursor": "garbage", "offset": ""},
            {"offset": "Page with cursor or with offset, not both."},
        ),
        # Then the page: limit, then offset or cursor, whichever pages.
        (
            {"offset": "-1", "limit": "0"},
            {"limit": "“0” is not a whole number from 1 to 1000."},
        ),
        ({"offset": "-1"}, {"offset": "“-1” is not a whole number from 0 upwards."}),
        ({"offset": ""}, {"offset": "“” is not a whole number from 0 upwards."}),
        (
            {"limit": "0", "cursor": "garbage"},
            {"limit": "“0” is not a whole number from 1 to 1000."},
        ),
        ({"cursor": "garbage"}, {"cursor": NOT_A_CURSOR}),
        # A page too large says how to read on, the way this request pages.
        (
            {"limit": "1001", "offset": "0"},
            {
                "limit": "1001 is more than the largest page, 1000; read the rest "
                "with offset."
            },
        ),
        (
            {"limit": "1001", "cursor": "garbage"},
            {
                "limit": "1001 is more than the largest page, 1000; read the rest "
                "by following next."
            },
        ),
    ],
)
def test_the_change_feed_names_its_first_bad_parameter(
    client: Client, scripted_history: ScriptedHistory, query: dict, expected: object
) -> None:
    response = client.get(f"{API}changes/", query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    if isinstance(expected, str):
        assert body["code"] == "invalid_instant"
        assert body["detail"].startswith(expected)
    else:
        assert body == expected


@pytest.mark.parametrize(
    "path",
    [
        "tree/",
        "units/unit-x/tree/",
        "units/unit-x/children/",
        "units/unit-x/ancestors/",
    ],
)
def test_the_tree_reads_reports_as_of_before_include_abolished(
    client: Client, scripted_history: ScriptedHistory, path: str
) -> None:
    both = client.get(f"{API}{path}", {"as_of": "never", "include_abolished": "maybe"})
    assert both.status_code == HTTPStatus.BAD_REQUEST
    assert both.json()["code"] == "invalid_instant"

    flag = client.get(f"{API}{path}", {"include_abolished": "Maybe"})
    assert flag.status_code == HTTPStatus.BAD_REQUEST
    assert flag.json() == {
        "include_abolished": "“maybe” is not a boolean; use true or false."
    }

"""The API's query parameters, read once by a FilterSet per read (api/filters.py).

Every bad value of every parameter is a 400 naming that parameter and nothing else; the
FilterSets and the published schema name the same parameters, so what is validated and
what is documented cannot drift apart.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.http import QueryDict
from django.test import Client

from api.filters import (
    MAX_PAGE_SIZE,
    AppointmentFilterSet,
    AsOfFilterSet,
    ChangeFeedFilterSet,
    ChoiceTextField,
    CursorField,
    FlagField,
    InstantField,
    ListFilterSet,
    OffsetField,
    PageFilterSet,
    PageSizeField,
    PersonFilterSet,
    PostFilterSet,
    QueryFilterSet,
    RelationshipFilterSet,
    RemovedOffsetField,
    ReorganizationFilterSet,
    SearchFilterSet,
    SlugIdField,
    TreeFilterSet,
    UnitFilterSet,
)
from api.schema import NOT_READ_AS_KNOWN, path_tag
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
# Every read with query parameters, by its path in the schema: a path to request and
# the FilterSets that read its parameters (limit and offset: PageFilterSet, for the
# pager). A parameter is checked before the object is looked up, so an id need not
# exist.
READS: dict[str, tuple[str, tuple[type[QueryFilterSet], ...]]] = {
    **{
        path: (path, (filterset, PageFilterSet))
        for path, filterset in FILTERSETS.items()
    },
    "tree/": ("tree/", (TreeFilterSet,)),
    "units/{slug}/tree/": ("units/unit-x/tree/", (TreeFilterSet,)),
    "units/{slug}/children/": ("units/unit-x/children/", (TreeFilterSet,)),
    "units/{slug}/ancestors/": ("units/unit-x/ancestors/", (TreeFilterSet,)),
    "changes/": ("changes/", (ChangeFeedFilterSet,)),
    "search/": ("search/?q=x", (SearchFilterSet, PageFilterSet)),
    "units/{slug}/": ("units/unit-x/", (AsOfFilterSet,)),
    "units/{slug}/history/": (
        "units/unit-x/history/",
        (AsOfFilterSet, PageFilterSet),
    ),
    # One version: known_at alone.
    "units/{slug}/history/{history_id}/": ("units/unit-x/history/1/", ()),
    "posts/{slug}/history/{history_id}/": ("posts/head-of-x/history/1/", ()),
    "people/{slug}/history/{history_id}/": ("people/ana-lima/history/1/", ()),
    "appointments/{id}/history/{history_id}/": ("appointments/1/history/1/", ()),
    "relationships/{id}/history/{history_id}/": ("relationships/1/history/1/", ()),
    "lineage/{id}/history/{history_id}/": ("lineage/1/history/1/", ()),
    "posts/{slug}/": ("posts/head-of-x/", (AsOfFilterSet,)),
    "people/{slug}/": ("people/ana-lima/", (AsOfFilterSet,)),
    "appointments/{id}/": ("appointments/1/", (AsOfFilterSet,)),
    "relationships/{id}/": ("relationships/1/", (AsOfFilterSet,)),
    "lineage/{id}/": ("lineage/1/", (AsOfFilterSet,)),
    **{
        template: (path, (AsOfFilterSet, PageFilterSet))
        for template, path in (
            ("posts/{slug}/history/", "posts/head-of-x/history/"),
            ("people/{slug}/history/", "people/ana-lima/history/"),
            ("appointments/{id}/history/", "appointments/1/history/"),
            ("relationships/{id}/history/", "relationships/1/history/"),
            ("lineage/{id}/history/", "lineage/1/history/"),
        )
    },
    "export/units.csv": ("export/units.csv", (AsOfFilterSet,)),
    "export/units.xlsx": ("export/units.xlsx", (AsOfFilterSet,)),
    "export/org.jsonld": ("export/org.jsonld", (AsOfFilterSet,)),
    "export/popolo.json": ("export/popolo.json", (AsOfFilterSet,)),
    "export/snapshot.zip": ("export/snapshot.zip", (AsOfFilterSet,)),
    "reorganizations/": (
        "reorganizations/",
        (ReorganizationFilterSet, PageFilterSet),
    ),
}
OFFSET_REMOVED = (
    "The change feed no longer pages by offset (deprecated, now removed: each page "
    "cost the whole window). Page by cursor: request the first page without offset "
    "and follow next."
)
NOT_A_CURSOR = (
    "“garbage” is not a cursor of this feed (changed, cut short or from elsewhere). "
    "Use the next and previous links as given, or start again without cursor."
)


def bad_values(filterset: type[QueryFilterSet]) -> list[tuple[str, str, str, bool]]:
    """(parameter, bad value, message, is an instant) for every filter that can refuse.

    A bad instant is answered as ``{"detail": ..., "code": "invalid_instant"}``.
    """
    cases = []
    for name, parameter_filter in filterset.base_filters.items():
        field = parameter_filter.field
        if isinstance(field, InstantField):
            message = f"{field.parameter}: “yesterday” is not an ISO 8601 date"
            cases.append((name, "yesterday", message, True))
        elif isinstance(field, ChoiceTextField):
            allowed = ", ".join(field.allowed)
            cases.append((name, "Bogus", f"“Bogus” is not one of: {allowed}.", False))
        elif isinstance(field, FlagField):
            message = "“maybe” is not a boolean; use true or false."
            cases.append((name, "Maybe", message, False))
        elif isinstance(field, SlugIdField):
            kind = field.model._meta.verbose_name
            message = f"No {kind} has the slug “atlantis”."
            cases.append((name, "atlantis", message, False))
        elif isinstance(field, PageSizeField):
            message = f"“0” is not a whole number from 1 to {MAX_PAGE_SIZE}."
            cases.append((name, "0", message, False))
        elif isinstance(field, OffsetField):
            message = "“-1” is not a whole number from 0 upwards."
            cases.append((name, "-1", message, False))
        elif isinstance(field, RemovedOffsetField):
            cases.append((name, "0", OFFSET_REMOVED, False))
        elif isinstance(field, CursorField):
            cases.append((name, "garbage", NOT_A_CURSOR, False))
    return cases


CASES = [
    (schema_path, path, *case)
    for schema_path, (path, filtersets) in READS.items()
    for filterset in filtersets
    for case in bad_values(filterset)
]


@pytest.mark.parametrize(
    ("schema_path", "path", "parameter", "value", "message", "is_instant"), CASES
)
def test_every_bad_parameter_value_is_a_400_naming_its_parameter(
    client: Client,
    scripted_history: ScriptedHistory,
    schema_path: str,
    path: str,
    parameter: str,
    value: str,
    message: str,
    is_instant: bool,
) -> None:
    response = client.get(f"{API}{path}", {parameter: value})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    if is_instant:
        assert body["code"] == "invalid_instant"
        assert body["detail"].startswith(message)
    else:
        assert body == {parameter: message}


def test_the_cases_cover_every_kind_of_parameter() -> None:
    kinds = {(schema_path, parameter) for schema_path, _, parameter, *_ in CASES}
    assert {
        ("units/", "as_of"),
        ("units/", "kind"),
        ("units/", "ordering"),
        ("units/", "limit"),
        ("posts/", "unit"),
        ("posts/", "is_head"),
        ("posts/", "offset"),
        ("appointments/", "person"),
        ("appointments/", "post"),
        ("appointments/", "current"),
        ("relationships/", "unit"),
        ("relationships/", "status"),
        ("people/", "ordering"),
        ("tree/", "include_abolished"),
        ("units/{slug}/children/", "include_abolished"),
        ("changes/", "since"),
        ("changes/", "until"),
        ("changes/", "cursor"),
        ("changes/", "limit"),
        ("changes/", "offset"),
        ("changes/", "type"),
        ("changes/", "unit"),
        ("changes/", "unit_posts"),
        ("changes/", "recorded_since"),
        ("changes/", "recorded_until"),
        ("units/{slug}/history/", "limit"),
        ("export/popolo.json", "as_of"),
    } <= kinds
    # Only free text (q, parent: a slug read at the instant) has no bad value here.
    documented = {
        (schema_path, name)
        for schema_path, (_, filtersets) in READS.items()
        for filterset in filtersets
        for name in filterset.base_filters
    }
    assert {name for _, name in documented - kinds} == {"q", "parent"}


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
@pytest.mark.parametrize("schema_path", READS)
def test_the_filtersets_read_what_the_schema_documents(
    client: Client, schema_path: str
) -> None:
    schema = client.get(f"{API}schema/", {"format": "json"}).json()
    documented = {
        parameter["name"]
        for parameter in schema["paths"][f"{API}{schema_path}"]["get"]["parameters"]
        if parameter["in"] == "query"
    }
    _, filtersets = READS[schema_path]
    read = [name for filterset in filtersets for name in filterset.base_filters]
    if path_tag(f"{API}{schema_path}") not in NOT_READ_AS_KNOWN:
        # Read for every read by orgregistry.known_at, before any FilterSet.
        read.append("known_at")
    assert sorted(read) == sorted(documented)


@pytest.mark.django_db
def test_every_read_with_query_parameters_has_its_filtersets(client: Client) -> None:
    schema = client.get(f"{API}schema/", {"format": "json"}).json()
    # The import's ``dry_run`` is a write's parameter, checked in test_api_import.py.
    with_query = {
        path.removeprefix(API)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method == "get"
        and any(
            parameter["in"] == "query" for parameter in operation.get("parameters", [])
        )
    }
    assert with_query == set(READS)


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
        # Then the removed offset, whatever else comes with it.
        (
            {"cursor": "garbage", "offset": "-1", "limit": "0"},
            {"offset": OFFSET_REMOVED},
        ),
        ({"offset": ""}, {"offset": OFFSET_REMOVED}),
        ({"offset": "0", "limit": "1001"}, {"offset": OFFSET_REMOVED}),
        # Then the page: limit, then cursor.
        (
            {"limit": "0", "cursor": "garbage"},
            {"limit": "“0” is not a whole number from 1 to 1000."},
        ),
        ({"cursor": "garbage"}, {"cursor": NOT_A_CURSOR}),
        # A page too large says how to read on: by following next.
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


def test_the_change_feed_filterset_gives_the_selectors_the_window_and_page() -> None:
    arguments = ChangeFeedFilterSet(QueryDict("since=2023-01-02")).selector_arguments()

    # A bare since includes its day: the window starts at the end of the day before.
    assert arguments == {
        "since": at("2023-01-01").replace(
            hour=23, minute=59, second=59, microsecond=999999
        ),
        "until": selectors.LATEST,
        "type": None,
        "unit_id": None,
        "unit_posts": False,
        "recorded_since": None,
        "recorded_until": None,
        "limit": 50,
        "offset": None,
        "cursor": None,
    }


@pytest.mark.django_db
def test_the_atom_feed_refuses_a_window_that_ends_before_it_starts(
    client: Client,
) -> None:
    response = client.get(
        f"{API}changes.atom", {"since": "2023-01-01", "until": "2022-01-01"}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.content.decode() == "until must not be earlier than since."

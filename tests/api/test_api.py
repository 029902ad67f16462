"""The REST API against the scripted history: reads as of any instant, writes, contract."""

from __future__ import annotations

import csv
import datetime
import io
import json
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import at
from units import services
from units.models import Appointment, OrganizationalUnit, Post, UnitKind

API = "/api/v1/"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def grant(user: User, *codenames: str) -> User:
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="units", codename__in=codenames
        )
    )
    # Permissions are cached on the instance; re-read the user.
    return get_user_model().objects.get(pk=user.pk)


EDITOR_PERMISSIONS = (
    "view_organizationalunit",
    "add_organizationalunit",
    "change_organizationalunit",
    "add_post",
    "change_post",
    "add_person",
    "change_person",
    "add_appointment",
    "change_appointment",
    "add_unitrelationship",
    "change_unitrelationship",
)


@pytest.fixture
def editor_client(editor: User) -> APIClient:
    """The scripted history's editor, allowed to write, authenticated by session."""
    client = APIClient()
    client.force_login(grant(editor, *EDITOR_PERMISSIONS))
    return client


@pytest.fixture
def auditor_client(db: None) -> APIClient:
    auditor = get_user_model().objects.create_user(
        username="auditor", password="x" * 12
    )
    client = APIClient()
    client.force_login(grant(auditor, "view_organizationalunit"))
    return client


def names(nodes: list[dict[str, Any]]) -> list[str]:
    return [node["name"] for node in nodes]


def outline(nodes: list[dict[str, Any]]) -> list[Any]:
    """A nested tree as [(name, [children...]), ...] for whole-structure assertions."""
    return [(node["name"], outline(node["children"])) for node in nodes]


def unit_snapshot() -> list[tuple[Any, ...]]:
    return list(
        OrganizationalUnit.objects.order_by("pk").values_list(
            "pk", "name", "parent_id", "abolished_on", "version", "lft", "rght"
        )
    )


def history_count() -> int:
    return OrganizationalUnit.history.count() + Post.history.count()


# --- Trees ------------------------------------------------------------------------------


def test_tree_now_shows_the_current_structure(client, scripted_history):
    response = client.get(f"{API}tree/")
    assert response.status_code == HTTPStatus.OK
    assert outline(response.json()) == [
        ("Headquarters", [("Department B", [("Unit Ex", []), ("Unit Y", [])])])
    ]
    unit_ex = response.json()[0]["children"][0]["children"][0]
    assert unit_ex["parent"] == "department-b"
    assert unit_ex["head"]["title"] == "Head of X"
    assert unit_ex["head"]["holder"]["person"] == "ben-okoro"


def test_tree_as_of_shows_the_past_structure(client, scripted_history):
    response = client.get(f"{API}tree/", {"as_of": "2021-01-01"})
    assert outline(response.json()) == [
        ("Headquarters", [("Department A", [("Unit X", [])]), ("Department B", [])])
    ]
    unit_x = response.json()[0]["children"][0]["children"][0]
    assert unit_x["mandate"] == "Unit X keeps the registry."
    assert unit_x["head"]["holder"]["name"] == "Ana Lima"


def test_tree_before_anything_existed_is_empty(client, scripted_history):
    assert client.get(f"{API}tree/", {"as_of": "2019-12-31"}).json() == []


def test_tree_flags_abolished_units_when_asked(client, scripted_history):
    response = client.get(f"{API}tree/", {"include_abolished": "true"})
    department_a = response.json()[0]["children"][0]
    assert department_a["name"] == "Department A"
    assert department_a["status"] == "abolished"
    assert department_a["abolished_on"] == "2022-06-01"


def test_unit_tree_is_the_nested_subtree(client, scripted_history):
    now = client.get(f"{API}units/department-b/tree/").json()
    assert outline([now]) == [("Department B", [("Unit Ex", []), ("Unit Y", [])])]
    past = client.get(
        f"{API}units/department-a/tree/", {"as_of": "2021-06-01T00:00:00Z"}
    ).json()
    assert outline([past]) == [("Department A", [("Unit Ex", [])])]


def test_unit_tree_of_a_unit_absent_at_the_instant_is_404(client, scripted_history):
    response = client.get(f"{API}units/unit-y/tree/", {"as_of": "2023-01-01"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "unit-y" in response.json()["detail"]
    assert "not in the registry as of 1 January 2023 " in response.json()["detail"]


# --- Units: list, detail, relatives -----------------------------------------------------


def test_unit_list_now_in_tree_order_with_abolished_flagged(client, scripted_history):
    body = client.get(f"{API}units/").json()
    assert body["count"] == 5
    assert [(unit["slug"], unit["status"]) for unit in body["results"]] == [
        ("hq", "active"),
        ("department-a", "abolished"),
        ("department-b", "active"),
        ("unit-x", "active"),
        ("unit-y", "active"),
    ]


def test_unit_list_as_of_omits_units_not_yet_established(client, scripted_history):
    body = client.get(f"{API}units/", {"as_of": "2020-03-01"}).json()
    assert [unit["slug"] for unit in body["results"]] == [
        "hq",
        "department-a",
        "department-b",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "unit"}, ["unit-x", "unit-y"]),
        ({"status": "abolished"}, ["department-a"]),
        ({"parent": "department-b"}, ["unit-x", "unit-y"]),
        ({"parent": "department-a", "as_of": "2021-01-01"}, ["unit-x"]),
        ({"q": "PUBLISHES"}, ["unit-x"]),
        ({"q": "unit ex"}, ["unit-x"]),
        ({"q": "publishes", "as_of": "2021-01-01"}, []),
        (
            {"ordering": "-name"},
            ["unit-y", "unit-x", "hq", "department-b", "department-a"],
        ),
        ({"ordering": "name", "limit": "2", "offset": "1"}, ["department-b", "hq"]),
    ],
)
def test_unit_list_filters_search_order_and_paginate(
    client, scripted_history, query, expected
):
    body = client.get(f"{API}units/", query).json()
    assert [unit["slug"] for unit in body["results"]] == expected


def test_unit_list_pagination_links(client, scripted_history):
    body = client.get(f"{API}units/", {"limit": 2}).json()
    assert body["count"] == 5
    assert "offset=2" in body["next"]
    assert body["previous"] is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kind": "castle"}, "“castle” is not one of"),
        ({"status": "dormant"}, "“dormant” is not one of"),
        ({"parent": "nowhere"}, "No unit “nowhere” exists at that instant."),
        ({"parent": "unit-y", "as_of": "2020-01-01"}, "No unit “unit-y” exists"),
        ({"ordering": "colour"}, "“colour” is not one of"),
    ],
)
def test_unit_list_refuses_bad_filters(client, scripted_history, query, message):
    response = client.get(f"{API}units/", query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in str(response.json())


def test_unit_detail_now_and_as_of(client, scripted_history):
    now = client.get(f"{API}units/unit-x/")
    assert now.status_code == HTTPStatus.OK
    assert now.json()["name"] == "Unit Ex"
    assert now.json()["parent"] == "department-b"
    assert now.json()["version"] == 3
    assert now["ETag"] == f'"unit-{scripted_history.unit_x.pk}-v3"'
    past = client.get(f"{API}units/unit-x/", {"as_of": "2020-12-31"})
    assert past.json()["name"] == "Unit X"
    assert past.json()["parent"] == "department-a"
    assert past.json()["version"] == 1
    assert past["ETag"] == f'"unit-{scripted_history.unit_x.pk}-v1"'


def test_unit_detail_of_an_abolished_unit_is_flagged(client, scripted_history):
    body = client.get(f"{API}units/department-a/").json()
    assert (body["status"], body["abolished_on"]) == ("abolished", "2022-06-01")
    before = client.get(f"{API}units/department-a/", {"as_of": "2022-05-31"}).json()
    assert before["status"] == "active"


def test_unit_detail_unknown_slug_is_404_naming_it(client, scripted_history):
    response = client.get(f"{API}units/atlantis/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["detail"] == "No unit has the slug “atlantis”."


def test_unit_detail_before_it_existed_is_404(client, scripted_history):
    response = client.get(f"{API}units/unit-y/", {"as_of": "2023-05-31"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "not yet established" in response.json()["detail"]


def test_children_now_and_as_of(client, scripted_history):
    now = client.get(f"{API}units/hq/children/").json()
    assert [unit["slug"] for unit in now] == ["department-b"]
    with_abolished = client.get(
        f"{API}units/hq/children/", {"include_abolished": "yes"}
    ).json()
    assert [unit["slug"] for unit in with_abolished] == ["department-a", "department-b"]
    past = client.get(f"{API}units/department-a/children/", {"as_of": "2021-12-31"})
    assert [unit["slug"] for unit in past.json()] == ["unit-x"]


def test_ancestors_now_and_as_of(client, scripted_history):
    now = client.get(f"{API}units/unit-x/ancestors/").json()
    assert [unit["slug"] for unit in now] == ["hq", "department-b"]
    past = client.get(f"{API}units/unit-x/ancestors/", {"as_of": "2021-12-31"}).json()
    assert [unit["slug"] for unit in past] == ["hq", "department-a"]


def test_relatives_of_unknown_or_absent_units_are_404(client, scripted_history):
    assert client.get(f"{API}units/atlantis/children/").status_code == 404
    response = client.get(f"{API}units/department-a/children/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "include_abolished=true" in response.json()["detail"]


def test_include_abolished_must_be_a_boolean(client, scripted_history):
    response = client.get(f"{API}tree/", {"include_abolished": "perhaps"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "“perhaps” is not a boolean" in str(response.json())


# --- History ----------------------------------------------------------------------------


def test_history_lists_versions_with_times_reasons_and_field_changes(
    client, scripted_history
):
    body = client.get(f"{API}units/unit-x/history/").json()
    assert body["count"] == 3
    moved, renamed, created = body["results"]
    assert moved["reason"] == "Reorganization 2022"
    assert moved["effective_at"].startswith("2022-01-01T12:00:00")
    assert moved["recorded_at"] >= moved["effective_at"]
    assert moved["is_backdated"] is True
    assert moved["type"] == "changed"
    parent_change = next(c for c in moved["changes"] if c["field"] == "parent")
    assert (parent_change["old"], parent_change["new"]) == (
        "department-a",
        "department-b",
    )
    assert parent_change["new_display"] == "Department B"
    assert {c["field"] for c in renamed["changes"]} == {"name", "mandate"}
    assert created["type"] == "created"


def test_history_as_of_keeps_only_earlier_versions(client, scripted_history):
    body = client.get(f"{API}units/unit-x/history/", {"as_of": "2021-06-01"}).json()
    assert [rev["reason"] for rev in body["results"]] == [
        "Renamed by the 2021 reform",
        "Establish Unit X",
    ]


def test_history_hides_staff_identities_from_anonymous_users(client, scripted_history):
    body = client.get(f"{API}units/unit-x/history/").json()
    assert {rev["author"] for rev in body["results"]} == {None}
    changes = client.get(f"{API}changes/").json()
    assert {change["author"] for change in changes["results"]} == {None}


def test_history_shows_staff_identities_to_auditors(auditor_client, scripted_history):
    body = auditor_client.get(f"{API}units/unit-x/history/").json()
    assert {rev["author"] for rev in body["results"]} == {"editor"}
    changes = auditor_client.get(f"{API}changes/").json()
    assert {change["author"] for change in changes["results"]} == {"editor"}


def test_history_hides_identities_from_users_without_view_permission(
    scripted_history, other_editor
):
    client = APIClient()
    client.force_login(other_editor)
    body = client.get(f"{API}units/unit-x/history/").json()
    assert {rev["author"] for rev in body["results"]} == {None}


def test_history_of_unknown_unit_is_404(client, scripted_history):
    assert client.get(f"{API}units/atlantis/history/").status_code == 404


# --- The change feed --------------------------------------------------------------------


def test_changes_between_two_dates(client, scripted_history):
    body = client.get(
        f"{API}changes/", {"since": "2021-01-01", "until": "2023-01-01"}
    ).json()
    kinds = [(change["kind"], change["unit"]) for change in body["results"]]
    assert kinds == [
        ("renamed", "unit-x"),
        ("mandate_changed", "unit-x"),
        ("moved", "unit-x"),
        ("abolished", "department-a"),
        ("appointment_ended", "unit-x"),
    ]
    moved = body["results"][2]
    assert moved["details"]["from"] == {"slug": "department-a", "name": "Department A"}
    assert moved["details"]["to"] == {"slug": "department-b", "name": "Department B"}
    assert moved["reason"] == "Reorganization 2022"
    assert moved["effective_at"].startswith("2022-01-01T12:00")


def test_changes_since_a_date_include_that_day(client, scripted_history):
    body = client.get(f"{API}changes/", {"since": "2023-01-02"}).json()
    assert [change["kind"] for change in body["results"]] == [
        "appointment_started",
        "added",
    ]
    started = body["results"][0]
    assert started["details"]["person"] == "Ben Okoro"
    assert started["details"]["started_on"] == "2023-01-02"


def test_changes_with_date_times(client, scripted_history):
    body = client.get(
        f"{API}changes/",
        {"since": "2022-06-01T12:00:00Z", "until": "2022-06-01T12:00:00Z"},
    ).json()
    assert body["results"] == []
    assert body["next"] is None
    body = client.get(
        f"{API}changes/",
        {"since": "2022-06-01T11:59:59Z", "until": "2022-06-01T12:00:00Z"},
    ).json()
    assert [change["kind"] for change in body["results"]] == ["abolished"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "yesterday"}, "since: “yesterday” is not an ISO 8601 date"),
        ({"until": "2023-02-30"}, "until: “2023-02-30” is not a valid date"),
        ({"since": "2023-01-01", "until": "2022-01-01"}, "until must not be earlier"),
    ],
)
def test_changes_refuse_bad_windows(client, scripted_history, query, message):
    response = client.get(f"{API}changes/", query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.json()["detail"]


def test_changes_atom_feed(client, scripted_history):
    response = client.get(f"{API}changes.atom", {"since": "2021-01-01"})
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("application/atom+xml")
    assert response["ETag"]
    from xml.etree import ElementTree

    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    titles = []
    for entry in feed.iter(f"{atom}entry"):
        title = entry.find(f"{atom}title")
        assert title is not None
        titles.append(title.text)
    assert titles[0] == "Unit Y established under Department B"
    assert "Unit Ex moved from Department A to Department B" in titles
    assert "Department A abolished" in titles
    assert feed.find(f"{atom}entry/{atom}author") is None


def test_changes_atom_names_authors_for_auditors_only(
    client, auditor_client, scripted_history
):
    assert b"<author><name>editor</name></author>" in (
        auditor_client.get(f"{API}changes.atom").content
    )
    assert b"<author>" not in client.get(f"{API}changes.atom").content


def test_changes_atom_refuses_bad_since(client, scripted_history):
    response = client.get(f"{API}changes.atom", {"since": "last week"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "since: “last week” is not an ISO 8601 date" in response.content.decode()


def test_changes_atom_answers_304_when_nothing_changed(client, scripted_history):
    first = client.get(f"{API}changes.atom")
    again = client.get(f"{API}changes.atom", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == HTTPStatus.NOT_MODIFIED


ATOM = "{http://www.w3.org/2005/Atom}"


def atom_entries(content: bytes) -> list[Any]:
    from xml.etree import ElementTree

    feed = ElementTree.fromstring(content)  # noqa: S314 - our own output
    return list(feed.iter(f"{ATOM}entry"))


def test_atom_entries_have_stable_unique_ids(client, scripted_history, editor):
    first = {
        entry.find(f"{ATOM}id").text: entry.find(f"{ATOM}title").text
        for entry in atom_entries(client.get(f"{API}changes.atom").content)
    }
    entries = atom_entries(client.get(f"{API}changes.atom").content)
    # The 2021 rename wrote one version that is both a rename and a mandate change;
    # the head post and the two people are entries too.
    assert len(first) == len(entries) == 15
    assert {entry.find(f"{ATOM}id").text for entry in entries} == set(first)

    services.unit_update(
        unit=scripted_history.unit_y, user=editor, reason="Renamed", name="Unit Why"
    )
    after = {
        entry.find(f"{ATOM}id").text: entry.find(f"{ATOM}title").text
        for entry in atom_entries(client.get(f"{API}changes.atom").content)
    }
    # A new change adds one id; every earlier entry keeps its id (and its title).
    assert len(after) == len(first) + 1
    assert {key: after[key] for key in first} == first


def test_atom_entries_link_to_the_public_page_of_what_changed(client, scripted_history):
    entries = atom_entries(client.get(f"{API}changes.atom").content)
    links = {
        entry.find(f"{ATOM}title").text: entry.find(f"{ATOM}link").get("href")
        for entry in entries
    }
    assert links["Unit Y established under Department B"] == (
        "http://testserver/units/unit-y/"
    )
    assert links["Department A abolished"] == "http://testserver/units/department-a/"
    # A post on its unit's page (an appointment with its post), also once the unit
    # is abolished; a person in the list of people.
    post_page = "http://testserver/units/unit-x/#post-head-of-x"
    assert links["Ben Okoro appointed Head of X"] == post_page
    assert links["Post Head of X established"] == post_page
    assert links["Ana Lima recorded as a person"] == (
        "http://testserver/people/?person=ana-lima#ana-lima"
    )
    for link in links.values():
        # Without the fragment, which a browser keeps to itself (APIClient would
        # send it in the query string).
        path = link.removeprefix("http://testserver").split("#")[0]
        assert client.get(path).status_code == HTTPStatus.OK, path


def test_atom_feed_never_shows_authors_to_anonymous_or_unprivileged_users(
    client, auditor_client, scripted_history, other_editor
):
    signed_in_without_permission = APIClient()
    signed_in_without_permission.force_login(other_editor)
    staff_feed = auditor_client.get(f"{API}changes.atom")
    assert b"<name>editor</name>" in staff_feed.content

    for reader in (client, signed_in_without_permission):
        response = reader.get(f"{API}changes.atom")
        assert response.status_code == HTTPStatus.OK
        assert b"<author>" not in response.content
        assert b"editor" not in response.content  # neither username nor e-mail
        # The ETag differs, so a reader cannot revalidate into the auditors' version.
        assert response["ETag"] != staff_feed["ETag"]
        assert "Cookie" in response["Vary"]


# --- Posts, people, appointments, relationships -----------------------------------------


def test_posts_now_and_as_of(client, scripted_history):
    body = client.get(f"{API}posts/", {"unit": "unit-x"}).json()
    assert [
        (post["slug"], post["unit"], post["is_head"]) for post in body["results"]
    ] == [("head-of-x", "unit-x", True)]
    assert client.get(f"{API}posts/", {"as_of": "2020-05-31"}).json()["count"] == 0
    detail = client.get(f"{API}posts/head-of-x/")
    assert detail.json()["title"] == "Head of X"
    assert detail["ETag"] == f'"post-{scripted_history.head_of_x.pk}-v1"'
    assert (
        client.get(f"{API}posts/head-of-x/", {"as_of": "2020-01-01"}).status_code == 404
    )
    assert client.get(f"{API}posts/nothing/").status_code == 404


def test_posts_filter_refuses_unknown_unit(client, scripted_history):
    response = client.get(f"{API}posts/", {"unit": "atlantis"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "No organizational unit has the slug “atlantis”." in str(response.json())


def test_people_list_search_and_detail(client, scripted_history):
    body = client.get(f"{API}people/", {"q": "ana"}).json()
    assert [person["slug"] for person in body["results"]] == ["ana-lima"]
    assert client.get(f"{API}people/").json()["count"] == 2
    assert client.get(f"{API}people/", {"as_of": "2020-01-01"}).json()["count"] == 0
    assert client.get(f"{API}people/ben-okoro/").json()["full_name"] == "Ben Okoro"


def test_appointments_now_and_as_of(client, scripted_history):
    now = client.get(f"{API}appointments/", {"post": "head-of-x"}).json()["results"]
    assert [(a["person"], a["started_on"], a["ended_on"]) for a in now] == [
        ("ben-okoro", "2023-01-02", None),
        ("ana-lima", "2020-06-01", "2023-01-01"),
    ]
    current = client.get(f"{API}appointments/", {"current": "true"}).json()["results"]
    assert [a["person"] for a in current] == ["ben-okoro"]
    past = client.get(
        f"{API}appointments/", {"as_of": "2022-01-01", "current": "true"}
    ).json()["results"]
    assert [(a["person"], a["ended_on"]) for a in past] == [("ana-lima", None)]
    appointment = Appointment.objects.get(person=scripted_history.ana)
    detail = client.get(f"{API}appointments/{appointment.pk}/", {"as_of": "2022-01-01"})
    assert detail.json()["ended_on"] is None
    assert detail["ETag"] == f'"appointment-{appointment.pk}-v1"'
    assert client.get(f"{API}appointments/{appointment.pk}/").json()["ended_on"] == (
        "2023-01-01"
    )
    assert client.get(f"{API}appointments/999999/").status_code == 404


def test_relationships_now_and_as_of(client, scripted_history, editor):
    relationship = services.relationship_create(
        source=scripted_history.unit_y,
        target=scripted_history.unit_x,
        kind="supports",
        user=editor,
        reason="Y supports X",
    )
    body = client.get(f"{API}relationships/", {"unit": "unit-x"}).json()
    assert [(r["source"], r["target"], r["kind"]) for r in body["results"]] == [
        ("unit-y", "unit-x", "supports")
    ]
    assert (
        client.get(f"{API}relationships/", {"as_of": "2024-01-01"}).json()["count"] == 0
    )
    detail = client.get(f"{API}relationships/{relationship.pk}/").json()
    assert detail["status"] == "active"
    bad = client.get(f"{API}relationships/", {"kind": "loves"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST


# --- Malformed as_of on every read ------------------------------------------------------

READ_PATHS = [
    "tree/",
    "units/",
    "units/unit-x/",
    "units/unit-x/children/",
    "units/unit-x/ancestors/",
    "units/unit-x/tree/",
    "units/unit-x/history/",
    "posts/",
    "posts/head-of-x/",
    "people/",
    "people/ana-lima/",
    "appointments/",
    "relationships/",
    "export/units.csv",
    "export/units.xlsx",
    "export/org.jsonld",
    "export/popolo.json",
    "export/snapshot.zip",
]


@pytest.mark.parametrize("path", READ_PATHS)
@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("tomorrow", "as_of: “tomorrow” is not an ISO 8601 date or date-time"),
        ("2023-13-01", "as_of: “2023-13-01” is not a valid date"),
    ],
)
def test_malformed_as_of_is_400_naming_it(
    client, scripted_history, path, as_of, message
):
    response = client.get(f"{API}{path}", {"as_of": as_of})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("tree/", "as_of"),
        ("units/unit-x/", "as_of"),
        ("changes/", "since"),
        ("changes/", "until"),
    ],
)
@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
)
def test_instants_outside_utc_years_are_400(
    client, scripted_history, path, parameter, value
):
    response = client.get(f"{API}{path}", {parameter: value})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["detail"] == (
        f"{parameter}: “{value}” lies outside the years 1 to 9999 in UTC."
    )


@pytest.mark.parametrize("path", ["changes/", "changes.atom"])
def test_extreme_but_valid_windows_are_answered(client, scripted_history, path):
    response = client.get(
        f"{API}{path}", {"since": "0001-01-01", "until": "9999-12-31"}
    )
    assert response.status_code == HTTPStatus.OK


def test_as_of_in_the_far_future_is_the_present(client, scripted_history):
    future = client.get(f"{API}tree/", {"as_of": "9999-12-31"}).json()
    assert future == client.get(f"{API}tree/").json()


# --- Exports ----------------------------------------------------------------------------


def test_csv_export_now_and_as_of(client, scripted_history):
    response = client.get(f"{API}export/units.csv")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["slug"], row["parent"], row["status"]) for row in rows] == [
        ("hq", "", "active"),
        ("department-a", "hq", "abolished"),
        ("department-b", "hq", "active"),
        ("unit-x", "department-b", "active"),
        ("unit-y", "department-b", "active"),
    ]
    assert rows[3]["head_holder"] == "Ben Okoro"
    past = client.get(f"{API}export/units.csv", {"as_of": "2021-01-01"})
    past_rows = list(csv.DictReader(io.StringIO(past.content.decode())))
    unit_x = next(row for row in past_rows if row["slug"] == "unit-x")
    assert (unit_x["name"], unit_x["parent"], unit_x["head_holder"]) == (
        "Unit X",
        "department-a",
        "Ana Lima",
    )


def test_org_jsonld_export_parses_offline_into_org_triples(client, scripted_history):
    from rdflib import RDF, Graph, Literal, Namespace, URIRef

    response = client.get(f"{API}export/org.jsonld")
    assert response["Content-Type"] == "application/ld+json"
    graph = Graph().parse(data=response.content, format="json-ld")
    org = Namespace("http://www.w3.org/ns/org#")
    foaf = Namespace("http://xmlns.com/foaf/0.1/")
    skos = Namespace("http://www.w3.org/2004/02/skos/core#")
    time = Namespace("http://www.w3.org/2006/time#")

    def unit(slug: str) -> URIRef:
        return URIRef(f"http://testserver/api/v1/units/{slug}/")

    assert (unit("unit-x"), RDF.type, org.OrganizationalUnit) in graph
    assert (unit("unit-x"), skos.prefLabel, Literal("Unit Ex", lang="en")) in graph
    assert (unit("unit-x"), org.subOrganizationOf, unit("department-b")) in graph
    assert (unit("department-b"), org.subOrganizationOf, unit("hq")) in graph
    assert (unit("hq"), RDF.type, org.FormalOrganization) in graph
    post = URIRef("http://testserver/api/v1/posts/head-of-x/")
    ben = URIRef("http://testserver/api/v1/people/ben-okoro/")
    assert (post, RDF.type, org.Post) in graph
    assert (post, org.postIn, unit("unit-x")) in graph
    assert (post, org.heldBy, ben) in graph
    assert (ben, foaf.name, Literal("Ben Okoro")) in graph
    memberships = set(graph.subjects(RDF.type, org.Membership))
    assert len(memberships) == 2
    members = {graph.value(m, org.member) for m in memberships}
    assert members == {ben, URIRef("http://testserver/api/v1/people/ana-lima/")}
    assert {graph.value(m, org.organization) for m in memberships} == {unit("unit-x")}
    ana_membership = next(m for m in memberships if graph.value(m, org.member) != ben)
    interval = graph.value(ana_membership, org.memberDuring)
    end = graph.value(graph.value(interval, time.hasEnd), time.inXSDDate)
    assert str(end) == "2023-01-01"


def test_org_jsonld_export_as_of(client, scripted_history):
    from rdflib import Graph, Namespace, URIRef

    response = client.get(f"{API}export/org.jsonld", {"as_of": "2021-01-01"})
    graph = Graph().parse(data=response.content, format="json-ld")
    org = Namespace("http://www.w3.org/ns/org#")
    unit_x = URIRef("http://testserver/api/v1/units/unit-x/")
    assert graph.value(unit_x, org.subOrganizationOf) == URIRef(
        "http://testserver/api/v1/units/department-a/"
    )
    assert (URIRef("http://testserver/api/v1/units/unit-y/"), None, None) not in graph


def test_popolo_export(client, scripted_history):
    body = client.get(f"{API}export/popolo.json").json()
    organizations = {o["id"]: o for o in body["organizations"]}
    assert organizations["unit-x"]["parent_id"] == "department-b"
    assert organizations["department-a"]["dissolution_date"] == "2022-06-01"
    assert organizations["hq"]["founding_date"] == "2020-01-01"
    assert body["posts"] == [
        {
            "id": "head-of-x",
            "label": "Head of X",
            "organization_id": "unit-x",
            "start_date": "2020-06-01",
            "end_date": None,
        }
    ]
    assert {p["id"] for p in body["persons"]} == {"ana-lima", "ben-okoro"}
    assert sorted(
        (m["person_id"], m["post_id"], m["start_date"], m["end_date"])
        for m in body["memberships"]
    ) == [
        ("ana-lima", "head-of-x", "2020-06-01", "2023-01-01"),
        ("ben-okoro", "head-of-x", "2023-01-02", None),
    ]
    past = client.get(f"{API}export/popolo.json", {"as_of": "2022-01-01"}).json()
    assert [(m["person_id"], m["end_date"]) for m in past["memberships"]] == [
        ("ana-lima", None)
    ]
    assert {o["id"] for o in past["organizations"]} == {
        "hq",
        "department-a",
        "department-b",
        "unit-x",
    }


# --- ETags, If-None-Match, If-Match, caching --------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "tree/",
        "units/",
        "units/unit-x/",
        "units/unit-x/tree/",
        "units/unit-x/history/",
        "changes/",
        "posts/",
        "export/units.csv",
        "export/units.xlsx",
        "export/popolo.json",
        "export/snapshot.zip",
    ],
)
def test_every_read_sends_an_etag_and_honours_if_none_match(
    client, scripted_history, path
):
    first = client.get(f"{API}{path}")
    assert first.status_code == HTTPStatus.OK
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(f"{API}{path}", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again["ETag"] == etag
    assert not again.content


def test_list_etag_changes_after_a_write(client, scripted_history, editor):
    etag = client.get(f"{API}tree/")["ETag"]
    services.unit_update(
        unit=scripted_history.unit_y, user=editor, reason="Rename", name="Unit Why"
    )
    response = client.get(f"{API}tree/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == HTTPStatus.OK
    assert response["ETag"] != etag


def test_cached_read_is_invalidated_by_a_write(
    client, scripted_history, editor, django_assert_num_queries
):
    client.get(f"{API}units/", {"q": "unit"})
    # A second identical read is served from the cache: only the generation is read.
    with django_assert_num_queries(1):
        cached = client.get(f"{API}units/", {"q": "unit"}).json()
    assert "Unit Why" not in names(cached["results"])
    services.unit_update(
        unit=scripted_history.unit_y, user=editor, reason="Rename", name="Unit Why"
    )
    fresh = client.get(f"{API}units/", {"q": "unit"}).json()
    assert "Unit Why" in names(fresh["results"])


def test_backdated_write_invalidates_as_of_reads(client, scripted_history, editor):
    before = client.get(f"{API}tree/", {"as_of": "2023-07-01"}).json()
    services.unit_create(
        user=editor,
        reason="Recorded late",
        name="Unit Z",
        kind=UnitKind.UNIT,
        parent=scripted_history.department_b,
        effective_at=datetime.date(2023, 6, 15),
    )
    after = client.get(f"{API}tree/", {"as_of": "2023-07-01"}).json()
    assert "Unit Z" not in names(before[0]["children"][0]["children"])
    assert "Unit Z" in names(after[0]["children"][0]["children"])


def test_cache_keeps_staff_identities_apart(client, auditor_client, scripted_history):
    assert (
        auditor_client.get(f"{API}changes/").json()["results"][0]["author"] == "editor"
    )
    assert client.get(f"{API}changes/").json()["results"][0]["author"] is None


def test_reads_vary_on_credentials(client, scripted_history):
    vary = client.get(f"{API}tree/")["Vary"]
    assert "Authorization" in vary
    assert "Cookie" in vary


def test_write_with_current_if_match_succeeds(editor_client, scripted_history):
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"name": "Unit Why", "reason": "Better name"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["name"] == "Unit Why"
    assert response["ETag"] == f'"unit-{scripted_history.unit_y.pk}-v2"'


def test_unit_provenance_is_written_and_read_as_of(editor_client, scripted_history):
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    note = "Placement inferred from the source: listed after Department B."
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"provenance": note, "reason": "Say what is inferred"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["provenance"] == note
    assert editor_client.get(f"{API}units/unit-y/").json()["provenance"] == note
    # Before the change, the unit had none.
    earlier = editor_client.get(f"{API}units/unit-y/?as_of=2024-01-01").json()
    assert earlier["provenance"] == ""
    history = editor_client.get(f"{API}units/unit-y/history/").json()
    assert "provenance" in str(history["results"][0])


def test_unit_provenance_refuses_control_characters_and_writes_nothing(
    editor_client, scripted_history
):
    before = history_count()
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"provenance": "Inferred\x07", "reason": "Bad text"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "provenance" in str(response.json()).lower()
    assert history_count() == before


def test_write_with_stale_if_match_is_412_and_changes_nothing(
    editor_client, scripted_history, other_editor
):
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    services.unit_update(
        unit=scripted_history.unit_y,
        user=other_editor,
        reason="Someone else was faster",
        mandate="New mandate",
    )
    before, revisions = unit_snapshot(), history_count()
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"name": "Unit Why", "reason": "Better name"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert response.json()["code"] == "stale_version"
    assert (
        "you edited version 1, the registry now holds version 2"
        in (response.json()["detail"])
    )
    assert unit_snapshot() == before
    assert history_count() == revisions


@pytest.mark.parametrize("action", ["move", "abolish"])
def test_stale_if_match_refuses_moves_and_abolitions(
    editor_client, scripted_history, editor, action
):
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    services.unit_update(
        unit=scripted_history.unit_y, user=editor, reason="Edit", mandate="Changed"
    )
    before = unit_snapshot()
    body = {"reason": "Restructure"}
    if action == "move":
        body["parent"] = "hq"
    response = editor_client.post(
        f"{API}units/unit-y/{action}/", body, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert unit_snapshot() == before


def test_if_match_naming_another_object_is_412(editor_client, scripted_history):
    other_etag = editor_client.get(f"{API}units/unit-x/")["ETag"]
    before = unit_snapshot()
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"name": "Unit Why", "reason": "Better name"},
        format="json",
        HTTP_IF_MATCH=other_etag,
    )
    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert "names no version of this unit" in response.json()["detail"]
    assert unit_snapshot() == before


def test_stale_if_match_on_ending_an_appointment(editor_client, scripted_history):
    appointment = Appointment.objects.get(person=scripted_history.ben)
    response = editor_client.post(
        f"{API}appointments/{appointment.pk}/end/",
        {"ended_on": "2024-01-01", "reason": "Term over"},
        format="json",
        HTTP_IF_MATCH=f'"appointment-{appointment.pk}-v7"',
    )
    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    appointment.refresh_from_db()
    assert appointment.ended_on is None


# --- Writes -----------------------------------------------------------------------------


def test_create_unit_records_user_reason_and_effective_time(
    editor_client, scripted_history
):
    response = editor_client.post(
        f"{API}units/",
        {
            "name": "Data Office",
            "short_name": "DO",
            "kind": "office",
            "parent": "hq",
            "reason": "New office for data",
            "effective_at": "2024-02-01",
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert (body["slug"], body["parent"], body["established_on"]) == (
        "do",
        "hq",
        "2024-02-01",
    )
    assert response["Location"] == "http://testserver/api/v1/units/do/"
    assert response["ETag"].endswith('-v1"')
    revision = OrganizationalUnit.history.get(slug="do")
    assert revision.history_user.username == "editor"
    assert revision.history_change_reason == "New office for data"
    assert revision.history_date.isoformat() == "2024-02-01T00:00:00+00:00"


def test_create_unit_with_token_authentication(scripted_history, editor):
    token = Token.objects.create(user=grant(editor, *EDITOR_PERMISSIONS))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(
        f"{API}units/",
        {"name": "Token Unit", "kind": "unit", "parent": "hq", "reason": "Via token"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED


def test_anonymous_writes_are_refused(client, scripted_history):
    before = unit_snapshot()
    response = client.post(
        f"{API}units/", {"name": "X", "kind": "unit", "reason": "r"}, format="json"
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "credentials were not provided" in response.json()["detail"]
    assert client.patch(f"{API}units/hq/", {"name": "Y"}).status_code == 403
    assert client.post(f"{API}units/hq/abolish/", {"reason": "r"}).status_code == 403
    assert unit_snapshot() == before


def test_writes_need_the_model_permission(scripted_history, other_editor):
    client = APIClient()
    client.force_login(other_editor)  # staff, but without any registry permission
    before = unit_snapshot()
    response = client.post(
        f"{API}units/unit-y/move/", {"parent": "hq", "reason": "r"}, format="json"
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert (
        response.json()["detail"] == "You do not have the permission this change needs."
    )
    only_add = grant(other_editor, "add_organizationalunit")
    client.force_login(only_add)
    response = client.post(
        f"{API}units/unit-y/move/", {"parent": "hq", "reason": "r"}, format="json"
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert unit_snapshot() == before


def test_units_cannot_be_deleted(editor_client, scripted_history):
    response = editor_client.delete(f"{API}units/unit-y/")
    assert response.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.METHOD_NOT_ALLOWED)
    assert OrganizationalUnit.objects.filter(slug="unit-y").exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "X", "kind": "unit"}, "reason", "This field is required."),
        ({"name": "X", "kind": "castle", "reason": "r"}, "kind", "not a valid choice"),
        (
            {"name": "X", "kind": "unit", "parent": "atlantis", "reason": "r"},
            "parent",
            "does not exist",
        ),
        (
            {"name": "X", "kind": "unit", "reason": "r", "effective_at": "soon"},
            "effective_at",
            "ISO 8601",
        ),
        (
            {"name": "X", "kind": "unit", "reason": "r", "learn_more_url": "not a url"},
            "learn_more_url",
            "valid URL",
        ),
        (
            {"name": "X", "kind": "unit", "reason": "r", "colour": "red"},
            "non_field_errors",
            "Unknown or unchangeable fields: colour.",
        ),
    ],
)
def test_create_unit_refuses_invalid_input(
    editor_client, scripted_history, body, field, message
):
    before = unit_snapshot()
    response = editor_client.post(f"{API}units/", body, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in str(response.json()[field])
    assert unit_snapshot() == before


def test_blank_reason_is_refused_by_the_service(editor_client, scripted_history):
    before = unit_snapshot()
    response = editor_client.post(
        f"{API}units/", {"name": "X", "kind": "unit", "reason": "  "}, format="json"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "detail": "A reason is required: say why this change is made.",
        "code": "reason_required",
    }
    assert unit_snapshot() == before


def test_future_effective_time_is_refused(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/",
        {"name": "X", "kind": "unit", "reason": "r", "effective_at": "2999-01-01"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "future_effective_time"


def test_effective_time_outside_utc_years_is_refused(editor_client, scripted_history):
    before = unit_snapshot()
    response = editor_client.post(
        f"{API}units/",
        {
            "name": "X",
            "kind": "unit",
            "reason": "r",
            "effective_at": "0001-01-01T00:00:00+14:00",
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "outside the years 1 to 9999" in str(response.json()["effective_at"])
    assert unit_snapshot() == before


def test_taken_slug_is_refused(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/",
        {"name": "X", "kind": "unit", "reason": "r", "slug": "unit-x"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert (
        response.json()["detail"]
        == "The slug “unit-x” is already used by another unit."
    )


def test_update_refuses_fields_it_cannot_change(editor_client, scripted_history):
    before = unit_snapshot()
    response = editor_client.patch(
        f"{API}units/unit-y/",
        {"parent": "hq", "slug": "new-slug", "reason": "r"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Unknown or unchangeable fields: parent, slug." in str(response.json())
    assert unit_snapshot() == before


def test_update_of_an_abolished_unit_is_refused(editor_client, scripted_history):
    response = editor_client.patch(
        f"{API}units/department-a/", {"name": "A again", "reason": "r"}, format="json"
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "abolished"


def test_move_a_unit(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/unit-y/move/",
        {"parent": "hq", "reason": "Promoted"},
        format="json",
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["parent"] == "hq"
    tree = editor_client.get(f"{API}tree/").json()
    assert [child["slug"] for child in tree[0]["children"]] == [
        "department-b",
        "unit-y",
    ]


def test_move_into_own_subtree_is_409_and_changes_nothing(
    editor_client, scripted_history
):
    before, revisions = unit_snapshot(), history_count()
    response = editor_client.post(
        f"{API}units/department-b/move/",
        {"parent": "unit-x", "reason": "Upside down"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "cycle"
    assert "inside its own subtree" in response.json()["detail"]
    assert unit_snapshot() == before
    assert history_count() == revisions


def move(client: APIClient, slug: str, body: dict[str, Any]) -> Any:
    return client.post(f"{API}units/{slug}/move/", body, format="json")


@pytest.mark.parametrize(
    ("body", "children_of_b"),
    [
        ({"position": "before", "target": "unit-x"}, ["unit-y", "unit-x"]),
        ({"position": "first-child", "target": "department-b"}, ["unit-y", "unit-x"]),
        ({"position": "last-child", "target": "department-b"}, ["unit-x", "unit-y"]),
        ({"position": "after", "target": "unit-x"}, ["unit-x", "unit-y"]),
    ],
)
def test_move_by_position_and_target(
    editor_client, scripted_history, body, children_of_b
):
    response = move(editor_client, "unit-y", {**body, "reason": "Reordered"})
    assert response.status_code == HTTPStatus.OK
    assert response.json()["parent"] == "department-b"
    tree = editor_client.get(f"{API}tree/").json()
    department_b = tree[0]["children"][0]
    assert [child["slug"] for child in department_b["children"]] == children_of_b


def test_move_by_position_before_a_top_level_sibling(editor_client, scripted_history):
    response = move(
        editor_client,
        "unit-y",
        {"position": "before", "target": "hq", "reason": "Independent"},
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["parent"] is None
    tree = editor_client.get(f"{API}tree/").json()
    assert [node["slug"] for node in tree] == ["unit-y", "hq"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"position": "before", "target": "nowhere"}, "slug=nowhere does not exist"),
        ({"position": "sideways", "target": "hq"}, "not a valid choice"),
        ({"position": "first-child"}, "Give position and target together"),
        ({"target": "hq"}, "Give position and target together"),
        (
            {"position": "first-child", "target": "hq", "parent": "hq"},
            "takes no parent",
        ),
        (
            {"position": "after", "target": "hq", "sibling_order": 5},
            "takes no sibling_order",
        ),
        ({}, "This field is required"),
    ],
)
def test_move_by_position_with_bad_input_is_400_and_changes_nothing(
    editor_client, scripted_history, body, message
):
    before, revisions = unit_snapshot(), history_count()
    response = move(editor_client, "unit-y", {**body, "reason": "Try"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in json.dumps(response.json(), ensure_ascii=False)
    assert unit_snapshot() == before
    assert history_count() == revisions


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"position": "first-child", "target": "unit-x"},
            "that unit is inside its own subtree",
        ),
        ({"position": "before", "target": "unit-x"}, "cannot report to itself"),
        ({"position": "last-child", "target": "department-b"}, "to itself"),
    ],
)
def test_move_by_position_under_own_subtree_is_409_and_changes_nothing(
    editor_client, scripted_history, body, message
):
    before, revisions = unit_snapshot(), history_count()
    response = move(editor_client, "department-b", {**body, "reason": "Loop"})
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "cycle"
    assert message in response.json()["detail"]
    assert unit_snapshot() == before
    assert history_count() == revisions


def test_move_by_position_checks_if_match(editor_client, scripted_history):
    unit = OrganizationalUnit.objects.get(slug="unit-y")
    before = unit_snapshot()
    response = editor_client.post(
        f"{API}units/unit-y/move/",
        {"position": "first-child", "target": "hq", "reason": "Stale"},
        format="json",
        HTTP_IF_MATCH=f'"unit-{unit.pk}-v{unit.version - 1}"',
    )
    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert response.json()["code"] == "stale_version"
    assert unit_snapshot() == before


def test_move_to_a_position_a_sibling_holds_is_409_and_changes_nothing(
    editor_client, scripted_history
):
    taken = scripted_history.unit_x.sibling_order
    before, revisions = unit_snapshot(), history_count()
    response = move(
        editor_client,
        "unit-y",
        {"parent": "department-b", "sibling_order": taken, "reason": "Squeeze"},
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "position_taken"
    assert "already held by “Unit Ex”" in response.json()["detail"]
    assert unit_snapshot() == before
    assert history_count() == revisions


def test_move_under_itself_is_409(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/unit-x/move/", {"parent": "unit-x", "reason": "r"}, format="json"
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert "cannot report to itself" in response.json()["detail"]


def test_move_under_an_abolished_unit_is_409(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/unit-y/move/",
        {"parent": "department-a", "reason": "r"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "parent_abolished"


def test_move_of_unknown_unit_is_404(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/atlantis/move/", {"parent": "hq", "reason": "r"}, format="json"
    )
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_abolish_refuses_units_with_active_sub_units(editor_client, scripted_history):
    before = unit_snapshot()
    response = editor_client.post(
        f"{API}units/department-b/abolish/", {"reason": "Closing"}, format="json"
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "has_active_sub_units"
    assert "still has active sub-units (Unit Ex, Unit Y)" in response.json()["detail"]
    assert unit_snapshot() == before


def test_abolish_moving_sub_units_elsewhere(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/department-b/abolish/",
        {"reason": "Closing", "sub_units": "move", "move_sub_units_to": "hq"},
        format="json",
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "abolished"
    tree = editor_client.get(f"{API}tree/").json()
    assert outline(tree) == [("Headquarters", [("Unit Ex", []), ("Unit Y", [])])]


def abolish_many(client: APIClient, body: dict[str, Any]) -> Any:
    return client.post(f"{API}units/abolish/", body, format="json")


def test_abolish_many_abolishes_every_unit_named(editor_client, scripted_history):
    response = abolish_many(
        editor_client, {"units": ["unit-y", "unit-x"], "reason": "Merged away"}
    )
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [unit["slug"] for unit in body] == ["unit-x", "unit-y"]
    assert {unit["status"] for unit in body} == {"abolished"}
    tree = editor_client.get(f"{API}tree/").json()
    assert outline(tree) == [("Headquarters", [("Department B", [])])]


def test_abolish_many_handles_sub_units_like_the_single_abolish(
    editor_client, scripted_history
):
    response = abolish_many(
        editor_client,
        {
            "units": ["department-b", "unit-y"],
            "sub_units": "move",
            "move_sub_units_to": "hq",
            "reason": "Flattened",
        },
    )
    assert response.status_code == HTTPStatus.OK
    tree = editor_client.get(f"{API}tree/").json()
    assert outline(tree) == [("Headquarters", [("Unit Ex", [])])]


def test_abolish_many_is_all_or_none(editor_client, scripted_history):
    before, revisions = unit_snapshot(), history_count()
    response = abolish_many(
        editor_client, {"units": ["unit-y", "department-b"], "reason": "Closing"}
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "has_active_sub_units"
    assert "still has active sub-units (Unit Ex, Unit Y)" in response.json()["detail"]
    assert unit_snapshot() == before
    assert history_count() == revisions


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"units": ["unit-y", "nowhere"]}, "No unit has the slug nowhere."),
        ({"units": []}, "may not be empty"),
        ({}, "This field is required"),
        ({"units": ["unit-y"], "sub_units": "keep"}, "not a valid choice"),
        ({"units": ["unit-y"], "move_sub_units_to": "nowhere"}, "does not exist"),
        ({"units": ["unit-y"], "reason": ""}, "A reason is required"),
    ],
)
def test_abolish_many_with_bad_input_is_400_and_changes_nothing(
    editor_client, scripted_history, body, message
):
    before, revisions = unit_snapshot(), history_count()
    response = abolish_many(editor_client, {"reason": "Closing", **body})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in json.dumps(response.json(), ensure_ascii=False)
    assert unit_snapshot() == before
    assert history_count() == revisions


def test_abolish_many_needs_the_change_permission(client, scripted_history):
    response = abolish_many(client, {"units": ["unit-y"], "reason": "Closing"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert OrganizationalUnit.objects.get(slug="unit-y").is_active


def test_abolish_twice_is_refused(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/department-a/abolish/", {"reason": "Again"}, format="json"
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "abolished"


def test_create_post_person_appointment_and_relationship(
    editor_client, scripted_history
):
    post = editor_client.post(
        f"{API}posts/",
        {
            "title": "Head of Y",
            "unit": "unit-y",
            "is_head": True,
            "reason": "New post",
            "effective_at": "2023-12-01",
        },
        format="json",
    )
    assert post.status_code == HTTPStatus.CREATED, post.json()
    assert post["Location"] == "http://testserver/api/v1/posts/head-of-y/"
    person = editor_client.post(
        f"{API}people/",
        {"full_name": "Chen Wei", "reason": "New person"},
        format="json",
    )
    assert person.status_code == HTTPStatus.CREATED
    appointment = editor_client.post(
        f"{API}appointments/",
        {
            "person": person.json()["slug"],
            "post": "head-of-y",
            "started_on": "2024-01-01",
            "reason": "Appointed",
        },
        format="json",
    )
    assert appointment.status_code == HTTPStatus.CREATED, appointment.json()
    ended = editor_client.post(
        f"{API}appointments/{appointment.json()['id']}/end/",
        {"ended_on": "2024-06-30", "reason": "Left"},
        format="json",
        HTTP_IF_MATCH=appointment["ETag"],
    )
    assert ended.status_code == HTTPStatus.OK
    assert ended.json()["ended_on"] == "2024-06-30"
    relationship = editor_client.post(
        f"{API}relationships/",
        {"source": "unit-y", "target": "unit-x", "kind": "advises", "reason": "Link"},
        format="json",
    )
    assert relationship.status_code == HTTPStatus.CREATED, relationship.json()
    end = editor_client.post(
        f"{API}relationships/{relationship.json()['id']}/end/",
        {"reason": "Unlinked"},
        format="json",
    )
    assert end.json()["status"] == "ended"


def test_update_a_post_with_if_match(editor_client, scripted_history, editor):
    etag = editor_client.get(f"{API}posts/head-of-x/")["ETag"]
    response = editor_client.patch(
        f"{API}posts/head-of-x/",
        {"title": "Chief of X", "term_years": 4, "reason": "Retitled"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == HTTPStatus.OK
    assert (response.json()["title"], response.json()["version"]) == ("Chief of X", 2)
    stale = editor_client.patch(
        f"{API}posts/head-of-x/",
        {"title": "Boss of X", "reason": "Again"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert Post.objects.get(slug="head-of-x").title == "Chief of X"


def test_abolish_a_post_ends_its_holders_appointment(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}posts/head-of-x/abolish/",
        {"reason": "Post cut", "effective_at": "2024-03-01"},
        format="json",
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "abolished"
    ben = Appointment.objects.get(person=scripted_history.ben)
    assert str(ben.ended_on) == "2024-03-01"
    again = editor_client.post(
        f"{API}posts/head-of-x/abolish/", {"reason": "Again"}, format="json"
    )
    assert again.status_code == HTTPStatus.CONFLICT
    assert again.json()["code"] == "abolished"


def test_correct_a_persons_name(editor_client, scripted_history):
    response = editor_client.patch(
        f"{API}people/ana-lima/", {"full_name": "Ana Lima Souza", "reason": "Typo"}
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["full_name"] == "Ana Lima Souza"
    refused = editor_client.patch(
        f"{API}people/ana-lima/", {"slug": "ana", "reason": "r"}, format="json"
    )
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert (
        editor_client.patch(
            f"{API}people/nobody/", {"full_name": "X", "reason": "r"}
        ).status_code
        == 404
    )


def test_post_and_person_updates_need_their_permissions(scripted_history, other_editor):
    client = APIClient()
    client.force_login(grant(other_editor, "add_post", "add_person"))
    assert (
        client.patch(
            f"{API}posts/head-of-x/", {"title": "T", "reason": "r"}, format="json"
        ).status_code
        == HTTPStatus.FORBIDDEN
    )
    assert (
        client.post(
            f"{API}posts/head-of-x/abolish/", {"reason": "r"}, format="json"
        ).status_code
        == HTTPStatus.FORBIDDEN
    )
    assert (
        client.patch(
            f"{API}people/ana-lima/", {"full_name": "T", "reason": "r"}, format="json"
        ).status_code
        == HTTPStatus.FORBIDDEN
    )
    assert Post.objects.get(slug="head-of-x").is_active


def test_appointment_to_an_occupied_post_is_refused(editor_client, scripted_history):
    count = Appointment.objects.count()
    response = editor_client.post(
        f"{API}appointments/",
        {
            "person": "ana-lima",
            "post": "head-of-x",
            "started_on": "2024-01-01",
            "reason": "Again",
        },
        format="json",
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "post_occupied"
    assert "held by Ben Okoro from 2 January 2023" in response.json()["detail"]
    assert Appointment.objects.count() == count


def test_second_head_post_is_refused(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}posts/",
        {"title": "Co-head", "unit": "unit-x", "is_head": True, "reason": "r"},
        format="json",
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "head_exists"
    assert not Post.objects.filter(title="Co-head").exists()


def test_relationship_of_a_unit_with_itself_is_refused(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}relationships/",
        {"source": "unit-x", "target": "unit-x", "kind": "advises", "reason": "r"},
        format="json",
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "self_relationship"


def test_ending_an_unknown_appointment_is_404(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}appointments/999999/end/",
        {"ended_on": "2024-01-01", "reason": "r"},
        format="json",
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["detail"] == "Appointment 999999 does not exist."


def test_huge_ids_are_404_not_a_server_error(editor_client, scripted_history):
    huge = 10**30
    assert editor_client.get(f"{API}appointments/{huge}/").status_code == 404
    response = editor_client.post(
        f"{API}relationships/{huge}/end/", {"reason": "r"}, format="json"
    )
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_malformed_json_body_is_400(editor_client, scripted_history):
    response = editor_client.post(
        f"{API}units/", "{not json", content_type="application/json"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "JSON parse error" in response.json()["detail"]


@pytest.fixture
def token_client(editor: User) -> APIClient:
    """The editor authenticated by token (no session, so no CSRF check first)."""
    token = Token.objects.create(user=grant(editor, *EDITOR_PERMISSIONS))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.mark.parametrize("client_name", ["editor_client", "token_client"])
@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded"]
)
def test_an_oversized_body_is_a_json_400_and_changes_nothing(
    request, scripted_history, settings, client_name, content_type
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    api_client = request.getfixturevalue(client_name)
    mandate = "x" * 10_001
    body = (
        json.dumps({"reason": "Huge mandate", "mandate": mandate})
        if content_type == "application/json"
        else f"reason=Huge+mandate&mandate={mandate}"
    )
    before, revisions = unit_snapshot(), history_count()

    response = api_client.patch(f"{API}units/unit-y/", body, content_type=content_type)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The request body is too large: the API accepts at most 10,000 "
        "bytes.",
        "code": "request_too_large",
    }
    assert unit_snapshot() == before
    assert history_count() == revisions


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_too_many_form_fields_is_a_json_400_and_changes_nothing(
    token_client, scripted_history, settings, encoding
):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    fields = {"name": "Data Office", "kind": "office", "reason": "New office"}
    fields |= {f"extra{number}": "1" for number in range(30)}
    before, revisions = unit_snapshot(), history_count()

    if encoding == "multipart":
        response = token_client.post(f"{API}units/", fields, format="multipart")
    else:
        response = token_client.post(
            f"{API}units/",
            "&".join(f"{key}={value}" for key, value in fields.items()),
            content_type="application/x-www-form-urlencoded",
        )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "detail": "The request has too many fields: the API accepts at most 20.",
        "code": "too_many_fields",
    }
    assert unit_snapshot() == before
    assert history_count() == revisions


def test_a_body_within_the_limit_is_still_accepted(token_client, scripted_history):
    """The size check refuses only what is over the limit."""
    response = token_client.patch(
        f"{API}units/unit-y/",
        {"reason": "Long mandate", "mandate": "y" * 5_000},
        format="json",
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["mandate"] == "y" * 5_000


# --- Throttling, schema, docs -----------------------------------------------------------


def test_anonymous_reads_are_throttled(client, scripted_history, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    assert client.get(f"{API}units/hq/").status_code == 200
    assert client.get(f"{API}units/hq/").status_code == 200
    response = client.get(f"{API}units/hq/")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "throttled" in response.json()["detail"]


def test_openapi_schema_documents_every_endpoint(client, db):
    response = client.get(
        f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == HTTPStatus.OK
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/v1/tree/",
        "/api/v1/units/{slug}/history/",
        "/api/v1/changes/",
        "/api/v1/export/org.jsonld",
        "/api/v1/appointments/{id}/end/",
    ]:
        assert path in schema["paths"]
    parameters = {
        p["name"] for p in schema["paths"]["/api/v1/units/"]["get"]["parameters"]
    }
    assert {"as_of", "kind", "status", "parent", "q", "ordering", "limit"} <= parameters


def test_generating_the_schema_emits_no_warnings(db):
    """What ``manage.py check --deploy`` runs (drf_spectacular.W001/W002): no warnings.

    The two ``kind`` enums (unit kinds, relationship kinds) collided until they were
    named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].
    """
    from drf_spectacular.checks import schema_check
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    assert schema_check(None) == []
    assert not GENERATOR_STATS
    schema = APIClient().get(
        f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    enums = schema.json()["components"]["schemas"]
    assert "UnitKindEnum" in enums
    assert "RelationshipKindEnum" in enums
    assert not [name for name in enums if name.startswith("Kind")]


def test_interactive_docs_use_the_projects_own_assets(client, db):
    response = client.get(f"{API}docs/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    assert "unpkg" not in html.lower()


def test_tree_payload_equals_the_documented_tree_node_serializer(
    scripted_history,
) -> None:
    """The fast tree builder must keep the shape the OpenAPI schema documents."""
    from api.serializers import TreeNodeSerializer, tree_payload
    from units import selectors

    for roots in (
        selectors.unit_tree(include_abolished=True),
        selectors.unit_tree_as_of(at("2021-06-01")),
    ):
        slugs = {node.id: node.slug for root in roots for node in root.walk()}
        documented = TreeNodeSerializer(
            roots, many=True, context={"unit_slugs": slugs}
        ).data
        assert json.loads(json.dumps(tree_payload(roots, slugs))) == json.loads(
            json.dumps(documented)
        )

"""The API's lineage: merge, split, replace and absorb operations through the
reorganization API, ``predecessors`` and ``successors`` on units (as of any instant,
without a query per unit in lists), and ETags that follow the lineage shown."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import every_change, office_with
from units import services
from units.models import OrganizationalUnit, UnitKind, UnitSuccession

pytestmark = pytest.mark.django_db
API = "/api/v1/"
SETUP = timezone.now() - datetime.timedelta(days=10)


@pytest.fixture
def units(editor: User) -> dict[str, OrganizationalUnit]:
    children = {"a": ("Department A", "dept-a"), "b": ("Department B", "dept-b")}
    return office_with(editor, SETUP, children, kind=UnitKind.DEPARTMENT)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, data: Any = None) -> Any:
    return client.post(path, data or {}, content_type="application/json")


MERGE = {
    "kind": "merge_units",
    "payload": {
        "units": ["dept-a", "dept-b"],
        "into": "dept-c",
        "establish": [
            {
                "name": "Department C",
                "kind": "department",
                "slug": "dept-c",
                "parent": "office",
            }
        ],
    },
}


def merged(editor: User, approver: User) -> dict[str, Any]:
    """Departments A and B merged into a new C through the API; the reorganization."""
    editor.groups.add(Group.objects.get(name="Registry editors"))
    author = signed_in(editor)
    created = post(
        author,
        f"{API}reorganizations/",
        {
            "title": "Merge A and B",
            "reason": "Bulletin 2026/20",
            "reason_visibility": "public",
        },
    )
    assert created.status_code == HTTPStatus.CREATED, created.json()
    pk = created.json()["id"]
    answer = post(author, f"{API}reorganizations/{pk}/operations/", MERGE)
    assert answer.status_code == HTTPStatus.CREATED, answer.json()
    assert answer.json()["operations"][0]["kind"] == "merge_units"
    assert answer.json()["problems"] == []
    assert post(author, f"{API}reorganizations/{pk}/submit/").status_code == 200
    approved = post(signed_in(approver), f"{API}reorganizations/{pk}/approve/")
    assert approved.json()["status"] == "applied", approved.json()
    return approved.json()


def test_a_merge_through_the_api_gives_predecessors_and_successors(
    units: Any, editor: User, approver: User
) -> None:
    reorganization = merged(editor, approver)
    day = reorganization["effective_at"][:10]
    client = Client()

    merged_unit = client.get(f"{API}units/dept-c/").json()
    assert [
        (link["slug"], link["name"], link["reason"], link["date"])
        for link in merged_unit["predecessors"]
    ] == [
        ("dept-a", "Department A", "merged", day),
        ("dept-b", "Department B", "merged", day),
    ]
    assert merged_unit["predecessors"][0]["url"] == (
        "http://testserver/api/v1/units/dept-a/"
    )
    assert merged_unit["successors"] == []
    closed = client.get(f"{API}units/dept-a/").json()
    assert closed["status"] == "abolished"
    assert [link["slug"] for link in closed["successors"]] == ["dept-c"]
    # Before the merge, none of it.
    before = client.get(f"{API}units/dept-a/", {"as_of": SETUP.date().isoformat()})
    assert before.json()["successors"] == []
    # The list gives them too.
    listed = {
        unit["slug"]: unit
        for unit in client.get(f"{API}units/", {"include_abolished": "true"}).json()[
            "results"
        ]
    }
    assert [link["slug"] for link in listed["dept-b"]["successors"]] == ["dept-c"]
    assert listed["office"]["predecessors"] == listed["office"]["successors"] == []


def test_a_link_added_to_an_existing_successor_changes_its_etag(
    units: Any, editor: User
) -> None:
    client = Client()
    first = client.get(f"{API}units/dept-b/")
    etag = first["ETag"]
    assert etag == f'"unit-{units["b"].pk}-v{units["b"].version}"'
    # A absorbed into B: B's version does not change, its answer does.
    services.unit_abolish(unit=units["a"], user=editor, reason="Absorbed")
    services.lineage_record(
        predecessors=[units["a"]],
        successors=[units["b"]],
        closure_reason="absorbed",
        user=editor,
        reason="Absorbed",
    )
    cache.clear()
    again = client.get(f"{API}units/dept-b/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == HTTPStatus.OK
    assert [link["slug"] for link in again.json()["predecessors"]] == ["dept-a"]
    assert again["ETag"] != etag
    assert (
        client.get(f"{API}units/dept-b/", HTTP_IF_NONE_MATCH=again["ETag"]).status_code
        == HTTPStatus.NOT_MODIFIED
    )
    # The tag still serves If-Match: a write based on it is not refused as stale.
    editor.groups.add(Group.objects.get(name="Registry editors"))
    patched = signed_in(editor).patch(
        f"{API}units/dept-b/",
        {"mandate": "Everything A did.", "reason": "After the absorption"},
        content_type="application/json",
        HTTP_IF_MATCH=again["ETag"],
    )
    assert patched.status_code == HTTPStatus.OK, patched.json()
    assert patched.json()["predecessors"][0]["slug"] == "dept-a"


@pytest.mark.parametrize(
    ("operation", "status", "message"),
    [
        (
            {"kind": "split_unit", "payload": {"unit": "dept-a", "into": ["dept-b"]}},
            HTTPStatus.BAD_REQUEST,
            "at least two",
        ),
        (
            {"kind": "absorb_unit", "payload": {"unit": "dept-a", "into": "dept-a"}},
            HTTPStatus.BAD_REQUEST,
            "cannot succeed itself",
        ),
        (
            {"kind": "merge_units", "payload": {"units": "dept-a", "into": "x"}},
            HTTPStatus.BAD_REQUEST,
            "wrong type",
        ),
    ],
)
def test_a_malformed_lineage_operation_is_a_400_and_not_added(
    units: Any, editor: User, operation: dict[str, Any], status: int, message: str
) -> None:
    editor.groups.add(Group.objects.get(name="Registry editors"))
    author = signed_in(editor)
    pk = post(
        author, f"{API}reorganizations/", {"title": "Bad", "reason": "Why"}
    ).json()["id"]
    answer = post(author, f"{API}reorganizations/{pk}/operations/", operation)
    assert answer.status_code == status
    assert message in str(answer.json())
    assert post(author, f"{API}reorganizations/{pk}/submit/").status_code == (
        HTTPStatus.CONFLICT
    )
    assert UnitSuccession.objects.count() == 0


def test_a_conflicting_operation_is_a_409_naming_it(units: Any, editor: User) -> None:
    editor.groups.add(Group.objects.get(name="Registry editors"))
    author = signed_in(editor)
    pk = post(
        author, f"{API}reorganizations/", {"title": "Twice", "reason": "Why"}
    ).json()["id"]
    for operation in (
        {"kind": "absorb_unit", "payload": {"unit": "dept-a", "into": "dept-b"}},
        {"kind": "replace_unit", "payload": {"unit": "dept-a", "by": "office"}},
    ):
        post(author, f"{API}reorganizations/{pk}/operations/", operation)
    answer = post(author, f"{API}reorganizations/{pk}/submit/")
    assert answer.status_code == HTTPStatus.CONFLICT
    assert "Operation 2:" in answer.json()["detail"]
    assert "already abolished" in answer.json()["detail"]
    assert OrganizationalUnit.objects.get(slug="dept-a").is_active


def test_the_unit_list_reads_lineage_in_a_fixed_number_of_queries(
    units: Any, editor: User, approver: User, django_assert_num_queries: Any
) -> None:
    merged(editor, approver)
    client = Client()

    def count_list() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert (
                client.get(f"{API}units/", {"include_abolished": "true"}).status_code
                == 200
            )
        return len(queries)

    few = count_list()
    for number in range(12):
        services.unit_create(
            user=editor,
            reason="More",
            name=f"Extra {number}",
            kind=UnitKind.UNIT,
            parent=units["office"],
        )
    more_links = services.unit_create(
        user=editor, reason="More", name="Absorbed", slug="absorbed", kind="unit"
    )
    services.unit_abolish(unit=more_links, user=editor, reason="Absorbed")
    services.lineage_record(
        predecessors=[more_links],
        successors=[OrganizationalUnit.objects.get(slug="dept-c")],
        closure_reason="absorbed",
        user=editor,
        reason="Absorbed",
    )
    cache.clear()
    with django_assert_num_queries(few):
        listed = client.get(f"{API}units/", {"include_abolished": "true"})
    assert len(listed.json()["results"]) > 15


def test_each_link_is_in_the_feed_with_its_own_address_and_history(
    units: Any, editor: User, approver: User
) -> None:
    merged(editor, approver)
    client = Client()
    changes = every_change(
        client.get(f"{API}changes/", {"limit": "500"}).json()["results"]
    )
    recorded = [change for change in changes if change["kind"] == "lineage_recorded"]
    assert sorted(change["object"]["name"] for change in recorded) == [
        "Department A merged into Department C",
        "Department B merged into Department C",
    ]
    entry = recorded[0]
    assert entry["reason"] == "Bulletin 2026/20"
    assert entry["details"]["closure_reason"] == "merged"
    assert entry["details"]["successor"]["slug"] == "dept-c"
    assert entry["object"]["page"] == "http://testserver/units/dept-c/"
    link = client.get(entry["object"]["url"])
    assert link.status_code == HTTPStatus.OK
    assert link.json()["successor"] == "dept-c"
    assert link.json()["closure_reason"] == "merged"
    assert link["ETag"] == f'"lineage-{entry["object"]["id"]}-v1"'
    history = client.get(f"{entry['object']['url']}history/").json()["results"]
    assert [(version["type"], version["reason"]) for version in history] == [
        ("created", "Bulletin 2026/20")
    ]
    assert client.get(f"{API}lineage/999999/").status_code == HTTPStatus.NOT_FOUND
    assert (
        client.get(
            f"{API}lineage/{entry['object']['id']}/",
            {"as_of": SETUP.date().isoformat()},
        ).status_code
        == HTTPStatus.NOT_FOUND
    )
    # The compare page and Atom list them too: under the reorganization that wrote
    # them, as its changes.
    compare = client.get("/compare/", {"from": SETUP.date().isoformat()})
    text = compare.content.decode()
    reorganizations = text[text.index('id="section-reorganizations"') :]
    assert "Department A merged into Department C" in reorganizations
    atom = client.get(f"{API}changes.atom").content.decode()
    assert "Department B merged into Department C" in atom


def test_a_write_answers_with_the_units_lineage(
    units: Any, editor: User, approver: User
) -> None:
    merged(editor, approver)
    author = signed_in(editor)
    answer = post(
        author,
        f"{API}units/abolish/",
        {"units": ["dept-c"], "reason": "Closed in turn", "sub_units": "refuse"},
    )
    assert answer.status_code == HTTPStatus.OK, answer.json()
    (unit,) = answer.json()
    assert [link["slug"] for link in unit["predecessors"]] == ["dept-a", "dept-b"]


def test_the_preview_of_a_merge_lists_its_links_and_writes_nothing(
    units: Any, editor: User
) -> None:
    editor.groups.add(Group.objects.get(name="Registry editors"))
    author = signed_in(editor)
    pk = post(
        author,
        f"{API}reorganizations/",
        {"title": "Merge A and B", "reason": "Bulletin", "reason_visibility": "public"},
    ).json()["id"]
    assert (
        post(author, f"{API}reorganizations/{pk}/operations/", MERGE).status_code
        == HTTPStatus.CREATED
    )
    links_before = UnitSuccession.history.count()

    preview = author.get(f"{API}reorganizations/{pk}/preview/")

    assert preview.status_code == HTTPStatus.OK, preview.content
    kinds = [change["kind"] for change in preview.json()["changes"]]
    assert kinds.count("lineage_recorded") == 2
    assert UnitSuccession.history.count() == links_before == 0

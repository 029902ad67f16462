"""/api/v1/reorganizations/: draft, operations, submit, approve, reject, cancel, revert.

The rules are the services' (tests/services/test_reorganizations.py); here: the
answers, their statuses and messages, who sees what, and nothing written on refusal.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from units.models import (
    OrganizationalUnit,
    Reorganization,
    ReorganizationOperation,
    UnitKind,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/reorganizations/"
# Every write of the reorganization API, as the schema names it (method, path).
REORGANIZATION_WRITES = {
    ("post", "/api/v1/reorganizations/"),
    ("post", "/api/v1/reorganizations/import/"),
    ("patch", "/api/v1/reorganizations/{id}/"),
    ("post", "/api/v1/reorganizations/{id}/operations/"),
    ("patch", "/api/v1/operations/{id}/"),
    ("delete", "/api/v1/operations/{id}/"),
    ("post", "/api/v1/reorganizations/{id}/submit/"),
    ("post", "/api/v1/reorganizations/{id}/approve/"),
    ("post", "/api/v1/reorganizations/{id}/reject/"),
    ("post", "/api/v1/reorganizations/{id}/cancel/"),
    ("post", "/api/v1/reorganizations/{id}/revert/"),
}


@pytest.fixture
def units(
    make_unit: Callable[..., OrganizationalUnit],
) -> dict[str, OrganizationalUnit]:
    established = {
        "reason": "Setup",
        "effective_at": timezone.now() - datetime.timedelta(days=1),
    }
    office = make_unit("Office", slug="office", kind=UnitKind.OFFICE, **established)
    unit = make_unit("Unit", office, slug="unit", **established)
    return {"office": office, "unit": unit}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor_client(editor: User) -> Client:
    editor.groups.add(Group.objects.get(name="Registry editors"))
    return signed_in(editor)


@pytest.fixture
def approver_client(approver: User) -> Client:
    return signed_in(approver)


def post(client: Client, path: str, data: Any = None) -> Any:
    return client.post(path, data or {}, content_type="application/json")


def drafted(client: Client, **fields: Any) -> dict[str, Any]:
    answer = post(
        client,
        API,
        {"title": "Rename", "reason": "Bulletin 2026/14", **fields},
    )
    assert answer.status_code == HTTPStatus.CREATED, answer.json()
    return answer.json()


RENAME = {"kind": "change_unit", "payload": {"unit": "unit", "fields": {"name": "U2"}}}


def test_the_life_cycle_through_the_api(
    units: Any, editor_client: Client, approver_client: Client
) -> None:
    reorganization = drafted(editor_client, reference="DG 2026/14")
    assert reorganization["status"] == "draft"
    assert reorganization["author"] == "editor"
    pk = reorganization["id"]

    answer = post(editor_client, f"{API}{pk}/operations/", RENAME)
    assert answer.status_code == HTTPStatus.CREATED
    assert answer.json()["operations"][0]["kind"] == "change_unit"
    assert answer.json()["problems"] == []

    assert post(editor_client, f"{API}{pk}/submit/").json()["status"] == "submitted"
    approved = post(approver_client, f"{API}{pk}/approve/")
    assert approved.status_code == HTTPStatus.OK
    assert approved.json()["status"] == "applied"
    assert approved.json()["approver"] == "approver"
    assert OrganizationalUnit.objects.get(slug="unit").name == "U2"


def test_approving_your_own_is_a_403_with_a_message(
    units: Any, approver_client: Client, approver: User
) -> None:
    approver.groups.add(Group.objects.get(name="Registry editors"))
    pk = drafted(approver_client)["id"]
    post(approver_client, f"{API}{pk}/operations/", RENAME)
    post(approver_client, f"{API}{pk}/submit/")

    answer = post(approver_client, f"{API}{pk}/approve/")
    assert answer.status_code == HTTPStatus.FORBIDDEN
    assert answer.json()["code"] == "self_approval"
    assert "someone else must approve" in answer.json()["detail"]
    assert Reorganization.objects.get().status == "submitted"
    assert OrganizationalUnit.objects.get(slug="unit").name == "Unit"


def test_an_editor_cannot_approve(units: Any, editor_client: Client) -> None:
    pk = drafted(editor_client)["id"]
    post(editor_client, f"{API}{pk}/operations/", RENAME)
    post(editor_client, f"{API}{pk}/submit/")
    answer = post(editor_client, f"{API}{pk}/approve/")
    assert answer.status_code == HTTPStatus.FORBIDDEN
    assert answer.json()["code"] == "not_an_approver"


def test_submitting_a_draft_that_does_not_apply_is_a_409_naming_the_operation(
    units: Any, editor_client: Client
) -> None:
    pk = drafted(editor_client)["id"]
    post(editor_client, f"{API}{pk}/operations/", RENAME)
    cycle = {"kind": "move_unit", "payload": {"unit": "office", "parent": "unit"}}
    answer = post(editor_client, f"{API}{pk}/operations/", cycle)
    assert answer.json()["problems"][0]["operation"] == 1

    answer = post(editor_client, f"{API}{pk}/submit/")
    assert answer.status_code == HTTPStatus.CONFLICT
    body = answer.json()
    assert body["code"] == "does_not_validate"
    assert body["problems"][0]["operation"] == 1
    assert "Operation 2:" in body["detail"]
    assert Reorganization.objects.get().status == "draft"


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("", {"reason": "r"}, "title"),
        ("", {"title": "T", "reason": "r", "status": "applied"}, "Unknown"),
        ("", {"title": "T", "reason": "r", "effective_at": "soon"}, "ISO 8601"),
        ("{pk}/operations/", {"kind": "teleport", "payload": {}}, "kind"),
        ("{pk}/operations/", {"kind": "move_unit", "payload": {}}, "needs unit"),
        ("{pk}/reject/", {}, "reason"),
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(
    units: Any,
    editor_client: Client,
    approver_client: Client,
    path: str,
    data: dict[str, Any],
    message: str,
) -> None:
    pk = drafted(editor_client)["id"]
    before = (Reorganization.objects.count(), ReorganizationOperation.objects.count())
    client = approver_client if "reject" in path else editor_client
    answer = post(client, API + path.format(pk=pk), data)
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert message in str(answer.json())
    assert (
        Reorganization.objects.count(),
        ReorganizationOperation.objects.count(),
    ) == before


def test_a_step_its_status_does_not_allow_is_a_409(
    units: Any, editor_client: Client, approver_client: Client
) -> None:
    pk = drafted(editor_client)["id"]
    answer = post(approver_client, f"{API}{pk}/approve/")
    assert answer.status_code == HTTPStatus.CONFLICT
    assert answer.json()["code"] == "wrong_status"


def test_reject_and_cancel(
    units: Any, editor_client: Client, approver_client: Client
) -> None:
    first = drafted(editor_client)["id"]
    post(editor_client, f"{API}{first}/operations/", RENAME)
    post(editor_client, f"{API}{first}/submit/")
    rejected = post(approver_client, f"{API}{first}/reject/", {"reason": "Too early"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "Too early"

    second = drafted(editor_client)["id"]
    cancelled = post(editor_client, f"{API}{second}/cancel/")
    assert cancelled.json()["status"] == "cancelled"
    assert OrganizationalUnit.objects.get(slug="unit").name == "Unit"


def test_operations_are_edited_and_removed(units: Any, editor_client: Client) -> None:
    pk = drafted(editor_client)["id"]
    post(editor_client, f"{API}{pk}/operations/", RENAME)
    operation = ReorganizationOperation.objects.get()
    changed = editor_client.patch(
        f"/api/v1/operations/{operation.pk}/",
        {"payload": {"unit": "unit", "fields": {"location": "Rome"}}},
        content_type="application/json",
    )
    assert changed.status_code == HTTPStatus.OK
    assert changed.json()["operations"][0]["payload"]["fields"] == {"location": "Rome"}
    removed = editor_client.delete(f"/api/v1/operations/{operation.pk}/")
    assert removed.status_code == HTTPStatus.OK
    assert removed.json()["operations"] == []


def test_the_public_sees_approved_ones_without_authors(
    units: Any, editor_client: Client, approver_client: Client, client: Client
) -> None:
    future = (timezone.now() + datetime.timedelta(days=3)).isoformat()
    scheduled = drafted(editor_client, effective_at=future)["id"]
    post(editor_client, f"{API}{scheduled}/operations/", RENAME)
    post(editor_client, f"{API}{scheduled}/submit/")
    assert post(approver_client, f"{API}{scheduled}/approve/").json()["scheduled"]
    draft = drafted(editor_client)["id"]

    listed = client.get(API).json()
    assert [item["id"] for item in listed["results"]] == [scheduled]
    assert listed["results"][0]["author"] is None
    assert client.get(f"{API}{draft}/").status_code == HTTPStatus.NOT_FOUND
    staff = editor_client.get(API, {"status": "draft"}).json()
    assert [item["id"] for item in staff["results"]] == [draft]


def test_a_bad_status_filter_is_a_400(client: Client) -> None:
    answer = client.get(API, {"status": "pending"})
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert "status" in answer.json()


def test_anonymous_writes_are_refused(units: Any, client: Client) -> None:
    answer = post(client, API, {"title": "T", "reason": "r"})
    assert answer.status_code in {HTTPStatus.FORBIDDEN, HTTPStatus.UNAUTHORIZED}
    assert Reorganization.objects.count() == 0


def test_the_list_costs_the_same_queries_for_more_reorganizations(
    units: Any, editor_client: Client, django_assert_num_queries: Any
) -> None:
    for _ in range(2):
        pk = drafted(editor_client)["id"]
        post(editor_client, f"{API}{pk}/operations/", RENAME)
    # The session, the user, their permissions (two), the reorganizations with their
    # authors and approvers, their operations.
    with django_assert_num_queries(6):
        assert len(editor_client.get(API).json()["results"]) == 2
    for _ in range(3):
        pk = drafted(editor_client)["id"]
        post(editor_client, f"{API}{pk}/operations/", RENAME)
    with django_assert_num_queries(6):
        assert len(editor_client.get(API).json()["results"]) == 5


def test_the_listed_writes_are_the_schemas_reorganization_writes(
    client: Client,
) -> None:
    # Other tests exempt REORGANIZATION_WRITES from checks of registry writes: a new
    # reorganization write must be listed there, and nothing else may be.
    schema = client.get(
        "/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()
    writes = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch", "delete"}
        and "reorganizations" in operation["tags"]
    }
    assert writes == REORGANIZATION_WRITES


def applied_rename(editor_client: Client, approver_client: Client) -> int:
    pk = drafted(editor_client)["id"]
    post(editor_client, f"{API}{pk}/operations/", RENAME)
    post(editor_client, f"{API}{pk}/submit/")
    assert post(approver_client, f"{API}{pk}/approve/").json()["status"] == "applied"
    return int(pk)


def test_reverting_through_the_api_drafts_the_undo(
    units: Any,
    editor_client: Client,
    approver_client: Client,
    django_assert_num_queries: Any,
) -> None:
    original = applied_rename(editor_client, approver_client)

    answer = post(
        editor_client,
        f"{API}{original}/revert/",
        {"reason": "Withdrawn", "reason_visibility": "public"},
    )

    assert answer.status_code == HTTPStatus.CREATED, answer.json()
    body = answer.json()
    assert answer["Location"].endswith(f"{API}{body['id']}/")
    assert body["title"] == "Reverts Rename"
    assert body["reverts"] == {"id": original, "title": "Rename"}
    assert body["status"] == "draft"
    assert body["reason"] == "Withdrawn"
    assert body["not_restored"] == []
    assert body["problems"] == []
    assert [(op["kind"], op["payload"]) for op in body["operations"]] == [
        ("change_unit", {"unit": "unit", "fields": {"name": "Unit"}})
    ]
    # The reverted one is read with the list, not one query each.
    with django_assert_num_queries(6):
        listed = editor_client.get(API).json()["results"]
    assert {item["id"]: item["reverts"] for item in listed} == {
        body["id"]: {"id": original, "title": "Rename"},
        original: None,
    }
    # Then the normal life cycle.
    post(editor_client, f"{API}{body['id']}/submit/")
    approved = post(approver_client, f"{API}{body['id']}/approve/")
    assert approved.json()["status"] == "applied"
    assert OrganizationalUnit.objects.get(slug="unit").name == "Unit"


def test_what_a_revert_cannot_restore_is_in_the_answer(
    units: Any, editor_client: Client, approver_client: Client, editor: User
) -> None:
    from units import services

    original = applied_rename(editor_client, approver_client)
    services.unit_update(
        unit=units["unit"], name="U3", user=editor, reason="Renamed again"
    )
    body = post(editor_client, f"{API}{original}/revert/", {"reason": "Undo"}).json()
    assert body["not_restored"] == [
        {"message": "The name of “U3” was changed again since; it is not restored."}
    ]
    assert body["operations"] == []


@pytest.mark.parametrize(
    ("target", "data", "status", "shown"),
    [
        ("applied", {}, HTTPStatus.BAD_REQUEST, "reason"),
        ("applied", {"reason": "Un\x0bdo"}, HTTPStatus.BAD_REQUEST, "control"),
        ("applied", {"reason": "   "}, HTTPStatus.BAD_REQUEST, "reason"),
        ("applied", {"reason": "r", "title": "Mine"}, HTTPStatus.BAD_REQUEST, "title"),
        (
            "applied",
            {"reason": "r", "effective_at": "soon"},
            HTTPStatus.BAD_REQUEST,
            "ISO",
        ),
        ("draft", {"reason": "Undo"}, HTTPStatus.CONFLICT, "cannot be reverted"),
        ("missing", {"reason": "Undo"}, HTTPStatus.NOT_FOUND, "does not exist"),
    ],
)
def test_a_refused_revert_writes_nothing(
    units: Any,
    editor_client: Client,
    approver_client: Client,
    target: str,
    data: dict[str, Any],
    status: int,
    shown: str,
) -> None:
    pk = {
        "applied": applied_rename(editor_client, approver_client),
        "draft": drafted(editor_client)["id"],
        "missing": 987654,
    }[target]
    before = (
        list(Reorganization.objects.values()),
        ReorganizationOperation.objects.count(),
        Reorganization.history.count(),
    )
    answer = post(editor_client, f"{API}{pk}/revert/", data)
    assert answer.status_code == status, answer.json()
    assert shown in str(answer.json())
    assert (
        list(Reorganization.objects.values()),
        ReorganizationOperation.objects.count(),
        Reorganization.history.count(),
    ) == before


def test_an_anonymous_revert_is_refused(
    units: Any, editor_client: Client, approver_client: Client, client: Client
) -> None:
    pk = applied_rename(editor_client, approver_client)
    answer = post(client, f"{API}{pk}/revert/", {"reason": "Undo"})
    assert answer.status_code in {HTTPStatus.FORBIDDEN, HTTPStatus.UNAUTHORIZED}
    assert Reorganization.objects.count() == 1


def test_a_correcting_revert_is_drafted_at_the_originals_time(
    units: Any, editor_client: Client, approver_client: Client
) -> None:
    original = applied_rename(editor_client, approver_client)
    when = Reorganization.objects.get(pk=original).effective_at

    answer = post(
        editor_client,
        f"{API}{original}/revert/",
        {"reason": "Never", "mode": "correct"},
    )

    assert answer.status_code == HTTPStatus.CREATED, answer.json()
    revert = Reorganization.objects.get(pk=answer.json()["id"])
    assert revert.effective_at == when


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"reason": "r", "mode": "erase"}, "mode"),
        (
            {"reason": "r", "mode": "correct", "effective_at": "2020-01-01"},
            "effective_at",
        ),
    ],
)
def test_a_revert_with_a_bad_mode_is_400_and_writes_nothing(
    units: Any,
    editor_client: Client,
    approver_client: Client,
    data: dict[str, Any],
    shown: str,
) -> None:
    original = applied_rename(editor_client, approver_client)
    count = Reorganization.objects.count()

    answer = post(editor_client, f"{API}{original}/revert/", data)

    assert answer.status_code == HTTPStatus.BAD_REQUEST, answer.json()
    assert shown in str(answer.json())
    assert Reorganization.objects.count() == count

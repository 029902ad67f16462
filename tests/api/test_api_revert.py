"""Reverting a unit through the API: a new, recorded change, never an erasure."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.api.test_api import API, EDITOR_PERMISSIONS, grant, unit_snapshot
from units import services
from units.models import OrganizationalUnit


@pytest.fixture
def editor_client(editor: User) -> APIClient:
    """The scripted history's editor, with the permissions to write."""
    client = APIClient()
    client.force_login(grant(editor, *EDITOR_PERMISSIONS))
    return client


def history_ids(slug: str) -> list[int]:
    """A unit's version ids, oldest first."""
    return list(
        OrganizationalUnit.history.filter(slug=slug)
        .order_by("history_date", "history_id")
        .values_list("history_id", flat=True)
    )


def all_history() -> list[tuple[Any, ...]]:
    """Every recorded version of every unit, to show none was changed or erased."""
    return list(
        OrganizationalUnit.history.order_by("history_id").values_list(
            "history_id", "id", "name", "parent_id", "abolished_on", "history_date"
        )
    )


def revert(client: APIClient, slug: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(f"{API}units/{slug}/revert/", body, format="json", **headers)


@pytest.fixture
def renamed_unit_y(scripted_history: Any, editor: User) -> Any:
    """Unit Y renamed after its creation: version 1 "Unit Y", version 2 "Unit Why"."""
    services.unit_update(
        unit=scripted_history.unit_y,
        user=editor,
        reason="Renamed in error",
        name="Unit Why",
        mandate="A mandate that was never agreed.",
    )
    return scripted_history


def test_revert_restores_an_earlier_version_as_a_new_change(
    editor_client, renamed_unit_y
):
    first, second = history_ids("unit-y")
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    versions_before = all_history()

    response = revert(
        editor_client,
        "unit-y",
        {"history_id": first, "reason": "The rename was a mistake"},
        HTTP_IF_MATCH=etag,
    )

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["name"] == "Unit Y"
    assert body["mandate"] == ""
    assert body["parent"] == "department-b"
    assert body["version"] == 3
    assert response["ETag"] == f'"unit-{renamed_unit_y.unit_y.pk}-v3"'
    # Nothing erased: the old versions are untouched and one version was added.
    assert all_history()[: len(versions_before)] == versions_before
    assert history_ids("unit-y")[:2] == [first, second]
    history = editor_client.get(f"{API}units/unit-y/history/").json()
    assert history["count"] == 3
    newest = history["results"][0]
    assert newest["reason"] == "The rename was a mistake"
    assert newest["author"] == "editor"
    # Issue 13: labelled a revert, naming the version it went back to.
    assert (newest["type"], newest["reverts_version"]) == ("reverted", first)
    assert history["results"][1]["reverts_version"] is None
    latest = editor_client.get(f"{API}changes/").json()["results"][-1]
    assert (latest["kind"], latest["details"]["version"]) == ("reverted", first)
    assert {change["field"]: change["new"] for change in newest["changes"]} == {
        "name": "Unit Y",
        "mandate": "",
    }


def test_revert_to_a_version_before_abolition_reinstates_the_unit(
    editor_client, scripted_history
):
    created = history_ids("department-a")[0]

    response = revert(
        editor_client,
        "department-a",
        {"history_id": created, "reason": "Department A re-established"},
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "active"
    assert response.json()["abolished_on"] is None
    latest = editor_client.get(f"{API}changes/").json()["results"][-1]
    assert (latest["kind"], latest["unit"]) == ("reinstated", "department-a")
    assert latest["reason"] == "Department A re-established"
    assert history_ids("department-a")[0] == created


def test_revert_with_a_stale_if_match_is_412_and_changes_nothing(
    editor_client, renamed_unit_y, other_editor
):
    first = history_ids("unit-y")[0]
    etag = editor_client.get(f"{API}units/unit-y/")["ETag"]
    services.unit_update(
        unit=renamed_unit_y.unit_y,
        user=other_editor,
        reason="Someone else was faster",
        location="Geneva",
    )
    before, versions = unit_snapshot(), all_history()

    response = revert(
        editor_client,
        "unit-y",
        {"history_id": first, "reason": "Undo"},
        HTTP_IF_MATCH=etag,
    )

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert response.json()["code"] == "stale_version"
    assert (
        "you edited version 2, the registry now holds version 3"
        in (response.json()["detail"])
    )
    assert unit_snapshot() == before
    assert all_history() == versions


def test_revert_that_would_make_a_cycle_is_409_and_changes_nothing(
    editor_client, scripted_history, editor
):
    """Unit Y was created under Department B, which now reports to Unit Y."""
    created = history_ids("unit-y")[0]
    services.unit_move(
        unit=scripted_history.unit_y,
        new_parent=scripted_history.root,
        user=editor,
        reason="Unit Y reports to headquarters",
    )
    services.unit_move(
        unit=scripted_history.department_b,
        new_parent=scripted_history.unit_y,
        user=editor,
        reason="Department B now reports to Unit Y",
    )
    before, versions = unit_snapshot(), all_history()

    response = revert(
        editor_client, "unit-y", {"history_id": created, "reason": "Back to B"}
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "cycle"
    assert "which would make a cycle" in response.json()["detail"]
    assert unit_snapshot() == before
    assert all_history() == versions


def test_revert_under_a_parent_abolished_since_is_409(editor_client, scripted_history):
    """Unit X's first version reported to Department A, abolished in 2022."""
    created = history_ids("unit-x")[0]
    before, versions = unit_snapshot(), all_history()

    response = revert(
        editor_client, "unit-x", {"history_id": created, "reason": "Undo everything"}
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["code"] == "parent_abolished"
    assert "Department A" in response.json()["detail"]
    assert unit_snapshot() == before
    assert all_history() == versions


@pytest.mark.parametrize("whose", ["another unit's", "no unit's"])
def test_revert_to_a_version_of_another_unit_is_404(
    editor_client, scripted_history, whose
):
    history_id = history_ids("unit-x")[0] if whose == "another unit's" else 10**9
    before, versions = unit_snapshot(), all_history()

    response = revert(
        editor_client, "unit-y", {"history_id": history_id, "reason": "Undo"}
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"] == (
        f"Version {history_id} is not a version of “Unit Y”."
    )
    assert unit_snapshot() == before
    assert all_history() == versions


def test_revert_to_the_current_state_is_400_with_nothing_to_revert(
    editor_client, scripted_history
):
    only = history_ids("unit-y")[0]
    versions = all_history()

    response = revert(editor_client, "unit-y", {"history_id": only, "reason": "No-op"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "no_change"
    assert "already matches that version" in response.json()["detail"]
    assert all_history() == versions


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"reason": "Undo"}, "history_id", "This field is required."),
        ({"history_id": "two", "reason": "Undo"}, "history_id", "valid integer"),
        ({"history_id": 0, "reason": "Undo"}, "history_id", "greater than or equal"),
        ({"history_id": 2**63, "reason": "Undo"}, "history_id", "less than or equal"),
        ({"history_id": 1}, "reason", "This field is required."),
        (
            {"history_id": 1, "reason": "Undo", "effective_at": "2020-01-01"},
            "non_field_errors",
            "Unknown or unchangeable fields: effective_at.",
        ),
    ],
)
def test_revert_refuses_invalid_input(
    editor_client, renamed_unit_y, body, field, message
):
    before, versions = unit_snapshot(), all_history()

    response = revert(editor_client, "unit-y", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in " ".join(response.json()[field])
    assert unit_snapshot() == before
    assert all_history() == versions


def test_revert_with_a_blank_reason_is_refused(editor_client, renamed_unit_y):
    first = history_ids("unit-y")[0]
    versions = all_history()

    response = revert(editor_client, "unit-y", {"history_id": first, "reason": "  "})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "reason_required"
    assert all_history() == versions


def test_revert_of_an_unknown_unit_is_404(editor_client, scripted_history):
    response = revert(editor_client, "no-such-unit", {"history_id": 1, "reason": "r"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["detail"] == "No unit has the slug “no-such-unit”."


def test_revert_needs_the_change_permission(renamed_unit_y, other_editor):
    first = history_ids("unit-y")[0]
    versions = all_history()
    anonymous = APIClient()
    viewer = APIClient()
    viewer.force_login(grant(other_editor, "view_organizationalunit"))

    for client in (anonymous, viewer):
        response = revert(client, "unit-y", {"history_id": first, "reason": "Undo"})
        assert response.status_code == HTTPStatus.FORBIDDEN

    assert all_history() == versions


def test_revert_is_documented_in_the_openapi_schema(db):
    schema = APIClient().get(
        f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    operation = schema.json()["paths"]["/api/v1/units/{slug}/revert/"]["post"]

    assert operation["summary"].startswith("Bring a unit back")
    assert {"200", "400", "403", "404", "409", "412"} <= set(operation["responses"])
    assert "If-Match" in {parameter["name"] for parameter in operation["parameters"]}
    request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    component = request_schema["$ref"].rsplit("/", 1)[-1]
    properties = schema.json()["components"]["schemas"][component]["properties"]
    assert set(properties) == {"reason", "reason_visibility", "history_id", "mode"}
    mode = properties["mode"]
    if "$ref" in mode:
        mode = schema.json()["components"]["schemas"][mode["$ref"].rsplit("/", 1)[-1]]
    elif "allOf" in mode:
        ref = mode["allOf"][0]["$ref"].rsplit("/", 1)[-1]
        mode = {**schema.json()["components"]["schemas"][ref], **mode}
    assert mode["enum"] == ["undo", "correct"]
    assert "correct" in mode["description"]


# --- Issue 14: a revert that corrects the record (mode) ---------------------------


def test_correct_mode_corrects_the_record_at_the_mistakes_time(
    editor_client: Any, renamed_unit_y: Any
) -> None:
    first, second = history_ids("unit-y")
    mistake = OrganizationalUnit.history.get(history_id=second)
    versions_before = all_history()

    response = revert(
        editor_client,
        "unit-y",
        {"history_id": first, "reason": "Never renamed", "mode": "correct"},
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["name"] == "Unit Y"
    assert all_history()[: len(versions_before)] == versions_before
    correction = OrganizationalUnit.history.filter(slug="unit-y").latest("history_id")
    assert correction.history_date == mistake.history_date
    assert correction.recorded_at > mistake.recorded_at
    assert (correction.corrects_revision, correction.reverts_revision) == (
        second,
        first,
    )


def test_undo_is_the_default_mode(editor_client: Any, renamed_unit_y: Any) -> None:
    first, second = history_ids("unit-y")
    mistake = OrganizationalUnit.history.get(history_id=second)

    response = revert(editor_client, "unit-y", {"history_id": first, "reason": "Undo"})

    assert response.status_code == HTTPStatus.OK
    undo = OrganizationalUnit.history.filter(slug="unit-y").latest("history_id")
    assert undo.history_date > mistake.history_date
    assert undo.corrects_revision is None


def test_an_unknown_mode_is_400_and_changes_nothing(
    editor_client: Any, renamed_unit_y: Any
) -> None:
    first = history_ids("unit-y")[0]
    before, versions = unit_snapshot(), all_history()

    response = revert(
        editor_client,
        "unit-y",
        {"history_id": first, "reason": "Gone", "mode": "erase"},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "mode" in response.content.decode()
    assert (unit_snapshot(), all_history()) == (before, versions)


def test_correcting_with_nothing_after_the_version_is_400(
    editor_client: Any, renamed_unit_y: Any
) -> None:
    second = history_ids("unit-y")[1]
    before = all_history()

    response = revert(
        editor_client,
        "unit-y",
        {"history_id": second, "reason": "Nothing to do", "mode": "correct"},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "no_change"
    assert all_history() == before

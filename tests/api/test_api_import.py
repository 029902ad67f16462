"""POST reorganizations/import/: a spreadsheet of units as a draft, or its difference."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api.filters import ReorganizationImportFilterSet
from units.models import Reorganization

API = "/api/v1/reorganizations/import/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor_client(editor: User) -> Client:
    editor.groups.add(Group.objects.get(name="Registry editors"))
    return signed_in(editor)


def exported_csv(client: Client) -> list[list[str]]:
    text = client.get("/api/v1/export/units.csv").content.decode()
    return list(csv.reader(io.StringIO(text)))


def upload(rows: list[list[str]], name: str = "units.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), "text/csv")


def renamed_unit_y(rows: list[list[str]]) -> list[list[str]]:
    for row in rows:
        if row[0] == "unit-y":
            row[1] = "Unit Why"
    return rows


def test_a_dry_run_answers_the_difference_and_drafts_nothing(
    scripted_history, editor_client
) -> None:
    rows = renamed_unit_y(exported_csv(editor_client))
    response = editor_client.post(f"{API}?dry_run=true", {"file": upload(rows)})
    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json() == {
        "operations": [
            {
                "row": 6,
                "kind": "change_unit",
                "payload": {"unit": "unit-y", "fields": {"name": "Unit Why"}},
                "summary": "Rename “Unit Y” to “Unit Why”",
            }
        ]
    }
    assert not Reorganization.objects.exists()


def test_the_export_read_back_has_no_difference(
    scripted_history, editor_client
) -> None:
    workbook = editor_client.get("/api/v1/export/units.xlsx").content
    response = editor_client.post(
        f"{API}?dry_run=true",
        {"file": SimpleUploadedFile("units.xlsx", workbook)},
    )
    assert response.json() == {"operations": []}


def test_an_import_drafts_a_reorganization(scripted_history, editor_client) -> None:
    rows = renamed_unit_y(exported_csv(editor_client))
    response = editor_client.post(
        API,
        {
            "file": upload(rows),
            "title": "Board paper",
            "reason": "Board decision 12",
            "reference": "BP/12",
        },
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["title"] == "Board paper"
    assert [operation["kind"] for operation in body["operations"]] == ["change_unit"]
    assert body["problems"] == []
    assert response["Location"].endswith(f"/reorganizations/{body['id']}/")


def test_a_bad_file_is_a_400_naming_row_and_column(
    scripted_history, editor_client
) -> None:
    rows = exported_csv(editor_client)
    rows[3][3] = "castle"
    response = editor_client.post(
        API, {"file": upload(rows), "title": "T", "reason": "R"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert body["code"] == "invalid"
    assert body["problems"] == [
        {
            "row": 4,
            "column": "D",
            "field": "kind",
            "message": body["problems"][0]["message"],
        }
    ]
    assert "“castle” is not a kind of unit" in body["detail"]
    assert not Reorganization.objects.exists()


def test_a_matching_file_drafts_nothing(scripted_history, editor_client) -> None:
    rows = exported_csv(editor_client)
    response = editor_client.post(
        API, {"file": upload(rows), "title": "T", "reason": "R"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "no_change"
    assert not Reorganization.objects.exists()


def test_a_draft_needs_a_title_and_a_reason(scripted_history, editor_client) -> None:
    rows = renamed_unit_y(exported_csv(editor_client))
    response = editor_client.post(API, {"file": upload(rows)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Reorganization.objects.exists()


@pytest.mark.parametrize(
    ("data", "query", "named"),
    [
        ({}, "", "file"),
        ({"file": "not a file"}, "", "file"),
        ({"colour": "red"}, "?dry_run=true", "file"),
    ],
)
def test_a_request_without_a_file_is_a_400(
    scripted_history, editor_client, data, query, named
) -> None:
    response = editor_client.post(f"{API}{query}", data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert named in response.json()


def test_a_bad_dry_run_value_is_a_400_naming_it(
    scripted_history, editor_client
) -> None:
    rows = exported_csv(editor_client)
    response = editor_client.post(f"{API}?dry_run=perhaps", {"file": upload(rows)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {
        "dry_run": "“perhaps” is not a boolean; use true or false."
    }


def test_json_is_refused_with_a_415(scripted_history, editor_client) -> None:
    response = editor_client.post(API, {"file": "x"}, content_type="application/json")
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


def test_it_needs_the_permission_to_draft(scripted_history, client) -> None:
    rows = exported_csv(client)
    anonymous = client.post(f"{API}?dry_run=true", {"file": upload(rows)})
    assert anonymous.status_code in {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}
    reader = signed_in(User.objects.create_user("reader"))
    refused = reader.post(f"{API}?dry_run=true", {"file": upload(rows)})
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert not Reorganization.objects.exists()


def test_the_schema_documents_the_import(db, client) -> None:
    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"][API]["post"]
    assert operation["tags"] == ["reorganizations"]
    assert [
        parameter["name"]
        for parameter in operation["parameters"]
        if parameter["in"] == "query"
    ] == list(ReorganizationImportFilterSet.base_filters)
    assert "multipart/form-data" in operation["requestBody"]["content"]


def test_a_file_over_the_limit_is_refused_unread(
    scripted_history, editor_client, settings
) -> None:
    settings.IMPORT_MAX_BYTES = 50
    rows = exported_csv(editor_client)
    response = editor_client.post(f"{API}?dry_run=true", {"file": upload(rows)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["problems"] == [
        {
            "row": None,
            "column": None,
            "field": None,
            "message": "The file is larger than 50 bytes, the most an import takes",
        }
    ]

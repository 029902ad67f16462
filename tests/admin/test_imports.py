"""The admin's import page: upload, see the difference, save it as a draft."""

from __future__ import annotations

import base64
import csv
import io
from http import HTTPStatus
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from units.models import OrganizationalUnit, Reorganization, ReorganizationStatus

IMPORT = reverse("admin:units_reorganization_import")


def spreadsheet(small_tree: tuple[OrganizationalUnit, ...]) -> bytes:
    """The small tree with Leaf Unit moved under Right Department and renamed."""
    root, left, right, leaf = small_tree
    rows = [
        ["slug", "name", "kind", "parent"],
        [root.slug, root.name, root.kind, ""],
        [left.slug, left.name, left.kind, root.slug],
        [right.slug, right.name, right.kind, root.slug],
        [leaf.slug, "Leaf Desk", leaf.kind, right.slug],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def preview(client: Client, content: bytes, **fields: Any) -> Any:
    return client.post(
        IMPORT,
        {
            "file": SimpleUploadedFile("units.csv", content, "text/csv"),
            "_preview": "1",
            **fields,
        },
    )


def test_the_list_links_to_the_import(editor_client: Client) -> None:
    page = editor_client.get(reverse("admin:units_reorganization_changelist"))
    assert IMPORT in page.content.decode()


def test_upload_see_the_difference_and_save_a_draft(
    editor_client: Client, small_tree: tuple, editor: User
) -> None:
    assert editor_client.get(IMPORT).status_code == HTTPStatus.OK
    shown = preview(editor_client, spreadsheet(small_tree), title="From the paper")
    assert shown.status_code == HTTPStatus.OK
    summaries = [change.summary for change in shown.context["changes"]]
    assert summaries == [
        "Rename “Leaf Unit” to “Leaf Desk”",
        "Move “Leaf Unit” from “Left Department” to “Right Department”",
    ]
    page = shown.content.decode()
    assert "Save as draft" in page
    assert 'value="From the paper"' in page
    assert not Reorganization.objects.exists()
    saved = editor_client.post(
        IMPORT,
        {
            "carried": shown.context["carried"],
            "filename": "units.csv",
            "title": "From the paper",
            "reason": "Board paper 7",
            "reason_visibility": "public",
            "_save": "1",
        },
    )
    draft = Reorganization.objects.get()
    assert saved.status_code == HTTPStatus.FOUND
    assert saved["Location"] == reverse(
        "admin:units_reorganization_change", args=[draft.pk]
    )
    assert draft.status == ReorganizationStatus.DRAFT
    assert draft.author == editor
    assert [operation.kind for operation in draft.operations.all()] == [
        "change_unit",
        "move_unit",
    ]
    assert draft.problems == []


def test_a_bad_file_shows_its_problems_by_row_and_column(
    editor_client: Client, small_tree: tuple
) -> None:
    content = spreadsheet(small_tree).replace(b"Leaf Desk,unit", b"Leaf Desk,castle")
    shown = preview(editor_client, content)
    assert shown.status_code == HTTPStatus.BAD_REQUEST
    [problem] = shown.context["problems"]
    assert (problem.row, problem.column, problem.field) == (5, "C", "kind")
    assert "Save as draft" not in shown.content.decode()
    # Saving it anyway (a hand-made request) drafts nothing.
    saved = editor_client.post(
        IMPORT,
        {
            "carried": base64.b64encode(content).decode(),
            "title": "T",
            "reason": "R",
            "_save": "1",
        },
    )
    assert saved.status_code == HTTPStatus.BAD_REQUEST
    assert not Reorganization.objects.exists()


def test_saving_needs_a_title_and_a_reason(
    editor_client: Client, small_tree: tuple
) -> None:
    carried = base64.b64encode(spreadsheet(small_tree)).decode()
    saved = editor_client.post(IMPORT, {"carried": carried, "_save": "1"})
    assert saved.status_code == HTTPStatus.BAD_REQUEST
    assert set(saved.context["form"].errors) >= {"title", "reason"}
    assert not Reorganization.objects.exists()


def test_no_file_and_a_broken_carried_file_are_refused(
    editor_client: Client, small_tree: tuple
) -> None:
    for data in ({"_preview": "1"}, {"_preview": "1", "carried": "%%%not base64"}):
        shown = editor_client.post(IMPORT, data)
        assert shown.status_code == HTTPStatus.BAD_REQUEST
        assert "Choose a spreadsheet" in shown.content.decode()


def test_an_auditor_may_not_import(db: None, roles: dict, small_tree: tuple) -> None:
    auditor = User.objects.create_user("auditor", is_staff=True)
    auditor.groups.add(roles["auditors"])
    client = Client()
    client.force_login(auditor)
    assert client.get(IMPORT).status_code == HTTPStatus.FORBIDDEN
    page = client.get(reverse("admin:units_reorganization_changelist"))
    assert IMPORT not in page.content.decode()

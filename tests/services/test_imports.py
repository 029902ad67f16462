"""Importing a spreadsheet of units as a draft reorganization: round trips, the
difference, and every kind of bad input named by row and column."""

from __future__ import annotations

import csv
import io
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from openpyxl import Workbook, load_workbook

from api.formats.state import RegistryAt
from api.formats.workbook import workbook_bytes
from units import services
from units.models import (
    OperationKind,
    OrganizationalUnit,
    Reorganization,
    ReorganizationStatus,
    UnitKind,
)
from units.services.imports import (
    UNIT_COLUMNS,
    FileProblem,
    FileRefusal,
    import_difference,
    reorganization_import,
)


def exported() -> bytes:
    return workbook_bytes(
        RegistryAt(None), registry_name="R", as_of=None, exported_at=None
    )


def edited(content: bytes, edit: Any) -> bytes:
    """The workbook with its Units sheet changed by ``edit(sheet, rows by slug)``."""
    book = load_workbook(io.BytesIO(content))
    sheet = book["Units"]
    rows = {row[0].value: row[0].row for row in sheet.iter_rows(min_row=2)}
    edit(sheet, rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def column(name: str) -> int:
    return UNIT_COLUMNS.index(name) + 1


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def workbook(rows: list[list[Any]], prepare: Any = None) -> bytes:
    book = Workbook()
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(row)
    if prepare:
        prepare(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def problems(content: bytes, filename: str = "") -> list[FileProblem]:
    with pytest.raises(FileRefusal) as caught:
        import_difference(content, filename)
    return caught.value.file_problems


# --- Round trips -------------------------------------------------------------------


def test_the_export_read_back_is_no_difference(scripted_history) -> None:
    assert import_difference(exported()) == []


def test_the_seed_exported_and_read_back_is_no_difference(editor) -> None:
    call_command("load_seed", stdout=StringIO())
    content = exported()
    assert len(load_workbook(io.BytesIO(content))["Units"]["A"]) > 40
    assert import_difference(content) == []


def test_texts_starting_with_a_formula_character_read_back_as_text(
    scripted_history, editor, client
) -> None:
    services.unit_update(
        unit=OrganizationalUnit.objects.get(slug="unit-y"),
        user=editor,
        reason="Odd texts",
        mandate="=SUM(A1:A3) is not a formula here",
        location="-3rd floor",
    )
    assert import_difference(exported()) == []
    response = client.get("/api/v1/export/units.csv")
    assert import_difference(response.content, "units.csv") == []


def test_the_csv_export_read_back_is_no_difference(scripted_history, client) -> None:
    response = client.get("/api/v1/export/units.csv")
    assert import_difference(response.content, "units.csv") == []


def test_three_edited_rows_draft_exactly_three_operations(
    scripted_history, editor
) -> None:
    def edit(sheet: Any, rows: dict[str, int]) -> None:
        sheet.cell(rows["unit-x"], column("name"), "Unit Ten")
        sheet.cell(rows["unit-y"], column("parent"), "hq")
        # Typed as text (openpyxl would take it for a formula): text starting with =.
        sheet.cell(rows["department-b"], column("mandate"), "=B keeps the books")
        sheet.cell(rows["department-b"], column("mandate")).data_type = "s"

    changes = import_difference(edited(exported(), edit))
    assert [(change.row, change.kind, change.payload) for change in changes] == [
        (
            4,
            OperationKind.CHANGE_UNIT,
            {"unit": "department-b", "fields": {"mandate": "=B keeps the books"}},
        ),
        (
            5,
            OperationKind.CHANGE_UNIT,
            {"unit": "unit-x", "fields": {"name": "Unit Ten"}},
        ),
        (6, OperationKind.MOVE_UNIT, {"unit": "unit-y", "parent": "hq"}),
    ]
    assert changes[1].summary == "Rename “Unit Ex” to “Unit Ten”"
    reorganization = reorganization_import(
        user=editor,
        content=edited(exported(), edit),
        filename="units.xlsx",
        title="From the board paper",
        reason="Board decision",
    )
    assert reorganization.status == ReorganizationStatus.DRAFT
    assert [
        (operation.kind, operation.payload)
        for operation in reorganization.operations.order_by("position")
    ] == [(change.kind, change.payload) for change in changes]
    assert reorganization.problems == []


def test_new_rows_are_established_and_missing_ones_abolished(
    scripted_history, editor
) -> None:
    rows = [
        ["name", "kind", "parent", "short_name"],
        ["Headquarters", "office", "", ""],
        ["Department B", "department", "Headquarters", ""],
        ["Unit Ex", "unit", "Department B", ""],
        ["Data Office", "office", "Department B", "DO"],
        ["Data Desk", "unit", "Data Office", ""],
    ]
    changes = import_difference(csv_bytes(rows), "units.csv")
    assert [(change.kind, change.payload) for change in changes] == [
        (
            OperationKind.ESTABLISH_UNIT,
            {
                "name": "Data Office",
                "kind": "office",
                "slug": "data-office",
                "parent": "department-b",
                "short_name": "DO",
            },
        ),
        (
            OperationKind.ESTABLISH_UNIT,
            {
                "name": "Data Desk",
                "kind": "unit",
                "slug": "data-desk",
                "parent": "data-office",
            },
        ),
        (OperationKind.ABOLISH_UNIT, {"unit": "unit-y"}),
    ]
    assert changes[2].row is None
    assert changes[2].summary == "Abolish “Unit Y” (not in the file)"
    draft = reorganization_import(
        user=editor,
        content=csv_bytes(rows),
        title="New data office",
        reason="Growth",
    )
    assert draft.problems == []


def test_the_difference_costs_the_same_queries_for_any_number_of_rows(
    scripted_history, editor, django_assert_num_queries
) -> None:
    small = exported()
    with django_assert_num_queries(4):
        import_difference(small)
    for number in range(30):
        services.unit_create(
            user=editor,
            reason="More",
            name=f"Desk {number}",
            kind=UnitKind.UNIT,
            parent=OrganizationalUnit.objects.get(slug="unit-y"),
        )
    larger = exported()
    with django_assert_num_queries(4):
        assert import_difference(larger) == []


def test_a_file_that_matches_drafts_nothing(scripted_history, editor) -> None:
    with pytest.raises(ValidationError, match="nothing to draft"):
        reorganization_import(
            user=editor, content=exported(), title="Nothing", reason="Check"
        )
    assert not Reorganization.objects.exists()


def test_a_row_marked_abolished_abolishes_its_unit(scripted_history) -> None:
    def edit(sheet: Any, rows: dict[str, int]) -> None:
        sheet.cell(rows["unit-y"], column("status"), "abolished")

    changes = import_difference(edited(exported(), edit))
    assert [(change.kind, change.payload) for change in changes] == [
        (OperationKind.ABOLISH_UNIT, {"unit": "unit-y"})
    ]


# --- Bad input, by row and column ----------------------------------------------------


def where(found: list[FileProblem]) -> list[tuple[int | None, str | None]]:
    return [(problem.row, problem.column) for problem in found]


HEADER = ["slug", "name", "kind", "parent"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "neither an Excel workbook (.xlsx) nor a CSV"),
        (b"PK\x03\x04broken zip", "neither an Excel workbook (.xlsx) nor a CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old Excel file (.xls)"),
        ("name,kind\n".encode("utf-16"), "neither an Excel workbook"),
        (b"", "The file is empty"),
    ],
)
def test_what_is_not_a_workbook_or_csv_is_refused(db, content, message) -> None:
    [problem] = problems(content, "upload.bin")
    assert message in problem.message
    assert (problem.row, problem.column) == (None, None)


def test_a_file_over_the_limit_is_refused(db, settings) -> None:
    settings.IMPORT_MAX_BYTES = 100
    [problem] = problems(csv_bytes([HEADER, ["x", "X" * 200, "unit", ""]]))
    assert problem.message == (
        "The file is larger than 100 bytes, the most an import takes"
    )


def test_unknown_and_missing_columns_are_named(db) -> None:
    found = problems(csv_bytes([["slug", "name", "colour"], ["a", "A", "red"]]))
    assert [(problem.row, problem.column, problem.field) for problem in found] == [
        (1, "C", "colour"),
        (1, None, "kind"),
        (1, None, "parent"),
    ]
    assert found[0].message.startswith("unknown column “colour”: the columns are")
    assert found[1].message == "the required column “kind” is missing"


def test_a_formula_in_a_workbook_is_refused_not_evaluated(scripted_history) -> None:
    content = workbook(
        [HEADER, ["hq", "Headquarters", "office", ""], ["b", "=1+1", "unit", "hq"]]
    )
    [problem] = problems(content)
    assert (problem.row, problem.column) == (3, "B")
    assert "formula" in problem.message


def test_a_formula_in_a_csv_is_refused(scripted_history) -> None:
    [problem] = problems(
        csv_bytes([HEADER, ["hq", "Headquarters", "=HYPERLINK(1)", ""]])
    )
    assert (problem.row, problem.column) == (2, "C")


def test_merged_cells_are_refused(scripted_history) -> None:
    content = workbook(
        [HEADER, ["hq", "Headquarters", "office", ""], ["b", "B", "unit", "hq"]],
        lambda sheet: sheet.merge_cells("B2:C2"),
    )
    [problem] = problems(content)
    assert (problem.row, problem.column) == (2, "B")
    assert "B2:C2 are merged" in problem.message


def test_several_header_rows_are_refused(scripted_history) -> None:
    found = problems(csv_bytes([HEADER, HEADER, ["hq", "Headquarters", "office", ""]]))
    assert where(found) == [(2, None)]
    assert "one header row" in found[0].message
    title_first = problems(
        csv_bytes([["Our structure"], HEADER, ["hq", "HQ", "office", ""]])
    )
    assert where(title_first) == [(1, None)]
    assert "row 2 looks like the header" in title_first[0].message


def test_an_ambiguous_match_is_refused(scripted_history, editor) -> None:
    hq = OrganizationalUnit.objects.get(slug="hq")
    for slug in ("twin-1", "twin-2"):
        services.unit_create(
            user=editor,
            reason="Twins",
            name="Twin",
            kind=UnitKind.UNIT,
            parent=hq,
            slug=slug,
        )
    found = problems(
        csv_bytes(
            [
                ["name", "kind", "parent"],
                ["Headquarters", "office", ""],
                ["Twin", "unit", "Headquarters"],
            ]
        )
    )
    assert where(found) == [(3, "A")]
    assert "matches several units" in found[0].message


def test_unknown_and_ambiguous_parents_are_refused(scripted_history) -> None:
    found = problems(
        csv_bytes(
            [
                ["name", "kind", "parent"],
                ["Headquarters", "office", ""],
                ["Twin", "unit", "Headquarters"],
                ["Twin", "unit", "Headquarters"],
                ["Desk", "unit", "Twin"],
                ["Lost", "unit", "Nowhere"],
            ]
        )
    )
    assert where(found) == [(5, "C"), (6, "C")]
    assert "ambiguous" in found[0].message
    assert "unknown parent “Nowhere”" in found[1].message


def test_bad_cells_are_named(scripted_history) -> None:
    found = problems(
        csv_bytes(
            [
                ["slug", "name", "kind", "parent", "reporting_line", "status"],
                ["hq", "Headquarters", "office", "", "", ""],
                ["hq", "Copy", "office", "", "", ""],
                ["bad slug", "", "castle", "hq", "sideways", "gone"],
                ["loop-a", "A", "unit", "loop-b", "", ""],
                ["loop-b", "B", "unit", "loop-a", "", ""],
            ]
        )
    )
    assert where(found) == [
        (4, "A"),
        (4, "B"),
        (4, "C"),
        (4, "E"),
        (4, "F"),
    ]
    found = problems(
        csv_bytes(
            [
                ["slug", "name", "kind", "parent"],
                ["hq", "Headquarters", "office", ""],
                ["hq", "Copy", "office", ""],
                ["loop-a", "A", "unit", "loop-b"],
                ["loop-b", "B", "unit", "loop-a"],
            ]
        )
    )
    assert where(found) == [(3, "A"), (4, "D"), (5, "D")]


def test_a_refused_file_drafts_nothing(scripted_history, editor) -> None:
    with pytest.raises(FileRefusal) as caught:
        reorganization_import(
            user=editor,
            content=csv_bytes([HEADER, ["hq", "Headquarters", "castle", ""]]),
            title="Bad",
            reason="Bad",
        )
    assert "Row 2, column C (kind)" in caught.value.messages[0]
    assert caught.value.problems == [
        {
            "row": 2,
            "column": "C",
            "field": "kind",
            "message": caught.value.file_problems[0].message,
        }
    ]
    assert not Reorganization.objects.exists()


def test_an_abolished_unit_marked_active_is_reinstated(scripted_history) -> None:
    def edit(sheet: Any, rows: dict[str, int]) -> None:
        sheet.cell(rows["department-a"], column("status"), "active")
        sheet.cell(rows["department-a"], column("location"), "Lisbon")

    changes = import_difference(edited(exported(), edit))
    assert [(change.kind, change.payload) for change in changes] == [
        (OperationKind.REINSTATE_UNIT, {"unit": "department-a"}),
        (
            OperationKind.CHANGE_UNIT,
            {"unit": "department-a", "fields": {"location": "Lisbon"}},
        ),
    ]


def test_an_error_value_in_a_cell_is_refused(scripted_history) -> None:
    content = workbook(
        [HEADER, ["hq", "Headquarters", "office", ""], ["b", "#REF!", "unit", "hq"]]
    )
    [problem] = problems(content)
    assert (problem.row, problem.column) == (3, "B")
    assert problem.message == "the cell holds the error #REF!"


def test_a_row_to_abolish_must_match_a_unit(scripted_history) -> None:
    found = problems(
        csv_bytes(
            [
                ["name", "kind", "parent", "status"],
                ["Headquarters", "office", "", ""],
                ["Ghost", "unit", "Headquarters", "abolished"],
            ]
        )
    )
    assert where(found) == [(3, "D")]
    assert "none to abolish" in found[0].message

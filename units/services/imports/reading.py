"""Reading an uploaded file of units into a table of text cells, or refusing it.

A workbook (.xlsx) is read with openpyxl, cells as the values stored in the file: a
formula is refused, never evaluated (nor is its cached result trusted). A CSV is read
as UTF-8 text. Either way, row 1 is the one header row, and every problem found is
named by row and column before anything is compared.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from units.services.imports.columns import REQUIRED_COLUMNS, UNIT_COLUMNS
from units.services.imports.problems import FileProblem, FileRefusal

UNITS_SHEET = "Units"
ZIP_MAGIC = b"PK\x03\x04"
# An old binary Excel file (.xls) or another OLE document.
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A workbook is a zip: its unpacked parts may be this many times the upload limit.
UNPACKED_RATIO = 20
# The characters that start a formula in a spreadsheet; the CSV export prefixes a text
# starting with one with "'" (``spreadsheet_safe``), which reading removes again.
FORMULA_START = "="
QUOTED_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(slots=True)
class Row:
    """One row of the file: its number (row 1 is the header) and its cells by column."""

    number: int
    cells: dict[str, str] = field(default_factory=dict)

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(slots=True)
class Table:
    """The file's columns (name to letter) and its non-blank rows."""

    columns: dict[str, str]
    rows: list[Row]

    def letter(self, column: str) -> str | None:
        return self.columns.get(column)

    def problem(self, row: Row | int | None, column: str, message: str) -> FileProblem:
        number = row.number if isinstance(row, Row) else row
        return FileProblem(number, self.letter(column), column, message)


def read_table(content: bytes, filename: str = "") -> Table:
    """The file's table; ``FileRefusal`` listing every problem found otherwise."""
    limit = settings.IMPORT_MAX_BYTES
    if len(content) > limit:
        # Callers read at most one byte more than the limit (``read_upload``).
        raise _refusal(
            f"The file is larger than {limit:,} bytes, the most an import takes"
        )
    if not content.strip():
        raise _refusal("The file is empty")
    if content.startswith(ZIP_MAGIC):
        grid, problems = _workbook_grid(content)
    elif content.startswith(OLE_MAGIC):
        raise _refusal(
            "This is an old Excel file (.xls) or another Office document: save it as "
            "an Excel workbook (.xlsx) or CSV"
        )
    else:
        grid, problems = _csv_grid(content, filename)
    table = _table(grid, problems)
    if problems:
        raise FileRefusal(problems)
    return table


def read_upload(upload: IO[bytes]) -> bytes:
    """An uploaded file's bytes, one beyond the limit at most: enough to refuse it."""
    return upload.read(settings.IMPORT_MAX_BYTES + 1)


def _refusal(message: str) -> FileRefusal:
    return FileRefusal([FileProblem(None, None, None, message)])


def _not_a_file(filename: str) -> FileRefusal:
    named = f"“{filename}” " if filename else "The file "
    return _refusal(
        f"{named}is neither an Excel workbook (.xlsx) nor a CSV file in UTF-8"
    )


# --- Workbooks ---------------------------------------------------------------------


def _workbook_grid(content: bytes) -> tuple[list[list[str]], list[FileProblem]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise _not_a_file("") from error
    if unpacked > settings.IMPORT_MAX_BYTES * UNPACKED_RATIO:
        raise _refusal(
            f"The workbook unpacks to {unpacked:,} bytes; an import takes at most "
            f"{settings.IMPORT_MAX_BYTES * UNPACKED_RATIO:,}"
        )
    try:
        # data_only=False: a formula arrives as its text, so it can be refused; its
        # cached result is never read and nothing is evaluated.
        book = load_workbook(io.BytesIO(content), data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise _not_a_file("") from error
    sheet = book[UNITS_SHEET] if UNITS_SHEET in book.sheetnames else book.worksheets[0]
    problems = _merged_cells(sheet)
    grid: list[list[str]] = []
    for row in sheet.iter_rows():
        values: list[str] = []
        for cell in row:
            letter = get_column_letter(cell.column or 1)
            if cell.data_type == "f":
                problems.append(
                    FileProblem(
                        cell.row,
                        letter,
                        None,
                        "the cell holds a formula; an import reads values only, "
                        "type the value instead",
                    )
                )
                values.append("")
            elif cell.data_type == "e":
                problems.append(
                    FileProblem(
                        cell.row, letter, None, f"the cell holds the error {cell.value}"
                    )
                )
                values.append("")
            else:
                values.append(_text(cell.value))
        grid.append(values)
    return grid, problems


def _merged_cells(sheet: Worksheet) -> list[FileProblem]:
    return [
        FileProblem(
            merged.min_row,
            get_column_letter(merged.min_col),
            None,
            f"the cells {merged.coord} are merged; give each cell its own value",
        )
        for merged in sorted(
            sheet.merged_cells.ranges, key=lambda found: (found.min_row, found.min_col)
        )
    ]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- CSV ---------------------------------------------------------------------------


def _csv_grid(
    content: bytes, filename: str
) -> tuple[list[list[str]], list[FileProblem]]:
    if b"\x00" in content:
        raise _not_a_file(filename)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _not_a_file(filename) from error
    problems: list[FileProblem] = []
    grid: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row_number, values in enumerate(reader, start=1):
            for index, value in enumerate(values, start=1):
                if value.startswith(FORMULA_START):
                    problems.append(
                        FileProblem(
                            row_number,
                            get_column_letter(index),
                            None,
                            "the cell starts with “=”, a formula; an import reads "
                            "values only (write '= for a text that starts with =)",
                        )
                    )
            grid.append([_csv_cell(value) for value in values])
    except csv.Error as error:
        raise _refusal(
            f"Row {reader.line_num}: the CSV cannot be read ({error})"
        ) from error
    return grid, problems


def _csv_cell(value: str) -> str:
    """A cell as the CSV export wrote it: "'=x" (``spreadsheet_safe``) is "=x"."""
    if value.startswith("'") and value[1:].startswith(QUOTED_TRIGGERS):
        return value[1:]
    return value


# --- The header and the rows ---------------------------------------------------------


def _table(grid: list[list[str]], problems: list[FileProblem]) -> Table:
    """Row 1 as the header, checked; the other non-blank rows by column name."""
    while grid and not any(value.strip() for value in grid[-1]):
        grid.pop()
    if not grid:
        raise _refusal("The file has no rows")
    names = [value.strip().lower() for value in grid[0]]
    known = set(UNIT_COLUMNS)
    if not known.intersection(names):
        later = next(
            (
                number
                for number, values in enumerate(grid[1:11], start=2)
                if _is_header(values)
            ),
            None,
        )
        where = (
            f"; row {later} looks like the header: remove the rows above it"
            if later
            else ""
        )
        raise FileRefusal(
            [
                FileProblem(
                    1,
                    None,
                    None,
                    "row 1 is not a header: the first row names the columns, among "
                    f"{', '.join(UNIT_COLUMNS)}{where}",
                )
            ]
        )
    columns: dict[str, str] = {}
    for index, name in enumerate(names, start=1):
        letter = get_column_letter(index)
        if not name:
            if any(
                index <= len(values) and values[index - 1].strip()
                for values in grid[1:]
            ):
                problems.append(
                    FileProblem(1, letter, None, "the column has values but no name")
                )
            continue
        if name not in known:
            problems.append(
                FileProblem(
                    1,
                    letter,
                    name,
                    f"unknown column “{name}”: the columns are "
                    f"{', '.join(UNIT_COLUMNS)}",
                )
            )
        elif name in columns:
            problems.append(
                FileProblem(
                    1,
                    letter,
                    name,
                    f"the column “{name}” appears twice (also column {columns[name]})",
                )
            )
        else:
            columns[name] = letter
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(
                FileProblem(1, None, name, f"the required column “{name}” is missing")
            )
    rows: list[Row] = []
    for number, values in enumerate(grid[1:], start=2):
        if not any(value.strip() for value in values):
            continue
        if _is_header(values):
            problems.append(
                FileProblem(
                    number,
                    None,
                    None,
                    "the row repeats the header; a file has one header row, row 1",
                )
            )
            continue
        cells = {}
        for name, letter in columns.items():
            index = column_index_from_string(letter) - 1
            cells[name] = values[index] if index < len(values) else ""
        rows.append(Row(number, cells))
    if not rows and not problems:
        problems.append(FileProblem(None, None, None, "the file has no unit rows"))
    return Table(columns, rows)


def _is_header(values: list[str]) -> bool:
    """A row whose every non-blank cell names a column, at least two of them."""
    names = [value.strip().lower() for value in values if value.strip()]
    return len(names) >= 2 and all(name in UNIT_COLUMNS for name in names)

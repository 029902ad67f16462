"""The registry as an Excel workbook (openpyxl): units, posts, dotted lines.

A first sheet says which registry, which ``as_of`` and (optionally) when it was
exported; then one sheet each for units, posts with their holders and dotted lines,
each with its header row frozen, filters on, columns sized and dates as dates.

The same ``as_of`` gives the same bytes when the export time is left out
(``exported_at=None``): the document's created and modified times are fixed, and the
zip entries carry one fixed time and a fixed order, so a package of exports can hash
it (issue 18's snapshots).
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from api.formats.exports import CSV_COLUMNS, translated_cells, unit_rows
from api.formats.state import RegistryAt, RegistryRecords
from units import selectors
from units.content_languages import (
    POST_TRANSLATED,
    RELATIONSHIP_TRANSLATED,
    translation_fields,
)

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNITS_SHEET = "Units"
# The French and Spanish texts come last, blank where missing, as in the Units sheet
# (``units.services.imports.columns``): columns are only ever added at the end.
POST_COLUMNS = (
    "unit",
    "slug",
    "title",
    "is_head",
    "filling_method",
    "term_years",
    "established_on",
    "abolished_on",
    "holder",
    "holder_since",
    *translation_fields(POST_TRANSLATED),
)
DOTTED_LINE_COLUMNS = (
    "source",
    "target",
    "kind",
    "description",
    "started_on",
    "ended_on",
    *translation_fields(RELATIONSHIP_TRANSLATED),
)
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# The zip format's earliest time: every entry carries it, so two builds agree.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
WIDEST_COLUMN = 60


def units_workbook(state: RegistryAt, origin: str) -> bytes:
    """The workbook of a snapshot package: no export time in it, so the same instant
    gives the same bytes (the package records when it was made)."""
    return workbook_bytes(
        state,
        registry_name=settings.REGISTRY_NAME,
        as_of=state.when,
        exported_at=None,
    )


def workbook_bytes(
    state: RegistryAt,
    *,
    registry_name: str,
    as_of: datetime.datetime | None,
    exported_at: datetime.datetime | None,
) -> bytes:
    """The snapshot as an .xlsx file; ``exported_at=None`` leaves the export time out
    (then the bytes depend on the snapshot alone)."""
    data = state.records
    book = Workbook()
    # A new workbook's one sheet becomes the About sheet.
    about = book.worksheets[0]
    about.title = "About"
    _about(about, data, len(state.relationships), registry_name, as_of, exported_at)
    _table(book.create_sheet(UNITS_SHEET), CSV_COLUMNS, unit_rows(data.units))
    _table(book.create_sheet("Posts"), POST_COLUMNS, _post_rows(data))
    _table(
        book.create_sheet("Dotted lines"),
        DOTTED_LINE_COLUMNS,
        _line_rows(data, state.relationships),
    )
    # Fixed document times: the export time when asked, else the snapshot's day.
    stamp = (
        exported_at.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)
        if exported_at
        else datetime.datetime.combine(data.day, datetime.time())
    )
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = registry_name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return _with_fixed_entry_times(buffer.getvalue())


def _about(
    sheet: Worksheet,
    data: RegistryRecords,
    dotted_lines: int,
    registry_name: str,
    as_of: datetime.datetime | None,
    exported_at: datetime.datetime | None,
) -> None:
    rows: list[tuple[str, Any]] = [
        ("Registry", registry_name),
        # As text: an as_of date means its last microsecond, which Excel would round
        # to the next day.
        (
            "As of",
            as_of.astimezone(datetime.UTC).isoformat()
            if as_of
            else f"now ({data.day.isoformat()})",
        ),
        *(
            []
            if (known_at := selectors.current_known_at()) is None
            else [("As recorded on", known_at.astimezone(datetime.UTC).isoformat())]
        ),
        ("Units", len(data.units)),
        ("Posts", len(data.posts)),
        ("Dotted lines", dotted_lines),
    ]
    if exported_at is not None:
        rows.append(("Exported at (UTC)", _naive_utc(exported_at)))
    for label, value in rows:
        sheet.append([label, value])
    for row in sheet.iter_rows(min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, datetime.datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, str):
                cell.data_type = "s"
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 40


def _naive_utc(when: datetime.datetime) -> datetime.datetime:
    """Excel has no time zones: the instant in UTC, as the label says."""
    return when.astimezone(datetime.UTC).replace(tzinfo=None)


def _table(
    sheet: Worksheet, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """A header row (frozen, with filters) and the rows; text stays text, dates dates."""
    sheet.append(list(columns))
    widths = [len(name) for name in columns]
    for values in rows:
        sheet.append([None if value == "" else value for value in values])
        for index, value in enumerate(values):
            widths[index] = max(widths[index], _shown_length(value))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime.date):
                cell.number_format = DATE_FORMAT
            elif isinstance(cell.value, str):
                # openpyxl takes a text starting with "=" for a formula: it is text.
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{max(sheet.max_row, 1)}"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = (
            min(width, WIDEST_COLUMN) + 2
        )


def _shown_length(value: object) -> int:
    if isinstance(value, datetime.date):
        return 10
    text = str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def _post_rows(data: RegistryRecords) -> list[list[Any]]:
    slugs = data.unit_slugs
    people = {row["id"]: row for row in data.people}
    holders = data.holders()
    order = {unit.id: index for index, unit in enumerate(data.units)}
    rows = []
    for post in sorted(
        data.posts,
        key=lambda row: (order[row["unit_id"]], not row["is_head"], row["id"]),
    ):
        holder = holders.get(post["id"])
        person = people.get(holder["person_id"]) if holder else None
        rows.append(
            [
                slugs[post["unit_id"]],
                post["slug"],
                post["title"],
                "yes" if post["is_head"] else "no",
                post["filling_method"],
                post["term_years"] if post["term_years"] is not None else "",
                post["established_on"] or "",
                post["abolished_on"] or "",
                person["full_name"] if person else "",
                holder["started_on"] if holder and person else "",
                *translated_cells(post, POST_TRANSLATED),
            ]
        )
    return rows


def _line_rows(
    data: RegistryRecords, relationships: list[dict[str, Any]]
) -> list[list[Any]]:
    slugs = data.unit_slugs
    return [
        [
            slugs[line["source_id"]],
            slugs[line["target_id"]],
            line["kind"],
            line["description"],
            line["started_on"] or "",
            line["ended_on"] or "",
            *translated_cells(line, RELATIONSHIP_TRANSLATED),
        ]
        for line in relationships
    ]


def _with_fixed_entry_times(archive_bytes: bytes) -> bytes:
    """The same archive with every entry at one fixed time (openpyxl stamps each with
    the clock, and writes the sheets from temporary files with their own times)."""
    source = zipfile.ZipFile(io.BytesIO(archive_bytes))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, source.read(entry.filename))
    return buffer.getvalue()

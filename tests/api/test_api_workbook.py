"""The Excel export: its sheets, formats, as_of, and the same bytes for the same as_of."""

from __future__ import annotations

import datetime
import io
import zipfile
from http import HTTPStatus

from openpyxl import load_workbook
from rest_framework.test import APIClient

from api.formats.exports import CSV_COLUMNS
from api.formats.state import RegistryAt
from api.formats.workbook import CONTENT_TYPE, ZIP_TIME, workbook_bytes
from tests.conftest import at
from units import services
from units.models import OrganizationalUnit, RelationshipKind

API = "/api/v1/"


def _sheet_rows(content: bytes, title: str) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(content))
    return list(book[title].iter_rows(values_only=True))


def _about(content: bytes) -> dict[object, object]:
    return {row[0]: row[1] for row in _sheet_rows(content, "About")}


def test_the_workbook_has_about_units_posts_and_dotted_lines(
    scripted_history, editor
) -> None:
    services.relationship_create(
        source=OrganizationalUnit.objects.get(slug="unit-x"),
        target=OrganizationalUnit.objects.get(slug="unit-y"),
        kind=RelationshipKind.SUPPORTS,
        description="=shared desk",
        user=editor,
        reason="Dotted line",
    )
    response = APIClient().get(f"{API}export/units.xlsx")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == CONTENT_TYPE
    assert "units.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["About", "Units", "Posts", "Dotted lines"]
    about = _about(response.content)
    assert about["Registry"] == "Organization registry"
    assert isinstance(about["Exported at (UTC)"], datetime.datetime)
    units = book["Units"]
    rows = list(units.iter_rows(values_only=True))
    assert rows[0] == CSV_COLUMNS
    assert [(row[0], row[4], row[7]) for row in rows[1:]] == [
        ("hq", None, "active"),
        ("department-a", "hq", "abolished"),
        ("department-b", "hq", "active"),
        ("unit-x", "department-b", "active"),
        ("unit-y", "department-b", "active"),
    ]
    unit_x = rows[4]
    assert unit_x[CSV_COLUMNS.index("head_holder")] == "Ben Okoro"
    # Dates as dates, shown as dates.
    established = units.cell(row=5, column=CSV_COLUMNS.index("established_on") + 1)
    assert isinstance(established.value, datetime.datetime)
    assert established.number_format == "yyyy-mm-dd"
    for sheet in ("Units", "Posts", "Dotted lines"):
        assert book[sheet].freeze_panes == "A2"
        assert book[sheet].auto_filter.ref.startswith("A1:")
    assert units.column_dimensions["B"].width > len("name") + 2
    posts = list(book["Posts"].iter_rows(values_only=True))
    assert ("unit-x", "head-of-x", "Head of X", "yes") == posts[1][:4]
    assert posts[1][8] == "Ben Okoro"
    lines = list(book["Dotted lines"].iter_rows(values_only=True))
    # A text starting with "=" stays text: no formula in the file.
    assert lines[1][:4] == ("unit-x", "unit-y", "supports", "=shared desk")
    assert book["Dotted lines"].cell(row=2, column=4).data_type == "s"


def test_the_workbook_as_of_a_past_date(scripted_history) -> None:
    past = APIClient().get(f"{API}export/units.xlsx", {"as_of": "2021-01-01"})
    assert past.status_code == HTTPStatus.OK
    about = _about(past.content)
    assert about["As of"] == "2021-01-01T23:59:59.999999+00:00"
    rows = _sheet_rows(past.content, "Units")
    unit_x = next(row for row in rows if row[0] == "unit-x")
    assert (unit_x[1], unit_x[4], unit_x[13]) == ("Unit X", "department-a", "Ana Lima")


def test_a_malformed_as_of_is_a_400(db) -> None:
    response = APIClient().get(f"{API}export/units.xlsx", {"as_of": "2021-02-30"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "as_of" in response.json()["detail"]


def test_the_same_as_of_gives_the_same_bytes_without_the_export_time(
    scripted_history, editor
) -> None:
    when = at("2021-06-01")

    def build(exported_at: datetime.datetime | None = None) -> bytes:
        return workbook_bytes(
            RegistryAt(when), registry_name="R", as_of=when, exported_at=exported_at
        )

    first = build()
    entries = zipfile.ZipFile(io.BytesIO(first)).infolist()
    assert {entry.date_time for entry in entries} == {ZIP_TIME}
    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml").decode()
    assert "2021-06-01T00:00:00Z" in core
    assert build() == first
    about = _about(first)
    assert "Exported at (UTC)" not in about
    stamped = build(datetime.datetime(2026, 5, 4, 3, 2, 1, tzinfo=datetime.UTC))
    assert stamped != first
    assert _about(stamped)["Exported at (UTC)"] == (
        datetime.datetime(2026, 5, 4, 3, 2, 1)
    )
    # A later change of the registry does not change a past instant's bytes.
    services.unit_update(
        unit=OrganizationalUnit.objects.get(slug="unit-y"),
        name="Unit Y renamed",
        user=editor,
        reason="Rename",
    )
    assert build() == first

"""The columns of a spreadsheet of units: the units' export (CSV and the workbook's
Units sheet) writes them, an import reads them back."""

from __future__ import annotations

UNIT_COLUMNS = (
    "slug",
    "name",
    "short_name",
    "kind",
    "parent",
    "reporting_line",
    "level",
    "status",
    "established_on",
    "abolished_on",
    "location",
    "mandate",
    "head_post",
    "head_holder",
)
# Without these a file cannot say what the structure is.
REQUIRED_COLUMNS = ("name", "kind", "parent")
# The unit's own fields an import compares, when the file has their column.
COMPARED_FIELDS = ("name", "short_name", "kind", "location", "mandate")
# What the export writes for the reader and an import leaves alone: the registry
# derives them (level, dates) or keeps them elsewhere (posts and holders).
INFORMATIONAL_COLUMNS = frozenset(
    {"level", "established_on", "abolished_on", "head_post", "head_holder"}
)
STATUSES = ("active", "abolished")

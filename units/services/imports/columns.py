"""The columns of a spreadsheet of units: the units' export (CSV and the workbook's
Units sheet) writes them, an import reads them back.

The order is part of the format: columns are only ever added at the end, so a reader
that counts columns keeps working. The French and Spanish texts (``name_fr``,
``name_es``, ...; ``units.content_languages``) come after the English columns, in
the order of ``TRANSLATED_COLUMNS``, blank where not translated.
"""

from __future__ import annotations

from units.content_languages import translation_fields

# The texts with a French and a Spanish column: the unit's own, then its head post's
# title (``head_post``).
TRANSLATED_UNIT_COLUMNS = ("name", "short_name", "location", "mandate")
TRANSLATED_COLUMNS = (*TRANSLATED_UNIT_COLUMNS, "head_post")

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
    *translation_fields(TRANSLATED_COLUMNS),
)
# Without these a file cannot say what the structure is.
REQUIRED_COLUMNS = ("name", "kind", "parent")
# The unit's own fields an import compares, when the file has their column.
COMPARED_FIELDS = (
    "name",
    "short_name",
    "kind",
    "location",
    "mandate",
    *translation_fields(TRANSLATED_UNIT_COLUMNS),
)
# What the export writes for the reader and an import leaves alone: the registry
# derives them (level, dates) or keeps them elsewhere (posts and holders).
INFORMATIONAL_COLUMNS = frozenset(
    {
        "level",
        "established_on",
        "abolished_on",
        "head_post",
        "head_holder",
        *translation_fields(("head_post",)),
    }
)
STATUSES = ("active", "abolished")

"""A spreadsheet of units (a workbook or CSV) read as a draft reorganization.

The file is the structure as its author wants it: the units' export read back is the
template. It is read (``reading``: cells as values, never evaluated; every problem
named by row and column), compared with the registry (``differences``: rows matched
by slug, or by name and parent), and the difference becomes a draft reorganization of
establish, change, move, abolish and reinstate operations (``drafting``), which goes
through the reorganizations' review like any other. Nothing is drafted from a file
with a problem.

- ``columns``: the columns a file may hold, which are required, what each means
- ``problems``: a problem of a file, by row and column; the refusal that lists them
- ``reading``: bytes to a table of text cells (workbook or CSV)
- ``differences``: a table against the registry, as operations
- ``drafting``: the difference as a draft reorganization
"""

from units.services.imports.columns import REQUIRED_COLUMNS, UNIT_COLUMNS
from units.services.imports.differences import Change, difference
from units.services.imports.drafting import import_difference, reorganization_import
from units.services.imports.problems import FileProblem, FileRefusal
from units.services.imports.reading import Table, read_table, read_upload

__all__ = [
    "REQUIRED_COLUMNS",
    "UNIT_COLUMNS",
    "Change",
    "FileProblem",
    "FileRefusal",
    "Table",
    "difference",
    "import_difference",
    "read_table",
    "read_upload",
    "reorganization_import",
]

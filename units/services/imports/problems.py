"""A problem of an imported file, named by row and column, and the refusal listing them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError

from units.services.refusals import Refusal


@dataclass(frozen=True, slots=True)
class FileProblem:
    """Row 1 is the header; ``column`` is the spreadsheet's letter (A, B, ...) and
    ``field`` its header; either may be None when the problem is the whole file's."""

    row: int | None
    column: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"Row {self.row}")
        if self.column is not None:
            named = f" ({self.field})" if self.field else ""
            where.append(f"column {self.column}{named}")
        place = ", ".join(where)
        return f"{place}: {self.message}" if place else self.message


class FileRefusal(ValidationError):
    """The file cannot be read or compared: each problem by row and column.

    A ``ValidationError`` with the code ``invalid`` (a 400), whose ``problems`` the
    API's error answer lists, as it lists a reorganization's problems.
    """

    def __init__(self, problems: list[FileProblem]) -> None:
        self.file_problems = problems
        count = len(problems)
        super().__init__(
            f"The file has {count} problem{'s' if count != 1 else ''}; nothing was "
            "drafted. " + "; ".join(str(problem) for problem in problems[:20]),
            code=Refusal.INVALID,
        )
        self.problems = [asdict(problem) for problem in problems]

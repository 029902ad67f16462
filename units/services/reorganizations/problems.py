"""What stands in a reorganization's way: each problem names its operation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from units.models import ReorganizationStatus

Status = ReorganizationStatus
# A problem found in a reorganization: the operation's index (None: the whole) and why.
Problem = dict[str, Any]


class ReorganizationRefusal(ValidationError):
    """A refusal that lists each operation's problem, so each shows beside its operation."""

    def __init__(self, message: str, problems: list[Problem], *, code: str) -> None:
        details = "; ".join(_problem_text(problem) for problem in problems)
        super().__init__(f"{message} {details}".strip(), code=code)
        self.problems = problems


def _problem_text(problem: Problem) -> str:
    index = problem.get("operation")
    prefix = "" if index is None else f"Operation {index + 1}: "
    return prefix + str(problem["message"])

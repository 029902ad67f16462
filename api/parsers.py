"""The API's JSON parser, refusing documents nested deeper than any request needs.

Python's JSON decoder recurses once per level: a body of a hundred thousand ``[`` fits
well inside the upload limit and raised ``RecursionError``, a 500. Every request body
the API takes is a flat object, so a limit far above that costs no client anything and
keeps every later step (validation, error messages) shallow too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with too-deep nesting a 400 that says so."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise _too_deep() from error
        if _depth_exceeds(data, MAX_DEPTH):
            raise _too_deep()
        return data


def _too_deep() -> ParseError:
    return ParseError(
        f"JSON parse error - the document is nested too deeply: the API accepts at "
        f"most {MAX_DEPTH} levels of arrays and objects."
    )


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether lists and dicts nest deeper than ``limit``; iterative, so never deep."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False

"""The chart's texts in its language, with the English fallbacks they hold marked.

A French chart writes the French name of a unit where it has one and the English
name where it has none yet; screen readers (and a search in the PDF) must know which
words are English, so every text the chart draws carries the ranges of its English
fallbacks, and the SVG marks them ``lang="en"``. Wrapped into lines, a fallback keeps
its marking on whichever lines it lands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from units.selectors.languages import content_language, localized

_WORD = re.compile(r"\S+")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")

# A line of a wrapped text: pieces of it, each (start, end, broken with a hyphen).
Piece = tuple[int, int, bool]


@dataclass(frozen=True, slots=True)
class Marked:
    """A text and the character ranges in it that are English fallbacks."""

    text: str
    english: tuple[tuple[int, int], ...] = ()

    def __str__(self) -> str:
        return self.text

    def __len__(self) -> int:
        return len(self.text)

    def is_english(self, index: int) -> bool:
        return any(start <= index < end for start, end in self.english)

    @property
    def all_english(self) -> bool:
        return bool(self.text) and all(
            self.is_english(index) for index in range(len(self.text))
        )


def text_in(source: Any, name: str, language: str | None = None) -> Marked:
    """``source``'s ``name`` in the chart's ``language`` (``localized``), marked
    as English where it fell back to English."""
    wanted = content_language(language)
    text, found = localized(source, name, wanted)
    return Marked(text, ((0, len(text)),) if found != wanted and text else ())


def as_marked(text: str | Marked) -> Marked:
    return text if isinstance(text, Marked) else Marked(text)


def fill(template: str, **values: str | Marked) -> Marked:
    """``template % values`` (``%(name)s`` placeholders, as gettext's strings have),
    keeping where each value's English fallbacks fall in the result."""
    parts: list[str] = []
    english: list[tuple[int, int]] = []
    length = 0
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(template[position : match.start()])
        length += match.start() - position
        position = match.end()
        if match.group(0) == "%%":
            parts.append("%")
            length += 1
            continue
        value = as_marked(values[match.group(1)])
        english.extend((length + start, length + end) for start, end in value.english)
        parts.append(value.text)
        length += len(value.text)
    parts.append(template[position:])
    return Marked("".join(parts), tuple(english))


def wrapped_pieces(text: str, width: int) -> list[list[Piece]]:
    """Greedy word wrap to lines of at most ``width`` characters, losing nothing,
    as the pieces of ``text`` each line holds (joined by one space).

    A word longer than a line is broken with a hyphen.
    """
    lines: list[list[Piece]] = []
    current: list[Piece] = []
    current_length = 0
    for word in _WORD.finditer(text):
        start, end = word.span()
        while end - start > width:
            if current:
                lines.append(current)
                current, current_length = [], 0
            lines.append([(start, start + width - 1, True)])
            start += width - 1
        size = end - start
        if not current or current_length + 1 + size <= width:
            current_length += size + (1 if current else 0)
            current.append((start, end, False))
        else:
            lines.append(current)
            current, current_length = [(start, end, False)], size
    if current:
        lines.append(current)
    return lines


def line_text(text: str, pieces: list[Piece]) -> str:
    return " ".join(
        text[start:end] + ("-" if hyphen else "") for start, end, hyphen in pieces
    )


def marked_markup(marked: Marked, pieces: list[Piece] | None = None) -> str:
    """The (escaped) SVG text content of ``pieces`` of ``marked`` (default: all of
    it), each English run in a ``<tspan lang="en">``."""
    text = marked.text
    if pieces is None:
        pieces = [(0, len(text), False)]
    runs: list[tuple[str, bool]] = []

    def add(characters: str, english: bool) -> None:
        if runs and runs[-1][1] == english:
            runs[-1] = (runs[-1][0] + characters, english)
        else:
            runs.append((characters, english))

    previous_end = None
    for start, end, hyphen in pieces:
        if previous_end is not None:
            # The space between two pieces is English only inside an English run.
            add(" ", marked.is_english(previous_end - 1) and marked.is_english(start))
        previous_end = end
        for index in range(start, end):
            add(text[index], marked.is_english(index))
        if hyphen:
            add("-", marked.is_english(end - 1))
    return "".join(
        f'<tspan lang="en">{escape(characters)}</tspan>'
        if english
        else escape(characters)
        for characters, english in runs
    )

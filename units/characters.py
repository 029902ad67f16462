"""Which characters a stored text may hold, and how older text is made safe for XML.

XML 1.0 (the Atom feed, the chart's SVG and so its PNG and PDF renders) cannot carry
control characters other than tab, line feed and carriage return, nor lone surrogates or
U+FFFE and U+FFFF: one such character in a unit's name made the feed and the chart fail
for everyone. The services refuse them in every text they store (``forbidden_character``,
with line breaks allowed only in multi-line fields); rows stored before that rule, or
restored from elsewhere, are rendered with each one replaced (``xml_safe``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import models

# Every control character (Unicode category Cc: C0, DEL and C1) but tab, line feed and
# carriage return; lone surrogates (JSON can spell them, no database stores them) and the
# two noncharacters XML excludes.
_MULTI_LINE_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
)
# The same, and line breaks too: a name, title or slug is one line.
_ONE_LINE_FORBIDDEN = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]"
)
# What a renderer replaces: the forbidden characters of a multi-line text.
REPLACEMENT_CHARACTER = "\ufffd"


def forbidden_character(text: str, *, multi_line: bool) -> str | None:
    """The first character ``text`` may not hold, or None if it may be stored."""
    pattern = _MULTI_LINE_FORBIDDEN if multi_line else _ONE_LINE_FORBIDDEN
    found = pattern.search(text)
    return found.group() if found else None


def describe_character(character: str) -> str:
    """A character a person can identify in a message: its kind and code point."""
    code_point = f"U+{ord(character):04X}"
    if character in "\n\r":
        return f"a line break ({code_point})"
    if unicodedata.category(character) == "Cc":
        return f"a control character ({code_point})"
    return f"the character {code_point}, which is not text"


def text_problem(label: str, text: str, *, multi_line: bool) -> str | None:
    """Why ``text`` cannot be stored in the field called ``label``, or None.

    ``multi_line``: whether the field may hold line breaks (a ``TextField``).
    """
    character = forbidden_character(text, multi_line=multi_line)
    if character is None:
        return None
    position = text.index(character) + 1
    rule = (
        "Only tabs and line breaks may be stored besides text."
        if multi_line
        else "It must be one line; only tabs may be stored besides text."
    )
    return (
        f"The {label} holds {describe_character(character)} at position {position}: "
        f"remove it. {rule}"
    )


def field_text_problem(field: models.Field[Any, Any], value: object) -> str | None:
    """Why ``value`` cannot be stored in the model ``field``, or None.

    Text fields only; a ``TextField`` is multi-line, every other text field one line.
    """
    if not isinstance(field, models.CharField | models.TextField) or not isinstance(
        value, str
    ):
        return None
    return text_problem(
        str(field.verbose_name),
        value,
        multi_line=isinstance(field, models.TextField),
    )


def is_blank(text: str) -> bool:
    """Whether ``text`` shows nothing: only whitespace and format characters (U+200B…).

    Format characters (Unicode category Cf: zero-width spaces, joiners, the byte-order
    mark, direction marks) are invisible, so a reason made of them says nothing.
    """
    return all(
        character.isspace() or unicodedata.category(character) == "Cf"
        for character in text
    )


def xml_safe(text: str) -> str:
    """``text`` with every character XML cannot carry replaced by U+FFFD.

    For rendering text stored before the services refused such characters: the
    replacement shows where one was, and the document stays well-formed.
    """
    return _MULTI_LINE_FORBIDDEN.sub(REPLACEMENT_CHARACTER, text)

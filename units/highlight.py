"""Search words marked in a text: shared by the ``highlight`` filter and the
localized texts of the search page, which mark the matches of a translated name."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _search_pattern(query: str) -> re.Pattern[str] | None:
    words = sorted({word for word in query.split() if word}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)


def highlighted(text: str, query: str) -> SafeString:
    """Escape ``text`` and wrap each occurrence of a word of ``query`` in <mark>."""
    text = str(text or "")
    pattern = _search_pattern(str(query or ""))
    if pattern is None:
        return escape(text)
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(f"<mark>{escape(match.group())}</mark>")
        position = match.end()
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))  # noqa: S308 -- pieces are escaped above

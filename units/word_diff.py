"""Two texts shown as one with the edits marked: shared by the admin's history of a
unit and the public pages (a unit's history, the compare page), so an edited mandate
reads the same wherever it is shown."""

from __future__ import annotations

import difflib
import re

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Words, runs of spaces and punctuation apart, so "registry." vs "registry and" keeps
# the shared word.
DIFF_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")


def word_diff(old: str | None, new: str | None) -> SafeString:
    """Mark words removed (<del>) and added (<ins>) between two texts.

    Spaces are kept even where only they changed: dropping a changed run of spaces
    would run the words on either side of it together.
    """
    old_tokens = DIFF_TOKEN.findall(old or "")
    new_tokens = DIFF_TOKEN.findall(new or "")
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    parts: list[str] = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        removed = "".join(old_tokens[old_start:old_end])
        added = "".join(new_tokens[new_start:new_end])
        if tag == "equal":
            parts.append(escape(removed))
            continue
        if removed:
            parts.append(format_html("<del>{}</del>", removed))
        if added:
            parts.append(format_html("<ins>{}</ins>", added))
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped above

"""A revision's changes as the history pages show them, long texts as a word diff."""

from __future__ import annotations

import datetime
import difflib
import re
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from units import selectors
from units.content_languages import UNIT_TRANSLATED

# Texts whose old and new values are shown as one text with the edits marked, in
# every language they are kept in (``name``, ``name_fr``, ``name_es``).
TEXT_DIFF_TEXTS = frozenset(UNIT_TRANSLATED)
# Words, runs of spaces and punctuation apart, so "registry." vs "registry and" keeps
# the shared word.
DIFF_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")


def inline_word_diff(old: str, new: str) -> SafeString:
    """Mark words removed (<del>) and added (<ins>) between two texts."""
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


@dataclass
class DisplayedChange:
    """One field's change as the history pages show it."""

    label: str
    old: str
    new: str
    diff: SafeString | None
    # A correction of the past changed this value: when, and what it was before.
    corrected_on: datetime.datetime | None = None
    was: str = ""
    # The language of a text's values ("fr" for ``name_fr``), for their ``lang``;
    # empty for a field that is not a text kept in several languages.
    language: str = ""


def displayed_changes(revision: selectors.UnitRevision) -> list[DisplayedChange]:
    creation = revision.history_type == "+"
    return [
        DisplayedChange(
            label=change.label,
            old=change.old_display,
            new=change.new_display,
            diff=(
                inline_word_diff(change.old or "", change.new or "")
                if change.text in TEXT_DIFF_TEXTS and not creation
                else None
            ),
            corrected_on=change.corrected_on,
            was=change.was_display,
            language=change.language,
        )
        for change in revision.changes
    ]

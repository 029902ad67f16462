"""A revision's changes as the history pages show them, long texts as a word diff."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.safestring import SafeString

from units import selectors
from units.content_languages import UNIT_TRANSLATED
from units.word_diff import word_diff

# Texts whose old and new values are shown as one text with the edits marked, in
# every language they are kept in (``name``, ``name_fr``, ``name_es``).
TEXT_DIFF_TEXTS = frozenset(UNIT_TRANSLATED)


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
                word_diff(change.old, change.new)
                if change.text in TEXT_DIFF_TEXTS and not creation
                else None
            ),
            corrected_on=change.corrected_on,
            was=change.was_display,
            language=change.language,
        )
        for change in revision.changes
    ]

"""The cursor of a place in the change feed, for the API's feed and the compare page.

A cursor is the base64 JSON of a feed position (``ChangeKey``) and the way to read from
it, signed so that a cursor changed by hand, cut short or made up is refused instead of
reading from a place no page ended at. Both readers of the feed issue and accept the
same cursors.
"""

from __future__ import annotations

import datetime

from django.core import signing

from units.selectors import FEED_SOURCES, ChangeKey

# The API issued cursors under this salt before the compare page shared them: keep it,
# or every cursor already handed out stops working.
CURSOR_SALT = "api.changes.cursor"
CURSOR_DIRECTIONS = ("after", "before")
# History ids are 64-bit; a larger number cannot name a revision.
LARGEST_ID = 2**63 - 1


class InvalidChangeCursor(ValueError):
    """A cursor the registry did not issue: changed, cut short or made up."""

    def __init__(self, text: str) -> None:
        super().__init__("Not a cursor of the change feed.")
        self.text = text


def change_cursor(direction: str, key: ChangeKey) -> str:
    """The opaque cursor to read on ``after`` a position or back ``before`` it."""
    position = [
        direction,
        key.effective_at.isoformat(),
        key.history_id,
        key.source,
        key.ordinal,
    ]
    return signing.Signer(salt=CURSOR_SALT).sign_object(position)


def read_change_cursor(text: str) -> tuple[str, ChangeKey]:
    """The direction and position of a cursor; ``InvalidChangeCursor`` unless issued."""
    try:
        position = signing.Signer(salt=CURSOR_SALT).unsign_object(text)
    except (signing.BadSignature, ValueError):
        raise InvalidChangeCursor(text) from None
    # Signed here, so well formed unless its format has changed since.
    try:
        direction, instant, history_id, source, ordinal = position
        effective_at = datetime.datetime.fromisoformat(instant)
    except (TypeError, ValueError):
        raise InvalidChangeCursor(text) from None
    numbers = (history_id, source, ordinal)
    if (
        direction not in CURSOR_DIRECTIONS
        or effective_at.tzinfo is None
        or not all(type(number) is int for number in numbers)
        or not 0 <= history_id <= LARGEST_ID
        or source not in range(len(FEED_SOURCES))
        or not 0 <= ordinal <= LARGEST_ID
    ):
        raise InvalidChangeCursor(text)
    return direction, ChangeKey(effective_at, history_id, source, ordinal)

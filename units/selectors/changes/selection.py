"""Which changes a reading of the feed keeps: the ``type`` and ``unit`` filters.

A filter decides, table by table, whether the table is read at all and which of its
history rows are, so a filtered page is read by index as an unfiltered one is.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from units.models import OrganizationalUnit, Post, RecordedModel
from units.selectors.changes.entries import OBJECT_TYPES

# What ``type`` may name: the kinds of object the feed follows, and the changes a
# reorganization's application recorded.
REORGANIZATION_TYPE = "reorganization"
FEED_TYPES = (*OBJECT_TYPES.values(), REORGANIZATION_TYPE)
# A history table's model (named before ``FeedFilter.type`` shadows ``type``).
FeedModel = type[RecordedModel]


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """Which changes to keep; the default keeps every one.

    ``type``: only changes of that kind of object, or (``reorganization``) only those
    a reorganization recorded. ``unit_id``: only the changes of that unit, and with
    ``unit_posts`` (or ``type`` ``post``) those of the posts that belonged to it at
    the revision.
    """

    type: str = ""
    unit_id: int | None = None
    unit_posts: bool = False

    def __post_init__(self) -> None:
        if self.type and self.type not in FEED_TYPES:
            raise ValueError(f"Not a type of the change feed: {self.type!r}.")

    @property
    def is_filtered(self) -> bool:
        return bool(self.type) or self.unit_id is not None

    @property
    def keeps_failed_reorganizations(self) -> bool:
        """Failed reorganizations recorded no change of any object or unit."""
        return self.type in ("", REORGANIZATION_TYPE) and self.unit_id is None

    def rows(self, model: FeedModel) -> Q | None:
        """The condition on ``model``'s history rows; None: none is kept (unread)."""
        if self.type not in ("", REORGANIZATION_TYPE, OBJECT_TYPES[model]):
            return None
        condition = Q()
        if self.type == REORGANIZATION_TYPE:
            condition &= Q(reorganization__isnull=False)
        if self.unit_id is not None:
            if model is OrganizationalUnit:
                condition &= Q(id=self.unit_id)
            elif model is Post and (self.unit_posts or self.type == "post"):
                condition &= Q(unit_id=self.unit_id)
            else:
                return None
        return condition


EVERY_CHANGE = FeedFilter()

"""Which changes a reading of the feed keeps: the ``type`` and ``unit`` filters.

A filter decides, table by table, whether the table is read at all and which of its
history rows are, so a filtered page is read by index as an unfiltered one is.
"""

from __future__ import annotations

import datetime
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
    the revision. ``recorded_since`` / ``recorded_until``: only what the registry
    learned in that window of recorded time (``recorded_at`` in it), whatever the
    effective time, read as known at ``recorded_until``; then a row that merely
    carries a correction forward records nothing new and is left out.
    """

    type: str = ""
    unit_id: int | None = None
    unit_posts: bool = False
    recorded_since: datetime.datetime | None = None
    recorded_until: datetime.datetime | None = None

    def __post_init__(self) -> None:
        if self.type and self.type not in FEED_TYPES:
            raise ValueError(f"Not a type of the change feed: {self.type!r}.")

    @property
    def is_filtered(self) -> bool:
        return bool(self.type) or self.unit_id is not None or self.by_recorded_time

    @property
    def by_recorded_time(self) -> bool:
        """Whether this reads what was learned in a window of recorded time."""
        return self.recorded_since is not None or self.recorded_until is not None

    @property
    def keeps_failed_reorganizations(self) -> bool:
        """Failed reorganizations recorded no change of any object or unit (nor
        anything learned in a window of recorded time)."""
        return (
            self.type in ("", REORGANIZATION_TYPE)
            and self.unit_id is None
            and not self.by_recorded_time
        )

    def rows(self, model: FeedModel) -> Q | None:
        """The condition on ``model``'s history rows; None: none is kept (unread)."""
        if self.type not in ("", REORGANIZATION_TYPE, OBJECT_TYPES[model]):
            return None
        condition = Q()
        if self.recorded_since is not None:
            condition &= Q(recorded_at__gt=self.recorded_since)
        if self.recorded_until is not None:
            condition &= Q(recorded_at__lte=self.recorded_until)
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

"""The plain results reads return: no model instances, no lazy queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Holder:
    person_id: int
    person_slug: str
    person_name: str
    started_on: datetime.date
    ended_on: datetime.date | None
    note: str = ""


@dataclass(slots=True)
class PostState:
    id: int
    slug: str
    title: str
    unit_id: int
    is_head: bool
    filling_method: str
    term_years: int | None
    term_note: str
    abolished_on: datetime.date | None
    title_fr: str = ""
    title_es: str = ""
    holder: Holder | None = None

    @property
    def is_vacant(self) -> bool:
        return self.holder is None


@dataclass(slots=True)
class UnitNode:
    """One unit in a tree, with its head post and children, as of some instant."""

    id: int
    slug: str
    name: str
    short_name: str
    kind: str
    mandate: str
    location: str
    learn_more_url: str
    parent_id: int | None
    reporting_line: str
    sibling_order: int
    established_on: datetime.date | None
    abolished_on: datetime.date | None
    # The French and Spanish texts (``units.content_languages``); blank: not yet
    # translated. Read them through ``units.selectors.languages.localized``.
    name_fr: str = ""
    name_es: str = ""
    short_name_fr: str = ""
    short_name_es: str = ""
    mandate_fr: str = ""
    mandate_es: str = ""
    location_fr: str = ""
    location_es: str = ""
    level: int = 0
    head: PostState | None = None
    children: list[UnitNode] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        return self.abolished_on is None

    def walk(self) -> Iterable[UnitNode]:
        """This node and all its descendants, depth first, in sibling order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


@dataclass(slots=True)
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any
    old_display: str
    new_display: str
    # Set when a correction changed this field's value at this revision: when the
    # registry learned it, and the value shown before ("corrected on ...: was ...").
    corrected_on: datetime.datetime | None = None
    was_display: str = ""
    # For a text kept in every content language (``units.content_languages``): which
    # text (``mandate`` for ``mandate_fr`` too) and the language of this field's
    # values, so pages diff each language alike and mark its ``lang``. Else empty.
    text: str = ""
    language: str = ""


@dataclass(slots=True)
class UnitRevision:
    history_id: int
    effective_at: datetime.datetime
    recorded_at: datetime.datetime
    author: str | None
    reason: str
    # "public" or "internal": who may read ``reason`` (see ``selectors.audience``).
    reason_visibility: str
    history_type: str
    changes: list[FieldChange]
    # A revert's revision: the history_id of the version it went back to.
    reverts_revision: int | None = None
    # A correction's revision: the history_id of the revision it supersedes, and
    # every field whose recorded value it changed (not only those in ``changes``).
    corrects_revision: int | None = None
    corrections: list[FieldChange] = field(default_factory=list)

    @property
    def corrected_on(self) -> datetime.datetime | None:
        """When a correction changed what this version records (None: never)."""
        return self.recorded_at if self.corrections else None

    @property
    def is_backdated(self) -> bool:
        return self.recorded_at - self.effective_at > datetime.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class RecordedRevision:
    """Which revision a write recorded: its id, when it took effect, when written."""

    history_id: int
    effective_at: datetime.datetime
    recorded_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class Correction:
    """What a correction changed of a revision: when the registry learned it, the
    revision it corrects, and the corrected fields' values before (by attribute)."""

    corrected_on: datetime.datetime
    corrects_revision: int
    previous: dict[str, Any]
    # The same values as a reader sees them (names, labels, dates), by attribute.
    previous_display: dict[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.previous)


@dataclass(slots=True)
class Change:
    """One entry of the change feed between two instants."""

    # added, abolished, reinstated, moved, renamed, mandate_changed, reordered, ...,
    # and <field>_changed for any other field; the kinds of the other objects are
    # prefixed (post_added, person_renamed, appointment_note_changed, ...).
    kind: str
    effective_at: datetime.datetime
    recorded_at: datetime.datetime
    history_id: int
    reason: str
    # "public" or "internal": who may read ``reason`` (see ``selectors.audience``).
    reason_visibility: str
    author: str | None
    unit_slug: str
    unit_name: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    # The fields (attribute names) of the changed object whose change this records;
    # together, a revision's changes account for every field it changed.
    fields: tuple[str, ...] = ()
    # The changed object: unit, post, person, appointment or relationship; its id,
    # its slug (none for appointments and relationships) and its name.
    object_type: str = "unit"
    object_id: int = 0
    object_slug: str = ""
    object_name: str = ""
    # The reorganization whose application recorded this change; None for a single
    # change (the feed groups a reorganization's changes under it).
    reorganization_id: int | None = None
    # A correction of the past: what the registry recorded before for these fields
    # (``units.selectors.corrections.Correction``); None for an ordinary change.
    correction: Correction | None = None
    # A change a correction carried forward unchanged: the history_id of the revision
    # it restates (whose change it is, read as known now); None otherwise.
    restates: int | None = None

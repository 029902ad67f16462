"""The names the feed's changes show, read for a stretch of revisions at once.

Units and posts are named in the reader's language (the active one), in English where
no translation is recorded (``units.selectors.languages.localized``): an entry's
sentences and the names it links are read in that language, like the unit API's
plain fields, and cached answers are kept per language (``api.answer_cache``).
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from units.content_languages import language_fields
from units.dates import moment_text
from units.models import REVISION_ORDER, OrganizationalUnit, Person, Post
from units.selectors.as_of import current_rows, recorded_by
from units.selectors.changes.entries import RevisionPairs
from units.selectors.fields import model_field
from units.selectors.freshness import CurrentReads
from units.selectors.languages import localized


@dataclass(slots=True)
class FeedNames:
    """What the changes of a stretch of revisions name, read in 3 queries."""

    units: dict[int, dict[str, Any]]
    posts: dict[int, dict[str, Any]]
    people: dict[int, dict[str, Any]]

    def unit_name(self, unit_id: int | None) -> str:
        if unit_id in self.units:
            return str(self.units[unit_id]["name"])
        return _("(top level)")

    def unit_ref(self, unit_id: int | None) -> dict[str, Any] | None:
        """A unit's slug and name, None for the top level (or a unit not read)."""
        if unit_id is None or unit_id not in self.units:
            return None
        return {
            "slug": self.units[unit_id]["slug"],
            "name": self.units[unit_id]["name"],
        }

    def person_name(
        self, person_id: int | None, when: datetime.datetime | None = None
    ) -> str:
        """A person's name: as recorded for ``when`` (the change's instant; before
        the person was recorded, as first recorded), or the latest (None)."""
        person = self.people.get(person_id) if person_id is not None else None
        if person is None:
            return ""
        if when is None:
            return str(person["full_name"])
        revisions = person["revisions"]
        position = bisect.bisect_right([instant for instant, _ in revisions], when)
        return str(revisions[max(position - 1, 0)][1])

    def shown(self, model: type[models.Model], attname: str, value: Any) -> str:
        """A field's value as a reader sees it: a name, a choice's label, a date."""
        if value is None or value == "":
            return "—"
        field = model_field(model, attname)
        if field.is_relation:
            related = field.related_model
            if related is OrganizationalUnit:
                return self.unit_name(value)
            if related is Post:
                return self.posts[value]["title"] if value in self.posts else ""
            if related is Person:
                return self.person_name(value)
            return str(value)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, datetime.date):
            return moment_text(value)
        return str(value)


# What each kind of object needs of those it names, and what it is read for itself.
NAMED_MODELS = (OrganizationalUnit, Post, Person)


class NamesRead:
    """The units, posts and people ``feed_names`` read in a block, as they are now."""

    def __init__(self) -> None:
        self.ids: dict[str, set[int]] = {}

    def add(self, wanted: dict[type[models.Model], set[int]]) -> None:
        for model, ids in wanted.items():
            self.ids.setdefault(model._meta.label_lower, set()).update(ids)

    def current_reads(self, generation: int | None = None) -> CurrentReads:
        """These objects; with ``generation``, the answer read rows kept without
        history too (``CurrentReads.generation``)."""
        return CurrentReads(
            tuple((label, frozenset(ids)) for label, ids in sorted(self.ids.items())),
            generation,
        )


# Set while ``names_read_now`` collects.
_names_read: ContextVar[NamesRead | None] = ContextVar("names_read", default=None)


@contextmanager
def names_read_now() -> Iterator[NamesRead]:
    """Collect the objects whose current names the feed's changes in this block show.

    A cached page of the feed over a past window stays true until one of them gets
    a revision (``freshness.CurrentReads``), besides the history of its window.
    """
    read = NamesRead()
    token = _names_read.set(read)
    try:
        yield read
    finally:
        _names_read.reset(token)


def feed_names(
    sources: Sequence[tuple[type[models.Model], Sequence[str], RevisionPairs]],
) -> FeedNames:
    """The units, posts and people these revisions (and those before them) name.

    ``sources``: each history read, as (model, fields, revision pairs). Three queries
    at most, whatever the number of revisions (none for a kind nothing names).
    """
    wanted: dict[type[models.Model], set[int]] = {
        model: set() for model in NAMED_MODELS
    }
    for model, fields, pairs in sources:
        if model is OrganizationalUnit:
            wanted[OrganizationalUnit] |= {row["id"] for row, _ in pairs}
        for attname in fields:
            related = model_field(model, attname).related_model
            if not isinstance(related, type) or related not in wanted:
                continue
            for row, previous in pairs:
                for state in (row, previous):
                    if state is not None and state[attname] is not None:
                        wanted[related].add(state[attname])
    # Current names; as known at an earlier instant, those recorded by then.
    # Each read with its translations, then named in the reader's language.
    posts: dict[int, dict[str, Any]] = {
        row["id"]: {**row, "title": localized(row, "title")[0]}
        for row in current_rows(
            Post, ("id", *language_fields(("title",)), "slug", "unit_id"), wanted[Post]
        )
    }
    wanted[OrganizationalUnit] |= {post["unit_id"] for post in posts.values()}
    collecting = _names_read.get()
    if collecting is not None:
        collecting.add(wanted)
    units = {
        row["id"]: {**row, "name": localized(row, "name")[0]}
        for row in current_rows(
            OrganizationalUnit,
            ("id", "slug", *language_fields(("name",))),
            wanted[OrganizationalUnit],
        )
    }
    # Every revision of the people named, so each change names a person as recorded
    # for its own instant (a later rename does not reach back); per effective time
    # the later recorded row (a correction) wins.
    people: dict[int, dict[str, Any]] = {}
    revisions = recorded_by(
        Person.history.filter(id__in=wanted[Person])
        if wanted[Person]
        else Person.history.none()
    ).order_by(*REVISION_ORDER)
    for pk, slug, full_name, instant in revisions.values_list(
        "id", "slug", "full_name", "history_date"
    ):
        person = people.setdefault(pk, {"id": pk, "revisions": []})
        person.update(slug=slug, full_name=full_name)
        named = person["revisions"]
        if named and named[-1][0] == instant:
            named[-1] = (instant, full_name)
        else:
            named.append((instant, full_name))
    return FeedNames(units, posts, people)

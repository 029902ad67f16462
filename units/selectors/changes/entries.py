"""What every entry of the change feed is made of, whatever object it concerns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    UnitRelationship,
    UnitSuccession,
)
from units.selectors.fields import model_field, revision_values, tracked_fields
from units.selectors.results import Change

if TYPE_CHECKING:
    from units.selectors.changes.names import FeedNames

Revision = dict[str, Any]
RevisionPairs = list[tuple[Revision, Revision | None]]

# What each kind of object the feed follows is, as its entries name it (``object.type``).
OBJECT_TYPES: dict[type[models.Model], str] = {
    OrganizationalUnit: "unit",
    Appointment: "appointment",
    UnitRelationship: "relationship",
    Post: "post",
    Person: "person",
    UnitSuccession: "lineage",
}
# How a change of a field no other kind covers is named: "<prefix><field>_changed",
# the prefix being "<type>_", none for units ("location_changed", "post_slug_changed").
FIELD_CHANGE_PREFIXES: dict[type[models.Model], str] = {
    model: "" if model is OrganizationalUnit else f"{object_type}_"
    for model, object_type in OBJECT_TYPES.items()
}


def feed_fields(model: type[models.Model]) -> tuple[str, ...]:
    """What the feed reads of a model's revisions besides ``REVISION_COLUMNS``: the
    object's id and every field its history records (``tracked_fields``)."""
    return ("id", *tracked_fields(model))


@dataclass(frozen=True, slots=True)
class Subject:
    """The object a revision changed, as its entries name and link it.

    ``type`` is what the object is (unit, post, person, appointment, relationship,
    lineage); ``slug`` is empty for appointments, relationships and lineage links,
    which have none. The unit
    is where the change belongs: the unit itself, a post's unit, an appointment's
    post's unit, a relationship's source; none for a person.
    """

    type: str
    id: int
    slug: str
    name: str
    unit_slug: str = ""
    unit_name: str = ""


def subject_of(
    model: type[models.Model],
    row: Revision,
    name: str,
    *,
    slug: str = "",
    unit: Mapping[str, Any] | None = None,
) -> Subject:
    """The object ``row`` is a revision of, named ``name``, belonging to ``unit`` (its
    slug and name, as ``FeedNames.units`` holds them; None: no unit, or one not read)."""
    return Subject(
        OBJECT_TYPES[model],
        row["id"],
        slug,
        name,
        unit["slug"] if unit else "",
        unit["name"] if unit else "",
    )


def change(kind: str, row: Revision, subject: Subject, **values: Any) -> Change:
    """One entry of the feed, recorded by the revision ``row`` of ``subject``."""
    return Change(
        kind=kind,
        **revision_values(row),
        unit_slug=subject.unit_slug,
        unit_name=subject.unit_name,
        object_type=subject.type,
        object_id=subject.id,
        object_slug=subject.slug,
        object_name=subject.name,
        reorganization_id=row.get("reorganization_id"),
        **values,
    )


def abolition(row: Revision, previous: Revision) -> str | None:
    """ "abolished" or "reinstated" if this revision set or cleared ``abolished_on``."""
    if (previous["abolished_on"] is None) == (row["abolished_on"] is None):
        return None
    return "reinstated" if row["abolished_on"] is None else "abolished"


def as_revert(
    model: type[models.Model], row: Revision, subject: Subject, changes: list[Change]
) -> list[Change]:
    """A revert's revision (``reverts_revision`` set by ``unit_revert`` & co) is one
    "reverted" change (``post_reverted``, ``person_reverted``) holding what it brought
    back, rather than "renamed" or "changed" as if it were a new decision; bringing an
    abolished object back stays "reinstated", its own kind. Other revisions: as they are.
    """
    version = row.get("reverts_revision")
    if version is None:
        return changes
    kept = [item for item in changes if item.kind.endswith("reinstated")]
    merged = [item for item in changes if not item.kind.endswith("reinstated")]
    if not merged:
        return kept
    return [
        *kept,
        change(
            f"{FIELD_CHANGE_PREFIXES[model]}reverted",
            row,
            subject,
            summary=_("%(subject)s reverted to an earlier version: %(changes)s")
            % {
                "subject": subject.name,
                "changes": "; ".join(item.summary for item in merged),
            },
            details={
                "version": version,
                "kinds": [item.kind for item in merged],
                "changes": [
                    {
                        "kind": item.kind,
                        "summary": item.summary,
                        "details": item.details,
                    }
                    for item in merged
                ],
            },
            fields=tuple(name for item in merged for name in item.fields),
        ),
    ]


class FieldsLeft:
    """The fields a revision changed that no change of it accounts for yet."""

    def __init__(self, model: type[models.Model], row: Revision, previous: Revision):
        # Every field the history records (``tracked_fields``), in model order.
        self.names = [
            name for name in tracked_fields(model) if previous[name] != row[name]
        ]

    def take(self, *fields: str) -> tuple[str, ...]:
        """The fields among ``fields`` that changed, now accounted for."""
        taken = tuple(name for name in fields if name in self.names)
        for name in taken:
            self.names.remove(name)
        return taken


def field_changes(
    model: type[models.Model],
    names: FeedNames,
    row: Revision,
    previous: Revision,
    fields: Sequence[str],
    wording: str,
    subject: Subject,
) -> list[Change]:
    """One change per field that no kind of its own covers: ``<field>_changed``.

    What makes every recorded change of every field appear in the feed, whatever
    fields the model gains: a field's label and values come from the model.
    ``wording`` names the object in the summary ("the post Head of X").
    """
    changes = []
    for attname in fields:
        field = model_field(model, attname)
        label = str(field.verbose_name)
        old = names.shown(model, attname, previous[attname])
        new = names.shown(model, attname, row[attname])
        changes.append(
            change(
                f"{FIELD_CHANGE_PREFIXES[model]}{field.name}_changed",
                row,
                subject,
                summary=_("%(field)s of %(subject)s changed from %(old)s to %(new)s")
                % {
                    "field": capfirst(label),
                    "subject": wording,
                    "old": old,
                    "new": new,
                },
                details={
                    "field": field.name,
                    "label": label,
                    "subject": wording,
                    "old": previous[attname],
                    "new": row[attname],
                    "old_display": old,
                    "new_display": new,
                },
                fields=(attname,),
            )
        )
    return changes

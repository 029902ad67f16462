"""What every entry of the change feed is made of, whatever object it concerns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models

from units.models import Appointment, OrganizationalUnit, Person, Post, UnitRelationship
from units.selectors.fields import model_field, revision_values
from units.selectors.results import Change

if TYPE_CHECKING:
    from units.selectors.changes.names import FeedNames

Revision = dict[str, Any]
RevisionPairs = list[tuple[Revision, Revision | None]]

# How a change of a field no other kind covers is named: "<prefix><field>_changed".
FIELD_CHANGE_PREFIXES: dict[type[models.Model], str] = {
    OrganizationalUnit: "",
    Appointment: "appointment_",
    UnitRelationship: "relationship_",
    Post: "post_",
    Person: "person_",
}


@dataclass(frozen=True, slots=True)
class Subject:
    """The object a revision changed, as its entries name and link it.

    ``type`` is what the object is (unit, post, person, appointment, relationship);
    ``slug`` is empty for appointments and relationships, which have none. The unit
    is where the change belongs: the unit itself, a post's unit, an appointment's
    post's unit, a relationship's source; none for a person.
    """

    type: str
    id: int
    slug: str
    name: str
    unit_slug: str = ""
    unit_name: str = ""


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
        **values,
    )


def changed_fields(
    fields: Sequence[str], row: Revision, previous: Revision
) -> list[str]:
    """The tracked fields (model order) whose value differs between two revisions."""
    return [name for name in fields if name != "id" and previous[name] != row[name]]


class FieldsLeft:
    """The fields a revision changed that no change of it accounts for yet."""

    def __init__(self, fields: Sequence[str], row: Revision, previous: Revision):
        self.names = changed_fields(fields, row, previous)

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
                summary=f"{label[:1].upper()}{label[1:]} of {wording} changed from "
                f"{old} to {new}",
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

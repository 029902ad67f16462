"""The fields each read takes from a model, named once for every reader."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from django.db import models

from units.content_languages import (
    CONTENT_LANGUAGES,
    POST_TRANSLATED,
    RELATIONSHIP_TRANSLATED,
    UNIT_TRANSLATED,
    field_in,
    language_fields,
    translation_fields,
)
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    UnitRelationship,
    UnitSuccession,
)

# What every revision records besides the object's fields: when it took effect, when
# it was written, what kind of change it was, why (and who may read why), by whom, and
# for a revert the version it went back to.
REVISION_COLUMNS = (
    "history_id",
    "history_date",
    "recorded_at",
    "history_type",
    "history_change_reason",
    "reason_visibility",
    "history_user__username",
    "reverts_revision",
    "corrects_revision",
)
# Bookkeeping a history row copies from its object without being a change of it: the
# object's id and the counter every write raises.
UNTRACKED_FIELDS = frozenset({"id", "version"})


def revision_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a history row (read with ``REVISION_COLUMNS``) says of its revision: its id,
    when it took effect and was written, why, who may read why, and by whom.

    The one reading of those columns, for the histories and the change feed alike.
    """
    return {
        "history_id": row["history_id"],
        "effective_at": row["history_date"],
        "recorded_at": row["recorded_at"],
        "reason": row["history_change_reason"] or "",
        "reason_visibility": row["reason_visibility"],
        "author": row["history_user__username"],
    }


@functools.cache
def model_field(model: type[models.Model], attname: str) -> models.Field:
    """The field of ``model`` stored under ``attname`` (``unit_id``, not ``unit``)."""
    return next(
        field for field in model._meta.concrete_fields if field.attname == attname
    )


@functools.cache
def tracked_fields(model: type[models.Model]) -> tuple[str, ...]:
    """Every field of ``model`` that its history records, as attribute names.

    Read from the history model (in the model's field order), so a field added to a
    model, and with it to its history, is tracked by every reader of changes without
    being named anywhere else; fields the history leaves out (the tree's bookkeeping)
    are not.
    """
    recorded = {
        field.attname
        for field in model.history.model._meta.concrete_fields  # type: ignore[attr-defined]
    }
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if field.attname in recorded and field.attname not in UNTRACKED_FIELDS
    )


# The texts each model holds in every content language (``units.content_languages``).
TRANSLATED_TEXTS: dict[type[models.Model], tuple[str, ...]] = {
    OrganizationalUnit: UNIT_TRANSLATED,
    Post: POST_TRANSLATED,
    UnitRelationship: RELATIONSHIP_TRANSLATED,
}


@functools.cache
def translated_text(model: type[models.Model], attname: str) -> tuple[str, str] | None:
    """The text ``attname`` holds and its language (``name_fr``: ``("name", "fr")``,
    ``name``: ``("name", "en")``); None for a field that is no translated text.

    So a history can say which language a changed text is in (``lang``) and diff
    each language of a text alike.
    """
    for name in TRANSLATED_TEXTS.get(model, ()):
        for language in CONTENT_LANGUAGES:
            if field_in(name, language) == attname:
                return name, language
    return None


UNIT_STATE_FIELDS = (
    "id",
    "slug",
    "name",
    "short_name",
    "kind",
    "mandate",
    "location",
    "learn_more_url",
    "parent_id",
    "reporting_line",
    "sibling_order",
    "established_on",
    "abolished_on",
    # Last, so the positions of the fields above stay what tuple readers expect.
    *translation_fields(UNIT_TRANSLATED),
)
# Fields shown in a unit's history, in the order a reader expects them.
# Each translation follows its English text (``name``, ``name_fr``, ``name_es``).
UNIT_HISTORY_FIELDS = (
    *language_fields(("name", "short_name")),
    "kind",
    "parent_id",
    "reporting_line",
    "sibling_order",
    *language_fields(("mandate", "location")),
    "learn_more_url",
    "provenance",
    "established_on",
    "abolished_on",
)


# A post's whole record, as the API and exports serve it.
POST_RECORD_FIELDS = (
    "id",
    "slug",
    "title",
    "unit_id",
    "is_head",
    "filling_method",
    "term_years",
    "term_note",
    "established_on",
    "abolished_on",
    "version",
    # Last, so the positions of the fields above stay what tuple readers expect.
    *translation_fields(POST_TRANSLATED),
)
# Fields shown in a post's history, in the order a reader expects them.
POST_HISTORY_FIELDS = (
    *language_fields(POST_TRANSLATED),
    *(
        name
        for name in POST_RECORD_FIELDS
        if name not in {"id", "version", *language_fields(POST_TRANSLATED)}
    ),
)
# What a ``PostState`` holds, in its order.
POST_STATE_FIELDS = (
    *(
        name
        for name in POST_RECORD_FIELDS
        if name
        not in {"established_on", "version", *translation_fields(POST_TRANSLATED)}
    ),
    *translation_fields(POST_TRANSLATED),
)
PERSON_FIELDS = ("id", "slug", "full_name")
APPOINTMENT_FIELDS = ("id", "person_id", "post_id", "started_on", "ended_on")
# Fields shown in the history of a person, an appointment and a relationship.
PERSON_HISTORY_FIELDS = ("full_name",)
APPOINTMENT_HISTORY_FIELDS = ("person_id", "post_id", "started_on", "ended_on", "note")
RELATIONSHIP_HISTORY_FIELDS = (
    "source_id",
    "target_id",
    "kind",
    *language_fields(RELATIONSHIP_TRANSLATED),
    "started_on",
    "ended_on",
)
# What the pages show of an appointment: with its note, which says, for example, that
# its start date is a convention of the seed rather than a known fact.
APPOINTMENT_SHOWN_FIELDS = (*APPOINTMENT_FIELDS, "note")

# Whole records (with the version an editor must send back), as the API serves them.
# The provenance note is read with a unit's whole record, not with its state in trees
# and lists, which it would only make heavier.
UNIT_RECORD_FIELDS = (*UNIT_STATE_FIELDS, "provenance", "version")
PERSON_RECORD_FIELDS = (*PERSON_FIELDS, "version")
APPOINTMENT_RECORD_FIELDS = (*APPOINTMENT_FIELDS, "note", "version")
RELATIONSHIP_RECORD_FIELDS = (
    "id",
    "source_id",
    "target_id",
    "kind",
    "description",
    "started_on",
    "ended_on",
    "version",
    *translation_fields(RELATIONSHIP_TRANSLATED),
)


# A lineage link (units.services.lineage): the whole record, and what its history shows.
LINEAGE_HISTORY_FIELDS = (
    "predecessor_id",
    "successor_id",
    "closure_reason",
    "effective_on",
)
LINEAGE_RECORD_FIELDS = ("id", *LINEAGE_HISTORY_FIELDS, "version")


# Each model's whole record, as the API serves it.
RECORD_FIELDS: dict[type[RecordedModel], tuple[str, ...]] = {
    OrganizationalUnit: UNIT_RECORD_FIELDS,
    Post: POST_RECORD_FIELDS,
    Person: PERSON_RECORD_FIELDS,
    Appointment: APPOINTMENT_RECORD_FIELDS,
    UnitRelationship: RELATIONSHIP_RECORD_FIELDS,
    UnitSuccession: LINEAGE_RECORD_FIELDS,
}


# Each model's fields shown in its history, in the order a reader expects them.
HISTORY_FIELDS: dict[type[RecordedModel], tuple[str, ...]] = {
    OrganizationalUnit: UNIT_HISTORY_FIELDS,
    Post: POST_HISTORY_FIELDS,
    Person: PERSON_HISTORY_FIELDS,
    Appointment: APPOINTMENT_HISTORY_FIELDS,
    UnitRelationship: RELATIONSHIP_HISTORY_FIELDS,
    UnitSuccession: LINEAGE_HISTORY_FIELDS,
}

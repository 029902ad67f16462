"""Dotted-line relationships between units: link, unlink and correct, each one
revision (a correction: new rows only, ``units.services.corrections``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from units.content_languages import (
    RELATIONSHIP_TRANSLATED,
    check_source_texts,
    clean_translations,
    language_fields,
)
from units.dates import day_text
from units.models import OrganizationalUnit, UnitRelationship
from units.services.corrections import (
    asks_for_past_change,
    check_link_dates,
    check_parent_active_over,
    correction_steps,
)
from units.services.refusals import Refusal
from units.services.revisions import (
    Actor,
    EffectiveTime,
    apply_changes,
    begin_write,
    check_effective_time,
    check_unit_usable,
    check_version,
    effective_datetime,
    first_revision_time,
    fresh,
    save_revision,
)

# What a correction of a relationship may change: its dates and its description,
# in every language.
RELATIONSHIP_CORRECTABLE_FIELDS = frozenset(
    {*language_fields(RELATIONSHIP_TRANSLATED), "started_on", "ended_on"}
)


@transaction.atomic
def relationship_create(
    *,
    source: OrganizationalUnit,
    target: OrganizationalUnit,
    kind: str,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    description: str = "",
    effective_at: EffectiveTime = None,
    translations: Mapping[str, str] | None = None,
) -> UnitRelationship:
    """Link two units; ``translations``: the French and Spanish descriptions
    (``description_fr``/``description_es``), blank when not given."""
    write = begin_write(user, reason, reason_visibility, effective_at)
    check_effective_time(None, write.effective_at)
    source = fresh(OrganizationalUnit, source)
    target = fresh(OrganizationalUnit, target)
    if source.pk == target.pk:
        raise ValidationError(
            "A relationship links two different units.", code=Refusal.SELF_RELATIONSHIP
        )
    for unit in (source, target):
        check_unit_usable(unit, write.effective_at)
    if UnitRelationship.objects.filter(
        source=source, target=target, kind=kind, ended_on__isnull=True
    ).exists():
        raise ValidationError(
            f"“{source}” already has this relationship with “{target}”.",
            code=Refusal.DUPLICATE_RELATIONSHIP,
        )
    relationship = UnitRelationship(
        source=source,
        target=target,
        kind=kind,
        description=description.strip(),
        started_on=write.effective_at.date(),
        **clean_translations(translations, RELATIONSHIP_TRANSLATED),
    )
    check_source_texts(relationship, RELATIONSHIP_TRANSLATED)
    save_revision(relationship, write, is_new=True)
    return relationship


@transaction.atomic
def relationship_end(
    *,
    relationship: UnitRelationship | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> UnitRelationship:
    """Unlink two units; the relationship stays in history with its end date."""
    write = begin_write(user, reason, reason_visibility, effective_at)
    relationship = fresh(UnitRelationship, relationship)
    check_version(relationship, expected_version)
    if relationship.ended_on is not None:
        raise ValidationError(
            f"This relationship already ended on {day_text(relationship.ended_on)}.",
            code=Refusal.ALREADY_ENDED,
        )
    check_effective_time(relationship, write.effective_at)
    relationship.ended_on = write.effective_at.date()
    save_revision(relationship, write)
    return relationship


@transaction.atomic
def relationship_correct(
    *,
    relationship: UnitRelationship | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    **changes: Any,
) -> UnitRelationship:
    """Correct what a relationship's record says: when it ran, and its description.

    A correction of the past (issue 14): new rows only, recorded now, from
    ``effective_at`` (default: each field from when its recorded value began,
    ``correction_steps``, so the whole record says the corrected thing). Refused,
    with nothing written: an end before the start, a start before its first record,
    and a stretch during which either unit was not yet recorded or was abolished.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    relationship = fresh(UnitRelationship, relationship)
    check_version(relationship, expected_version)
    first = first_revision_time(relationship)
    for text_field in language_fields(RELATIONSHIP_TRANSLATED):
        if isinstance(changes.get(text_field), str):
            changes[text_field] = changes[text_field].strip()
    # The record as corrected, checked whole before anything is written.
    started_before = relationship.started_on
    apply_changes(relationship, changes, RELATIONSHIP_CORRECTABLE_FIELDS)
    check_source_texts(relationship, RELATIONSHIP_TRANSLATED)
    check_link_dates(relationship, first, started_before)
    if {"started_on", "ended_on"} & set(changes):
        # Both units over the whole corrected span: recorded, and not abolished.
        start = (
            first
            if relationship.started_on is None
            else max(effective_datetime(relationship.started_on), first)
        )
        until = (
            None
            if relationship.ended_on is None
            else effective_datetime(relationship.ended_on)
        )
        for unit_id in (relationship.source_id, relationship.target_id):
            check_parent_active_over(
                unit_id, start, until, code=Refusal.PARENT_ABOLISHED
            )
    steps = correction_steps(
        fresh(UnitRelationship, relationship),
        changes,
        write,
        explicit=effective_at is not None,
    )
    for step, values in steps:
        relationship = fresh(UnitRelationship, relationship)
        changed = apply_changes(relationship, values, RELATIONSHIP_CORRECTABLE_FIELDS)
        if not changed and not asks_for_past_change(relationship, step.effective_at):
            continue
        check_effective_time(relationship, step.effective_at)
        save_revision(relationship, step)
    return relationship

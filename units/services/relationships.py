"""Dotted-line relationships between units: link and unlink, each one revision."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from units.content_languages import RELATIONSHIP_TRANSLATED, clean_translations
from units.dates import day_text
from units.models import OrganizationalUnit, UnitRelationship
from units.services.refusals import Refusal
from units.services.revisions import (
    Actor,
    EffectiveTime,
    begin_write,
    check_effective_time,
    check_unit_usable,
    check_version,
    fresh,
    save_revision,
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

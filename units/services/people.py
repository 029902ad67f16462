"""People: record, rename and revert a person."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from units.models import Person
from units.services.corrections import REQUESTED, asks_for_past_change
from units.services.refusals import Refusal
from units.services.reverts import (
    RevertMode,
    correction_of,
    revert_mode,
    version_to_revert,
)
from units.services.revisions import (
    Actor,
    EffectiveTime,
    apply_changes,
    begin_write,
    check_effective_time,
    check_version,
    fresh,
    save_revision,
    unique_slug,
)

PERSON_UPDATABLE_FIELDS = frozenset({"full_name"})


@transaction.atomic
def person_revert(
    *,
    person: Person,
    history_id: int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    expected_version: int | None = None,
    mode: str = RevertMode.UNDO,
) -> Person:
    """Bring a person's record back to one of its versions, as one new change.

    ``mode``: ``undo`` takes effect now; ``correct`` corrects the record from the time
    of the change that followed the version (see ``units.services.reverts``).
    """
    mode = revert_mode(mode)
    write = begin_write(user, reason, reason_visibility, None)
    person = fresh(Person, person)
    check_version(person, expected_version)
    target = version_to_revert(person, history_id)
    if mode == RevertMode.CORRECT:
        correction = correction_of(person, target, sorted(PERSON_UPDATABLE_FIELDS))
        write = correction.write(write)
        check_effective_time(person, write.effective_at)
        for column, value in correction.values.items():
            setattr(person, column, value)
        # Asked for even if today's name is already the right one: the past differs.
        person.__dict__[REQUESTED] = set(correction.values)
        save_revision(
            person,
            write,
            reverts=history_id,
            corrects=correction.mistake.history_id,
        )
        return person
    check_effective_time(person, write.effective_at)
    before = {name: getattr(person, name) for name in PERSON_UPDATABLE_FIELDS}
    for name in PERSON_UPDATABLE_FIELDS:
        setattr(person, name, getattr(target, name))
    if all(getattr(person, name) == value for name, value in before.items()):
        raise ValidationError(
            f"“{person}” already matches that version; there is nothing to revert.",
            code=Refusal.NO_CHANGE,
        )
    save_revision(person, write, reverts=history_id)
    return person


@transaction.atomic
def person_create(
    *,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    full_name: str,
    slug: str = "",
    effective_at: EffectiveTime = None,
) -> Person:
    write = begin_write(user, reason, reason_visibility, effective_at)
    check_effective_time(None, write.effective_at)
    if slug and Person.objects.filter(slug=slug).exists():
        raise ValidationError(
            f"The slug “{slug}” is already used by another person.",
            code=Refusal.SLUG_TAKEN,
        )
    person = Person(
        full_name=full_name.strip(), slug=slug or unique_slug(Person, full_name)
    )
    save_revision(person, write, is_new=True)
    return person


@transaction.atomic
def person_update(
    *,
    person: Person | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    **changes: Any,
) -> Person:
    write = begin_write(user, reason, reason_visibility, effective_at)
    person = fresh(Person, person)
    check_version(person, expected_version)
    if isinstance(changes.get("full_name"), str):
        changes["full_name"] = changes["full_name"].strip()
    if not apply_changes(
        person, changes, PERSON_UPDATABLE_FIELDS
    ) and not asks_for_past_change(person, write.effective_at):
        return person
    check_effective_time(person, write.effective_at)
    save_revision(person, write)
    return person

"""Appointments: a person holds a post from one day to another."""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from units.dates import day_text, moment_text
from units.models import Appointment, Person, Post
from units.services.corrections import (
    Plan,
    asks_for_past_change,
    check_link_dates,
    check_single_holder_over,
    correction_steps,
    link_state,
)
from units.services.people import person_create
from units.services.refusals import Refusal
from units.services.revisions import (
    Actor,
    EffectiveTime,
    apply_changes,
    begin_write,
    check_effective_time,
    check_recorded_by,
    check_version,
    first_revision_time,
    fresh,
    is_correction,
    moment_on_day,
    save_revision,
)
from units.services.stretches import abolished_within


@transaction.atomic
def appointment_start(
    *,
    person: Person,
    post: Post,
    started_on: datetime.date,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    note: str = "",
    effective_at: EffectiveTime = None,
) -> Appointment:
    """Appoint ``person`` to ``post`` from ``started_on``; a post has one holder at a time.

    The change takes effect at the start of ``started_on`` unless told otherwise.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    post = fresh(Post, post)
    person = fresh(Person, person)
    if effective_at is None:
        write = replace(write, effective_at=moment_on_day(started_on, post))
    check_effective_time(None, write.effective_at)
    # A post is part of the structure: it cannot be held before it existed. A person
    # is not, and may be recorded long after the posts they held.
    check_recorded_by(post, write.effective_at, code=Refusal.NOT_YET_ESTABLISHED)
    if not post.is_active:
        raise ValidationError(
            f"The post “{post}” is abolished; nobody can be appointed to it.",
            code=Refusal.ABOLISHED,
        )
    _check_post_open_since(post, write.effective_at)
    holder = (
        post.appointments.filter(
            models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=started_on)
        )
        .select_related("person")
        .first()
    )
    if holder is not None:
        raise ValidationError(
            f"“{post}” is held by {holder.person} from {day_text(holder.started_on)}"
            + (f" to {day_text(holder.ended_on)}" if holder.ended_on else "")
            + "; end that appointment first.",
            code=Refusal.POST_OCCUPIED,
        )
    appointment = Appointment(
        person=person, post=post, started_on=started_on, note=note.strip()
    )
    save_revision(appointment, write, is_new=True)
    return appointment


def _check_post_open_since(post: Post, effective_at: datetime.datetime) -> None:
    """Refuse an appointment from a time at which, or after which, the post was
    abolished (and reinstated since): it would run through the abolition, which ends
    every appointment to the post. Today's row only says the post is open now."""
    abolition = abolished_within(Post, post.pk, effective_at)
    if abolition is not None:
        until = (
            f" until {moment_text(abolition.reinstated_at)}"
            if abolition.reinstated_at is not None
            else ""
        )
        raise ValidationError(
            f"The post “{post}” was abolished from {day_text(abolition.abolished_on)}"
            f"{until}; an appointment from {moment_text(effective_at)} would run "
            "while it was abolished.",
            code=Refusal.ABOLISHED,
        )


@transaction.atomic
def appointment_start_for_new_person(
    *,
    full_name: str,
    post: Post,
    started_on: datetime.date,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    slug: str = "",
    note: str = "",
) -> Appointment:
    """Record a new person and appoint them to ``post``: one step, one reason.

    An editor appointing someone the registry does not know yet gives one reason for
    both changes; if the appointment is refused, the person is not recorded either.
    """
    person = person_create(
        user=user,
        reason=reason,
        reason_visibility=reason_visibility,
        full_name=full_name,
        slug=slug,
    )
    return appointment_start(
        person=person,
        post=post,
        started_on=started_on,
        user=user,
        reason=reason,
        reason_visibility=reason_visibility,
        note=note,
    )


@transaction.atomic
def appointment_end(
    *,
    appointment: Appointment | int,
    ended_on: datetime.date,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> Appointment:
    write = begin_write(user, reason, reason_visibility, effective_at)
    appointment = fresh(Appointment, appointment)
    if effective_at is None:
        write = replace(write, effective_at=moment_on_day(ended_on, appointment))
    check_version(appointment, expected_version)
    if appointment.ended_on is not None:
        raise ValidationError(
            f"This appointment already ended on {day_text(appointment.ended_on)}.",
            code=Refusal.ALREADY_ENDED,
        )
    if ended_on < appointment.started_on:
        raise ValidationError(
            f"An appointment cannot end ({day_text(ended_on)}) before it started "
            f"({day_text(appointment.started_on)}).",
            code=Refusal.ENDS_BEFORE_START,
        )
    check_effective_time(appointment, write.effective_at)
    appointment.ended_on = ended_on
    save_revision(appointment, write)
    return appointment


# What a correction of an appointment may change: who held which post, from when to
# when, and its note.
APPOINTMENT_CORRECTABLE_FIELDS = frozenset(
    {"person", "post", "started_on", "ended_on", "note"}
)


@transaction.atomic
def appointment_correct(
    *,
    appointment: Appointment | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    **changes: Any,
) -> Appointment:
    """Correct what an appointment's record says: who held which post, and when.

    A correction of the past (issue 14): new rows only, recorded now. By default each
    field is corrected from when its recorded value began (``correction_steps``):
    the start from the first record, the end from the revision that ended it, so the
    whole record says the corrected thing; ``effective_at`` names one instant instead. The corrected record
    is replayed before anything is written: a post held by two people on some day,
    a post not yet recorded or already abolished while held, an end before the
    start, and a start before the appointment's own first record are refused.
    """
    write = begin_write(user, reason, reason_visibility, effective_at)
    appointment = fresh(Appointment, appointment)
    check_version(appointment, expected_version)
    first = first_revision_time(appointment)
    # Re-read a new post or person under the lock, whether given as id or object.
    if "post" in changes:
        changes["post"] = fresh(Post, changes["post"])
    if "person" in changes:
        changes["person"] = fresh(Person, changes["person"])
    if isinstance(changes.get("note"), str):
        changes["note"] = changes["note"].strip()
    # The record as corrected, checked whole before anything is written.
    started_before = appointment.started_on
    apply_changes(appointment, changes, APPOINTMENT_CORRECTABLE_FIELDS)
    check_link_dates(appointment, first, started_before)
    if {"post", "started_on", "ended_on"} & set(changes):
        _check_post_open(appointment)
    steps = correction_steps(
        fresh(Appointment, appointment),
        changes,
        write,
        explicit=effective_at is not None,
    )
    for step, values in steps:
        appointment = fresh(Appointment, appointment)
        changed = apply_changes(appointment, values, APPOINTMENT_CORRECTABLE_FIELDS)
        if not changed and not asks_for_past_change(appointment, step.effective_at):
            continue
        check_effective_time(appointment, step.effective_at)
        if not is_correction(appointment, step.effective_at):
            # A write at the latest revision's own time is a plain save: replay the
            # post's holders from then on here (a correction's stretch is replayed
            # by ``save_revision``).
            check_single_holder_over(
                appointment,
                Plan(at_e=link_state(appointment), corrects=0),
                step.effective_at,
                None,
            )
        save_revision(appointment, step)
    return appointment


def _check_post_open(appointment: Appointment) -> None:
    """Refuse a post held before it was recorded, or after it was abolished."""
    post = appointment.post
    recorded = first_revision_time(post)
    if appointment.started_on < recorded.date():
        raise ValidationError(
            f"“{post}” did not exist yet on {day_text(appointment.started_on)} "
            f"(it is recorded from {moment_text(recorded)}).",
            code=Refusal.NOT_YET_ESTABLISHED,
        )
    if post.abolished_on is not None and (
        appointment.ended_on is None or post.abolished_on < appointment.ended_on
    ):
        raise ValidationError(
            f"The post “{post}” was abolished on {day_text(post.abolished_on)}; "
            "nobody can hold it after that day.",
            code=Refusal.ABOLISHED,
        )

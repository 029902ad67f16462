"""Posts: create, change, abolish and revert a post (a unit has one head post)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from units.content_languages import (
    POST_TRANSLATED,
    clean_translations,
    language_fields,
    translation_fields,
)
from units.dates import day_text
from units.models import Appointment, OrganizationalUnit, Post, column_field
from units.services.appointments import appointment_end
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
    Write,
    apply_changes,
    begin_write,
    check_effective_time,
    check_recorded_by,
    check_unit_usable,
    check_version,
    fresh,
    is_correction,
    save_revision,
    unique_slug,
)

POST_UPDATABLE_FIELDS = frozenset(
    {
        "title",
        *translation_fields(POST_TRANSLATED),
        "unit",
        "is_head",
        "filling_method",
        "term_years",
        "term_note",
    }
)


@transaction.atomic
def post_revert(
    *,
    post: Post,
    history_id: int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    mode: str = RevertMode.UNDO,
) -> Post:
    """Bring a post back to the state of one of its versions, as one new change.

    Reverting an active post to a version in which it was abolished abolishes it
    through ``post_abolish`` (its holder's appointment ends). Reverting an abolished
    post to an earlier version revives it, but only into an active unit and never as
    a second head. Appointments are separate records and are not brought back.
    ``mode``: ``undo`` takes effect now; ``correct`` corrects the record from the time
    of the change that followed the version (see ``units.services.reverts``).
    """
    mode = revert_mode(mode)
    undo_at = effective_at if mode == RevertMode.UNDO else None
    write = begin_write(user, reason, reason_visibility, undo_at)
    post = fresh(Post, post)
    check_version(post, expected_version)
    target = version_to_revert(post, history_id, f"the post “{post}”")
    if mode == RevertMode.CORRECT:
        return _post_correct(post, target, write, effective_at)
    if target.abolished_on is not None:
        if post.is_active:
            return post_abolish(post=post, **write.keywords())
        raise ValidationError(
            f"The post “{post}” is abolished and that version is abolished too; "
            "revert to a version from before it was abolished to revive it.",
            code=Refusal.ABOLISHED,
        )
    check_effective_time(post, write.effective_at)
    attnames = [column_field(Post, name).attname for name in POST_UPDATABLE_FIELDS]
    before = {name: getattr(post, name) for name in [*attnames, "abolished_on"]}
    for name in attnames:
        setattr(post, name, getattr(target, name))
    post.abolished_on = None
    if all(getattr(post, name) == value for name, value in before.items()):
        raise ValidationError(
            f"The post “{post}” already matches that version; there is nothing to "
            "revert.",
            code=Refusal.NO_CHANGE,
        )
    unit = fresh(OrganizationalUnit, post.unit_id)
    if not unit.is_active:
        raise ValidationError(
            f"“{unit}” was abolished on {day_text(unit.abolished_on)}; the post "
            f"“{post}” cannot be brought back into an abolished unit.",
            code=Refusal.UNIT_ABOLISHED,
        )
    _check_single_head(unit, post.is_head, exclude_pk=post.pk)
    save_revision(post, write, reverts=history_id)
    return post


def _post_correct(
    post: Post, target: Any, write: Write, effective_at: EffectiveTime
) -> Post:
    """Revert by correcting the record: the change after ``target`` is undone from
    its own effective time, as one write recorded now."""
    columns = [
        *sorted(column_field(Post, name).attname for name in POST_UPDATABLE_FIELDS),
        "abolished_on",
    ]
    correction = correction_of(post, target, columns, effective_at=effective_at)
    if "abolished_on" in correction.values and target.abolished_on is not None:
        raise ValidationError(
            f"The change after that version revived the post “{post}”; correcting it "
            "would abolish the post from then on. Undo it from now instead (abolish "
            "the post).",
            code=Refusal.INVALID,
        )
    write = correction.write(write)
    check_effective_time(post, write.effective_at)
    for column, value in correction.values.items():
        setattr(post, column, value)
    if is_correction(post, write.effective_at):
        # Later changes follow the mistake: its unit and heads are checked over the
        # corrected stretch instead (``units.services.corrections``).
        post.__dict__[REQUESTED] = set(correction.values)
        save_revision(post, write, reverts=target.history_id)
        return post
    unit = fresh(OrganizationalUnit, post.unit_id)
    if not unit.is_active:
        raise ValidationError(
            f"“{unit}” was abolished on {day_text(unit.abolished_on)}; the post "
            f"“{post}” cannot be brought back into an abolished unit.",
            code=Refusal.UNIT_ABOLISHED,
        )
    check_recorded_by(unit, write.effective_at, code=Refusal.PARENT_NOT_YET_ESTABLISHED)
    _check_single_head(unit, post.is_head, exclude_pk=post.pk)
    save_revision(
        post,
        write,
        reverts=target.history_id,
        corrects=correction.mistake.history_id,
    )
    return post


@transaction.atomic
def post_create(
    *,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    title: str,
    unit: OrganizationalUnit,
    is_head: bool = False,
    filling_method: str = "appointed_by_director_general",
    term_years: int | None = None,
    term_note: str = "",
    slug: str = "",
    effective_at: EffectiveTime = None,
    founding_date_known: bool = True,
    translations: Mapping[str, str] | None = None,
) -> Post:
    """Create a post in ``unit``; ``founding_date_known`` and ``translations`` (the
    French and Spanish titles, ``title_fr``/``title_es``) as for ``unit_create``."""
    write = begin_write(user, reason, reason_visibility, effective_at)
    check_effective_time(None, write.effective_at)
    unit = fresh(OrganizationalUnit, unit)
    check_unit_usable(unit, write.effective_at)
    _check_single_head(unit, is_head)
    if slug and Post.objects.filter(slug=slug).exists():
        raise ValidationError(
            f"The slug “{slug}” is already used by another post.",
            code=Refusal.SLUG_TAKEN,
        )
    post = Post(
        title=title.strip(),
        slug=slug or unique_slug(Post, title),
        unit=unit,
        is_head=is_head,
        filling_method=filling_method,
        term_years=term_years,
        term_note=term_note.strip(),
        established_on=write.effective_at.date() if founding_date_known else None,
        **clean_translations(translations, POST_TRANSLATED),
    )
    save_revision(post, write, is_new=True)
    return post


def _check_single_head(
    unit: OrganizationalUnit, is_head: bool, exclude_pk: int | None = None
) -> None:
    if not is_head:
        return
    heads = Post.objects.filter(unit=unit, is_head=True, abolished_on__isnull=True)
    if exclude_pk is not None:
        heads = heads.exclude(pk=exclude_pk)
    head = heads.first()
    if head is not None:
        raise ValidationError(
            f"“{unit}” is already headed by the post “{head}”; a unit has one head.",
            code=Refusal.HEAD_EXISTS,
        )


@transaction.atomic
def post_update(
    *,
    post: Post | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    **changes: Any,
) -> Post:
    write = begin_write(user, reason, reason_visibility, effective_at)
    post = fresh(Post, post)
    check_version(post, expected_version)
    for text_field in language_fields(POST_TRANSLATED):
        if isinstance(changes.get(text_field), str):
            changes[text_field] = changes[text_field].strip()
    changed = apply_changes(post, changes, POST_UPDATABLE_FIELDS)
    if not changed and not asks_for_past_change(post, write.effective_at):
        return post
    check_effective_time(post, write.effective_at)
    if is_correction(post, write.effective_at):
        # Checked over the corrected stretch instead: its unit then, its heads then.
        save_revision(post, write)
        return post
    if not post.is_active:
        raise ValidationError(
            f"The post “{post}” is abolished.", code=Refusal.ABOLISHED
        )
    if "unit" in changed:
        check_unit_usable(post.unit, write.effective_at)
    _check_single_head(post.unit, post.is_head, exclude_pk=post.pk)
    save_revision(post, write)
    return post


@transaction.atomic
def post_abolish(
    *,
    post: Post | int,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> Post:
    """Abolish a post; whoever holds it stops holding it on the same date."""
    write = begin_write(user, reason, reason_visibility, effective_at)
    post = fresh(Post, post)
    check_version(post, expected_version)
    if not post.is_active:
        raise ValidationError(
            f"The post “{post}” is already abolished.", code=Refusal.ABOLISHED
        )
    check_effective_time(post, write.effective_at)
    for appointment in post.appointments.filter(ended_on__isnull=True):
        appointment_end(
            appointment=appointment,
            ended_on=write.effective_at.date(),
            **write.keywords(),
        )
    post.abolished_on = write.effective_at.date()
    save_revision(post, write)
    return post


@transaction.atomic
def post_end_holder(
    *,
    post: Post,
    ended_on: datetime.date,
    user: Actor,
    reason: str,
    reason_visibility: str | None = None,
) -> Appointment:
    """End the appointment of whoever holds ``post`` now, on ``ended_on``.

    For callers that know the post but not the appointment (the admin's post rows);
    the holder is read under the registry lock, so it is the one that gets ended.
    """
    write = begin_write(user, reason, reason_visibility, None)
    post = fresh(Post, post)
    holder = post.appointments.filter(ended_on__isnull=True).first()
    if holder is None:
        raise ValidationError(
            f"Nobody holds the post “{post}”, so no appointment can end.",
            code=Refusal.NOT_FOUND,
        )
    # Without an effective time: ``appointment_end`` dates it by ``ended_on``.
    return appointment_end(
        appointment=holder,
        ended_on=ended_on,
        user=write.user,
        reason=write.reason,
        reason_visibility=write.reason_visibility,
    )

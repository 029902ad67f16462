"""How a revert takes effect: undone from now, or the record corrected from the mistake.

A revert names the version to bring back. Undone from now (``undo``), it is a new change
effective now: the history keeps the mistake and shows it undone. Corrected
(``correct``), it is a correction of the past: a write effective at the mistaken
revision's own time (the revision that followed the version brought back, as known now)
restoring the values of the fields that revision changed. Being recorded later, it wins
the tie at that instant, so the mistake is seen only by reads ``known_at`` an instant
before the correction. The write goes through ``save_revision`` like any other (which
routes a write landing before later revisions to ``units.services.corrections``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from units.dates import moment_text
from units.models import REVISION_ORDER, RecordedModel
from units.services.refusals import Refusal
from units.services.revisions import EffectiveTime, Write


class RevertMode(models.TextChoices):
    """Undo from now, or correct the record from the mistake's own time."""

    UNDO = "undo", _("Undo from now")
    CORRECT = "correct", _("Correct the record")


# One sentence each, shown beside the choice wherever an editor makes it.
REVERT_MODE_HELP = {
    RevertMode.UNDO: _(
        "Takes effect now: the history keeps the mistake and shows it undone."
    ),
    RevertMode.CORRECT: _(
        "As if the change after this version had never been recorded; reports "
        "printed before today still show it."
    ),
}


def revert_mode(value: str | RevertMode) -> RevertMode:
    """The mode named by ``value``; an unknown one is refused with both names."""
    if value in RevertMode.values:
        return RevertMode(value)
    raise ValidationError(
        {
            "mode": ValidationError(
                f"“{value}” is not a way to revert: say undo (takes effect now) or "
                "correct (corrects the record from the mistake's own time).",
                code=Refusal.INVALID,
            )
        }
    )


@dataclass(frozen=True)
class Correction:
    """What correcting a mistaken revision writes: when, and which values."""

    # The history row of the mistaken revision (the one that followed the target).
    mistake: Any
    # Column (attname) -> the value the target version held, for each column the
    # mistake changed.
    values: dict[str, Any]

    @property
    def effective_at(self) -> datetime.datetime:
        return self.mistake.history_date

    def write(self, write: Write) -> Write:
        """``write``, effective at the mistake's own time instead of now."""
        return replace(write, effective_at=self.effective_at)


def version_to_revert(
    instance: RecordedModel, history_id: int, named: str | None = None
) -> Any:
    """The revision ``history_id`` of ``instance``; refused (404) if it is not one of
    its. ``named``: how the refusal names the object (default “its name”)."""
    target = instance.history.filter(history_id=history_id).first()
    if target is None:
        raise ValidationError(
            f"Version {history_id} is not a version of {named or f'“{instance}”'}.",
            code=Refusal.NOT_FOUND,
        )
    return target


def revision_after(instance: RecordedModel, target: Any) -> Any | None:
    """The revision in force right after ``target``, as known now (None: none).

    Ordered by effective time, then by record order; at each effective time the
    latest recorded row is the one in force (an earlier one was corrected).
    """
    history = instance.history.all()
    later = history.filter(
        models.Q(history_date__gt=target.history_date)
        | models.Q(history_date=target.history_date, history_id__gt=target.history_id)
    )
    first = later.order_by(*REVISION_ORDER).first()
    if first is None:
        return None
    return history.filter(history_date=first.history_date).order_by("-history_id")[0]


def correction_of(
    instance: RecordedModel,
    target: Any,
    columns: Iterable[str],
    *,
    effective_at: EffectiveTime = None,
) -> Correction:
    """What correcting the revision after ``target`` restores, or a refusal.

    ``columns``: the attnames a revert of this kind of object restores.
    """
    if effective_at is not None:
        raise ValidationError(
            {
                "effective_at": ValidationError(
                    "A correction takes effect when the mistake did; leave the "
                    "effective time empty.",
                    code=Refusal.INVALID,
                )
            }
        )
    mistake = revision_after(instance, target)
    if mistake is None:
        raise ValidationError(
            f"“{instance}” has no change after that version; there is nothing to "
            "correct.",
            code=Refusal.NO_CHANGE,
        )
    values = {
        column: getattr(target, column)
        for column in columns
        if getattr(mistake, column) != getattr(target, column)
    }
    if not values:
        raise ValidationError(
            f"The change of “{instance}” effective {moment_text(mistake.history_date)} "
            "already holds the values of that version; there is nothing to correct.",
            code=Refusal.NO_CHANGE,
        )
    return Correction(mistake=mistake, values=values)

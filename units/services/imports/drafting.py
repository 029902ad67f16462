"""An imported file's difference, shown or saved as a draft reorganization."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from units.models import Reorganization
from units.services.imports.differences import Change, difference
from units.services.imports.reading import read_table
from units.services.refusals import Refusal
from units.services.reorganizations.drafts import (
    operations_add,
    reorganization_create,
)
from units.services.revisions import Actor, EffectiveTime


def import_difference(content: bytes, filename: str = "") -> list[Change]:
    """What the file would change in the registry now (a dry run: nothing written).

    ``FileRefusal`` names every problem of the file by row and column.
    """
    return difference(read_table(content, filename))


@transaction.atomic
def reorganization_import(
    *,
    user: Actor,
    content: bytes,
    filename: str = "",
    title: str,
    reason: str,
    effective_at: EffectiveTime = None,
    reference: str = "",
    reason_visibility: str | None = None,
) -> Reorganization:
    """A draft reorganization of the file's difference with the registry.

    All or nothing: a file with a problem, or one that matches the registry, drafts
    nothing. The draft is validated as every draft is, then reviewed and approved like
    any other before anything in the registry changes.
    """
    changes = import_difference(content, filename)
    if not changes:
        raise ValidationError(
            "The file matches the registry: there is nothing to draft.",
            code=Refusal.NO_CHANGE,
        )
    reorganization = reorganization_create(
        user=user,
        title=title,
        reason=reason,
        effective_at=effective_at,
        reference=reference,
        reason_visibility=reason_visibility,
    )
    operations_add(
        reorganization=reorganization,
        user=user,
        operations=[(change.kind, change.payload) for change in changes],
    )
    reorganization.refresh_from_db()
    return reorganization

"""Who wrote the registry's history stays known: authors are deactivated, not deleted.

django-simple-history links each revision to its author with ``on_delete=SET_NULL``
(fixed in the library, with no option), so deleting a user silently erased the author
of every revision they wrote, and with it the audit trail. Deleting such a user is
refused before anything is written; deactivating them keeps both the account's name on
its revisions and the registry's cached answers, which name authors, true.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.deletion import ProtectedError
from django.utils.translation import ngettext


def _historical_models() -> list[type[models.Model]]:
    """Every model whose rows name an author through ``history_user``."""
    user_model = get_user_model()
    found = []
    for model in apps.get_models():
        try:
            field = model._meta.get_field("history_user")
        except FieldDoesNotExist:
            continue
        if field.is_relation and field.related_model is user_model:
            found.append(model)
    return found


def revisions_written_by(user: models.Model) -> int:
    """How many revisions of any tracked model name ``user`` as their author."""
    return sum(
        model._default_manager.filter(history_user=user).count()
        for model in _historical_models()
    )


def authorship_refusal(user: models.Model, revisions: int) -> str:
    """Why ``user`` cannot be deleted, and what to do instead."""
    return ngettext(
        "“%(user)s” wrote %(count)d revision of the registry. Deleting the user would "
        "erase its author, so it is refused: deactivate the user instead (untick "
        "“Active”, or use the action “Deactivate selected users”).",
        "“%(user)s” wrote %(count)d revisions of the registry. Deleting the user would "
        "erase their author, so it is refused: deactivate the user instead (untick "
        "“Active”, or use the action “Deactivate selected users”).",
        revisions,
    ) % {"user": user, "count": revisions}


def refuse_deleting_authors(sender: Any, instance: models.Model, **kwargs: Any) -> None:
    """``pre_delete`` of the user model: refuse, inside the delete's transaction.

    Raised before the collector sets anything to NULL, so a refused delete (from the
    shell, a script or a bulk queryset delete) changes nothing.
    """
    revisions = revisions_written_by(instance)
    if revisions:
        raise ProtectedError(authorship_refusal(instance, revisions), set())


__all__ = [
    "authorship_refusal",
    "refuse_deleting_authors",
    "revisions_written_by",
]

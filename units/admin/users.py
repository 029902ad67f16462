"""The admin's user pages: users who wrote history are deactivated, never deleted.

Kept in its own module: the other admin modules hold the registry's own models.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from units.authorship import authorship_refusal, revisions_written_by

User = get_user_model()


class RegistryUserAdmin(UserAdmin):
    """Django's user admin, refusing to delete authors and offering deactivation."""

    actions = ["deactivate_users"]

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[str]]:
        """List each author among ``objs`` as protected: the admin then refuses.

        The admin's delete page and its "delete selected" action both show protected
        objects as the reason nothing can be deleted, and delete nothing on POST.
        """
        deleted, counts, permissions_needed, protected = super().get_deleted_objects(
            objs, request
        )
        for user in objs:
            revisions = revisions_written_by(user)
            if revisions:
                protected = [*protected, authorship_refusal(user, revisions)]
        return deleted, counts, permissions_needed, protected

    @admin.action(
        description=_("Deactivate selected users (they keep their revisions)"),
        permissions=["change"],
    )
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # save() per user, not update(): the admin's log and any signals see each one.
        deactivated = 0
        for user in queryset.filter(is_active=True):
            user.is_active = False
            user.save(update_fields=["is_active"])
            deactivated += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d user deactivated; they can no longer sign in.",
                "%(count)d users deactivated; they can no longer sign in.",
                deactivated,
            )
            % {"count": deactivated},
            messages.SUCCESS,
        )


admin.site.unregister(User)
admin.site.register(User, RegistryUserAdmin)

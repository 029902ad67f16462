from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate, pre_delete
from django.utils.translation import gettext_lazy as _


class UnitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "units"
    verbose_name = _("Organization registry")

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from units.authorship import refuse_deleting_authors
        from units.roles import ensure_roles
        from units.services.revisions import stamp_history_row

        # The roles, after every migrate and flush (units/roles.py).
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="units.roles")
        # Every path that deletes a user (admin, shell, scripts) passes here first.
        pre_delete.connect(
            refuse_deleting_authors,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="units.refuse_deleting_authors",
        )
        # Every history row of every model: the visibility of its reason, and the
        # reorganization being applied, if one is.
        pre_create_historical_record.connect(
            stamp_history_row, dispatch_uid="units.stamp_history_row"
        )

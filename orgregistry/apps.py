from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(using: str, verbosity: int = 1, **kwargs: object) -> None:
    """Create the DatabaseCache table with the schema, wherever ``migrate`` runs.

    Every deployment runs ``migrate``, so CACHE_URL=db://… needs no step of its own;
    ``createcachetable`` does nothing when the table exists or no cache is a database.
    """
    call_command("createcachetable", database=using, verbosity=verbosity)


class OrgRegistryConfig(AppConfig):
    """The project itself, as an app only so that it hears ``post_migrate``."""

    name = "orgregistry"
    verbose_name = "orgregistry"

    def ready(self) -> None:
        post_migrate.connect(create_cache_table, sender=self)

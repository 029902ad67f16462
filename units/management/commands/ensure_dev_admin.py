"""Create the development superuser ``admin`` (password ``admin``) if it is missing.

Only on the embedded SQLite database: ``make run`` with a real ``DATABASE_URL`` must not
leave a superuser with a published password in it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

USERNAME = "admin"
# A well-known password, on purpose: this account exists only on development machines,
# which is why the command refuses to run with DEBUG off unless forced.
PASSWORD = "admin"  # noqa: S105


class Command(BaseCommand):
    help = (
        "Create the superuser admin/admin for local development if it does not exist. "
        "Refused when DEBUG is off, unless --force is given; skipped on any database "
        "but the embedded SQLite file, unless --any-database is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Create the account even though DEBUG is off (never in production).",
        )
        parser.add_argument(
            "--any-database",
            action="store_true",
            help=(
                "Create the account even in the database DATABASE_URL names (a "
                "development copy only; never a database real people use)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to create a superuser with a well-known password while DEBUG "
                "is off. This command is for development only; pass --force if this "
                "really is a development machine."
            )
        if not settings.DISPOSABLE_DATABASE and not options["any_database"]:
            # Not an error: `make run` goes on to serve, and the people of that
            # database sign in with their own accounts.
            self.stderr.write(
                f"Skipped: the development account “{USERNAME}” is created only in the "
                "embedded SQLite database, and DATABASE_URL names another database. "
                "Sign in with an account of that database, or pass --any-database if "
                "it really is a development copy."
            )
            return
        user_model = get_user_model()
        if user_model.objects.filter(**{user_model.USERNAME_FIELD: USERNAME}).exists():
            self.stdout.write(
                f"The user “{USERNAME}” already exists; it was left unchanged."
            )
        else:
            # No group membership: a superuser needs none, and groups are the roles
            # given to real editors.
            user_model.objects.create_superuser(
                **{user_model.USERNAME_FIELD: USERNAME}, email="", password=PASSWORD
            )
            self.stdout.write(
                self.style.SUCCESS(f"Created the superuser “{USERNAME}”.")
            )
        self.stdout.write(
            f"Username: {USERNAME}  Password: {PASSWORD}  (development only)"
        )

"""Create the development superuser ``admin`` (password ``admin``) if it is missing."""

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
        "Refused when DEBUG is off, unless --force is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Create the account even though DEBUG is off (never in production).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to create a superuser with a well-known password while DEBUG "
                "is off. This command is for development only; pass --force if this "
                "really is a development machine."
            )
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

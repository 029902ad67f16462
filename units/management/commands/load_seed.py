"""Load the organization's structure from a JSON structure file, through the services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from units.seed import load_structure


class Command(BaseCommand):
    help = (
        "Load units, posts, people, appointments and relationships from a structure "
        "file. Objects already in the registry are skipped, so running it again "
        "changes nothing. A file with any error is refused whole."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            default=settings.BASE_DIR / "fixtures" / "iom_structure.json",
            help="Structure file to load (default: fixtures/iom_structure.json).",
        )
        parser.add_argument(
            "--user",
            default=None,
            help="Username recorded as the author of every revision (default: none).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user_model = get_user_model()
            try:
                user = user_model.objects.get_by_natural_key(options["user"])
            except user_model.DoesNotExist:
                raise CommandError(
                    f"There is no user “{options['user']}”; nothing was loaded."
                ) from None
        try:
            report = load_structure(options["file"], user=user)
        except ValidationError as error:
            problems = "\n".join(f"  - {message}" for message in error.messages)
            raise CommandError(
                f"The structure was not loaded (nothing was written):\n{problems}"
            ) from error
        self.stdout.write(report.summary())
        if report.total_created:
            self.stdout.write(
                self.style.SUCCESS(f"Loaded {report.total_created} objects.")
            )
        else:
            self.stdout.write("Nothing to do: everything was already loaded.")

"""Restore a backup written by export_registry into an empty registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from units.backup import BackupError, restore_registry


class Command(BaseCommand):
    help = (
        "Restore a registry and its full history from a file written by "
        "export_registry. Refused unless the registry is empty; all or nothing: a file "
        "with any error, or one that restores an inconsistent registry, changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Backup file to restore.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = restore_registry(options["path"])
        except BackupError as error:
            raise CommandError(f"Nothing was restored. {error}") from error
        self.stdout.write(report.summary())
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {sum(report.counts.values())} rows from {options['path']}."
            )
        )

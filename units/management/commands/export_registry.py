"""Write the whole registry with its full history to one backup file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from units.backup import BackupError, export_registry


class Command(BaseCommand):
    help = (
        "Export every unit, post, person, appointment and relationship with all their "
        "history rows (effective time, recorded time, author and reason) to one JSON "
        "Lines file, gzip-compressed when the name ends in .gz. Restore it with "
        "import_registry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", type=Path, help="File to write, e.g. backup.jsonl.gz"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite the file if it exists.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if path.exists() and not options["force"]:
            raise CommandError(
                f"{path} already exists; choose another name or pass --force."
            )
        try:
            counts = export_registry(path)
        except (BackupError, OSError) as error:
            raise CommandError(f"The backup was not written: {error}") from error
        for label, count in counts.items():
            self.stdout.write(f"  {label}: {count}")
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {sum(counts.values())} rows to {path}.")
        )

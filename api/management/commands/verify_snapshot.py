"""Check a snapshot zip: hashes and sizes, frictionless validation, the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.formats.snapshot_checks import (
    NotASnapshot,
    frictionless_problems,
    integrity,
    read_package,
    registry_differences,
)

# Exit statuses: 0 verified, MISMATCH a check failed, NOT_A_SNAPSHOT unreadable.
MISMATCH = 1
NOT_A_SNAPSHOT = 2


class Command(BaseCommand):
    help = (
        "Check a snapshot made by make_snapshot or /api/v1/export/snapshot.zip: every "
        "file's byte size and SHA-256 hash against datapackage.json, the frictionless "
        "library's validation, and with --against-registry that it is what the "
        "registry makes for its instant today. Exit status 0 if it verifies, 1 if a "
        "check fails (each problem names its resource), 2 if the file is not a "
        "snapshot."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The snapshot zip to check.")
        parser.add_argument(
            "--against-registry",
            action="store_true",
            help="Also compare it with what this registry makes for its as_of today.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            package = read_package(path.read_bytes())
        except OSError as error:
            raise CommandError(
                f"{path} cannot be read: {error}", returncode=NOT_A_SNAPSHOT
            ) from None
        except NotASnapshot as error:
            raise CommandError(
                f"{path} is not a snapshot: {error}", returncode=NOT_A_SNAPSHOT
            ) from None
        checks = [
            ("hashes and sizes", integrity),
            ("frictionless validation", frictionless_problems),
        ]
        if options["against_registry"]:
            checks.append(("the registry today", registry_differences))
        failed = 0
        for title, check in checks:
            problems = check(package)
            if problems:
                failed += len(problems)
                self.stderr.write(f"{title}: {len(problems)} problem(s)")
                for problem in problems:
                    self.stderr.write(f"  {problem}")
            else:
                self.stdout.write(f"{title}: ok")
        if failed:
            raise CommandError(
                f"{path} does not verify: {failed} problem(s).", returncode=MISMATCH
            )
        registry = package.descriptor.get("registry")
        as_of = registry.get("as_of") if isinstance(registry, dict) else None
        self.stdout.write(
            self.style.SUCCESS(
                f"{path} verifies: {len(package.resources)} resources as of "
                f"{as_of or '?'}."
            )
        )

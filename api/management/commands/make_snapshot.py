"""Write a verifiable snapshot of the registry at an instant to a zip file."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.formats.snapshot_checks import read_package
from api.formats.snapshots import (
    UnsettledRegistry,
    consistent_snapshot,
    instant_text,
    sha256,
    snapshot_instant,
)
from units import selectors


def site_origin(value: str) -> str:
    """``https://registry.example.org`` (scheme and host only): what the exports'
    addresses start with, as the API's requests give it."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise CommandError(
            f"--base-url: “{value}” is not an http(s) origin such as "
            "https://registry.example.org."
        )
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise CommandError(
            f"--base-url: “{value}” has a path; give the scheme and host only "
            "(https://registry.example.org)."
        )
    return f"{parts.scheme}://{parts.netloc}"


class Command(BaseCommand):
    help = (
        "Write every export of the registry at an instant (JSON tree, CSV, JSON-LD, "
        "Popolo) as a Frictionless Data Package zip: the same bytes as "
        "/api/v1/export/snapshot.zip for that instant and origin. Check one with "
        "verify_snapshot."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            help="The instant (ISO 8601 date, the end of that day UTC, or date-time); "
            "default now. A future instant is refused.",
        )
        parser.add_argument(
            "--output", type=Path, required=True, help="The zip file to write."
        )
        parser.add_argument(
            "--base-url",
            required=True,
            dest="origin",
            help="Scheme and host the exports' addresses start with, as the API "
            "serves them (https://registry.example.org).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Overwrite the file if it exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["output"]
        origin = site_origin(options["origin"])
        text = options["as_of"]
        try:
            asked = None if text is None else selectors.parse_instant(text)
            when = snapshot_instant(asked, text=text)
        except selectors.InvalidInstant as error:
            raise CommandError(str(error).replace("as_of:", "--as-of:", 1)) from None
        if path.exists() and not options["force"]:
            raise CommandError(
                f"{path} already exists; choose another name or pass --force."
            )
        try:
            data = consistent_snapshot(when, origin)
        except UnsettledRegistry as error:
            raise CommandError(str(error)) from error
        try:
            path.write_bytes(data)
        except OSError as error:
            raise CommandError(f"The snapshot was not written: {error}") from error
        package = read_package(data)
        for resource in package.resources:
            self.stdout.write(
                f"  {resource['path']}: {resource['bytes']} bytes, {resource['hash']}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote the snapshot as of {instant_text(when)} to {path} "
                f"({sha256(data)})."
            )
        )

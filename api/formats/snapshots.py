"""Verifiable snapshots: every export at one instant, as a Frictionless Data Package.

A snapshot is a zip holding ``datapackage.json`` and one file per export
(``RESOURCES``), each made by the same builder as its API endpoint. The descriptor
names each file's format, media type, byte size and SHA-256 hash (a Table Schema for
the CSV), the registry's name, the instant, the registry's generation for that
instant and when it was made.

**Asked again for the same instant, a snapshot is the same bytes**, so a hash
published once identifies it for good:

- the resources hold no timestamp and list everything in a fixed order;
- the zip's entries come in a fixed order, with a fixed time (1980-01-01, the
  earliest a zip can say), permissions and system;
- the generation is not ``registry_generation`` (every write moves it, even one
  effective years after the instant) but ``generation_at``: what moves only when a
  change effective at or before the instant is recorded; and the time the package
  was "made" (``created``) is when the newest of those changes was recorded, the
  moment this content came to be. Until the registry's record of that instant
  changes, every request makes this same package.

Only a past instant is snapshotted: a future one is a 400 (its content would change
as time reaches it). A snapshot read while a change touching its instant is written
is read again (``consistent_snapshot``). The zip's compressed bytes are those of the
zlib that made them; the resources' hashes in ``datapackage.json`` never depend on it.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from api.formats.exports import UNITS_CSV_SCHEMA, org_jsonld, popolo_json, units_csv
from api.formats.state import RegistryAt
from api.formats.tree_json import whole_tree_json
from api.formats.workbook import units_workbook
from units import selectors

DESCRIPTOR = "datapackage.json"
# The earliest time a zip entry can carry: no clock reading goes into the file.
ZIP_ENTRY_TIME = (1980, 1, 1, 0, 0, 0)
# Reads of a snapshot retried when a change touching its instant lands meanwhile.
CONSISTENT_READ_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Resource:
    """One export in a snapshot: its file and the builder that makes its bytes."""

    name: str
    path: str
    format: str
    mediatype: str
    title: str
    build: Callable[[RegistryAt, str], bytes]
    schema: dict[str, Any] | None = None  # a Table Schema, for a table
    encoding: str | None = "utf-8"  # None for a binary file (a workbook)


# Every export a snapshot holds, in the order it holds them. A new export is one
# entry here (its builder: the registry at an instant and the origin to bytes, with
# no clock reading in them); its endpoint calls the same builder.
RESOURCES: tuple[Resource, ...] = (
    Resource(
        "tree",
        "tree.json",
        "json",
        "application/json",
        "The whole tree, nested, abolished units included (tree/)",
        whole_tree_json,
    ),
    Resource(
        "units",
        "units.csv",
        "csv",
        "text/csv",
        "Units in tree order (export/units.csv)",
        units_csv,
        UNITS_CSV_SCHEMA,
    ),
    Resource(
        "workbook",
        "units.xlsx",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Units, posts and dotted lines as an Excel workbook, without an export time "
        "(export/units.xlsx)",
        units_workbook,
        encoding=None,
    ),
    Resource(
        "org",
        "org.jsonld",
        "jsonld",
        "application/ld+json",
        "The W3C Organization Ontology graph (export/org.jsonld)",
        org_jsonld,
    ),
    Resource(
        "popolo",
        "popolo.json",
        "json",
        "application/json",
        "Popolo organizations, posts, persons, memberships (export/popolo.json)",
        popolo_json,
    ),
)


class FutureInstant(selectors.InvalidInstant):
    """A snapshot asked for an instant that has not passed yet."""


class UnsettledRegistry(Exception):
    """Changes touching the instant kept landing while the snapshot was read."""


def instant_text(when: datetime.datetime) -> str:
    """An instant as a snapshot writes it: ISO 8601, UTC, ``Z``."""
    return when.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def snapshot_instant(
    when: datetime.datetime | None, *, text: str | None = None
) -> datetime.datetime:
    """The instant to snapshot: ``when``, or now if None; a future one is refused."""
    now = timezone.now()
    if when is None:
        return now
    if when > now:
        raise FutureInstant(
            f"as_of: “{text or instant_text(when)}” is in the future. A snapshot is "
            "of an instant that has passed, so that it never changes: give an earlier "
            "date or date-time, or leave as_of out for now."
        )
    return when


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(
    when: datetime.datetime,
    origin: str,
    files: dict[str, bytes],
    generation: selectors.GenerationAt,
) -> dict[str, Any]:
    """The ``datapackage.json`` of a snapshot whose resources are ``files``."""
    as_of = instant_text(when)
    known_at = selectors.current_known_at()
    package: dict[str, Any] = {
        "profile": "data-package",
        "name": slugify(settings.REGISTRY_NAME).replace("_", "-") or "registry",
        "title": f"{settings.REGISTRY_NAME} as of {as_of}",
        "description": (
            "Every export of the registry as it stood at as_of. Asked again for "
            "this instant, the registry makes these same bytes until a change "
            "effective at or before it is recorded; created is when the newest "
            "such change was recorded."
        ),
    }
    if generation.recorded_at is not None:
        package["created"] = instant_text(generation.recorded_at)
    package["registry"] = {
        "name": settings.REGISTRY_NAME,
        "as_of": as_of,
        # What the registry had recorded by then, when read so (``known_at``).
        **({} if known_at is None else {"known_at": instant_text(known_at)}),
        "origin": origin,
        "generation": {
            "epoch": generation.epoch,
            "newest_revisions": generation.newest_ids,
        },
    }
    resources = []
    for resource in RESOURCES:
        data = files[resource.path]
        entry: dict[str, Any] = {
            "name": resource.name,
            "path": resource.path,
            "title": resource.title,
            "format": resource.format,
            "mediatype": resource.mediatype,
            "bytes": len(data),
            "hash": sha256(data),
        }
        if resource.encoding is not None:
            entry["encoding"] = resource.encoding
        if resource.schema is not None:
            entry["profile"] = "tabular-data-resource"
            entry["schema"] = resource.schema
        resources.append(entry)
    package["resources"] = resources
    return package


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    """A zip of ``entries`` in that order, with nothing that varies between runs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_ENTRY_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever system writes it
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=6)
    return buffer.getvalue()


def snapshot_zip(when: datetime.datetime, origin: str) -> bytes:
    """The snapshot of the registry at ``when`` (read once; see the module)."""
    state = RegistryAt(when)
    files = {resource.path: resource.build(state, origin) for resource in RESOURCES}
    package = descriptor(when, origin, files, selectors.generation_at(when))
    text = json.dumps(package, ensure_ascii=False, indent=2) + "\n"
    return _zip([(DESCRIPTOR, text.encode()), *files.items()])


def consistent_snapshot(when: datetime.datetime, origin: str) -> bytes:
    """``snapshot_zip``, read again if a change touching ``when`` landed meanwhile.

    Its exports are several reads; a backdated change recorded between two of them
    would leave them disagreeing. The freshness stamp taken before says whether one
    did (``selectors.still_valid``).
    """
    for _attempt in range(CONSISTENT_READ_ATTEMPTS):
        stamp = selectors.stamp_now()
        data = snapshot_zip(when, origin)
        if selectors.still_valid(stamp, when) is not None:
            return data
    raise UnsettledRegistry(
        f"Changes effective at or before {instant_text(when)} kept being recorded "
        f"while the snapshot was read ({CONSISTENT_READ_ATTEMPTS} attempts); try again."
    )

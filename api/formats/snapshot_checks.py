"""Checking a snapshot (``api.formats.snapshots``): is this file what it says it is?

Three checks, each a list of problems that name the resource they concern:

- ``integrity``: every file ``datapackage.json`` describes is in the zip, with the
  byte size and SHA-256 hash it states, and the zip holds nothing else;
- ``frictionless_problems``: the frictionless library's own validation of the
  package (the descriptor's profile, hashes and sizes again, the CSV against its
  Table Schema: types, the slug as key, every parent naming a unit of the file);
- ``registry_differences``: the package is, byte for byte, the snapshot the
  registry makes for its instant today (a change effective at or before it recorded
  since, or a changed file, shows up as the resource that differs).

A file that is not a snapshot at all (not a zip, no ``datapackage.json``, a
descriptor that is not a JSON object of resources) raises ``NotASnapshot``.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.formats.snapshots import DESCRIPTOR, sha256, snapshot_zip
from units import selectors

# A package bigger than this unpacked is refused before anything is read into memory
# (a zip bomb is a few kilobytes that unpack to gigabytes).
MAX_UNPACKED_BYTES = 4 * 1024**3


class NotASnapshot(Exception):
    """The file cannot be read as a snapshot; the message says why."""


@dataclass(slots=True)
class Package:
    """A snapshot as read from its zip: the descriptor and every file by name."""

    descriptor: dict[str, Any]
    files: dict[str, bytes]

    @property
    def resources(self) -> list[dict[str, Any]]:
        return list(self.descriptor["resources"])


def read_package(data: bytes) -> Package:
    """The descriptor and files of the zip ``data``; NotASnapshot if it is none."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise NotASnapshot("not a zip file.") from None
    with archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
            raise NotASnapshot(
                f"it unpacks to more than {MAX_UNPACKED_BYTES} bytes; not a snapshot."
            )
        names = [info.filename for info in infos]
        if DESCRIPTOR not in names:
            raise NotASnapshot(f"the zip holds no {DESCRIPTOR}.")
        try:
            files = {name: archive.read(name) for name in names}
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise NotASnapshot(f"the zip cannot be read ({error}).") from None
    try:
        descriptor = json.loads(files.pop(DESCRIPTOR))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotASnapshot(f"{DESCRIPTOR} is not JSON ({error}).") from None
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list) or not all(
        isinstance(resource, dict) and isinstance(resource.get("path"), str)
        for resource in resources
    ):
        raise NotASnapshot(
            f"{DESCRIPTOR} describes no resources (a JSON object whose resources "
            "each have a path)."
        )
    return Package(descriptor, files)


def _label(resource: dict[str, Any]) -> str:
    return f"{resource.get('name', '?')} ({resource['path']})"


def integrity(package: Package) -> list[str]:
    """Each described file present with its stated size and hash; no other file."""
    problems = []
    described = set()
    for resource in package.resources:
        label, path = _label(resource), resource["path"]
        described.add(path)
        data = package.files.get(path)
        if data is None:
            problems.append(f"{label}: missing from the package.")
            continue
        if resource.get("bytes") != len(data):
            problems.append(
                f"{label}: {len(data)} bytes, but {DESCRIPTOR} says "
                f"{resource.get('bytes')}."
            )
        if resource.get("hash") != sha256(data):
            problems.append(
                f"{label}: its SHA-256 hash is {sha256(data)}, but {DESCRIPTOR} says "
                f"{resource.get('hash')}."
            )
    for path in sorted(set(package.files) - described):
        problems.append(f"{path}: in the zip but not described in {DESCRIPTOR}.")
    return problems


def _safe_name(path: str) -> bool:
    """A plain file name: nothing written outside the folder it is unpacked into."""
    return bool(path) and Path(path).name == path and path not in {".", ".."}


def _references(package: Package) -> list[tuple[str, Any]]:
    """The descriptor's values that frictionless would load from elsewhere."""
    found = [
        (DESCRIPTOR, package.descriptor.get(key)) for key in ("profile", "$schema")
    ]
    for resource in package.resources:
        found += [
            (_label(resource), resource.get(key))
            for key in ("profile", "$schema", "schema", "dialect")
        ]
    return found


def frictionless_problems(package: Package) -> list[str]:
    """What the frictionless library's validation of the package reports.

    A package that points at something elsewhere (a profile, schema or dialect by
    address) is refused first: checking a file never fetches anything.
    """
    import frictionless  # a large import, only when a package is checked

    remote = [
        f"{where}: refers to {value}; a snapshot's checks load nothing from elsewhere."
        for where, value in _references(package)
        if isinstance(value, str) and "/" in value
    ]
    if remote:
        return remote
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for resource in package.resources:
            path = resource["path"]
            if not _safe_name(path):
                return [f"{_label(resource)}: not a plain file name; not unpacked."]
            if path in package.files:
                (root / path).write_bytes(package.files[path])
        (root / DESCRIPTOR).write_text(json.dumps(package.descriptor))
        report = frictionless.validate(str(root / DESCRIPTOR), type="package")
    problems = [f"{DESCRIPTOR}: {error.message}" for error in report.errors]
    for task in report.tasks:
        problems.extend(f"{task.name}: {error.message}" for error in task.errors)
    return problems


def registry_differences(package: Package) -> list[str]:
    """Where the package differs from what the registry makes for its instant today."""
    registry = package.descriptor.get("registry")
    if not isinstance(registry, dict) or not all(
        isinstance(registry.get(key), str) for key in ("as_of", "origin")
    ):
        return [f"{DESCRIPTOR}: names no registry as_of and origin to compare with."]
    try:
        when = selectors.parse_instant(registry["as_of"])
        known_at = (
            None
            if registry.get("known_at") is None
            else selectors.parse_instant(
                str(registry["known_at"]), parameter="known_at"
            )
        )
    except selectors.InvalidInstant as error:
        return [f"{DESCRIPTOR}: {error}"]
    with selectors.reading_as_known_at(known_at):
        today = read_package(snapshot_zip(when, registry["origin"]))
    problems = []
    for resource in today.resources:
        path = resource["path"]
        if path not in package.files:
            problems.append(f"{_label(resource)}: missing; the registry makes it.")
        elif package.files[path] != today.files[path]:
            problems.append(
                f"{_label(resource)}: differs from what the registry says for "
                f"{registry['as_of']} today ({resource['hash']})."
            )
    for key in sorted(set(package.descriptor) | set(today.descriptor)):
        if key != "resources" and package.descriptor.get(key) != today.descriptor.get(
            key
        ):
            problems.append(
                f"{DESCRIPTOR}: {key} differs from the registry's today: "
                f"{json.dumps(today.descriptor.get(key), ensure_ascii=False)}."
            )
    if not problems and package.descriptor != today.descriptor:
        problems.append(f"{DESCRIPTOR}: its resources differ from the registry's.")
    return problems

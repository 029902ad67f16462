"""Issue 18: make_snapshot writes the package the API serves; verify_snapshot checks one
(hashes and sizes, frictionless validation, the registry today) and says what is wrong."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.conftest import ScriptedHistory, at
from units import services

pytestmark = pytest.mark.django_db

PAST = "2023-07-01"
ORIGIN = "http://testserver"


def make(path: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "make_snapshot",
        "--as-of",
        PAST,
        "--output",
        str(path),
        "--base-url",
        ORIGIN,
        *extra,
        stdout=out,
    )
    return out.getvalue()


def verify(path: Path, *extra: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_snapshot", str(path), *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path: Path, *extra: str) -> tuple[CommandError, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "verify_snapshot", str(path), *extra, stdout=io.StringIO(), stderr=err
        )
    return raised.value, err.getvalue()


def rewritten(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """``source`` with some members replaced (bytes) or left out (None)."""
    with (
        zipfile.ZipFile(source) as original,
        zipfile.ZipFile(target, "w") as copy,
    ):
        for name in original.namelist():
            data = change.get(name, original.read(name))
            if data is not None:
                copy.writestr(name, data)
    return target


@pytest.fixture
def snapshot(tmp_path: Path, scripted_history: ScriptedHistory) -> Path:
    path = tmp_path / "snapshot.zip"
    make(path)
    return path


def test_two_runs_write_identical_files_equal_to_the_api_answer(
    tmp_path: Path, snapshot: Path, client: Client
) -> None:
    again = tmp_path / "again.zip"
    output = make(again)

    assert again.read_bytes() == snapshot.read_bytes()
    api = client.get("/api/v1/export/snapshot.zip", {"as_of": PAST})
    assert api.content == snapshot.read_bytes()
    assert "units.csv:" in output
    assert "Wrote the snapshot as of 2023-07-01T23:59:59.999999Z" in output


def test_a_fresh_snapshot_verifies_against_the_registry(snapshot: Path) -> None:
    out, err = verify(snapshot, "--against-registry")

    assert err == ""
    assert "hashes and sizes: ok" in out
    assert "frictionless validation: ok" in out
    assert "the registry today: ok" in out
    assert "verifies: 5 resources as of 2023-07-01T23:59:59.999999Z" in out


def test_one_changed_byte_is_found_and_named(snapshot: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(snapshot) as archive:
        data = bytearray(archive.read("popolo.json"))
    data[10] = ord("X") if data[10] != ord("X") else ord("Y")
    changed = rewritten(snapshot, tmp_path / "changed.zip", {"popolo.json": data})

    error, err = refused(changed, "--against-registry")

    assert error.returncode == 1
    assert "does not verify" in str(error)
    assert "popolo (popolo.json): its SHA-256 hash is sha256:" in err
    assert "frictionless validation: 1 problem(s)" in err
    assert "popolo: The data source does not match the expected hash count" in err
    assert "popolo (popolo.json): differs from what the registry says" in err
    assert "units.csv" not in err


def test_a_removed_resource_is_found_and_named(snapshot: Path, tmp_path: Path) -> None:
    removed = rewritten(snapshot, tmp_path / "removed.zip", {"units.csv": None})

    error, err = refused(removed)

    assert error.returncode == 1
    assert "units (units.csv): missing from the package." in err


def test_a_file_the_descriptor_does_not_describe_is_found(
    snapshot: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(snapshot, "a") as archive:
        archive.writestr("extra.txt", b"smuggled")

    error, err = refused(snapshot)

    assert error.returncode == 1
    assert "extra.txt: in the zip but not described in datapackage.json." in err


def test_a_csv_that_breaks_its_table_schema_is_found_by_frictionless(
    snapshot: Path, tmp_path: Path
) -> None:
    """The hash and size are restated, so only the schema can tell."""
    with zipfile.ZipFile(snapshot) as archive:
        descriptor = json.loads(archive.read("datapackage.json"))
        rows = archive.read("units.csv").replace(b",hq,", b",nowhere,", 1)
    (units,) = [r for r in descriptor["resources"] if r["name"] == "units"]
    units["bytes"], units["hash"] = (
        len(rows),
        "sha256:" + hashlib.sha256(rows).hexdigest(),
    )
    forged = rewritten(
        snapshot,
        tmp_path / "forged.zip",
        {"units.csv": rows, "datapackage.json": json.dumps(descriptor).encode()},
    )

    error, err = refused(forged)

    assert error.returncode == 1
    assert "hashes and sizes" not in err
    assert "units: Row at position" in err
    assert "violates the foreign key" in err


def test_a_backdated_change_since_makes_it_differ_from_the_registry(
    snapshot: Path, scripted_history: ScriptedHistory, editor
) -> None:
    services.unit_update(
        unit=scripted_history.unit_y,
        user=editor,
        reason="Named otherwise then",
        name="Unit Why",
        effective_at=at("2023-06-15"),
    )

    assert "verifies" in verify(snapshot)[0]  # still intact as a file
    error, err = refused(snapshot, "--against-registry")

    assert error.returncode == 1
    assert "tree (tree.json): differs from what the registry says for" in err
    assert "units (units.csv): differs" in err
    assert "datapackage.json: created differs" in err
    assert "datapackage.json: registry differs" in err


def test_a_change_effective_after_the_instant_leaves_it_matching(
    snapshot: Path, scripted_history: ScriptedHistory, editor
) -> None:
    services.unit_update(
        unit=scripted_history.unit_y, user=editor, reason="Rename", name="Unit Why"
    )

    assert "the registry today: ok" in verify(snapshot, "--against-registry")[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"plain text, not a zip", "is not a snapshot: not a zip file."),
        (None, "is not a snapshot: the zip holds no datapackage.json."),
        (b"{not json", "is not a snapshot: datapackage.json is not JSON"),
        (b'{"resources": 3}', "datapackage.json describes no resources"),
    ],
)
def test_a_file_that_is_no_snapshot_exits_2_saying_why(
    tmp_path: Path, db: None, content: bytes | None, message: str
) -> None:
    path = tmp_path / "input.zip"
    if content is None or content.startswith(b"{"):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("units.csv", b"slug\n")
            if content is not None:
                archive.writestr("datapackage.json", content)
    else:
        path.write_bytes(content)

    error, _ = refused(path)

    assert error.returncode == 2
    assert message in str(error)


def test_a_missing_file_exits_2(tmp_path: Path, db: None) -> None:
    error, _ = refused(tmp_path / "nowhere.zip")

    assert error.returncode == 2
    assert "cannot be read" in str(error)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--as-of", "2999-01-01"), "--as-of: “2999-01-01” is in the future."),
        (("--as-of", "last week"), "--as-of: “last week” is not an ISO 8601 date"),
        (("--base-url", "registry.example.org"), "is not an http(s) origin"),
        (("--base-url", "https://example.org/api/"), "has a path"),
    ],
)
def test_make_snapshot_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, scripted_history: ScriptedHistory, arguments, message: str
) -> None:
    path = tmp_path / "out.zip"
    options = {"--as-of": PAST, "--base-url": ORIGIN}
    options.update(dict(zip(arguments[::2], arguments[1::2], strict=True)))
    flat = [part for pair in options.items() for part in pair]

    with pytest.raises(CommandError, match="") as raised:
        call_command("make_snapshot", "--output", str(path), *flat)

    assert message in str(raised.value)
    assert not path.exists()


def test_make_snapshot_keeps_an_existing_file_unless_forced(snapshot: Path) -> None:
    snapshot.write_bytes(b"mine")
    with pytest.raises(CommandError, match="already exists"):
        make(snapshot)
    assert snapshot.read_bytes() == b"mine"

    make(snapshot, "--force")
    assert "verifies" in verify(snapshot)[0]


def test_without_as_of_it_snapshots_now_and_says_when(
    tmp_path: Path, scripted_history: ScriptedHistory, client: Client
) -> None:
    path = tmp_path / "now.zip"
    out = io.StringIO()
    call_command(
        "make_snapshot", "--output", str(path), "--base-url", ORIGIN, stdout=out
    )

    with zipfile.ZipFile(path) as archive:
        as_of = json.loads(archive.read("datapackage.json"))["registry"]["as_of"]
    assert f"Wrote the snapshot as of {as_of}" in out.getvalue()
    assert "the registry today: ok" in verify(path, "--against-registry")[0]
    api = client.get("/api/v1/export/snapshot.zip", {"as_of": as_of})
    assert api.content == path.read_bytes()


def test_a_descriptor_pointing_elsewhere_is_refused_without_fetching(
    snapshot: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(snapshot) as archive:
        descriptor = json.loads(archive.read("datapackage.json"))
    (units,) = [r for r in descriptor["resources"] if r["name"] == "units"]
    units["schema"] = "https://example.org/schema.json"
    forged = rewritten(
        snapshot,
        tmp_path / "remote.zip",
        {"datapackage.json": json.dumps(descriptor).encode()},
    )

    error, err = refused(forged)

    assert error.returncode == 1
    assert (
        "units (units.csv): refers to https://example.org/schema.json; a snapshot's "
        "checks load nothing from elsewhere." in err
    )

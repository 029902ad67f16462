"""Issue 18: /api/v1/export/snapshot.zip, every export at one instant as a verifiable
Frictionless Data Package that is the same bytes each time it is asked for."""

from __future__ import annotations

import csv
import datetime
import io
import json
import zipfile
from http import HTTPStatus

import openpyxl
import pytest
from django.core.cache import cache
from django.test import Client

from api.formats import snapshots
from api.formats.snapshot_checks import (
    frictionless_problems,
    integrity,
    read_package,
    registry_differences,
)
from tests.conftest import ScriptedHistory, at
from units import services

pytestmark = pytest.mark.django_db

API = "/api/v1/"
SNAPSHOT = f"{API}export/snapshot.zip"
PAST = "2022-02-01"
EXPORTS = {
    "tree.json": "tree/?include_abolished=true&as_of=",
    "units.csv": "export/units.csv?as_of=",
    "units.xlsx": "export/units.xlsx?as_of=",
    "org.jsonld": "export/org.jsonld?as_of=",
    "popolo.json": "export/popolo.json?as_of=",
}


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_two_requests_for_a_past_instant_are_the_same_bytes(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    first = client.get(SNAPSHOT, {"as_of": PAST})
    # Not from the cache: the second is built again from the database.
    cache.clear()
    second = client.get(SNAPSHOT, {"as_of": PAST})

    assert first.status_code == second.status_code == HTTPStatus.OK
    assert first["Content-Type"] == "application/zip"
    assert first["Content-Disposition"] == (
        'attachment; filename="snapshot-20220201T235959Z.zip"'
    )
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]


def test_a_write_effective_after_the_instant_leaves_the_bytes_as_they_were(
    client: Client, scripted_history: ScriptedHistory, editor
) -> None:
    before = client.get(SNAPSHOT, {"as_of": PAST}).content
    services.unit_update(
        unit=scripted_history.unit_y, user=editor, reason="Rename", name="Unit Why"
    )
    cache.clear()
    assert client.get(SNAPSHOT, {"as_of": PAST}).content == before


def test_a_backdated_write_changes_the_snapshot_of_its_instant(
    client: Client, scripted_history: ScriptedHistory, editor
) -> None:
    before = client.get(SNAPSHOT, {"as_of": PAST})
    services.unit_update(
        unit=scripted_history.root,
        user=editor,
        reason="Renamed back then",
        name="Head Quarters",
        effective_at=at("2022-01-15"),
    )
    after = client.get(SNAPSHOT, {"as_of": PAST}, HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == HTTPStatus.OK
    assert after["ETag"] != before["ETag"]
    old, new = read_package(before.content), read_package(after.content)
    assert old.files["popolo.json"] != new.files["popolo.json"]
    assert new.descriptor["created"] > old.descriptor["created"]
    assert (
        new.descriptor["registry"]["generation"]
        != old.descriptor["registry"]["generation"]
    )
    assert registry_differences(old) != []
    assert registry_differences(new) == []


def test_the_package_holds_each_export_as_its_endpoint_sends_it(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    files = members(client.get(SNAPSHOT, {"as_of": PAST}).content)

    assert list(files) == ["datapackage.json", *EXPORTS]
    for path, address in EXPORTS.items():
        sent = client.get(f"{API}{address}{PAST}").content
        if path.endswith(".xlsx"):
            # The endpoint's workbook says when it was exported; the package's does
            # not (its descriptor does): every sheet but that line is the same.
            assert workbook_cells(files[path]) == workbook_cells(sent, exported=True)
        else:
            assert files[path] == sent, path


def workbook_cells(data: bytes, *, exported: bool = False) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}
    if exported:
        assert cells["About"][-1][0] == "Exported at (UTC)"
        cells["About"] = cells["About"][:-1]
    return cells


def test_the_descriptor_describes_every_resource(
    client: Client, scripted_history: ScriptedHistory, settings
) -> None:
    settings.REGISTRY_NAME = "Registry of Tests"
    package = read_package(client.get(SNAPSHOT, {"as_of": PAST}).content)
    descriptor = package.descriptor

    assert descriptor["name"] == "registry-of-tests"
    assert descriptor["registry"]["name"] == "Registry of Tests"
    assert descriptor["registry"]["as_of"] == "2022-02-01T23:59:59.999999Z"
    assert descriptor["registry"]["origin"] == "http://testserver"
    generation = descriptor["registry"]["generation"]
    assert set(generation["newest_revisions"]) == {
        "units",
        "posts",
        "people",
        "appointments",
        "relationships",
        "lineage",
    }
    # Made when the newest change effective by then was recorded (the move of X).
    assert descriptor["created"].startswith("20")
    assert [resource["name"] for resource in package.resources] == [
        "tree",
        "units",
        "workbook",
        "org",
        "popolo",
    ]
    for resource in package.resources:
        data = package.files[resource["path"]]
        assert resource["bytes"] == len(data)
        assert resource["hash"] == snapshots.sha256(data)
        assert resource["mediatype"]
        assert resource["format"]
    (units,) = [r for r in package.resources if r["name"] == "units"]
    assert [field["name"] for field in units["schema"]["fields"]] == next(
        csv.reader(io.StringIO(package.files["units.csv"].decode()))
    )


def test_frictionless_validates_the_package(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    package = read_package(client.get(SNAPSHOT, {"as_of": "2023-07-01"}).content)

    assert integrity(package) == []
    assert frictionless_problems(package) == []
    assert registry_differences(package) == []


def test_the_zip_has_fixed_entry_times_and_no_timestamp_in_the_resources(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    data = client.get(SNAPSHOT, {"as_of": PAST}).content
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {
            snapshots.ZIP_ENTRY_TIME
        }
    package = read_package(data)
    assert json.loads(package.files["popolo.json"])["organizations"]


def test_without_as_of_the_package_names_the_instant_it_is_of(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get(SNAPSHOT)
    assert response["Content-Disposition"] == 'attachment; filename="snapshot.zip"'
    package = read_package(response.content)
    as_of = package.descriptor["registry"]["as_of"]

    again = client.get(SNAPSHOT, {"as_of": as_of})
    assert again.content == response.content


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("tomorrow", "as_of: “tomorrow” is not an ISO 8601 date or date-time"),
        ("2023-13-01", "as_of: “2023-13-01” is not a valid date"),
        ("2999-01-01", "as_of: “2999-01-01” is in the future."),
        ("2999-01-01T10:00:00Z", "as_of: “2999-01-01T10:00:00Z” is in the future."),
    ],
)
def test_a_malformed_or_future_as_of_is_400_naming_it(
    client: Client, scripted_history: ScriptedHistory, as_of: str, message: str
) -> None:
    response = client.get(SNAPSHOT, {"as_of": as_of})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["detail"]


def test_the_snapshot_sends_an_etag_and_honours_if_none_match(
    client: Client, scripted_history: ScriptedHistory, django_assert_num_queries
) -> None:
    first = client.get(SNAPSHOT, {"as_of": PAST})
    etag = first["ETag"]
    assert etag.startswith('"a') and "Cookie" in first["Vary"]

    # Checked against the stamp in one query: nothing is built or sent.
    with django_assert_num_queries(1):
        again = client.get(SNAPSHOT, {"as_of": PAST}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert not again.content


def test_a_read_that_a_backdated_change_overtakes_is_read_again(
    client: Client, scripted_history: ScriptedHistory, editor, monkeypatch
) -> None:
    """A change touching the instant recorded while the exports are read: the package
    is read again, so its files never disagree."""
    built: list[bytes] = []
    real = snapshots.snapshot_zip

    def with_a_change_meanwhile(when: datetime.datetime, origin: str) -> bytes:
        data = real(when, origin)
        if not built:
            services.unit_update(
                unit=scripted_history.root,
                user=editor,
                reason="Renamed back then",
                name="Head Quarters",
                effective_at=at("2022-01-15"),
            )
        built.append(data)
        return data

    monkeypatch.setattr(snapshots, "snapshot_zip", with_a_change_meanwhile)
    response = client.get(SNAPSHOT, {"as_of": PAST})

    assert len(built) == 2
    assert response.content == built[1] != built[0]
    assert b"Head Quarters" in read_package(response.content).files["units.csv"]


def test_an_instant_before_anything_was_recorded_is_an_empty_valid_package(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    package = read_package(client.get(SNAPSHOT, {"as_of": "2019-06-30"}).content)

    assert "created" not in package.descriptor  # nothing recorded was effective then
    assert package.files["units.csv"].decode().count("\n") == 1  # the header
    assert json.loads(package.files["tree.json"]) == []
    assert integrity(package) == frictionless_problems(package) == []


def test_a_registry_that_keeps_changing_the_instant_is_a_503(
    client: Client, scripted_history: ScriptedHistory, editor, monkeypatch
) -> None:
    real = snapshots.snapshot_zip
    names = iter(["One", "Two", "Three"])

    def with_a_change_every_time(when: datetime.datetime, origin: str) -> bytes:
        data = real(when, origin)
        services.unit_update(
            unit=scripted_history.root,
            user=editor,
            reason="Renamed back then",
            name=f"Head Quarters {next(names)}",
            effective_at=at("2022-01-15"),
        )
        return data

    monkeypatch.setattr(snapshots, "snapshot_zip", with_a_change_every_time)
    response = client.get(SNAPSHOT, {"as_of": PAST})

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "kept being recorded" in response.json()["detail"]
    assert "(3 attempts); try again." in response.json()["detail"]


def test_snapshots_draw_on_the_budget_of_the_costliest_answers(
    client: Client, scripted_history: ScriptedHistory, settings, editor
) -> None:
    settings.PAGE_THROTTLE_RATES = {
        **settings.PAGE_THROTTLE_RATES,
        "renders_anon": "2/minute",
        "renders_user": "3/minute",
    }
    statuses = [client.get(SNAPSHOT, {"as_of": PAST}).status_code for _ in range(3)]
    assert statuses == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    # The other exports keep the API's own limits.
    assert client.get(f"{API}export/units.csv").status_code == HTTPStatus.OK

    client.force_login(editor)
    signed_in = [client.get(SNAPSHOT, {"as_of": PAST}).status_code for _ in range(4)]
    assert signed_in == [HTTPStatus.OK] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]

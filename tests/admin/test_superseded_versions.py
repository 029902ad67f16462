"""A version a correction superseded stays readable in the admin, marked, not editable.

The history as known now no longer lists it (the correction replaced it at its
instant), but its "corrected on ...: was X" mark links to it, and its page says when
and by which version it was superseded, with no revert form.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import at
from tests.factories import UnitFactory
from units import selectors, services
from units.models import OrganizationalUnit

pytestmark = pytest.mark.django_db


def version_url(unit: OrganizationalUnit, history_id: int) -> str:
    return reverse("admin:units_organizationalunit_version", args=[unit.pk, history_id])


@pytest.fixture
def corrected(editor) -> tuple[OrganizationalUnit, int, int]:
    """A unit renamed by mistake in March, the rename then corrected away; with the
    mistake's history_id and that of the correction that replaced it."""
    unit = UnitFactory.create(
        user=editor, name="Archives", effective_at=at("2024-01-10")
    )
    services.unit_update(
        unit=unit,
        user=editor,
        reason="Renamed",
        effective_at=at("2024-03-01"),
        name="Archive Services",
    )
    original, mistake = unit.history.order_by("history_id")
    services.unit_revert(
        unit=unit,
        history_id=original.history_id,
        user=editor,
        reason="The rename never happened",
        mode="correct",
    )
    correction = unit.history.order_by("history_id").last()
    assert correction is not None
    assert correction.corrects_revision == mistake.history_id
    return unit, mistake.history_id, correction.history_id


def test_the_history_links_the_correction_to_the_version_it_superseded(
    editor_client, corrected
) -> None:
    unit, mistake, _correction = corrected
    page = editor_client.get(
        reverse("admin:units_organizationalunit_history", args=[unit.pk])
    )
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert f'href="{version_url(unit, mistake)}"' in html
    assert "was Archive Services" in html


def test_a_superseded_version_is_shown_with_its_note_and_no_form(
    editor_client, corrected
) -> None:
    unit, mistake, correction = corrected
    page = editor_client.get(version_url(unit, mistake))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert 'id="version-superseded"' in html
    assert "Superseded on" in html
    assert f'href="{version_url(unit, correction)}"' in html
    assert "Archive Services" in html
    assert 'id="revert-form"' not in html
    # Nothing editable: a revert posted to it is refused, nothing written.
    count = unit.history.count()
    refused = editor_client.post(
        version_url(unit, mistake),
        {"reason": "Back", "expected_version": 3, "mode": "undo"},
    )
    assert refused.status_code == HTTPStatus.CONFLICT
    assert unit.history.count() == count
    # The version that replaced it is an ordinary version, with no such note.
    replacing = editor_client.get(version_url(unit, correction)).content.decode()
    assert 'id="version-superseded"' not in replacing


def test_the_selector_reads_it_as_known_before_the_correction(corrected) -> None:
    unit, mistake, correction = corrected
    fields = ("name", "parent_id")
    version = selectors.object_version(OrganizationalUnit, unit.pk, mistake, fields)
    assert version is not None
    assert version.superseded_by == correction
    assert version.superseded_on == unit.history.get(history_id=correction).recorded_at
    assert not version.is_latest
    (change,) = version.revision.changes
    assert (change.old, change.new) == ("Archives", "Archive Services")
    assert selectors.object_version(OrganizationalUnit, unit.pk, "x", fields) is None
    assert selectors.object_version(OrganizationalUnit, unit.pk, 999, fields) is None


def test_the_api_answers_a_superseded_version(client, corrected) -> None:
    unit, mistake, correction = corrected
    history = client.get(f"/api/v1/units/{unit.slug}/history/").json()["results"]
    assert mistake not in [version["history_id"] for version in history]
    (march,) = [v for v in history if v["corrects_version"] == mistake]
    url = f"/api/v1/units/{unit.slug}/history/{march['corrects_version']}/"
    answer = client.get(url)
    assert answer.status_code == HTTPStatus.OK
    body = answer.json()
    assert body["history_id"] == mistake
    assert body["superseded_by"] == correction
    assert body["superseded_on"] == march["recorded_at"]
    assert [(c["field"], c["old"], c["new"]) for c in body["changes"]] == [
        ("name", "Archives", "Archive Services")
    ]
    current = client.get(f"/api/v1/units/{unit.slug}/history/{correction}/").json()
    assert (current["superseded_by"], current["superseded_on"]) == (None, None)
    assert client.get(f"/api/v1/units/{unit.slug}/history/99999/").status_code == (
        HTTPStatus.NOT_FOUND
    )


def test_reading_a_superseded_version_costs_the_same_however_long_the_history(
    corrected, editor
) -> None:
    unit, mistake, _correction = corrected
    fields = ("name", "parent_id")
    with CaptureQueriesContext(connection) as first:
        selectors.object_version(OrganizationalUnit, unit.pk, mistake, fields)
    for month in range(4, 10):
        services.unit_update(
            unit=unit,
            user=editor,
            reason="Renamed",
            effective_at=at(f"2024-{month:02d}-01"),
            name=f"Archives {month}",
        )
    with CaptureQueriesContext(connection) as later:
        version = selectors.object_version(OrganizationalUnit, unit.pk, mistake, fields)
    assert version is not None and version.superseded_by is not None
    assert len(later) == len(first)

"""Reads of a future instant: the scheduled reorganizations applied, marked planned,
rolled back after (units/services/reorganizations/planned.py, orgregistry/planned_reads.py)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.services.test_reorganizations import (
    FIVE_OPERATIONS,
    history_count,
    registry,
    scheduled,
)

pytestmark = pytest.mark.django_db
__all__ = ["registry"]  # the fixture, shared
SECOND = datetime.timedelta(seconds=1)


def at(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_read_one_second_before_and_after_a_scheduled_time(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    rows = history_count()
    when = reorganization.effective_at

    before = client.get(f"/api/v1/units/a2/?as_of={at(when - SECOND)}").json()
    after = client.get(f"/api/v1/units/a2/?as_of={at(when + SECOND)}")

    assert before["parent"] == "dept-a"
    assert "planned" not in before
    assert after.status_code == 200, after.content
    data = after.json()
    assert data["parent"] == "new-div"
    assert data["planned"] is True
    assert data["planned_reorganizations"][0]["id"] == reorganization.pk
    assert after["Registry-Planned"] == "true"
    # Nothing of it was kept.
    assert history_count() == rows
    reorganization.refresh_from_db()
    assert reorganization.status == "approved"


def test_future_reads_are_planned_on_every_page(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    rows = history_count()
    day = (reorganization.effective_at + datetime.timedelta(days=1)).date().isoformat()
    for path in (
        "/",
        "/units/a2/",
        "/units/new-div/",
        "/chart/",
        "/posts/",
        "/people/",
    ):
        answer = client.get(f"{path}?as_of={day}")
        assert answer.status_code == 200, (path, answer.content[:300])
        text = answer.content.decode()
        assert "Planned:" in text, path
        assert "Restructure B" in text, path
    chart = client.get(f"/chart/?as_of={day}&depth=all").content.decode()
    assert "planned for" in chart
    assert "New Division" in chart
    svg = client.get(f"/chart/download.svg?as_of={day}").content.decode()
    assert "planned for" in svg
    compare = client.get(f"/compare/?from=2020-01-01&to={day}").content.decode()
    assert "New Division" in compare
    assert "Planned:" in compare
    today = client.get("/chart/").content.decode()
    assert "Planned:" not in today and "New Division" not in today
    assert history_count() == rows

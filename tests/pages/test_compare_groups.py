"""The compare page lists a reorganization's changes under it (title, reference,
reason as the reader may read it, time, link), and the other changes by kind."""

from __future__ import annotations

import datetime
import re
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from tests.conftest import ReorganizedHistory, page_text
from tests.factories import failed_reorganization
from units.roles import AUDITORS

pytestmark = pytest.mark.django_db


def compare(client: Client, history: ReorganizedHistory) -> Any:
    response = client.get("/compare/", {"from": history.since.date().isoformat()})
    assert response.status_code == HTTPStatus.OK
    return response


def section(response: Any, name: str) -> str:
    html = response.content.decode()
    found = re.search(
        rf'<section class="change-section change-{name}".*?</section>', html, re.S
    )
    assert found is not None, name
    return found.group(0)


def test_the_compare_page_lists_each_reorganization_with_its_changes(
    client: Client, reorganized_history: ReorganizedHistory
) -> None:
    history = reorganized_history
    response = compare(client, history)
    groups = section(response, "reorganizations")
    assert 'Reorganizations <span class="count">3</span>' in groups
    public = re.search(
        rf'<li class="reorganization-group" id="reorganization-{history.public.pk}">'
        r".*?</ul>\s*</li>",
        groups,
        re.S,
    )
    assert public is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", public.group(0)))
    assert "Move five units" in text
    assert "(DG bulletin 2026/14): 5 changes" in text
    assert "Reason: Bulletin on Rome" in text
    assert f'href="/api/v1/reorganizations/{history.public.pk}/"' in public.group(0)
    assert public.group(0).count('<li><a href="/units/u') == 5
    # The internal reason is withheld from the public, like a change's.
    assert "Secret bulletin" not in response.content.decode()
    assert "Rename one" in page_text(response)
    # Changes outside reorganizations stay in their sections: the two single moves
    # to Paris, not the seven a reorganization made.
    locations = section(response, "location_changed")
    assert '<span class="count">2</span>' in locations
    assert locations.count('<ins lang="en">Paris</ins>') == 2
    assert "<ins>Rome</ins>" not in locations
    assert "<ins>Lisbon</ins>" not in locations


def test_an_auditor_reads_the_internal_reason_on_the_compare_page(
    reorganized_history: ReorganizedHistory,
) -> None:
    auditor = User.objects.create_user(username="auditor", password="auditor-pass-1")
    auditor.groups.add(Group.objects.get(name=AUDITORS))
    client = Client()
    client.force_login(auditor)
    groups = section(compare(client, reorganized_history), "reorganizations")
    assert "Secret bulletin" in groups
    assert "(internal)" in groups


def test_a_failed_reorganization_shows_on_the_compare_page_to_staff_only(
    client: Client,
    reorganized_history: ReorganizedHistory,
    editor: User,
    approver: User,
) -> None:
    failed = failed_reorganization(
        reorganized_history.units["u3"], author=editor, approver=approver
    )
    to = (failed.effective_at + datetime.timedelta(days=1)).date().isoformat()
    query = {"from": reorganized_history.since.date().isoformat(), "to": to}
    public = client.get("/compare/", query)
    assert public.status_code == HTTPStatus.OK
    assert "Doomed" not in public.content.decode()

    auditor = User.objects.create_user(username="auditor", password="auditor-pass-1")
    auditor.groups.add(Group.objects.get(name=AUDITORS))
    client.force_login(auditor)
    staff = client.get("/compare/", query)
    groups = section(staff, "reorganizations")
    assert 'Reorganizations <span class="count">4</span>' in groups
    entry = re.search(
        rf'id="reorganization-{failed.pk}">.*?(?=<li class="reorganization-group"|$)',
        groups,
        re.S,
    )
    assert entry is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", entry.group(0)))
    assert "Doomed" in text
    assert "failed , nothing of it applied" in text
    assert "Operation 1:" in text
    assert "abolished" in text

"""The admin and lineage: a reorganization drafted there takes merge, split, replace
and absorb operations (a malformed one is an error on its row, nothing saved), and the
links it leaves are listed read only."""

from __future__ import annotations

import datetime
import json
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.admin.test_reorganizations import ADD, draft_data, inline
from units import services
from units.models import OrganizationalUnit, Reorganization, UnitSuccession

pytestmark = pytest.mark.django_db
LINKS = reverse("admin:units_unitsuccession_changelist")


@pytest.fixture
def small_tree(make_unit: Any) -> tuple[OrganizationalUnit, ...]:
    """Root Office above Left and Right Department, Leaf Unit in Left, since
    yesterday (a reorganization effective a minute ago comes after them)."""
    since = timezone.now() - datetime.timedelta(days=1)
    root = make_unit("Root Office", effective_at=since)
    left = make_unit("Left Department", root, effective_at=since)
    right = make_unit("Right Department", root, effective_at=since)
    leaf = make_unit("Leaf Unit", left, effective_at=since)
    return root, left, right, leaf


def absorb(payload: dict[str, Any]) -> dict[str, Any]:
    return {"position": "1", "kind": "absorb_unit", "payload": json.dumps(payload)}


def test_an_absorption_is_drafted_in_the_admin_and_applied(
    editor_client: Client, small_tree: tuple, approver: User
) -> None:
    answer = editor_client.post(
        ADD,
        {
            **draft_data(),
            **inline([absorb({"unit": "left-department", "into": "right-department"})]),
        },
    )
    assert answer.status_code == HTTPStatus.FOUND, answer.context["errors"]
    reorganization = Reorganization.objects.get()
    assert reorganization.operations.get().kind == "absorb_unit"
    assert reorganization.problems == []
    editor = reorganization.author
    services.reorganization_submit(reorganization=reorganization, user=editor)
    services.reorganization_approve(reorganization=reorganization, user=approver)
    link = UnitSuccession.objects.get()
    assert (link.predecessor.slug, link.successor.slug) == (
        "left-department",
        "right-department",
    )
    # Listed, read only: no adding, changing or deleting a link.
    listed = editor_client.get(LINKS)
    assert listed.status_code == HTTPStatus.OK
    assert "Left Department" in listed.content.decode()
    change = reverse("admin:units_unitsuccession_change", args=[link.pk])
    page = editor_client.get(change)
    assert page.status_code == HTTPStatus.OK
    assert 'name="_save"' not in page.content.decode()
    assert editor_client.get(reverse("admin:units_unitsuccession_add")).status_code == (
        HTTPStatus.FORBIDDEN
    )
    delete = reverse("admin:units_unitsuccession_delete", args=[link.pk])
    assert editor_client.post(delete, {"post": "yes"}).status_code == (
        HTTPStatus.FORBIDDEN
    )
    assert UnitSuccession.objects.count() == 1
    # Its history, with its reason; a version page without a revert.
    history = editor_client.get(
        reverse("admin:units_unitsuccession_history", args=[link.pk])
    )
    assert history.status_code == HTTPStatus.OK
    assert "Bulletin 2026/14" in history.content.decode()
    (revision,) = link.history.all()
    version = reverse(
        "admin:units_unitsuccession_version", args=[link.pk, revision.history_id]
    )
    shown = editor_client.get(version)
    assert shown.status_code == HTTPStatus.OK
    assert "revert-form" not in shown.content.decode()
    refused = editor_client.post(version, {"reason": "Undo", "expected_version": "1"})
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert UnitSuccession.history.count() == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"unit": "left-department"}, "needs into"),
        ({"unit": "left-department", "into": "left-department"}, "cannot succeed"),
    ],
)
def test_a_malformed_lineage_operation_is_an_error_on_its_row(
    editor_client: Client, small_tree: tuple, payload: dict[str, Any], message: str
) -> None:
    answer = editor_client.post(ADD, {**draft_data(), **inline([absorb(payload)])})
    assert answer.status_code == HTTPStatus.OK
    formset = answer.context["inline_admin_formsets"][0].formset
    assert message in str(formset.forms[0].errors["payload"])
    assert Reorganization.objects.count() == 0

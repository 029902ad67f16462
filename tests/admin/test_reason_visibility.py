"""Issue 16: every admin form that asks for a reason asks who may read it.

The choice starts at ``REASON_VISIBILITY_DEFAULT`` and is recorded on the revision;
a value that is neither public nor internal is an error next to the field, with
nothing written. The history pages mark an internal reason as internal.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.conftest import ScriptedHistory
from units import services
from units.models import OrganizationalUnit, Person, Post

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:units_organizationalunit_changelist")
ADD = reverse("admin:units_organizationalunit_add")
PERSON_ADD = reverse("admin:units_person_add")


def latest(instance: Any) -> Any:
    return instance.history.order_by("-history_date", "-history_id").first()


def unit_change_url(unit: OrganizationalUnit) -> str:
    return reverse("admin:units_organizationalunit_change", args=[unit.pk])


def counts() -> tuple[int, ...]:
    return tuple(model.history.count() for model in (OrganizationalUnit, Post, Person))


def checked_choice(page: str) -> str:
    """The value of the visibility radio the form starts with ("" if none)."""
    checked = re.findall(
        r'<input type="radio" name="reason_visibility" value="(\w+)"[^>]*checked', page
    )
    return checked[0] if len(checked) == 1 else ""


@pytest.mark.parametrize("default", ["internal", "public"])
def test_the_add_form_asks_who_may_read_the_reason_starting_at_the_default(
    editor_client: Client, settings: Any, default: str
) -> None:
    settings.REASON_VISIBILITY_DEFAULT = default

    page = editor_client.get(ADD).content.decode()

    assert "Who may read the reason" in page
    assert checked_choice(page) == default


def test_a_person_added_with_a_public_reason_records_it(
    editor_client: Client,
) -> None:
    response = editor_client.post(
        PERSON_ADD,
        {
            "full_name": "Dana Ito",
            "reason": "Hired",
            "reason_visibility": "public",
            "appointments-TOTAL_FORMS": "0",
            "appointments-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    assert latest(Person.objects.get(full_name="Dana Ito")).reason_visibility == (
        "public"
    )


def test_a_bad_visibility_is_an_error_next_to_the_field_and_writes_nothing(
    editor_client: Client, small_tree: tuple
) -> None:
    leaf = small_tree[3]
    before = counts()

    response = editor_client.post(
        unit_change_url(leaf),
        {
            "name": "Renamed Leaf",
            "kind": leaf.kind,
            "reason": "Renamed",
            "reason_visibility": "secret",
            "expected_version": leaf.version,
        },
    )

    assert response.status_code == HTTPStatus.OK
    form = response.context["adminform"].form
    assert "reason_visibility" in form.errors
    assert counts() == before
    leaf.refresh_from_db()
    assert leaf.name != "Renamed Leaf"


def test_abolishing_records_the_visibility_chosen(
    editor_client: Client, small_tree: tuple
) -> None:
    leaf = small_tree[3]
    url = reverse("admin:units_organizationalunit_abolish", args=[leaf.pk])
    assert "Who may read the reason" in editor_client.get(url).content.decode()

    response = editor_client.post(
        url,
        {
            "reason": "Closed",
            "reason_visibility": "public",
            "sub_units": "refuse",
            "expected_version": leaf.version,
        },
    )

    assert response.status_code in {HTTPStatus.OK, HTTPStatus.FOUND}
    leaf.refresh_from_db()
    assert not leaf.is_active
    assert latest(leaf).reason_visibility == "public"


def test_reverting_records_the_visibility_chosen(
    editor_client: Client, scripted_history: ScriptedHistory
) -> None:
    unit = OrganizationalUnit.objects.get(pk=scripted_history.unit_x.pk)
    moved = unit.history.get(history_change_reason="Reorganization 2022")
    services.unit_update(unit=unit, user=None, reason="Typo", name="Unit Eks")
    unit.refresh_from_db()
    url = reverse(
        "admin:units_organizationalunit_version", args=[unit.pk, moved.history_id]
    )
    assert "Who may read the reason" in editor_client.get(url).content.decode()

    response = editor_client.post(
        url,
        {
            "reason": "Annulled",
            "reason_visibility": "internal",
            "expected_version": unit.version,
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    unit.refresh_from_db()
    assert (latest(unit).history_change_reason, latest(unit).reason_visibility) == (
        "Annulled",
        "internal",
    )


@pytest.mark.parametrize(
    ("visibility", "status"),
    [("public", HTTPStatus.OK), ("secret", HTTPStatus.BAD_REQUEST)],
)
def test_a_dragged_move_takes_the_visibility_or_refuses_a_bad_one(
    editor_client: Client, small_tree: tuple, visibility: str, status: int
) -> None:
    root, left, right, leaf = small_tree
    before = counts()

    response = editor_client.post(
        CHANGELIST,
        {
            "cmd": "move_node",
            "position": "last-child",
            "cut_item": leaf.pk,
            "pasted_on": right.pk,
            "reason": "Belongs on the right",
            "reason_visibility": visibility,
        },
    )

    assert response.status_code == status
    leaf.refresh_from_db()
    if status == HTTPStatus.OK:
        assert leaf.parent_id == right.pk
        assert latest(leaf).reason_visibility == "public"
    else:
        assert "is not a reason visibility" in response.content.decode()
        assert leaf.parent_id == left.pk
        assert counts() == before


def test_the_history_page_marks_an_internal_reason(
    editor_client: Client, editor: User, small_tree: tuple
) -> None:
    leaf = small_tree[3]
    services.unit_update(
        unit=leaf,
        user=editor,
        reason="Kept between us",
        reason_visibility="internal",
        mandate="New.",
    )
    services.unit_update(
        unit=leaf,
        user=editor,
        reason="Told everyone",
        reason_visibility="public",
        mandate="Newer.",
    )

    page = editor_client.get(
        reverse("admin:units_organizationalunit_history", args=[leaf.pk])
    ).content.decode()

    assert 'Kept between us <span class="reason-internal-mark">internal</span>' in page
    assert "Told everyone</td>" in page

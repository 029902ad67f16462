"""Issue 13: "a revert is labelled changed/renamed, not reverted". A single-object
revert (``unit_revert``, ``post_revert``, ``person_revert``) is one "reverted" entry in
the change feed and the unit's timeline; the other kinds read as before."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.factories import office_with
from units import selectors, services
from units.models import OrganizationalUnit

pytestmark = pytest.mark.django_db
EARLY = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
LATE = datetime.datetime(9999, 1, 1, tzinfo=datetime.UTC)


def feed() -> list[Any]:
    return selectors.changes_between(EARLY, LATE)


def first_version(instance: Any) -> int:
    return int(instance.history.order_by("history_id").first().history_id)


@pytest.fixture
def units(editor: User) -> dict[str, OrganizationalUnit]:
    since = timezone.now() - datetime.timedelta(days=2)
    return office_with(
        editor, since, {"left": ("Left", "left"), "right": ("Right", "right")}
    )


def test_a_unit_revert_is_one_reverted_entry(units: dict, editor: User) -> None:
    left = units["left"]
    version = first_version(left)
    services.unit_update(
        unit=left, name="Links", mandate="More.", user=editor, reason="Rename"
    )
    services.unit_revert(unit=left, history_id=version, user=editor, reason="Undo")

    *_, renamed, mandate, reverted = feed()
    # The change it undoes keeps its kinds.
    assert (renamed.kind, mandate.kind) == ("renamed", "mandate_changed")
    assert reverted.kind == "reverted"
    assert reverted.summary == (
        "Left reverted to an earlier version: Links renamed Left; Mandate of Left "
        "changed"
    )
    assert reverted.details["version"] == version
    assert reverted.details["kinds"] == ["renamed", "mandate_changed"]
    assert set(reverted.fields) == {"name", "mandate"}
    # The API's feed says so too.
    answer = Client().get("/api/v1/changes/", {"since": "2000-01-01"}).json()
    assert answer["results"][-1]["kind"] == "reverted"


def test_reinstating_by_a_revert_stays_reinstated(units: dict, editor: User) -> None:
    right = units["right"]
    version = first_version(right)
    services.unit_update(unit=right, name="Rechts", user=editor, reason="Rename")
    services.unit_abolish(unit=right, user=editor, reason="Closed")
    services.unit_revert(unit=right, history_id=version, user=editor, reason="Undo")

    *_, reinstated, reverted = feed()
    assert (reinstated.kind, reverted.kind) == ("reinstated", "reverted")
    assert reverted.details["kinds"] == ["renamed"]


def test_a_sub_unit_moved_back_by_a_revert_rejoins_its_parent_timeline(
    units: dict, editor: User, client: Client
) -> None:
    right = units["right"]
    version = first_version(right)
    services.unit_move(unit=right, new_parent=units["left"], user=editor, reason="Move")
    services.unit_revert(unit=right, history_id=version, user=editor, reason="Undo")

    timeline = selectors.unit_timeline(units["office"].pk)
    events = [(entry.sub_unit, entry.change.kind) for entry in timeline if entry.change]
    assert events[:2] == [("joined", "reverted"), ("left", "moved")]
    page = client.get("/units/office/").content.decode()
    assert "moved back here by a revert" in page
    # The unit's own page calls its version what it is.
    assert (
        "Reverted to an earlier version" in client.get("/units/right/").content.decode()
    )


def test_post_and_person_reverts_are_reverted_entries(
    units: dict, editor: User
) -> None:
    post = services.post_create(
        user=editor, reason="Setup", unit=units["left"], title="Adviser"
    )
    person = services.person_create(user=editor, reason="Setup", full_name="Ada")
    post_version, person_version = first_version(post), first_version(person)
    services.post_update(post=post, title="Counsel", user=editor, reason="Retitle")
    services.person_update(person=person, full_name="Ada L.", user=editor, reason="r")
    services.post_revert(post=post, history_id=post_version, user=editor, reason="r")
    services.person_revert(
        person=person, history_id=person_version, user=editor, reason="r"
    )

    kinds = [change.kind for change in feed()]
    assert kinds[-4:] == [
        "post_renamed",
        "person_renamed",
        "post_reverted",
        "person_reverted",
    ]

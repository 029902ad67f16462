"""One version of any recorded object, as units/{slug}/history/{history_id}/ gives a
unit's: the version its history lists, or one a correction superseded, with who and
when superseded it."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import ScriptedHistory, at
from units import services
from units.models import Appointment, RelationshipKind

API = "/api/v1/"

pytestmark = pytest.mark.django_db


def addresses(history: ScriptedHistory, editor: User) -> dict[str, tuple[str, Any]]:
    """Each kind's history address and the object it is about; each kind has at
    least two objects (two people and two appointments are scripted)."""
    appointment = history.head_of_x.appointments.order_by("started_on")[0]
    relationship = services.relationship_create(
        source=history.unit_x,
        target=history.department_b,
        kind=RelationshipKind.COLLABORATES_WITH,
        user=editor,
        reason="Shared archive",
    )
    services.relationship_create(
        source=history.root,
        target=history.department_b,
        kind=RelationshipKind.COLLABORATES_WITH,
        user=editor,
        reason="Shared services",
    )
    services.post_create(
        unit=history.unit_x, title="Deputy Head of X", user=editor, reason="New post"
    )
    return {
        "post": (f"posts/{history.head_of_x.slug}/history/", history.head_of_x),
        "person": (f"people/{history.ana.slug}/history/", history.ana),
        "appointment": (f"appointments/{appointment.pk}/history/", appointment),
        "relationship": (f"relationships/{relationship.pk}/history/", relationship),
    }


@pytest.mark.parametrize("kind", ["post", "person", "appointment", "relationship"])
def test_each_version_in_a_history_is_answered_alone(
    client: Client, scripted_history: ScriptedHistory, editor: User, kind: str
) -> None:
    history_url, _recorded = addresses(scripted_history, editor)[kind]
    versions = client.get(f"{API}{history_url}").json()["results"]
    assert versions

    for listed in versions:
        answer = client.get(f"{API}{history_url}{listed['history_id']}/")

        assert answer.status_code == HTTPStatus.OK
        assert answer.json() == {**listed, "superseded_on": None, "superseded_by": None}


@pytest.mark.parametrize("kind", ["post", "person", "appointment", "relationship"])
def test_a_version_of_another_object_is_not_found(
    client: Client, scripted_history: ScriptedHistory, editor: User, kind: str
) -> None:
    history_url, recorded = addresses(scripted_history, editor)[kind]
    others = type(recorded).history.exclude(id=recorded.pk)
    other = others.values_list("history_id", flat=True).first()
    assert other is not None

    answer = client.get(f"{API}{history_url}{other}/")

    assert answer.status_code == HTTPStatus.NOT_FOUND
    assert f"Version {other} is not a version of the" in answer.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "posts/no-such-post/history/1/",
        "people/no-such-person/history/1/",
        "appointments/999999/history/1/",
        "relationships/999999/history/1/",
        "lineage/999999/history/1/",
    ],
)
def test_a_version_of_an_object_that_does_not_exist_is_not_found(
    client: Client, scripted_history: ScriptedHistory, url: str
) -> None:
    assert client.get(f"{API}{url}").status_code == HTTPStatus.NOT_FOUND


def test_a_superseded_appointment_version_says_which_version_replaced_it(
    client: Client, scripted_history: ScriptedHistory, editor: User
) -> None:
    """Ana's appointment began on 1 June 2020; it is corrected to 15 June, a change
    of the past (her term's end followed it): the first version is superseded."""
    appointment = Appointment.objects.get(
        person=scripted_history.ana, post=scripted_history.head_of_x
    )
    first = appointment.history.order_by("history_id").first()
    assert first is not None
    services.appointment_correct(
        appointment=appointment,
        user=editor,
        reason="She took office a fortnight later",
        started_on=first.started_on + datetime.timedelta(days=14),
    )
    correction = appointment.history.filter(corrects_revision=first.history_id).get()
    url = f"{API}appointments/{appointment.pk}/history/"
    listed = [row["history_id"] for row in client.get(url).json()["results"]]
    assert first.history_id not in listed

    answer = client.get(f"{url}{first.history_id}/")

    assert answer.status_code == HTTPStatus.OK
    body = answer.json()
    assert body["history_id"] == first.history_id
    assert body["superseded_by"] == correction.history_id
    assert body["superseded_on"] is not None
    # As recorded before the correction, its links named by slug.
    changed = {change["field"]: change["new"] for change in body["changes"]}
    assert changed["started_on"] == first.started_on.isoformat()
    assert changed["person"] == scripted_history.ana.slug


def test_a_corrected_link_names_both_objects_by_slug(
    client: Client, scripted_history: ScriptedHistory, editor: User
) -> None:
    """Ana's appointment was recorded to the wrong post: the correction's old post
    is named by its slug in the history and in the version alike (it was null in
    the history, whose slugs came from the changes alone)."""
    clerk = services.post_create(
        unit=scripted_history.department_b,
        title="Clerk",
        user=editor,
        reason="New post",
        effective_at=at("2020-01-01"),
    )
    appointment = Appointment.objects.get(
        person=scripted_history.ana, post=scripted_history.head_of_x
    )
    services.appointment_correct(
        appointment=appointment, user=editor, reason="Wrong post", post=clerk
    )
    url = f"{API}appointments/{appointment.pk}/history/"
    versions = client.get(url).json()["results"]
    corrected = [version for version in versions if version["corrections"]]
    assert corrected

    for version in corrected:
        alone = client.get(f"{url}{version['history_id']}/").json()
        for answer in (version, alone):
            [correction] = answer["corrections"]
            assert (correction["old"], correction["new"]) == (
                scripted_history.head_of_x.slug,
                clerk.slug,
            )

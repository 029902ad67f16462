"""Appointing from the admin: a person the registry does not know yet is recorded and
appointed by one save, with the form's one reason; every refusal sits next to the field
it concerns and leaves nothing behind."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.admin.test_admin import change_url, form_data, snapshot
from units import services
from units.dates import day_text
from units.models import Appointment, OrganizationalUnit, Person, Post

pytestmark = pytest.mark.django_db


def today() -> str:
    return timezone.now().date().isoformat()


def row_errors(response: Any, inline: int = 0, row: int = 0) -> dict[str, list[str]]:
    """The errors of one inline row on a re-rendered change form."""
    formset = response.context["inline_admin_formsets"][inline].formset
    return {
        name or "__all__": [str(message) for message in messages]
        for name, messages in formset.forms[row].errors.items()
    }


@pytest.fixture
def leaf_with_post(small_tree: tuple) -> tuple[OrganizationalUnit, Post]:
    leaf = small_tree[3]
    post = services.post_create(user=None, reason="r", title="Head of Leaf", unit=leaf)
    return leaf, post


def post_row(client: Client, unit: OrganizationalUnit, reason: str, **row: str) -> Any:
    """Post the unit's page with the first post row changed as given."""
    page = client.get(change_url(unit))
    data = form_data(page, reason=reason)
    data.update({f"posts-0-{name}": value for name, value in row.items()})
    return client.post(change_url(unit), data)


def test_the_posts_table_has_headers_that_say_what_each_column_does(
    editor_client: Client, leaf_with_post: tuple
) -> None:
    leaf, _post = leaf_with_post
    html = editor_client.get(change_url(leaf)).content.decode()
    headers = html[html.index('id="posts-group"') :]
    headers = headers[: headers.index("</thead>")]
    for header in (
        "Title",
        "Heads the unit",
        "How it is filled",
        "Held by",
        "Appoint a recorded person",
        "…or a new person",
        "Appointed from",
        "End current holder&#x27;s appointment on",
        "Abolish the post",
    ):
        assert f"{header}\n" in headers or f"{header}<" in headers, header
    assert "vacant" in html


def test_a_new_person_is_recorded_and_appointed_from_the_post_row_with_one_reason(
    editor_client: Client, editor: AbstractBaseUser, leaf_with_post: tuple
) -> None:
    leaf, post = leaf_with_post
    response = post_row(
        editor_client,
        leaf,
        "Recruited after the vacancy notice",
        new_person="Amara Okafor",
        appointed_on=today(),
    )
    assert response.status_code == HTTPStatus.FOUND
    appointment = post.appointments.get()
    person = appointment.person
    assert person.full_name == "Amara Okafor"
    for revision in (person.history.get(), appointment.history.get()):
        assert revision.history_change_reason == "Recruited after the vacancy notice"
        assert revision.history_user == editor
    assert leaf.history.count() == 1  # the unit itself did not change
    page = editor_client.get(change_url(leaf)).content.decode()
    assert f"Amara Okafor (since {day_text(timezone.now().date())})" in page


def test_a_new_post_and_its_new_holder_are_saved_together(
    editor_client: Client, small_tree: tuple
) -> None:
    leaf = small_tree[3]
    page = editor_client.get(change_url(leaf))
    data = form_data(page, reason="Office opened")
    data.update(
        {
            "posts-TOTAL_FORMS": "1",
            "posts-0-title": "Head of Leaf",
            "posts-0-is_head": "on",
            "posts-0-filling_method": "other",
            "posts-0-new_person": "Bea Lund",
            "posts-0-appointed_on": today(),
        }
    )
    assert editor_client.post(change_url(leaf), data).status_code == HTTPStatus.FOUND
    post = Post.objects.get(unit=leaf)
    assert post.appointments.get().person.full_name == "Bea Lund"
    reasons = {
        post.history.get().history_change_reason,
        Person.objects.get().history.get().history_change_reason,
        Appointment.objects.get().history.get().history_change_reason,
    }
    assert reasons == {"Office opened"}


def test_an_overlong_new_name_is_an_error_next_to_it_and_changes_nothing(
    editor_client: Client, leaf_with_post: tuple
) -> None:
    leaf, _post = leaf_with_post
    before = snapshot()
    response = post_row(
        editor_client, leaf, "Hired", new_person="x" * 256, appointed_on=today()
    )
    assert response.status_code == HTTPStatus.OK
    assert "at most 255 characters" in row_errors(response)["new_person"][0]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (
            {"new_person": "Carla Diaz"},
            "appointed_on",
            "Say from which date the person holds it.",
        ),
        (
            {"new_person": "   ", "appointed_on": "2024-05-01"},
            "appoint_person",
            "Choose the person to appoint, or type a new person's name.",
        ),
        (
            {"new_person": "Carla Diaz", "appointed_on": "not a date"},
            "appointed_on",
            "Enter a valid date.",
        ),
    ],
)
def test_an_incomplete_appointment_is_an_error_next_to_the_missing_field(
    editor_client: Client,
    leaf_with_post: tuple,
    row: dict[str, str],
    field: str,
    message: str,
) -> None:
    leaf, _post = leaf_with_post
    before = snapshot()
    response = post_row(editor_client, leaf, "Hired", **row)
    assert response.status_code == HTTPStatus.OK
    assert message in row_errors(response)[field]
    assert snapshot() == before


def test_a_recorded_and_a_new_person_at_once_is_an_error(
    editor_client: Client, leaf_with_post: tuple
) -> None:
    leaf, _post = leaf_with_post
    known = services.person_create(user=None, reason="r", full_name="Dana Ito")
    before = snapshot()
    response = post_row(
        editor_client,
        leaf,
        "Hired",
        appoint_person=str(known.pk),
        new_person="Carla Diaz",
        appointed_on=today(),
    )
    assert response.status_code == HTTPStatus.OK
    assert "not both" in row_errors(response)["new_person"][0]
    assert snapshot() == before


def test_a_new_person_without_a_reason_is_not_recorded(
    editor_client: Client, leaf_with_post: tuple
) -> None:
    leaf, _post = leaf_with_post
    before = snapshot()
    response = post_row(
        editor_client, leaf, "", new_person="Carla Diaz", appointed_on=today()
    )
    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors["reason"] == [
        "This field is required."
    ]
    assert snapshot() == before


def test_appointing_to_a_held_post_is_refused_next_to_the_person_and_records_nobody(
    editor_client: Client, leaf_with_post: tuple
) -> None:
    leaf, post = leaf_with_post
    holder = services.person_create(user=None, reason="r", full_name="Ben Holder")
    services.appointment_start(
        person=holder,
        post=post,
        started_on=timezone.now().date(),
        user=None,
        reason="r",
    )
    before = snapshot()
    response = post_row(
        editor_client, leaf, "Hired", new_person="Carla Diaz", appointed_on=today()
    )
    assert response.status_code == HTTPStatus.CONFLICT
    errors = row_errors(response)
    assert list(errors) == ["new_person"]  # the person was named: nothing else asked
    assert "is held by Ben Holder" in errors["new_person"][0]
    top = response.context["adminform"].form.non_field_errors()
    assert top == ["Nothing was saved: Post “Head of Leaf” was refused, see below."]
    assert snapshot() == before
    assert not Person.objects.filter(full_name="Carla Diaz").exists()


def test_a_start_before_the_post_existed_is_refused_next_to_the_day_as_a_day(
    editor_client: Client, leaf_with_post: tuple
) -> None:
    leaf, _post = leaf_with_post
    before = snapshot()
    response = post_row(
        editor_client, leaf, "Hired", new_person="Carla Diaz", appointed_on="2020-03-01"
    )
    assert response.status_code == HTTPStatus.CONFLICT
    message = row_errors(response)["appointed_on"][0]
    assert "did not exist yet on 1 March 2020 (it is recorded from" in message
    assert "00:00" not in message
    assert snapshot() == before


def test_a_second_head_is_refused_next_to_its_head_box(
    editor_client: Client, leaf_with_post: tuple
) -> None:
    leaf, _post = leaf_with_post
    services.post_create(user=None, reason="r", title="Chief", unit=leaf, is_head=True)
    page = editor_client.get(change_url(leaf))
    data = form_data(page, reason="Promote")
    row = next(
        index
        for index, form in enumerate(
            page.context["inline_admin_formsets"][0].formset.forms
        )
        if form.instance.title == "Head of Leaf"
    )
    data[f"posts-{row}-is_head"] = "on"
    before = snapshot()
    response = editor_client.post(change_url(leaf), data)
    assert response.status_code == HTTPStatus.CONFLICT
    assert (
        "already headed by the post “Chief”"
        in row_errors(response, row=row)["is_head"][0]
    )
    assert snapshot() == before


# --- The post's own page ------------------------------------------------------------


def test_the_post_page_creates_a_post_and_appoints_a_new_person_in_one_save(
    editor_client: Client, editor: AbstractBaseUser, small_tree: tuple
) -> None:
    leaf = small_tree[3]
    response = editor_client.post(
        reverse("admin:units_post_add"),
        {
            "title": "Legal Counsel",
            "unit": leaf.pk,
            "filling_method": "other",
            "new_person": "Eli Moreau",
            "appointed_on": today(),
            "reason": "Counsel recruited",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    post = Post.objects.get(title="Legal Counsel")
    appointment = post.appointments.get()
    assert appointment.person.full_name == "Eli Moreau"
    for revision in (
        post.history.get(),
        appointment.person.history.get(),
        appointment.history.get(),
    ):
        assert revision.history_change_reason == "Counsel recruited"
        assert revision.history_user == editor


def test_the_post_page_refusal_sits_next_to_its_field_and_changes_nothing(
    editor_client: Client, leaf_with_post: tuple
) -> None:
    _leaf, post = leaf_with_post
    url = reverse("admin:units_post_change", args=[post.pk])
    page = editor_client.get(url)
    assert "vacant" in page.content.decode()
    data = form_data(
        page,
        reason="Backdated hire",
        new_person="Carla Diaz",
        appointed_on=(
            timezone.now().date() - datetime.timedelta(days=4000)
        ).isoformat(),
    )
    before = snapshot()
    response = editor_client.post(url, data)
    assert response.status_code == HTTPStatus.CONFLICT
    errors = response.context["adminform"].form.errors
    assert "did not exist yet on" in errors["appointed_on"][0]
    assert snapshot() == before

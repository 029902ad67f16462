"""Abolishing from a unit's page: each active sub-unit is sent its own way, the first
submit works, refusals sit next to the sub-unit they concern and change nothing, and
the page after it says so plainly."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.admin.test_admin import change_url, snapshot
from tests.conftest import assert_tree_matches_rebuild
from units import services
from units.models import OrganizationalUnit, UnitKind

pytestmark = pytest.mark.django_db


def abolish_url(unit: OrganizationalUnit) -> str:
    return reverse("admin:units_organizationalunit_abolish", args=[unit.pk])


def fresh(unit: OrganizationalUnit) -> OrganizationalUnit:
    return OrganizationalUnit.objects.get(pk=unit.pk)


@pytest.fixture
def reorganization(make_unit: Any) -> dict[str, OrganizationalUnit]:
    """A department with three sub-units (one with its own), under an office."""
    root = make_unit("Root Office", kind=UnitKind.OFFICE)
    units = {
        "root": root,
        "closing": make_unit("Closing Department", root, kind=UnitKind.DEPARTMENT),
        "north": make_unit("North Department", root, kind=UnitKind.DEPARTMENT),
    }
    for name in ("Audit", "Budget", "Claims"):
        units[name.lower()] = make_unit(f"{name} Unit", units["closing"])
    units["claims_desk"] = make_unit("Claims Desk", units["claims"])
    return units


def answers(**fates: tuple[str, OrganizationalUnit | None]) -> dict[str, Any]:
    """The sub-unit rows of the abolish form, as a browser posts them."""
    data: dict[str, Any] = {}
    for sub_unit, (fate, destination) in fates.items():
        data[f"sub_unit_{sub_unit}"] = fate
        if destination is not None:
            data[f"sub_unit_{sub_unit}_to"] = destination.pk
    return data


def test_the_form_starts_with_each_sub_unit_moving_to_the_parent_and_that_works(
    editor_client: Client, reorganization: dict
) -> None:
    units = reorganization
    page = editor_client.get(abolish_url(units["closing"]))
    form = page.context["form"]
    assert [row.unit for row in form.sub_unit_rows()] == [
        units["audit"],
        units["budget"],
        units["claims"],
    ]
    initial = {name: form[name].value() for name in form.fields}
    html = page.content.decode()
    assert "Its active sub-units" in html and "Claims Desk" not in html
    data = {name: value for name, value in initial.items() if value not in (None, "")}
    data["reason"] = "Merged into the office"
    response = editor_client.post(abolish_url(units["closing"]), data)
    assert response.status_code == HTTPStatus.FOUND
    for key in ("audit", "budget", "claims"):
        assert fresh(units[key]).parent == units["root"]
    assert fresh(units["claims_desk"]).parent == units["claims"]
    assert not fresh(units["closing"]).is_active


def test_each_sub_unit_goes_to_its_own_place_with_the_one_reason(
    editor_client: Client, editor: Any, reorganization: dict
) -> None:
    units = reorganization
    response = editor_client.post(
        abolish_url(units["closing"]),
        {
            "reason": "Split up",
            **answers(
                **{
                    str(units["audit"].pk): ("move", units["north"]),
                    str(units["budget"].pk): ("move", units["root"]),
                    str(units["claims"].pk): ("abolish", units["north"]),
                }
            ),
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert fresh(units["audit"]).parent == units["north"]
    assert fresh(units["budget"]).parent == units["root"]
    assert not fresh(units["claims"]).is_active
    assert not fresh(units["claims_desk"]).is_active
    for key in ("closing", "audit", "budget", "claims", "claims_desk"):
        revision = fresh(units[key]).history.first()
        assert (revision.history_change_reason, revision.history_user) == (
            "Split up",
            editor,
        )
    assert_tree_matches_rebuild()


def test_a_sub_unit_sent_into_the_abolished_subtree_is_refused_next_to_it(
    editor_client: Client, reorganization: dict
) -> None:
    units = reorganization
    before = snapshot()
    response = editor_client.post(
        abolish_url(units["closing"]),
        {
            "reason": "Split up",
            **answers(
                **{
                    str(units["audit"].pk): ("move", units["north"]),
                    str(units["budget"].pk): ("move", units["claims_desk"]),
                    str(units["claims"].pk): ("abolish", None),
                }
            ),
        },
    )
    assert response.status_code == HTTPStatus.CONFLICT
    errors = response.context["form"].errors
    assert (
        "“Budget Unit” cannot move to “Claims Desk”"
        in (errors[f"sub_unit_{units['budget'].pk}_to"][0])
    )
    assert list(errors) == [f"sub_unit_{units['budget'].pk}_to"]
    assert snapshot() == before  # Audit's move was rolled back too


def test_a_sub_unit_sent_into_the_abolished_unit_itself_is_refused(
    editor_client: Client, reorganization: dict
) -> None:
    units = reorganization
    before = snapshot()
    response = editor_client.post(
        abolish_url(units["closing"]),
        {
            "reason": "Split up",
            **answers(
                **{
                    str(units["audit"].pk): ("move", units["closing"]),
                    str(units["budget"].pk): ("abolish", None),
                    str(units["claims"].pk): ("abolish", None),
                }
            ),
        },
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert (
        "being abolished"
        in (response.context["form"].errors[f"sub_unit_{units['audit'].pk}_to"][0])
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"reason": ""}, "reason", "This field is required."),
        (
            {"sub_unit_budget_to": ""},
            "sub_unit_budget_to",
            "Choose the unit it moves under.",
        ),
        ({"sub_unit_budget": "vanish"}, "sub_unit_budget", "Select a valid choice."),
        ({"sub_unit_budget": None}, "sub_unit_budget", "This field is required."),
        (
            {"effective_date": "2999-01-01"},
            "effective_date",
            "is in the future",
        ),
    ],
)
def test_incomplete_answers_are_errors_next_to_their_field_and_change_nothing(
    editor_client: Client,
    reorganization: dict,
    overrides: dict[str, str | None],
    field: str,
    message: str,
) -> None:
    units = reorganization
    budget = str(units["budget"].pk)
    data: dict[str, Any] = {
        "reason": "Split up",
        **answers(
            **{
                str(units["audit"].pk): ("move", units["north"]),
                budget: ("move", units["north"]),
                str(units["claims"].pk): ("abolish", None),
            }
        ),
    }
    for name, value in overrides.items():
        name = name.replace("budget", budget)
        if value is None:
            del data[name]
        else:
            data[name] = value
    before = snapshot()
    response = editor_client.post(abolish_url(units["closing"]), data)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.context["form"].errors
    assert message in errors[field.replace("budget", budget)][0]
    assert snapshot() == before


def test_a_sub_unit_sent_to_an_abolished_unit_is_refused_next_to_it(
    editor_client: Client, reorganization: dict
) -> None:
    units = reorganization
    page = editor_client.get(abolish_url(units["closing"]))
    services.unit_abolish(unit=units["north"], user=None, reason="Gone meanwhile")
    before = snapshot()
    response = editor_client.post(
        abolish_url(units["closing"]),
        {
            "reason": "Split up",
            "expected_version": page.context["form"]["expected_version"].value(),
            **answers(
                **{
                    str(units["audit"].pk): ("move", units["north"]),
                    str(units["budget"].pk): ("abolish", None),
                    str(units["claims"].pk): ("abolish", None),
                }
            ),
        },
    )
    # The autocomplete's queryset offers active units only: the form refuses first.
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.context["form"].errors[f"sub_unit_{units['audit'].pk}_to"]
    assert snapshot() == before


def test_a_unit_without_sub_units_is_abolished_without_being_asked_about_them(
    editor_client: Client, reorganization: dict
) -> None:
    north = reorganization["north"]
    page = editor_client.get(abolish_url(north))
    assert page.context["form"].sub_unit_rows() == []
    assert "Its active sub-units" not in page.content.decode()
    response = editor_client.post(abolish_url(north), {"reason": "Closed"})
    assert response.status_code == HTTPStatus.FOUND
    assert fresh(north).abolished_on == timezone.now().date()


def test_the_action_asks_where_each_sub_unit_goes_and_never_starts_at_stop(
    editor_client: Client, reorganization: dict
) -> None:
    units = reorganization
    changelist = reverse("admin:units_organizationalunit_changelist")
    selection = {
        "action": "abolish_selected",
        "_selected_action": [units["closing"].pk, units["claims"].pk],
    }
    page = editor_client.post(changelist, selection)
    form = page.context["form"]
    html = page.content.decode()
    # Claims is chosen too: abolished with Closing, not asked about. Claims Desk, a
    # sub-unit of Claims, is asked about; as Claims' parent goes too, it starts at
    # "abolished too", the others at moving under the office.
    assert [row.unit for row in form.sub_unit_rows()] == [
        units["audit"],
        units["budget"],
        units["claims_desk"],
    ]
    assert "sub_units" not in form.fields and "Stop" not in html
    assert [
        (row.fate.value(), row.destination.value()) for row in form.sub_unit_rows()
    ] == [("move", units["root"].pk), ("move", units["root"].pk), ("abolish", None)]
    # Taking what the form starts with works at the first submit.
    data = {name: form[name].value() for name in form.fields}
    data = {name: value for name, value in data.items() if value not in (None, "")}
    response = editor_client.post(
        changelist, {**selection, **data, "confirm": "yes", "reason": "Merged"}
    )
    assert response.status_code == HTTPStatus.FOUND
    for key in ("audit", "budget"):
        assert fresh(units[key]).parent == units["root"]
    for key in ("closing", "claims", "claims_desk"):
        assert not fresh(units[key]).is_active
    assert_tree_matches_rebuild()


def test_the_action_on_units_without_sub_units_does_not_ask_about_them(
    editor_client: Client, reorganization: dict
) -> None:
    units = reorganization
    changelist = reverse("admin:units_organizationalunit_changelist")
    selection = {
        "action": "abolish_selected",
        "_selected_action": [units["north"].pk, units["audit"].pk],
    }
    page = editor_client.post(changelist, selection)
    assert page.context["form"].sub_unit_rows() == []
    assert "sub_units" not in page.context["form"].fields
    assert "Its active sub-units" not in page.content.decode()
    response = editor_client.post(
        changelist, {**selection, "confirm": "yes", "reason": "Closed"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert not fresh(units["north"]).is_active
    assert not fresh(units["audit"]).is_active


def test_the_action_refuses_a_sub_unit_without_an_answer_and_changes_nothing(
    editor_client: Client, reorganization: dict
) -> None:
    units = reorganization
    changelist = reverse("admin:units_organizationalunit_changelist")
    before = snapshot()
    response = editor_client.post(
        changelist,
        {
            "action": "abolish_selected",
            "_selected_action": [units["closing"].pk],
            "confirm": "yes",
            "reason": "Closed",
            # The old single rule is no answer for each sub-unit.
            "sub_units": "abolish",
        },
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.context["form"].errors
    assert set(errors) == {
        f"sub_unit_{units[key].pk}" for key in ("audit", "budget", "claims")
    }
    assert snapshot() == before


# --- After abolishing ---------------------------------------------------------------


def test_after_abolishing_the_page_says_so_without_alarm_or_an_add_button(
    editor_client: Client, reorganization: dict
) -> None:
    north = reorganization["north"]
    response = editor_client.post(abolish_url(north), {"reason": "Closed"}, follow=True)
    assert response.redirect_chain == [(change_url(north), HTTPStatus.FOUND)]
    html = response.content.decode()
    assert [str(message) for message in response.context["messages"]] == [
        "“North Department” was abolished. It stays in the registry, read-only."
    ]
    assert 'class="success"' in html
    assert "errornote" not in html and 'class="errorlist' not in html
    assert "This unit was abolished on" in html
    for button in ("_save", "_continue", "_addanother"):
        assert f'name="{button}"' not in html
    assert 'name="name"' not in html  # read-only

"""A reorganization's new unit with its French and Spanish texts (``establish_unit``'s
``translations``, which the spreadsheet import writes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from tests.services.test_reorganizations import draft, registry  # noqa: F401
from units import services
from units.models import OperationKind, OrganizationalUnit, ReorganizationStatus


def test_an_established_unit_gets_its_translations_in_its_first_revision(
    registry: dict[str, Any],  # noqa: F811
    editor: User,
    approver: User,
) -> None:
    reorganization = draft(
        editor,
        [
            (
                OperationKind.ESTABLISH_UNIT,
                {
                    "name": "Migration",
                    "kind": "division",
                    "slug": "migration",
                    "parent": "dept-b",
                    "translations": {"name_fr": "Migrations", "name_es": "Migración"},
                },
            )
        ],
    )
    assert reorganization.problems == []
    services.reorganization_submit(reorganization=reorganization, user=editor)
    applied = services.reorganization_approve(
        reorganization=reorganization, user=approver
    )
    assert applied.status == ReorganizationStatus.APPLIED
    unit = OrganizationalUnit.objects.get(slug="migration")
    assert (unit.name_fr, unit.name_es, unit.short_name_fr) == (
        "Migrations",
        "Migración",
        "",
    )
    (first,) = unit.history.all()
    assert first.name_fr == "Migrations"


def test_a_translation_of_a_field_without_one_is_a_problem(
    registry: dict[str, Any],  # noqa: F811
    editor: User,
) -> None:
    reorganization = draft(
        editor,
        [
            (
                OperationKind.ESTABLISH_UNIT,
                {
                    "name": "Migration",
                    "kind": "division",
                    "slug": "migration",
                    "translations": {"kind_fr": "division"},
                },
            )
        ],
    )
    (problem,) = reorganization.problems
    assert "kind_fr" in problem["message"]
    assert not OrganizationalUnit.objects.filter(slug="migration").exists()


def test_translations_must_be_an_object(
    registry: dict[str, Any],  # noqa: F811
    editor: User,
) -> None:
    reorganization = draft(editor, [(OperationKind.REINSTATE_UNIT, {"unit": "a1"})])
    with pytest.raises(ValidationError) as refusal:
        services.operation_add(
            reorganization=reorganization,
            user=editor,
            kind=OperationKind.ESTABLISH_UNIT,
            payload={
                "name": "Migration",
                "kind": "division",
                "slug": "migration",
                "translations": "Migrations",
            },
        )
    assert "translations" in " ".join(refusal.value.messages)
    assert reorganization.operations.count() == 1

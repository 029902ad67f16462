"""Shared fixtures: users in each role, unit builders and a scripted history."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from units import services
from units.models import OrganizationalUnit, Person, Post, UnitKind


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run without TESTING=true rather than run under the wrong settings.

    The settings read TESTING from the environment only; without it every password
    hash takes 0.6 s and pages need collectstatic's manifest, so a bare ``pytest``
    would fail slowly and obscurely. ``make test`` and CI set it.
    """
    from django.conf import settings

    if not settings.TESTING:
        raise pytest.UsageError(
            "The tests need TESTING=true in the environment: run `make test`, or "
            "`TESTING=true python -m pytest ...`."
        )


def at(day: str) -> datetime.datetime:
    """An effective time at noon UTC of an ISO date (noon keeps dates unambiguous)."""
    return datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00")


@pytest.fixture
def editor(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user(
        username="editor",
        password="editor-pass-123",
        email="editor@example.org",
        is_staff=True,
    )


@pytest.fixture
def other_editor(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user(
        username="other-editor", password="other-pass-123", is_staff=True
    )


@pytest.fixture
def make_unit(editor: AbstractBaseUser) -> Callable[..., OrganizationalUnit]:
    """Create a unit through the service, as the editor."""

    def make(
        name: str,
        parent: OrganizationalUnit | None = None,
        *,
        kind: str = UnitKind.UNIT,
        reason: str = "Test setup",
        **fields: Any,
    ) -> OrganizationalUnit:
        return services.unit_create(
            user=editor, reason=reason, name=name, kind=kind, parent=parent, **fields
        )

    return make


@dataclass
class ScriptedHistory:
    """A small organization with a known past (all times noon UTC).

    2020-01-01  Headquarters (root), Department A, Department B established
    2020-06-01  Unit X established under Department A; post "Head of X"; Ana appointed
    2021-03-01  Unit X renamed "Unit Ex" and its mandate rewritten
    2022-01-01  Unit X moved from Department A to Department B
    2022-06-01  Department A abolished (it has no sub-units left)
    2023-01-01  Ana's appointment ends; Ben appointed the next day
    recorded late (backdated, effective 2023-06-01): Unit Y established under B
    """

    root: OrganizationalUnit
    department_a: OrganizationalUnit
    department_b: OrganizationalUnit
    unit_x: OrganizationalUnit
    unit_y: OrganizationalUnit
    head_of_x: Post
    ana: Person
    ben: Person


@pytest.fixture
def scripted_history(editor: AbstractBaseUser) -> ScriptedHistory:
    def create(
        name: str, parent: OrganizationalUnit | None, day: str, **kw: Any
    ) -> OrganizationalUnit:
        return services.unit_create(
            user=editor,
            reason=f"Establish {name}",
            name=name,
            parent=parent,
            effective_at=at(day),
            **{"kind": UnitKind.DEPARTMENT, **kw},
        )

    root = create("Headquarters", None, "2020-01-01", kind=UnitKind.OFFICE, slug="hq")
    department_a = create("Department A", root, "2020-01-01", slug="department-a")
    department_b = create("Department B", root, "2020-01-01", slug="department-b")
    unit_x = create(
        "Unit X",
        department_a,
        "2020-06-01",
        kind=UnitKind.UNIT,
        slug="unit-x",
        mandate="Unit X keeps the registry.",
    )
    head_of_x = services.post_create(
        user=editor,
        reason="Create head post",
        title="Head of X",
        unit=unit_x,
        is_head=True,
        effective_at=at("2020-06-01"),
        slug="head-of-x",
    )
    ana = services.person_create(
        user=editor,
        reason="New person",
        full_name="Ana Lima",
        slug="ana-lima",
        effective_at=at("2020-06-01"),
    )
    ben = services.person_create(
        user=editor,
        reason="New person",
        full_name="Ben Okoro",
        slug="ben-okoro",
        effective_at=at("2020-06-01"),
    )
    services.appointment_start(
        user=editor,
        reason="Ana appointed",
        person=ana,
        post=head_of_x,
        started_on=datetime.date(2020, 6, 1),
        effective_at=at("2020-06-01"),
    )
    services.unit_update(
        unit=unit_x,
        user=editor,
        reason="Renamed by the 2021 reform",
        effective_at=at("2021-03-01"),
        name="Unit Ex",
        mandate="Unit Ex keeps the registry and publishes it.",
    )
    services.unit_move(
        unit=unit_x,
        new_parent=department_b,
        user=editor,
        reason="Reorganization 2022",
        effective_at=at("2022-01-01"),
    )
    services.unit_abolish(
        unit=department_a,
        user=editor,
        reason="Department A closed",
        effective_at=at("2022-06-01"),
    )
    appointment = ana.appointments.get()
    services.appointment_end(
        appointment=appointment,
        user=editor,
        reason="End of term",
        ended_on=datetime.date(2023, 1, 1),
        effective_at=at("2023-01-01"),
    )
    services.appointment_start(
        user=editor,
        reason="Ben appointed",
        person=ben,
        post=head_of_x,
        started_on=datetime.date(2023, 1, 2),
        effective_at=at("2023-01-02"),
    )
    unit_y = create(
        "Unit Y", department_b, "2023-06-01", kind=UnitKind.UNIT, slug="unit-y"
    )
    for unit in (root, department_a, department_b, unit_x, unit_y):
        unit.refresh_from_db()
    return ScriptedHistory(
        root=root,
        department_a=department_a,
        department_b=department_b,
        unit_x=unit_x,
        unit_y=unit_y,
        head_of_x=head_of_x,
        ana=ana,
        ben=ben,
    )


def tree_fields() -> list[tuple[int, int, int, int, int]]:
    return list(
        OrganizationalUnit.objects.order_by("pk").values_list(
            "pk", "lft", "rght", "level", "tree_id"
        )
    )


def assert_tree_matches_rebuild() -> None:
    """The stored tree fields equal what a full mptt rebuild computes."""
    before = tree_fields()
    OrganizationalUnit.objects.rebuild()
    assert tree_fields() == before


@pytest.fixture
def plain_static_files(settings: Any) -> None:
    """Serve static files without the manifest that only ``collectstatic`` builds
    (pages rendered with ``{% static %}`` outside DEBUG)."""
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


def page_text(response: object) -> str:
    """The page as text without tags or repeated whitespace, to assert on sentences."""
    html = response.content.decode()  # type: ignore[attr-defined]
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

"""The admin tests' shared fixtures: the roles, an editor's client and a small tree."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from units.models import OrganizationalUnit, UnitKind


@pytest.fixture
def roles(db: None) -> dict[str, Group]:
    """The registry's roles (units/roles.py keeps them after every flush)."""
    return {
        "editors": Group.objects.get(name="Registry editors"),
        "auditors": Group.objects.get(name="Registry auditors"),
    }


@pytest.fixture
def editor_client(editor: User, roles: dict[str, Group]) -> Client:
    editor.groups.add(roles["editors"])
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def small_tree(make_unit: Any) -> tuple[OrganizationalUnit, ...]:
    root = make_unit("Root Office", kind=UnitKind.OFFICE, short_name="RO")
    left = make_unit("Left Department", root, kind=UnitKind.DEPARTMENT)
    right = make_unit("Right Department", root, kind=UnitKind.DEPARTMENT)
    leaf = make_unit("Leaf Unit", left, mandate="Keeps the leaves.")
    return root, left, right, leaf

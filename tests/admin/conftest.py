"""The admin tests' shared fixtures: the roles, an editor's client and a small tree."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.test import Client

from units.models import OrganizationalUnit, UnitKind

roles_migration = importlib.import_module("units.migrations.0003_registry_roles")
approvers_migration = importlib.import_module("units.migrations.0010_reorganizations")


@pytest.fixture
def roles(db: None) -> dict[str, Group]:
    """The groups of migrations 0003 and 0010 (re-applied: browser tests flush the
    database)."""
    roles_migration.create_roles(django_apps, None)
    approvers_migration.create_approvers(django_apps, None)
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

"""The registry's roles survive what empties the database, and keep an operator's additions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from units.roles import APPROVERS, AUDITORS, EDITORS, ROLE_PERMISSIONS


def held(name: str) -> set[str]:
    return set(
        Group.objects.get(name=name).permissions.values_list("codename", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_every_role_holds_its_permissions_again_after_a_flush() -> None:
    call_command("flush", interactive=False, verbosity=0)

    for name, codenames in ROLE_PERMISSIONS.items():
        assert held(name) == set(codenames), name
    assert "approve_reorganization" in held(APPROVERS)
    assert "approve_reorganization" not in held(EDITORS) | held(AUDITORS)
    assert not {
        codename for codename in held(EDITORS) if codename.startswith("delete_")
    }


@pytest.mark.django_db
def test_a_migrate_keeps_what_an_operator_added_to_a_role() -> None:
    extra = Permission.objects.get(codename="delete_session")
    Group.objects.get(name=AUDITORS).permissions.add(extra)

    call_command("migrate", verbosity=0)

    assert "delete_session" in held(AUDITORS)
    assert set(ROLE_PERMISSIONS[AUDITORS]) <= held(AUDITORS)

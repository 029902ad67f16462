"""The registry's three roles and the permissions each holds, in one place.

Migrations 0003 and 0010 first created the groups; this keeps them true after every
``migrate`` and every ``flush`` (both send ``post_migrate``, after Django has created
the permissions), so a database emptied by a transactional test, or restored, has its
roles again. Permissions are added, never taken away: an operator who gave a role more
keeps it. Nobody gets a delete permission: units are abolished, history is append-only.
"""

from __future__ import annotations

from typing import Any

EDITORS = "Registry editors"
AUDITORS = "Registry auditors"
APPROVERS = "Registry approvers"

REGISTRY_MODELS = (
    "organizationalunit",
    "post",
    "person",
    "appointment",
    "unitrelationship",
    "unitsuccession",
)
_READ_REGISTRY = [
    f"view_{prefix}{model}"
    for model in REGISTRY_MODELS
    for prefix in ("", "historical")
]
_READ_REORGANIZATIONS = ["view_reorganization", "view_reorganizationoperation"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    EDITORS: [
        *(
            f"{action}_{model}"
            for model in REGISTRY_MODELS
            for action in ("add", "change")
        ),
        *_READ_REGISTRY,
        "add_reorganization",
        "change_reorganization",
        "add_reorganizationoperation",
        "change_reorganizationoperation",
        *_READ_REORGANIZATIONS,
    ],
    AUDITORS: [*_READ_REGISTRY, *_READ_REORGANIZATIONS],
    # Approvers read what a reorganization changes as auditors do, and approve it.
    APPROVERS: [*_READ_REGISTRY, *_READ_REORGANIZATIONS, "approve_reorganization"],
}


def ensure_roles(**kwargs: Any) -> None:
    """``post_migrate`` of the units app: each role exists and holds its permissions."""
    from django.contrib.auth.models import Group, Permission

    for name, codenames in ROLE_PERMISSIONS.items():
        permissions = list(
            Permission.objects.filter(
                content_type__app_label="units", codename__in=codenames
            )
        )
        missing = set(codenames) - {permission.codename for permission in permissions}
        if missing:
            raise RuntimeError(f"{name}: permissions missing: {sorted(missing)}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)

"""Who may read and who may write through the API."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

# Who sees authors and internal reasons: one rule for the API, feeds and pages.
from units.selectors.audience import (  # noqa: F401
    STAFF_IDENTITY_PERMISSIONS,
    may_see_staff_identities,
)


class ReadAnyoneWriteWithModelPermission(BasePermission):
    """Anyone reads; a write needs the model permissions the view names per method.

    DRF's DjangoModelPermissions maps POST to "add", but moving or abolishing a unit is
    a POST that changes it; each view says exactly what each method requires.
    """

    message = "You do not have the permission this change needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        required = getattr(view, "write_permissions", {}).get(request.method)
        if required is None:
            return False
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perms(required)
        )

"""What a reader may see of the history: who made each change, and internal reasons.

One rule for both, here: authenticated auditors and editors (those who may view or
change units) see authors and every reason; everyone else sees no author and no
internal reason. The API, the Atom feed, the pages and the read cache's keys all ask
this module, so a reader the API treats as public is public everywhere, and a cached
answer for staff can never be served to the public.
"""

from __future__ import annotations

from typing import Any, Protocol

from units.models import ReasonVisibility

# Seeing who made a change, and internal reasons, is for people inside the registry's
# staff, not the public.
STAFF_IDENTITY_PERMISSIONS = (
    "units.view_organizationalunit",
    "units.change_organizationalunit",
)
# What the public reads in place of an internal reason.
REASON_NOT_PUBLIC = "reason not public"


class HasReason(Protocol):
    @property
    def reason(self) -> str: ...

    @property
    def reason_visibility(self) -> str: ...


def may_see_staff_identities(user: Any) -> bool:
    """Authenticated auditors and editors see authors and internal reasons."""
    if user is None or not user.is_authenticated:
        return False
    return any(user.has_perm(permission) for permission in STAFF_IDENTITY_PERMISSIONS)


def reader_kind(user: Any) -> str:
    """ "staff" or "public": the part of cache keys and ETags that the reader decides."""
    return "staff" if may_see_staff_identities(user) else "public"


def is_internal(item: HasReason) -> bool:
    return item.reason_visibility != ReasonVisibility.PUBLIC


def shown_reason(item: HasReason, *, staff: bool) -> str | None:
    """``item``'s reason as this reader may read it; None when it is withheld.

    Anything but a public reason is withheld from the public (an unknown visibility
    counts as internal).
    """
    if staff or not is_internal(item):
        return item.reason
    return None


def reason_text(item: HasReason, *, staff: bool) -> str:
    """The reason as one line of text for this reader (feeds, plain listings).

    Staff read an internal reason marked as such; the public read that it is not
    public, never the reason.
    """
    reason = shown_reason(item, staff=staff)
    if reason is None:
        return REASON_NOT_PUBLIC
    if is_internal(item):
        return f"{reason} (internal)"
    return reason


__all__ = [
    "REASON_NOT_PUBLIC",
    "STAFF_IDENTITY_PERMISSIONS",
    "HasReason",
    "is_internal",
    "may_see_staff_identities",
    "reader_kind",
    "reason_text",
    "shown_reason",
]

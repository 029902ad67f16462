"""What every representation shares: history types, reason help, slugs from the context."""

from __future__ import annotations

from typing import Any

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
# One abolish-many request stays one bounded transaction (the admin's action offers
# at most a page of 500 units too).
MAX_UNITS_ABOLISHED_AT_ONCE = 500


def value_of(item: Any, name: str) -> Any:
    """Read a field from a history row (dict) or a selector dataclass alike."""
    return item[name] if isinstance(item, dict) else getattr(item, name)


def slug_in_context(
    context: dict[str, Any], map_name: str, pk: int | None
) -> str | None:
    if pk is None:
        return None
    return context[map_name].get(pk)


def reads_as_staff(context: dict[str, Any]) -> bool:
    """Whether the reader sees authors and internal reasons (``selectors.audience``)."""
    return bool(context.get("staff_reader"))


REASON_HELP = (
    "Why the change was made; null when the reason is internal and you are not an "
    "authenticated auditor or editor."
)
REASON_VISIBILITY_HELP = (
    "public (everyone reads the reason) or internal (editors and auditors only)."
)


# Fields named parent, label or source: the DRF stubs give every Field (and so every
# Serializer) attributes of those names, but the serializer metaclass moves declared
# fields out of the class, so nothing is shadowed at run time; hence the
# ``type: ignore[assignment]`` on those lines, and on ``effective_at = None``, DRF's way
# of leaving out an inherited field.

"""Why a service refuses a write, and the one HTTP status each refusal answers with.

Services raise Django's ``ValidationError`` with one of these codes and a message written
for the person who asked; the API's exception handler and the admin's pages both read the
status from ``refusal_status`` so the same refusal never gets two answers. The labels say
in general what each code means (the raised message says it for the case at hand).
"""

from __future__ import annotations

from http import HTTPStatus

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Refusal(models.TextChoices):
    # The request itself is incomplete or malformed: 400.
    INVALID = "invalid", _("A field has an invalid value.")
    INVALID_TEXT = (
        "invalid_text",
        _("A text holds a control character, or a line break where one line is due."),
    )
    REASON_REQUIRED = "reason_required", _("A reason is required.")
    FUTURE_EFFECTIVE_TIME = (
        "future_effective_time",
        _("A change cannot take effect in the future."),
    )
    NOT_UPDATABLE = "not_updatable", _("That field cannot be changed here.")
    ENDS_BEFORE_START = (
        "ends_before_start",
        _("An appointment cannot end before it started."),
    )
    SELF_RELATIONSHIP = (
        "self_relationship",
        _("A relationship links two different units."),
    )
    MOVE_TARGET_REQUIRED = (
        "move_target_required",
        _("Name the unit that takes over the sub-units."),
    )
    SUCCESSOR_REQUIRED = (
        "successor_required",
        _("The closure reason needs successors (or a given number of units)."),
    )
    SELF_SUCCESSION = "self_succession", _("A unit cannot succeed itself.")
    BAD_POSITION = "bad_position", _("The position of a move is not understood.")
    NO_CHANGE = "no_change", _("The object already matches that version.")
    # The request names something the registry does not hold: 404.
    NOT_FOUND = "not_found", _("No such object or version.")
    # The request was based on an older version of the object: 412.
    STALE_VERSION = (
        "stale_version",
        _("The object changed since it was loaded."),
    )
    # The request is well formed but conflicts with the registry's state: 409.
    CYCLE = "cycle", _("The move would put a unit inside its own subtree.")
    # The code predates corrections (issue 14): a change effective before one already
    # recorded is now a correction; only one before the object existed is refused.
    OUT_OF_ORDER = (
        "out_of_order",
        _("The change would take effect before the object existed."),
    )
    ABOLISHED = "abolished", _("The object is abolished.")
    HAS_ACTIVE_SUB_UNITS = (
        "has_active_sub_units",
        _("The unit still has active sub-units."),
    )
    POST_OCCUPIED = "post_occupied", _("The post is already held.")
    HEAD_EXISTS = "head_exists", _("The unit already has a head post.")
    SLUG_TAKEN = "slug_taken", _("The slug is already used.")
    POSITION_TAKEN = (
        "position_taken",
        _("Another sub-unit of the same parent holds that position."),
    )
    PARENT_ABOLISHED = "parent_abolished", _("The unit linked to is abolished.")
    UNIT_ABOLISHED = "unit_abolished", _("The post's unit is abolished.")
    PARENT_NOT_YET_ESTABLISHED = (
        "parent_not_yet_established",
        _("The unit linked to did not exist yet at that time."),
    )
    NOT_YET_ESTABLISHED = (
        "not_yet_established",
        _("The post did not exist yet at that time."),
    )
    ALREADY_ENDED = "already_ended", _("The appointment or relationship has ended.")
    DUPLICATE_RELATIONSHIP = (
        "duplicate_relationship",
        _("The two units already have this relationship."),
    )
    PREDECESSOR_ACTIVE = (
        "predecessor_active",
        _("A predecessor is not closed at that time."),
    )
    LINEAGE_CYCLE = "lineage_cycle", _("The lineage would loop back on itself.")
    DUPLICATE_SUCCESSION = (
        "duplicate_succession",
        _("The two units are already linked in the lineage."),
    )
    DOES_NOT_VALIDATE = (
        "does_not_validate",
        _("An operation of the reorganization does not apply to the registry."),
    )
    WRONG_STATUS = (
        "wrong_status",
        _("The reorganization's status does not allow that step."),
    )
    # Who may not take a step of a reorganization: 403.
    SELF_APPROVAL = (
        "self_approval",
        _("A reorganization is approved by someone other than its author."),
    )
    NOT_AN_APPROVER = (
        "not_an_approver",
        _("Only registry approvers approve or reject reorganizations."),
    )


# Well-formed requests that the registry's current state (or its recorded history) does
# not allow: the client must change something else first, not fix its request.
STATE_CONFLICTS = frozenset(
    {
        Refusal.CYCLE,
        Refusal.OUT_OF_ORDER,
        Refusal.ABOLISHED,
        Refusal.HAS_ACTIVE_SUB_UNITS,
        Refusal.POST_OCCUPIED,
        Refusal.HEAD_EXISTS,
        Refusal.SLUG_TAKEN,
        Refusal.POSITION_TAKEN,
        Refusal.PARENT_ABOLISHED,
        Refusal.UNIT_ABOLISHED,
        Refusal.PARENT_NOT_YET_ESTABLISHED,
        Refusal.NOT_YET_ESTABLISHED,
        Refusal.ALREADY_ENDED,
        Refusal.DUPLICATE_RELATIONSHIP,
        Refusal.DOES_NOT_VALIDATE,
        Refusal.WRONG_STATUS,
        Refusal.PREDECESSOR_ACTIVE,
        Refusal.LINEAGE_CYCLE,
        Refusal.DUPLICATE_SUCCESSION,
    }
)
REFUSAL_STATUS: dict[str, HTTPStatus] = {
    Refusal.NOT_FOUND: HTTPStatus.NOT_FOUND,
    Refusal.STALE_VERSION: HTTPStatus.PRECONDITION_FAILED,
    Refusal.SELF_APPROVAL: HTTPStatus.FORBIDDEN,
    Refusal.NOT_AN_APPROVER: HTTPStatus.FORBIDDEN,
    **dict.fromkeys(STATE_CONFLICTS, HTTPStatus.CONFLICT),
}


def refusal_code(error: ValidationError) -> str:
    """The code of a refusal; ``invalid`` for field errors and uncoded ones."""
    if hasattr(error, "error_dict"):
        # Invalid field values: full_clean()'s (``invalid``), or a text the services
        # refuse (``invalid_text``), which names its field as full_clean() does.
        codes = {item.code for items in error.error_dict.values() for item in items}
        if Refusal.INVALID_TEXT in codes:
            return Refusal.INVALID_TEXT.value
        return Refusal.INVALID.value
    code = next((item.code for item in error.error_list if item.code), None)
    return str(code) if code else Refusal.INVALID.value


def refusal_status(error: ValidationError) -> HTTPStatus:
    """The HTTP status a refusal answers with; anything not listed is a plain 400."""
    return REFUSAL_STATUS.get(refusal_code(error), HTTPStatus.BAD_REQUEST)

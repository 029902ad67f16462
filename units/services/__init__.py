"""Every write to the registry.

Each service takes the acting user and a reason (with ``reason_visibility``, public or
internal; default ``REASON_VISIBILITY_DEFAULT``), runs in one transaction, and leaves
exactly one history row per object it changed, carrying that user, that reason, its
visibility and the time the change took effect. The admin, the API, the pages and management commands all
call these functions; none of them saves a model directly. ``from units import
services; services.unit_create(...)`` is the way to call them.

- ``revisions``: the registry lock, author, reason and time checks, saving a revision
- ``refusals``: the codes a service refuses with, and the HTTP status of each
- ``reverts``: how a revert takes effect: undone from now, or the record corrected
- ``units``, ``posts``, ``people``, ``appointments``, ``relationships``: the writes;
  a unit's also in ``abolitions``, ``unit_reverts`` (revert, reinstate) and
  ``placements`` (a move to a place among siblings)
- ``lineage``: which units took over the work of one that closed (merged, split,
  replaced, absorbed): typed, dated links, validated as GOV.UK's register does
- ``tree``: a move's nested-set update, and the rule that siblings' positions differ
- ``positions``: making positions distinct in a registry written before that rule
- ``reorganizations``: drafts of many operations, approved by a second person and
  applied through the writes above, all or nothing, at their effective time
- ``imports``: a spreadsheet of units read and compared, as a draft reorganization
- ``tokens``: a person's own API token (not part of the registry)
"""

from units.services.abolitions import (
    SubUnitDestinations,
    SubUnitPolicy,
    SubUnitRefusal,
    unit_abolish,
    units_abolish,
)
from units.services.appointments import (
    APPOINTMENT_CORRECTABLE_FIELDS,
    appointment_correct,
    appointment_end,
    appointment_start,
    appointment_start_for_new_person,
)
from units.services.imports import (
    FileRefusal,
    import_difference,
    reorganization_import,
)
from units.services.lineage import lineage_record
from units.services.people import (
    PERSON_UPDATABLE_FIELDS,
    person_create,
    person_revert,
    person_update,
)
from units.services.placements import (
    MOVE_POSITIONS,
    MovePosition,
    unit_move_to_position,
)
from units.services.posts import (
    POST_UPDATABLE_FIELDS,
    post_abolish,
    post_create,
    post_end_holder,
    post_revert,
    post_update,
)
from units.services.refusals import (
    REFUSAL_STATUS,
    Refusal,
    refusal_code,
    refusal_status,
)
from units.services.relationships import (
    RELATIONSHIP_CORRECTABLE_FIELDS,
    relationship_correct,
    relationship_create,
    relationship_end,
)
from units.services.reorganizations import (
    ReorganizationRefusal,
    apply_due_reorganizations,
    catch_up_reorganizations,
    operation_add,
    operation_delete,
    operation_update,
    previewed_changes,
    registry_as_planned,
    reorganization_apply,
    reorganization_approve,
    reorganization_cancel,
    reorganization_create,
    reorganization_problems,
    reorganization_reject,
    reorganization_revert,
    reorganization_submit,
    reorganization_update,
    single_operation_apply,
)
from units.services.reverts import REVERT_MODE_HELP, RevertMode, revert_mode
from units.services.revisions import (
    CLOCK_TOLERANCE,
    REGISTRY_LOCK_KEY,
    Actor,
    EffectiveTime,
    effective_datetime,
)
from units.services.tokens import api_token_create, api_token_revoke
from units.services.unit_reverts import unit_reinstate, unit_revert
from units.services.units import (
    KEEP_PARENT,
    SIBLING_ORDER_STEP,
    UNIT_UPDATABLE_FIELDS,
    unit_create,
    unit_move,
    unit_update,
)

__all__ = [
    "APPOINTMENT_CORRECTABLE_FIELDS",
    "RELATIONSHIP_CORRECTABLE_FIELDS",
    "appointment_correct",
    "relationship_correct",
    "FileRefusal",
    "import_difference",
    "reorganization_import",
    "CLOCK_TOLERANCE",
    "KEEP_PARENT",
    "MOVE_POSITIONS",
    "PERSON_UPDATABLE_FIELDS",
    "POST_UPDATABLE_FIELDS",
    "REFUSAL_STATUS",
    "REGISTRY_LOCK_KEY",
    "REVERT_MODE_HELP",
    "SIBLING_ORDER_STEP",
    "UNIT_UPDATABLE_FIELDS",
    "Actor",
    "EffectiveTime",
    "MovePosition",
    "Refusal",
    "ReorganizationRefusal",
    "RevertMode",
    "SubUnitDestinations",
    "SubUnitPolicy",
    "SubUnitRefusal",
    "api_token_create",
    "apply_due_reorganizations",
    "api_token_revoke",
    "appointment_end",
    "appointment_start",
    "appointment_start_for_new_person",
    "catch_up_reorganizations",
    "effective_datetime",
    "operation_add",
    "operation_delete",
    "operation_update",
    "person_create",
    "person_revert",
    "person_update",
    "post_abolish",
    "post_create",
    "post_end_holder",
    "post_revert",
    "post_update",
    "refusal_code",
    "refusal_status",
    "relationship_create",
    "relationship_end",
    "lineage_record",
    "reorganization_apply",
    "reorganization_approve",
    "reorganization_cancel",
    "reorganization_create",
    "reorganization_problems",
    "reorganization_reject",
    "reorganization_revert",
    "previewed_changes",
    "registry_as_planned",
    "reorganization_submit",
    "reorganization_update",
    "revert_mode",
    "single_operation_apply",
    "unit_abolish",
    "unit_create",
    "unit_move",
    "unit_move_to_position",
    "unit_reinstate",
    "unit_revert",
    "unit_update",
    "units_abolish",
]

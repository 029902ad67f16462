"""Reorganizations: draft, submit, approve (four eyes), reject, cancel and apply.

A reorganization's operations are applied by the same services as every single change
(``unit_create``, ``unit_move``, ``unit_abolish``, ``appointment_start``, ...), so no
rule of the tree is written twice. Each operation runs with the reorganization's reason,
effective time and author, and every revision it writes names the reorganization
(``revisions.writing_for``).

Validation tries the operations out for real, inside a transaction that is rolled back
("the registry as it will stand at the effective time": approved reorganizations due
before it are tried first). Application runs them in one transaction: all or nothing;
if one no longer applies, nothing is written and the reorganization is "failed" with
the reasons.

- ``payloads``: the shape of each operation kind's payload
- ``operations``: which service applies each kind (``lineage_operations``: merge,
  split, replace and absorb, through the unit services and ``services.lineage``)
- ``tryout``: validation by a rolled-back try-out
- ``records``: saving a reorganization's own history, the checks each step shares
- ``drafts``: creating and editing a draft and its operations
- ``decisions``: submit, approve, reject, cancel
- ``application``: applying at the effective time (task, catch-up before reads)
- ``undo``: reverting an applied reorganization, as a new draft
- ``planned``: the registry as planned (future reads, previews), rolled back after
- ``single``: one change as a one-operation reorganization, approved by its author
  and applied at once
"""

from units.services.reorganizations.application import (
    apply_due_reorganizations,
    catch_up_reorganizations,
    reorganization_apply,
)
from units.services.reorganizations.decisions import (
    reorganization_approve,
    reorganization_cancel,
    reorganization_reject,
    reorganization_submit,
)
from units.services.reorganizations.drafts import (
    operation_add,
    operation_delete,
    operation_update,
    operations_add,
    reorganization_create,
    reorganization_update,
)
from units.services.reorganizations.operations import APPLY
from units.services.reorganizations.payloads import PAYLOAD_SHAPES, check_payload
from units.services.reorganizations.planned import (
    previewed_changes,
    registry_as_planned,
)
from units.services.reorganizations.problems import Problem, ReorganizationRefusal
from units.services.reorganizations.single import single_operation_apply
from units.services.reorganizations.tryout import reorganization_problems
from units.services.reorganizations.undo import reorganization_revert

__all__ = [
    "APPLY",
    "PAYLOAD_SHAPES",
    "Problem",
    "ReorganizationRefusal",
    "apply_due_reorganizations",
    "catch_up_reorganizations",
    "check_payload",
    "operation_add",
    "operation_delete",
    "operation_update",
    "operations_add",
    "previewed_changes",
    "registry_as_planned",
    "reorganization_apply",
    "reorganization_approve",
    "reorganization_cancel",
    "reorganization_create",
    "reorganization_problems",
    "reorganization_reject",
    "reorganization_revert",
    "reorganization_submit",
    "reorganization_update",
    "single_operation_apply",
]

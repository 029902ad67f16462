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
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.utils import timezone

from units.characters import field_text_problem, text_problem
from units.models import (
    Appointment,
    OperationKind,
    OrganizationalUnit,
    Person,
    Post,
    RelationshipKind,
    Reorganization,
    ReorganizationOperation,
    ReorganizationStatus,
    UnitRelationship,
)
from units.selectors.reorganizations import (
    due_reorganizations,
    next_due_reorganization_at,
    remember_next_due,
)
from units.services.appointments import appointment_end, appointment_start
from units.services.refusals import Refusal
from units.services.relationships import relationship_create, relationship_end
from units.services.revisions import (
    Actor,
    EffectiveTime,
    Write,
    check_texts,
    clean_reason,
    clean_reason_visibility,
    effective_datetime,
    lock_registry,
    writing_for,
)
from units.services.units import (
    MOVE_POSITIONS,
    UNIT_UPDATABLE_FIELDS,
    unit_abolish,
    unit_create,
    unit_move,
    unit_move_to_position,
    unit_revert,
    unit_update,
)

Status = ReorganizationStatus
# A problem found in a reorganization: the operation's index (None: the whole) and why.
Problem = dict[str, Any]
EDITABLE_FIELDS = frozenset(
    {"title", "reference", "reason", "reason_visibility", "effective_at"}
)
CANCELLABLE = frozenset({Status.DRAFT, Status.SUBMITTED, Status.APPROVED})


class ReorganizationRefusal(ValidationError):
    """A refusal that lists each operation's problem, so each shows beside its operation."""

    def __init__(self, message: str, problems: list[Problem], *, code: str) -> None:
        details = "; ".join(_problem_text(problem) for problem in problems)
        super().__init__(f"{message} {details}".strip(), code=code)
        self.problems = problems


def _problem_text(problem: Problem) -> str:
    index = problem.get("operation")
    prefix = "" if index is None else f"Operation {index + 1}: "
    return prefix + str(problem["message"])


# --- Operations: what each kind needs, and which service applies it ----------------------


@dataclass(frozen=True)
class PayloadShape:
    """The keys an operation's payload holds: each required or optional, with a type."""

    required: Mapping[str, type | tuple[type, ...]]
    optional: Mapping[str, type | tuple[type, ...]]


_SLUG_OR_NONE = (str, type(None))
PAYLOAD_SHAPES: dict[str, PayloadShape] = {
    OperationKind.ESTABLISH_UNIT: PayloadShape(
        required={"name": str, "kind": str, "slug": str},
        optional={
            "parent": _SLUG_OR_NONE,
            "short_name": str,
            "mandate": str,
            "location": str,
            "learn_more_url": str,
            "provenance": str,
            "reporting_line": str,
        },
    ),
    OperationKind.CHANGE_UNIT: PayloadShape(
        required={"unit": str, "fields": dict}, optional={}
    ),
    OperationKind.MOVE_UNIT: PayloadShape(
        required={"unit": str},
        optional={
            "parent": _SLUG_OR_NONE,
            "position": str,
            "target": str,
            "reporting_line": str,
        },
    ),
    OperationKind.ABOLISH_UNIT: PayloadShape(
        required={"unit": str}, optional={"sub_units": dict}
    ),
    OperationKind.REINSTATE_UNIT: PayloadShape(required={"unit": str}, optional={}),
    OperationKind.APPOINT: PayloadShape(
        required={"person": str, "post": str}, optional={"note": str}
    ),
    OperationKind.END_APPOINTMENT: PayloadShape(required={"post": str}, optional={}),
    OperationKind.ADD_DOTTED_LINE: PayloadShape(
        required={"source": str, "target": str, "kind": str},
        optional={"description": str},
    ),
    OperationKind.END_DOTTED_LINE: PayloadShape(
        required={"source": str, "target": str, "kind": str}, optional={}
    ),
}


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, code=Refusal.INVALID)


def check_payload(kind: str, payload: Any) -> dict[str, Any]:
    """Refuse an operation whose payload lacks a key, has a stranger or a wrong type.

    Only the shape: whether it applies to the registry is what validation finds out.
    """
    if kind not in PAYLOAD_SHAPES:
        raise _invalid(
            f"Unknown operation kind “{kind}”: use one of {', '.join(PAYLOAD_SHAPES)}."
        )
    if not isinstance(payload, dict):
        raise _invalid("An operation's payload is an object of named values.")
    shape = PAYLOAD_SHAPES[kind]
    missing = sorted(set(shape.required) - set(payload))
    if missing:
        raise _invalid(f"A “{kind}” operation needs {', '.join(missing)}.")
    allowed = {**shape.required, **shape.optional}
    strangers = sorted(set(payload) - set(allowed))
    if strangers:
        raise _invalid(
            f"A “{kind}” operation does not take {', '.join(strangers)}; it takes "
            f"{', '.join(allowed)}."
        )
    for key, value in payload.items():
        if not isinstance(value, allowed[key]):
            raise _invalid(f"“{key}” of a “{kind}” operation has the wrong type.")
    _check_payload_texts(kind, payload)
    if kind == OperationKind.CHANGE_UNIT:
        unknown = sorted(set(payload["fields"]) - UNIT_UPDATABLE_FIELDS)
        if unknown or not payload["fields"]:
            raise _invalid(
                "“fields” names the fields to change, among "
                f"{', '.join(sorted(UNIT_UPDATABLE_FIELDS))}."
            )
    if kind == OperationKind.MOVE_UNIT:
        placed = "position" in payload or "target" in payload
        if placed == ("parent" in payload):
            raise _invalid(
                "A move names either the new “parent”, or a “position” and a “target”."
            )
        if placed and (
            payload.get("position") not in MOVE_POSITIONS or "target" not in payload
        ):
            raise _invalid(
                f"“position” is one of {', '.join(MOVE_POSITIONS)}, with a “target”."
            )
    if kind == OperationKind.ABOLISH_UNIT:
        for child, destination in payload.get("sub_units", {}).items():
            if not isinstance(child, str) or not isinstance(destination, _SLUG_OR_NONE):
                raise _invalid(
                    "“sub_units” maps each sub-unit's slug to the slug of the unit it "
                    "moves to, or to null to abolish it too."
                )
    if kind in {OperationKind.ADD_DOTTED_LINE, OperationKind.END_DOTTED_LINE}:
        if payload["kind"] not in RelationshipKind.values:
            raise _invalid(f"“kind” is one of {', '.join(RelationshipKind.values)}.")
    return payload


# The model whose fields an operation's texts become (the rest are slugs and choices):
# a text is checked as that field will check it, so line breaks only where it may hold
# them (a mandate, a description).
_PAYLOAD_MODELS: dict[str, type[models.Model]] = {
    OperationKind.ESTABLISH_UNIT: OrganizationalUnit,
    OperationKind.CHANGE_UNIT: OrganizationalUnit,
    OperationKind.APPOINT: Appointment,
    OperationKind.ADD_DOTTED_LINE: UnitRelationship,
}


def _payload_text_problem(
    model: type[models.Model] | None, key: str, value: str
) -> str | None:
    field = None
    if model is not None:
        try:
            field = model._meta.get_field(key)
        except FieldDoesNotExist:
            field = None
    if isinstance(field, models.CharField | models.TextField):
        return field_text_problem(field, value)
    return text_problem(key.replace("_", " "), value, multi_line=False)


def _check_payload_texts(kind: str, payload: dict[str, Any]) -> None:
    """Refuse a payload whose texts hold a control character, naming each key.

    The operation would be refused when applied anyway, but its payload is stored with
    the draft and shown to its readers: such a text is refused when it is written
    (``invalid_text``, under ``payload``), like every other text the registry stores.
    """
    model = _PAYLOAD_MODELS.get(kind)
    texts: list[tuple[str, str, str]] = []
    for key, value in payload.items():
        if isinstance(value, str):
            texts.append((key, key, value))
        elif isinstance(value, dict):
            # change_unit's "fields", abolish_unit's "sub_units" (slug to slug).
            for inner, inner_value in value.items():
                name = f"{key}.{inner}"
                if isinstance(inner, str):
                    texts.append((name, "slug", inner))
                if isinstance(inner_value, str):
                    field = inner if key == "fields" else "slug"
                    texts.append((name, field, inner_value))
    problems = []
    for name, field, text in texts:
        problem = _payload_text_problem(model, field, text)
        if problem:
            problems.append(
                ValidationError(f"“{name}”: {problem}", code=Refusal.INVALID_TEXT)
            )
    if problems:
        raise ValidationError({"payload": problems})


def _by_slug(model: type[models.Model], slug: str) -> Any:
    found = model._default_manager.filter(slug=slug).first()
    if found is None:
        raise ValidationError(
            f"No {model._meta.verbose_name} has the slug “{slug}”.",
            code=Refusal.NOT_FOUND,
        )
    return found


def _unit(slug: str | None) -> OrganizationalUnit | None:
    return None if slug is None else _by_slug(OrganizationalUnit, slug)


def _establish(payload: dict[str, Any], write: Write) -> None:
    fields = {key: value for key, value in payload.items() if key != "parent"}
    unit_create(parent=_unit(payload.get("parent")), **write.keywords(), **fields)


def _change(payload: dict[str, Any], write: Write) -> None:
    unit_update(
        unit=_by_slug(OrganizationalUnit, payload["unit"]),
        **write.keywords(),
        **payload["fields"],
    )


def _move(payload: dict[str, Any], write: Write) -> None:
    unit = _by_slug(OrganizationalUnit, payload["unit"])
    if "position" in payload:
        unit_move_to_position(
            unit=unit,
            target=_by_slug(OrganizationalUnit, payload["target"]),
            position=payload["position"],
            reporting_line=payload.get("reporting_line"),
            **write.keywords(),
        )
        return
    unit_move(
        unit=unit,
        new_parent=_unit(payload["parent"]),
        reporting_line=payload.get("reporting_line"),
        **write.keywords(),
    )


def _abolish(payload: dict[str, Any], write: Write) -> None:
    destinations = None
    if "sub_units" in payload:
        destinations = {
            _by_slug(OrganizationalUnit, child).pk: (
                None if target is None else _by_slug(OrganizationalUnit, target).pk
            )
            for child, target in payload["sub_units"].items()
        }
    unit_abolish(
        unit=_by_slug(OrganizationalUnit, payload["unit"]),
        sub_unit_destinations=destinations,
        **write.keywords(),
    )


def _reinstate(payload: dict[str, Any], write: Write) -> None:
    """Back to the unit's last version before its abolition (``unit_revert``)."""
    unit = _by_slug(OrganizationalUnit, payload["unit"])
    if unit.is_active:
        raise ValidationError(
            f"“{unit}” is not abolished; there is nothing to reinstate.",
            code=Refusal.NO_CHANGE,
        )
    before = (
        unit.history.filter(abolished_on__isnull=True)
        .order_by("-history_date", "-history_id")
        .values_list("history_id", flat=True)
        .first()
    )
    if before is None:
        raise ValidationError(
            f"“{unit}” has no recorded version before its abolition.",
            code=Refusal.NOT_FOUND,
        )
    unit_revert(unit=unit, history_id=before, **write.keywords())


def _appoint(payload: dict[str, Any], write: Write) -> None:
    appointment_start(
        person=_by_slug(Person, payload["person"]),
        post=_by_slug(Post, payload["post"]),
        started_on=write.effective_at.date(),
        note=payload.get("note", ""),
        **write.keywords(),
    )


def _end_appointment(payload: dict[str, Any], write: Write) -> None:
    post = _by_slug(Post, payload["post"])
    holder = Appointment.objects.filter(post=post, ended_on__isnull=True).first()
    if holder is None:
        raise ValidationError(
            f"Nobody holds “{post}”; there is no appointment to end.",
            code=Refusal.ALREADY_ENDED,
        )
    appointment_end(
        appointment=holder,
        ended_on=write.effective_at.date(),
        **write.keywords(),
    )


def _add_dotted_line(payload: dict[str, Any], write: Write) -> None:
    relationship_create(
        source=_by_slug(OrganizationalUnit, payload["source"]),
        target=_by_slug(OrganizationalUnit, payload["target"]),
        kind=payload["kind"],
        description=payload.get("description", ""),
        **write.keywords(),
    )


def _end_dotted_line(payload: dict[str, Any], write: Write) -> None:
    source = _by_slug(OrganizationalUnit, payload["source"])
    target = _by_slug(OrganizationalUnit, payload["target"])
    line = UnitRelationship.objects.filter(
        source=source, target=target, kind=payload["kind"], ended_on__isnull=True
    ).first()
    if line is None:
        raise ValidationError(
            f"“{source}” has no current “{payload['kind']}” line to “{target}”.",
            code=Refusal.ALREADY_ENDED,
        )
    relationship_end(relationship=line, **write.keywords())


APPLY: dict[str, Callable[[dict[str, Any], Write], None]] = {
    OperationKind.ESTABLISH_UNIT: _establish,
    OperationKind.CHANGE_UNIT: _change,
    OperationKind.MOVE_UNIT: _move,
    OperationKind.ABOLISH_UNIT: _abolish,
    OperationKind.REINSTATE_UNIT: _reinstate,
    OperationKind.APPOINT: _appoint,
    OperationKind.END_APPOINTMENT: _end_appointment,
    OperationKind.ADD_DOTTED_LINE: _add_dotted_line,
    OperationKind.END_DOTTED_LINE: _end_dotted_line,
}


# --- Trying out and applying ------------------------------------------------------------


class _TryOut(Exception):
    """Raised to roll back a try-out's transaction once its problems are known."""


def _run_operations(reorganization: Reorganization) -> list[Problem]:
    """Apply each operation in its own savepoint; return each one's refusal.

    A refused operation leaves nothing behind, so the ones after it are tried against
    the registry without it (and may fail because of it: that is reported too).
    """
    write = Write(
        user=reorganization.author,
        reason=reorganization.reason,
        reason_visibility=reorganization.reason_visibility,
        effective_at=reorganization.effective_at,
    )
    problems: list[Problem] = []
    operations = list(reorganization.operations.order_by("position", "pk"))
    if not operations:
        return [{"operation": None, "message": "The reorganization has no operation."}]
    with writing_for(reorganization):
        for index, operation in enumerate(operations):
            try:
                with transaction.atomic():
                    APPLY[operation.kind](
                        check_payload(operation.kind, operation.payload), write
                    )
            except ValidationError as error:
                problems.append(
                    {"operation": index, "message": " ".join(error.messages)}
                )
    return problems


def reorganization_problems(reorganization: Reorganization) -> list[Problem]:
    """What stands in the way of ``reorganization``, tried against the registry as it
    will stand at its effective time; nothing of the try-out is kept."""
    problems: list[Problem] = []
    try:
        with transaction.atomic():
            lock_registry()
            earlier = due_reorganizations(reorganization.effective_at).exclude(
                pk=reorganization.pk
            )
            for scheduled in earlier.select_related("author"):
                _run_operations(scheduled)
            problems = _run_operations(reorganization)
            raise _TryOut
    except _TryOut:
        pass
    return problems


def _record(reorganization: Reorganization, user: Actor, why: str) -> None:
    """Save the reorganization as one history row with who and why; a title,
    reference, reason or rejection reason holding a control character is refused
    (``check_texts``, as every other write), so nothing is written."""
    check_texts(reorganization, is_new=reorganization.pk is None)
    reorganization.full_clean()
    reorganization.__dict__.update(
        _history_user=user if isinstance(user, AbstractBaseUser) else None,
        _change_reason=why,
    )
    try:
        reorganization.save()
    finally:
        for attribute in ("_history_user", "_change_reason"):
            reorganization.__dict__.pop(attribute, None)


def _pk(instance: models.Model | int) -> int:
    return instance if isinstance(instance, int) else int(instance.pk)


def _locked(reorganization: Reorganization | int) -> Reorganization:
    pk = _pk(reorganization)
    found = (
        Reorganization.objects.select_for_update()
        .select_related("author")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise ValidationError(
            f"Reorganization {pk} does not exist.", code=Refusal.NOT_FOUND
        )
    return found


def _require_status(reorganization: Reorganization, *allowed: str, step: str) -> None:
    if reorganization.status not in allowed:
        raise ValidationError(
            f"“{reorganization}” is {reorganization.get_status_display().lower()}; "
            f"it cannot be {step}.",
            code=Refusal.WRONG_STATUS,
        )


def _is_user(user: Actor) -> bool:
    return isinstance(user, AbstractBaseUser) and not isinstance(user, AnonymousUser)


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError(
            {"title": ValidationError("A title is required.", code=Refusal.INVALID)}
        )
    return title


# --- The life cycle -----------------------------------------------------------------------


@transaction.atomic
def reorganization_create(
    *,
    user: Actor,
    title: str,
    reason: str,
    effective_at: EffectiveTime,
    reference: str = "",
    reason_visibility: str | None = None,
) -> Reorganization:
    """Start a draft, to which operations are added one by one."""
    if not isinstance(user, User):
        raise ValidationError(
            "Sign in to draft a reorganization.", code=Refusal.INVALID
        )
    reorganization = Reorganization(
        title=_clean_title(title),
        reference=reference.strip(),
        reason=clean_reason(reason),
        reason_visibility=clean_reason_visibility(reason_visibility),
        effective_at=effective_datetime(effective_at),
        author=user,
    )
    _record(reorganization, user, "Drafted")
    return reorganization


@transaction.atomic
def reorganization_update(
    *, reorganization: Reorganization | int, user: Actor, **changes: Any
) -> Reorganization:
    """Edit a draft's title, reference, reason or effective time; validate again."""
    reorganization = _locked(reorganization)
    _require_status(reorganization, Status.DRAFT, step="edited")
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            f"These fields cannot be changed here: {', '.join(unknown)}.",
            code=Refusal.NOT_UPDATABLE,
        )
    if "title" in changes:
        changes["title"] = _clean_title(changes["title"])
    if "reason" in changes:
        changes["reason"] = clean_reason(changes["reason"])
    if "reason_visibility" in changes:
        changes["reason_visibility"] = clean_reason_visibility(
            changes["reason_visibility"]
        )
    if "reference" in changes:
        changes["reference"] = (changes["reference"] or "").strip()
    if "effective_at" in changes:
        changes["effective_at"] = effective_datetime(changes["effective_at"])
    for field, value in changes.items():
        setattr(reorganization, field, value)
    reorganization.problems = reorganization_problems(reorganization)
    _record(reorganization, user, "Edited")
    return reorganization


def _revalidate(reorganization: Reorganization, user: Actor, why: str) -> None:
    reorganization.problems = reorganization_problems(reorganization)
    _record(reorganization, user, why)


@transaction.atomic
def operation_add(
    *,
    reorganization: Reorganization | int,
    user: Actor,
    kind: str,
    payload: dict[str, Any],
    position: int | None = None,
) -> ReorganizationOperation:
    """Add an operation to a draft (last, or at ``position``); validate the draft."""
    reorganization = _locked(reorganization)
    _require_status(reorganization, Status.DRAFT, step="edited")
    check_payload(kind, payload)
    operations = reorganization.operations
    if position is None:
        highest = operations.aggregate(models.Max("position"))["position__max"]
        position = 1 if highest is None else highest + 1
    else:
        operations.filter(position__gte=position).update(
            position=models.F("position") + 1
        )
    operation = ReorganizationOperation(
        reorganization=reorganization, kind=kind, payload=payload, position=position
    )
    operation.full_clean()
    operation.save()
    _revalidate(
        reorganization, user, f"Operation added: {operation.get_kind_display()}"
    )
    return operation


@transaction.atomic
def operation_update(
    *,
    operation: ReorganizationOperation | int,
    user: Actor,
    payload: dict[str, Any] | None = None,
    kind: str | None = None,
    position: int | None = None,
) -> ReorganizationOperation:
    """Change a draft's operation; validate the draft again."""
    pk = _pk(operation)
    found = ReorganizationOperation.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError(f"Operation {pk} does not exist.", code=Refusal.NOT_FOUND)
    reorganization = _locked(found.reorganization_id)
    _require_status(reorganization, Status.DRAFT, step="edited")
    found.kind = kind or found.kind
    found.payload = found.payload if payload is None else payload
    check_payload(found.kind, found.payload)
    if position is not None:
        found.position = position
    found.full_clean()
    found.save()
    _revalidate(reorganization, user, f"Operation changed: {found.get_kind_display()}")
    return found


@transaction.atomic
def operation_delete(*, operation: ReorganizationOperation | int, user: Actor) -> None:
    """Take an operation out of a draft; validate the draft again."""
    pk = _pk(operation)
    found = ReorganizationOperation.objects.filter(pk=pk).first()
    if found is None:
        raise ValidationError(f"Operation {pk} does not exist.", code=Refusal.NOT_FOUND)
    reorganization = _locked(found.reorganization_id)
    _require_status(reorganization, Status.DRAFT, step="edited")
    found.delete()
    _revalidate(reorganization, user, "Operation removed")


@transaction.atomic
def reorganization_submit(
    *, reorganization: Reorganization | int, user: Actor
) -> Reorganization:
    """Hand a draft to the approvers; refused while an operation does not apply."""
    reorganization = _locked(reorganization)
    _require_status(reorganization, Status.DRAFT, step="submitted")
    problems = reorganization_problems(reorganization)
    if problems:
        raise ReorganizationRefusal(
            f"“{reorganization}” cannot be submitted:",
            problems,
            code=Refusal.DOES_NOT_VALIDATE,
        )
    reorganization.status = Status.SUBMITTED
    reorganization.problems = []
    _record(reorganization, user, "Submitted")
    return reorganization


def _check_approver(reorganization: Reorganization, user: Actor) -> None:
    if not _is_user(user) or not user.has_perm("units.approve_reorganization"):  # type: ignore[union-attr]
        raise ValidationError(
            "Only registry approvers approve or reject reorganizations.",
            code=Refusal.NOT_AN_APPROVER,
        )


@transaction.atomic
def reorganization_approve(
    *, reorganization: Reorganization | int, user: Actor
) -> Reorganization:
    """Approve a submitted reorganization: someone other than its author, who holds
    the approve permission; validated again. Due already: applied at once; later:
    scheduled (a task runs at its time, and the catch-up before reads stands in)."""
    reorganization = _locked(reorganization)
    _check_approver(reorganization, user)
    if reorganization.author_id == getattr(user, "pk", None) and not getattr(
        settings, "REORGANIZATION_SELF_APPROVAL", False
    ):
        raise ValidationError(
            f"You drafted “{reorganization}”; someone else must approve it.",
            code=Refusal.SELF_APPROVAL,
        )
    _require_status(reorganization, Status.SUBMITTED, step="approved")
    problems = reorganization_problems(reorganization)
    if problems:
        raise ReorganizationRefusal(
            f"“{reorganization}” cannot be approved:",
            problems,
            code=Refusal.DOES_NOT_VALIDATE,
        )
    reorganization.status = Status.APPROVED
    reorganization.approver = user  # type: ignore[assignment]
    reorganization.decided_at = timezone.now()
    _record(reorganization, user, "Approved")
    if reorganization.effective_at <= timezone.now():
        reorganization_apply(reorganization=reorganization)
        reorganization.refresh_from_db()
    else:
        _schedule(reorganization)
    return reorganization


def _schedule(reorganization: Reorganization) -> None:
    """Enqueue the task that applies it at its time, in this same transaction."""
    from units.tasks import apply_due_reorganizations_task

    apply_due_reorganizations_task.using(
        run_after=reorganization.effective_at
    ).enqueue()
    _refresh_next_due()


def _refresh_next_due() -> None:
    # Now (this process sees its own writes) and after the commit (every process does).
    remember_next_due()
    transaction.on_commit(remember_next_due)


@transaction.atomic
def reorganization_reject(
    *, reorganization: Reorganization | int, user: Actor, reason: str
) -> Reorganization:
    """Send a submitted reorganization back, with the reason why."""
    reorganization = _locked(reorganization)
    _check_approver(reorganization, user)
    _require_status(reorganization, Status.SUBMITTED, step="rejected")
    reorganization.rejection_reason = clean_reason(reason)
    reorganization.status = Status.REJECTED
    reorganization.approver = user  # type: ignore[assignment]
    reorganization.decided_at = timezone.now()
    _record(reorganization, user, "Rejected")
    return reorganization


@transaction.atomic
def reorganization_cancel(
    *, reorganization: Reorganization | int, user: Actor
) -> Reorganization:
    """Withdraw a reorganization before it applies: its author or an approver."""
    reorganization = _locked(reorganization)
    if reorganization.author_id != getattr(user, "pk", None):
        _check_approver(reorganization, user)
    _require_status(reorganization, *CANCELLABLE, step="cancelled")
    was_approved = reorganization.status == Status.APPROVED
    reorganization.status = Status.CANCELLED
    _record(reorganization, user, "Cancelled")
    if was_approved:
        _refresh_next_due()
    return reorganization


@transaction.atomic
def reorganization_apply(*, reorganization: Reorganization | int) -> Reorganization:
    """Apply an approved reorganization: every operation, or none and "failed".

    Run by the approval (when due), the task at its time and the catch-up before reads;
    whichever comes second finds it applied and does nothing.
    """
    lock_registry()
    reorganization = _locked(reorganization)
    if reorganization.status != Status.APPROVED:
        return reorganization
    problems: list[Problem] = []
    try:
        with transaction.atomic():
            problems = _run_operations(reorganization)
            if problems:
                raise _TryOut
    except _TryOut:
        pass
    if problems:
        reorganization.status = Status.FAILED
        reorganization.problems = problems
        _record(reorganization, None, "Failed: it no longer applies")
    else:
        reorganization.status = Status.APPLIED
        reorganization.applied_at = timezone.now()
        reorganization.problems = []
        _record(reorganization, None, "Applied")
    _refresh_next_due()
    return reorganization


def apply_due_reorganizations(
    now: datetime.datetime | None = None,
) -> list[Reorganization]:
    """Apply every approved reorganization whose time has come, earliest first."""
    now = now or timezone.now()
    return [
        reorganization_apply(reorganization=pk)
        for pk in list(due_reorganizations(now).values_list("pk", flat=True))
    ]


def catch_up_reorganizations() -> None:
    """Before a read: apply what is due, so no read shows the structure it replaces.

    A cache read when nothing is due (see ``next_due_reorganization_at``).
    """
    due = next_due_reorganization_at()
    if due is not None and due <= timezone.now():
        apply_due_reorganizations()
        remember_next_due()

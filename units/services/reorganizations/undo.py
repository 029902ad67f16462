"""Undoing an applied reorganization: a new draft whose operations restore, whole, the
state just before it applied.

The operations are read from the history rows that carry the original (every revision
its application wrote names it), so nothing is guessed from the present: each object it
touched is compared as it stood just before (the row before its first revision by the
original) with what the original left (its last such row) and with what it is now.

- units it established are abolished (last, deepest first), units it abolished are
  reinstated (parents first), units it moved go back under their old parent, at their
  old place among their old siblings, with their old reporting line, and the fields it
  changed (only those) get their old values back;
- posts likewise (created: abolished; abolished: reinstated; changed: restored);
- appointments it started are ended; appointments it ended are made again (the same
  person in the same post, from the revert's date) where the post is vacant;
- dotted lines it added are ended, and the ones it ended are drawn again.

What cannot be restored (a field changed again since, a post now held by someone else,
a line drawn again since, ...) is listed in the draft's ``not_restored``, never left out
silently; what the registry refuses when the draft is tried out is in its ``problems``,
as for every draft.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction

from units.models import (
    REVISION_ORDER,
    Appointment,
    OperationKind,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    Reorganization,
    ReorganizationOperation,
    UnitRelationship,
)
from units.selectors.as_of import states_as_of
from units.services.posts import POST_UPDATABLE_FIELDS
from units.services.refusals import Refusal
from units.services.reorganizations.payloads import check_payload
from units.services.reorganizations.problems import Status
from units.services.reorganizations.records import locked, record, require_status
from units.services.reorganizations.tryout import reorganization_problems
from units.services.reverts import RevertMode, revert_mode
from units.services.revisions import (
    Actor,
    EffectiveTime,
    clean_reason,
    clean_reason_visibility,
    effective_datetime,
)
from units.services.units import UNIT_UPDATABLE_FIELDS

Row = dict[str, Any]
TITLE_LENGTH = 255
# Unit fields a change_unit operation restores; the parent, the place among siblings
# and the reporting line of a moved unit travel with its move, abolition with reinstate.
UNIT_RESTORED_FIELDS = tuple(
    sorted(UNIT_UPDATABLE_FIELDS - {"sibling_order", "reporting_line"})
)
POST_RESTORED_FIELDS = tuple(
    sorted(f"{name}_id" if name == "unit" else name for name in POST_UPDATABLE_FIELDS)
)
# The order the operations apply in: what must exist before what comes back into it.
STAGES = (
    "reinstate_units",
    "reinstate_posts",
    "move_units",
    "change",
    "end",
    "restore",
    "abolish_posts",
    "abolish_units",
)


@dataclass
class Touched:
    """One object the original changed: just before it, what it left, and now."""

    before: Row | None
    after: Row
    now: Row | None


@dataclass
class Plan:
    """The revert's operations by stage, and what it cannot restore."""

    stages: dict[str, list[tuple[str, dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    not_restored: list[dict[str, str]] = field(default_factory=list)
    # The slug of each unit a post goes back to (read with the posts).
    unit_slugs: dict[int, str] = field(default_factory=dict)

    def add(self, stage: str, kind: str, payload: dict[str, Any]) -> None:
        self.stages[stage].append((kind, payload))

    def cannot(self, message: str) -> None:
        self.not_restored.append({"message": message})

    def operations(self) -> list[tuple[str, dict[str, Any]]]:
        return [operation for stage in STAGES for operation in self.stages[stage]]


def _fields(model: type[models.Model]) -> list[str]:
    return [
        model_field.attname
        for model_field in model._meta.concrete_fields
        if model_field.attname not in {"lft", "rght", "tree_id", "level"}
    ]


def _touched(
    model: type[RecordedModel], original: Reorganization
) -> dict[int, Touched]:
    """Each object of ``model`` the original wrote, read in three queries."""
    history = model.history
    ids = set(
        history.filter(reorganization=original).values_list("id", flat=True).distinct()
    )
    if not ids:
        return {}
    columns = ["history_id", "history_date", "reorganization_id", *_fields(model)]
    rows: dict[int, list[Row]] = defaultdict(list)
    for row in history.filter(id__in=ids).order_by(*REVISION_ORDER).values(*columns):
        rows[row["id"]].append(row)
    now = {
        row["id"]: row
        for row in model._default_manager.filter(id__in=ids).values(*_fields(model))
    }
    touched = {}
    for pk, versions in rows.items():
        mine = [
            i
            for i, row in enumerate(versions)
            if row["reorganization_id"] == original.pk
        ]
        first, last = mine[0], mine[-1]
        touched[pk] = Touched(
            before=versions[first - 1] if first > 0 else None,
            after=versions[last],
            now=now.get(pk),
        )
    return touched


def _changed(before: Row, after: Row, fields: Iterable[str]) -> list[str]:
    return [name for name in fields if before[name] != after[name]]


def _changed_since(touched: Touched, name: str) -> bool:
    return touched.now is None or touched.now[name] != touched.after[name]


class _Reader:
    """Slugs and names of the units, posts and people the revert names (few queries)."""

    def __init__(self) -> None:
        self.cache: dict[type[models.Model], dict[int, Row]] = {}

    def load(self, model: type[models.Model], ids: Iterable[int | None]) -> None:
        wanted = {pk for pk in ids if pk is not None} - set(self.cache.get(model, {}))
        found = self.cache.setdefault(model, {})
        if wanted:
            for row in model._default_manager.filter(pk__in=wanted).values():
                found[row["id"]] = row

    def slug(self, model: type[models.Model], pk: int | None) -> str | None:
        if pk is None:
            return None
        self.load(model, [pk])
        return str(self.cache[model][pk]["slug"])

    def row(self, model: type[models.Model], pk: int) -> Row:
        self.load(model, [pk])
        return self.cache[model][pk]

    def name(self, model: type[models.Model], pk: int) -> str:
        row = self.row(model, pk)
        return str(row.get("name") or row.get("title") or row.get("full_name"))


def _plan_units(
    touched: dict[int, Touched], plan: Plan, names: _Reader, instant: datetime.datetime
) -> None:
    names.load(OrganizationalUnit, touched)
    moves: list[tuple[int, Row]] = []
    established: list[int] = []
    reinstated: list[int] = []
    for pk, unit in touched.items():
        name = names.name(OrganizationalUnit, pk)
        if unit.before is None:
            # Abolished by itself or since: nothing left to undo.
            if unit.now is not None and unit.now["abolished_on"] is None:
                established.append(pk)
            continue
        if (
            unit.before["abolished_on"] is None
            and unit.after["abolished_on"] is not None
        ):
            if _changed_since(unit, "abolished_on"):
                plan.cannot(f"“{name}” was reinstated since; it is left as it is.")
                continue
            reinstated.append(pk)
        elif unit.now is None or unit.now["abolished_on"] is not None:
            plan.cannot(f"“{name}” was abolished since; it is not restored.")
            continue
        moved = _changed(unit.before, unit.after, ("parent_id", "sibling_order"))
        if moved and _changed_since(unit, "parent_id"):
            plan.cannot(f"“{name}” was moved again since; it is not moved back.")
        elif moved:
            # Its reporting line travels with the move.
            moves.append((pk, unit.before))
        restored = UNIT_RESTORED_FIELDS + (() if moved else ("reporting_line",))
        _restore_fields(
            plan,
            OperationKind.CHANGE_UNIT,
            {"unit": names.slug(OrganizationalUnit, pk)},
            unit,
            _changed(unit.before, unit.after, restored),
            f"“{name}”",
            OrganizationalUnit,
        )
    # Parents first, so that a unit comes back into a unit that is already back; its
    # level in the tree is where it stands, abolished or not.
    for pk in sorted(
        reinstated, key=lambda pk: names.row(OrganizationalUnit, pk)["level"]
    ):
        plan.add(
            "reinstate_units",
            OperationKind.REINSTATE_UNIT,
            {"unit": names.slug(OrganizationalUnit, pk)},
        )
    _plan_moves(moves, touched, plan, names, instant)
    # Deepest first, once what came into them has gone back.
    for pk in sorted(
        established, key=lambda pk: -names.row(OrganizationalUnit, pk)["level"]
    ):
        plan.add(
            "abolish_units",
            OperationKind.ABOLISH_UNIT,
            {"unit": names.slug(OrganizationalUnit, pk)},
        )


def _restore_fields(
    plan: Plan,
    kind: str,
    subject: dict[str, Any],
    touched: Touched,
    changed: list[str],
    shown: str,
    model: type[models.Model],
) -> None:
    """A change operation bringing back the old value of each field the original
    changed, except those changed again since (listed as not restored)."""
    before = touched.before or {}
    fields: dict[str, Any] = {}
    for attname in changed:
        if _changed_since(touched, attname):
            plan.cannot(
                f"The {_label(model, attname)} of {shown} was changed again since; "
                "it is not restored."
            )
        elif attname == "unit_id":
            fields["unit"] = plan.unit_slugs[before[attname]]
        else:
            fields[attname] = before[attname]
    if fields:
        plan.add("change", kind, {**subject, "fields": fields})


def _plan_moves(
    moves: list[tuple[int, Row]],
    touched: dict[int, Touched],
    plan: Plan,
    names: _Reader,
    instant: datetime.datetime,
) -> None:
    """Each moved unit back under its old parent, at its old place among its siblings.

    Its old siblings are read as they stood just before the original; each unit goes
    right after the nearest earlier old sibling that will be there when its move
    applies (one moved back before it, or one the original did not move that is still
    there), or first if none is.
    """
    parents = {before["parent_id"] for _, before in moves}
    sibling_ids = OrganizationalUnit.history.filter(parent_id__in=parents).values("id")
    old = {
        row["id"]: row
        for row in states_as_of(
            OrganizationalUnit,
            instant,
            ("id", "parent_id", "sibling_order", "abolished_on"),
            ids=sibling_ids,
        )
    }
    for pk, unit in touched.items():
        if unit.before is not None:
            old[pk] = unit.before
    current = {
        pk: (parent, order)
        for pk, parent, order in OrganizationalUnit.objects.filter(
            pk__in=old
        ).values_list("pk", "parent_id", "sibling_order")
    }
    now = {pk: parent for pk, (parent, _order) in current.items()}
    moves = _real_moves(moves, old, current)
    moved = {pk for pk, _ in moves}
    placed: set[int] = set()

    def old_place(item: tuple[int, Row]) -> tuple[str, int]:
        return str(item[1]["parent_id"]), item[1]["sibling_order"]

    for pk, before in sorted(moves, key=old_place):
        parent = before["parent_id"]
        slug = names.slug(OrganizationalUnit, pk)
        payload: dict[str, Any] = {
            "unit": slug,
            "reporting_line": before["reporting_line"],
        }
        if parent is None:
            payload["parent"] = None
        else:
            earlier = sorted(
                (
                    row
                    for row in old.values()
                    if row["parent_id"] == parent
                    and row["abolished_on"] is None
                    and row["sibling_order"] < before["sibling_order"]
                    and row["id"] != pk
                ),
                key=lambda row: row["sibling_order"],
            )
            anchor = next(
                (
                    row["id"]
                    for row in reversed(earlier)
                    if row["id"] in placed
                    or (row["id"] not in moved and now.get(row["id"]) == parent)
                ),
                None,
            )
            if anchor is None:
                payload.update(
                    position="first-child",
                    target=names.slug(OrganizationalUnit, parent),
                )
            else:
                payload.update(
                    position="after", target=names.slug(OrganizationalUnit, anchor)
                )
        placed.add(pk)
        plan.add("move_units", OperationKind.MOVE_UNIT, payload)


def _real_moves(
    moves: list[tuple[int, Row]],
    old: dict[int, Row],
    current: dict[int, tuple[int | None, int]],
) -> list[tuple[int, Row]]:
    """Leave out units that only got new sibling numbers under the same parent and
    whose place among the siblings is still the old one (siblings renumbered to make
    room for a move). The siblings already in their old order are the longest run of
    them, in today's order, whose old order rises; the others are moved back."""
    in_place: dict[int | None, set[int]] = {}
    kept = []
    for pk, before in moves:
        parent = before["parent_id"]
        if current.get(pk, (None, 0))[0] != parent:
            kept.append((pk, before))
            continue
        if parent not in in_place:
            stayed = [
                row["id"]
                for row in old.values()
                if row["parent_id"] == parent
                and row["abolished_on"] is None
                and current.get(row["id"], (None, 0))[0] == parent
            ]
            today = sorted(stayed, key=lambda unit: current[unit][1])
            in_place[parent] = _longest_rising(
                today, [old[unit]["sibling_order"] for unit in today]
            )
        if pk not in in_place[parent]:
            kept.append((pk, before))
    return kept


def _longest_rising(items: list[int], keys: list[int]) -> set[int]:
    """The items of a longest run (not necessarily adjacent) whose keys rise."""
    best: list[list[int]] = []
    for index, key in enumerate(keys):
        longest = max(
            (best[earlier] for earlier in range(index) if keys[earlier] < key),
            key=len,
            default=[],
        )
        best.append([*longest, index])
    run = max(best, key=len, default=[])
    return {items[index] for index in run}


def _label(model: type[models.Model], attname: str) -> str:
    for model_field in model._meta.concrete_fields:
        if model_field.attname == attname:
            return str(model_field.verbose_name)
    return attname


def _plan_posts(touched: dict[int, Touched], plan: Plan, names: _Reader) -> None:
    names.load(Post, touched)
    names.load(
        OrganizationalUnit,
        (item.before["unit_id"] for item in touched.values() if item.before),
    )
    plan.unit_slugs = {
        pk: row["slug"] for pk, row in names.cache[OrganizationalUnit].items()
    }
    for pk, post in touched.items():
        slug = names.slug(Post, pk)
        title = names.name(Post, pk)
        if post.before is None:
            if post.now is not None and post.now["abolished_on"] is None:
                plan.add("abolish_posts", OperationKind.ABOLISH_POST, {"post": slug})
            continue
        if (
            post.before["abolished_on"] is None
            and post.after["abolished_on"] is not None
        ):
            if _changed_since(post, "abolished_on"):
                plan.cannot(
                    f"The post “{title}” was reinstated since; it is left as it is."
                )
                continue
            plan.add("reinstate_posts", OperationKind.REINSTATE_POST, {"post": slug})
        elif post.now is not None and post.now["abolished_on"] is not None:
            plan.cannot(f"The post “{title}” was abolished since; it is not restored.")
            continue
        _restore_fields(
            plan,
            OperationKind.CHANGE_POST,
            {"post": slug},
            post,
            _changed(post.before, post.after, POST_RESTORED_FIELDS),
            f"the post “{title}”",
            Post,
        )


def _plan_appointments(touched: dict[int, Touched], plan: Plan, names: _Reader) -> None:
    rows = [item.after for item in touched.values()]
    names.load(Post, (row["post_id"] for row in rows))
    names.load(Person, (row["person_id"] for row in rows))
    holders = dict(
        Appointment.objects.filter(
            post_id__in={row["post_id"] for row in rows}, ended_on__isnull=True
        ).values_list("post_id", "id")
    )
    for pk, appointment in touched.items():
        after = appointment.after
        post, person = after["post_id"], after["person_id"]
        who = f"{names.name(Person, person)} as {names.name(Post, post)}"
        if appointment.before is None:
            if after["ended_on"] is not None:
                continue
            if holders.get(post) != pk:
                plan.cannot(f"The appointment of {who} ended since; nothing to end.")
                continue
            plan.add(
                "end", OperationKind.END_APPOINTMENT, {"post": names.slug(Post, post)}
            )
            continue
        if appointment.before["ended_on"] is None and after["ended_on"] is not None:
            holder = holders.get(post)
            # The holder the original appointed is ended first, by this revert.
            if holder is not None and not (
                holder in touched and touched[holder].before is None
            ):
                plan.cannot(
                    f"The appointment of {who} is not restored: the post is held by "
                    "someone else now."
                )
                continue
            payload = {
                "person": names.slug(Person, person),
                "post": names.slug(Post, post),
            }
            if after["note"]:
                payload["note"] = after["note"]
            plan.add("restore", OperationKind.APPOINT, payload)


def _plan_relationships(
    touched: dict[int, Touched], plan: Plan, names: _Reader
) -> None:
    rows = [item.after for item in touched.values()]
    names.load(
        OrganizationalUnit,
        [row["source_id"] for row in rows] + [row["target_id"] for row in rows],
    )
    active = set(
        UnitRelationship.objects.filter(
            ended_on__isnull=True,
            source_id__in={row["source_id"] for row in rows},
        ).values_list("source_id", "target_id", "kind")
    )
    for line in touched.values():
        after = line.after
        payload = {
            "source": names.slug(OrganizationalUnit, after["source_id"]),
            "target": names.slug(OrganizationalUnit, after["target_id"]),
            "kind": after["kind"],
        }
        key = (after["source_id"], after["target_id"], after["kind"])
        shown = (
            f"The dotted line from “{names.name(OrganizationalUnit, key[0])}” to "
            f"“{names.name(OrganizationalUnit, key[1])}”"
        )
        if line.before is None:
            if after["ended_on"] is not None:
                continue
            if line.now is None or line.now["ended_on"] is not None:
                plan.cannot(f"{shown} ended since; nothing to end.")
                continue
            plan.add("end", OperationKind.END_DOTTED_LINE, payload)
        elif line.before["ended_on"] is None and after["ended_on"] is not None:
            if key in active:
                plan.cannot(f"{shown} was drawn again since; it is not added twice.")
                continue
            if after["description"]:
                payload["description"] = after["description"]
            plan.add("restore", OperationKind.ADD_DOTTED_LINE, payload)


def revert_plan(original: Reorganization) -> Plan:
    """The operations that undo ``original``, in the order they apply, and what of it
    cannot be restored."""
    plan = Plan()
    names = _Reader()
    instant = original.effective_at - datetime.timedelta(microseconds=1)
    _plan_units(_touched(OrganizationalUnit, original), plan, names, instant)
    _plan_posts(_touched(Post, original), plan, names)
    _plan_appointments(_touched(Appointment, original), plan, names)
    _plan_relationships(_touched(UnitRelationship, original), plan, names)
    return plan


@transaction.atomic
def reorganization_revert(
    *,
    reorganization: Reorganization | int,
    user: Actor,
    reason: str,
    effective_at: EffectiveTime = None,
    reason_visibility: str | None = None,
    mode: str = RevertMode.UNDO,
) -> Reorganization:
    """Draft the undo of an applied reorganization ("Reverts <title>").

    A new reorganization, a draft like any other: submitted, approved by a second
    person, applied at its effective time (default now). ``mode`` ``correct``: effective
    at the original's own time instead, so that, applied, it corrects the record (the
    original's changes never held; later changes of other fields still do). Refused,
    with nothing written, for a reorganization that does not exist or is not applied.
    """
    mode = revert_mode(mode)
    if not isinstance(user, User):
        raise ValidationError(
            "Sign in to revert a reorganization.", code=Refusal.INVALID
        )
    original = locked(reorganization)
    require_status(original, Status.APPLIED, step="reverted")
    if mode == RevertMode.CORRECT:
        if effective_at is not None:
            raise ValidationError(
                {
                    "effective_at": ValidationError(
                        "A correction takes effect when the reorganization did; leave "
                        "the effective time empty.",
                        code=Refusal.INVALID,
                    )
                }
            )
        effective_at = original.effective_at
    revert = Reorganization(
        title=f"Reverts {original.title}"[:TITLE_LENGTH],
        reference=original.reference,
        reason=clean_reason(reason),
        reason_visibility=clean_reason_visibility(reason_visibility),
        effective_at=effective_datetime(effective_at),
        author=user,
        reverts=original,
    )
    plan = revert_plan(original)
    revert.not_restored = plan.not_restored
    record(revert, user, f"Drafted to revert “{original}”")
    for position, (kind, payload) in enumerate(plan.operations(), start=1):
        check_payload(kind, payload)
        ReorganizationOperation.objects.create(
            reorganization=revert, kind=kind, payload=payload, position=position
        )
    if not plan.operations():
        revert.problems = [
            {"operation": None, "message": "Nothing of it can be restored."}
        ]
    else:
        revert.problems = reorganization_problems(revert)
    record(revert, user, "Operations to revert it added")
    return revert

"""Every write to the registry.

Each service takes the acting user and a reason, runs in one transaction, and leaves
exactly one history row per object it changed, carrying that user, that reason and the
time the change took effect. The admin, the API and management commands all call these
functions; none of them saves a model directly.

Tree writes are serialized by one registry-wide lock (see ``_lock_registry``): django-mptt
does no locking of its own, and two concurrent moves could otherwise leave stale
``lft``/``rght`` values or give two roots the same ``tree_id``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RegistryState,
    ReportingLine,
    UnitRelationship,
)
from units.selectors import states_as_of

Actor = AbstractBaseUser | AnonymousUser | None
EffectiveTime = datetime.datetime | datetime.date | None
SubUnitPolicy = Literal["refuse", "abolish", "move"]

# An arbitrary constant naming this application's advisory lock on PostgreSQL.
REGISTRY_LOCK_KEY = 7_420_318_114
# Clocks of several application servers differ a little; a change "effective now" that
# reaches the database a moment later must not be refused as lying in the future.
CLOCK_TOLERANCE = datetime.timedelta(minutes=5)

UNIT_UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "short_name",
        "kind",
        "mandate",
        "location",
        "learn_more_url",
        "reporting_line",
        "sibling_order",
    }
)
POST_UPDATABLE_FIELDS = frozenset(
    {"title", "unit", "is_head", "filling_method", "term_years", "term_note"}
)
PERSON_UPDATABLE_FIELDS = frozenset({"full_name"})


# --- Revision plumbing: the one place that decides author, reason and time --------------


def _lock_registry() -> None:
    """Serialize registry writers until the surrounding transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the settings open every
    transaction as IMMEDIATE, which already holds the database's single write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REGISTRY_LOCK_KEY])


def effective_datetime(value: EffectiveTime) -> datetime.datetime:
    """Turn an effective date or time into an aware datetime (a date means its start)."""
    if value is None:
        return timezone.now()
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            return timezone.make_aware(value, datetime.UTC)
        return value
    return datetime.datetime.combine(value, datetime.time.min, tzinfo=datetime.UTC)


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "A reason is required: say why this change is made.", code="reason_required"
        )
    return reason


def _history_user(user: Actor) -> AbstractBaseUser | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user  # type: ignore[return-value]


def _latest_revision_time(instance: models.Model) -> datetime.datetime | None:
    return (
        instance.history.order_by("-history_date", "-history_id")  # type: ignore[attr-defined]
        .values_list("history_date", flat=True)
        .first()
    )


def _check_effective_time(
    instance: models.Model | None, effective_at: datetime.datetime
) -> None:
    """Refuse future changes and backdated ones that would precede a recorded change."""
    if effective_at > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError(
            f"The effective time {effective_at:%Y-%m-%d %H:%M} UTC is in the future; "
            "record a change once it has taken effect.",
            code="future_effective_time",
        )
    if instance is None or instance.pk is None:
        return
    latest = _latest_revision_time(instance)
    if latest is not None and effective_at < latest:
        raise ValidationError(
            f"“{instance}” already has a change effective {latest:%Y-%m-%d %H:%M} UTC; "
            f"a change effective {effective_at:%Y-%m-%d %H:%M} UTC would land before it. "
            "Record changes of one object in the order they took effect.",
            code="out_of_order",
        )


def _check_version(instance: models.Model, expected_version: int | None) -> None:
    """Refuse a write based on an older version of the object (a lost update)."""
    if expected_version is None or expected_version == instance.version:  # type: ignore[attr-defined]
        return
    latest = (
        instance.history.order_by("-history_date", "-history_id")  # type: ignore[attr-defined]
        .select_related("history_user")
        .first()
    )
    who = ""
    if latest is not None:
        author = (
            latest.history_user.get_username() if latest.history_user else "someone"
        )
        who = (
            f" It was last changed by {author} on {latest.recorded_at:%Y-%m-%d %H:%M} UTC"
            f" (“{latest.history_change_reason}”)."
        )
    raise ValidationError(
        f"“{instance}” has changed since you loaded it: you edited version "
        f"{expected_version}, the registry now holds version "
        f"{instance.version}.{who} Reload it and apply your change again.",  # type: ignore[attr-defined]
        code="stale_version",
    )


def _save_revision(
    instance: models.Model,
    *,
    user: Actor,
    reason: str,
    effective_at: datetime.datetime,
    is_new: bool = False,
) -> None:
    """Validate and save ``instance`` as one history row with user, reason and time."""
    if not is_new:
        instance.version += 1  # type: ignore[attr-defined]
    instance.full_clean(validate_unique=True, validate_constraints=True)
    instance._history_user = _history_user(user)  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance._history_date = effective_at  # type: ignore[attr-defined]
    try:
        instance.save()
        _bump_generation()
    finally:
        for attribute in ("_history_user", "_change_reason", "_history_date"):
            instance.__dict__.pop(attribute, None)


def _bump_generation() -> None:
    updated = RegistryState.objects.filter(pk=1).update(
        generation=models.F("generation") + 1, changed_at=timezone.now()
    )
    if not updated:
        RegistryState.objects.create(pk=1, generation=1)


def _begin_write(
    reason: str | None, effective_at: EffectiveTime
) -> tuple[str, datetime.datetime]:
    reason = _clean_reason(reason)
    # "Now" is read once the lock is held: a writer that waited behind another must not
    # date its change before the one it waited for (it would be refused as out of order).
    _lock_registry()
    return reason, effective_datetime(effective_at)


def _fresh(model: type[models.Model], instance_or_pk: Any) -> Any:
    """Re-read a row inside the locked transaction: callers may hold stale copies."""
    pk = getattr(instance_or_pk, "pk", instance_or_pk)
    try:
        return model.objects.select_for_update().get(pk=pk)  # type: ignore[attr-defined]
    except model.DoesNotExist:  # type: ignore[attr-defined]
        raise ValidationError(
            f"{model._meta.verbose_name.capitalize()} {pk} does not exist.",
            code="not_found",
        ) from None


def _unique_slug(model: type[models.Model], text: str) -> str:
    base = slugify(text)[:90] or "item"
    slug, counter = base, 2
    while model.objects.filter(slug=slug).exists():  # type: ignore[attr-defined]
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def _apply_changes(
    instance: models.Model, changes: dict[str, Any], allowed: Iterable[str]
) -> list[str]:
    """Set the allowed fields that really change; return their names."""
    allowed = set(allowed)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(
            f"These fields cannot be changed here: {', '.join(unknown)}.",
            code="not_updatable",
        )
    changed = []
    for field_name, value in changes.items():
        if getattr(instance, field_name) != value:
            setattr(instance, field_name, value)
            changed.append(field_name)
    return changed


# --- Units --------------------------------------------------------------------------------


def _check_parent_usable(
    parent: OrganizationalUnit, effective_at: datetime.datetime
) -> None:
    if not parent.is_active:
        raise ValidationError(
            f"“{parent}” was abolished on {parent.abolished_on:%Y-%m-%d}; "
            "a unit cannot report to an abolished unit.",
            code="parent_abolished",
        )
    _check_recorded_by(parent, effective_at, code="parent_not_yet_established")


def _check_recorded_by(
    instance: models.Model, effective_at: datetime.datetime, *, code: str
) -> None:
    """Refuse to link to an object at a time before the registry knew it."""
    first = (
        instance.history.order_by("history_date", "history_id")  # type: ignore[attr-defined]
        .values_list("history_date", flat=True)
        .first()
    )
    if first is not None and effective_at < first:
        raise ValidationError(
            f"“{instance}” did not exist yet on {effective_at:%Y-%m-%d %H:%M} UTC "
            f"(it is recorded from {first:%Y-%m-%d %H:%M} UTC).",
            code=code,
        )


def _locked_new_parent(
    unit: OrganizationalUnit,
    new_parent: OrganizationalUnit | int,
    effective_at: datetime.datetime,
) -> OrganizationalUnit:
    """Re-read and check the parent a unit moves under; refuse cycles."""
    # The locked, re-read parent carries current tree fields; a stale copy would make
    # mptt compute the move from wrong lft/rght values and corrupt the tree.
    new_parent = _fresh(OrganizationalUnit, new_parent)
    if new_parent.pk == unit.pk:
        raise ValidationError(f"“{unit}” cannot report to itself.", code="cycle")
    if new_parent.tree_id == unit.tree_id and unit.lft < new_parent.lft < unit.rght:
        raise ValidationError(
            f"“{unit}” cannot report to “{new_parent}”: that unit is inside its own "
            "subtree, which would make a cycle.",
            code="cycle",
        )
    _check_parent_usable(new_parent, effective_at)
    return new_parent


def _next_sibling_order(parent: OrganizationalUnit | None) -> int:
    siblings = OrganizationalUnit.objects.filter(parent=parent)
    highest = siblings.aggregate(models.Max("sibling_order"))["sibling_order__max"]
    return 10 if highest is None else highest + 10


@transaction.atomic
def unit_create(
    *,
    user: Actor,
    reason: str,
    name: str,
    kind: str,
    parent: OrganizationalUnit | None = None,
    slug: str = "",
    short_name: str = "",
    mandate: str = "",
    location: str = "",
    learn_more_url: str = "",
    reporting_line: str = ReportingLine.DIRECT_SUPERVISION,
    sibling_order: int | None = None,
    effective_at: EffectiveTime = None,
) -> OrganizationalUnit:
    """Establish a unit, effective ``effective_at`` (default: now)."""
    reason, moment = _begin_write(reason, effective_at)
    _check_effective_time(None, moment)
    if parent is not None:
        parent = _fresh(OrganizationalUnit, parent)
        _check_parent_usable(parent, moment)
    if slug and OrganizationalUnit.objects.filter(slug=slug).exists():
        raise ValidationError(
            f"The slug “{slug}” is already used by another unit.", code="slug_taken"
        )
    unit = OrganizationalUnit(
        name=name.strip(),
        short_name=short_name.strip(),
        slug=slug or _unique_slug(OrganizationalUnit, short_name or name),
        kind=kind,
        parent=parent,
        mandate=mandate.strip(),
        location=location.strip(),
        learn_more_url=learn_more_url.strip(),
        reporting_line=reporting_line,
        sibling_order=(
            _next_sibling_order(parent) if sibling_order is None else sibling_order
        ),
        established_on=moment.date(),
    )
    _save_revision(unit, user=user, reason=reason, effective_at=moment, is_new=True)
    return unit


class _Keep:
    """Marks "leave the parent as it is" (None already means "make it top level")."""

    def __repr__(self) -> str:
        return "KEEP_PARENT"


KEEP_PARENT: Any = _Keep()


@transaction.atomic
def unit_update(
    *,
    unit: OrganizationalUnit,
    user: Actor,
    reason: str,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    new_parent: OrganizationalUnit | int | None = KEEP_PARENT,
    **changes: Any,
) -> OrganizationalUnit:
    """Change a unit in one revision: rename it, edit its mandate, move it, ...

    ``new_parent`` (a unit, its id, or None for top level) moves the unit with its
    subtree; a move into its own subtree is refused, in the present and, for a
    backdated move, at every instant since. The slug never changes. A call that
    changes nothing writes nothing.
    """
    reason, moment = _begin_write(reason, effective_at)
    unit = _fresh(OrganizationalUnit, unit)
    _check_version(unit, expected_version)
    for text_field in ("name", "short_name", "mandate", "location", "learn_more_url"):
        if isinstance(changes.get(text_field), str):
            changes[text_field] = changes[text_field].strip()
    new_parent_id = (
        unit.parent_id
        if new_parent is KEEP_PARENT
        else getattr(new_parent, "pk", new_parent)
    )
    moves = new_parent_id != unit.parent_id
    changed = _apply_changes(unit, changes, UNIT_UPDATABLE_FIELDS)
    if not changed and not moves:
        return unit
    if not unit.is_active:
        raise ValidationError(
            f"“{unit}” is abolished; it can no longer be changed.", code="abolished"
        )
    _check_effective_time(unit, moment)
    if moves:
        parent = (
            None
            if new_parent_id is None
            else _locked_new_parent(unit, new_parent_id, moment)
        )
        if parent is not None:
            _check_no_cycle_since(unit, parent, moment)
        if "sibling_order" not in changes:
            unit.sibling_order = _next_sibling_order(parent)
        unit.parent = parent
    _save_revision(unit, user=user, reason=reason, effective_at=moment)
    if moves:
        unit.refresh_from_db()
    return unit


def unit_move(
    *,
    unit: OrganizationalUnit,
    new_parent: OrganizationalUnit | None,
    user: Actor,
    reason: str,
    reporting_line: str | None = None,
    sibling_order: int | None = None,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> OrganizationalUnit:
    """Make ``unit`` (with its whole subtree) report to ``new_parent``."""
    changes: dict[str, Any] = {}
    if reporting_line is not None:
        changes["reporting_line"] = reporting_line
    if sibling_order is not None:
        changes["sibling_order"] = sibling_order
    return unit_update(
        unit=unit,
        new_parent=new_parent,
        user=user,
        reason=reason,
        effective_at=effective_at,
        expected_version=expected_version,
        **changes,
    )


def _check_no_cycle_since(
    unit: OrganizationalUnit,
    new_parent: OrganizationalUnit,
    effective_at: datetime.datetime,
) -> None:
    """Refuse a backdated move that would have made a cycle at some past instant.

    Today's tree (lft/rght) only says the move is fine *now*. Replaying the parent
    links from ``effective_at`` through every later recorded change, with the unit
    under its new parent throughout, finds a loop that existed only in between.
    """
    history = OrganizationalUnit.history
    later = list(
        history.filter(history_date__gt=effective_at)
        .order_by("history_date", "history_id")
        .values_list("id", "parent_id", "history_date")
    )
    if not later:
        return
    parents = {
        row["id"]: row["parent_id"]
        for row in states_as_of(OrganizationalUnit, effective_at, ("id", "parent_id"))
    }

    def loop_at(instant: datetime.datetime) -> None:
        seen, current = {unit.pk}, new_parent.pk
        while current is not None:
            if current in seen:
                raise ValidationError(
                    f"“{unit}” cannot report to “{new_parent}” from "
                    f"{effective_at:%Y-%m-%d}: on {instant:%Y-%m-%d} that unit was "
                    "inside its subtree, which would make a cycle in the past.",
                    code="cycle",
                )
            seen.add(current)
            current = parents.get(current)

    parents[unit.pk] = new_parent.pk
    loop_at(effective_at)
    for unit_id, parent_id, instant in later:
        if unit_id == unit.pk:
            continue
        parents[unit_id] = parent_id
        loop_at(instant)


@transaction.atomic
def unit_abolish(
    *,
    unit: OrganizationalUnit,
    user: Actor,
    reason: str,
    effective_at: EffectiveTime = None,
    sub_units: SubUnitPolicy = "refuse",
    move_sub_units_to: OrganizationalUnit | None = None,
    expected_version: int | None = None,
) -> OrganizationalUnit:
    """Abolish a unit: it stays in the registry and in history, marked abolished.

    Active sub-units must be dealt with explicitly: ``sub_units="abolish"`` abolishes the
    whole subtree, ``sub_units="move"`` moves the direct sub-units to
    ``move_sub_units_to`` first. Its posts are abolished, their holders' appointments and
    its dotted-line relationships end on the same date.
    """
    reason, moment = _begin_write(reason, effective_at)
    unit = _fresh(OrganizationalUnit, unit)
    _check_version(unit, expected_version)
    if not unit.is_active:
        raise ValidationError(
            f"“{unit}” was already abolished on {unit.abolished_on:%Y-%m-%d}.",
            code="abolished",
        )
    _check_effective_time(unit, moment)
    active_children = list(unit.get_children().active())
    if active_children:
        if sub_units == "refuse":
            names = ", ".join(str(child) for child in active_children)
            raise ValidationError(
                f"“{unit}” still has active sub-units ({names}). Say what happens to "
                "them: abolish them too, or move them to another unit first.",
                code="has_active_sub_units",
            )
        if sub_units == "move":
            if move_sub_units_to is None:
                raise ValidationError(
                    "Name the unit that takes over the sub-units.",
                    code="move_target_required",
                )
            target = _fresh(OrganizationalUnit, move_sub_units_to)
            if target.tree_id == unit.tree_id and unit.lft <= target.lft < unit.rght:
                raise ValidationError(
                    f"The sub-units of “{unit}” cannot be taken over by “{target}”, "
                    "which is the abolished unit itself or one of its sub-units.",
                    code="cycle",
                )
            for child in active_children:
                unit_move(
                    unit=child,
                    new_parent=move_sub_units_to,
                    user=user,
                    reason=reason,
                    effective_at=moment,
                )
        elif sub_units == "abolish":
            for child in active_children:
                unit_abolish(
                    unit=child,
                    user=user,
                    reason=reason,
                    effective_at=moment,
                    sub_units="abolish",
                )
        else:
            raise ValidationError(f"Unknown sub-unit policy “{sub_units}”.")
        unit = _fresh(OrganizationalUnit, unit)
    for post in unit.posts.filter(abolished_on__isnull=True):
        post_abolish(post=post, user=user, reason=reason, effective_at=moment)
    for relationship in UnitRelationship.objects.filter(
        models.Q(source=unit) | models.Q(target=unit), ended_on__isnull=True
    ):
        relationship_end(
            relationship=relationship, user=user, reason=reason, effective_at=moment
        )
    unit.abolished_on = moment.date()
    _save_revision(unit, user=user, reason=reason, effective_at=moment)
    return unit


@transaction.atomic
def unit_revert(
    *,
    unit: OrganizationalUnit,
    history_id: int,
    user: Actor,
    reason: str,
    expected_version: int | None = None,
) -> OrganizationalUnit:
    """Bring a unit back to the state of one of its versions, as one new change.

    The parent is restored through the same checks as ``unit_move`` and saved on a
    freshly read instance (never ``history.instance.save()``, which would hide the
    parent change from mptt and corrupt the tree). Reverting to a version from before
    the unit was abolished reinstates it.
    """
    reason, moment = _begin_write(reason, None)
    unit = _fresh(OrganizationalUnit, unit)
    _check_version(unit, expected_version)
    target = unit.history.filter(history_id=history_id).first()
    if target is None:
        raise ValidationError(
            f"Version {history_id} is not a version of “{unit}”.", code="not_found"
        )
    if target.abolished_on is not None and unit.abolished_on is None:
        return unit_abolish(unit=unit, user=user, reason=reason, effective_at=moment)
    _check_effective_time(unit, moment)
    if target.parent_id != unit.parent_id:
        if target.parent_id is None:
            unit.parent = None
        else:
            unit.parent = _locked_new_parent(unit, target.parent_id, moment)
    elif target.abolished_on is None and unit.parent is not None:
        _check_parent_usable(unit.parent, moment)
    for field in UNIT_UPDATABLE_FIELDS:
        setattr(unit, field, getattr(target, field))
    unit.abolished_on = target.abolished_on
    if not _differs_from_latest_revision(unit):
        raise ValidationError(
            f"“{unit}” already matches that version; there is nothing to revert.",
            code="no_change",
        )
    _save_revision(unit, user=user, reason=reason, effective_at=moment)
    unit.refresh_from_db()
    return unit


def _differs_from_latest_revision(unit: OrganizationalUnit) -> bool:
    latest = unit.history.order_by("-history_date", "-history_id").first()
    fields = [*UNIT_UPDATABLE_FIELDS, "parent_id", "abolished_on"]
    return latest is None or any(
        getattr(latest, field) != getattr(unit, field) for field in fields
    )


@transaction.atomic
def post_revert(
    *,
    post: Post,
    history_id: int,
    user: Actor,
    reason: str,
    expected_version: int | None = None,
) -> Post:
    """Bring a post back to the state of one of its versions, as one new change.

    Reverting an active post to a version in which it was abolished abolishes it
    through ``post_abolish`` (its holder's appointment ends). Reverting an abolished
    post to an earlier version revives it, but only into an active unit and never as
    a second head. Appointments are separate records and are not brought back.
    """
    reason, moment = _begin_write(reason, None)
    post = _fresh(Post, post)
    _check_version(post, expected_version)
    target = post.history.filter(history_id=history_id).first()
    if target is None:
        raise ValidationError(
            f"Version {history_id} is not a version of the post “{post}”.",
            code="not_found",
        )
    if target.abolished_on is not None:
        if post.is_active:
            return post_abolish(
                post=post, user=user, reason=reason, effective_at=moment
            )
        raise ValidationError(
            f"The post “{post}” is abolished and that version is abolished too; "
            "revert to a version from before it was abolished to revive it.",
            code="abolished",
        )
    _check_effective_time(post, moment)
    attnames = [Post._meta.get_field(name).attname for name in POST_UPDATABLE_FIELDS]
    before = {name: getattr(post, name) for name in [*attnames, "abolished_on"]}
    for name in attnames:
        setattr(post, name, getattr(target, name))
    post.abolished_on = None
    if all(getattr(post, name) == value for name, value in before.items()):
        raise ValidationError(
            f"The post “{post}” already matches that version; there is nothing to "
            "revert.",
            code="no_change",
        )
    unit = _fresh(OrganizationalUnit, post.unit_id)
    if not unit.is_active:
        raise ValidationError(
            f"“{unit}” was abolished on {unit.abolished_on:%Y-%m-%d}; the post "
            f"“{post}” cannot be brought back into an abolished unit.",
            code="unit_abolished",
        )
    _check_single_head(unit, post.is_head, exclude_pk=post.pk)
    _save_revision(post, user=user, reason=reason, effective_at=moment)
    return post


@transaction.atomic
def person_revert(
    *,
    person: Person,
    history_id: int,
    user: Actor,
    reason: str,
    expected_version: int | None = None,
) -> Person:
    """Bring a person's record back to one of its versions, as one new change."""
    reason, moment = _begin_write(reason, None)
    person = _fresh(Person, person)
    _check_version(person, expected_version)
    target = person.history.filter(history_id=history_id).first()
    if target is None:
        raise ValidationError(
            f"Version {history_id} is not a version of “{person}”.", code="not_found"
        )
    _check_effective_time(person, moment)
    before = {name: getattr(person, name) for name in PERSON_UPDATABLE_FIELDS}
    for name in PERSON_UPDATABLE_FIELDS:
        setattr(person, name, getattr(target, name))
    if all(getattr(person, name) == value for name, value in before.items()):
        raise ValidationError(
            f"“{person}” already matches that version; there is nothing to revert.",
            code="no_change",
        )
    _save_revision(person, user=user, reason=reason, effective_at=moment)
    return person


# --- Posts, people and appointments ---------------------------------------------------


@transaction.atomic
def post_create(
    *,
    user: Actor,
    reason: str,
    title: str,
    unit: OrganizationalUnit,
    is_head: bool = False,
    filling_method: str = "appointed_by_director_general",
    term_years: int | None = None,
    term_note: str = "",
    slug: str = "",
    effective_at: EffectiveTime = None,
) -> Post:
    reason, moment = _begin_write(reason, effective_at)
    _check_effective_time(None, moment)
    unit = _fresh(OrganizationalUnit, unit)
    _check_parent_usable(unit, moment)
    _check_single_head(unit, is_head)
    if slug and Post.objects.filter(slug=slug).exists():
        raise ValidationError(
            f"The slug “{slug}” is already used by another post.", code="slug_taken"
        )
    post = Post(
        title=title.strip(),
        slug=slug or _unique_slug(Post, title),
        unit=unit,
        is_head=is_head,
        filling_method=filling_method,
        term_years=term_years,
        term_note=term_note.strip(),
        established_on=moment.date(),
    )
    _save_revision(post, user=user, reason=reason, effective_at=moment, is_new=True)
    return post


def _check_single_head(
    unit: OrganizationalUnit, is_head: bool, exclude_pk: int | None = None
) -> None:
    if not is_head:
        return
    heads = Post.objects.filter(unit=unit, is_head=True, abolished_on__isnull=True)
    head = heads.exclude(pk=exclude_pk).first()
    if head is not None:
        raise ValidationError(
            f"“{unit}” is already headed by the post “{head}”; a unit has one head.",
            code="head_exists",
        )


@transaction.atomic
def post_update(
    *,
    post: Post,
    user: Actor,
    reason: str,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    **changes: Any,
) -> Post:
    reason, moment = _begin_write(reason, effective_at)
    post = _fresh(Post, post)
    _check_version(post, expected_version)
    changed = _apply_changes(post, changes, POST_UPDATABLE_FIELDS)
    if not changed:
        return post
    if not post.is_active:
        raise ValidationError(f"The post “{post}” is abolished.", code="abolished")
    _check_effective_time(post, moment)
    if "unit" in changed:
        _check_parent_usable(post.unit, moment)
    _check_single_head(post.unit, post.is_head, exclude_pk=post.pk)
    _save_revision(post, user=user, reason=reason, effective_at=moment)
    return post


@transaction.atomic
def post_abolish(
    *,
    post: Post,
    user: Actor,
    reason: str,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> Post:
    """Abolish a post; whoever holds it stops holding it on the same date."""
    reason, moment = _begin_write(reason, effective_at)
    post = _fresh(Post, post)
    _check_version(post, expected_version)
    if not post.is_active:
        raise ValidationError(
            f"The post “{post}” is already abolished.", code="abolished"
        )
    _check_effective_time(post, moment)
    for appointment in post.appointments.filter(ended_on__isnull=True):
        appointment_end(
            appointment=appointment,
            user=user,
            reason=reason,
            ended_on=moment.date(),
            effective_at=moment,
        )
    post.abolished_on = moment.date()
    _save_revision(post, user=user, reason=reason, effective_at=moment)
    return post


@transaction.atomic
def person_create(
    *,
    user: Actor,
    reason: str,
    full_name: str,
    slug: str = "",
    effective_at: EffectiveTime = None,
) -> Person:
    reason, moment = _begin_write(reason, effective_at)
    _check_effective_time(None, moment)
    if slug and Person.objects.filter(slug=slug).exists():
        raise ValidationError(
            f"The slug “{slug}” is already used by another person.", code="slug_taken"
        )
    person = Person(
        full_name=full_name.strip(), slug=slug or _unique_slug(Person, full_name)
    )
    _save_revision(person, user=user, reason=reason, effective_at=moment, is_new=True)
    return person


@transaction.atomic
def person_update(
    *,
    person: Person,
    user: Actor,
    reason: str,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
    **changes: Any,
) -> Person:
    reason, moment = _begin_write(reason, effective_at)
    person = _fresh(Person, person)
    _check_version(person, expected_version)
    if isinstance(changes.get("full_name"), str):
        changes["full_name"] = changes["full_name"].strip()
    if not _apply_changes(person, changes, PERSON_UPDATABLE_FIELDS):
        return person
    _check_effective_time(person, moment)
    _save_revision(person, user=user, reason=reason, effective_at=moment)
    return person


def _moment_on_day(day: datetime.date, *records: models.Model) -> datetime.datetime:
    """When a change dated by day only takes effect: the start of ``day``.

    If something the change depends on was recorded later that same day (a post created
    this afternoon, filled "from today"), the change takes effect just then instead, so
    it never precedes what it refers to.
    """
    moment = effective_datetime(day)
    for record in records:
        latest = _latest_revision_time(record)
        if latest is not None and moment < latest and latest.date() == day:
            moment = latest
    return moment


@transaction.atomic
def appointment_start(
    *,
    person: Person,
    post: Post,
    started_on: datetime.date,
    user: Actor,
    reason: str,
    note: str = "",
    effective_at: EffectiveTime = None,
) -> Appointment:
    """Appoint ``person`` to ``post`` from ``started_on``; a post has one holder at a time.

    The change takes effect at the start of ``started_on`` unless told otherwise.
    """
    reason, moment = _begin_write(reason, effective_at)
    post = _fresh(Post, post)
    person = _fresh(Person, person)
    if effective_at is None:
        moment = _moment_on_day(started_on, post)
    _check_effective_time(None, moment)
    # A post is part of the structure: it cannot be held before it existed. A person
    # is not, and may be recorded long after the posts they held.
    _check_recorded_by(post, moment, code="not_yet_established")
    if not post.is_active:
        raise ValidationError(
            f"The post “{post}” is abolished; nobody can be appointed to it.",
            code="abolished",
        )
    holder = (
        post.appointments.filter(
            models.Q(ended_on__isnull=True) | models.Q(ended_on__gt=started_on)
        )
        .select_related("person")
        .first()
    )
    if holder is not None:
        raise ValidationError(
            f"“{post}” is held by {holder.person} from {holder.started_on:%Y-%m-%d}"
            + (f" to {holder.ended_on:%Y-%m-%d}" if holder.ended_on else "")
            + "; end that appointment first.",
            code="post_occupied",
        )
    appointment = Appointment(
        person=person, post=post, started_on=started_on, note=note.strip()
    )
    _save_revision(
        appointment, user=user, reason=reason, effective_at=moment, is_new=True
    )
    return appointment


@transaction.atomic
def appointment_end(
    *,
    appointment: Appointment,
    ended_on: datetime.date,
    user: Actor,
    reason: str,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> Appointment:
    reason, moment = _begin_write(reason, effective_at)
    appointment = _fresh(Appointment, appointment)
    if effective_at is None:
        moment = _moment_on_day(ended_on, appointment)
    _check_version(appointment, expected_version)
    if appointment.ended_on is not None:
        raise ValidationError(
            f"This appointment already ended on {appointment.ended_on:%Y-%m-%d}.",
            code="already_ended",
        )
    if ended_on < appointment.started_on:
        raise ValidationError(
            f"An appointment cannot end ({ended_on:%Y-%m-%d}) before it started "
            f"({appointment.started_on:%Y-%m-%d}).",
            code="ends_before_start",
        )
    _check_effective_time(appointment, moment)
    appointment.ended_on = ended_on
    _save_revision(appointment, user=user, reason=reason, effective_at=moment)
    return appointment


# --- Dotted-line relationships ----------------------------------------------------------


@transaction.atomic
def relationship_create(
    *,
    source: OrganizationalUnit,
    target: OrganizationalUnit,
    kind: str,
    user: Actor,
    reason: str,
    description: str = "",
    effective_at: EffectiveTime = None,
) -> UnitRelationship:
    reason, moment = _begin_write(reason, effective_at)
    _check_effective_time(None, moment)
    source = _fresh(OrganizationalUnit, source)
    target = _fresh(OrganizationalUnit, target)
    if source.pk == target.pk:
        raise ValidationError(
            "A relationship links two different units.", code="self_relationship"
        )
    for unit in (source, target):
        _check_parent_usable(unit, moment)
    if UnitRelationship.objects.filter(
        source=source, target=target, kind=kind, ended_on__isnull=True
    ).exists():
        raise ValidationError(
            f"“{source}” already has this relationship with “{target}”.",
            code="duplicate_relationship",
        )
    relationship = UnitRelationship(
        source=source,
        target=target,
        kind=kind,
        description=description.strip(),
        started_on=moment.date(),
    )
    _save_revision(
        relationship, user=user, reason=reason, effective_at=moment, is_new=True
    )
    return relationship


@transaction.atomic
def relationship_end(
    *,
    relationship: UnitRelationship,
    user: Actor,
    reason: str,
    effective_at: EffectiveTime = None,
    expected_version: int | None = None,
) -> UnitRelationship:
    """Unlink two units; the relationship stays in history with its end date."""
    reason, moment = _begin_write(reason, effective_at)
    relationship = _fresh(UnitRelationship, relationship)
    _check_version(relationship, expected_version)
    if relationship.ended_on is not None:
        raise ValidationError(
            f"This relationship already ended on {relationship.ended_on:%Y-%m-%d}.",
            code="already_ended",
        )
    _check_effective_time(relationship, moment)
    relationship.ended_on = moment.date()
    _save_revision(relationship, user=user, reason=reason, effective_at=moment)
    return relationship

"""The plumbing every write shares: the registry lock, author, reason and time checks.

The one place that decides who is recorded as the author of a revision, what its reason
is, who may read that reason, and when it took effect. Every service begins with
``begin_write`` (reason and its visibility checked, registry locked, effective time
fixed), which returns a ``Write``, and saves each changed object with
``save_revision(instance, write)`` (validated, one history row, generation bumped;
a write effective before a change already recorded is a correction, recorded by
``units.services.corrections``).

Tree writes are serialized by one registry-wide lock (see ``lock_registry``): django-mptt
does no locking of its own, and two concurrent moves could otherwise leave stale
``lft``/``rght`` values or give two roots the same ``tree_id``.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection, models
from django.utils import timezone
from django.utils.text import slugify

from units.characters import field_text_problem, is_blank, text_problem
from units.dates import day_text, exact_moment_text, moment_text
from units.models import (
    NEWEST_REVISION_FIRST,
    REVISION_ORDER,
    OrganizationalUnit,
    ReasonVisibility,
    RecordedModel,
    RecordedRevision,
    RegistryState,
    Reorganization,
)
from units.services.corrections import (
    REQUESTED,
    later_revision_exists,
    save_correction,
)
from units.services.refusals import Refusal
from units.services.stretches import abolished_within

Actor = AbstractBaseUser | AnonymousUser | None
EffectiveTime = datetime.datetime | datetime.date | None

# An arbitrary constant naming this application's advisory lock on PostgreSQL.
REGISTRY_LOCK_KEY = 7_420_318_114
# Clocks of several application servers differ a little; a change "effective now" that
# reaches the database a moment later must not be refused as lying in the future.
CLOCK_TOLERANCE = datetime.timedelta(minutes=5)


# While a reorganization is applied (or tried out), the services write on its behalf:
# each history row names it, and a future effective time is its own, not a mistake.
_applying: ContextVar[Reorganization | None] = ContextVar("applying", default=None)


@contextlib.contextmanager
def writing_for(reorganization: Reorganization) -> Iterator[None]:
    """Let the services within write as part of ``reorganization``."""
    token = _applying.set(reorganization)
    try:
        yield
    finally:
        _applying.reset(token)


def lock_registry() -> None:
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


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    # A reason of zero-width spaces is as empty as no reason, only harder to see.
    if is_blank(reason):
        raise ValidationError(
            "A reason is required: say why this change is made.",
            code=Refusal.REASON_REQUIRED,
        )
    problem = text_problem("reason", reason, multi_line=True)
    if problem:
        raise ValidationError(
            {"reason": ValidationError(problem, code=Refusal.INVALID_TEXT)}
        )
    return reason


def clean_reason_visibility(value: str | None) -> str:
    """Who may read the reason: as the write says, else ``REASON_VISIBILITY_DEFAULT``."""
    if value is None or value == "":
        return str(settings.REASON_VISIBILITY_DEFAULT)
    if value not in ReasonVisibility.values:
        raise ValidationError(
            {
                "reason_visibility": ValidationError(
                    f"“{value}” is not a reason visibility: say public (everyone may "
                    "read the reason) or internal (editors and auditors only).",
                    code=Refusal.INVALID,
                )
            }
        )
    return str(value)


def check_texts(instance: models.Model, *, is_new: bool) -> None:
    """Refuse a text this write would store with a control character (every field).

    Multi-line fields (``TextField``) may hold line breaks; the others are one line.
    A row stored before this rule may hold such a value: only values this write
    introduces are refused, so an old row can still be corrected, abolished or ended. Costs a query only when a value is refused.
    """
    suspect: dict[models.Field[Any, Any], str] = {}
    for field in instance._meta.concrete_fields:
        problem = field_text_problem(field, getattr(instance, field.attname))
        if problem:
            suspect[field] = problem
    if suspect and not is_new:
        stored = (
            type(instance)
            ._default_manager.filter(pk=instance.pk)
            .values(*(field.attname for field in suspect))
            .first()
            or {}
        )
        suspect = {
            field: problem
            for field, problem in suspect.items()
            if stored.get(field.attname) != getattr(instance, field.attname)
        }
    if suspect:
        raise ValidationError(
            {
                field.name: ValidationError(problem, code=Refusal.INVALID_TEXT)
                for field, problem in suspect.items()
            }
        )


def _history_user(user: Actor) -> AbstractBaseUser | None:
    if isinstance(user, AbstractBaseUser) and user.is_authenticated:
        return user
    return None


def latest_revision_time(instance: RecordedModel) -> datetime.datetime | None:
    return (
        instance.history.order_by(*NEWEST_REVISION_FIRST)
        .values_list("history_date", flat=True)
        .first()
    )


def first_revision_time(instance: RecordedModel) -> datetime.datetime:
    """When the registry's record of ``instance`` begins: its first revision."""
    first = (
        instance.history.order_by(*REVISION_ORDER)
        .values_list("history_date", flat=True)
        .first()
    )
    if first is None:
        raise ValidationError(
            f"“{instance}” has no recorded history to correct.",
            code=Refusal.NOT_FOUND,
        )
    return first


def check_effective_time(
    instance: RecordedModel | None, effective_at: datetime.datetime
) -> None:
    """Refuse future changes; note whether a backdated one is a correction.

    A change effective before one already recorded for the object is a correction
    (``units.services.corrections``): ``save_revision`` records it as such. Whether it
    is one is read here, once (``is_correction``). A reorganization's operations may
    lie in the future: they are tried out against the registry as it will stand, and
    applied once their time has come.
    """
    if _applying.get() is None and effective_at > timezone.now() + CLOCK_TOLERANCE:
        raise ValidationError(
            f"The effective time {moment_text(effective_at)} is in the future; "
            "record a change once it has taken effect.",
            code=Refusal.FUTURE_EFFECTIVE_TIME,
        )
    if instance is not None and instance.pk is not None:
        is_correction(instance, effective_at)


# Where ``is_correction`` keeps its answer on the instance: (effective time, answer).
_CORRECTING = "_correcting_at"


def is_correction(instance: RecordedModel, effective_at: datetime.datetime) -> bool:
    """Whether saving ``instance`` effective ``effective_at`` corrects the past: the
    object has a revision effective later. One query, asked once per write."""
    if instance.pk is None:
        return False
    known = instance.__dict__.get(_CORRECTING)
    if known is not None and known[0] == effective_at:
        return bool(known[1])
    answer = later_revision_exists(instance, effective_at)
    instance.__dict__[_CORRECTING] = (effective_at, answer)
    return answer


def check_version(instance: RecordedModel, expected_version: int | None) -> None:
    """Refuse a write based on an older version of the object (a lost update)."""
    if expected_version is None or expected_version == instance.version:
        return
    latest = (
        instance.history.order_by(*NEWEST_REVISION_FIRST)
        .select_related("history_user")
        .first()
    )
    who = ""
    if latest is not None:
        author = (
            latest.history_user.get_username() if latest.history_user else "someone"
        )
        who = (
            f" It was last changed by {author} on {exact_moment_text(latest.recorded_at)}"
            f" (“{latest.history_change_reason}”)."
        )
    raise ValidationError(
        f"“{instance}” has changed since you loaded it: you edited version "
        f"{expected_version}, the registry now holds version "
        f"{instance.version}.{who} Reload it and apply your change again.",
        code=Refusal.STALE_VERSION,
    )


@dataclass(frozen=True)
class Write:
    """Who writes, why, who may read why, and when it takes effect.

    ``begin_write`` derives it once per service call; every revision the call saves
    carries it, so the four never drift apart.
    """

    user: Actor
    reason: str
    reason_visibility: str
    effective_at: datetime.datetime

    def keywords(self) -> dict[str, Any]:
        """The keyword arguments of a public service, to write a step of this write."""
        return {
            "user": self.user,
            "reason": self.reason,
            "reason_visibility": self.reason_visibility,
            "effective_at": self.effective_at,
        }


def save_revision(
    instance: RecordedModel,
    write: Write,
    *,
    is_new: bool = False,
    reverts: int | None = None,
    corrects: int | None = None,
    checked: Iterable[str] = (),
) -> None:
    """Validate and save ``instance`` as one history row carrying ``write``.

    ``reverts``: the history_id of the version a revert brings it back to, kept on
    the row (``reverts_revision``) so the feed calls the change "reverted".
    ``corrects``: the history_id of the revision this row corrects (a revert that
    corrects the record, effective at that revision's own time), ``corrects_revision``.
    ``checked``: fields the calling service already checked under the registry lock
    (a parent it re-read with ``fresh``, a slug it found free), which ``full_clean``
    need not look up again.

    Every text is checked first (``check_texts``): this is the one place all writes
    pass, so no service can store a control character the feed or chart cannot show.
    """
    check_texts(instance, is_new=is_new)
    if not is_new and is_correction(instance, write.effective_at):
        try:
            save_correction(instance, write, reverts=reverts)
        finally:
            instance.__dict__.pop(_CORRECTING, None)
            instance.__dict__.pop(REQUESTED, None)
        return
    instance.__dict__.pop(_CORRECTING, None)
    instance.__dict__.pop(REQUESTED, None)
    if not is_new:
        instance.version += 1
    instance.full_clean(
        exclude=already_valid(instance, checked),
        validate_unique=True,
        validate_constraints=True,
    )
    # What simple-history reads from the instance when it writes the history row;
    # plain instance attributes, removed again below.
    instance.__dict__.update(
        _history_user=_history_user(write.user),
        _change_reason=write.reason,
        _reason_visibility=write.reason_visibility,
        _history_date=write.effective_at,
        _reverts_revision=reverts,
        _corrects_revision=corrects,
    )
    try:
        instance.save()
        _bump_generation()
        remember_stored(instance)
    finally:
        for attribute in (
            "_history_user",
            "_change_reason",
            "_reason_visibility",
            "_history_date",
            "_reverts_revision",
            "_corrects_revision",
        ):
            instance.__dict__.pop(attribute, None)


def stamp_history_row(
    sender: Any, instance: models.Model, history_instance: Any, **kwargs: Any
) -> None:
    """``pre_create_historical_record``: set the history row's columns that are ours.

    simple-history fills user, reason and time itself. The reason's visibility comes
    from ``save_revision`` (a save that did not pass it keeps the column's default,
    internal); the reorganization from ``writing_for``, if one is being applied.
    """
    visibility = instance.__dict__.get("_reason_visibility")
    if visibility is not None:
        history_instance.reason_visibility = visibility
    reverts = instance.__dict__.get("_reverts_revision")
    if reverts is not None:
        history_instance.reverts_revision = reverts
    corrects = instance.__dict__.get("_corrects_revision")
    if corrects is not None:
        history_instance.corrects_revision = corrects
    reorganization = _applying.get()
    if reorganization is not None and isinstance(history_instance, RecordedRevision):
        history_instance.reorganization_id = reorganization.pk


def mark_registry_changed() -> None:
    """Raise the registry generation for a write that records no revision but changes
    what reads show: a reorganization that fails is listed in the change feed to
    editors and auditors, so their cached pages of it are stale."""
    _bump_generation()


def _bump_generation() -> None:
    updated = RegistryState.objects.filter(pk=1).update(
        generation=models.F("generation") + 1, changed_at=timezone.now()
    )
    if not updated:
        RegistryState.objects.create(pk=1, generation=1)


def begin_write(
    user: Actor,
    reason: str | None,
    reason_visibility: str | None,
    effective_at: EffectiveTime,
) -> Write:
    """The reason and its visibility checked, the registry locked, the time fixed."""
    reason = clean_reason(reason)
    reason_visibility = clean_reason_visibility(reason_visibility)
    # "Now" is read once the lock is held: a writer that waited behind another must not
    # date its change before the one it waited for (it would be refused as out of order).
    lock_registry()
    return Write(user, reason, reason_visibility, effective_datetime(effective_at))


ModelT = TypeVar("ModelT", bound=models.Model)


def fresh(model: type[ModelT], instance_or_pk: ModelT | int) -> ModelT:
    """Re-read a row inside the locked transaction: callers may hold stale copies."""
    pk = getattr(instance_or_pk, "pk", instance_or_pk)
    try:
        instance = model._default_manager.select_for_update().get(pk=pk)
    except ObjectDoesNotExist:
        raise ValidationError(
            f"{str(model._meta.verbose_name).capitalize()} {pk} does not exist.",
            code=Refusal.NOT_FOUND,
        ) from None
    remember_stored(instance)
    return instance


# Where ``fresh`` (and each save) keeps the values the row holds in the database:
# {attname: value}, read or written inside the locked transaction.
_STORED = "_stored_values"


def remember_stored(instance: models.Model) -> None:
    """Note the values the database now holds for ``instance`` (see ``already_valid``)."""
    instance.__dict__[_STORED] = {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
    }


def _constraint_fields(
    constraint: models.BaseConstraint, every_field: set[str]
) -> set[str]:
    """The fields a constraint reads; all of them when that cannot be told."""
    if getattr(constraint, "expressions", ()):
        return every_field
    names = set(getattr(constraint, "fields", ()))
    condition = getattr(constraint, "condition", None)
    if condition is not None:
        names |= models.Q(condition).referenced_base_fields
    return names or every_field


def already_valid(instance: models.Model, checked: Iterable[str] = ()) -> list[str]:
    """The fields ``full_clean`` need not validate again, so it costs no query for them.

    A field whose value is the one the row holds (read by ``fresh`` under the registry
    lock) passed when it was stored and is unique still: looking its foreign key, its
    uniqueness or its constraints up again cost a rename three statements (of eleven).
    ``checked`` adds fields the service verified itself. A constraint that reads a
    changed field is checked whole, so none of its fields is left out.
    """
    meta = instance._meta
    stored = instance.__dict__.get(_STORED, {})
    every_field = {field.name for field in meta.concrete_fields}
    unchanged = {
        field.name
        for field in meta.concrete_fields
        if field.attname in stored
        and stored[field.attname] == getattr(instance, field.attname)
    }
    changed = every_field - unchanged
    skipped = unchanged | set(checked)
    for constraint in meta.constraints:
        names = _constraint_fields(constraint, every_field)
        if names & changed:
            skipped -= names
    return sorted(skipped)


def unique_slug(
    model: type[models.Model], text: str, *, reserved: frozenset[str] = frozenset()
) -> str:
    """A free slug made from ``text``; ``reserved`` slugs count as taken."""
    base = slugify(text)[:90] or "item"
    slug, counter = base, 2
    while slug in reserved or model._default_manager.filter(slug=slug).exists():
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def apply_changes(
    instance: models.Model, changes: dict[str, Any], allowed: Iterable[str]
) -> list[str]:
    """Set the allowed fields that really change; return their names."""
    allowed = set(allowed)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValidationError(
            f"These fields cannot be changed here: {', '.join(unknown)}.",
            code=Refusal.NOT_UPDATABLE,
        )
    # A correction counts a field set to its current value too: it may differ at the
    # correction's effective time (``units.services.corrections``).
    instance.__dict__[REQUESTED] = set(changes)
    changed = []
    for field_name, value in changes.items():
        if getattr(instance, field_name) != value:
            setattr(instance, field_name, value)
            changed.append(field_name)
    return changed


# --- Links in time: what a change refers to must exist when it takes effect ------------


def check_unit_usable(
    parent: OrganizationalUnit,
    effective_at: datetime.datetime,
    until: datetime.datetime | None = None,
    *,
    code: str = Refusal.PARENT_ABOLISHED,
) -> None:
    """Refuse to link to a unit that is abolished, or not yet recorded, at that time.

    A write holds from ``effective_at`` until ``until`` (None: from then on), so the
    unit must be active at that time and at every recorded instant until then, not
    only today: one abolished then and reinstated since, or abolished and reinstated
    in between, would leave what links to it under an abolished unit for a while. A
    correction's stretch may end before today (``until``): the unit may be abolished
    now. ``code`` names the refusal (a post's unit: ``UNIT_ABOLISHED``).
    """
    if until is None and not parent.is_active:
        raise ValidationError(
            f"“{parent}” was abolished on {day_text(parent.abolished_on)}; "
            "a unit cannot report to an abolished unit.",
            code=code,
        )
    check_recorded_by(parent, effective_at, code=Refusal.PARENT_NOT_YET_ESTABLISHED)
    abolition = abolished_within(OrganizationalUnit, parent.pk, effective_at, until)
    if abolition is not None:
        when = (
            f"from {day_text(abolition.abolished_on)} until it was reinstated on "
            f"{moment_text(abolition.reinstated_at)}"
            if abolition.reinstated_at is not None
            else f"on {day_text(abolition.abolished_on)}"
        )
        raise ValidationError(
            f"“{parent}” was abolished {when}: a change effective "
            f"{moment_text(effective_at)} would link to it while it was abolished, "
            "and nothing can report to or belong to an abolished unit.",
            code=code,
        )


def check_recorded_by(
    instance: RecordedModel, effective_at: datetime.datetime, *, code: str
) -> None:
    """Refuse to link to an object at a time before the registry knew it."""
    first = (
        instance.history.order_by(*REVISION_ORDER)
        .values_list("history_date", flat=True)
        .first()
    )
    if first is not None and effective_at < first:
        raise ValidationError(
            f"“{instance}” did not exist yet on {moment_text(effective_at)} "
            f"(it is recorded from {moment_text(first)}).",
            code=code,
        )


def moment_on_day(day: datetime.date, *records: RecordedModel) -> datetime.datetime:
    """When a change dated by day only takes effect: the start of ``day``.

    If something the change depends on was recorded later that same day (a post created
    this afternoon, filled "from today"), the change takes effect just then instead, so
    it never precedes what it refers to.
    """
    moment = effective_datetime(day)
    for record in records:
        latest = latest_revision_time(record)
        if latest is not None and moment < latest and latest.date() == day:
            moment = latest
    return moment

"""The history of any tracked object: its versions, each with its field-level changes.

Units, posts and people share one reading of their history: the admin's history and
version pages, the unit page's history and the API's all come from here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Max
from django.utils.translation import gettext as _

from units.dates import moment_text
from units.models import REVISION_ORDER, OrganizationalUnit, Person, Post, RecordedModel
from units.selectors.as_of import (
    _history_model,
    current_rows,
    reading_as_known_at,
    recorded_by,
)
from units.selectors.corrections import (
    carried_forward,
    correction_of,
    winning_rows,
)
from units.selectors.fields import (
    HISTORY_FIELDS,
    REVISION_COLUMNS,
    UNIT_HISTORY_FIELDS,
    model_field,
    revision_values,
    translated_text,
)
from units.selectors.results import FieldChange, RecordedRevision, UnitRevision

# A version's recorded state as shown: each field's label and displayed value.
ShownState = dict[str, str]


@dataclass(slots=True)
class ObjectVersion:
    """One version of an object, with its full recorded state as shown."""

    revision: UnitRevision
    state: ShownState
    is_latest: bool
    # For a version a correction superseded (read as known just before it): the
    # correcting version that replaced it, and when that was recorded.
    superseded_by: int | None = None
    superseded_on: datetime.datetime | None = None


# What names an object a history links to, shown instead of its id.
NAME_FIELDS: dict[type[models.Model], str] = {
    OrganizationalUnit: "name",
    Post: "title",
    Person: "full_name",
}


def _displayed_value(
    model: type[RecordedModel],
    attname: str,
    value: Any,
    names: dict[type[models.Model], dict[int, str]],
) -> str:
    if value is None or value == "":
        return "—"
    field = model_field(model, attname)
    if field.is_relation and field.related_model is not None:
        related = field.related_model
        assert isinstance(related, type)  # noqa: S101 - never a lazy "app.Model" here
        fallback = f"{related._meta.verbose_name} {value}"
        return names.get(related, {}).get(value, fallback)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.date):
        return moment_text(value)
    return str(value)


def _linked_names(
    model: type[RecordedModel], rows: list[dict[str, Any]], fields: tuple[str, ...]
) -> dict[type[models.Model], dict[int, str]]:
    """The current names of the objects the rows link to: one query per kind linked."""
    wanted: dict[type[models.Model], set[int]] = {}
    for attname in fields:
        field = model_field(model, attname)
        related = field.related_model if field.is_relation else None
        if isinstance(related, type) and related in NAME_FIELDS:
            ids = wanted.setdefault(related, set())
            ids.update(row[attname] for row in rows if row[attname])
    return {
        related: {
            row["id"]: row[NAME_FIELDS[related]]
            for row in current_rows(related, ("id", NAME_FIELDS[related]), ids)
        }
        for related, ids in wanted.items()
        if ids
    }


def _field_label(model: type[RecordedModel], attname: str) -> str:
    return str(model_field(model, attname).verbose_name)


def _text_of(model: type[RecordedModel], attname: str) -> dict[str, str]:
    """``FieldChange``'s ``text`` and ``language`` for the field ``attname``."""
    text, language = translated_text(model, attname) or ("", "")
    return {"text": text, "language": language}


def _revisions(
    model: type[RecordedModel],
    object_id: int,
    fields: tuple[str, ...],
    *,
    with_state: bool,
) -> list[tuple[UnitRevision, ShownState]]:
    """An object's versions, newest first, with their differences, as known at the
    reading's ``known_at`` (``units.selectors.corrections``).

    Of its rows recorded by then, one per effective instant: the last recorded. Each
    is diffed against the version before it, so a row that carries a correction
    forward shows only its own revision's change; a field a correction changed says
    when and what it was ("corrected on ...: was ..."). One query, and one more per
    kind of object its foreign keys link to (a unit, post or person, shown by its
    current name). ``fields`` are attribute names of the model. With ``with_state``
    each version comes with its full recorded state as shown, else with an empty one.
    """
    recorded = list(
        recorded_by(_history_model(model)._default_manager.filter(id=object_id))
        .order_by(*REVISION_ORDER)
        .values(*REVISION_COLUMNS, *fields)
    )
    by_history_id = {row["history_id"]: row for row in recorded}
    rows = winning_rows(recorded)
    restating = carried_forward(recorded)
    names = _linked_names(model, recorded, fields)

    def shown(attname: str, value: Any) -> str:
        return _displayed_value(model, attname, value, names)

    revisions: list[tuple[UnitRevision, ShownState]] = []
    previous: Mapping[str, Any] | None = None
    for row in rows:
        correction = correction_of(
            row, by_history_id.get(row["corrects_revision"] or 0), fields
        )
        was = correction.previous if correction else {}
        corrected_on = correction.corrected_on if correction else None
        corrections = [
            FieldChange(
                field=attname,
                label=_field_label(model, attname),
                old=value,
                new=row[attname],
                old_display=shown(attname, value),
                new_display=shown(attname, row[attname]),
                corrected_on=corrected_on,
                was_display=shown(attname, value),
                **_text_of(model, attname),
            )
            for attname, value in was.items()
        ]
        changes = [
            FieldChange(
                field=attname,
                label=_field_label(model, attname),
                old=previous[attname] if previous else None,
                new=row[attname],
                old_display=shown(attname, previous[attname] if previous else None),
                new_display=shown(attname, row[attname]),
                corrected_on=corrected_on if attname in was else None,
                was_display=shown(attname, was[attname]) if attname in was else "",
                **_text_of(model, attname),
            )
            for attname in fields
            if (previous is None and row[attname] not in (None, ""))
            or (previous is not None and previous[attname] != row[attname])
        ]
        # A correction that only removed a change (back to the earlier value)
        # changes nothing against the version before; it is still shown, as a
        # change from the mistaken value, marked corrected.
        if row["history_id"] not in restating:
            changed = {change.field for change in changes}
            changes += [item for item in corrections if item.field not in changed]
        revision = UnitRevision(
            **revision_values(row),
            history_type=row["history_type"],
            changes=changes,
            reverts_revision=row["reverts_revision"],
            corrects_revision=row["corrects_revision"],
            corrections=corrections,
        )
        state: ShownState = {}
        if with_state:
            state = {
                _field_label(model, attname): shown(attname, row[attname])
                for attname in fields
            }
        revisions.append((revision, state))
        previous = row
    revisions.reverse()
    return revisions


def object_revisions(
    model: type[RecordedModel], object_id: int, fields: tuple[str, ...]
) -> list[tuple[UnitRevision, ShownState]]:
    """An object's versions, newest first, each with its recorded state (2 queries)."""
    return _revisions(model, object_id, fields, with_state=True)


def object_version(
    model: type[RecordedModel],
    object_id: int,
    history_id: int | str,
    fields: tuple[str, ...],
) -> ObjectVersion | None:
    """One version of an object (``history_id`` as in a URL); None if not one of its.

    A version a correction superseded is no longer in the history as known now, yet
    auditors must reach it: it is read as the registry knew it just before the
    correction that replaced it was recorded, and says which version did, and when
    (``superseded_by``, ``superseded_on``). Three queries more then.
    """
    revisions = object_revisions(model, object_id, fields)
    for position, (revision, state) in enumerate(revisions):
        if str(revision.history_id) == str(history_id):
            return ObjectVersion(revision, state, is_latest=position == 0)
    if not str(history_id).isdigit():
        return None
    history = recorded_by(_history_model(model)._default_manager.filter(id=object_id))
    row = history.filter(history_id=int(history_id)).values("history_date").first()
    if row is None:
        return None
    replacing = (
        history.filter(
            history_date=row["history_date"],
            history_id__gt=int(history_id),
            corrects_revision__isnull=False,
        )
        .order_by("history_id")
        .values("history_id", "recorded_at")
        .first()
    )
    if replacing is None:
        return None
    just_before = replacing["recorded_at"] - datetime.timedelta(microseconds=1)
    with reading_as_known_at(just_before):
        earlier = object_revisions(model, object_id, fields)
    for revision, state in earlier:
        if revision.history_id == int(history_id):
            return ObjectVersion(
                revision,
                state,
                is_latest=False,
                superseded_by=replacing["history_id"],
                superseded_on=replacing["recorded_at"],
            )
    return None


def object_history(model: type[RecordedModel], object_id: int) -> list[UnitRevision]:
    """Any object's versions, newest first, with field-level differences.

    The fields are the model's ``HISTORY_FIELDS``; a bounded number of queries (see
    ``_revisions``), however many versions there are. Empty if no such object.
    """
    return [
        revision
        for revision, _state in _revisions(
            model, object_id, HISTORY_FIELDS[model], with_state=False
        )
    ]


def unit_history(unit: OrganizationalUnit | int) -> list[UnitRevision]:
    """A unit's versions, newest first, each with field-level differences (2 queries)."""
    unit_id = unit.pk if isinstance(unit, OrganizationalUnit) else unit
    return [
        revision
        for revision, _state in _revisions(
            OrganizationalUnit, unit_id, UNIT_HISTORY_FIELDS, with_state=False
        )
    ]


def unit_revisions_since(unit_id: int, loaded_version: int) -> list[UnitRevision]:
    """The revisions of a unit written after ``loaded_version`` (newest first).

    Every service write raises the version by one. An ordinary write leaves one
    history row; a correction of the past leaves several, recorded at one instant (its
    own and those it carried forward), so the writes since are the newest
    ``current - loaded`` recording instants, by record order. Empty if the unit no
    longer exists.
    """
    current_version = (
        OrganizationalUnit.objects.filter(pk=unit_id)
        .values_list("version", flat=True)
        .first()
    )
    if current_version is None:
        return []
    history = unit_history(unit_id)
    writes = max(current_version - loaded_version, 0)
    instants: list[datetime.datetime] = []
    for revision in sorted(history, key=lambda item: item.history_id, reverse=True):
        if revision.recorded_at not in instants:
            instants.append(revision.recorded_at)
    written = set(instants[:writes])
    return [revision for revision in history if revision.recorded_at in written]


def latest_revisions(
    model: type[RecordedModel], ids: Iterable[int]
) -> dict[int, RecordedRevision]:
    """Each object's newest revision (by id: the last one written), in one query.

    A write reads it after the service returns, to say what it recorded; objects
    without a revision are absent.
    """
    wanted = set(ids)
    if not wanted:
        return {}
    history = _history_model(model)._default_manager
    newest = (
        history.filter(id__in=wanted)
        .values("id")
        .annotate(newest=Max("history_id"))
        .values("newest")
    )
    return {
        row["id"]: RecordedRevision(
            history_id=row["history_id"],
            effective_at=row["history_date"],
            recorded_at=row["recorded_at"],
        )
        for row in history.filter(history_id__in=newest).values(
            "id", "history_id", "history_date", "recorded_at"
        )
    }

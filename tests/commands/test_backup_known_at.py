"""Backups carry both times: after a round trip, every answer as of any instant, as
known at any instant, is the one the registry gave before (issue 14)."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from tests.commands.test_backup import _quiet, empty_the_registry
from tests.conftest import ScriptedHistory, at
from units import selectors, services
from units.backup import CURRENT_MODELS, HISTORY_MODELS
from units.models import OrganizationalUnit
from units.selectors.as_of import reading_as_known_at

pytestmark = pytest.mark.django_db

ONE_MICROSECOND = datetime.timedelta(microseconds=1)
# The corrections below take effect at these instants.
TREE_INSTANTS = (at("2023-02-01"), at("2023-03-01"), at("2023-09-01"))
CORRECTED_FROM = at("2023-01-01")


def correct_by_revert(editor: User, instance: Any, revert: Any, **change: Any) -> None:
    """Record a mistaken change, then correct the record from its own time."""
    kind = instance._meta.model_name
    update: Any = {
        "organizationalunit": services.unit_update,
        "post": services.post_update,
        "person": services.person_update,
    }[kind]
    target = {"organizationalunit": "unit"}.get(kind, kind)
    original = instance.history.order_by("-history_date", "-history_id").first()
    update(**{target: instance}, user=editor, reason="Mistaken", **change)
    revert(
        **{target: instance},
        history_id=original.history_id,
        user=editor,
        reason="Corrected: it never happened",
        mode="correct",
    )


@pytest.fixture
def corrected_history(
    scripted_history: ScriptedHistory, editor: User
) -> datetime.datetime:
    """The scripted history with mistakes corrected from their own times (units,
    posts, people), corrections before later changes, and one mistake undone from
    now. Returns the instant the corrections began to be recorded."""
    history = scripted_history
    corrections_began = datetime.datetime.now(tz=datetime.UTC)
    correct_by_revert(
        editor,
        history.unit_y,
        services.unit_revert,
        name="Unit Why",
        effective_at=at("2023-09-01"),
    )
    correct_by_revert(
        editor,
        history.head_of_x,
        services.post_revert,
        title="Chief of X",
        effective_at=at("2023-02-01"),
    )
    correct_by_revert(
        editor,
        history.ben,
        services.person_revert,
        full_name="Benn",
        effective_at=at("2023-03-01"),
    )
    # Corrections landing before later recorded changes (restated rows after them).
    services.unit_update(
        unit=history.unit_y,
        user=editor,
        reason="Its mandate was set in July",
        mandate="Keeps Y.",
        effective_at=at("2023-07-01"),
    )
    services.post_update(
        post=history.head_of_x,
        user=editor,
        reason="The term was set in January",
        term_years=5,
        effective_at=at("2023-01-15"),
    )
    unit_x = OrganizationalUnit.objects.get(pk=history.unit_x.pk)
    before = unit_x.history.order_by("-history_date", "-history_id").first()
    services.unit_update(unit=unit_x, user=editor, reason="Oops", location="Nowhere")
    services.unit_revert(
        unit=unit_x, history_id=before.history_id, user=editor, reason="Undone"
    )
    return corrections_began


def grid(
    corrections_began: datetime.datetime,
) -> tuple[list[datetime.datetime], list[datetime.datetime | None]]:
    """The instants an answer can change at: each effective time from the first
    correction's year on (as_of; earlier ones are the plain round trip's), and just
    before each record time from the corrections on (known_at), plus now.

    The first known_at is the registry as known before any correction; earlier record
    times are the scripted history's, whose every ``recorded_at`` the round trip
    compares row by row (a grid over them took two thirds of the test's time).
    """
    effective: set[datetime.datetime] = set()
    recorded: set[datetime.datetime] = set()
    for model in HISTORY_MODELS:
        for history_date, recorded_at in model._default_manager.values_list(
            "history_date", "recorded_at"
        ):
            if history_date >= CORRECTED_FROM:
                effective.add(history_date)
            if recorded_at >= corrections_began:
                recorded.add(recorded_at)
    now = datetime.datetime.now(tz=datetime.UTC)
    known: list[datetime.datetime | None] = [
        instant - ONE_MICROSECOND for instant in sorted(recorded)
    ]
    return [*sorted(effective), now], [*known, None]


def answers(
    as_of: list[datetime.datetime], known_at: list[datetime.datetime | None]
) -> dict[str, Any]:
    """Every object's every field, and the tree, at each point of the grid.

    Models without any history are left out: the round trip checks their history
    tables stay empty, and nothing can be known of them at any instant.
    """
    recorded_models = [model for model in CURRENT_MODELS if model.history.exists()]
    result: dict[str, Any] = {}
    for known in known_at:
        with reading_as_known_at(known):
            for when in as_of:
                for model in recorded_models:
                    # Tree bookkeeping is not in history: every other field is.
                    kept = {
                        f.attname for f in model.history.model._meta.concrete_fields
                    }
                    fields = [
                        f.attname
                        for f in model._meta.concrete_fields
                        if f.attname in kept
                    ]
                    states = selectors.states_as_of(model, when, fields)
                    result[f"{model._meta.label} {when} {known}"] = sorted(
                        json.dumps(state, sort_keys=True, default=str)
                        for state in states
                    )
            # The tree (many queries each) at the corrected instants and now.
            for when in [*TREE_INSTANTS, as_of[-1]]:
                result[f"tree {when} {known}"] = [
                    dataclasses.asdict(root)
                    for root in selectors.unit_tree_as_of(when, include_abolished=True)
                ]
    return result


def test_round_trip_keeps_every_known_at_answer(
    corrected_history: datetime.datetime, tmp_path: Path
) -> None:
    as_of, known_at = grid(corrected_history)
    # Before the corrections, during them (one instant each), and now.
    assert len(known_at) >= 10
    before = answers(as_of, known_at)
    stored = {
        model._meta.label: list(
            model._default_manager.order_by("pk").values_list(
                "history_id", "history_date", "recorded_at", "corrects_revision"
            )
        )
        for model in HISTORY_MODELS
    }
    # The grid sees the corrections: some answers as known earlier differ from now's.
    differs = [
        key
        for key, value in before.items()
        if not key.endswith(" None")
        and value != before[key.rsplit(" ", 2)[0] + " None"]
    ]
    assert differs
    assert any(row[3] is not None for rows in stored.values() for row in rows)
    # Restated rows: a correction's rows at later revisions' own times.
    unit_y_rows = stored["units.HistoricalOrganizationalUnit"]
    assert sum(1 for row in unit_y_rows if row[1] == at("2023-09-01")) >= 3

    backup = tmp_path / "registry.jsonl.gz"
    call_command("export_registry", str(backup), stdout=_quiet())
    empty_the_registry()
    call_command("import_registry", str(backup), stdout=_quiet())

    assert {
        model._meta.label: list(
            model._default_manager.order_by("pk").values_list(
                "history_id", "history_date", "recorded_at", "corrects_revision"
            )
        )
        for model in HISTORY_MODELS
    } == stored
    after = answers(as_of, known_at)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key


def test_a_backup_from_before_corrections_restores_with_none(
    corrected_history: datetime.datetime, tmp_path: Path
) -> None:
    """A file written before history rows had ``corrects_revision`` still restores."""
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    lines, columns = [], None
    for line in backup.read_text().splitlines():
        record = json.loads(line)
        if isinstance(record, dict) and "columns" in record:
            columns = record["columns"]
            if "corrects_revision" in columns:
                position = columns.index("corrects_revision")
                record["columns"] = [c for c in columns if c != "corrects_revision"]
            else:
                position = None
        elif isinstance(record, list) and position is not None:
            del record[position]
        lines.append(json.dumps(record))
    backup.write_text("\n".join(lines) + "\n")
    empty_the_registry()

    call_command("import_registry", str(backup), stdout=_quiet())

    assert OrganizationalUnit.history.exists()
    assert not OrganizationalUnit.history.filter(
        corrects_revision__isnull=False
    ).exists()
    assert selectors.registry_problems() == []


def test_a_backup_missing_an_older_column_is_still_refused(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    lines = []
    for line in backup.read_text().splitlines():
        record = json.loads(line)
        if isinstance(record, dict) and "recorded_at" in record.get("columns", []):
            record["columns"].remove("recorded_at")
        lines.append(json.dumps(record))
    backup.write_text("\n".join(lines) + "\n")
    empty_the_registry()

    with pytest.raises(Exception, match="do not match this version"):
        call_command("import_registry", str(backup), stdout=_quiet())

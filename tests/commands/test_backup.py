"""Backup and restore: one file, the full history, identical answers after a round trip."""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Model

from tests.conftest import ScriptedHistory, at
from tests.factories import absorbed_unit
from units import selectors, services
from units.backup import CURRENT_MODELS, HISTORY_MODELS
from units.models import OrganizationalUnit, RegistryState, UnitKind, UnitSuccession

pytestmark = pytest.mark.django_db

INSTANTS = (
    "2019-12-31",
    "2020-01-01",
    "2020-07-01",
    "2021-06-01",
    "2022-02-01",
    "2022-07-01",
    "2023-01-01",
    "2023-01-02",
    "2023-07-01",
)


def registry_answers(now: datetime.datetime) -> dict[str, Any]:
    """Everything an auditor can ask, as plain data, plus every stored row."""
    instants = [at(day) for day in INSTANTS] + [now]
    answers: dict[str, Any] = {
        "current_tree": [
            dataclasses.asdict(root)
            for root in selectors.unit_tree(include_abolished=True)
        ],
        "trees_as_of": {
            instant: [
                dataclasses.asdict(root)
                for root in selectors.unit_tree_as_of(instant, include_abolished=True)
            ]
            for instant in instants
        },
        "posts_as_of": {
            instant: [
                dataclasses.asdict(post) for post in selectors.posts_as_of(instant)
            ]
            for instant in instants
        },
        "unit_histories": {
            unit.slug: [
                dataclasses.asdict(revision)
                for revision in selectors.unit_history(unit)
            ]
            for unit in OrganizationalUnit.objects.order_by("pk")
        },
        "changes": [
            dataclasses.asdict(change)
            for change in selectors.changes_between(at("2019-01-01"), now)
        ],
        "tree_fields": list(
            OrganizationalUnit.objects.order_by("pk").values_list(
                "pk", "parent_id", "lft", "rght", "level", "tree_id"
            )
        ),
    }
    for model in (*CURRENT_MODELS, *HISTORY_MODELS):
        columns = [
            "history_user__username" if name == "history_user_id" else name
            for name in (f.attname for f in model._meta.concrete_fields)
        ]
        answers[model._meta.label] = list(
            model._default_manager.order_by("pk").values_list(*columns)
        )
    return answers


def empty_the_registry(*, also_users: bool = False) -> None:
    """Delete every registry row, as a freshly migrated database would be.

    Raw deletes: deleting through the ORM would record "deleted" history rows, and
    units protect their children, so one statement removes each whole table.
    """
    models: list[type[Model]] = [
        *reversed(CURRENT_MODELS),
        *HISTORY_MODELS,
        RegistryState,
    ]
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - our own table names
    if also_users:
        get_user_model().objects.all().delete()


def registry_row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in (*CURRENT_MODELS, *HISTORY_MODELS)
    }


@pytest.mark.parametrize("file_name", ["registry.jsonl", "registry.jsonl.gz"])
def test_round_trip_keeps_every_as_of_answer_and_history(
    scripted_history: ScriptedHistory, tmp_path: Path, file_name: str
) -> None:
    now = datetime.datetime.now(tz=datetime.UTC)
    before = registry_answers(now)
    generation_before = selectors.registry_generation()
    backup = tmp_path / file_name

    call_command("export_registry", str(backup), stdout=_quiet())
    empty_the_registry()
    assert registry_row_counts() == dict.fromkeys(registry_row_counts(), 0)
    call_command("import_registry", str(backup), stdout=_quiet())

    after = registry_answers(now)
    for key in before:
        assert after[key] == before[key], key
    assert selectors.registry_problems() == []
    # Caches keyed by the generation must not serve anything from before the restore.
    assert selectors.registry_generation() > generation_before


def test_round_trip_keeps_provenance_unknown_founding_dates_and_notes(
    scripted_history: ScriptedHistory, editor: Any, tmp_path: Path
) -> None:
    write = {"user": editor, "reason": "Recorded from a description"}
    unit = services.unit_create(
        name="Inferred Unit",
        kind=UnitKind.UNIT,
        parent=scripted_history.department_b,
        provenance="Placement inferred from the source: first version.",
        founding_date_known=False,
        effective_at=at("2023-03-01"),
        **write,
    )
    services.unit_update(
        unit=unit, provenance="Placement inferred from the source: second.", **write
    )
    post = services.post_create(
        title="Inferred head",
        unit=unit,
        is_head=True,
        founding_date_known=False,
        effective_at=at("2023-03-01"),
        **write,
    )
    services.appointment_start(
        person=scripted_history.ana,
        post=post,
        started_on=datetime.date(2023, 3, 1),
        note="Start date is a convention of the source.",
        **write,
    )
    now = datetime.datetime.now(tz=datetime.UTC)
    before = registry_answers(now)
    backup = tmp_path / "registry.jsonl"

    call_command("export_registry", str(backup), stdout=_quiet())
    empty_the_registry()
    call_command("import_registry", str(backup), stdout=_quiet())

    assert registry_answers(now) == before
    restored = OrganizationalUnit.objects.get(pk=unit.pk)
    assert restored.provenance == "Placement inferred from the source: second."
    assert restored.established_on is None
    assert [row.provenance for row in restored.history.order_by("history_id")] == [
        "Placement inferred from the source: first version.",
        "Placement inferred from the source: second.",
    ]
    assert post.appointments.get().note == "Start date is a convention of the source."


def test_backup_holds_history_dates_recorded_times_authors_and_reasons(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    text = backup.read_text()
    unit_history = OrganizationalUnit.history.get(
        id=scripted_history.unit_y.pk, history_type="+"
    )
    # Unit Y was recorded late: its effective and recorded times differ, and both stay.
    assert unit_history.history_date.isoformat() in text
    assert unit_history.recorded_at.isoformat() in text
    assert '"editor"' in text
    assert "Reorganization 2022" in text
    assert "Department A closed" in text


def test_restored_registry_accepts_new_writes(
    scripted_history: ScriptedHistory, tmp_path: Path, editor: Any
) -> None:
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    highest_unit = OrganizationalUnit.objects.order_by("-pk").first()
    assert highest_unit is not None
    highest_unit_id = highest_unit.pk
    empty_the_registry()
    call_command("import_registry", str(backup), stdout=_quiet())

    # The id sequences follow the restored ids: a new unit does not collide.
    unit = services.unit_create(
        user=editor,
        reason="After restore",
        name="Unit Z",
        kind=UnitKind.UNIT,
        parent=OrganizationalUnit.objects.get(slug="department-b"),
    )
    assert unit.pk > highest_unit_id
    assert selectors.registry_problems() == []


def test_restore_into_a_database_without_the_authors_creates_them_inactive(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    empty_the_registry(also_users=True)

    call_command("import_registry", str(backup), stdout=_quiet())

    author = get_user_model().objects.get(username="editor")
    assert not author.is_active
    assert not author.has_usable_password()
    assert not author.is_staff
    history = selectors.unit_history(OrganizationalUnit.objects.get(slug="unit-x"))
    assert {revision.author for revision in history} == {"editor"}


def test_restore_into_a_non_empty_registry_is_refused_and_changes_nothing(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    counts = registry_row_counts()
    generation = selectors.registry_generation()

    with pytest.raises(CommandError, match="The registry is not empty"):
        call_command("import_registry", str(backup), stdout=_quiet())

    assert registry_row_counts() == counts
    assert selectors.registry_generation() == generation


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    not_a_backup = tmp_path / "notes.jsonl"
    not_a_backup.write_text('{"hello": "world"}\n')

    with pytest.raises(CommandError, match="not an orgregistry backup"):
        call_command("import_registry", str(not_a_backup), stdout=_quiet())
    assert sum(registry_row_counts().values()) == 0


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="There is no file"):
        call_command("import_registry", str(tmp_path / "absent.jsonl"))


def test_a_truncated_backup_restores_nothing(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    backup = tmp_path / "registry.jsonl.gz"
    call_command("export_registry", str(backup), stdout=_quiet())
    lines = gzip.decompress(backup.read_bytes()).decode().splitlines(keepends=True)
    backup.write_bytes(gzip.compress("".join(lines[: len(lines) * 2 // 3]).encode()))
    empty_the_registry(also_users=True)

    with pytest.raises(CommandError, match="truncated"):
        call_command("import_registry", str(backup), stdout=_quiet())

    assert sum(registry_row_counts().values()) == 0
    assert not get_user_model().objects.exists()


def test_a_backup_with_a_changed_row_count_is_refused(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    lines = backup.read_text().splitlines(keepends=True)
    # Drop one unit row but keep the headers: the count check must notice.
    unit_header = next(
        index for index, line in enumerate(lines) if "units.organizationalunit" in line
    )
    del lines[unit_header + 1]
    backup.write_text("".join(lines))
    empty_the_registry()

    with pytest.raises(CommandError, match="Nothing was restored"):
        call_command("import_registry", str(backup), stdout=_quiet())
    assert sum(registry_row_counts().values()) == 0


def test_export_does_not_overwrite_an_existing_file(tmp_path: Path) -> None:
    existing = tmp_path / "registry.jsonl"
    existing.write_text("keep me")

    with pytest.raises(CommandError, match="already exists"):
        call_command("export_registry", str(existing))
    assert existing.read_text() == "keep me"


def _quiet() -> Any:
    import io

    return io.StringIO()


def test_round_trip_keeps_who_may_read_each_reason(
    scripted_history: ScriptedHistory, editor: Any, tmp_path: Path
) -> None:
    for visibility in ("internal", "public"):
        services.unit_update(
            unit=scripted_history.unit_y,
            user=editor,
            reason=f"A reason, {visibility}",
            reason_visibility=visibility,
            mandate=f"Mandate {visibility}.",
        )
    before = list(
        OrganizationalUnit.history.order_by("history_id").values_list(
            "history_id", "history_change_reason", "reason_visibility"
        )
    )
    backup = tmp_path / "registry.jsonl"

    call_command("export_registry", str(backup), stdout=_quiet())
    empty_the_registry()
    call_command("import_registry", str(backup), stdout=_quiet())

    after = list(
        OrganizationalUnit.history.order_by("history_id").values_list(
            "history_id", "history_change_reason", "reason_visibility"
        )
    )
    assert after == before
    assert after[-2:] == [
        (after[-2][0], "A reason, internal", "internal"),
        (after[-1][0], "A reason, public", "public"),
    ]


def test_a_backup_whose_siblings_share_positions_restores_them_distinct_in_order(
    scripted_history: ScriptedHistory, tmp_path: Path, editor: Any
) -> None:
    # Siblings sharing a position, as a backup from before they had to differ holds
    # them (stored and recorded alike): the name decided the order shown.
    services.unit_create(
        user=editor,
        reason="Last, but first by name",
        name="Aardvark office",
        slug="aardvark",
        kind=UnitKind.OFFICE,
        parent=scripted_history.root,
    )
    tied = OrganizationalUnit.objects.filter(parent=scripted_history.root)
    tied.update(sibling_order=0)
    OrganizationalUnit.history.filter(parent_id=scripted_history.root.pk).update(
        sibling_order=0
    )
    OrganizationalUnit.objects.rebuild()
    shown = [
        node.slug for node in selectors.unit_tree(include_abolished=True)[0].children
    ]
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    empty_the_registry()
    call_command("import_registry", str(backup), stdout=_quiet())

    restored = selectors.unit_tree(include_abolished=True)[0].children
    assert [node.slug for node in restored] == shown
    assert shown[0] == "aardvark"
    assert len({node.sibling_order for node in restored}) == len(restored)
    assert selectors.registry_problems() == []
    # And a rename moves nothing any more.
    aardvark = OrganizationalUnit.objects.get(slug="aardvark")
    services.unit_update(unit=aardvark, user=editor, reason="Renamed", name="Zzz")
    renamed = selectors.unit_tree(include_abolished=True)[0].children
    assert [node.slug for node in renamed] == shown


def test_round_trip_keeps_the_lineage_and_its_history(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    link = absorbed_unit(scripted_history.unit_x, reason="Absorbed in the walk")
    before = (
        list(UnitSuccession.objects.values()),
        list(UnitSuccession.history.values()),
    )
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    empty_the_registry()
    call_command("import_registry", str(backup), stdout=_quiet())

    assert (
        list(UnitSuccession.objects.values()),
        list(UnitSuccession.history.values()),
    ) == before
    lineage = selectors.lineage_of([scripted_history.unit_x.pk], None)
    assert [item.slug for item in lineage[scripted_history.unit_x.pk].predecessors] == [
        link.predecessor.slug
    ]
    assert selectors.registry_problems() == []


def test_a_backup_from_before_the_lineage_restores_without_it(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=_quiet())
    lines = backup.read_text().splitlines(keepends=True)
    # The file as a registry without lineage tables wrote it.
    kept, skip = [], 0
    lineage_tables = {"units.unitsuccession", "units.historicalunitsuccession"}
    for line in lines:
        if skip:
            skip -= 1
            continue
        record = json.loads(line)
        if isinstance(record, dict) and record.get("table") in lineage_tables:
            skip = record["count"]
            continue
        if isinstance(record, dict) and "end" in record:
            for table in lineage_tables:
                record["counts"].pop(table)
            line = json.dumps(record) + "\n"
        kept.append(line)
    backup.write_text("".join(kept))
    empty_the_registry()

    call_command("import_registry", str(backup), stdout=_quiet())
    assert OrganizationalUnit.objects.filter(slug="unit-x").exists()
    assert not UnitSuccession.objects.exists()

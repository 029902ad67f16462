"""Back up the whole registry with its full history to one file, and restore it.

The file is JSON Lines (gzip-compressed when its name ends in ``.gz``), written and read
as a stream so that a registry of 100,000 units and millions of revisions never has to
fit in memory as one document::

    {"format": "orgregistry-backup", "version": 1, "exported_at": ..., ...}
    {"table": "units.organizationalunit", "columns": [...], "count": N}
    [row as a list, in column order]          (N lines)
    ...                                       (every table in turn)
    {"end": true, "counts": {"units.organizationalunit": N, ...}}

Everything is copied as stored: primary keys, tree fields, every history row with its
``history_id``, effective time (``history_date``), ``recorded_at``, the revision it
corrects (``corrects_revision``), reason and author. Keeping the ids keeps the tie-break
between revisions of equal effective time (by ``history_id``, which is how a correction
wins over the row it corrects), and keeping ``recorded_at`` keeps what the registry said
at each earlier time: every answer as of any instant, as known at any instant, is
identical after a round trip.

Authors are written by username, not by id: the target database has its own users.
A restore links each revision to the user of that name, creating missing ones as
inactive accounts without a usable password, so the audit trail keeps its names but
a backup can never grant anyone a login.

History is append-only and a restore is not a merge: it is refused unless every
registry table is empty, and it runs in one transaction that is rolled back if the
restored registry fails ``selectors.registry_problems()``.
"""

from __future__ import annotations

import datetime
import gzip
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.core.validators import MaxLengthValidator
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from units import selectors
from units.characters import field_text_problem
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    RegistryState,
    UnitRelationship,
    UnitSuccession,
    column_field,
)
from units.services.positions import make_sibling_positions_distinct

FORMAT_NAME = "orgregistry-backup"
FORMAT_VERSION = 1
BATCH_SIZE = 2_000

# Parents before children: restore inserts in this order.
CURRENT_MODELS: tuple[type[RecordedModel], ...] = (
    OrganizationalUnit,
    Person,
    Post,
    Appointment,
    UnitRelationship,
    UnitSuccession,
)
HISTORY_MODELS: tuple[type[models.Model], ...] = tuple(
    model.history.model for model in CURRENT_MODELS
)
REGISTRY_MODELS: tuple[type[models.Model], ...] = (
    *CURRENT_MODELS,
    *HISTORY_MODELS,
    RegistryState,
)
USER_TABLE = "auth.user"
# Written in place of history_user_id: the author's username.
AUTHOR_COLUMN = "history_user__username"


class BackupError(Exception):
    """A backup cannot be restored (or written); the message says why."""


@dataclass
class RestoreReport:
    counts: dict[str, int] = field(default_factory=dict)
    users_created: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"  {label}: {count}" for label, count in self.counts.items()]
        if self.users_created:
            lines.append(
                "  authors created as inactive users: "
                + ", ".join(sorted(self.users_created))
            )
        return "\n".join(lines)


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _columns(model: type[models.Model]) -> list[str]:
    """Stored columns, with the history author replaced by its username."""
    # Reorganizations are not part of an export yet: a revision's link to the one that
    # wrote it would name a row the other database does not hold.
    names = [
        model_field.attname
        for model_field in model._meta.concrete_fields
        if model_field.attname != "reorganization_id"
    ]
    return [AUTHOR_COLUMN if name == "history_user_id" else name for name in names]


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.GzipFile(path, mode + "b"), encoding="utf-8")
    return path.open(mode, encoding="utf-8")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        # A lineage event's key; restored by the field's ``to_python``.
        return str(value)
    return value


# --- Export ---------------------------------------------------------------------------


def export_registry(path: Path) -> dict[str, int]:
    """Write the whole registry and its history to ``path``; return rows per table.

    Runs in one repeatable-read snapshot on PostgreSQL, so writes made during the export
    cannot leave a backup whose history and current rows disagree.
    """
    counts: dict[str, int] = {}
    # Inside a caller's transaction (a test, a script) the isolation is theirs to set.
    starts_transaction = not connection.in_atomic_block
    with transaction.atomic(), _open(path, "w") as output:
        if connection.vendor == "postgresql" and starts_transaction:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                )
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "exported_at": timezone.now().isoformat(),
            "generation": selectors.registry_generation(),
        }
        output.write(json.dumps(header) + "\n")
        for model in (*CURRENT_MODELS, *HISTORY_MODELS):
            counts[_label(model)] = _write_table(output, model)
        output.write(json.dumps({"end": True, "counts": counts}) + "\n")
    return counts


def _write_table(output: IO[str], model: type[models.Model]) -> int:
    columns = _columns(model)
    rows = model._default_manager.order_by("pk")
    output.write(
        json.dumps({"table": _label(model), "columns": columns, "count": rows.count()})
        + "\n"
    )
    written = 0
    for row in rows.values_list(*columns).iterator(chunk_size=BATCH_SIZE):
        output.write(json.dumps([_encode(value) for value in row]) + "\n")
        written += 1
    return written


# --- Restore --------------------------------------------------------------------------


def registry_is_empty() -> bool:
    """No current object and no revision (the generation counter does not count)."""
    return not any(
        model._default_manager.exists() for model in (*CURRENT_MODELS, *HISTORY_MODELS)
    )


def restore_registry(path: Path) -> RestoreReport:
    """Load a backup into an empty registry, all or nothing."""
    if not path.exists():
        raise BackupError(f"There is no file {path}.")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Refuse concurrent writers (and a second restore) for the duration.
            from units.services import REGISTRY_LOCK_KEY

            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REGISTRY_LOCK_KEY])
        if not registry_is_empty():
            raise BackupError(
                "The registry is not empty: a backup is restored only into an empty "
                "database, never merged into an existing history. Nothing was changed."
            )
        report, header = _load(path)
        _reset_sequences()
        # A backup from before positions were distinct may hold siblings sharing one.
        renumbered = make_sibling_positions_distinct(
            OrganizationalUnit, OrganizationalUnit.history.model
        )
        _advance_generation(int(header.get("generation") or 0) + renumbered)
        problems = selectors.registry_problems()
        if problems:
            listed = "\n".join(f"  - {problem}" for problem in problems[:20])
            raise BackupError(
                f"The restored registry is inconsistent, so nothing was restored:\n{listed}"
            )
    return report


def _load(path: Path) -> tuple[RestoreReport, dict[str, Any]]:
    report = RestoreReport()
    models_by_label = {
        _label(model): model for model in (*CURRENT_MODELS, *HISTORY_MODELS)
    }
    try:
        with _open(path, "r") as source:
            lines = iter(source)
            header = _read_header(lines)
            users: dict[str, int] = {}
            while True:
                marker = _read_json(lines, "a table header or the end marker")
                if not isinstance(marker, dict):
                    raise BackupError("Expected a table header, found a row.")
                if marker.get("end"):
                    _check_counts(marker, report)
                    return report, header
                model = models_by_label.get(marker.get("table", ""))
                if model is None:
                    raise BackupError(f"Unknown table {marker.get('table')!r}.")
                if not _columns_readable(marker.get("columns"), model):
                    raise BackupError(
                        f"The columns of {marker['table']} do not match this version "
                        "of the registry; restore with the version that wrote it."
                    )
                report.counts[marker["table"]] = _load_table(
                    lines, model, marker["columns"], int(marker["count"]), users, report
                )
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as error:
        raise BackupError(f"The file cannot be read: {error}.") from error


def _read_json(lines: Iterator[str], expected: str) -> Any:
    try:
        line = next(lines)
    except StopIteration:
        raise BackupError(
            f"The file ends too early (expected {expected}): it is truncated."
        ) from None
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise BackupError(f"A line is not valid JSON ({error}).") from None


def _read_header(lines: Iterator[str]) -> dict[str, Any]:
    header = _read_json(lines, "the header")
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise BackupError("This is not an orgregistry backup file.")
    if header.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"Backup format version {header.get('version')} is not supported "
            f"(this registry reads version {FORMAT_VERSION})."
        )
    return header


# Tables added after the format's version was fixed: a backup written before them
# does not hold them and restores with none of their rows (a registry had none then).
ADDED_LATER: frozenset[str] = frozenset(
    {_label(UnitSuccession), _label(UnitSuccession.history.model)}
)


# Columns added after the format's version was fixed: a backup written before them
# does not hold them, and its rows restore with the column empty (no history row was a
# correction before corrections existed).
COLUMNS_ADDED_LATER: frozenset[str] = frozenset({"corrects_revision"})


def _columns_readable(columns: Any, model: type[models.Model]) -> bool:
    """Whether a table's columns in the file are this registry's, in its order, save
    for columns added since (``COLUMNS_ADDED_LATER``), which the file may lack."""
    expected = _columns(model)
    if columns == expected:
        return True
    return isinstance(columns, list) and columns == [
        name for name in expected if name not in COLUMNS_ADDED_LATER or name in columns
    ]


def _check_counts(end: dict[str, Any], report: RestoreReport) -> None:
    expected = {_label(model) for model in (*CURRENT_MODELS, *HISTORY_MODELS)}
    missing = sorted(expected - set(report.counts) - ADDED_LATER)
    if missing:
        raise BackupError(f"The backup lacks tables: {', '.join(missing)}.")
    if end.get("counts") != report.counts:
        raise BackupError(
            "The row counts at the end of the file do not match its rows."
        )


def _load_table(
    lines: Iterator[str],
    model: type[models.Model],
    columns: list[str],
    count: int,
    users: dict[str, int],
    report: RestoreReport,
) -> int:
    fields = [
        column_field(model, "history_user" if name == AUTHOR_COLUMN else name)
        for name in columns
    ]
    attnames = [model_field.attname for model_field in fields]
    batch: list[models.Model] = []
    for number in range(1, count + 1):
        row = _read_json(lines, f"a row of {_label(model)}")
        if not isinstance(row, list) or len(row) != len(columns):
            raise BackupError(f"A row of {_label(model)} does not have its columns.")
        values = {}
        for name, attname, model_field, value in zip(
            columns, attnames, fields, row, strict=True
        ):
            if name == AUTHOR_COLUMN:
                values[attname] = _author_id(value, users, report)
            elif value is None or model_field.is_relation:
                values[attname] = value
            else:
                try:
                    values[attname] = _storable(model_field, value)
                except ValidationError as error:
                    raise BackupError(
                        f"{_row_name(model, columns, row, number)}, field {name}: "
                        f"{' '.join(error.messages)} The file holds {value!r}."
                    ) from None
        batch.append(model(**values))
        if len(batch) >= BATCH_SIZE:
            _insert(model, batch, number)
            batch.clear()
    if batch:
        _insert(model, batch, count)
    return count


def _storable(model_field: models.Field[Any, Any], value: Any) -> Any:
    """The value as Python, if this database can store it; else ValidationError.

    A registry may come from another database: SQLite keeps any 64-bit integer and
    any length of text in any column, PostgreSQL refuses what its column type does not
    hold, with an error that names neither the row nor the field. Integer fields carry
    their bounds (the model's, and this database's range) as validators. Texts follow
    the services' rule: a control character would break the feed and the chart (and a
    NUL is refused by PostgreSQL outright).
    """
    python = model_field.to_python(value)
    problem = field_text_problem(model_field, python)
    if problem:
        raise ValidationError(problem)
    if isinstance(model_field, models.IntegerField):
        model_field.run_validators(python)
    elif isinstance(model_field, models.CharField) and model_field.max_length:
        MaxLengthValidator(model_field.max_length)(python)
    return python


def _row_name(
    model: type[models.Model], columns: list[str], row: list[Any], number: int
) -> str:
    """Which object a row is, in words: its table, position, id and slug."""
    named = dict(zip(columns, row, strict=True))
    pk_name = model._meta.pk.attname
    details = []
    if named.get(pk_name) is not None:
        details.append(f"{pk_name} {named[pk_name]}")
    if named.get("slug"):
        details.append(f"slug “{named['slug']}”")
    where = f"row {number} of {_label(model)}"
    return f"{where} ({', '.join(details)})" if details else where


def _insert(model: type[models.Model], batch: list[models.Model], last: int) -> None:
    """Insert a batch; a row the database still refuses is named by its rows' range."""
    try:
        model._default_manager.bulk_create(batch)
    except DatabaseError as error:
        first = last - len(batch) + 1
        raise BackupError(
            f"The database refused rows {first} to {last} of {_label(model)}: "
            f"{str(error).strip()}"
        ) from None


def _author_id(
    username: str | None, users: dict[str, int], report: RestoreReport
) -> int | None:
    """The id of the user of that name here, created inactive if missing."""
    if username is None:
        return None
    if username not in users:
        user_model = get_user_model()
        user = user_model._default_manager.filter(
            **{user_model.USERNAME_FIELD: username}
        ).first()
        if user is None:
            user = user_model(**{user_model.USERNAME_FIELD: username}, is_active=False)
            user.set_unusable_password()
            user.save()
            report.users_created.append(username)
        users[username] = user.pk
    return users[username]


def _reset_sequences() -> None:
    """Make the next id of every table follow the restored ids (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(REGISTRY_MODELS))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _advance_generation(exported_generation: int) -> None:
    """Move past every generation either database has used, into a new restore epoch,
    so no cache entry keyed by an earlier generation, and no answer stamped before
    the restore (``selectors.freshness``), can be served for the restored registry."""
    current = selectors.registry_generation()
    RegistryState.objects.update_or_create(
        pk=1,
        defaults={
            "generation": selectors.next_restore_epoch(
                max(current, exported_generation)
            ),
            "changed_at": timezone.now(),
        },
    )

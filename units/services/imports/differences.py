"""A table of units against the registry: the operations that make one the other.

The file is the whole structure as its author wants it. Each row is matched to a unit
by its slug, or, without one, by its name under its parent; a row matching no unit is
a unit to establish, and an active unit no row matches is one to abolish. A matched
unit is changed where the file's columns differ (only the columns the file has), moved
where its parent differs, abolished or reinstated where its status differs. Parents
are rows of the file, named by slug or by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models
from django.utils.text import slugify

from units import selectors
from units.characters import field_text_problem
from units.content_languages import translation_fields
from units.models import OperationKind, OrganizationalUnit, ReportingLine, UnitKind
from units.selectors import UnitNode
from units.services.imports.columns import (
    COMPARED_FIELDS,
    STATUSES,
    TRANSLATED_UNIT_COLUMNS,
)
from units.services.imports.problems import FileProblem, FileRefusal
from units.services.imports.reading import Row, Table
from units.services.reorganizations.payloads import check_payload
from units.services.units import RESERVED_UNIT_SLUGS

# The unit's text fields a file's cells become, checked as the model checks them.
UNIT_FIELDS: dict[str, models.Field[Any, Any]] = {
    field.name: field
    for field in OrganizationalUnit._meta.concrete_fields
    if field.name in {"slug", *COMPARED_FIELDS}
}
# The French and Spanish columns, which a new unit's row may fill too.
TRANSLATION_COLUMNS = translation_fields(TRANSLATED_UNIT_COLUMNS)


@dataclass(frozen=True, slots=True)
class Change:
    """One operation of the difference, with the row it comes from (None: a unit the
    file leaves out) and a sentence saying what it does."""

    row: int | None
    kind: str
    payload: dict[str, Any]
    summary: str


@dataclass(slots=True)
class _Entry:
    """A row on its way to an operation: what it matched and where it hangs."""

    row: Row
    slug: str = ""
    unit: UnitNode | None = None
    parent: _Entry | None = None
    depth: int = 0
    children: list[_Entry] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.row.get("status").strip().lower() != "abolished"


def difference(table: Table) -> list[Change]:
    """The operations that turn the registry into the file; ``FileRefusal`` listing
    every row's problem otherwise. Reads the registry now, in a fixed number of
    queries."""
    units = [
        node
        for root in selectors.unit_tree(include_abolished=True)
        for node in root.walk()
    ]
    return _Comparison(table, units).changes()


class _Comparison:
    def __init__(self, table: Table, units: list[UnitNode]) -> None:
        self.table = table
        self.units = units
        self.by_id = {unit.id: unit for unit in units}
        self.by_slug = {unit.slug: unit for unit in units}
        self.problems: list[FileProblem] = []
        self.entries = [_Entry(row) for row in table.rows]
        # Filled as the comparison goes: rows by their slug, rows by the unit matched.
        self.slugged: dict[str, _Entry] = {}
        self.matched: dict[int, _Entry] = {}

    def problem(self, entry: _Entry | None, column: str | None, message: str) -> None:
        if column is None:
            number = None if entry is None else entry.row.number
            self.problems.append(FileProblem(number, None, None, message))
        else:
            self.problems.append(
                self.table.problem(
                    None if entry is None else entry.row, column, message
                )
            )

    def refuse_if_any(self) -> None:
        if self.problems:
            raise FileRefusal(sorted(self.problems, key=_problem_order))

    def changes(self) -> list[Change]:
        for entry in self.entries:
            self.check_cells(entry)
        self.refuse_if_any()
        self.read_slugs()
        for entry in self.entries:
            self.resolve_parent(entry)
        self.check_loops()
        self.refuse_if_any()
        self.match()
        self.refuse_if_any()
        changes = self.operations()
        self.refuse_if_any()
        return changes

    # --- Cells, one row at a time --------------------------------------------------

    def check_cells(self, entry: _Entry) -> None:
        row = entry.row
        if not row.get("name").strip():
            self.problem(entry, "name", "a unit needs a name")
        kind = row.get("kind").strip()
        if kind not in UnitKind.values:
            self.problem(
                entry,
                "kind",
                f"“{kind}” is not a kind of unit: use one of "
                f"{', '.join(UnitKind.values)}"
                if kind
                else "a unit needs a kind",
            )
        line = row.get("reporting_line").strip()
        if line and line not in ReportingLine.values:
            self.problem(
                entry,
                "reporting_line",
                f"“{line}” is not a reporting line: use "
                f"{' or '.join(ReportingLine.values)}",
            )
        status = row.get("status").strip().lower()
        if status and status not in STATUSES:
            self.problem(
                entry, "status", f"“{status}” is not a status: use active or abolished"
            )
        slug = row.get("slug").strip()
        if slug:
            try:
                validate_slug(slug)
            except ValidationError:
                self.problem(
                    entry,
                    "slug",
                    f"“{slug}” is not a slug: letters, digits, hyphens and "
                    "underscores only",
                )
            if slug in RESERVED_UNIT_SLUGS:
                self.problem(entry, "slug", f"the slug “{slug}” is reserved")
        for name in ("slug", *COMPARED_FIELDS):
            if name not in self.table.columns:
                continue
            model_field = UNIT_FIELDS[name]
            value = _cell(row, name)
            text_problem = field_text_problem(model_field, value)
            if text_problem:
                self.problem(entry, name, text_problem)
            limit = getattr(model_field, "max_length", None)
            if limit and len(value) > limit:
                self.problem(
                    entry,
                    name,
                    f"{len(value)} characters; the {model_field.verbose_name} holds at "
                    f"most {limit}",
                )

    def read_slugs(self) -> None:
        seen: dict[str, _Entry] = {}
        for entry in self.entries:
            slug = entry.row.get("slug").strip()
            if not slug:
                continue
            if slug in seen:
                self.problem(
                    entry,
                    "slug",
                    f"the slug “{slug}” is also on row {seen[slug].row.number}",
                )
                continue
            seen[slug] = entry
            entry.slug = slug
        self.slugged = seen

    # --- Parents ---------------------------------------------------------------------

    def resolve_parent(self, entry: _Entry) -> None:
        """Find the row ``entry``'s parent names (by slug, else by name)."""
        named = entry.row.get("parent").strip()
        if not named:
            return
        parent = self.slugged.get(named)
        if parent is None:
            by_name = [
                other
                for other in self.entries
                if other.row.get("name").strip() == named
            ]
            if len(by_name) > 1:
                rows = ", ".join(str(other.row.number) for other in by_name)
                self.problem(
                    entry,
                    "parent",
                    f"the parent “{named}” is ambiguous: rows {rows} have that name; "
                    "name the parent by its slug",
                )
                return
            if not by_name:
                self.problem(
                    entry,
                    "parent",
                    f"unknown parent “{named}”: no row of the file has this slug or "
                    "name",
                )
                return
            parent = by_name[0]
        if parent is entry:
            self.problem(entry, "parent", "a unit cannot report to itself")
            return
        entry.parent = parent
        parent.children.append(entry)
        if entry.active and not parent.active:
            self.problem(
                entry,
                "parent",
                f"the parent “{named}” is abolished in the file; an active unit "
                "reports to an active one",
            )

    def check_loops(self) -> None:
        """Refuse parents that go round in a loop; give each row its depth."""
        for entry in self.entries:
            seen = {id(entry)}
            depth, parent = 0, entry.parent
            while parent is not None:
                if id(parent) in seen:
                    self.problem(
                        entry,
                        "parent",
                        "the parents go round in a loop back to this row's unit",
                    )
                    break
                seen.add(id(parent))
                depth, parent = depth + 1, parent.parent
            entry.depth = depth

    # --- Matching rows to units ------------------------------------------------------

    def match(self) -> None:
        """Top-down, so a row without a slug is matched under its parent's unit."""
        matched: dict[int, _Entry] = {}
        for entry in sorted(self.entries, key=lambda found: found.depth):
            unit = self.unit_for(entry)
            if unit is None:
                continue
            if unit.id in matched:
                self.problem(
                    entry,
                    "slug" if entry.slug else "name",
                    f"the unit “{unit.slug}” is also row {matched[unit.id].row.number}",
                )
                continue
            matched[unit.id] = entry
            entry.unit = unit
        self.matched = matched
        taken = set(self.by_slug) | set(self.slugged)
        for entry in self.entries:
            if entry.unit is None and not entry.slug:
                entry.slug = _free_slug(entry.row.get("name"), taken)
                taken.add(entry.slug)
            if entry.unit is None and not entry.active:
                self.problem(
                    entry,
                    "status",
                    "no unit of the registry matches this row, so there is none to "
                    "abolish",
                )

    def unit_for(self, entry: _Entry) -> UnitNode | None:
        if entry.slug:
            return self.by_slug.get(entry.slug)
        parent_id = self.parent_id(entry)
        if parent_id == "new":
            return None  # under a unit to establish: new too
        name = entry.row.get("name").strip()
        candidates = [
            unit
            for unit in self.units
            if unit.name == name and unit.parent_id == parent_id
        ]
        if len(candidates) > 1:
            slugs = ", ".join(unit.slug for unit in candidates)
            self.problem(
                entry,
                "name",
                f"the name matches several units under this parent ({slugs}); give "
                "the row its slug",
            )
            return None
        return candidates[0] if candidates else None

    # --- Operations --------------------------------------------------------------------

    def operations(self) -> list[Change]:
        reinstate: list[Change] = []
        establish: list[Change] = []
        change: list[Change] = []
        move: list[Change] = []
        abolish: list[tuple[int, Change]] = []
        for entry in sorted(self.entries, key=lambda found: found.depth):
            unit = entry.unit
            if unit is None:
                establish.append(self.establish(entry))
                continue
            if not entry.active:
                if unit.is_active:
                    abolish.append((unit.level, self.abolish(entry.row.number, unit)))
                continue
            if not unit.is_active:
                reinstate.append(
                    self.checked(
                        entry,
                        Change(
                            entry.row.number,
                            OperationKind.REINSTATE_UNIT,
                            {"unit": unit.slug},
                            f"Reinstate “{unit.name}”",
                        ),
                    )
                )
            fields = self.changed_fields(entry, unit)
            if fields:
                change.append(
                    self.checked(
                        entry,
                        Change(
                            entry.row.number,
                            OperationKind.CHANGE_UNIT,
                            {"unit": unit.slug, "fields": fields},
                            _change_summary(unit, fields),
                        ),
                    )
                )
            moved = self.move(entry, unit)
            if moved is not None:
                move.append(moved)
        for unit in self.units:
            if unit.is_active and unit.id not in self.matched:
                abolish.append((unit.level, self.abolish(None, unit)))
        # Sub-units first, so each unit has no active sub-unit left when abolished.
        abolish.sort(key=lambda item: -item[0])
        return [*reinstate, *establish, *change, *move, *(item for _, item in abolish)]

    def checked(self, entry: _Entry, change: Change) -> Change:
        """The shape every stored operation must have (``check_payload``)."""
        try:
            check_payload(change.kind, change.payload)
        except ValidationError as error:
            self.problem(entry, None, " ".join(error.messages))
        return change

    def parent_slug(self, entry: _Entry) -> str | None:
        parent = entry.parent
        if parent is None:
            return None
        return parent.unit.slug if parent.unit is not None else parent.slug

    def establish(self, entry: _Entry) -> Change:
        row = entry.row
        payload: dict[str, Any] = {
            "name": row.get("name").strip(),
            "kind": row.get("kind").strip(),
            "slug": entry.slug,
            "parent": self.parent_slug(entry),
        }
        for name in ("short_name", "location", "mandate"):
            if _cell(row, name):
                payload[name] = _cell(row, name)
        translations = {
            name: _cell(row, name)
            for name in TRANSLATION_COLUMNS
            if name in self.table.columns and _cell(row, name)
        }
        if translations:
            payload["translations"] = translations
        line = row.get("reporting_line").strip()
        if line:
            payload["reporting_line"] = line
        under = entry.parent.row.get("name").strip() if entry.parent else None
        where = f" under “{under}”" if under else " at the top"
        return self.checked(
            entry,
            Change(
                row.number,
                OperationKind.ESTABLISH_UNIT,
                payload,
                f"Establish “{payload['name']}” ({entry.slug}){where}",
            ),
        )

    def changed_fields(self, entry: _Entry, unit: UnitNode) -> dict[str, str]:
        fields: dict[str, str] = {}
        for name in COMPARED_FIELDS:
            if name not in self.table.columns:
                continue
            value = _cell(entry.row, name)
            if name in {"name", "kind"}:
                value = value.strip()
            if value != _normalized(getattr(unit, name)):
                fields[name] = value
        line = entry.row.get("reporting_line").strip()
        same_parent = self.parent_id(entry) == unit.parent_id
        if line and line != unit.reporting_line and same_parent:
            fields["reporting_line"] = line
        return fields

    def parent_id(self, entry: _Entry) -> int | None | str:
        """The parent's unit id; None at the top; "new" under a unit to establish."""
        parent = entry.parent
        if parent is None:
            return None
        return parent.unit.id if parent.unit is not None else "new"

    def move(self, entry: _Entry, unit: UnitNode) -> Change | None:
        if self.parent_id(entry) == unit.parent_id:
            return None
        payload: dict[str, Any] = {"unit": unit.slug, "parent": self.parent_slug(entry)}
        line = entry.row.get("reporting_line").strip()
        if line and line != unit.reporting_line:
            payload["reporting_line"] = line
        old = self.by_id.get(unit.parent_id) if unit.parent_id else None
        new = entry.parent.row.get("name").strip() if entry.parent else None
        return self.checked(
            entry,
            Change(
                entry.row.number,
                OperationKind.MOVE_UNIT,
                payload,
                f"Move “{unit.name}” from "
                f"{f'“{old.name}”' if old else 'the top'} to "
                f"{f'“{new}”' if new else 'the top'}",
            ),
        )

    def abolish(self, row: int | None, unit: UnitNode) -> Change:
        why = "" if row else " (not in the file)"
        return Change(
            row,
            OperationKind.ABOLISH_UNIT,
            {"unit": unit.slug},
            f"Abolish “{unit.name}”{why}",
        )


def _cell(row: Row, name: str) -> str:
    """A text cell as stored: line ends as "\\n"; blank cells are ""."""
    return row.get(name).replace("\r\n", "\n").replace("\r", "\n")


def _normalized(value: object) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n")


def _free_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:90] or "unit"
    slug, counter = base, 2
    while slug in taken or slug in RESERVED_UNIT_SLUGS:
        slug = f"{base}-{counter}"
        counter += 1
    return slug


def _change_summary(unit: UnitNode, fields: dict[str, str]) -> str:
    if set(fields) == {"name"}:
        return f"Rename “{unit.name}” to “{fields['name']}”"
    named = ", ".join(name.replace("_", " ") for name in fields)
    renamed = f" (renamed “{fields['name']}”)" if "name" in fields else ""
    return f"Change the {named} of “{unit.name}”{renamed}"


def _problem_order(problem: FileProblem) -> tuple[int, str]:
    return (problem.row or 0, problem.column or "")

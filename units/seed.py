"""Load an organization's structure from the project's JSON fixture format.

The file (see ``fixtures/iom_structure.json`` and ``docs/seed-notes.md``) lists units in
tree order, then posts, people, appointments and dotted-line relationships. Everything
is written through ``units.services``, so the load leaves the same history rows as a
person typing the structure in: one per object, with the reason ``SEED_REASON`` (public) and the
file's ``effective_on`` date as the time the structure took effect.

Loading is idempotent: an object that already exists (units, posts and people by slug,
appointments by person, post and start date, relationships by source, target and kind)
is skipped, never updated, so a second load writes nothing and edits made in the
registry since the first load are kept.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import models, transaction
from django.utils import timezone

from units import services
from units.characters import field_text_problem
from units.models import (
    Appointment,
    FillingMethod,
    OrganizationalUnit,
    Person,
    Post,
    ReasonVisibility,
    RelationshipKind,
    ReportingLine,
    UnitKind,
    UnitRelationship,
    column_field,
)

SEED_REASON = "Initial load from seed"

SECTIONS = ("units", "posts", "people", "appointments", "relationships")

# Field name -> (accepted types, required). Optional fields fall back to the model's
# default; unknown fields are refused so that a misspelt key is not silently ignored.
NULLABLE_TEXT = (str, type(None))
UNIT_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "slug": ((str,), True),
    "name": ((str,), True),
    "kind": ((str,), True),
    "parent": (NULLABLE_TEXT, True),
    "reporting_line": ((str,), True),
    "short_name": ((str,), False),
    "location": ((str,), False),
    "mandate": ((str,), False),
    "has_learn_more": ((bool,), False),
    "learn_more_url": ((str,), False),
    "provenance": ((str,), False),
}
POST_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "slug": ((str,), True),
    "title": ((str,), True),
    "unit": ((str,), True),
    "is_head": ((bool,), True),
    "filling_method": ((str,), True),
    "term_years": ((int, type(None)), False),
    "term_note": ((str,), False),
}
PERSON_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "slug": ((str,), True),
    "full_name": ((str,), True),
}
APPOINTMENT_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "person": ((str,), True),
    "post": ((str,), True),
    "started_on": ((str,), False),
    "note": ((str,), False),
}
RELATIONSHIP_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "source": ((str,), True),
    "target": ((str,), True),
    "kind": ((str,), True),
    "description": ((str,), False),
}


@dataclass
class LoadReport:
    """How many objects of each section a load created and how many it skipped."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        lines = [
            f"{section}: {self.created[section]} created, "
            f"{self.skipped[section]} already present (skipped)"
            for section in SECTIONS
        ]
        lines.append(
            f"total: {self.total_created} created, {self.total_skipped} skipped"
        )
        return "\n".join(lines)


# --- Reading and validating -------------------------------------------------------------


def read_structure(path: str | Path) -> dict[str, Any]:
    """Read and parse the file; refuse it with a message naming the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValidationError(
            f"Cannot read the structure file {path}: {error.strerror or error}."
        ) from error
    except UnicodeDecodeError as error:
        raise ValidationError(
            f"The structure file {path} is not UTF-8 text: {error}."
        ) from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"The structure file {path} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})."
        ) from error
    if not isinstance(document, dict):
        raise ValidationError(
            f"The structure file {path} must hold a JSON object at the top level."
        )
    return document


def _parse_date(value: Any) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _label(section: str, index: int, item: Any, key: str) -> str:
    name = item.get(key) if isinstance(item, dict) else None
    return f"{section}[{index}]" + (f" “{name}”" if isinstance(name, str) else "")


def _check_fields(
    item: Any,
    label: str,
    spec: dict[str, tuple[tuple[type, ...], bool]],
    model: type[models.Model],
    errors: list[str],
) -> bool:
    """Check presence, types and lengths of an item's fields; False if unusable."""
    if not isinstance(item, dict):
        errors.append(f"{label}: must be a JSON object.")
        return False
    usable = True
    unknown = sorted(set(item) - set(spec))
    if unknown:
        errors.append(f"{label}: unknown field(s) {', '.join(unknown)}.")
    for name, (types, required) in spec.items():
        if name not in item:
            if required:
                errors.append(f"{label}: the field “{name}” is missing.")
                usable = False
            continue
        value = item[name]
        # bool is a subclass of int: a term of ``true`` years is not a number.
        if not isinstance(value, types) or (
            isinstance(value, bool) and bool not in types
        ):
            expected = " or ".join(
                "null" if kind is type(None) else kind.__name__ for kind in types
            )
            errors.append(f"{label}: “{name}” must be {expected}.")
            usable = False
            continue
        if isinstance(value, str):
            if required and not value.strip():
                errors.append(f"{label}: “{name}” must not be empty.")
                usable = False
            model_field: models.Field | None
            try:
                model_field = column_field(model, name)
            except FieldDoesNotExist:  # a field of the file format only
                model_field = None
            max_length = getattr(model_field, "max_length", None)
            if max_length and len(value.strip()) > max_length:
                errors.append(
                    f"{label}: “{name}” is longer than {max_length} characters."
                )
            # The services' rule, checked here so that every such text is listed.
            problem = field_text_problem(model_field, value) if model_field else None
            if problem:
                errors.append(f"{label}: “{name}”: {problem}")
    return usable


def _check_choice(
    value: str, choices: type[models.TextChoices], label: str, name: str, errors: list
) -> None:
    if value not in choices.values:
        errors.append(
            f"{label}: unknown {name} “{value}” "
            f"(expected one of: {', '.join(choices.values)})."
        )


def _check_slug(value: str, label: str, seen: set[str], errors: list[str]) -> None:
    try:
        validate_slug(value)
    except ValidationError:
        errors.append(f"{label}: “{value}” is not a valid slug.")
    if value in seen:
        errors.append(f"{label}: the slug “{value}” appears twice in the file.")
    seen.add(value)


def _known(
    slug: str, in_file: set[str], model: type[models.Model], cache: dict[str, bool]
) -> bool:
    """Whether ``slug`` names an object of the file or of the registry."""
    if slug in in_file:
        return True
    if slug not in cache:
        cache[slug] = model._default_manager.filter(slug=slug).exists()
    return cache[slug]


def validate_structure(document: dict[str, Any]) -> datetime.date:
    """Check the whole document before anything is written; return its effective date.

    Raises one ``ValidationError`` listing every problem, each naming its item.
    """
    errors: list[str] = []
    unknown = sorted(set(document) - {"source", "effective_on", *SECTIONS})
    if unknown:
        errors.append(f"Unknown top-level field(s): {', '.join(unknown)}.")
    if not isinstance(document.get("source"), str) or not document["source"].strip():
        errors.append(
            "The top-level field “source” (where the data comes from) is missing."
        )
    effective_on = _parse_date(document.get("effective_on"))
    if effective_on is None:
        errors.append(
            "The top-level field “effective_on” must be a date written YYYY-MM-DD."
        )
    elif effective_on > timezone.now().date():
        errors.append(f"“effective_on” ({effective_on}) lies in the future.")
    if not isinstance(document.get("units"), list):
        errors.append("The top-level field “units” must be a list.")
    for section in SECTIONS[1:]:
        if not isinstance(document.get(section, []), list):
            errors.append(f"The top-level field “{section}” must be a list.")
    if errors:
        raise ValidationError(errors)

    existing: dict[str, bool] = {}
    unit_slugs: set[str] = set()
    all_unit_slugs = {
        item["slug"]
        for item in document["units"]
        if isinstance(item, dict) and isinstance(item.get("slug"), str)
    }
    for index, item in enumerate(document["units"]):
        label = _label("units", index, item, "slug")
        if not _check_fields(item, label, UNIT_FIELDS, OrganizationalUnit, errors):
            continue
        _check_slug(item["slug"], label, unit_slugs, errors)
        _check_choice(item["kind"], UnitKind, label, "kind", errors)
        _check_choice(
            item["reporting_line"], ReportingLine, label, "reporting line", errors
        )
        parent = item["parent"]
        if parent is not None and parent not in unit_slugs:
            if parent in all_unit_slugs:
                errors.append(
                    f"{label}: its parent “{parent}” comes later in the file; "
                    "list parents before their children."
                )
            elif not _known(parent, set(), OrganizationalUnit, existing):
                errors.append(f"{label}: unknown parent “{parent}”.")
        url = item.get("learn_more_url", "")
        if url:
            try:
                URLValidator()(url)
            except ValidationError:
                errors.append(f"{label}: “{url}” is not a valid learn more link.")

    post_slugs: set[str] = set()
    units_with_head: dict[str, str] = {}
    for index, item in enumerate(document.get("posts", [])):
        label = _label("posts", index, item, "slug")
        if not _check_fields(item, label, POST_FIELDS, Post, errors):
            continue
        _check_slug(item["slug"], label, post_slugs, errors)
        _check_choice(
            item["filling_method"], FillingMethod, label, "filling method", errors
        )
        if not _known(item["unit"], unit_slugs, OrganizationalUnit, existing):
            errors.append(f"{label}: unknown unit “{item['unit']}”.")
        if item["is_head"]:
            if item["unit"] in units_with_head:
                errors.append(
                    f"{label}: “{item['unit']}” is already headed by "
                    f"“{units_with_head[item['unit']]}”; a unit has one head."
                )
            units_with_head[item["unit"]] = item["slug"]
        term_years = item.get("term_years")
        if term_years is not None and term_years < 1:
            errors.append(f"{label}: “term_years” must be a positive number.")

    person_slugs: set[str] = set()
    for index, item in enumerate(document.get("people", [])):
        label = _label("people", index, item, "slug")
        if _check_fields(item, label, PERSON_FIELDS, Person, errors):
            _check_slug(item["slug"], label, person_slugs, errors)

    post_cache: dict[str, bool] = {}
    person_cache: dict[str, bool] = {}
    for index, item in enumerate(document.get("appointments", [])):
        label = _label("appointments", index, item, "post")
        if not _check_fields(item, label, APPOINTMENT_FIELDS, Appointment, errors):
            continue
        if not _known(item["person"], person_slugs, Person, person_cache):
            errors.append(f"{label}: unknown person “{item['person']}”.")
        if not _known(item["post"], post_slugs, Post, post_cache):
            errors.append(f"{label}: unknown post “{item['post']}”.")
        if "started_on" in item:
            started_on = _parse_date(item["started_on"])
            if started_on is None:
                errors.append(
                    f"{label}: “started_on” must be a date written YYYY-MM-DD."
                )
            elif started_on > timezone.now().date():
                errors.append(
                    f"{label}: “started_on” ({started_on}) lies in the future."
                )

    for index, item in enumerate(document.get("relationships", [])):
        label = _label("relationships", index, item, "source")
        if not _check_fields(
            item, label, RELATIONSHIP_FIELDS, UnitRelationship, errors
        ):
            continue
        _check_choice(
            item["kind"], RelationshipKind, label, "relationship kind", errors
        )
        for end in ("source", "target"):
            if not _known(item[end], unit_slugs, OrganizationalUnit, existing):
                errors.append(f"{label}: unknown {end} unit “{item[end]}”.")
        if item["source"] == item["target"]:
            errors.append(f"{label}: a relationship links two different units.")

    if errors or effective_on is None:
        raise ValidationError(errors)
    return effective_on


# --- Writing ----------------------------------------------------------------------------


def load_structure(path: str | Path, *, user: services.Actor = None) -> LoadReport:
    """Load the structure file at ``path`` through the services, in one transaction.

    Raises ``ValidationError`` (nothing written) if the file cannot be read, is
    malformed, or a service refuses one of its objects.
    """
    document = read_structure(path)
    effective_on = validate_structure(document)
    moment = services.effective_datetime(effective_on)
    report = LoadReport()
    with transaction.atomic():
        units = _load_units(document["units"], user, moment, report)
        posts = _load_posts(document.get("posts", []), units, user, moment, report)
        people = _load_people(document.get("people", []), user, moment, report)
        _load_appointments(
            document.get("appointments", []),
            posts,
            people,
            effective_on,
            user,
            moment,
            report,
        )
        _load_relationships(
            document.get("relationships", []), units, user, moment, report
        )
    return report


# The models a seed file names by slug.
SluggedT = TypeVar("SluggedT", OrganizationalUnit, Post, Person)


def _existing_by_slug(
    model: type[SluggedT], items: list[dict[str, Any]], extra: Iterable[str] = ()
) -> dict[str, SluggedT]:
    slugs = {item["slug"] for item in items} | set(extra)
    return {obj.slug: obj for obj in model._default_manager.filter(slug__in=slugs)}


def _load_units(
    items: list[dict[str, Any]],
    user: services.Actor,
    moment: datetime.datetime,
    report: LoadReport,
) -> dict[str, OrganizationalUnit]:
    parents = {item["parent"] for item in items if item["parent"]}
    units = _existing_by_slug(OrganizationalUnit, items, parents)
    for item in items:
        if item["slug"] in units:
            report.skipped["units"] += 1
            continue
        units[item["slug"]] = services.unit_create(
            user=user,
            reason=SEED_REASON,
            reason_visibility=ReasonVisibility.PUBLIC,
            effective_at=moment,
            slug=item["slug"],
            name=item["name"],
            short_name=item.get("short_name", ""),
            kind=item["kind"],
            parent=units[item["parent"]] if item["parent"] else None,
            reporting_line=item["reporting_line"],
            location=item.get("location", ""),
            mandate=item.get("mandate", ""),
            learn_more_url=item.get("learn_more_url", ""),
            provenance=item.get("provenance", ""),
            # The seed gives no founding dates: its date is when the registry's
            # record begins, not when a unit was founded.
            founding_date_known=False,
        )
        report.created["units"] += 1
    return units


def _load_posts(
    items: list[dict[str, Any]],
    units: dict[str, OrganizationalUnit],
    user: services.Actor,
    moment: datetime.datetime,
    report: LoadReport,
) -> dict[str, Post]:
    units.update(
        _existing_by_slug(
            OrganizationalUnit, [], {item["unit"] for item in items} - set(units)
        )
    )
    posts = _existing_by_slug(Post, items)
    for item in items:
        if item["slug"] in posts:
            report.skipped["posts"] += 1
            continue
        posts[item["slug"]] = services.post_create(
            user=user,
            reason=SEED_REASON,
            reason_visibility=ReasonVisibility.PUBLIC,
            effective_at=moment,
            slug=item["slug"],
            title=item["title"],
            unit=units[item["unit"]],
            is_head=item["is_head"],
            filling_method=item["filling_method"],
            term_years=item.get("term_years"),
            term_note=item.get("term_note", ""),
            founding_date_known=False,
        )
        report.created["posts"] += 1
    return posts


def _load_people(
    items: list[dict[str, Any]],
    user: services.Actor,
    moment: datetime.datetime,
    report: LoadReport,
) -> dict[str, Person]:
    people = _existing_by_slug(Person, items)
    for item in items:
        if item["slug"] in people:
            report.skipped["people"] += 1
            continue
        people[item["slug"]] = services.person_create(
            user=user,
            reason=SEED_REASON,
            reason_visibility=ReasonVisibility.PUBLIC,
            effective_at=moment,
            slug=item["slug"],
            full_name=item["full_name"],
        )
        report.created["people"] += 1
    return people


def _load_appointments(
    items: list[dict[str, Any]],
    posts: dict[str, Post],
    people: dict[str, Person],
    effective_on: datetime.date,
    user: services.Actor,
    moment: datetime.datetime,
    report: LoadReport,
) -> None:
    posts.update(
        _existing_by_slug(Post, [], {item["post"] for item in items} - set(posts))
    )
    people.update(
        _existing_by_slug(Person, [], {item["person"] for item in items} - set(people))
    )
    for item in items:
        person, post = people[item["person"]], posts[item["post"]]
        started_on = _parse_date(item.get("started_on")) or effective_on
        if Appointment.objects.filter(
            person=person, post=post, started_on=started_on
        ).exists():
            report.skipped["appointments"] += 1
            continue
        services.appointment_start(
            user=user,
            reason=SEED_REASON,
            reason_visibility=ReasonVisibility.PUBLIC,
            # An appointment starting after the structure's date takes effect then.
            effective_at=max(moment, services.effective_datetime(started_on)),
            person=person,
            post=post,
            started_on=started_on,
            note=item.get("note", ""),
        )
        report.created["appointments"] += 1


def _load_relationships(
    items: list[dict[str, Any]],
    units: dict[str, OrganizationalUnit],
    user: services.Actor,
    moment: datetime.datetime,
    report: LoadReport,
) -> None:
    wanted = {item[end] for item in items for end in ("source", "target")}
    units.update(_existing_by_slug(OrganizationalUnit, [], wanted - set(units)))
    for item in items:
        source, target = units[item["source"]], units[item["target"]]
        # Ended ones count too: reloading must not revive a link someone ended.
        if UnitRelationship.objects.filter(
            source=source, target=target, kind=item["kind"]
        ).exists():
            report.skipped["relationships"] += 1
            continue
        services.relationship_create(
            user=user,
            reason=SEED_REASON,
            reason_visibility=ReasonVisibility.PUBLIC,
            effective_at=moment,
            source=source,
            target=target,
            kind=item["kind"],
            description=item.get("description", ""),
        )
        report.created["relationships"] += 1

"""The shape of each operation kind's payload, checked before it is stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from units.characters import field_text_problem, text_problem
from units.models import (
    SMALL_INTEGER_MAX,
    Appointment,
    ClosureReason,
    FillingMethod,
    OperationKind,
    OrganizationalUnit,
    Post,
    RelationshipKind,
    UnitRelationship,
)
from units.services.placements import MOVE_POSITIONS
from units.services.posts import POST_UPDATABLE_FIELDS
from units.services.refusals import Refusal
from units.services.units import UNIT_UPDATABLE_FIELDS


@dataclass(frozen=True)
class PayloadShape:
    """The keys an operation's payload holds: each required or optional, with a type."""

    required: Mapping[str, type | tuple[type, ...]]
    optional: Mapping[str, type | tuple[type, ...]]


SLUG_OR_NONE = (str, type(None))
PAYLOAD_SHAPES: dict[str, PayloadShape] = {
    OperationKind.ESTABLISH_UNIT: PayloadShape(
        required={"name": str, "kind": str, "slug": str},
        optional={
            "parent": SLUG_OR_NONE,
            "short_name": str,
            "mandate": str,
            "location": str,
            "learn_more_url": str,
            "provenance": str,
            "reporting_line": str,
            # French and Spanish texts by field (``{"name_fr": ...}``).
            "translations": dict,
        },
    ),
    OperationKind.CHANGE_UNIT: PayloadShape(
        required={"unit": str, "fields": dict}, optional={}
    ),
    OperationKind.MOVE_UNIT: PayloadShape(
        required={"unit": str},
        optional={
            "parent": SLUG_OR_NONE,
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
    # Posts: named by slug; "unit" (create, or fields.unit to move it) is a unit's slug.
    OperationKind.CREATE_POST: PayloadShape(
        required={"unit": str, "title": str},
        optional={
            "slug": str,
            "is_head": bool,
            "filling_method": str,
            "term_years": (int, type(None)),
            "term_note": str,
        },
    ),
    OperationKind.CHANGE_POST: PayloadShape(
        required={"post": str, "fields": dict}, optional={}
    ),
    OperationKind.ABOLISH_POST: PayloadShape(required={"post": str}, optional={}),
    OperationKind.REINSTATE_POST: PayloadShape(required={"post": str}, optional={}),
}


def invalid(message: str) -> ValidationError:
    return ValidationError(message, code=Refusal.INVALID)


def check_payload(kind: str, payload: Any) -> dict[str, Any]:
    """Refuse an operation whose payload lacks a key, has a stranger or a wrong type.

    Only the shape: whether it applies to the registry is what validation finds out.
    """
    if kind not in PAYLOAD_SHAPES:
        raise invalid(
            f"Unknown operation kind “{kind}”: use one of {', '.join(PAYLOAD_SHAPES)}."
        )
    if not isinstance(payload, dict):
        raise invalid("An operation's payload is an object of named values.")
    shape = PAYLOAD_SHAPES[kind]
    missing = sorted(set(shape.required) - set(payload))
    if missing:
        raise invalid(f"A “{kind}” operation needs {', '.join(missing)}.")
    allowed = {**shape.required, **shape.optional}
    strangers = sorted(set(payload) - set(allowed))
    if strangers:
        raise invalid(
            f"A “{kind}” operation does not take {', '.join(strangers)}; it takes "
            f"{', '.join(allowed)}."
        )
    for key, value in payload.items():
        if not isinstance(value, allowed[key]) or (
            isinstance(value, bool) and bool not in _types(allowed[key])
        ):
            raise invalid(f"“{key}” of a “{kind}” operation has the wrong type.")
    _check_payload_texts(kind, payload)
    if kind in POST_KINDS:
        _check_post_payload(kind, payload)
    if kind == OperationKind.CHANGE_UNIT:
        unknown = sorted(set(payload["fields"]) - UNIT_UPDATABLE_FIELDS)
        if unknown or not payload["fields"]:
            raise invalid(
                "“fields” names the fields to change, among "
                f"{', '.join(sorted(UNIT_UPDATABLE_FIELDS))}."
            )
    if kind == OperationKind.MOVE_UNIT:
        placed = "position" in payload or "target" in payload
        if placed == ("parent" in payload):
            raise invalid(
                "A move names either the new “parent”, or a “position” and a “target”."
            )
        if placed and (
            payload.get("position") not in MOVE_POSITIONS or "target" not in payload
        ):
            raise invalid(
                f"“position” is one of {', '.join(MOVE_POSITIONS)}, with a “target”."
            )
    if kind == OperationKind.ABOLISH_UNIT:
        for child, destination in payload.get("sub_units", {}).items():
            if not isinstance(child, str) or not isinstance(destination, SLUG_OR_NONE):
                raise invalid(
                    "“sub_units” maps each sub-unit's slug to the slug of the unit it "
                    "moves to, or to null to abolish it too."
                )
    if kind in {OperationKind.ADD_DOTTED_LINE, OperationKind.END_DOTTED_LINE}:
        if payload["kind"] not in RelationshipKind.values:
            raise invalid(f"“kind” is one of {', '.join(RelationshipKind.values)}.")
    if kind in LINEAGE_PAYLOAD_SHAPES:
        _check_lineage_payload(kind, payload)
    return payload


def _types(allowed: type | tuple[type, ...]) -> tuple[type, ...]:
    return allowed if isinstance(allowed, tuple) else (allowed,)


POST_KINDS = frozenset(
    {
        OperationKind.CREATE_POST,
        OperationKind.CHANGE_POST,
        OperationKind.ABOLISH_POST,
        OperationKind.REINSTATE_POST,
    }
)
# The type of each field a change_post operation may set ("unit": a unit's slug).
POST_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "title": str,
    "unit": str,
    "is_head": bool,
    "filling_method": str,
    "term_years": (int, type(None)),
    "term_note": str,
}


def _check_post_payload(kind: str, payload: dict[str, Any]) -> None:
    """A post's fields: known names, their types, a filling method among the choices."""
    fields = (
        payload.get("fields", payload) if kind == OperationKind.CHANGE_POST else payload
    )
    if kind == OperationKind.CHANGE_POST:
        unknown = sorted(set(fields) - POST_UPDATABLE_FIELDS)
        if unknown or not fields:
            raise invalid(
                "“fields” names the fields to change, among "
                f"{', '.join(sorted(POST_UPDATABLE_FIELDS))}."
            )
        for name, value in fields.items():
            expected = _types(POST_FIELD_TYPES[name])
            if not isinstance(value, expected) or (
                isinstance(value, bool) and bool not in expected
            ):
                raise invalid(
                    f"“fields.{name}” of a “{kind}” operation has the wrong type."
                )
    method = fields.get("filling_method")
    if method is not None and method not in FillingMethod.values:
        raise invalid(f"“filling_method” is one of {', '.join(FillingMethod.values)}.")
    term = fields.get("term_years")
    if term is not None and not 0 < term <= SMALL_INTEGER_MAX:
        raise invalid(f"“term_years” is a number of years, 1 to {SMALL_INTEGER_MAX}.")


# The model whose fields an operation's texts become (the rest are slugs and choices):
# a text is checked as that field will check it, so line breaks only where it may hold
# them (a mandate, a description).
_PAYLOAD_MODELS: dict[str, type[models.Model]] = {
    OperationKind.ESTABLISH_UNIT: OrganizationalUnit,
    OperationKind.CHANGE_UNIT: OrganizationalUnit,
    OperationKind.APPOINT: Appointment,
    OperationKind.ADD_DOTTED_LINE: UnitRelationship,
    OperationKind.CREATE_POST: Post,
    OperationKind.CHANGE_POST: Post,
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
        elif isinstance(value, list):
            # The lineage kinds' lists of slugs ("units", "into"); their "establish"
            # specifications are checked as establish_unit payloads of their own.
            for number, item in enumerate(value):
                if isinstance(item, str):
                    texts.append((f"{key}[{number}]", "slug", item))
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


# --- Lineage: merge, split, replace, absorb ------------------------------------------
# Each closes units (abolished, their sub-units placed) and names what took over their
# work (``units.services.lineage``). "units"/"unit" are the predecessors, "into"/"by"
# the successors; "establish" lists successors to establish first (establish_unit
# payloads), "sub_units" where a predecessor's sub-units go (default: the successor).

LINEAGE_PAYLOAD_SHAPES: dict[str, PayloadShape] = {
    OperationKind.MERGE_UNITS: PayloadShape(
        required={"units": list, "into": str},
        optional={"establish": list, "sub_units": dict},
    ),
    OperationKind.SPLIT_UNIT: PayloadShape(
        required={"unit": str, "into": list},
        optional={"establish": list, "sub_units": dict},
    ),
    OperationKind.REPLACE_UNIT: PayloadShape(
        required={"unit": str, "by": str},
        optional={"establish": list, "sub_units": dict, "closure_reason": str},
    ),
    OperationKind.ABSORB_UNIT: PayloadShape(
        required={"unit": str, "into": str}, optional={"sub_units": dict}
    ),
}
PAYLOAD_SHAPES.update(LINEAGE_PAYLOAD_SHAPES)
# The closure reasons a replacement may record (a new name is a replacement too).
REPLACEMENT_REASONS = (ClosureReason.REPLACED, ClosureReason.CHANGED_NAME)


def lineage_slugs(kind: str, payload: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The predecessors' and successors' slugs a lineage operation names."""
    before = (
        payload["units"] if kind == OperationKind.MERGE_UNITS else [payload["unit"]]
    )
    after = payload.get("into", payload.get("by"))
    return list(before), list(after) if isinstance(after, list) else [after]


def _check_lineage_payload(kind: str, payload: dict[str, Any]) -> None:
    before, after = lineage_slugs(kind, payload)
    if not all(isinstance(slug, str) for slug in (*before, *after)):
        raise invalid("“units” and “into” list the slugs of units.")
    if kind == OperationKind.MERGE_UNITS and not before:
        raise invalid("A merge names the “units” it merges.")
    if kind == OperationKind.SPLIT_UNIT and len(after) < 2:
        raise invalid("A split names at least two units in “into”.")
    if len(set(before)) < len(before) or len(set(after)) < len(after):
        raise invalid("A unit is named twice in the same operation.")
    itself = sorted(set(before) & set(after))
    if itself:
        raise ValidationError(
            f"“{itself[0]}” cannot succeed itself.", code=Refusal.SELF_SUCCESSION
        )
    if "closure_reason" in payload and payload["closure_reason"] not in (
        REPLACEMENT_REASONS
    ):
        raise invalid(
            f"“closure_reason” of a replacement is one of {', '.join(REPLACEMENT_REASONS)}."
        )
    established: list[str] = []
    for number, spec in enumerate(payload.get("establish", [])):
        try:
            check_payload(OperationKind.ESTABLISH_UNIT, spec)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                # Its texts: still ``invalid_text`` under ``payload``, the key named
                # within the list ("establish[0].name").
                raise ValidationError(
                    {
                        "payload": [
                            ValidationError(
                                f"“establish[{number}].{message.lstrip('“')}",
                                code=item.code,
                            )
                            for item in error.error_dict["payload"]
                            for message in item.messages
                        ]
                    }
                ) from error
            raise invalid(
                f"“establish[{number}]”: {' '.join(error.messages)}"
            ) from error
        established.append(spec["slug"])
    strangers = sorted(set(established) - set(after))
    if strangers:
        raise invalid(
            f"“{strangers[0]}” is established here but is not one of the successors."
        )
    if len(set(established)) < len(established):
        raise invalid("A unit is established twice in the same operation.")
    if kind == OperationKind.MERGE_UNITS and established and len(before) < 2:
        raise invalid(
            "A merge into a new unit merges at least two units; one unit taken over "
            "by a new one is a replacement (“replace_unit”)."
        )
    for child, destination in payload.get("sub_units", {}).items():
        if not isinstance(child, str) or not isinstance(destination, SLUG_OR_NONE):
            raise invalid(
                "“sub_units” maps each sub-unit's slug to the slug of the unit it "
                "moves to, or to null to abolish it too."
            )

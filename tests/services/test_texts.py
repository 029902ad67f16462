"""Texts the services store: no control characters, line breaks only where a field is
multi-line, and no reason that is blank once invisible characters are removed.

A control character in a name once made the Atom feed and every chart answer 500 for
everyone (issue 12, item 1); the refusal names the field and changes nothing.
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db.models import CharField, Field, Model, TextField

from tests.conftest import ScriptedHistory
from tests.factories import PostFactory, RelationshipFactory
from units import selectors, services
from units.characters import forbidden_character, is_blank, xml_safe
from units.content_languages import (
    POST_TRANSLATED,
    RELATIONSHIP_TRANSLATED,
    UNIT_TRANSLATED,
    translation_fields,
)
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    UnitKind,
    UnitRelationship,
)

pytestmark = pytest.mark.django_db

# The characters the issue found breaking the feed and chart, and some of their kin.
CONTROL_CHARACTERS = ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85"]
MODELS = (OrganizationalUnit, Post, Person, Appointment, UnitRelationship)


def snapshot() -> tuple[Any, ...]:
    """Every row and revision of the registry, and its generation."""
    return (
        *(list(model.objects.order_by("pk").values()) for model in MODELS),
        *(model.history.count() for model in MODELS),
        selectors.registry_generation(),
    )


def refused_text(call: Callable[[], object]) -> dict[str, list[str]]:
    """The field errors of a write refused for its text (code ``invalid_text``)."""
    before = snapshot()
    with pytest.raises(ValidationError) as refusal:
        call()
    assert services.refusal_code(refusal.value) == services.Refusal.INVALID_TEXT
    assert services.refusal_status(refusal.value) == 400
    assert snapshot() == before
    return refusal.value.message_dict


# --- The rule -----------------------------------------------------------------------


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_control_characters_are_forbidden_in_every_kind_of_field(
    character: str,
) -> None:
    for multi_line in (True, False):
        assert forbidden_character(f"a{character}b", multi_line=multi_line) == (
            character
        )


def test_tabs_are_allowed_everywhere_and_line_breaks_only_in_multi_line_texts() -> None:
    for text in ("a\tb", "Ünïcödé — “quoted” 東京", "a\u200bb"):
        assert forbidden_character(text, multi_line=False) is None
    for line_break in ("\n", "\r\n", "\r"):
        text = f"first{line_break}second"
        assert forbidden_character(text, multi_line=True) is None
        assert forbidden_character(text, multi_line=False) == line_break[0]


def test_lone_surrogates_and_xml_noncharacters_are_forbidden() -> None:
    for character in ("\ud800", "\udfff", "\ufffe", "\uffff"):
        assert forbidden_character(f"a{character}", multi_line=True) == character


def test_xml_safe_replaces_what_xml_cannot_carry_and_keeps_the_rest() -> None:
    assert xml_safe("A\x0bB\x00C\ttab\nline\r\n") == "A\ufffdB\ufffdC\ttab\nline\r\n"
    assert xml_safe("Ünïcödé “quoted”") == "Ünïcödé “quoted”"


@pytest.mark.parametrize(
    "reason", ["", "   ", "\u200b", "\ufeff", "\u200b \u200c\u200d\u2060\ufeff\n\t"]
)
def test_blank_reasons_include_ones_made_of_format_characters(reason: str) -> None:
    assert is_blank(reason)


def test_a_reason_with_text_is_not_blank() -> None:
    assert not is_blank("\u200bReorganization\u200b")


# --- Every text field of every write --------------------------------------------------

Write = Callable[[User, ScriptedHistory, dict[str, Any]], object]


def _unit_create(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.unit_create(
        user=editor,
        reason="New",
        **{"name": "New unit", "kind": UnitKind.UNIT, "parent": history.root, **fields},
    )


def _unit_update(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.unit_update(
        unit=history.unit_y, user=editor, reason="Edit", **fields
    )


def _post_create(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.post_create(
        user=editor,
        reason="New",
        **{"title": "Adviser", "unit": history.department_b, **fields},
    )


def _post_update(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.post_update(
        post=history.head_of_x, user=editor, reason="Edit", **fields
    )


def _person_create(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.person_create(
        user=editor, reason="New", **{"full_name": "Cleo", **fields}
    )


def _person_update(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.person_update(
        person=history.ana, user=editor, reason="Edit", **fields
    )


def _appointment_start(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.appointment_start(
        person=history.ana,
        post=Post.objects.get(slug="vacant"),
        started_on=datetime.date.today(),
        user=editor,
        reason="Appointed",
        **fields,
    )


def _relationship_create(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.relationship_create(
        source=history.department_b,
        target=history.root,
        kind="advises",
        user=editor,
        reason="Linked",
        **fields,
    )


def _unit_create_translated(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.unit_create(
        user=editor,
        reason="New",
        name="New unit",
        kind=UnitKind.UNIT,
        parent=history.root,
        translations=fields,
    )


def _post_create_translated(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.post_create(
        user=editor,
        reason="New",
        title="Adviser",
        unit=history.department_b,
        translations=fields,
    )


def _relationship_create_translated(
    editor: User, history: ScriptedHistory, fields: dict[str, Any]
) -> object:
    return services.relationship_create(
        source=history.department_b,
        target=history.root,
        kind="advises",
        user=editor,
        reason="Linked",
        # A translation needs its English text (``check_source_texts``).
        description="Advises on the budget",
        translations=fields,
    )


# The French and Spanish texts (issue 17): given to a create as ``translations``, to
# an update as fields.
TRANSLATION_TEXT_FIELDS: list[tuple[Write, type[Model], str]] = [
    (write, model, field)
    for creating, updating, model, names in (
        (
            _unit_create_translated,
            _unit_update,
            OrganizationalUnit,
            translation_fields(UNIT_TRANSLATED),
        ),
        (
            _post_create_translated,
            _post_update,
            Post,
            translation_fields(POST_TRANSLATED),
        ),
        (
            _relationship_create_translated,
            None,
            UnitRelationship,
            translation_fields(RELATIONSHIP_TRANSLATED),
        ),
    )
    for field in names
    for write in (creating, updating)
    if write is not None
]

# (write, model, field): every text a service takes.
TEXT_FIELDS: list[tuple[Write, type[Model], str]] = [
    (_unit_create, OrganizationalUnit, "name"),
    (_unit_create, OrganizationalUnit, "short_name"),
    (_unit_create, OrganizationalUnit, "slug"),
    (_unit_create, OrganizationalUnit, "mandate"),
    (_unit_create, OrganizationalUnit, "location"),
    (_unit_create, OrganizationalUnit, "learn_more_url"),
    (_unit_create, OrganizationalUnit, "provenance"),
    (_unit_update, OrganizationalUnit, "name"),
    (_unit_update, OrganizationalUnit, "short_name"),
    (_unit_update, OrganizationalUnit, "mandate"),
    (_unit_update, OrganizationalUnit, "location"),
    (_unit_update, OrganizationalUnit, "learn_more_url"),
    (_unit_update, OrganizationalUnit, "provenance"),
    (_post_create, Post, "title"),
    (_post_create, Post, "slug"),
    (_post_create, Post, "term_note"),
    (_post_update, Post, "title"),
    (_post_update, Post, "term_note"),
    (_person_create, Person, "full_name"),
    (_person_create, Person, "slug"),
    (_person_update, Person, "full_name"),
    (_appointment_start, Appointment, "note"),
    (_relationship_create, UnitRelationship, "description"),
    *TRANSLATION_TEXT_FIELDS,
]
IDS = [f"{write.__name__[1:]}-{field}" for write, _model, field in TEXT_FIELDS]


def _is_multi_line(model: type[Model], field: str) -> bool:
    return isinstance(model._meta.get_field(field), TextField)


def test_the_list_covers_every_free_text_field_of_every_model() -> None:
    """A text field added to a model must be added here (and so be tested)."""
    listed = {(model, field) for _write, model, field in TEXT_FIELDS}
    model_texts = {
        (model, field.name)
        for model in MODELS
        for field in model._meta.concrete_fields
        if isinstance(field, CharField | TextField) and not field.choices
    }
    assert model_texts == listed


@pytest.mark.parametrize(("write", "model", "field"), TEXT_FIELDS, ids=IDS)
@pytest.mark.parametrize("character", ["\x0b", "\x1f", "\x07"])
def test_a_control_character_in_any_text_is_refused_naming_the_field(
    scripted_history: ScriptedHistory,
    editor: User,
    write: Write,
    model: type[Model],
    field: str,
    character: str,
) -> None:
    PostFactory.create(title="Vacant", unit=scripted_history.root)

    errors = refused_text(
        lambda: write(editor, scripted_history, {field: f"bad{character}value"})
    )

    model_field = model._meta.get_field(field)
    assert isinstance(model_field, Field)
    label = model_field.verbose_name
    assert errors == {
        field: [
            f"The {label} holds a control character (U+{ord(character):04X}) at "
            "position 4: remove it. "
            + (
                "Only tabs and line breaks may be stored besides text."
                if _is_multi_line(model, field)
                else "It must be one line; only tabs may be stored besides text."
            )
        ]
    }


ONE_LINE = [entry for entry in TEXT_FIELDS if not _is_multi_line(*entry[1:])]


@pytest.mark.parametrize(
    ("write", "model", "field"),
    ONE_LINE,
    ids=[f"{write.__name__[1:]}-{field}" for write, _model, field in ONE_LINE],
)
def test_a_line_break_in_a_one_line_text_is_refused(
    scripted_history: ScriptedHistory,
    editor: User,
    write: Write,
    model: type[Model],
    field: str,
) -> None:
    PostFactory.create(title="Vacant", unit=scripted_history.root)

    errors = refused_text(
        lambda: write(editor, scripted_history, {field: "two\nlines"})
    )

    assert "line break (U+000A)" in errors[field][0]
    assert "It must be one line" in errors[field][0]


def test_multi_line_texts_and_reasons_keep_tabs_and_line_breaks(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    mandate = "Keeps the registry.\r\nAnswers questions:\n\t- about units"
    unit = services.unit_update(
        unit=scripted_history.unit_y,
        user=editor,
        reason="Two lines:\r\n\tthe mandate was rewritten",
        mandate=mandate,
        name="Unit\tWhy",
    )
    relationship = _relationship_create(
        editor, scripted_history, {"description": "Advises\non audits"}
    )

    unit.refresh_from_db()
    assert unit.mandate == mandate
    assert unit.name == "Unit\tWhy"
    latest = unit.history.order_by("-history_id").first()
    assert latest.history_change_reason == ("Two lines:\r\n\tthe mandate was rewritten")
    assert isinstance(relationship, UnitRelationship)
    assert relationship.description == "Advises\non audits"


# --- The reason of every write -------------------------------------------------------


def _write_calls(
    history: ScriptedHistory, editor: User
) -> dict[str, Callable[[str], object]]:
    """One valid call of every service that takes a reason, with the reason left open."""
    vacant = PostFactory.create(title="Vacant", unit=history.root)
    link = RelationshipFactory.create(source=history.department_b, target=history.root)
    ben = Appointment.objects.get(person=history.ben, ended_on__isnull=True)
    first_y = history.unit_y.history.order_by("history_id").first().history_id
    first_post = history.head_of_x.history.order_by("history_id").first().history_id
    first_ana = history.ana.history.order_by("history_id").first().history_id
    # Something for the reverts to undo.
    services.unit_update(
        unit=history.unit_y, location="Geneva", user=editor, reason="r"
    )
    services.person_update(
        person=history.ana, full_name="A. Lima", user=editor, reason="r"
    )
    services.post_update(
        post=history.head_of_x, term_note="Five years", user=editor, reason="r"
    )
    today = datetime.date.today()
    unit_y, root, user = history.unit_y, history.root, editor
    submitted = services.reorganization_create(
        user=user, title="Plan", reason="r", effective_at=None
    )
    services.operation_add(
        reorganization=submitted,
        user=user,
        kind="change_unit",
        payload={"unit": root.slug, "fields": {"location": "Rome"}},
    )
    services.reorganization_submit(reorganization=submitted, user=user)
    approver = User.objects.create_user(username="approver")
    approver.groups.add(Group.objects.get(name="Registry approvers"))
    applied = services.reorganization_create(
        user=user, title="Done", reason="r", effective_at=None
    )
    services.operation_add(
        reorganization=applied,
        user=user,
        kind="change_unit",
        payload={"unit": history.department_b.slug, "fields": {"mandate": "Plans."}},
    )
    services.reorganization_submit(reorganization=applied, user=user)
    services.reorganization_approve(reorganization=applied, user=approver)
    closed = services.unit_create(
        name="Closed", kind=UnitKind.UNIT, user=user, reason="r"
    )
    services.unit_abolish(unit=closed, user=user, reason="r")
    return {
        "lineage_record": lambda reason: services.lineage_record(
            predecessors=[closed],
            successors=[root],
            closure_reason="absorbed",
            user=user,
            reason=reason,
        ),
        "appointment_correct": lambda reason: services.appointment_correct(
            appointment=ben, note="Acting head", user=user, reason=reason
        ),
        "appointment_end": lambda reason: services.appointment_end(
            appointment=ben, ended_on=today, user=user, reason=reason
        ),
        "appointment_start": lambda reason: services.appointment_start(
            person=history.ana, post=vacant, started_on=today, user=user, reason=reason
        ),
        "appointment_start_for_new_person": lambda reason: (
            services.appointment_start_for_new_person(
                full_name="Dara",
                post=vacant,
                started_on=today,
                user=user,
                reason=reason,
            )
        ),
        "person_create": lambda reason: services.person_create(
            full_name="Cleo", user=user, reason=reason
        ),
        "person_revert": lambda reason: services.person_revert(
            person=history.ana, history_id=first_ana, user=user, reason=reason
        ),
        "person_update": lambda reason: services.person_update(
            person=history.ana, full_name="Ana Maria", user=user, reason=reason
        ),
        "post_abolish": lambda reason: services.post_abolish(
            post=vacant, user=user, reason=reason
        ),
        "post_create": lambda reason: services.post_create(
            title="Deputy", unit=root, user=user, reason=reason
        ),
        "post_end_holder": lambda reason: services.post_end_holder(
            post=history.head_of_x, ended_on=today, user=user, reason=reason
        ),
        "post_revert": lambda reason: services.post_revert(
            post=history.head_of_x, history_id=first_post, user=user, reason=reason
        ),
        "post_update": lambda reason: services.post_update(
            post=vacant, title="Adviser", user=user, reason=reason
        ),
        "reorganization_create": lambda reason: services.reorganization_create(
            user=user, title="Plan", reason=reason, effective_at=None
        ),
        # A file naming only the top unit: a difference (the rest abolished) to draft.
        "reorganization_import": lambda reason: services.reorganization_import(
            user=user,
            content=f"slug,name,kind,parent\n{root.slug},{root.name},{root.kind},\n".encode(),
            title="Plan",
            reason=reason,
        ),
        "reorganization_revert": lambda reason: services.reorganization_revert(
            reorganization=applied, user=user, reason=reason
        ),
        "reorganization_reject": lambda reason: services.reorganization_reject(
            reorganization=submitted, user=approver, reason=reason
        ),
        "relationship_create": lambda reason: services.relationship_create(
            source=unit_y, target=root, kind="advises", user=user, reason=reason
        ),
        "relationship_correct": lambda reason: services.relationship_correct(
            relationship=link, description="Plans together", user=user, reason=reason
        ),
        "relationship_end": lambda reason: services.relationship_end(
            relationship=link, user=user, reason=reason
        ),
        "single_operation_apply": lambda reason: services.single_operation_apply(
            user=user,
            kind="move_unit",
            payload={"unit": unit_y.slug, "parent": root.slug},
            reason=reason,
        ),
        "unit_abolish": lambda reason: services.unit_abolish(
            unit=unit_y, user=user, reason=reason
        ),
        "unit_create": lambda reason: services.unit_create(
            name="New", kind=UnitKind.UNIT, user=user, reason=reason
        ),
        "unit_move": lambda reason: services.unit_move(
            unit=unit_y, new_parent=root, user=user, reason=reason
        ),
        "unit_move_to_position": lambda reason: services.unit_move_to_position(
            unit=unit_y, target=root, position="first-child", user=user, reason=reason
        ),
        "unit_reinstate": lambda reason: services.unit_reinstate(
            unit=closed, user=user, reason=reason
        ),
        "unit_revert": lambda reason: services.unit_revert(
            unit=unit_y, history_id=first_y, user=user, reason=reason
        ),
        "unit_update": lambda reason: services.unit_update(
            unit=unit_y, name="Unit Why", user=user, reason=reason
        ),
        "units_abolish": lambda reason: services.units_abolish(
            units=[unit_y], user=user, reason=reason
        ),
    }


def _services_taking_a_reason() -> set[str]:
    return {
        name
        for name in services.__all__
        if callable(function := getattr(services, name))
        and inspect.isfunction(function)
        and "reason" in inspect.signature(function).parameters
    }


def test_every_write_with_a_reason_is_walked(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    assert set(_write_calls(scripted_history, editor)) == _services_taking_a_reason()


@pytest.mark.parametrize("service", sorted(_services_taking_a_reason()))
def test_every_write_refuses_a_control_character_in_its_reason(
    scripted_history: ScriptedHistory, editor: User, service: str
) -> None:
    call = _write_calls(scripted_history, editor)[service]

    errors = refused_text(lambda: call("Because\x1bof the audit"))

    assert errors["reason"][0].startswith(
        "The reason holds a control character (U+001B) at position 8"
    )
    # The same call with a plain reason is accepted: the character was the problem.
    call("Because of the audit")


@pytest.mark.parametrize("service", sorted(_services_taking_a_reason()))
@pytest.mark.parametrize("reason", ["\u200b", "\ufeff\u200b \u2060", " \u200d\n"])
def test_every_write_refuses_a_reason_of_invisible_characters(
    scripted_history: ScriptedHistory,
    editor: User,
    service: str,
    reason: str,
) -> None:
    call = _write_calls(scripted_history, editor)[service]
    before = snapshot()

    with pytest.raises(ValidationError) as refusal:
        call(reason)

    assert services.refusal_code(refusal.value) == services.Refusal.REASON_REQUIRED
    assert refusal.value.messages == [
        "A reason is required: say why this change is made."
    ]
    assert snapshot() == before


# --- Rows stored before the rule ------------------------------------------------------


def test_an_old_row_holding_a_control_character_can_still_be_changed_and_abolished(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    unit = scripted_history.unit_y
    OrganizationalUnit.objects.filter(pk=unit.pk).update(name="Unit\x0bWhy")

    services.unit_update(unit=unit, user=editor, reason="Mandate", mandate="New")
    services.unit_abolish(unit=unit, user=editor, reason="Closed")

    unit.refresh_from_db()
    assert unit.mandate == "New"
    assert unit.name == "Unit\x0bWhy"
    assert not unit.is_active


def test_correcting_an_old_row_is_accepted_and_a_new_bad_value_refused(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    unit = scripted_history.unit_y
    OrganizationalUnit.objects.filter(pk=unit.pk).update(name="Unit\x0bWhy")

    errors = refused_text(
        lambda: services.unit_update(
            unit=unit, user=editor, reason="Rename", name="Unit\x07Why"
        )
    )
    assert list(errors) == ["name"]

    services.unit_update(unit=unit, user=editor, reason="Rename", name="Unit Why")
    unit.refresh_from_db()
    assert unit.name == "Unit Why"


def test_reverting_to_a_version_holding_a_control_character_is_refused(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    unit = scripted_history.unit_y
    first = unit.history.order_by("history_id").first()
    services.unit_update(unit=unit, user=editor, reason="Edit", mandate="Newer")
    unit.history.filter(history_id=first.history_id).update(mandate="Old\x0cmandate")

    errors = refused_text(
        lambda: services.unit_revert(
            unit=unit, history_id=first.history_id, user=editor, reason="Back"
        )
    )

    assert "control character (U+000C)" in errors["mandate"][0]

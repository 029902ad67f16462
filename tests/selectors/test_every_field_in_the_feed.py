"""Every recorded change of every field reaches the feed, the compare page and Atom.

The fields are walked from the models' histories (``tracked_fields``), not listed
here: a field added to a model fails ``test_every_tracked_field_has_a_way_to_change``
until this module knows how to change it, and is then checked like the others.
"""

from __future__ import annotations

import datetime
import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from xml.etree import ElementTree

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import models
from django.test import Client

from tests.conftest import page_text
from units import selectors, services
from units.change_links import object_page_path
from units.content_languages import (
    POST_TRANSLATED,
    RELATIONSHIP_TRANSLATED,
    UNIT_TRANSLATED,
    translation_fields,
)
from units.models import (
    Appointment,
    FillingMethod,
    OrganizationalUnit,
    Person,
    Post,
    RecordedModel,
    Reorganization,
    ReorganizationOperation,
    ReportingLine,
    UnitKind,
    UnitRelationship,
    UnitSuccession,
)
from units.selectors.fields import tracked_fields
from units.services.revisions import Write, save_revision

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]

UTC = datetime.UTC
T0 = datetime.datetime(2021, 1, 1, 12, tzinfo=UTC)
T1 = datetime.datetime(2022, 3, 1, 12, tzinfo=UTC)
DAY = "2022-03-01"
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Registry:
    editor: User
    root: OrganizationalUnit
    department_a: OrganizationalUnit
    department_b: OrganizationalUnit
    unit_x: OrganizationalUnit
    unit_z: OrganizationalUnit
    head_of_x: Post
    deputy_of_x: Post
    ana: Person
    ben: Person
    appointment: Appointment
    relationship: UnitRelationship
    lineage: UnitSuccession

    def write(self, function: Callable[..., Any], **arguments: Any) -> Any:
        return function(
            user=self.editor,
            reason="Audit walk",
            reason_visibility="public",
            effective_at=T1,
            **arguments,
        )

    def record(self, instance: RecordedModel, **values: Any) -> None:
        """A revision setting fields no service changes once the object exists."""
        instance = type(instance)._default_manager.get(pk=instance.pk)
        for attname, value in values.items():
            setattr(instance, attname, value)
        save_revision(
            instance,
            Write(
                user=self.editor,
                reason="Audit walk",
                reason_visibility="public",
                effective_at=T1,
            ),
        )


@pytest.fixture
def registry(editor: User) -> Registry:
    def write(function: Callable[..., Any], **arguments: Any) -> Any:
        return function(user=editor, reason="Set up", effective_at=T0, **arguments)

    def unit(name: str, parent: OrganizationalUnit | None, **fields: Any) -> Any:
        return write(
            services.unit_create,
            name=name,
            parent=parent,
            **{"kind": UnitKind.DEPARTMENT, **fields},
        )

    root = unit("Headquarters", None, kind=UnitKind.OFFICE, slug="hq")
    department_a = unit("Department A", root, slug="department-a")
    department_b = unit("Department B", root, slug="department-b")
    unit_x = unit(
        "Unit X", department_a, kind=UnitKind.UNIT, slug="unit-x", mandate="Keeps."
    )
    unit_z = unit("Unit Z", department_a, kind=UnitKind.UNIT, slug="unit-z")
    head_of_x, deputy_of_x = (
        write(services.post_create, title=title, unit=unit_x, is_head=is_head)
        for title, is_head in (("Head of X", True), ("Deputy of X", False))
    )
    ana, ben = (
        write(services.person_create, full_name=name) for name in ("Ana", "Ben")
    )
    appointment = write(
        services.appointment_start, person=ana, post=head_of_x, started_on=T0.date()
    )
    relationship = write(
        services.relationship_create,
        source=unit_x,
        target=department_b,
        kind="supports",
    )
    # Unit W, absorbed into Department B.
    unit_w = unit("Unit W", root, kind=UnitKind.UNIT, slug="unit-w")
    write(services.unit_abolish, unit=unit_w)
    (lineage,) = write(
        services.lineage_record,
        predecessors=[unit_w],
        successors=[department_b],
        closure_reason="absorbed",
    )
    return Registry(
        editor,
        root,
        department_a,
        department_b,
        unit_x,
        unit_z,
        head_of_x,
        deputy_of_x,
        ana,
        ben,
        appointment,
        relationship,
        lineage,
    )


Edit = Callable[[Registry], None]

# How each field changes: through the services where they change it, else (fields
# fixed once the object exists, which an import or a future service may still
# change) as a revision written directly.
EDITS: dict[type[models.Model], dict[str, Edit]] = {
    OrganizationalUnit: {
        "name": lambda r: r.write(services.unit_update, unit=r.unit_x, name="Unit Ex"),
        "short_name": lambda r: r.write(
            services.unit_update, unit=r.unit_x, short_name="UX"
        ),
        "slug": lambda r: r.record(r.unit_x, slug="unit-ex"),
        "kind": lambda r: r.write(
            services.unit_update, unit=r.unit_x, kind=UnitKind.DIVISION
        ),
        "mandate": lambda r: r.write(
            services.unit_update, unit=r.unit_x, mandate="Keeps and publishes."
        ),
        "location": lambda r: r.write(
            services.unit_update, unit=r.unit_x, location="Nairobi"
        ),
        "provenance": lambda r: r.write(
            services.unit_update,
            unit=r.unit_x,
            provenance="Placement inferred from the organigram of the source.",
        ),
        "learn_more_url": lambda r: r.write(
            services.unit_update, unit=r.unit_x, learn_more_url="https://example.org/"
        ),
        "parent_id": lambda r: r.write(
            services.unit_move, unit=r.unit_x, new_parent=r.department_b
        ),
        "reporting_line": lambda r: r.write(
            services.unit_update,
            unit=r.unit_x,
            reporting_line=ReportingLine.OVERSIGHT,
        ),
        "sibling_order": lambda r: r.write(
            services.unit_update, unit=r.unit_x, sibling_order=1
        ),
        "established_on": lambda r: r.record(
            r.unit_x, established_on=datetime.date(2019, 5, 1)
        ),
        "abolished_on": lambda r: r.write(
            services.unit_abolish, unit=r.unit_x, sub_units="refuse"
        ),
    },
    Appointment: {
        "person_id": lambda r: r.record(r.appointment, person_id=r.ben.pk),
        "post_id": lambda r: r.record(r.appointment, post_id=r.deputy_of_x.pk),
        "started_on": lambda r: r.record(
            r.appointment, started_on=datetime.date(2020, 12, 1)
        ),
        "ended_on": lambda r: r.write(
            services.appointment_end, appointment=r.appointment, ended_on=T1.date()
        ),
        "note": lambda r: r.record(r.appointment, note="Acting head"),
    },
    Post: {
        "title": lambda r: r.write(
            services.post_update, post=r.head_of_x, title="Chief of X"
        ),
        "slug": lambda r: r.record(r.head_of_x, slug="chief-of-x"),
        "unit_id": lambda r: r.write(
            services.post_update, post=r.head_of_x, unit=r.unit_z
        ),
        "is_head": lambda r: r.write(
            services.post_update, post=r.head_of_x, is_head=False
        ),
        "filling_method": lambda r: r.write(
            services.post_update,
            post=r.head_of_x,
            filling_method=FillingMethod.ELECTED_BY_COUNCIL,
        ),
        "term_years": lambda r: r.write(
            services.post_update, post=r.head_of_x, term_years=5
        ),
        "term_note": lambda r: r.write(
            services.post_update, post=r.head_of_x, term_note="Renewable once"
        ),
        "established_on": lambda r: r.record(
            r.head_of_x, established_on=datetime.date(2019, 5, 1)
        ),
        "abolished_on": lambda r: r.write(services.post_abolish, post=r.head_of_x),
    },
    Person: {
        "full_name": lambda r: r.write(
            services.person_update, person=r.ana, full_name="Ana Maria"
        ),
        "slug": lambda r: r.record(r.ana, slug="ana-maria"),
    },
    UnitRelationship: {
        "source_id": lambda r: r.record(r.relationship, source_id=r.unit_z.pk),
        "target_id": lambda r: r.record(r.relationship, target_id=r.root.pk),
        "kind": lambda r: r.record(r.relationship, kind="advises"),
        "description": lambda r: r.record(r.relationship, description="Shares staff"),
        "started_on": lambda r: r.record(
            r.relationship, started_on=datetime.date(2021, 2, 1)
        ),
        "ended_on": lambda r: r.write(
            services.relationship_end, relationship=r.relationship
        ),
    },
    # Links are written once (lineage_record); a restore or a script may still
    # change one.
    UnitSuccession: {
        "predecessor_id": lambda r: r.record(r.lineage, predecessor_id=r.unit_z.pk),
        "successor_id": lambda r: r.record(r.lineage, successor_id=r.root.pk),
        "closure_reason": lambda r: r.record(r.lineage, closure_reason="merged"),
        "effective_on": lambda r: r.record(
            r.lineage, effective_on=datetime.date(2021, 2, 1)
        ),
        "event": lambda r: r.record(r.lineage, event=uuid.uuid4()),
    },
}


def _translation_edit(model: type[models.Model], attname: str) -> Edit:
    """A French or Spanish text changed as its model's writes change it: by the
    unit's or the post's update, and for a relationship (which no service edits) as
    a revision written directly, like its English description."""
    value = f"Texte {attname}"
    if model is OrganizationalUnit:
        return lambda r: r.write(
            services.unit_update, unit=r.unit_x, **{attname: value}
        )
    if model is Post:
        return lambda r: r.write(
            services.post_update, post=r.head_of_x, **{attname: value}
        )
    return lambda r: r.record(r.relationship, **{attname: value})


for _model, _names in (
    (OrganizationalUnit, UNIT_TRANSLATED),
    (Post, POST_TRANSLATED),
    (UnitRelationship, RELATIONSHIP_TRANSLATED),
):
    for _attname in translation_fields(_names):
        EDITS[_model][_attname] = _translation_edit(_model, _attname)

# Histories that are not the registry's: a reorganization's own life cycle (drafted,
# approved, applied...) is read at /api/v1/reorganizations/; the changes it makes are
# the revisions of the records above, which the feed lists.
NOT_REGISTRY_RECORDS = {Reorganization, ReorganizationOperation}
# What each model's entries say they are (``object.type`` in the API).
OBJECT_TYPES: dict[type[models.Model], str] = {
    OrganizationalUnit: "unit",
    Post: "post",
    Person: "person",
    Appointment: "appointment",
    UnitRelationship: "relationship",
    UnitSuccession: "lineage",
}
WALKED = [
    pytest.param(model, attname, id=f"{model.__name__}.{attname}")
    for model in EDITS
    for attname in tracked_fields(model)
]


def test_every_tracked_field_has_a_way_to_change() -> None:
    for model, edits in EDITS.items():
        assert set(tracked_fields(model)) == set(edits), model.__name__
    # The feed reads each of these histories, with every field they record: every
    # recorded model's, so a model given a history is walked here or fails this.
    assert {model for model, _fields in selectors.FEED_SOURCES} == set(EDITS)
    assert (
        set(EDITS)
        == {
            model
            for model in apps.get_app_config("units").get_models()
            if hasattr(model, "history")
        }
        - NOT_REGISTRY_RECORDS
    )
    for model, fields in selectors.FEED_SOURCES:
        assert set(fields) == {"id", *tracked_fields(model)}


def test_tracked_fields_come_from_the_history_model() -> None:
    fields = tracked_fields(OrganizationalUnit)
    # The tree's bookkeeping is left out of the history, and so of the changes.
    assert not {"lft", "rght", "tree_id", "level"} & set(fields)
    assert {"kind", "location", "sibling_order", "slug"} <= set(fields)
    assert "version" not in fields
    assert "id" not in fields
    # What a unit's history shows covers every field an editor can change.
    assert set(fields) - {"slug"} == set(selectors.UNIT_HISTORY_FIELDS)


def revision_changes(model: type[models.Model], object_id: int) -> list[Any]:
    """The feed's changes of the latest revision of one object."""
    latest = (
        model.history.filter(id=object_id)  # type: ignore[attr-defined]
        .order_by("-history_date", "-history_id")
        .first()
    )
    return [
        change
        for change in selectors.changes_between(T0, T1)
        if change.history_id == latest.history_id
        and change.effective_at == latest.history_date
        and change.object_type == OBJECT_TYPES[model]
    ]


@pytest.mark.parametrize(("model", "attname"), WALKED)
def test_a_change_of_each_field_is_in_the_feed_the_compare_page_and_atom(
    client: Client, registry: Registry, model: type[models.Model], attname: str
) -> None:
    target = {
        OrganizationalUnit: registry.unit_x,
        Post: registry.head_of_x,
        Person: registry.ana,
        Appointment: registry.appointment,
        UnitRelationship: registry.relationship,
        UnitSuccession: registry.lineage,
    }[model]
    before = getattr(type(target)._default_manager.get(pk=target.pk), attname)
    EDITS[model][attname](registry)
    assert getattr(type(target)._default_manager.get(pk=target.pk), attname) != before

    # The selector: the revision's changes account for the field.
    changes = revision_changes(model, target.pk)
    covering = [change for change in changes if attname in change.fields]
    assert len(covering) == 1, [(change.kind, change.fields) for change in changes]
    change = covering[0]
    assert change.reason == "Audit walk"
    if change.details.get("field"):
        assert change.details["new"] == getattr(
            type(target)._default_manager.get(pk=target.pk), attname
        )

    # The API's feed, for that day.
    feed = client.get("/api/v1/changes/", {"since": DAY, "until": DAY}).json()
    (entry,) = (
        row
        for row in feed["results"]
        if row["history_id"] == change.history_id
        and row["kind"] == change.kind
        and attname in row["fields"]
    )
    # Each entry says what it changed and links to it, in the API and on the pages.
    changed = entry["object"]
    assert changed["type"] == OBJECT_TYPES[model]
    assert changed["name"] == change.object_name != ""
    page = object_page_path(change)
    assert changed["page"] == f"http://testserver{page}"
    api_answer = client.get(changed["url"])
    assert api_answer.status_code == HTTPStatus.OK, changed["url"]
    if model in (Appointment, UnitRelationship, UnitSuccession):
        assert changed["id"] == target.pk
    else:
        assert api_answer.json()["slug"] == changed["slug"]

    # The compare page, for that day: listed in a section with a title.
    response = client.get("/compare/", {"from": DAY, "to": DAY})
    assert response.status_code == HTTPStatus.OK
    sections = {
        section.kind: section
        for section in response.context["sections"]
        if any(
            (listed.history_id, listed.kind) == (change.history_id, change.kind)
            for listed in section.changes
        )
    }
    assert list(sections) == [change.kind]
    text = page_text(response)
    assert sections[change.kind].title in text
    assert f'href="{html.escape(page)}"' in response.content.decode()
    if change.details.get("field", "").startswith("mandate_"):
        # A translated mandate is a word diff in its language, as the English one.
        assert f"{change.details['label']}" in text
        assert '<p class="diff" lang="' in response.content.decode()
    elif change.details.get("field"):
        assert (
            f"{change.details['label']} {change.details['old_display']} → "
            f"{change.details['new_display']}" in text
        )

    # Atom, for that day.
    cache.clear()
    atom = client.get("/api/v1/changes.atom", {"since": DAY, "until": DAY})
    feed_xml = ElementTree.fromstring(atom.content)  # noqa: S314 - our own output
    entries = {
        entry.findtext(f"{ATOM}id"): (
            entry.findtext(f"{ATOM}title"),
            entry.find(f"{ATOM}link").get("href"),  # type: ignore[union-attr]
        )
        for entry in feed_xml.iter(f"{ATOM}entry")
    }
    guid = f"orgregistry:change:{change.kind}:{change.history_id}"
    assert entries.get(guid) == (change.summary, f"http://testserver{page}")


def test_a_kind_change_reads_as_one_on_the_compare_page_and_in_atom(
    client: Client, registry: Registry
) -> None:
    EDITS[OrganizationalUnit]["kind"](registry)
    text = page_text(client.get("/compare/", {"from": DAY, "to": DAY}))
    assert "Kind changed 1" in text
    assert "Unit X : kind Unit → Division" in text
    assert "Reason: Audit walk" in text
    atom = client.get("/api/v1/changes.atom", {"since": DAY}).content.decode()
    assert "Kind of Unit X changed from Unit to Division" in atom


def test_sibling_order_alone_reads_as_reordered(
    client: Client, registry: Registry
) -> None:
    EDITS[OrganizationalUnit]["sibling_order"](registry)
    (change,) = revision_changes(OrganizationalUnit, registry.unit_x.pk)
    assert change.kind == "reordered"
    assert change.summary == "Unit X reordered among the sub-units of Department A"
    text = page_text(client.get("/compare/", {"from": DAY, "to": DAY}))
    assert "Units reordered among their siblings 1" in text
    assert "Unit X has another place among the sub-units of Department A" in text


def test_an_acronym_alone_reads_as_an_acronym_change(registry: Registry) -> None:
    EDITS[OrganizationalUnit]["short_name"](registry)
    (change,) = revision_changes(OrganizationalUnit, registry.unit_x.pk)
    assert change.kind == "renamed"
    assert change.summary == "Acronym of Unit X changed from (none) to UX"
    assert change.fields == ("short_name",)


def test_a_move_with_a_new_reporting_line_lists_both(registry: Registry) -> None:
    registry.write(
        services.unit_move,
        unit=registry.unit_x,
        new_parent=registry.department_b,
        reporting_line=ReportingLine.OVERSIGHT,
    )
    changes = revision_changes(OrganizationalUnit, registry.unit_x.pk)
    assert [change.kind for change in changes] == ["moved", "reporting_line_changed"]
    assert "parent_id" in changes[0].fields
    assert changes[1].fields == ("reporting_line",)
    assert changes[1].summary == (
        "Reporting line of Unit X changed from Direct supervision to Oversight"
    )


def test_one_revision_changing_several_fields_lists_each(registry: Registry) -> None:
    registry.write(
        services.unit_update,
        unit=registry.unit_x,
        kind=UnitKind.DIVISION,
        location="Geneva",
        learn_more_url="https://example.org/x",
        name="Division X",
    )
    changes = revision_changes(OrganizationalUnit, registry.unit_x.pk)
    assert [change.kind for change in changes] == [
        "renamed",
        "kind_changed",
        "location_changed",
        "learn_more_url_changed",
    ]
    # Each field in one change only, and no change without a field.
    fields = [name for change in changes for name in change.fields]
    assert sorted(fields) == sorted(["name", "kind", "location", "learn_more_url"])

"""Issue 12, item 1: one control character broke the feed and the chart for everyone.

A name, reason or description holding ``\\x0b``, ``\\x1f`` or ``\\x07`` was accepted; the
Atom feed then answered 500, every PNG/PDF chart including the unit answered 500 and the
SVG download was not XML. Now every write (API, admin, seed, restore) refuses such a
text naming its field, and a row already stored with one (imported, or older) still
renders: the feed, the chart and its downloads answer 200 with well-formed XML.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from http import HTTPStatus
from io import StringIO
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import feedparser
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.admin.test_admin import form_data
from tests.commands.test_backup import empty_the_registry, registry_row_counts
from tests.conftest import ScriptedHistory
from tests.factories import PostFactory, RelationshipFactory, editor_user
from units import selectors, services
from units.models import (
    Appointment,
    OrganizationalUnit,
    Person,
    Post,
    Reorganization,
    ReorganizationOperation,
    UnitRelationship,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/"
CONTROL_CHARACTERS = ("\x0b", "\x1f", "\x07")
# What a write is sent: NUL too, which PostgreSQL refuses to store or compare (a 500
# there, not a 400, if it reached a query); no row here can hold it.
NUL = "\x00"
WRITTEN_CHARACTERS = (*CONTROL_CHARACTERS, NUL)
MODELS = (
    OrganizationalUnit,
    Post,
    Person,
    Appointment,
    UnitRelationship,
    Reorganization,
    ReorganizationOperation,
)
# Texts the services store (and so refuse with ``invalid_text``); the other strings of
# a write are slugs, dates and choices, which the API's own validation refuses.
STORED_TEXTS = {
    "reason",
    "name",
    "short_name",
    "mandate",
    "location",
    "title",
    "reference",
    "term_note",
    "full_name",
    "note",
    "description",
}


def snapshot() -> tuple[Any, ...]:
    return (
        *(list(model.objects.order_by("pk").values()) for model in MODELS),
        *(model.history.count() for model in MODELS),
        selectors.registry_generation(),
    )


# --- Every write endpoint of the API, walked from the schema ----------------------------


@pytest.fixture
def api_client(db: None) -> APIClient:
    superuser = get_user_model().objects.create_superuser(
        username="walker", password="walker-pass-123", email="walker@example.org"
    )
    client = APIClient()
    client.force_authenticate(superuser)
    return client


def _valid_writes(history: ScriptedHistory) -> dict[tuple[str, str], tuple[str, dict]]:
    """A valid body for every write operation: (method, schema path) -> (URL, body)."""
    vacant = PostFactory.create(title="Vacant", unit=history.root)
    link = RelationshipFactory.create(source=history.department_b, target=history.root)
    held = Appointment.objects.get(person=history.ben, ended_on__isnull=True)
    first_y = history.unit_y.history.order_by("history_id").first().history_id
    services.unit_update(
        unit=history.unit_y, location="Geneva", user=editor_user(), reason="Moved"
    )
    today = datetime.date.today().isoformat()
    y, head = history.unit_y.slug, history.head_of_x.slug
    # Reorganizations drafted by someone else, so that the walker (a superuser) may
    # approve one: a draft with one operation that applies, and a submitted one.
    draft, operation = _drafted_reorganization(history, "Plan A")
    submitted, _ = _drafted_reorganization(history, "Plan B")
    services.reorganization_submit(reorganization=submitted, user=editor_user())
    applied = _applied_reorganization(history)
    establish = {"name": "Data Office", "kind": "office", "slug": "data-office"}
    return {
        ("post", "/api/v1/reorganizations/{id}/revert/"): (
            f"reorganizations/{applied.pk}/revert/",
            {"reason_visibility": "public"},
        ),
        ("post", "/api/v1/reorganizations/"): (
            "reorganizations/",
            {"title": "Plan C", "reference": "Decree 7"},
        ),
        ("patch", "/api/v1/reorganizations/{id}/"): (
            f"reorganizations/{draft.pk}/",
            {"title": "Plan A, revised", "reference": "Decree 8"},
        ),
        ("post", "/api/v1/reorganizations/{id}/operations/"): (
            f"reorganizations/{draft.pk}/operations/",
            {"kind": "establish_unit", "payload": {**establish, "parent": "hq"}},
        ),
        ("patch", "/api/v1/operations/{id}/"): (
            f"operations/{operation.pk}/",
            {"payload": {"unit": y, "fields": {"location": "Lisbon"}}},
        ),
        ("post", "/api/v1/reorganizations/{id}/submit/"): (
            f"reorganizations/{draft.pk}/submit/",
            {},
        ),
        ("post", "/api/v1/reorganizations/{id}/approve/"): (
            f"reorganizations/{submitted.pk}/approve/",
            {},
        ),
        ("post", "/api/v1/reorganizations/{id}/reject/"): (
            f"reorganizations/{submitted.pk}/reject/",
            {"reason": "Too early"},
        ),
        ("post", "/api/v1/reorganizations/{id}/cancel/"): (
            f"reorganizations/{draft.pk}/cancel/",
            {},
        ),
        ("post", "/api/v1/units/"): (
            "units/",
            {"name": "New unit", "kind": "unit", "parent": "hq"},
        ),
        ("patch", "/api/v1/units/{slug}/"): (f"units/{y}/", {"name": "Unit Why"}),
        ("post", "/api/v1/units/{slug}/move/"): (
            f"units/{y}/move/",
            {"parent": "hq"},
        ),
        ("post", "/api/v1/units/{slug}/abolish/"): (f"units/{y}/abolish/", {}),
        ("post", "/api/v1/units/abolish/"): ("units/abolish/", {"units": [y]}),
        ("post", "/api/v1/units/{slug}/revert/"): (
            f"units/{y}/revert/",
            {"history_id": first_y},
        ),
        ("post", "/api/v1/units/{slug}/reinstate/"): (
            f"units/{history.department_a.slug}/reinstate/",
            {},
        ),
        ("post", "/api/v1/posts/"): ("posts/", {"title": "Deputy", "unit": "hq"}),
        ("patch", "/api/v1/posts/{slug}/"): (f"posts/{head}/", {"title": "Chief"}),
        ("post", "/api/v1/posts/{slug}/abolish/"): (
            f"posts/{vacant.slug}/abolish/",
            {},
        ),
        ("post", "/api/v1/people/"): ("people/", {"full_name": "Cleo"}),
        ("patch", "/api/v1/people/{slug}/"): (
            f"people/{history.ana.slug}/",
            {"full_name": "Ana Maria Lima"},
        ),
        ("post", "/api/v1/appointments/"): (
            "appointments/",
            {"person": history.ana.slug, "post": vacant.slug, "started_on": today},
        ),
        ("post", "/api/v1/appointments/{id}/end/"): (
            f"appointments/{held.pk}/end/",
            {"ended_on": today},
        ),
        ("post", "/api/v1/relationships/"): (
            "relationships/",
            # An English description, so a translation's characters are what is
            # refused (a translation without English text is refused first).
            {
                "source": "department-b",
                "target": "hq",
                "kind": "advises",
                "description": "Advises",
            },
        ),
        ("post", "/api/v1/relationships/{id}/end/"): (
            f"relationships/{link.pk}/end/",
            {},
        ),
        ("patch", "/api/v1/appointments/{id}/"): (
            f"appointments/{held.pk}/",
            {"note": "Acting"},
        ),
        ("patch", "/api/v1/relationships/{id}/"): (
            f"relationships/{link.pk}/",
            {"description": "Corrected"},
        ),
    }


def _drafted_reorganization(
    history: ScriptedHistory, title: str
) -> tuple[Reorganization, ReorganizationOperation]:
    """A draft by the editor, not the walker, with one operation that applies."""
    reorganization = services.reorganization_create(
        user=editor_user(), title=title, reason="Reform", effective_at=None
    )
    operation = services.operation_add(
        reorganization=reorganization,
        user=editor_user(),
        kind="change_unit",
        payload={"unit": history.unit_y.slug, "fields": {"location": "Rome"}},
    )
    return reorganization, operation


def _applied_reorganization(history: ScriptedHistory) -> Reorganization:
    """An applied reorganization (a mandate rewritten), for the revert to undo."""
    reorganization = services.reorganization_create(
        user=editor_user(), title="Plan D", reason="Reform", effective_at=None
    )
    services.operation_add(
        reorganization=reorganization,
        user=editor_user(),
        kind="change_unit",
        payload={"unit": history.root.slug, "fields": {"mandate": "Everything."}},
    )
    services.reorganization_submit(reorganization=reorganization, user=editor_user())
    approver = get_user_model().objects.create_user(username="plan-d-approver")
    approver.groups.add(Group.objects.get(name="Registry approvers"))
    return services.reorganization_approve(reorganization=reorganization, user=approver)


def _body_fields(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The request body's fields and their schemas; none for a step without input."""
    if "requestBody" not in operation:
        return {}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    return dict(schema["components"]["schemas"][name]["properties"])


def _string_fields(schema: dict[str, Any], operation: dict[str, Any]) -> list[str]:
    """The request body's fields that take free strings (no choice, date or number)."""

    def free_string(spec: dict[str, Any]) -> bool:
        return spec.get("type") == "string" and spec.get("format") is None

    def texts_by_language(spec: dict[str, Any]) -> bool:
        # A translated text's other form: {"en": ..., "fr": ...}, each a free string.
        languages = spec.get("properties", {})
        return spec.get("type") == "object" and all(
            map(free_string, languages.values())
        )

    fields = []
    for field, spec in _body_fields(schema, operation).items():
        variants = spec.get("oneOf", [spec])
        if any(map(free_string, variants)) and all(
            free_string(variant) or texts_by_language(variant) for variant in variants
        ):
            fields.append(field)
    return fields


# Writes that take no text: making one's API token (the request has no body).
WITHOUT_INPUT = {("post", f"{API}token/")}
# Steps of a reorganization that take no input: walked with their valid (empty) body,
# which must be accepted, but they have no field to hold a character.
WITHOUT_TEXT = {
    ("post", f"{API}reorganizations/{{id}}/{step}/")
    for step in ("submit", "approve", "cancel")
}


# Writes that take a file (multipart, not JSON): walked by their own test below.
MULTIPART = {("post", f"{API}reorganizations/import/")}


def _write_operations(client: APIClient) -> Iterator[tuple[str, str, dict]]:
    schema = client.get(f"{API}schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (
                method in {"post", "put", "patch"}
                and (method, path) not in WITHOUT_INPUT
                and (method, path) not in MULTIPART
            ):
                yield method, path, {"schema": schema, "operation": operation}


def _payload_texts(payload: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    """The path to every text of an operation's payload (one level of nesting)."""
    for key, value in payload.items():
        if isinstance(value, str):
            yield (key,)
        elif isinstance(value, dict):
            yield from ((key, inner) for inner, text in value.items() if text)


def _walk_payload(
    send: Any, url: str, valid: dict[str, Any], before: tuple[Any, ...]
) -> Iterator[str]:
    """Each text of the payload with a control character: a 400 ``invalid_text``
    under ``payload`` naming its key, and nothing written (the registry is still
    ``before``)."""
    for number, keys in enumerate(_payload_texts(valid["payload"])):
        character = WRITTEN_CHARACTERS[number % len(WRITTEN_CHARACTERS)]
        payload = json.loads(json.dumps(valid["payload"]))
        holder = payload if len(keys) == 1 else payload[keys[0]]
        holder[keys[-1]] = f"{holder[keys[-1]]}{character}x"

        response = send(url, {**valid, "payload": payload}, format="json")

        name = ".".join(keys)
        assert response.status_code == HTTPStatus.BAD_REQUEST, (url, name)
        answer = response.json()
        assert answer["code"] == "invalid_text", (url, name, answer)
        (message,) = answer["errors"]["payload"]
        assert message.startswith(f"“{name}”: The "), (url, name, message)
        assert f"U+{ord(character):04X}" in message
        assert snapshot() == before, (url, name)
        yield name


def test_control_characters_through_every_write_endpoint_are_refused_naming_the_field(
    scripted_history: ScriptedHistory, api_client: APIClient
) -> None:
    writes = _valid_writes(scripted_history)
    operations = list(_write_operations(api_client))
    # A new write endpoint fails here until it has a valid body, and so is walked.
    assert {(method, path) for method, path, _ in operations} == set(writes)

    # The registry every refused write must leave as it was. Read once: the valid
    # writes are rolled back, and a refused write that changed anything fails at once
    # (reading it before each of the ~110 writes took a quarter of the test's time).
    before = snapshot()
    walked: list[tuple[str, str, str]] = []
    without_text: set[tuple[str, str]] = set()
    for method, path, found in operations:
        url, valid = writes[(method, path)]
        send = getattr(api_client, method)
        # Every write that takes a reason gets one; the others refuse unknown fields.
        reason = {"reason": "Walk"} if "reason" in _body_fields(**found) else {}
        # The valid body is accepted (then rolled back): the character is the problem.
        with transaction.atomic():
            accepted = send(f"{API}{url}", {**valid, **reason}, format="json")
            assert accepted.status_code < 300, (path, accepted.content)
            transaction.set_rollback(True)
        fields = _string_fields(**found)
        if "payload" in valid:
            # An operation's payload is any JSON in the schema; each text inside it
            # is stored with the draft, so each is walked too.
            walked.extend(
                (method, path, f"payload {key}")
                for key in _walk_payload(send, f"{API}{url}", valid, before)
            )
        elif not fields:
            without_text.add((method, path))
        for number, field in enumerate(fields):
            character = WRITTEN_CHARACTERS[number % len(WRITTEN_CHARACTERS)]
            # A field that is not a stored text (a slug naming an object, a choice)
            # gets a NUL too: PostgreSQL refuses one in a lookup (a 500 if it got
            # there), and DRF's text fields refuse it only in texts.
            sent = [character]
            if field not in STORED_TEXTS and character != NUL:
                sent.append(NUL)
            for character in sent:
                plain = valid.get(field, "Because" if field == "reason" else "x")
                body = {**reason, **valid, field: f"{plain}{character}{plain}"}

                response = send(f"{API}{url}", body, format="json")

                assert response.status_code == HTTPStatus.BAD_REQUEST, (path, field)
                answer = response.json()
                assert field in answer.get("errors", answer), (path, field, answer)
                # DRF's text fields refuse a NUL before the services see it (with its
                # own message); every other character reaches the services' check.
                if field in STORED_TEXTS and character != NUL:
                    assert answer["code"] == "invalid_text", (path, field, answer)
                    assert f"U+{ord(character):04X}" in answer["detail"]
            walked.append((method, path, field))
    assert snapshot() == before
    walked_texts = {field for _method, _path, field in walked} & STORED_TEXTS
    assert walked_texts == STORED_TEXTS
    assert without_text == WITHOUT_TEXT
    assert len({(method, path) for method, path, _ in walked}) == len(writes) - len(
        WITHOUT_TEXT
    )


def test_control_characters_in_an_import_are_refused_naming_the_field_or_cell(
    scripted_history: ScriptedHistory, api_client: APIClient
) -> None:
    schema = api_client.get(f"{API}schema/", {"format": "json"}).json()
    body = schema["paths"][f"{API}reorganizations/import/"]["post"]["requestBody"]
    name = body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    texts = [
        field
        for field, spec in schema["components"]["schemas"][name]["properties"].items()
        if spec.get("type") == "string" and spec.get("format") is None
    ]
    # effective_at is an instant (a string the schema gives no format): not stored text.
    assert sorted(texts) == ["effective_at", "reason", "reference", "title"]
    texts.remove("effective_at")

    def upload(name: str = "Headquarters") -> dict[str, Any]:
        text = f"slug,name,kind,parent\nhq,{name},office,\n"
        return {"file": SimpleUploadedFile("units.csv", text.encode())}

    valid = {"title": "Plan", "reason": "Because", "reference": "BP/1"}
    url = f"{API}reorganizations/import/"
    with transaction.atomic():
        accepted = api_client.post(url, {**valid, **upload()}, format="multipart")
        assert accepted.status_code == HTTPStatus.CREATED, accepted.content
        transaction.set_rollback(True)
    for number, field in enumerate(texts):
        character = CONTROL_CHARACTERS[number % len(CONTROL_CHARACTERS)]
        before = snapshot()
        response = api_client.post(
            url,
            {**valid, field: f"x{character}x", **upload()},
            format="multipart",
        )
        assert response.status_code == HTTPStatus.BAD_REQUEST, field
        answer = response.json()
        assert field in answer.get("errors", answer), (field, answer)
        assert snapshot() == before, field
    # In a cell of the file: by row and column, nothing drafted.
    before = snapshot()
    response = api_client.post(
        url, {**valid, **upload("Head\x07quarters")}, format="multipart"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    [problem] = response.json()["problems"]
    assert (problem["row"], problem["column"], problem["field"]) == (2, "B", "name")
    assert "U+0007" in problem["message"]
    assert snapshot() == before


def test_a_line_break_in_a_name_through_the_api_is_refused_but_not_in_a_mandate(
    scripted_history: ScriptedHistory, api_client: APIClient
) -> None:
    url = f"{API}units/{scripted_history.unit_y.slug}/"
    before = snapshot()

    refused = api_client.patch(
        url, {"name": "Unit\nWhy", "reason": "Rename"}, format="json"
    )

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json()["code"] == "invalid_text"
    assert "one line" in refused.json()["errors"]["name"][0]
    assert snapshot() == before
    accepted = api_client.patch(
        url, {"mandate": "Two\nlines", "reason": "Two\nlines"}, format="json"
    )
    assert accepted.status_code == HTTPStatus.OK


def test_a_reason_of_zero_width_characters_through_the_api_is_refused(
    scripted_history: ScriptedHistory, api_client: APIClient
) -> None:
    before = snapshot()

    response = api_client.patch(
        f"{API}units/{scripted_history.unit_y.slug}/",
        {"name": "Unit Why", "reason": "\u200b\ufeff\u2060"},
        format="json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "reason_required"
    assert snapshot() == before


# --- The admin's forms --------------------------------------------------------------


@pytest.fixture
def editor_client(editor: User) -> Client:
    editor.groups.add(Group.objects.get(name="Registry editors"))
    client = Client()
    client.force_login(editor)
    return client


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Office\x0bof Data"),
        ("short_name", "O\x1fD"),
        ("mandate", "Looks\x07after data."),
        ("reason", "Created\x1bby the reform"),
    ],
)
def test_the_admin_add_form_shows_a_control_character_as_a_form_error(
    scripted_history: ScriptedHistory, editor_client: Client, field: str, value: str
) -> None:
    add = reverse("admin:units_organizationalunit_add")
    data = form_data(
        editor_client.get(add),
        **{
            "name": "Office of Data",
            "kind": "office",
            "parent": scripted_history.root.pk,
            "reason": "Created by the reform",
            field: value,
        },
    )
    before = snapshot()

    response = editor_client.post(add, data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    (error,) = response.context["adminform"].form.non_field_errors()
    label = {"short_name": "acronym or short name"}.get(field, field)
    assert error.startswith(f"The {label} holds a control character (U+")
    assert snapshot() == before


def test_the_admin_change_form_refuses_a_line_break_in_a_title(
    scripted_history: ScriptedHistory, editor_client: Client
) -> None:
    post = scripted_history.head_of_x
    url = reverse("admin:units_post_change", args=[post.pk])
    data = form_data(editor_client.get(url), title="Head\r\nof X", reason="Retitled")
    before = snapshot()

    response = editor_client.post(url, data)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "line break" in response.content.decode()
    assert snapshot() == before


# --- A row already stored with control characters still renders -------------------------


@pytest.fixture
def stored_control_characters(scripted_history: ScriptedHistory) -> ScriptedHistory:
    """Texts holding control characters, written past the services (an older release,
    or a hand edit), in everything the feed and the chart show."""
    history = scripted_history
    OrganizationalUnit.objects.filter(pk=history.unit_y.pk).update(
        name="Unit\x0bY", short_name="U\x1fY", mandate="Bell\x07rings"
    )
    OrganizationalUnit.history.filter(id=history.unit_y.pk).update(
        name="Unit\x0bY", history_change_reason="Backdated\x1f\x0c creation"
    )
    Post.objects.filter(pk=history.head_of_x.pk).update(title="Head\x0bof X")
    Person.objects.filter(pk=history.ben.pk).update(full_name="Ben\x07Okoro")
    Person.history.filter(id=history.ben.pk).update(full_name="Ben\x07Okoro")
    link = RelationshipFactory.create(
        source=history.unit_y, target=history.root, description="fine"
    )
    UnitRelationship.objects.filter(pk=link.pk).update(description="Ad\x0bvises")
    return history


def test_the_change_feed_and_its_atom_stay_well_formed(
    stored_control_characters: ScriptedHistory, client: Client
) -> None:
    assert client.get(f"{API}changes/").status_code == HTTPStatus.OK

    response = client.get(f"{API}changes.atom")

    assert response.status_code == HTTPStatus.OK
    ElementTree.fromstring(response.content)  # noqa: S314 - our own output
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    titles = " ".join(entry.title for entry in feed.entries)
    summaries = " ".join(entry.summary for entry in feed.entries)
    assert "Unit\ufffdY" in titles
    assert "Backdated\ufffd\ufffd creation" in summaries


@pytest.mark.parametrize("query", ["", "?depth=8", "?root=unit-y", "?root=hq&depth=1"])
def test_the_chart_and_its_downloads_still_answer_and_the_svg_is_xml(
    stored_control_characters: ScriptedHistory, client: Client, query: str
) -> None:
    page = client.get(f"/chart/{query}")
    assert page.status_code == HTTPStatus.OK

    svg = client.get(f"/chart/download.svg{query}")
    png = client.get(f"/chart/download.png{query}")
    pdf = client.get(f"/chart/download.pdf{query}")

    assert svg.status_code == png.status_code == pdf.status_code == HTTPStatus.OK
    document = ElementTree.fromstring(svg.content)  # noqa: S314 - our own output
    assert document.tag == "{http://www.w3.org/2000/svg}svg"
    assert png.content.startswith(b"\x89PNG")
    assert pdf.content.startswith(b"%PDF")


def test_the_chart_shows_where_a_control_character_was(
    stored_control_characters: ScriptedHistory, client: Client
) -> None:
    svg = client.get("/chart/download.svg?depth=8").content.decode()

    assert "Unit\ufffdY" in svg
    assert "\x0b" not in svg


def test_the_public_pages_of_such_a_row_still_answer(
    stored_control_characters: ScriptedHistory, client: Client
) -> None:
    for url in (
        "/",
        "/units/unit-y/",
        "/units/unit-x/",
        "/search/?q=unit",
        "/posts/",
        "/people/",
        "/compare/?from=2019-01-01&to=2030-01-01",
    ):
        assert client.get(url).status_code == HTTPStatus.OK, url


# --- Seed files and backups ---------------------------------------------------------------


def test_load_seed_refuses_a_file_with_control_characters_naming_each(
    tmp_path: Path,
) -> None:
    document = {
        "source": "A test",
        "effective_on": "2023-01-01",
        "units": [
            {
                "slug": "office",
                "name": "Office\x0bof Data",
                "kind": "office",
                "parent": None,
                "reporting_line": "direct_supervision",
                "mandate": "Two\nlines are fine",
            }
        ],
        "people": [{"slug": "ana", "full_name": "Ana\nLima"}],
    }
    path = tmp_path / "structure.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = snapshot()

    with pytest.raises(CommandError) as refusal:
        call_command("load_seed", file=str(path), stdout=StringIO())

    message = str(refusal.value)
    assert (
        "units[0] “office”: “name”: The name holds a control character (U+000B)"
        in message
    )
    assert "people[0] “ana”: “full_name”: The full name holds a line break" in message
    assert "mandate" not in message
    assert snapshot() == before


def test_import_registry_refuses_a_backup_holding_a_control_character(
    scripted_history: ScriptedHistory, tmp_path: Path
) -> None:
    backup = tmp_path / "registry.jsonl"
    call_command("export_registry", str(backup), stdout=StringIO())
    text = backup.read_text(encoding="utf-8")
    assert text.count('"Unit Y"') >= 1
    backup.write_text(text.replace('"Unit Y"', '"Unit\\u000bY"'), encoding="utf-8")
    empty_the_registry()

    with pytest.raises(CommandError) as refusal:
        call_command("import_registry", str(backup), stdout=StringIO())

    message = str(refusal.value)
    assert message.startswith("Nothing was restored.")
    assert "slug “unit-y”), field name: The name holds a control character" in message
    assert "'Unit\\x0bY'" in message
    assert set(registry_row_counts().values()) == {0}

"""A unit's page says where its work went and where it came from, as of its date."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import at, page_text
from units import services
from units.models import ClosureReason, OrganizationalUnit, UnitKind
from units.selectors.changes.lineage import LINK_VERBS
from units.views.structure_pages import LINEAGE_PHRASES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]


@pytest.fixture
def merger(editor: User) -> dict[str, OrganizationalUnit]:
    """A and B (2024) merged into a new C on 1 March 2025; C renamed in 2026."""
    setup: dict[str, Any] = {"user": editor, "effective_at": at("2024-01-01")}
    office = services.unit_create(
        name="Office", slug="office", kind=UnitKind.OFFICE, reason="Setup", **setup
    )
    a, b = (
        services.unit_create(
            name=f"Department {letter}",
            slug=f"dept-{letter.lower()}",
            kind=UnitKind.DEPARTMENT,
            parent=office,
            reason="Setup",
            **setup,
        )
        for letter in "AB"
    )
    merge: dict[str, Any] = {
        "user": editor,
        "reason": "Merged",
        "effective_at": at("2025-03-01"),
    }
    c = services.unit_create(
        name="Department C",
        slug="dept-c",
        kind=UnitKind.DEPARTMENT,
        parent=office,
        **merge,
    )
    for unit in (a, b):
        services.unit_abolish(unit=unit, **merge)
    services.lineage_record(
        predecessors=[a, b], successors=[c], closure_reason="merged", **merge
    )
    services.unit_update(
        unit=c,
        name="Department of C",
        user=editor,
        reason="Renamed",
        effective_at=at("2026-01-01"),
    )
    return {"a": a, "b": b, "c": c}


def test_a_merged_unit_says_into_what_with_a_link(merger: Any, client: Client) -> None:
    response = client.get("/units/dept-a/")
    assert "Merged into Department of C on 1 March 2025" in page_text(response)
    assert 'href="/units/dept-c/"' in response.content.decode()


def test_the_merged_unit_says_what_it_was_formed_from(
    merger: Any, client: Client
) -> None:
    response = client.get("/units/dept-c/", {"as_of": "2025-06-01"})
    text = page_text(response)
    assert "Formed from Department A and Department B on 1 March 2025" in text
    html = response.content.decode()
    # Links keep the page's date.
    assert 'href="/units/dept-a/?as_of=2025-06-01"' in html
    assert 'href="/units/dept-b/?as_of=2025-06-01"' in html


def test_the_lineage_is_read_as_of_the_page_date(merger: Any, client: Client) -> None:
    # The successor's name as it stood then.
    then = page_text(client.get("/units/dept-a/", {"as_of": "2025-06-01"}))
    assert "Merged into Department C on 1 March 2025" in then
    # Before the merger, nothing of it.
    before = page_text(client.get("/units/dept-a/", {"as_of": "2025-02-01"}))
    assert "Merged into" not in before
    assert "Formed from" not in page_text(
        client.get("/units/office/", {"as_of": "2025-06-01"})
    )


def test_every_closure_reason_reads_as_a_sentence_on_both_sides() -> None:
    sides = ("predecessors", "successors")
    assert set(LINEAGE_PHRASES) == {
        (side, reason) for side in sides for reason in ClosureReason.values
    }
    assert set(LINK_VERBS) == set(ClosureReason.values)


def test_an_absorbing_unit_says_what_it_absorbed(editor: User, client: Client) -> None:
    write: dict[str, Any] = {"user": editor, "reason": "Setup"}
    keeper = services.unit_create(name="Keeper", slug="keeper", kind="unit", **write)
    closed = services.unit_create(name="Closed", slug="closed", kind="unit", **write)
    services.unit_abolish(unit=closed, **write)
    services.lineage_record(
        predecessors=[closed], successors=[keeper], closure_reason="absorbed", **write
    )
    assert "Absorbed Closed on" in page_text(client.get("/units/keeper/"))
    assert "Absorbed into Keeper on" in page_text(client.get("/units/closed/"))

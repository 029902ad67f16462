"""Issue 16: an internal reason reaches editors and auditors only, never the public.

Every change of every kind of object gets an internal reason holding one marker; then
every GET route of the API and every public page (walked from the URL conf, so a new
route is walked without being named here) is read anonymously, as JSON and as the
browsable API, and the marker must be in no answer. The same reads by an auditor show
the reasons, marked internal; and a cached or ETagged answer never crosses between
the two.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.conftest import ScriptedHistory
from tests.factories import (
    RelationshipFactory,
    absorbed_unit,
    every_change,
    submitted_reorganization,
)
from units import services
from units.models import (
    Appointment,
    OrganizationalUnit,
    ReasonVisibility,
    RelationshipKind,
    Reorganization,
    UnitRelationship,
)

MARKER = "INTERNAL-REASON-7f3a"
PUBLIC_REASON = "Published restructuring note"
AUDITORS = "Registry auditors"
WHOLE_WINDOW = "from=2019-12-31&to=2099-12-31"


def nested_resolvers(entries: list[Any]) -> Iterator[URLResolver]:
    """Every resolver of the URL conf, also inside the pages' language prefix
    (i18n_patterns wraps the ``units`` namespace in a resolver of its own)."""
    for entry in entries:
        if isinstance(entry, URLResolver):
            yield entry
            if entry.namespace is None:
                yield from nested_resolvers(entry.url_patterns)


def patterns(namespace: str) -> Iterator[URLPattern]:
    """Every route of a namespace (``api``, ``units``), from the URL conf."""
    (resolver,) = (
        resolver
        for resolver in nested_resolvers(get_resolver().url_patterns)
        if resolver.namespace == namespace
    )
    assert isinstance(resolver, URLResolver), resolver
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern), pattern
        yield pattern


API_ROUTES = sorted(str(pattern.name) for pattern in patterns("api"))
PAGE_ROUTES = sorted(str(pattern.name) for pattern in patterns("units"))
# Query strings each route is also read with, so the answers that list changes are
# read whole, by cursor, by offset and from the end (the Atom feed).
API_QUERIES: dict[str, tuple[str, ...]] = {
    "changes": (
        "",
        "since=2023-01-01",
        "offset=0&limit=500",
        "limit=1",
        "type=reorganization",
        "unit=unit-z&unit_posts=true",
        "until=2099-01-01",
        "recorded_since=2000-01-01",
        "recorded_until=2099-01-01&limit=1",
    ),
    "changes-atom": ("", "since=2023-01-01", "type=reorganization"),
    "changes-atom-recorded": ("", "since=2023-01-01", "recorded_since=2000-01-01"),
    "search": ("q=Unit", "q=Ana"),
    "unit-history": ("", "as_of=2099-01-01"),
    # Now and a past instant (a future one is refused).
    "export-snapshot": ("", "as_of=2023-06-02"),
    # Future reads: the scheduled reorganization (internal reason) applied, planned.
    "tree": ("", "as_of=2099-01-01"),
    "unit-list": ("", "as_of=2099-01-01"),
    "unit-detail": ("", "as_of=2099-01-01"),
}
PAGE_QUERIES: dict[str, tuple[str, ...]] = {
    "compare": (
        "",
        WHOLE_WINDOW,
        "from=2023-06-30&to=2099-12-31",
        "as_of=2023-06-02&known_from=2000-01-01",
    ),
    "search": ("q=Unit", "q=Ana"),
    "structure": ("", "as_of=2023-06-02", "as_of=2099-01-01"),
    "chart": ("", "as_of=2099-01-01"),
    "unit-detail": ("", "as_of=2099-01-01"),
}


@pytest.fixture
def internal_history(
    scripted_history: ScriptedHistory, editor: User, approver: User
) -> dict:
    """The scripted history, then an internal change of every kind of object.

    Some say ``internal``, others leave it to ``REASON_VISIBILITY_DEFAULT`` (internal);
    one change is public, so the walk also shows public reasons still reach everyone.
    """
    history = scripted_history
    write: dict[str, Any] = {
        "user": editor,
        "reason_visibility": ReasonVisibility.INTERNAL,
    }
    relationship = RelationshipFactory.create(
        source=history.unit_x,
        target=history.root,
        kind=RelationshipKind.COLLABORATES_WITH,
        reason=f"{MARKER} relationship",
        **write,
    )
    services.relationship_end(
        relationship=relationship, reason=f"{MARKER} relationship ended", **write
    )
    services.unit_update(
        unit=history.unit_x, reason=f"{MARKER} unit", mandate="New mandate.", **write
    )
    # Into and out of units: entries of their parents' timelines too.
    services.unit_move(
        unit=history.unit_y,
        new_parent=history.root,
        reason=f"{MARKER} unit moved",
        **write,
    )
    services.unit_create(
        name="Unit Z",
        slug="unit-z",
        kind="unit",
        parent=history.department_b,
        user=editor,
        reason=f"{MARKER} unit established",  # the default: internal
    )
    services.post_update(
        post=history.head_of_x, reason=f"{MARKER} post", title="Head of Ex", **write
    )
    services.person_update(
        person=history.ben, user=editor, reason=f"{MARKER} person", full_name="Ben O."
    )
    appointment = Appointment.objects.get(person=history.ben)
    services.appointment_end(
        appointment=appointment,
        ended_on=datetime.date.today(),
        reason=f"{MARKER} appointment",
        **write,
    )
    services.unit_update(
        unit=history.department_b,
        user=editor,
        reason=PUBLIC_REASON,
        reason_visibility=ReasonVisibility.PUBLIC,
        short_name="DB",
    )
    # A reorganization whose reason is internal, applied: public itself (approved), its
    # reason and the reason on every revision it wrote are not.
    reorganization = submitted_reorganization(
        OrganizationalUnit.objects.get(slug="unit-z"),
        author=editor,
        effective_at=timezone.now(),
        reason=f"{MARKER} reorganization",
        reason_visibility=ReasonVisibility.INTERNAL,
    )
    services.reorganization_approve(reorganization=reorganization, user=approver)
    assert Reorganization.objects.get(pk=reorganization.pk).status == "applied"
    # And one scheduled, with an internal reason: future reads and its preview show it
    # applied, never its reason.
    planned = submitted_reorganization(
        history.unit_x,
        author=editor,
        effective_at=timezone.now() + datetime.timedelta(days=30),
        reason=f"{MARKER} planned reorganization",
        reason_visibility=ReasonVisibility.INTERNAL,
    )
    services.reorganization_approve(reorganization=planned, user=approver)
    # A unit absorbed into unit X: its establishment, abolition and lineage link.
    link = absorbed_unit(
        history.unit_x,
        reason=f"{MARKER} lineage",
        reason_visibility=ReasonVisibility.INTERNAL,
    )
    objects: dict[str, dict[str, Any]] = {
        "lineage": {"pk": link.pk},
        "reorganization": {"pk": reorganization.pk},
        "reorganization-preview": {"pk": planned.pk},
        "operation": {"pk": reorganization.operations.get().pk},
        "unit": {"slug": history.unit_x.slug},
        # Its latest version, one with an internal reason.
        "unit-version": {
            "slug": history.unit_x.slug,
            "history_id": history.unit_x.history.order_by("-history_id")
            .values_list("history_id", flat=True)
            .first(),
        },
        "post": {"slug": history.head_of_x.slug},
        "person": {"slug": history.ben.slug},
        "appointment": {"pk": appointment.pk},
        "relationship": {"pk": relationship.pk},
    }
    # Each object's latest version, as for the unit.
    for kind, recorded in (
        ("post", history.head_of_x),
        ("person", history.ben),
        ("appointment", appointment),
        ("relationship", relationship),
        ("lineage", link),
    ):
        latest = recorded.history.order_by("-history_id").values_list(
            "history_id", flat=True
        )
        objects[f"{kind}-version"] = {**objects[kind], "history_id": latest.first()}
    return objects


def api_addresses(name: str, objects: dict) -> list[str]:
    """The route filled with objects that have internal changes, with its queries."""
    pattern = next(pattern for pattern in patterns("api") if pattern.name == name)
    if pattern.pattern.converters:
        kwargs = objects.get(name, objects[name.split("-")[0]])
        url = reverse(f"api:{name}", kwargs=kwargs)
    else:
        url = reverse(f"api:{name}")
    return [
        f"{url}?{query}" if query else url for query in API_QUERIES.get(name, ("",))
    ]


def page_addresses(name: str) -> list[str]:
    """The page for every unit it takes (each unit's timeline), with its queries."""
    pattern = next(pattern for pattern in patterns("units") if pattern.name == name)
    converters = pattern.pattern.converters
    if "slug" in converters:
        urls = [
            reverse(f"units:{name}", kwargs={"slug": slug})
            for slug in OrganizationalUnit.objects.values_list("slug", flat=True)
        ]
    elif "file_format" in converters:
        urls = [reverse(f"units:{name}", kwargs={"file_format": "svg"})]
    else:
        urls = [reverse(f"units:{name}")]
    queries = PAGE_QUERIES.get(name, ("",))
    return [f"{url}?{query}" if query else url for url in urls for query in queries]


def every_anonymous_address(objects: dict) -> list[tuple[str, dict[str, Any]]]:
    """Every API GET as JSON and as the browsable API, and every public page."""
    addresses: list[tuple[str, dict[str, Any]]] = []
    for name in API_ROUTES:
        for url in api_addresses(name, objects):
            addresses.append((url, {}))
            addresses.append((url, {"HTTP_ACCEPT": "text/html"}))
    for name in PAGE_ROUTES:
        addresses.extend((url, {}) for url in page_addresses(name))
    addresses.append(("/favicon.ico", {}))
    return addresses


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    if response.get("Content-Type") == "application/zip":
        # A snapshot: its files are compressed, so the marker is looked for in them.
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return "\n".join(
                archive.read(name).decode(errors="replace")
                for name in archive.namelist()
            )
    return response.content.decode(errors="replace")


@pytest.fixture
def auditor(db: None) -> User:
    user = User.objects.create_user(username="auditor", password="auditor-pass-123")
    user.groups.add(Group.objects.get(name=AUDITORS))
    return user


@pytest.fixture
def auditor_client(auditor: User) -> Client:
    client = Client()
    client.force_login(auditor)
    return client


def test_the_walk_covers_every_route() -> None:
    assert {"changes", "changes-atom", "unit-history", "post-history"} <= set(
        API_ROUTES
    )
    assert {"person-history", "appointment-history", "relationship-history"} <= set(
        API_ROUTES
    )
    assert {
        "export-csv",
        "export-xlsx",
        "export-jsonld",
        "export-popolo",
        "search",
    } <= set(API_ROUTES)
    assert "export-snapshot" in API_ROUTES
    assert {"lineage-detail", "lineage-history"} <= set(API_ROUTES)
    assert {"structure", "unit-detail", "compare", "chart", "search"} <= set(
        PAGE_ROUTES
    )


@pytest.mark.django_db
def test_no_anonymous_answer_holds_an_internal_reason(internal_history: dict) -> None:
    client = Client()
    read = 0
    for url, headers in every_anonymous_address(internal_history):
        response = client.get(url, **headers)
        assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, url
        assert MARKER not in body(response), (url, headers)
        read += 1
    # Every API route twice (JSON and browsable), every page for every unit.
    assert read > 2 * len(API_ROUTES) + len(PAGE_ROUTES)


@pytest.mark.django_db
def test_the_public_reads_that_a_reason_is_not_public(internal_history: dict) -> None:
    client = Client()
    history = client.get(reverse("api:unit-history", kwargs=internal_history["unit"]))
    newest = history.json()["results"][0]
    assert (newest["reason"], newest["reason_visibility"]) == (None, "internal")
    entries = client.get(reverse("api:changes")).json()["results"]
    changes = every_change(entries)
    assert PUBLIC_REASON in {change["reason"] for change in changes}
    # The reorganization's entry withholds its internal reason as its changes do.
    [reorganization] = [e["reorganization"] for e in entries if "reorganization" in e]
    assert (reorganization["reason"], reorganization["reason_visibility"]) == (
        None,
        "internal",
    )
    assert reorganization["author"] is None
    assert any(
        change["reason"] is None and change["reason_visibility"] == "internal"
        for change in changes
    )
    page = body(client.get(reverse("units:unit-detail", kwargs={"slug": "unit-x"})))
    assert "Reason not public." in page
    compare = body(client.get(f"{reverse('units:compare')}?{WHOLE_WINDOW}"))
    assert "Reason not public." in compare
    assert PUBLIC_REASON in compare
    atom = body(client.get(reverse("api:changes-atom")))
    assert "Reason: reason not public" in atom
    assert PUBLIC_REASON in atom


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route", "kind", "reason"),
    [
        ("api:unit-history", "unit", "unit"),
        ("api:post-history", "post", "post"),
        ("api:person-history", "person", "person"),
        ("api:appointment-history", "appointment", "appointment"),
        ("api:relationship-history", "relationship", "relationship ended"),
        ("api:lineage-history", "lineage", "lineage"),
    ],
)
def test_an_auditor_reads_every_objects_internal_reason(
    internal_history: dict, auditor_client: Client, route: str, kind: str, reason: str
) -> None:
    response = auditor_client.get(reverse(route, kwargs=internal_history[kind]))

    newest = response.json()["results"][0]
    assert newest["reason"] == f"{MARKER} {reason}"
    assert newest["reason_visibility"] == "internal"
    assert newest["author"] == "editor"


@pytest.mark.django_db
def test_an_auditor_reads_internal_reasons_marked_on_feeds_and_pages(
    internal_history: dict, auditor_client: Client
) -> None:
    entries = auditor_client.get(f"{reverse('api:changes')}?limit=500").json()
    reasons = {
        change["reason"]
        for change in every_change(entries["results"])
        if change["reason_visibility"] == "internal"
    }
    [reorganization] = [
        e["reorganization"] for e in entries["results"] if "reorganization" in e
    ]
    assert reorganization["reason"] == f"{MARKER} reorganization"
    assert reorganization["author"] == "editor"
    # The kinds of object the feed lists (units, appointments, relationships).
    assert {
        f"{MARKER} unit",
        f"{MARKER} appointment",
        f"{MARKER} relationship ended",
        f"{MARKER} lineage",
    } <= reasons
    assert "lineage_recorded" in {
        change["kind"]
        for change in every_change(entries["results"])
        if change["reason"] == f"{MARKER} lineage"
    }
    atom = body(auditor_client.get(reverse("api:changes-atom")))
    assert f"{MARKER} unit (internal)" in atom
    unit_page = body(
        auditor_client.get(reverse("units:unit-detail", kwargs={"slug": "unit-x"}))
    )
    assert f"{MARKER} unit" in unit_page
    assert "(internal)" in unit_page
    # A sub-unit's move and an appointment ending are entries of others' timelines.
    root_page = body(
        auditor_client.get(reverse("units:unit-detail", kwargs={"slug": "hq"}))
    )
    assert f"{MARKER} unit moved" in root_page
    compare = body(auditor_client.get(f"{reverse('units:compare')}?{WHOLE_WINDOW}"))
    assert f"{MARKER} unit moved" in compare
    assert "(internal)" in compare


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route", ["api:changes", "api:unit-history", "api:changes-atom"]
)
def test_a_cached_or_etagged_staff_answer_never_reaches_the_public(
    internal_history: dict, auditor_client: Client, route: str
) -> None:
    kwargs = internal_history["unit"] if route == "api:unit-history" else {}
    url = reverse(route, kwargs=kwargs)
    staff = auditor_client.get(url)
    assert MARKER in body(staff)

    anonymous = Client().get(url)
    revalidated = Client().get(url, HTTP_IF_NONE_MATCH=staff["ETag"])

    assert MARKER not in body(anonymous)
    assert anonymous["ETag"] != staff["ETag"]
    assert revalidated.status_code == HTTPStatus.OK
    assert MARKER not in body(revalidated)
    assert "Cookie" in staff["Vary"]


@pytest.mark.django_db
def test_relationships_with_an_internal_reason_are_listed_without_it(
    internal_history: dict,
) -> None:
    """The relationship itself is public; only why it changed is withheld."""
    relationship = UnitRelationship.objects.get(
        pk=internal_history["relationship"]["pk"]
    )
    response = Client().get(
        reverse("api:relationship-history", kwargs={"pk": relationship.pk})
    )
    assert response.status_code == HTTPStatus.OK
    assert [revision["reason"] for revision in response.json()["results"]] == [
        None,
        None,
    ]

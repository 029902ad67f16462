"""Reads of a future instant and previews: the scheduled reorganizations applied,
marked planned, rolled back after (units/services/reorganizations/planned.py,
orgregistry/planned_reads.py)."""

from __future__ import annotations

import datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from tests.services.test_reorganizations import (
    FIVE_OPERATIONS,
    clock_at,
    history_count,
    registry,
)
from units import services
from units.models import (
    OperationKind,
    Reorganization,
    ReorganizationOperation,
    UnitKind,
)
from units.services.reorganizations.payloads import check_payload
from units.services.reorganizations.records import record
from units.services.reorganizations.tryout import reorganization_problems

pytestmark = pytest.mark.django_db
__all__ = ["registry"]  # the fixture, shared
SECOND = datetime.timedelta(seconds=1)


def draft(
    editor: User,
    operations: list[tuple[str, dict[str, Any]]],
    *,
    effective_at: datetime.datetime | None = None,
) -> Reorganization:
    """A draft of ``operations``, tried out once as a whole.

    ``operation_add`` tries out the whole draft again after each operation it adds
    (tests/services/test_reorganizations.py): five operations cost fifteen applied,
    and on PostgreSQL every one is a dozen round trips. These tests read drafts; the
    operations are still checked and the draft's problems are the service's.
    """
    reorganization = services.reorganization_create(
        user=editor,
        title="Restructure B",
        reference="DG bulletin 2026/14",
        reason="DG bulletin 2026/14",
        effective_at=effective_at or timezone.now(),
    )
    rows = [
        ReorganizationOperation(
            reorganization=reorganization, kind=kind, payload=payload, position=position
        )
        for position, (kind, payload) in enumerate(operations, start=1)
    ]
    for row in rows:
        check_payload(row.kind, row.payload)
        row.full_clean()
    ReorganizationOperation.objects.bulk_create(rows)
    reorganization.problems = reorganization_problems(reorganization)
    record(reorganization, editor, "Operations added")
    reorganization.refresh_from_db()
    return reorganization


def scheduled(
    editor: User, approver: User, operations: list[tuple[str, dict[str, Any]]]
) -> Reorganization:
    """Drafted, submitted and approved to take effect in ten days (submitting and
    approving try it out again, and refuse it if it does not apply)."""
    reorganization = draft(
        editor, operations, effective_at=timezone.now() + datetime.timedelta(days=10)
    )
    assert reorganization.problems == []
    services.reorganization_submit(reorganization=reorganization, user=editor)
    return services.reorganization_approve(reorganization=reorganization, user=approver)


def at(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def day_after(reorganization: Reorganization) -> str:
    return (reorganization.effective_at + datetime.timedelta(days=1)).date().isoformat()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def editor_client(editor: User) -> Client:
    editor.groups.add(Group.objects.get(name="Registry editors"))
    return signed_in(editor)


def test_a_read_one_second_before_and_after_a_scheduled_time(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    rows = history_count()
    when = reorganization.effective_at

    # The clock stands still well before it (no worker, no catch-up applies it).
    with clock_at(when - datetime.timedelta(days=2)):
        before = client.get(f"/api/v1/units/a2/?as_of={at(when - SECOND)}").json()
        after = client.get(f"/api/v1/units/a2/?as_of={at(when + SECOND)}")

    assert before["parent"] == "dept-a"
    assert "planned" not in before
    assert after.status_code == HTTPStatus.OK, after.content
    data = after.json()
    assert data["parent"] == "new-div"
    assert data["planned"] is True
    [shown] = data["planned_reorganizations"]
    assert (shown["id"], shown["title"], shown["reference"]) == (
        reorganization.pk,
        "Restructure B",
        "DG bulletin 2026/14",
    )
    assert after["Registry-Planned"] == "true"
    # Nothing of it was kept.
    assert history_count() == rows
    reorganization.refresh_from_db()
    assert reorganization.status == "approved"


def test_future_api_reads_are_planned(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    day = day_after(reorganization)
    tree = client.get(f"/api/v1/tree/?as_of={day}").json()
    [office] = tree
    assert office["planned"] is True
    dept_b = next(unit for unit in office["children"] if unit["slug"] == "dept-b")
    [division] = dept_b["children"]
    assert division["slug"] == "new-div"
    assert [unit["slug"] for unit in division["children"]] == ["a2"]
    units = client.get(f"/api/v1/units/?as_of={day}").json()
    assert units["planned"] is True
    assert "new-div" in {unit["slug"] for unit in units["results"]}
    branch = client.get(f"/api/v1/units/new-div/tree/?as_of={day}").json()
    assert branch["slug"] == "new-div" and branch["planned"] is True
    posts = client.get(f"/api/v1/posts/?as_of={day}").json()
    assert posts["planned"] is True
    # Today, and a future date before it, are as recorded.
    assert "planned" not in client.get("/api/v1/units/").json()
    assert client.get("/api/v1/units/new-div/").status_code == HTTPStatus.NOT_FOUND
    soon = (timezone.now() + datetime.timedelta(days=1)).date().isoformat()
    assert "planned" not in client.get(f"/api/v1/units/?as_of={soon}").json()


def test_a_planned_read_goes_uncompressed_to_a_client_that_takes_gzip(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    """The planned-read middleware marks the JSON after the view: the view leaves
    it uncompressed (api.conditional._send_bytes)."""
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    response = client.get(
        f"/api/v1/tree/?as_of={day_after(reorganization)}",
        HTTP_ACCEPT_ENCODING="gzip",
    )

    assert response.status_code == HTTPStatus.OK
    assert not response.has_header("Content-Encoding")
    assert response.json()[0]["planned"] is True


def test_future_reads_are_planned_on_every_page(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    rows = history_count()
    day = day_after(reorganization)
    for path in (
        "/",
        "/units/a2/",
        "/units/new-div/",
        "/chart/",
        "/posts/",
        "/people/",
    ):
        answer = client.get(f"{path}?as_of={day}")
        assert answer.status_code == HTTPStatus.OK, (path, answer.content[:300])
        text = answer.content.decode()
        assert "Planned:" in text, path
        assert "Restructure B" in text, path
    chart = client.get(f"/chart/?as_of={day}&depth=all").content.decode()
    assert "planned for" in chart
    assert "New Division" in chart
    svg = client.get(f"/chart/download.svg?as_of={day}").content.decode()
    assert "planned for" in svg
    compare = client.get(f"/compare/?from=2020-01-01&to={day}").content.decode()
    assert "New Division" in compare
    assert "Planned:" in compare
    today = client.get("/chart/").content.decode()
    assert "Planned:" not in today and "New Division" not in today
    assert history_count() == rows


def test_a_future_date_with_nothing_scheduled_says_so(
    registry: dict[str, Any], client: Client
) -> None:
    day = (timezone.now() + datetime.timedelta(days=40)).date().isoformat()
    page = client.get(f"/?as_of={day}")
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "Future date:" in text and "Planned:" not in text
    assert "Registry-Planned" not in page


def test_cancelled_it_no_longer_shows_in_a_future_read(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    path = f"/api/v1/units/a2/?as_of={day_after(reorganization)}"
    first = client.get(path)
    assert first.json()["parent"] == "new-div"
    # The same read again is the cached answer, with its validator.
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get(path).json()["parent"] == "new-div"

    services.reorganization_cancel(reorganization=reorganization, user=editor)

    again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == HTTPStatus.OK
    assert again.json()["parent"] == "dept-a"
    assert "planned" not in again.json()
    page = client.get(f"/chart/?as_of={day_after(reorganization)}").content.decode()
    assert "New Division" not in page


def test_a_planned_read_sets_no_read_after_write_cookie(
    registry: dict[str, Any],
    editor: User,
    approver: User,
    client: Client,
    settings: Any,
) -> None:
    settings.DATABASE_READ_REPLICAS = ["default"]
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    answer = client.get(f"/api/v1/tree/?as_of={day_after(reorganization)}")
    assert answer.status_code == HTTPStatus.OK
    assert "orgregistry_read_primary" not in answer.cookies


def test_the_planned_tree_costs_the_same_queries_for_more_units(
    registry: dict[str, Any],
    editor: User,
    approver: User,
    make_unit: Any,
    django_assert_max_num_queries: Any,
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    path = f"/api/v1/tree/?as_of={day_after(reorganization)}"

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            # A signed-in reader: built every time, never from the cache.
            answer = signed_in(editor).get(path)
        assert answer.status_code == HTTPStatus.OK
        return len(queries)

    few = count()
    for number in range(6):
        make_unit(
            f"Extra {number}",
            registry["dept_a"],
            slug=f"extra-{number}",
            effective_at=timezone.now() - datetime.timedelta(days=20),
        )
    assert count() == few


# --- Preview -------------------------------------------------------------------------


def test_the_preview_shows_the_tree_after_and_what_changes_and_writes_nothing(
    registry: dict[str, Any], editor: User, editor_client: Client
) -> None:
    reorganization = draft(
        editor,
        FIVE_OPERATIONS,
        effective_at=timezone.now() + datetime.timedelta(days=5),
    )
    rows = history_count()
    answer = editor_client.get(f"/api/v1/reorganizations/{reorganization.pk}/preview/")
    assert answer.status_code == HTTPStatus.OK, answer.content
    data = answer.json()
    assert data["problems"] == []
    assert data["planned"] is True
    kinds = sorted(change["kind"] for change in data["changes"])
    assert kinds == sorted(
        [
            "added",
            "mandate_changed",
            "moved",
            "appointment_started",
            "relationship_added",
        ]
    )
    [office] = data["tree"]
    dept_b = next(unit for unit in office["children"] if unit["slug"] == "dept-b")
    assert dept_b["children"][0]["slug"] == "new-div"
    assert history_count() == rows
    reorganization.refresh_from_db()
    assert reorganization.status == "draft"
    # The chart of the structure after it, for the admin's preview page.
    chart = editor_client.get(f"/chart/?preview={reorganization.pk}&depth=all")
    text = chart.content.decode()
    assert "Preview:" in text and "New Division" in text
    assert history_count() == rows


def test_a_preview_that_does_not_apply_says_why(
    registry: dict[str, Any], editor: User, editor_client: Client
) -> None:
    reorganization = draft(
        editor, [(OperationKind.MOVE_UNIT, {"unit": "dept-a", "parent": "a1"})]
    )
    data = editor_client.get(
        f"/api/v1/reorganizations/{reorganization.pk}/preview/"
    ).json()
    assert data["problems"][0]["operation"] == 0
    assert data["tree"] == [] and data["changes"] == []


def test_anonymous_readers_cannot_preview_a_draft(
    registry: dict[str, Any], editor: User, client: Client
) -> None:
    reorganization = draft(editor, FIVE_OPERATIONS)
    rows = history_count()
    api = client.get(f"/api/v1/reorganizations/{reorganization.pk}/preview/")
    assert api.status_code == HTTPStatus.NOT_FOUND
    chart = client.get(f"/chart/?preview={reorganization.pk}")
    assert chart.status_code == HTTPStatus.NOT_FOUND
    assert "New Division" not in chart.content.decode()
    tree = client.get(f"/api/v1/tree/?preview={reorganization.pk}")
    assert tree.status_code == HTTPStatus.NOT_FOUND
    assert history_count() == rows


def test_bad_previews_are_refused(
    registry: dict[str, Any], editor: User, editor_client: Client
) -> None:
    assert editor_client.get("/chart/?preview=x").status_code == HTTPStatus.BAD_REQUEST
    assert editor_client.get("/chart/?preview=999").status_code == HTTPStatus.NOT_FOUND
    missing = editor_client.get("/api/v1/reorganizations/999/preview/")
    assert missing.status_code == HTTPStatus.NOT_FOUND
    reorganization = draft(editor, FIVE_OPERATIONS)
    services.reorganization_cancel(reorganization=reorganization, user=editor)
    cancelled = editor_client.get(
        f"/api/v1/reorganizations/{reorganization.pk}/preview/"
    )
    assert cancelled.status_code == HTTPStatus.CONFLICT
    assert "cancelled" in cancelled.json()["detail"]
    assert (
        editor_client.get(f"/chart/?preview={reorganization.pk}").status_code
        == HTTPStatus.CONFLICT
    )


# --- The upcoming page ---------------------------------------------------------------


def test_the_upcoming_page_lists_scheduled_ones_in_words(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    page = client.get("/upcoming/")
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "Restructure B" in text and "DG bulletin 2026/14" in text
    assert "Move “Unit A2” under “New Division”" in text
    assert "Appoint “Ada Lovelace” to “Head of B”" in text
    assert f"as_of={at(reorganization.effective_at)}".replace(":", "%3A") in text
    # Its reason is internal (the default): not for the public.
    assert "Reason not public" in text
    assert 'href="/upcoming/"' in client.get("/").content.decode()


def test_the_upcoming_page_costs_the_same_queries_for_more_operations(
    registry: dict[str, Any],
    editor: User,
    approver: User,
    client: Client,
    django_assert_num_queries: Any,
) -> None:
    scheduled(editor, approver, FIVE_OPERATIONS[:2])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/upcoming/")
    second = draft(
        editor,
        [
            (
                OperationKind.ESTABLISH_UNIT,
                {"name": f"Cell {n}", "kind": UnitKind.UNIT, "slug": f"cell-{n}"},
            )
            for n in range(4)
        ],
        effective_at=timezone.now() + datetime.timedelta(days=20),
    )
    services.reorganization_submit(reorganization=second, user=editor)
    services.reorganization_approve(reorganization=second, user=approver)
    with django_assert_num_queries(len(few)):
        assert "Cell 3" in client.get("/upcoming/").content.decode()


def test_the_admin_preview_page_lists_the_changes_and_embeds_the_chart(
    registry: dict[str, Any], editor: User, editor_client: Client
) -> None:
    from django.urls import reverse

    reorganization = draft(editor, FIVE_OPERATIONS)
    rows = history_count()
    change_page = editor_client.get(
        reverse("admin:units_reorganization_change", args=[reorganization.pk])
    ).content.decode()
    url = reverse("admin:units_reorganization_preview", args=[reorganization.pk])
    assert url in change_page
    page = editor_client.get(url)
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert 'id="preview-changes"' in text
    assert "New Division" in text and "Unit A2" in text
    svg_url = reverse("units:chart-download", args=["svg"])
    assert f"{svg_url}?preview={reorganization.pk}" in text
    svg = editor_client.get(f"{svg_url}?preview={reorganization.pk}&depth=all")
    assert svg.status_code == HTTPStatus.OK
    assert "New Division" in svg.content.decode()
    assert history_count() == rows


def test_the_admin_preview_page_is_for_staff_only(
    registry: dict[str, Any], editor: User, client: Client
) -> None:
    from django.urls import reverse

    reorganization = draft(editor, FIVE_OPERATIONS)
    url = reverse("admin:units_reorganization_preview", args=[reorganization.pk])
    assert client.get(url).status_code == HTTPStatus.FOUND  # to the login page
    outsider = User.objects.create_user(
        "outsider", password="x-pass-12345", is_staff=True
    )
    answer = signed_in(outsider).get(url)
    assert answer.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)


def test_the_list_filters_the_scheduled_ones(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    listed = client.get("/api/v1/reorganizations/?status=scheduled").json()
    assert [item["id"] for item in listed["results"]] == [reorganization.pk]
    with clock_at(reorganization.effective_at - SECOND):
        assert client.get("/api/v1/reorganizations/?status=scheduled").json()["results"]
    services.reorganization_cancel(reorganization=reorganization, user=editor)
    assert (
        client.get("/api/v1/reorganizations/?status=scheduled").json()["results"] == []
    )
    bad = client.get("/api/v1/reorganizations/?status=soon")
    assert bad.status_code == HTTPStatus.BAD_REQUEST


def test_a_plans_internal_reason_is_for_staff_only(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    assert reorganization.reason_visibility == "internal"
    path = f"/api/v1/units/a2/?as_of={day_after(reorganization)}"
    public = client.get(path).json()["planned_reorganizations"][0]
    assert public["reason"] is None and public["reason_visibility"] == "internal"
    auditor = User.objects.create_user("auditor-x", password="x-pass-12345")
    auditor.groups.add(Group.objects.get(name="Registry auditors"))
    staff = signed_in(auditor).get(path).json()["planned_reorganizations"][0]
    assert staff["reason"] == "DG bulletin 2026/14"
    for page in ("/upcoming/", f"/?as_of={day_after(reorganization)}"):
        assert "DG bulletin 2026/14</" not in client.get(page).content.decode()


def test_a_planned_read_runs_inside_the_anonymous_timeout_after_the_routing() -> None:
    from django.conf import settings

    order = settings.MIDDLEWARE
    planned = order.index("orgregistry.planned_reads.PlannedReadMiddleware")
    assert order.index("orgregistry.database_routing.ReadRoutingMiddleware") < planned
    assert (
        order.index("orgregistry.reorganizations.ReorganizationCatchUpMiddleware")
        < planned
    )
    assert (
        order.index("orgregistry.statement_timeout.AnonymousReadTimeoutMiddleware")
        < planned
    )


def test_an_anonymous_planned_read_under_the_statement_timeout(
    registry: dict[str, Any],
    editor: User,
    approver: User,
    client: Client,
    settings: Any,
) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("The statement timeout is PostgreSQL's.")
    settings.ANONYMOUS_STATEMENT_TIMEOUT_MS = 5000
    seen: list[str] = []
    from units.services.reorganizations import planned as planned_module

    real = planned_module.run_operations

    def spy(reorganization: Reorganization) -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            seen.append(cursor.fetchone()[0])
        return real(reorganization)

    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    from unittest import mock

    with mock.patch.object(planned_module, "run_operations", spy):
        answer = client.get(f"/api/v1/tree/?as_of={day_after(reorganization)}")
    assert answer.status_code == HTTPStatus.OK
    assert answer.json()[0]["planned"] is True
    assert seen == ["5s"]


def test_anonymous_planned_builds_run_one_at_a_time(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    from django.core.cache import cache

    from orgregistry import planned_reads

    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    rows = history_count()
    cache.add(planned_reads.BUILD_LOCK, 1, 60)  # another build is running
    try:
        from unittest import mock

        with mock.patch.object(planned_reads, "BUILD_WAIT_SECONDS", 0.2):
            busy = client.get(f"/api/v1/tree/?as_of={day_after(reorganization)}")
    finally:
        cache.delete(planned_reads.BUILD_LOCK)
    assert busy.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert busy["Retry-After"] == "5"
    assert "try again" in busy.json()["detail"]
    assert history_count() == rows
    again = client.get(f"/api/v1/tree/?as_of={day_after(reorganization)}")
    assert again.status_code == HTTPStatus.OK


@pytest.mark.parametrize("when", ["", "?as_of={past}", "?as_of={soon}"])
def test_reads_of_now_the_past_or_an_unplanned_future_cost_nothing_more(
    registry: dict[str, Any],
    editor: User,
    approver: User,
    client: Client,
    settings: Any,
    when: str,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    soon = (reorganization.effective_at - datetime.timedelta(days=2)).isoformat()
    past = (timezone.now() - datetime.timedelta(days=10)).date().isoformat()
    path = "/api/v1/units/a2/" + when.format(
        soon=soon.replace("+00:00", "Z"), past=past
    )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(path)
        assert answer.status_code == HTTPStatus.OK
        assert "planned" not in answer.json()
        return len(captured)

    client.get(path)  # the schedule's next due time is cached now
    with_it = queries()
    settings.MIDDLEWARE = [
        name
        for name in settings.MIDDLEWARE
        if name != "orgregistry.planned_reads.PlannedReadMiddleware"
    ]
    assert queries() == with_it


def test_the_preview_costs_the_same_queries_for_more_units(
    registry: dict[str, Any], editor: User, editor_client: Client, make_unit: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reorganization = draft(editor, FIVE_OPERATIONS)
    path = f"/api/v1/reorganizations/{reorganization.pk}/preview/"

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert editor_client.get(path).status_code == HTTPStatus.OK
        return len(queries)

    few = count()
    for number in range(6):
        make_unit(
            f"Extra {number}",
            registry["dept_a"],
            slug=f"extra-{number}",
            effective_at=timezone.now() - datetime.timedelta(days=20),
        )
    assert count() == few
    structure = editor_client.get(f"/?preview={reorganization.pk}").content.decode()
    assert "Preview:" in structure and "New Division" in structure


def test_a_token_readers_planned_answer_never_reaches_the_public(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    from rest_framework.authtoken.models import Token

    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    auditor = User.objects.create_user("auditor-t", password="x-pass-12345")
    auditor.groups.add(Group.objects.get(name="Registry auditors"))
    token = Token.objects.create(user=auditor)
    path = f"/api/v1/units/a2/?as_of={day_after(reorganization)}"
    staff = Client(HTTP_AUTHORIZATION=f"Token {token.key}").get(path).json()
    assert staff["planned_reorganizations"][0]["reason"] == "DG bulletin 2026/14"
    public = client.get(path).json()
    assert public["planned_reorganizations"][0]["reason"] is None


def test_an_anonymous_planned_page_is_built_once_then_served_from_the_cache(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    path = f"/chart/?as_of={day_after(reorganization)}"
    with CaptureQueriesContext(connection) as built:
        first = client.get(path)
    with CaptureQueriesContext(connection) as kept:
        second = client.get(path)
    assert second.status_code == HTTPStatus.OK
    assert second.content == first.content
    assert second["Registry-Planned"] == "true"
    # The schedule, the generation and the next due time: no plan applied again.
    assert len(kept) <= 3 < len(built)


def test_approving_another_changes_the_cached_plan(
    registry: dict[str, Any], editor: User, approver: User, client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    path = f"/api/v1/units/a1/?as_of={day_after(reorganization)}"
    assert client.get(path).json()["mandate"] == "Data."
    rename = draft(
        editor,
        [(OperationKind.CHANGE_UNIT, {"unit": "a1", "fields": {"name": "A one"}})],
        effective_at=timezone.now() + datetime.timedelta(days=3),
    )
    services.reorganization_submit(reorganization=rename, user=editor)
    services.reorganization_approve(reorganization=rename, user=approver)
    data = client.get(path).json()
    assert (data["name"], data["mandate"]) == ("A one", "Data.")
    assert [item["id"] for item in data["planned_reorganizations"]] == [
        rename.pk,
        reorganization.pk,
    ]


def test_a_signed_in_readers_planned_answer_has_a_validator_of_its_own(
    registry: dict[str, Any], editor: User, approver: User, editor_client: Client
) -> None:
    reorganization = scheduled(editor, approver, FIVE_OPERATIONS)
    path = f"/api/v1/units/a2/?as_of={day_after(reorganization)}"
    first = editor_client.get(path)
    assert first.status_code == HTTPStatus.OK
    assert first["ETag"].startswith('"ps')

    again = editor_client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again["ETag"] == first["ETag"]
    assert again["Registry-Planned"] == "true"

    services.reorganization_cancel(reorganization=reorganization, user=editor)
    after = editor_client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert after.status_code == HTTPStatus.OK
    assert after["ETag"] != first["ETag"]

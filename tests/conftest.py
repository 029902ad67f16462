"""Shared fixtures: users in each role, unit builders and a scripted history."""

from __future__ import annotations

import dataclasses
import datetime
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.cache import cache, caches
from django.db import transaction
from pytest_django import DjangoDbBlocker

from api.throttling import throttle_cache
from tests.factories import (
    AppointmentFactory,
    PersonFactory,
    PostFactory,
    UnitFactory,
    editor_user,
)
from units import services
from units.models import OrganizationalUnit, Person, Post, UnitKind
from units.roles import APPROVERS
from units.selectors.reorganizations import NEXT_DUE_KEY, NOTHING_DUE, SCHEDULE_CACHE


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run without TESTING=true rather than run under the wrong settings.

    The settings read TESTING from the environment only; without it every password
    hash takes 0.6 s and pages need collectstatic's manifest, so a bare ``pytest``
    would fail slowly and obscurely. ``make test`` and CI set it.
    """
    from django.conf import settings

    if not settings.TESTING:
        raise pytest.UsageError(
            "The tests need TESTING=true in the environment: run `make test`, or "
            "`TESTING=true python -m pytest ...`."
        )
    compile_stale_catalogs(settings.LOCALE_PATHS)


def compile_stale_catalogs(locale_paths: list[Path]) -> None:
    """Compile each translation catalog whose .mo is missing or older than its .po.

    ``make test`` does this (the .mo files are not in the repository); a bare pytest
    run would otherwise test pages in French and Spanish against stale catalogs.
    """
    for po in (po for path in locale_paths for po in path.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run(  # noqa: S603 (our own files, no shell)
                ["msgfmt", "--check", "-o", str(mo), str(po)],  # noqa: S607
                check=True,
            )


def at(day: str) -> datetime.datetime:
    """An effective time at noon UTC of an ISO date (noon keeps dates unambiguous)."""
    return datetime.datetime.fromisoformat(f"{day}T12:00:00+00:00")


@pytest.fixture
def editor(db: None) -> User:
    """The staff user tests write as; the one a module's shared registry was written
    by when there is one (a fresh instance each test)."""
    return editor_user()


@pytest.fixture
def other_editor(db: None) -> User:
    return get_user_model().objects.create_user(
        username="other-editor", password="other-pass-123", is_staff=True
    )


@pytest.fixture
def approver(db: None) -> User:
    """A member of "Registry approvers" (units/roles.py)."""
    user = get_user_model().objects.create_user(
        username="approver", password="approver-pass-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name=APPROVERS))
    return user


@pytest.fixture(autouse=True)
def _no_reorganization_due() -> None:
    """Each test starts with no reorganization due, as its fresh database holds none.

    The catch-up before every request keeps when the next one is due in the cache,
    which outlives a test's database; what a past test left there must not cost a later
    test a query (its query counts) or apply anything.
    """
    caches[SCHEDULE_CACHE].set(NEXT_DUE_KEY, NOTHING_DUE, timeout=None)


@pytest.fixture(autouse=True)
def _no_cached_answers() -> None:
    """Each test starts with no cached answer.

    The cache outlives a test's database, and the registry generation an answer is
    keyed on starts again with every test: a page a past test cached at generation 3
    would be served as this test's generation 3. Query counts, too, are a test's own
    only when it starts cold.
    """
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    """Each test starts with no anonymous requests counted against the throttle.

    The counters outlive a test (a minute's window); a walk of every route in one test
    (tests/security) must not make the next test's first anonymous request a 429. The
    throttle's own tests count from zero within themselves.
    """
    throttle_cache().clear()


@pytest.fixture
def make_unit(editor: User) -> Callable[..., OrganizationalUnit]:
    """Create a unit through the service, as the editor."""

    def make(
        name: str,
        parent: OrganizationalUnit | None = None,
        *,
        kind: str = UnitKind.UNIT,
        reason: str = "Test setup",
        **fields: Any,
    ) -> OrganizationalUnit:
        return UnitFactory.create(
            user=editor, reason=reason, name=name, kind=kind, parent=parent, **fields
        )

    return make


@dataclass
class ScriptedHistory:
    """A small organization with a known past (all times noon UTC).

    2020-01-01  Headquarters (root), Department A, Department B established
    2020-06-01  Unit X established under Department A; post "Head of X"; Ana appointed
    2021-03-01  Unit X renamed "Unit Ex" and its mandate rewritten
    2022-01-01  Unit X moved from Department A to Department B
    2022-06-01  Department A abolished (it has no sub-units left)
    2023-01-01  Ana's appointment ends; Ben appointed the next day
    recorded late (backdated, effective 2023-06-01): Unit Y established under B
    """

    root: OrganizationalUnit
    department_a: OrganizationalUnit
    department_b: OrganizationalUnit
    unit_x: OrganizationalUnit
    unit_y: OrganizationalUnit
    head_of_x: Post
    ana: Person
    ben: Person


def build_scripted_history(editor: User) -> ScriptedHistory:
    """Write the scripted history through the services, as ``editor``.

    Its reasons are public, as a published history's are: the tests of internal
    reasons write their own.
    """

    def create(
        name: str, parent: OrganizationalUnit | None, day: str, **kw: Any
    ) -> OrganizationalUnit:
        return UnitFactory.create(
            user=editor,
            reason=f"Establish {name}",
            reason_visibility="public",
            name=name,
            parent=parent,
            effective_at=at(day),
            **{"kind": UnitKind.DEPARTMENT, **kw},
        )

    root = create("Headquarters", None, "2020-01-01", kind=UnitKind.OFFICE, slug="hq")
    department_a = create("Department A", root, "2020-01-01", slug="department-a")
    department_b = create("Department B", root, "2020-01-01", slug="department-b")
    unit_x = create(
        "Unit X",
        department_a,
        "2020-06-01",
        kind=UnitKind.UNIT,
        slug="unit-x",
        mandate="Unit X keeps the registry.",
    )
    head_of_x = PostFactory.create(
        user=editor,
        reason="Create head post",
        reason_visibility="public",
        title="Head of X",
        unit=unit_x,
        is_head=True,
        effective_at=at("2020-06-01"),
        slug="head-of-x",
    )
    ana, ben = (
        PersonFactory.create(
            user=editor,
            reason="New person",
            reason_visibility="public",
            full_name=full_name,
            slug=slug,
            effective_at=at("2020-06-01"),
        )
        for full_name, slug in (("Ana Lima", "ana-lima"), ("Ben Okoro", "ben-okoro"))
    )
    AppointmentFactory.create(
        user=editor,
        reason="Ana appointed",
        reason_visibility="public",
        person=ana,
        post=head_of_x,
        started_on=datetime.date(2020, 6, 1),
        effective_at=at("2020-06-01"),
    )
    services.unit_update(
        unit=unit_x,
        user=editor,
        reason="Renamed by the 2021 reform",
        reason_visibility="public",
        effective_at=at("2021-03-01"),
        name="Unit Ex",
        mandate="Unit Ex keeps the registry and publishes it.",
    )
    services.unit_move(
        unit=unit_x,
        new_parent=department_b,
        user=editor,
        reason="Reorganization 2022",
        reason_visibility="public",
        effective_at=at("2022-01-01"),
    )
    services.unit_abolish(
        unit=department_a,
        user=editor,
        reason="Department A closed",
        reason_visibility="public",
        effective_at=at("2022-06-01"),
    )
    appointment = ana.appointments.get()
    services.appointment_end(
        appointment=appointment,
        user=editor,
        reason="End of term",
        reason_visibility="public",
        ended_on=datetime.date(2023, 1, 1),
        effective_at=at("2023-01-01"),
    )
    AppointmentFactory.create(
        user=editor,
        reason="Ben appointed",
        reason_visibility="public",
        person=ben,
        post=head_of_x,
        started_on=datetime.date(2023, 1, 2),
        effective_at=at("2023-01-02"),
    )
    unit_y = create(
        "Unit Y", department_b, "2023-06-01", kind=UnitKind.UNIT, slug="unit-y"
    )
    for unit in (root, department_a, department_b, unit_x, unit_y):
        unit.refresh_from_db()
    return ScriptedHistory(
        root=root,
        department_a=department_a,
        department_b=department_b,
        unit_x=unit_x,
        unit_y=unit_y,
        head_of_x=head_of_x,
        ana=ana,
        ben=ben,
    )


def record_unchanged(
    unit: OrganizationalUnit, user: User, effective_at: datetime.datetime
) -> None:
    """A revision of ``unit`` that changes none of its fields, so the change feed lists
    nothing for it: the services never write one (a write that changes nothing is
    refused), an import or a restored history can."""
    from units.services.revisions import Write, save_revision

    save_revision(
        OrganizationalUnit.objects.get(pk=unit.pk),
        Write(
            user=user,
            reason="Recorded again",
            reason_visibility="public",
            effective_at=effective_at,
        ),
    )


def reread(history: ScriptedHistory) -> ScriptedHistory:
    """The same history with every object read anew from the database.

    A test may change the objects it is given (a service updates an instance in
    place, mptt shifts tree fields); rereading keeps one test's instances from
    leaking into the next, exactly as when the history was rebuilt for each test.
    """
    return ScriptedHistory(
        **{
            field.name: type(value).objects.get(pk=value.pk)
            for field in dataclasses.fields(history)
            for value in [getattr(history, field.name)]
        }
    )


@contextmanager
def rolled_back_registry(
    django_db_blocker: DjangoDbBlocker,
) -> Iterator[None]:
    """A transaction, held open for a module's tests and rolled back after the last.

    What a module-scoped fixture writes inside it is shared by the module's tests,
    each of which runs in its own savepoint within it (pytest-django's ``db``), so
    nothing one test writes reaches the next. Transactional tests (``transactional_db``,
    ``live_server``) cannot see it: they need data committed for them alone.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


# What reaches the test database: a test asking for none of these cannot touch it (pytest-
# django refuses), so it gives the same result on SQLite and on PostgreSQL.
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_setup", "live_server", "_django_db_helper"}
)
SLOW_FOLDERS = {"scale": "scale", "browser": "browser"}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark what CI runs once (``database_free``) and the slow folders.

    Applied at collection, before ``-m`` selects, so ``-m "not database_free"`` works.
    """
    if item.get_closest_marker("django_db") is None and DATABASE_FIXTURES.isdisjoint(
        getattr(item, "fixturenames", ())
    ):
        item.add_marker(pytest.mark.database_free)
    folder = item.path.parent.name
    if folder in SLOW_FOLDERS and item.path.parent.parent.name == "tests":
        item.add_marker(getattr(pytest.mark, SLOW_FOLDERS[folder]))
        item.add_marker(pytest.mark.slow)


# Module-scoped fixtures written through ``rolled_back_registry``: a module's tests that
# use one run after its other tests, which must not see the shared rows.
SHARED_REGISTRIES = frozenset(
    {
        "shared_scripted_history",
        "large_registry",
        "shared_tree_of_300",
        "shared_seed",
        "sized_registry",
    }
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Within each module's run of tests, the ones on a shared registry go last.

    Runs after pytest-django's own ordering (database tests, then transactional ones)
    and keeps it: only neighbours from the same module are reordered.
    """

    def shares(item: pytest.Item) -> bool:
        return not SHARED_REGISTRIES.isdisjoint(getattr(item, "fixturenames", ()))

    ordered: list[pytest.Item] = []
    run: list[pytest.Item] = []
    for item in items:
        if run and item.path != run[0].path:
            ordered.extend(sorted(run, key=shares))
            run = []
        run.append(item)
    ordered.extend(sorted(run, key=shares))
    items[:] = ordered


@pytest.fixture(scope="module")
def shared_scripted_history(
    django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> Iterator[ScriptedHistory]:
    """The scripted history, written once for a module (it was rebuilt ~310 times)."""
    with rolled_back_registry(django_db_blocker):
        yield build_scripted_history(editor_user())


@pytest.fixture
def scripted_history(
    shared_scripted_history: ScriptedHistory, db: None
) -> ScriptedHistory:
    """The module's scripted history, as fresh instances for this test."""
    return reread(shared_scripted_history)


@pytest.fixture
def committed_scripted_history(
    transactional_db: None,
) -> ScriptedHistory:
    """The scripted history committed for one test (``live_server``, other processes)."""
    return build_scripted_history(editor_user())


def tree_fields() -> list[tuple[int, int, int, int, int]]:
    return list(
        OrganizationalUnit.objects.order_by("pk").values_list(
            "pk", "lft", "rght", "level", "tree_id"
        )
    )


def assert_tree_matches_rebuild() -> None:
    """The stored tree fields equal what a full mptt rebuild computes."""
    before = tree_fields()
    OrganizationalUnit.objects.rebuild()
    assert tree_fields() == before


@pytest.fixture
def plain_static_files(settings: Any) -> None:
    """Serve static files without the manifest that only ``collectstatic`` builds
    (pages rendered with ``{% static %}`` outside DEBUG)."""
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


class ResponseWithContent(Protocol):
    """A response whose body a test reads: the test client's, or Django's own."""

    @property
    def content(self) -> bytes: ...


def page_text(response: ResponseWithContent) -> str:
    """The page as text without tags or repeated whitespace, to assert on sentences."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@dataclass
class ReorganizedHistory:
    """Units whose changes a feed lists singly and gathered by reorganization.

    Oldest first: the setup (an office, units u1 to u6, a post of u1), a single change
    (u1 to Paris), ``public`` (public reason: u2 to u6 to Rome, five changes), a
    single change (u2 to Paris), ``internal`` (internal reason: u1 renamed), a single
    change (u1's post retitled), ``later`` (public: u2 to Lisbon).
    """

    since: datetime.datetime
    units: dict[str, OrganizationalUnit]
    post: Post
    public: Any
    internal: Any
    later: Any


def change_unit(slug: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A reorganization's operation that changes fields of the unit ``slug``."""
    return ("change_unit", {"unit": slug, "fields": fields})


@pytest.fixture
def reorganized_history(editor: User, approver: User) -> ReorganizedHistory:
    from tests.factories import applied_reorganization

    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    office = services.unit_create(
        user=editor,
        reason="Setup",
        name="Office",
        slug="office",
        kind=UnitKind.OFFICE,
        effective_at=start,
    )
    units = {"office": office}
    for number in range(1, 7):
        units[f"u{number}"] = services.unit_create(
            user=editor,
            reason="Setup",
            name=f"Unit {number}",
            slug=f"u{number}",
            kind=UnitKind.UNIT,
            parent=office,
            effective_at=start,
        )
    post = services.post_create(
        user=editor,
        reason="Setup",
        unit=units["u1"],
        title="Head of Unit 1",
        slug="head-of-u1",
        effective_at=start,
    )
    services.unit_update(
        unit=units["u1"], user=editor, reason="Single", location="Paris"
    )
    public = applied_reorganization(
        [change_unit(f"u{number}", location="Rome") for number in range(2, 7)],
        author=editor,
        approver=approver,
        title="Move five units",
        reason="Bulletin on Rome",
        reason_visibility="public",
    )
    services.unit_update(
        unit=OrganizationalUnit.objects.get(slug="u2"),
        user=editor,
        reason="Single",
        location="Paris",
    )
    internal = applied_reorganization(
        [change_unit("u1", name="Unit One")],
        author=editor,
        approver=approver,
        title="Rename one",
        reference="",
        reason="Secret bulletin",
        reason_visibility="internal",
    )
    services.post_update(
        post=Post.objects.get(pk=post.pk),
        user=editor,
        reason="Single",
        title="Head of Unit One",
    )
    later = applied_reorganization(
        [change_unit("u2", location="Lisbon")],
        author=editor,
        approver=approver,
        title="To Lisbon",
        reason="Bulletin on Lisbon",
        reason_visibility="public",
    )
    return ReorganizedHistory(
        since=start - datetime.timedelta(days=1),
        units={slug: OrganizationalUnit.objects.get(slug=slug) for slug in units},
        post=Post.objects.get(pk=post.pk),
        public=public,
        internal=internal,
        later=later,
    )

"""A registry kept on SQLite can move to PostgreSQL (issue 12, item 6).

SQLite stores any 64-bit integer in any column, PostgreSQL's ``integer`` stops at
2147483647: every integer field is bounded to what both hold, and a backup that still
holds a value PostgreSQL cannot store is refused with a message naming the row and
the field, not a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from http import HTTPStatus
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.core.validators import MaxValueValidator
from django.db import connection
from django.test import Client

from tests.conftest import ScriptedHistory
from units import services
from units.backup import CURRENT_MODELS, HISTORY_MODELS
from units.models import OrganizationalUnit, Post

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_RANGES = {
    "SmallIntegerField": 32_767,
    "PositiveSmallIntegerField": 32_767,
    "IntegerField": 2_147_483_647,
    "PositiveIntegerField": 2_147_483_647,
}
# Tree fields are computed by django-mptt from the tree's shape, never entered.
TREE_FIELDS = {"lft", "rght", "tree_id", "level"}
TOO_LARGE = 2_147_483_648


def test_every_entered_integer_field_is_bounded_to_what_postgresql_holds() -> None:
    checked = []
    for model in apps.get_app_config("units").get_models():
        for field in model._meta.concrete_fields:
            limit = POSTGRES_RANGES.get(field.get_internal_type())
            if limit is None or field.name in TREE_FIELDS:
                continue
            bounds = [
                validator.limit_value
                for validator in field.validators
                if isinstance(validator, MaxValueValidator)
                # Django adds the *current* database's range; SQLite's is 64-bit.
                and validator not in field.default_validators
            ]
            assert bounds, f"{model._meta.label}.{field.name}"
            assert min(bounds) <= limit, f"{model._meta.label}.{field.name}"
            checked.append(f"{model._meta.label}.{field.name}")
    assert "units.OrganizationalUnit.sibling_order" in checked
    assert "units.HistoricalOrganizationalUnit.sibling_order" in checked
    assert "units.Post.term_years" in checked


@pytest.mark.django_db
def test_a_sibling_order_postgresql_cannot_hold_is_refused_and_changes_nothing(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    units_before = OrganizationalUnit.objects.count()

    with pytest.raises(ValidationError) as refusal:
        services.unit_create(
            user=editor,
            reason="Far down the list",
            name="Unit Z",
            kind="unit",
            parent=scripted_history.department_b,
            sibling_order=TOO_LARGE,
        )

    assert "sibling_order" in refusal.value.message_dict
    assert "2147483647" in refusal.value.message_dict["sibling_order"][0]
    assert OrganizationalUnit.objects.count() == units_before


@pytest.mark.django_db
def test_the_api_answers_an_out_of_range_order_with_a_400_naming_the_field(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    editor.user_permissions.add(
        Permission.objects.get(codename="change_organizationalunit")
    )
    client = Client()
    client.force_login(get_user_model().objects.get(pk=editor.pk))
    unit = OrganizationalUnit.objects.get(slug="unit-y")
    order = unit.sibling_order
    revisions = OrganizationalUnit.history.count()

    response = client.patch(
        "/api/v1/units/unit-y/",
        {"reason": "Last", "sibling_order": TOO_LARGE},
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "sibling_order" in response.json()["errors"]
    unit.refresh_from_db()
    assert unit.sibling_order == order
    assert OrganizationalUnit.history.count() == revisions


def test_a_term_of_years_beyond_a_smallint_is_refused() -> None:
    with pytest.raises(ValidationError) as refusal:
        Post(term_years=40_000).clean_fields(
            exclude=[f.name for f in Post._meta.fields if f.name != "term_years"]
        )
    assert "term_years" in refusal.value.message_dict


# --- SQLite -> PostgreSQL ------------------------------------------------------------

# Run in a process of its own, on a new SQLite registry file: migrated, a small
# registry written through the services, then a row pushed past PostgreSQL's integer the
# way an older release (or a hand edit) could leave it, written to a second backup. One
# process, not one to migrate and one to build (each starts Django); the file is thrown
# away after, so SQLite need not wait for the disk at each of the migrations' commits.
_BUILD_SQLITE_REGISTRY = """
import sys
import django

django.setup()
from django.db.backends.signals import connection_created


def _throwaway_file(connection, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA journal_mode = MEMORY")


connection_created.connect(_throwaway_file)
from django.contrib.auth import get_user_model
from django.core.management import call_command
from units import services
from units.models import OrganizationalUnit

call_command("migrate", interactive=False, verbosity=0)
author = get_user_model().objects.create_user(username="sqlite-author")
root = services.unit_create(
    user=author, reason="Founded", name="Headquarters", kind="department"
)
for number in range(3):
    services.unit_create(
        user=author, reason="Grown", name=f"Office {number}", kind="unit",
        parent=root, sibling_order=number * 1000,
    )
call_command("export_registry", sys.argv[1])
OrganizationalUnit.objects.filter(slug="office-2").update(sibling_order=2147483648)
call_command("export_registry", sys.argv[2])
"""


def _sqlite_environment(database: Path) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    }
    return inherited | {
        "DJANGO_SETTINGS_MODULE": "orgregistry.settings",
        "DATABASE_URL": f"sqlite:///{database}",
    }


def _run(
    arguments: list[str], environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *arguments],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def sqlite_backups(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two backups of an SQLite registry: a sound one and one PostgreSQL cannot hold.

    Built once for the module: the tests only read the files.
    """
    directory = tmp_path_factory.mktemp("sqlite-registry")
    environment = _sqlite_environment(directory / "registry.sqlite3")
    sound, too_large = directory / "sound.jsonl", directory / "too-large.jsonl"
    built = _run(
        ["-c", _BUILD_SQLITE_REGISTRY, str(sound), str(too_large)], environment
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return sound, too_large


def _registry_rows() -> int:
    return sum(
        model._default_manager.count() for model in (*CURRENT_MODELS, *HISTORY_MODELS)
    )


@pytest.mark.postgres_only
# Decided before the fixtures run: on SQLite the registry need not be built for it.
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the target of the move is PostgreSQL"
)
@pytest.mark.django_db
def test_an_sqlite_registry_moves_to_postgresql_and_a_bad_row_is_named(
    sqlite_backups: tuple[Path, Path],
) -> None:
    sound, too_large = sqlite_backups
    assert _registry_rows() == 0

    # The command as an operator runs it, on this (empty) test database: it fails
    # with a message, not a traceback, and leaves nothing behind. (First, and before
    # this test writes anything, so the two connections never wait on each other.)
    settings_dict = connection.settings_dict
    target = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    refused = _run(
        ["manage.py", "import_registry", str(too_large)],
        _sqlite_environment(Path("unused")) | {"DATABASE_URL": target},
    )
    assert refused.returncode != 0
    assert "Traceback" not in refused.stderr, refused.stderr[-3000:]
    message = refused.stderr
    assert "Nothing was restored." in message
    assert "units.organizationalunit" in message
    assert "slug “office-2”" in message
    assert "field sibling_order" in message
    assert "less than or equal to 2147483647" in message
    assert "2147483648" in message
    assert _registry_rows() == 0

    # The sound backup moves whole.
    call_command("import_registry", str(sound), stdout=StringIO())

    orders = dict(OrganizationalUnit.objects.values_list("slug", "sibling_order"))
    assert orders == {
        "headquarters": 10,
        "office-0": 0,
        "office-1": 1000,
        "office-2": 2000,
    }
    authors = set(
        OrganizationalUnit.history.values_list("history_user__username", flat=True)
    )
    assert authors == {"sqlite-author"}


@pytest.mark.django_db
def test_import_into_this_database_names_an_out_of_range_row(
    sqlite_backups: tuple[Path, Path],
) -> None:
    """On any database: the model's bound refuses what PostgreSQL could not store."""
    _, too_large = sqlite_backups

    with pytest.raises(CommandError) as refusal:
        call_command("import_registry", str(too_large), stdout=StringIO())

    assert "slug “office-2”" in str(refusal.value)
    assert "field sibling_order" in str(refusal.value)
    assert _registry_rows() == 0

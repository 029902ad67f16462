"""Users who wrote history are deactivated, never deleted: authorship is kept.

(Issue 12, item 4.) simple-history sets a deleted user's revisions to "no author";
every way of deleting such a user is refused with a message, and nothing changes.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.test import Client

from tests.conftest import ScriptedHistory
from units.models import OrganizationalUnit

pytestmark = pytest.mark.django_db

API = "/api/v1/"


def authored_revisions(user: User) -> int:
    return OrganizationalUnit.history.filter(history_user=user).count()


@pytest.fixture
def superuser_client(db: None) -> Client:
    user = get_user_model().objects.create_superuser(
        username="root", password="root-pass-123", email="root@example.org"
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def auditor_client(db: None) -> Client:
    auditor = get_user_model().objects.create_user(
        username="auditor", password="auditor-pass-123", is_staff=True
    )
    auditor.user_permissions.add(
        Permission.objects.get(codename="view_organizationalunit")
    )
    client = Client()
    client.force_login(auditor)
    return client


def test_deleting_a_user_who_wrote_history_is_refused_and_changes_nothing(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    written = authored_revisions(editor)
    assert written > 0

    # The savepoint stands for the transaction a request or a shell command would be.
    with pytest.raises(ProtectedError) as refusal, transaction.atomic():
        editor.delete()

    assert "“editor” wrote" in str(refusal.value.args[0])
    assert "deactivate the user instead" in str(refusal.value.args[0])
    assert get_user_model().objects.filter(pk=editor.pk).exists()
    assert authored_revisions(editor) == written


def test_a_bulk_delete_of_users_is_refused_too(
    scripted_history: ScriptedHistory, editor: User
) -> None:
    written = authored_revisions(editor)

    with pytest.raises(ProtectedError), transaction.atomic():
        get_user_model().objects.filter(pk=editor.pk).delete()

    assert get_user_model().objects.filter(pk=editor.pk).exists()
    assert authored_revisions(editor) == written


def test_a_user_who_wrote_nothing_can_still_be_deleted(
    scripted_history: ScriptedHistory,
) -> None:
    bystander = get_user_model().objects.create_user(username="bystander")

    bystander.delete()

    assert not get_user_model().objects.filter(username="bystander").exists()


def test_the_admin_refuses_to_delete_an_author_and_says_to_deactivate(
    scripted_history: ScriptedHistory,
    editor: User,
    superuser_client: Client,
) -> None:
    written = authored_revisions(editor)
    url = f"/admin/auth/user/{editor.pk}/delete/"

    page = superuser_client.get(url)
    response = superuser_client.post(url, {"post": "yes"})

    for answer in (page, response):
        assert answer.status_code == HTTPStatus.OK
        text = answer.content.decode()
        assert "wrote" in text
        assert "deactivate the user instead" in text
        assert "Deactivate selected users" in text
    assert get_user_model().objects.filter(pk=editor.pk).exists()
    assert authored_revisions(editor) == written


def test_the_admin_delete_action_refuses_authors(
    scripted_history: ScriptedHistory,
    editor: User,
    superuser_client: Client,
) -> None:
    response = superuser_client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [editor.pk], "post": "yes"},
    )

    assert response.status_code == HTTPStatus.OK
    assert "deactivate the user instead" in response.content.decode()
    assert get_user_model().objects.filter(pk=editor.pk).exists()


def test_the_admin_deactivates_an_author_who_keeps_their_revisions(
    scripted_history: ScriptedHistory,
    editor: User,
    superuser_client: Client,
    auditor_client: Client,
) -> None:
    changes = f"{API}changes/"
    before = auditor_client.get(changes).json()["results"]
    assert {change["author"] for change in before} == {"editor"}

    response = superuser_client.post(
        "/admin/auth/user/",
        {"action": "deactivate_users", "_selected_action": [editor.pk]},
        follow=True,
    )

    assert "1 user deactivated" in response.content.decode()
    editor.refresh_from_db()
    assert not editor.is_active
    # The cached and the freshly read answers still say who made each change.
    after = auditor_client.get(changes).json()["results"]
    assert after == before

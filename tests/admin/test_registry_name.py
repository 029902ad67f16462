"""The registry's name (REGISTRY_NAME) in the admin's header and the pages' titles.

The admin used to say "Django administration" (issue 16).
"""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client

from tests.deploy.test_deploy import production_settings

NAME = 'IOM <Structure> & "Posts"'
ESCAPED = "IOM &lt;Structure&gt; &amp; &quot;Posts&quot;"


def title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, flags=re.S)
    assert match is not None
    return " ".join(match.group(1).split())


def test_the_admin_is_named_after_the_registry(admin_client) -> None:
    html = admin_client.get("/admin/").content.decode()

    assert '<a href="/admin/">Organization registry</a>' in html
    assert title(html) == (
        "Organization registry administration | Organization registry admin"
    )
    assert "<h1>Organization registry administration</h1>" in html
    assert "Django administration" not in html
    assert "Django site admin" not in html
    assert "Site administration" not in html


def test_the_admin_login_page_takes_the_name_from_the_setting(db, settings) -> None:
    settings.REGISTRY_NAME = NAME

    html = Client().get("/admin/login/").content.decode()

    assert f'<a href="/admin/">{ESCAPED}</a>' in html
    assert title(html) == f"Log in | {ESCAPED} admin"
    assert NAME not in html


@pytest.mark.parametrize(
    ("path", "page_title"),
    [
        ("/", "Organizational structure"),
        ("/chart/", "Organization chart"),
        ("/api/v1/tour/", "The REST API: a short tour"),
        ("/no-such-page/", "Not found"),
    ],
)
def test_the_pages_carry_the_name_in_their_title_and_header(
    db, settings, path: str, page_title: str
) -> None:
    settings.REGISTRY_NAME = NAME

    html = Client().get(path).content.decode()

    assert title(html).startswith(page_title)
    assert title(html).endswith(f" · {ESCAPED}")
    assert f'<a class="site-name" href="/">{ESCAPED}</a>' in html
    assert NAME not in html


def test_the_browsable_api_is_named_after_the_registry(db) -> None:
    html = Client().get("/api/v1/", HTTP_ACCEPT="text/html").content.decode()

    assert title(html) == "API root · Organization registry API"
    assert '<a class="navbar-brand" href="/">Organization registry</a>' in html
    assert "Django REST framework" not in html


def test_the_server_error_page_names_the_registry(settings) -> None:
    settings.REGISTRY_NAME = NAME

    assert title(render_to_string("500.html")) == f"Server error · {ESCAPED}"


def test_the_name_comes_from_the_environment() -> None:
    assert production_settings("s.REGISTRY_NAME") == "Organization registry"
    assert (
        production_settings("s.REGISTRY_NAME", REGISTRY_NAME="  IOM registry ")
        == "IOM registry"
    )
    # Empty means not set, as for every variable here.
    assert production_settings("s.REGISTRY_NAME", REGISTRY_NAME=" ") == (
        "Organization registry"
    )

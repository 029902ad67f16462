"""The site's icon: linked from every kind of page, and at /favicon.ico.

Without one, every page logged a 404 in the browser console (issue 16). Chromium's
own view of it is in tests/browser/test_console_browser.py.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import Client

ICON = '<link rel="icon" href="/static/units/favicon.svg" type="image/svg+xml">'


def test_favicon_ico_leads_to_the_svg_icon() -> None:
    response = Client().get("/favicon.ico")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/static/units/favicon.svg"
    assert "max-age=86400" in response["Cache-Control"]
    icon = finders.find("units/favicon.svg")
    assert icon is not None
    with open(icon, encoding="utf-8") as svg:
        assert svg.read().startswith('<svg xmlns="http://www.w3.org/2000/svg"')


@pytest.mark.parametrize(
    "path",
    ["/", "/chart/", "/no-such-page/", "/api/v1/", "/api/v1/tour/", "/admin/login/"],
)
def test_every_kind_of_page_links_the_icon(db, path: str) -> None:
    response = Client().get(path, HTTP_ACCEPT="text/html")

    assert ICON in response.content.decode(), path


def test_the_admin_pages_link_the_icon(admin_client) -> None:
    for path in ("/admin/", "/admin/units/organizationalunit/", "/admin/auth/user/"):
        html = admin_client.get(path).content.decode()
        assert html.count(ICON) == 1, path


def test_the_server_error_page_links_the_icon() -> None:
    assert ICON in render_to_string("500.html")

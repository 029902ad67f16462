"""The API root (/api/v1/) and the tour (/api/v1/tour/), where the site's footer leads."""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from api import root

API = "/api/v1/"


@pytest.fixture
def fresh_tour() -> Iterator[None]:
    """Render the tour from whatever ``root.TOUR`` names now, and forget it after."""
    root.tour_html.cache_clear()
    yield
    root.tour_html.cache_clear()


def test_root_lists_every_resource_and_the_docs_by_absolute_address(db) -> None:
    response = APIClient().get(API, HTTP_ACCEPT="application/json")

    assert response.status_code == HTTPStatus.OK
    links = response.json()
    assert links == {
        "tree": "http://testserver/api/v1/tree/",
        "units": "http://testserver/api/v1/units/",
        "posts": "http://testserver/api/v1/posts/",
        "people": "http://testserver/api/v1/people/",
        "appointments": "http://testserver/api/v1/appointments/",
        "relationships": "http://testserver/api/v1/relationships/",
        "reorganizations": "http://testserver/api/v1/reorganizations/",
        "search": "http://testserver/api/v1/search/",
        "changes": "http://testserver/api/v1/changes/",
        "changes_atom": "http://testserver/api/v1/changes.atom",
        "changes_atom_recorded": "http://testserver/api/v1/changes.recorded.atom",
        "export_units_csv": "http://testserver/api/v1/export/units.csv",
        "export_units_xlsx": "http://testserver/api/v1/export/units.xlsx",
        "export_org_jsonld": "http://testserver/api/v1/export/org.jsonld",
        "export_popolo_json": "http://testserver/api/v1/export/popolo.json",
        "export_snapshot_zip": "http://testserver/api/v1/export/snapshot.zip",
        "tour": "http://testserver/api/v1/tour/",
        "docs": "http://testserver/api/v1/docs/",
        "schema": "http://testserver/api/v1/schema/",
    }


def test_every_link_of_the_root_answers(db, fresh_tour: None) -> None:
    client = APIClient()
    links = client.get(API, HTTP_ACCEPT="application/json").json()
    for name, url in links.items():
        response = client.get(url.removeprefix("http://testserver"))
        assert response.status_code == HTTPStatus.OK, name


def test_a_browser_gets_the_browsable_root_with_links_to_the_docs_and_tour(db) -> None:
    response = Client().get(API, HTTP_ACCEPT="text/html")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "API root" in html
    assert 'href="http://testserver/api/v1/tour/"' in html
    assert 'href="http://testserver/api/v1/docs/"' in html
    assert 'href="http://testserver/api/v1/units/"' in html


def test_the_root_is_read_only(db, editor) -> None:
    client = APIClient()
    client.force_authenticate(editor)

    response = client.post(API, {"tree": "x"}, format="json")

    assert response.status_code in {HTTPStatus.FORBIDDEN, HTTPStatus.METHOD_NOT_ALLOWED}


def test_the_root_is_in_the_schema(db) -> None:
    schema = APIClient().get(
        f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    root_answer = schema.json()["paths"]["/api/v1/"]["get"]["responses"]["200"]
    assert root_answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiRoot"
    }


def test_the_footer_of_every_page_links_to_the_root(db) -> None:
    html = Client().get("/").content.decode()

    assert 'through the <a href="/api/v1/">API</a>' in html


def test_the_tour_is_docs_api_md_rendered_as_a_page(db, fresh_tour: None) -> None:
    response = Client().get(f"{API}tour/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "<title>The REST API: a short tour" in html
    assert "<h1>The REST API: a short tour</h1>" in html
    assert "<h2>Caching: ETag and If-None-Match</h2>" in html
    assert '<pre><code class="language-sh">' in html
    # The tables of docs/api.md are tables, not pipes.
    assert "<th><code>q</code> searches</th>" in html
    assert f'href="{API}"' in html
    assert f'href="{API}docs/"' in html
    # The tour is about the API, not a date of the structure.
    assert 'name="as_of"' not in html


def test_the_tour_escapes_html_and_refuses_script_links(
    db, fresh_tour: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tour = tmp_path / "api.md"
    tour.write_text(
        "# Tour\n\n<script>alert(1)</script>\n\n"
        '<p style="color:red">styled</p>\n\n'
        "[click](javascript:alert(2)) and `<b>code</b>`\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(root, "TOUR", tour)

    html = Client().get(f"{API}tour/").content.decode()

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'style="color:red"' not in html
    # Left as text, never a link.
    assert 'href="javascript:' not in html
    assert "[click](javascript:alert(2))" in html
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html

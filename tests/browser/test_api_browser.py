"""The interactive API docs render in a real headless Chromium from the project's assets."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.api.test_api_schema import NEWCOMER_ORDER
from tests.browser.conftest import screenshot


def test_swagger_ui_loads_without_any_cdn(page, live_server, transactional_db):
    requested_hosts: set[str] = set()
    page.on(
        "request", lambda request: requested_hosts.add(urlparse(request.url).netloc)
    )
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))

    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "orgregistry API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector("#operations-tree-tree_list")
    page.click("#operations-tree-tree_list .opblock-summary")
    page.wait_for_selector("#operations-tree-tree_list .parameters")
    assert "as_of" in page.inner_text("#operations-tree-tree_list .parameters")

    assert requested_hosts == {urlparse(live_server.url).netloc}
    assert failed == []
    # The opened operation in the window: the whole page is six screens of schemas.
    page.locator("#operations-tree-tree_list").scroll_into_view_if_needed()
    screenshot(page, "api-docs", full_page=False)


def test_the_docs_list_the_tags_in_a_newcomers_order_with_the_tour(
    page, live_server, transactional_db
):
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector("#operations-tree-tree_list")
    tags = page.locator(".opblock-tag-section h3 .nostyle span").all_inner_texts()
    assert tags == NEWCOMER_ORDER
    # Each tag says what it holds; the page opens with the tour's essentials.
    first_tag = page.inner_text(".opblock-tag-section h3")
    assert "start here" in first_tag
    info = page.inner_text(".swagger-ui .info")
    for explained in ("As of any instant", "cursor", "If-Match", "Errors"):
        assert explained in info, explained
    # The tags with their descriptions, in order: operations folded away.
    for tag in page.locator(".opblock-tag-section h3").all():
        tag.click()
    page.locator(".opblock-tag-section").first.scroll_into_view_if_needed()
    screenshot(page, "api-docs-tags", full_page=False)

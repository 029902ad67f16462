"""The interactive API docs render in a real headless Chromium from the project's assets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


@pytest.fixture
def page(live_server: object) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        yield context.new_page()
        browser.close()


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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"), full_page=False)

"""Real headless Chromium (Debian's package) driven by Playwright, against live_server.

Never downloads a browser. Locally, without /usr/bin/chromium the browser tests are
skipped; in CI (CI=true) a missing browser is an error, so they can never be skipped there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The README's pictures are refreshed only on request (`make screenshots`); an ordinary
# run still takes every screenshot, into a scratch folder, so the tree stays clean.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "orgregistry-screenshots"
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# for setup are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI"):
            pytest.fail(
                f"Chromium not found at {CHROMIUM}: CI must install it (apt-get install chromium)"
            )
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium chromium-driver)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


# Recorded by the page itself, so that a violation in any frame or at any moment of
# loading is kept even when no listener was attached yet. Once per document, however
# many collectors share the browser context (one per tab).
RECORD_VIOLATIONS = """
if (!window.__cspViolations) {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(
      `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
      `(${event.sourceFile || ""}:${event.lineNumber || ""}) ${event.sample || ""}`
    );
  });
}
"""


class BrowserProblems:
    """Everything Chromium complains about on a page: one collector for every test.

    Console errors, uncaught script errors, answers of 400 or more, requests that
    failed, and Content-Security-Policy violations, with nothing excused. Chromium's
    own "Failed to load resource" console line is left out: the answer it reports is
    already collected, with its address.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: list[str] = []
        page.context.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.found.append(f"script: {error}"))
        page.on("response", self._response)
        page.on(
            "requestfailed",
            lambda request: self.found.append(
                f"failed: {request.url} {request.failure}"
            ),
        )

    def _console(self, message: Any) -> None:
        if message.type == "error" and not message.text.startswith(
            "Failed to load resource"
        ):
            self.found.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.found.append(f"{response.status} {response.url}")

    def collected(self) -> list[str]:
        """What was found since the last visit, policy violations included."""
        violations = self.page.evaluate("() => window.__cspViolations || []")
        return [*self.found, *(f"csp: {violation}" for violation in violations)]

    def visit(self, url: str) -> list[str]:
        """Load ``url`` and wait for the network to settle; what went wrong there."""
        self.open(url)
        return self.settled()

    def open(self, url: str) -> None:
        """Load ``url`` (up to its load event), forgetting what the last visit found."""
        self.found = []
        self.page.goto(url)

    def settled(self) -> list[str]:
        """What went wrong on the page opened, once its network has settled.

        Chromium calls the network settled after 500 ms without requests: a walk of
        many pages opens the next in another tab meanwhile (``visit_all``).
        """
        self.page.wait_for_load_state("networkidle")
        return self.collected()


def visit_all(tabs: list[BrowserProblems], urls: list[str]) -> dict[str, list[str]]:
    """What went wrong on each of ``urls``, opened in turn across ``tabs``.

    Each page is loaded to its load event before the next is opened, so the live
    server serves one page at a time but for requests made after that event (the API
    docs' schema); the waits for the network to settle overlap.
    """
    found: dict[str, list[str]] = {}
    waiting: dict[int, str] = {}
    for number, url in enumerate(urls):
        tab = number % len(tabs)
        if tab in waiting:
            found[waiting.pop(tab)] = tabs[tab].settled()
        tabs[tab].open(url)
        waiting[tab] = url
    for tab, url in waiting.items():
        found[url] = tabs[tab].settled()
    return found


@pytest.fixture
def browser_problems(page: Page) -> BrowserProblems:
    """A collector of console errors, failed requests and CSP violations on ``page``."""
    return BrowserProblems(page)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot (into docs/screenshots/, shown in the README, on request).

    ``full_page=False`` keeps the window only, for pages too long to read whole.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path

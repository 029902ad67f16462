"""The public pages in a real headless Chromium: browse, open, date, compare, chart, search.

Runs on the real seed organization with a few later changes, so the screenshots in
docs/screenshots/ show what a visitor sees. Each page is also checked with axe-core
(from the npm registry, injected into the page) for serious or critical violations.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User

from benchmarks.generate import GeneratedRegistry, generate
from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.conftest import at
from units import services
from units.models import Appointment, OrganizationalUnit, Person, Post, UnitKind
from units.seed import load_structure
from units.selectors import parse_instant, unit_children
from units.views import PEOPLE_PAGE_SIZE, POSTS_PAGE_UNITS, STRUCTURE_UNITS
from units.views import compare_pages as compare_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page
    from pytest_django.live_server_helper import LiveServer

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "fixtures" / "iom_structure.json"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.usefixtures("transactional_db", "plain_static_files")


def unit(slug: str) -> OrganizationalUnit:
    return OrganizationalUnit.objects.get(slug=slug)


@pytest.fixture
def registry(editor: User) -> None:
    """The seed (effective 1 January 2023) and a few changes since, through services.

    Their reasons are public, as a published history's are: the pages show them.
    """
    load_structure(SEED, user=editor)
    director_general = Post.objects.get(slug="director-general")
    deputy = Post.objects.get(slug="deputy-director-general-for-management-and-reform")
    pope = Person.objects.get(slug="amy-e-pope")
    for appointment in Appointment.objects.filter(ended_on__isnull=True):
        services.appointment_end(
            appointment=appointment,
            ended_on=datetime.date(2023, 10, 1),
            user=editor,
            reason="End of term",
            reason_visibility="public",
            effective_at=at("2023-10-01"),
        )
    services.appointment_start(
        person=pope,
        post=director_general,
        started_on=datetime.date(2023, 10, 1),
        user=editor,
        reason="Elected by the Council",
        reason_visibility="public",
        effective_at=at("2023-10-01"),
    )
    assert deputy.appointments.filter(ended_on__isnull=True).count() == 0
    operations = unit("office-of-the-deputy-director-general-for-operations")
    services.unit_update(
        unit=operations,
        user=editor,
        reason="Mandate revised after the 2024 review",
        reason_visibility="public",
        effective_at=at("2024-03-01"),
        mandate=operations.mandate.replace(
            "directly supervises", "directly supervises and coordinates"
        ),
    )
    services.unit_move(
        unit=unit("global-compact-on-migration-unit"),
        new_parent=unit("united-nations-network-on-migration-secretariat"),
        user=editor,
        reason="Aligned with the Network secretariat",
        reason_visibility="public",
        effective_at=at("2024-06-01"),
    )
    services.unit_create(
        user=editor,
        reason="New climate mobility work",
        reason_visibility="public",
        name="Climate Mobility Unit",
        slug="climate-mobility-unit",
        kind=UnitKind.UNIT,
        parent=operations,
        mandate="Coordinates the Organization's work on migration, environment and climate change.",
        effective_at=at("2024-09-01"),
    )
    services.unit_abolish(
        unit=unit("risk-management-unit"),
        user=editor,
        reason="Merged into the Operational Compliance Unit",
        reason_visibility="public",
        effective_at=at("2025-01-01"),
    )


def assert_accessible(page: Page) -> None:
    """No serious or critical axe-core violations on the page as it stands."""
    # Evaluated, not added as a <script>: the Content-Security-Policy blocks inline
    # scripts without the page's nonce, and the test must not weaken it.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    serious = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_browse_the_tree_open_a_unit_and_switch_the_date(
    page: Page, live_server: LiveServer, registry: None
) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_role("heading", name="Organizational structure").wait_for()
    fund = page.get_by_role("link", name="IOM Development Fund Unit", exact=True)
    assert fund.is_visible()
    page.get_by_role("button", name="Collapse all").click()
    assert not fund.is_visible()
    page.get_by_role("button", name="Expand all").click()
    assert fund.is_visible()
    assert page.get_by_text("Director General: Amy E. Pope").is_visible()
    assert page.locator("[data-tree] .line-oversight").count() == 6
    screenshot(page, "page-structure")
    assert_accessible(page)

    page.get_by_role(
        "link", name="Office of the Deputy Director General for Operations"
    ).click()
    page.get_by_role(
        "heading", level=1, name="Office of the Deputy Director General for Operations"
    ).wait_for()
    assert page.url.endswith(
        "/units/office-of-the-deputy-director-general-for-operations/"
    )
    breadcrumbs = page.get_by_role("navigation", name="Reporting line")
    assert "Office of the Director General" in breadcrumbs.inner_text()
    sub_units = page.locator(".sub-units")
    assert sub_units.get_by_role("link", name="Climate Mobility Unit").is_visible()
    # Its establishment is on the timeline too, as a sub-unit joining.
    assert page.locator(
        ".timeline-sub-unit-joined", has_text="Climate Mobility Unit"
    ).is_visible()
    assert page.get_by_text("Mandate revised after the 2024 review").is_visible()
    assert page.locator(".timeline ins", has_text="and coordinates").count() == 1
    screenshot(page, "page-unit")
    assert_accessible(page)

    # Switch the date with the date control on the page: the URL becomes a permalink.
    page.get_by_label("View the structure as of").fill("2023-06-01")
    page.get_by_role("button", name="Show").click()
    page.locator("#past-notice").wait_for()
    assert "as_of=2023-06-01" in page.url
    assert "1 June 2023" in page.locator("#past-notice").inner_text()
    assert page.get_by_role("link", name="Climate Mobility Unit").count() == 0

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Structure"
    ).click()
    page.locator("#past-notice").wait_for()
    assert "as_of=2023-06-01" in page.url
    assert page.get_by_text("Director General: António Vitorino").is_visible()
    assert page.get_by_role("link", name="Risk Management Unit").count() == 1
    screenshot(page, "page-as-of")
    assert_accessible(page)

    page.get_by_role("link", name="Back to today").click()
    page.get_by_role("heading", name="Organizational structure").wait_for()
    assert page.locator("#past-notice").count() == 0
    assert page.get_by_role("link", name="Risk Management Unit").count() == 0


def test_a_malformed_date_shows_a_message_not_an_error_page(
    page: Page, live_server: LiveServer, registry: None
) -> None:
    page.goto(f"{live_server.url}/units/prima-unit/?as_of=2023-02-30")
    alert = page.get_by_role("alert")
    assert "“2023-02-30” is not a valid date" in alert.inner_text()
    assert page.get_by_role("heading", level=1, name="PRIMA Unit").is_visible()
    page.goto(f"{live_server.url}/units/no-such-unit/")
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert_accessible(page)


def test_compare_two_dates(page: Page, live_server: LiveServer, registry: None) -> None:
    page.goto(f"{live_server.url}/compare/")
    # The day after the seed's (1 January 2023, a whole day "from" would include).
    page.get_by_label("From").fill("2023-01-02")
    page.get_by_label("To", exact=True).fill("2025-06-30")
    page.get_by_role("button", name="Compare", exact=True).click()
    page.locator(".compare-summary").wait_for()
    assert "from=2023-01-02" in page.url and "to=2025-06-30" in page.url
    for section in (
        "Units added",
        "Units abolished",
        "Units moved",
        "Mandates changed",
        "Appointments started",
        "Appointments ended",
    ):
        assert page.get_by_role("heading", name=section).is_visible()
    moved = page.locator(".change-moved li").inner_text()
    assert (
        "Global Compact on Migration Unit moved from Department of External Relations"
        in moved
    )
    assert (
        page.locator(".change-mandate_changed ins").first.inner_text().strip()
        == "and coordinates"
    )
    screenshot(page, "page-compare")
    assert_accessible(page)


def follow(page: Page, link: Locator) -> str:
    """Click a link and wait for the page it leads to; its address."""
    before = page.url
    link.click()
    page.wait_for_url(lambda url: url != before)
    return page.url


def test_compare_pages_through_a_window_longer_than_a_page(
    page: Page, live_server: LiveServer, registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compare_page, "COMPARE_PAGE_CHANGES", 2)
    page.goto(f"{live_server.url}/compare/?from=2023-01-02&to=2025-06-30")
    note = page.locator("#compare-page-note")
    assert "These are the first 2 changes" in note.inner_text()
    assert "more follow" in note.inner_text()
    top = page.get_by_role("navigation", name="Earlier and later changes", exact=True)
    assert top.get_by_role("link", name="Earlier changes").count() == 0
    assert_accessible(page)
    visited = [page.url]
    while top.get_by_role("link", name="Later changes").count():
        visited.append(follow(page, top.get_by_role("link", name="Later changes")))
        assert len(visited) < 20
        assert "from=2023-01-02" in page.url and "to=2025-06-30" in page.url
        assert "cursor=" in page.url
        assert page.locator(".compare-summary").inner_text() == (
            "Changes between 2 January 2023 and 30 June 2025"
        )
    assert len(visited) > 2
    assert "These are the last" in note.inner_text()
    assert "earlier ones come before" in note.inner_text()
    # The abolition of 1 January 2025 is the window's last change.
    assert "Risk Management Unit" in page.locator(".change-abolished li").inner_text()
    assert_accessible(page)
    follow(page, top.get_by_role("link", name="Earlier changes"))
    assert page.locator(".change-abolished").count() == 0
    assert top.get_by_role("link", name="Later changes").count() == 1


def test_org_chart_zoom_fold_open_and_download(
    page: Page, live_server: LiveServer, registry: None
) -> None:
    page.goto(f"{live_server.url}/chart/")
    chart = page.locator("[data-chart] svg")
    chart.wait_for()
    assert page.locator("[data-chart] g.unit").count() == 44
    assert page.locator("[data-chart] .edge-oversight").count() == 6
    assert page.locator("[data-chart] .edge-relationship").count() == 3
    screenshot(page, "page-chart")
    assert_accessible(page)

    # Each box is a link that shows where the keyboard focus is.
    first_box = page.locator("[data-chart] g.unit > a").first
    first_box.focus()
    stroke_width = "rect => getComputedStyle(rect).strokeWidth"
    assert first_box.locator("rect").evaluate(stroke_width) == "4px"

    width = float(attribute(chart, "width"))
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    assert float(attribute(chart, "width")) > width * 1.5

    # Dragging pans the picture and does not follow the link under the pointer.
    frame = page.locator("[data-chart]")
    box = frame.bounding_box()
    assert box is not None
    before = frame.evaluate("element => element.scrollLeft")
    start_x, start_y = box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    page.mouse.move(start_x - 300, start_y, steps=8)
    page.mouse.up()
    assert frame.evaluate("element => element.scrollLeft") > before + 200
    assert page.url.endswith("/chart/")

    # Fold below one level, then open a sub-tree from its badge.
    page.get_by_label("Levels shown").select_option("1")
    page.get_by_role("button", name="Redraw").click()
    page.wait_for_url("**/chart/?depth=1")
    badge = page.get_by_role(
        "link",
        name="open the 13 sub-units of Office of the Deputy Director General for Management and Reform",
    )
    badge.focus()
    page.keyboard.press("Enter")
    page.get_by_role(
        "heading",
        name="Organization chart: Office of the Deputy Director General for Management and Reform",
    ).wait_for()
    assert page.locator("[data-chart] g.unit").count() == 14

    with page.expect_download() as download_info:
        page.get_by_role("link", name="PNG").click()
    download = download_info.value
    assert download.suggested_filename.startswith(
        "org-chart-office-of-the-deputy-director-general-for-management-and-reform-"
    )
    assert Path(download.path()).read_bytes().startswith(b"\x89PNG")


def test_search_highlights_matches(
    page: Page, live_server: LiveServer, registry: None
) -> None:
    page.goto(f"{live_server.url}/")
    page.get_by_role("searchbox", name="Search units").fill("migration")
    page.keyboard.press("Enter")
    page.locator(".result-count").wait_for()
    assert "q=migration" in page.url
    assert page.locator(".results > li").count() >= 3
    assert page.locator(".results mark").first.inner_text().lower() == "migration"
    first = page.locator(".results h3 a").first
    assert "Migration" in first.inner_text()  # name matches come first
    screenshot(page, "page-search")
    assert_accessible(page)


def test_posts_and_people_pages(
    page: Page, live_server: LiveServer, registry: None
) -> None:
    page.goto(f"{live_server.url}/posts/")
    row = page.locator("tr", has=page.locator("#post-director-general"))
    assert "Amy E. Pope" in row.inner_text()
    assert "António Vitorino" in row.inner_text()  # held it before
    assert_accessible(page)
    row.get_by_role("link", name="Amy E. Pope").click()
    page.wait_for_url("**/people/?person=amy-e-pope#amy-e-pope")
    person = page.locator("#amy-e-pope")
    assert "Holds: Director General" in person.inner_text()
    assert "Held before: Deputy Director General for Management and Reform" in (
        person.inner_text()
    )
    assert_accessible(page)
    # And back to the post, on the posts page of its unit.
    person.get_by_role("link", name="Director General", exact=True).click()
    page.wait_for_url("**/posts/?unit=*#post-director-general")
    assert page.locator("#post-director-general").is_visible()
    assert page.locator(".post-group").count() == 1


def test_keyboard_navigation_and_visible_focus(
    page: Page, live_server: LiveServer, registry: None
) -> None:
    page.goto(f"{live_server.url}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Tab")
    outline = page.evaluate(
        "() => getComputedStyle(document.activeElement).outlineStyle"
    )
    assert outline == "solid"
    # A folded branch opens from the keyboard.
    page.get_by_role("button", name="Collapse all").click()
    branch = page.locator("[data-tree] details > summary").first
    is_open = "summary => summary.parentElement.open"
    assert branch.evaluate(is_open) is False
    branch.focus()
    page.keyboard.press("Enter")
    assert branch.evaluate(is_open) is True
    assert page.get_by_role("link", name="Office of the Inspector General").is_visible()


def test_a_phone_sized_screen(
    browser: Browser, live_server: LiveServer, registry: None
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    try:
        page.goto(
            f"{live_server.url}/units/office-of-the-deputy-director-general-for-operations/"
        )
        page.get_by_role("heading", level=1).wait_for()
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0
        page.goto(f"{live_server.url}/?as_of=2024-07-01")
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0
        # The first screenful, as a visitor on a phone sees it.
        page.screenshot(path=str(SCREENSHOTS / "page-phone.png"))
        assert_accessible(page)
    finally:
        context.close()


def test_print_styles_hide_controls_and_keep_the_past_notice(
    page: Page, live_server: LiveServer, registry: None
) -> None:
    page.goto(f"{live_server.url}/?as_of=2024-01-01")
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="Main").is_visible()
    assert not page.get_by_role("button", name="Expand all").is_visible()
    assert not page.get_by_label("View the structure as of").is_visible()
    assert page.locator("#past-notice").is_visible()
    assert page.get_by_role("link", name="PRIMA Unit").is_visible()


# --- A registry too large to show at once ------------------------------------------------

# Enough units that the structure page keeps only its top levels (STRUCTURE_UNITS).
LARGE_REGISTRY = 1500


@pytest.fixture
def large_registry(transactional_db: None) -> GeneratedRegistry:
    return generate(LARGE_REGISTRY, seed=11)


def first_unloaded_branch(page: Page) -> Locator:
    """The first branch whose sub-units are not on the page, made visible."""
    page.get_by_role("button", name="Expand all loaded").click()
    return page.locator("[data-tree] details[data-children-url]").first


def attribute(locator: Locator, name: str) -> str:
    """An attribute the element must have (Playwright answers None when it is absent)."""
    value = locator.get_attribute(name)
    assert value is not None, name
    return value


def branch_slug(branch: Locator) -> str:
    url = attribute(branch, "data-children-url")
    return url.split("/")[2]


def test_a_large_structure_loads_a_branch_when_it_opens(
    page: Page, live_server: LiveServer, large_registry: GeneratedRegistry
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/")
    assert page.locator("#tree-cut-note").is_visible()
    shown = page.locator("[data-tree] .unit-link").count()
    assert 0 < shown <= STRUCTURE_UNITS
    branch = first_unloaded_branch(page)
    slug = branch_slug(branch)
    expected = unit_children(slug)
    assert expected is not None and expected.roots
    summary = branch.locator(":scope > summary")
    count = expected.unit_count
    assert summary.inner_text().startswith(f"{count:,} sub-unit")
    # Expanding everything loaded opened no branch that would need a request.
    assert branch.evaluate("details => details.open") is False
    assert not [url for url in requests if "/children/" in url]

    # Open it from the keyboard: the sub-units arrive in place and are announced.
    summary.focus()
    page.keyboard.press("Enter")
    branch.locator(":scope > ul > li .unit-link").first.wait_for()
    assert branch.get_attribute("data-state") == "loaded"
    names = branch.locator(":scope > ul > li > .entry .unit-link").all_inner_texts()
    assert names == [child.name for child in expected.roots]
    status = page.locator("[data-tree-status]")
    name = page.locator(f'a.unit-link[href="/units/{slug}/"]').inner_text()
    page.wait_for_function(
        "text => document.querySelector('[data-tree-status]').textContent === text",
        arg=f"Loaded {len(names)} sub-unit{'s' if len(names) != 1 else ''} of {name}.",
    )
    assert status.get_attribute("role") == "status"
    assert summary.evaluate("element => element === document.activeElement")
    # The keyboard goes on into the loaded units.
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused == names[0]
    assert len([url for url in requests if "/children/" in url]) == 1
    # Folding and opening it again uses what was loaded.
    summary.click()
    summary.click()
    assert branch.evaluate("details => details.open") is True
    assert len([url for url in requests if "/children/" in url]) == 1
    # The opened branch as a visitor sees it (the whole page is thousands of pixels).
    summary.scroll_into_view_if_needed()
    page.evaluate("() => window.scrollBy(0, -120)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "page-structure-large.png"))
    assert_accessible(page)


def test_a_branch_that_fails_to_load_says_so_and_loads_on_retry(
    page: Page, live_server: LiveServer, large_registry: GeneratedRegistry
) -> None:
    page.goto(f"{live_server.url}/?as_of=2019-01-01")
    branch = first_unloaded_branch(page)
    slug = branch_slug(branch)
    assert attribute(branch, "data-children-url").endswith("?as_of=2019-01-01")
    page.route(
        "**/children/**",
        lambda route: route.fulfill(status=503, body="", content_type="text/html"),
    )
    summary = branch.locator(":scope > summary")
    summary.click()
    alert = branch.get_by_role("alert")
    alert.wait_for()
    assert "could not be loaded: the server answered 503." in alert.inner_text()
    assert branch.get_attribute("data-state") == "failed"
    fallback = branch.get_by_role("link", name="see them on the unit's page")
    assert fallback.get_attribute("href") == (
        f"/units/{slug}/?as_of=2019-01-01#subunits-heading"
    )
    alert.scroll_into_view_if_needed()
    page.evaluate("() => window.scrollBy(0, -120)")
    page.screenshot(path=str(SCREENSHOTS / "page-structure-load-error.png"))
    assert_accessible(page)

    page.unroute("**/children/**")
    retry = branch.get_by_role("button", name="Try again")
    retry.focus()
    page.keyboard.press("Enter")
    branch.locator(":scope > ul > li .unit-link").first.wait_for()
    assert branch.get_attribute("data-state") == "loaded"
    assert summary.evaluate("element => element === document.activeElement")
    expected = unit_children(slug, parse_instant("2019-01-01"))
    assert expected is not None
    links = branch.locator(":scope > ul > li > .entry .unit-link")
    assert links.all_inner_texts() == [child.name for child in expected.roots]
    assert attribute(links.first, "href").endswith("/?as_of=2019-01-01")


def test_without_script_a_folded_branch_links_to_the_unit_page(
    browser: Browser, live_server: LiveServer, large_registry: GeneratedRegistry
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/")
        # No script: the tools that need it stay hidden, the <details> still fold.
        assert not page.get_by_role("button", name="Expand all loaded").is_visible()
        branch = page.locator("[data-tree] details[data-children-url]").first
        slug = branch_slug(branch)
        # Open the folded levels above it, outermost first, then the branch itself.
        closed = branch.locator("xpath=ancestor::details[not(@open)]/summary")
        while closed.count():
            closed.first.click()
        branch.locator(":scope > summary").click()
        link = branch.get_by_role("link", name="See the sub-units of")
        link.click()
        page.wait_for_url(f"**/units/{slug}/#subunits-heading")
        listed = page.locator(".sub-units li > a").all_inner_texts()
        expected = unit_children(slug)
        assert expected is not None
        assert listed == [child.name for child in expected.roots]
    finally:
        context.close()


def test_posts_and_people_of_a_large_registry_come_page_by_page(
    page: Page, live_server: LiveServer, large_registry: GeneratedRegistry
) -> None:
    page.goto(f"{live_server.url}/people/?as_of=2019-01-01")
    pages = page.get_by_role("navigation", name="Pages")
    assert "Page 1 of" in pages.inner_text()
    first = page.locator(".person h2").first.inner_text()
    assert page.locator(".person").count() == PEOPLE_PAGE_SIZE
    next_page = pages.get_by_role("link", name="Next page")
    next_page.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/people/?as_of=2019-01-01&page=2")
    assert "Page 2 of" in page.get_by_role("navigation", name="Pages").inner_text()
    assert page.locator(".person h2").first.inner_text() >= first
    assert page.locator("#past-notice").is_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/posts/")
    assert page.locator(".post-group").count() == POSTS_PAGE_UNITS
    page.get_by_role("navigation", name="Pages").get_by_role(
        "link", name="Next page"
    ).click()
    page.wait_for_url("**/posts/?page=2")
    assert page.get_by_role("link", name="Previous page").is_visible()
    assert_accessible(page)

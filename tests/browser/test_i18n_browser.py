"""The interface in French and Spanish, in Chromium (issue 17, interface half).

A browser that prefers French lands on the French pages; the switcher moves between
languages on the same page, its query kept; the tree, a unit, the chart and the
compare page read in the language, and axe-core finds no language problem
(``html-has-lang``, ``html-lang-valid``, ``valid-lang``) nor any other serious one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import BrowserProblems, screenshot
from units import services
from units.models import OrganizationalUnit
from units.seed import load_structure
from units.views import structure_pages

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "fixtures" / "iom_structure.json"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGE_RULES = ["html-has-lang", "html-lang-valid", "valid-lang"]

pytestmark = pytest.mark.usefixtures("transactional_db", "plain_static_files")


@pytest.fixture
def seeded(editor: User) -> None:
    load_structure(SEED, user=editor)


@pytest.fixture
def french_page(browser: Browser, live_server: LiveServer) -> Page:
    """A browser whose reader prefers French (its Accept-Language says so)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR"
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def axe_problems(page: Page) -> list[str]:
    """axe-core's language rules (any impact) and every serious or critical violation."""
    # Evaluated, not added as a <script>: the CSP refuses inline scripts.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in result["violations"]
        if violation["id"] in LANGUAGE_RULES
        or violation["impact"] in ("serious", "critical")
    ]


def assert_page_in(page: Page, language: str, heading: str) -> None:
    page.get_by_role("heading", name=heading, level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == language
    # The language rules ran (they apply to every page), and found nothing.
    page.evaluate(AXE.read_text())
    ran = page.evaluate(
        "async (rules) => (await axe.run(document, {runOnly: {type: 'rule', values: rules}}))"
        ".passes.map((rule) => rule.id)",
        LANGUAGE_RULES,
    )
    assert {"html-has-lang", "html-lang-valid"} <= set(ran)
    assert axe_problems(page) == []


def test_switch_languages_across_the_tree_a_unit_the_chart_and_compare(
    french_page: Page, live_server: LiveServer, seeded: None
) -> None:
    page = french_page
    problems = BrowserProblems(page)

    # A first visit to the English address, from a French browser: the French page.
    assert problems.visit(f"{live_server.url}/") == []
    assert page.url == f"{live_server.url}/fr/"
    assert_page_in(page, "fr", "Structure organisationnelle")
    assert page.get_by_role("button", name="Tout replier").is_visible()
    screenshot(page, "i18n-structure-fr", full_page=False)

    # The switcher: the same page in Spanish.
    page.get_by_role("button", name="Español").click()
    page.wait_for_url(f"{live_server.url}/es/")
    assert_page_in(page, "es", "Estructura organizativa")
    assert page.get_by_role("button", name="Español").get_attribute("aria-current")

    # A unit, from the tree: its page in Spanish, dates in Spanish.
    page.get_by_role("link", name="Office of the Director General", exact=True).click()
    page.wait_for_url("**/es/units/**")
    assert_page_in(page, "es", "Office of the Director General")
    assert page.get_by_role("heading", name="Jefatura y puestos").is_visible()
    assert page.get_by_role("heading", name="Cronología de cambios").is_visible()
    assert "de enero de 2023" in page.locator(".timeline").inner_text()
    screenshot(page, "i18n-unit-es", full_page=False)

    # The chart, in French: its page and the drawing's legend.
    page.goto(f"{live_server.url}/fr/chart/?depth=2")
    assert_page_in(page, "fr", "Organigramme")
    legend = page.locator("[data-chart] svg .legend").text_content() or ""
    assert "Supervision directe" in legend and "Tutelle" in legend
    screenshot(page, "i18n-chart-fr", full_page=False)

    # The compare page in Spanish, then French: the dates asked for are kept.
    page.goto(f"{live_server.url}/es/compare/?from=2022-12-31&to=2023-01-02")
    assert_page_in(page, "es", "Comparar dos fechas")
    assert page.get_by_role("heading", name="Unidades creadas").first.is_visible()
    screenshot(page, "i18n-compare-es", full_page=False)
    page.get_by_role("button", name="Français").click()
    page.wait_for_url(f"{live_server.url}/fr/compare/?from=2022-12-31&to=2023-01-02")
    assert_page_in(page, "fr", "Comparer deux dates")

    # Back to English: today's address, and English it stays, French browser or not.
    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{live_server.url}/compare/?from=2022-12-31&to=2023-01-02")
    assert_page_in(page, "en", "Compare two dates")
    assert problems.visit(f"{live_server.url}/chart/") == []
    assert page.url == f"{live_server.url}/chart/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert problems.collected() == []


def test_a_branch_loaded_by_script_speaks_the_page_language(
    french_page: Page,
    live_server: LiveServer,
    seeded: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pages.js writes and announces in the page's language (its catalog, loaded
    from the page's prefix), and the loaded sub-units link to French pages."""
    # The seed shows whole; with room for a few units only, the page cuts the tree.
    monkeypatch.setattr(structure_pages, "STRUCTURE_UNITS", 5)
    page = french_page
    problems = BrowserProblems(page)
    assert problems.visit(f"{live_server.url}/fr/") == []
    assert "premier" in page.locator("#tree-cut-note").inner_text()
    branch = page.locator("details[data-children-url]").first
    assert (branch.get_attribute("data-children-url") or "").startswith("/fr/units/")
    summary = branch.locator(":scope > summary")
    assert "sous-unité" in summary.inner_text()
    summary.click()
    branch.locator(":scope > ul > li .unit-link").first.wait_for()
    page.wait_for_function(
        "() => /^\\d+ sous-unités? de .+ chargées?\\.$/.test("
        "document.querySelector('[data-tree-status]').textContent)"
    )
    link = branch.locator(":scope > ul > li .unit-link").first
    assert (link.get_attribute("href") or "").startswith("/fr/units/")
    assert problems.collected() == []


FRENCH_NAMES = {
    "office-of-the-director-general": "Bureau du Directeur général",
    "office-of-the-deputy-director-general-for-operations": (
        "Bureau du Directeur général adjoint chargé des opérations"
    ),
}


def test_the_french_chart_shows_french_names_and_marks_english_ones(
    french_page: Page, live_server: LiveServer, seeded: None, editor: User
) -> None:
    """Two units have French names: the chart draws them; every other name is the
    English one, marked so (axe-core checks the marks are valid languages)."""
    for slug, name in FRENCH_NAMES.items():
        services.unit_update(
            unit=OrganizationalUnit.objects.get(slug=slug),
            user=editor,
            reason="French name",
            name_fr=name,
        )
    page = french_page
    problems = BrowserProblems(page)
    assert problems.visit(f"{live_server.url}/fr/chart/?depth=2") == []
    assert_page_in(page, "fr", "Organigramme")
    chart = page.locator("[data-chart] svg")
    assert chart.get_attribute("lang") == "fr"
    names = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-chart] g.unit')).map(
            (unit) => {
                const name = unit.querySelector('text.name');
                return [
                    unit.dataset.slug,
                    Array.from(name.children).map((line) => line.textContent).join(' '),
                    name.getAttribute('lang'),
                ];
            })"""
    )
    drawn = {slug: (text, lang) for slug, text, lang in names}
    for slug, name in FRENCH_NAMES.items():
        assert drawn[slug] == (name, None)
        box = page.locator(f'[data-chart] g.unit[data-slug="{slug}"] text.name')
        assert box.is_visible()
    english = [slug for slug, (_text, lang) in drawn.items() if lang == "en"]
    assert len(english) == len(drawn) - len(FRENCH_NAMES) > 0
    heading = page.locator("[data-chart] svg .chart-heading")
    assert heading.text_content() == "Bureau du Directeur général"
    # The downloads are the French ones.
    for link in page.locator(".downloads a").all():
        assert (link.get_attribute("href") or "").startswith("/fr/chart/download.")
    screenshot(page, "i18n-chart-fr-names", full_page=False)
    assert problems.collected() == []

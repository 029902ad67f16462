"""A French rename in a unit's history, in Chromium (issue 17, history): labelled in
French, its values marked French, and axe-core finds no language problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.test_i18n_browser import axe_problems
from tests.pages.test_history_languages import renamed_in_french

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.usefixtures("transactional_db", "plain_static_files")


def test_a_french_rename_reads_as_a_french_diff_in_the_timeline(
    page: Page, live_server: LiveServer
) -> None:
    unit = renamed_in_french()
    page.goto(f"{live_server.url}/fr/units/{unit.slug}/")
    change = page.locator(".timeline .changes div", has_text="Nom (français)").first
    change.wait_for()
    assert change.locator('del[lang="fr"]').inner_text() == "Finances"
    assert change.locator('ins[lang="fr"]').inner_text() == "Finances et budget"
    mandate = page.locator(".timeline .changes div", has_text="Mandat (français)").first
    assert mandate.locator('.diff[lang="fr"] ins').first.inner_text() == (
        " et le budget"
    )
    assert axe_problems(page) == []

"""Content-Security-Policy in a real Chromium: no page the registry serves breaks it.

(Issue 12, item 11.) The policy allows only the site's own scripts and styles, and
inline ones with the request's nonce. Chromium reports every blocked script, style or
attribute as a ``securitypolicyviolation`` event and a console error; this visits the
public pages, the API's HTML pages and the admin and collects both, with every other
console error and failed request (issue 16: the one walk of them all; the collector's
own check is in test_console_browser.py).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.browser.conftest import BrowserProblems, visit_all
from tests.conftest import at
from units import services
from units.models import OrganizationalUnit, UnitKind

pytestmark = pytest.mark.usefixtures("transactional_db", "plain_static_files")

PASSWORD = "root-pass-123"


@pytest.fixture
def registry(transactional_db: None) -> dict[str, Any]:
    root_user = get_user_model().objects.create_superuser(
        username="root", password=PASSWORD, email="root@example.org"
    )
    head_office = services.unit_create(
        user=root_user,
        reason="Founded",
        name="Head Office",
        kind=UnitKind.OFFICE,
        effective_at=at("2024-01-01"),
    )
    department = services.unit_create(
        user=root_user,
        reason="Grown",
        name='Department of <em>Quotes</em> & "Things"',
        kind=UnitKind.DEPARTMENT,
        parent=head_office,
        effective_at=at("2024-02-01"),
    )
    services.unit_update(
        unit=department,
        user=root_user,
        reason="Mandate written",
        mandate='Looks after <script>alert(1)</script> and style="color:red".',
        effective_at=at("2024-03-01"),
    )
    post = services.post_create(
        user=root_user,
        reason="Head needed",
        unit=department,
        title="Head of Department",
        is_head=True,
        effective_at=at("2024-03-01"),
    )
    person = services.person_create(
        user=root_user,
        reason="Hired",
        full_name="Ana Example",
        effective_at=at("2024-03-01"),
    )
    services.appointment_start(
        person=person,
        post=post,
        started_on=datetime.date(2024, 3, 1),
        user=root_user,
        reason="Appointed",
        effective_at=at("2024-03-01"),
    )
    return {
        "user": root_user,
        "unit": OrganizationalUnit.objects.get(pk=department.pk),
        "post": post,
        "person": person,
    }


def test_no_page_or_admin_screen_violates_the_content_security_policy(
    page: Any,
    live_server: Any,
    registry: dict[str, Any],
    browser_problems: BrowserProblems,
) -> None:
    base = live_server.url
    unit, post, person = registry["unit"], registry["post"], registry["person"]
    public = [
        "/",
        "/?as_of=2024-02-15",
        f"/units/{unit.slug}/",
        "/chart/",
        "/compare/?from=2024-01-01&to=2024-12-31",
        "/search/?q=Department",
        "/posts/",
        "/people/",
        "/units/no-such-unit/",
        "/api/v1/",
        "/api/v1/tour/",
        "/api/v1/units/",
        f"/api/v1/units/{unit.slug}/history/",
        "/api/v1/docs/",
    ]
    admin = [
        "/admin/",
        "/admin/units/organizationalunit/",
        "/admin/units/organizationalunit/add/",
        f"/admin/units/organizationalunit/{unit.pk}/change/",
        f"/admin/units/organizationalunit/{unit.pk}/history/",
        "/admin/units/post/",
        f"/admin/units/post/{post.pk}/change/",
        "/admin/units/person/",
        f"/admin/units/person/{person.pk}/change/",
        "/admin/auth/user/",
        f"/admin/auth/user/{registry['user'].pk}/change/",
        f"/admin/auth/user/{registry['user'].pk}/delete/",
        "/admin/auth/group/",
    ]
    # Four tabs of one browser (one session): a page's wait for its network to
    # settle overlaps the next pages' loading.
    tabs = [
        browser_problems,
        *(BrowserProblems(page.context.new_page()) for _ in range(3)),
    ]
    found = visit_all(tabs, [base + path for path in public])
    found[base + "/admin/login/"] = browser_problems.visit(
        f"{base}/admin/login/?next=/admin/"
    )
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")
    # The admin's index it lands on: settled, or opening the next page aborts its icons.
    page.wait_for_load_state("networkidle")
    found |= visit_all(tabs, [base + path for path in admin])
    assert len(found) == len(public) + 1 + len(admin)
    # The chart's script really ran (zoom tools are revealed by it), so a quiet
    # console does not just mean that nothing was loaded.
    page.goto(f"{base}/chart/")
    assert page.locator("[data-chart-tools]").is_visible()

    # A unit that does not exist is a 404 page (and only that is).
    assert found.pop(f"{base}/units/no-such-unit/") == [
        f"404 {live_server.url}/units/no-such-unit/"
    ]
    violations = {path: problems for path, problems in found.items() if problems}
    assert not violations, json.dumps(violations, indent=1)


def test_every_answer_carries_the_policy_and_a_same_origin_referrer_policy(
    client: Any, registry: dict[str, Any]
) -> None:
    client.force_login(registry["user"])
    for path in ("/", "/chart/", "/api/v1/units/", "/api/v1/docs/", "/admin/"):
        response = client.get(path)
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy, path
        assert "'unsafe-inline'" not in policy, path
        assert "'unsafe-eval'" not in policy, path
        assert "object-src 'none'" in policy, path
        assert response["Referrer-Policy"] == "same-origin", path

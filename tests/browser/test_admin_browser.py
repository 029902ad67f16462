"""An editor's whole round in a real headless Chromium: log in, create a unit, drag it
under another unit, edit its mandate, read the history with the reason and the diff,
and revert."""

from __future__ import annotations

import datetime
import re
from io import BytesIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from api.formats.state import RegistryAt
from api.formats.workbook import workbook_bytes
from tests.browser.conftest import screenshot
from tests.conftest import assert_tree_matches_rebuild
from units import services
from units.models import OrganizationalUnit, Person, Post, Reorganization, UnitKind

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "editor-pass-123"
STRUCTURE_RECORDED_FROM = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


@pytest.fixture
def browser_editor(transactional_db: None) -> Any:
    user = get_user_model().objects.create_user(
        username="hr-editor", password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name="Registry editors"))
    return user


@pytest.fixture
def structure(browser_editor: Any) -> dict[str, OrganizationalUnit]:
    def create(name: str, parent: OrganizationalUnit | None, kind: str) -> Any:
        return services.unit_create(
            user=browser_editor,
            reason="Initial structure",
            name=name,
            kind=kind,
            parent=parent,
            effective_at=STRUCTURE_RECORDED_FROM,
        )

    root = create("Office of the Director General", None, UnitKind.OFFICE)
    return {
        "root": root,
        "left": create("Department of Operations", root, UnitKind.DEPARTMENT),
        "right": create("Department of Policy", root, UnitKind.DEPARTMENT),
    }


def log_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", "hr-editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")


def choose_autocomplete(page: Any, field: str, text: str) -> None:
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.click(f".select2-results__option >> text={text}")


def row_of(page: Any, name: str) -> Any:
    return page.locator("#result_list tbody tr", has_text=name)


def title_indent(page: Any, name: str) -> float:
    """The left padding the browser computed for a unit's title in the admin tree."""
    title = row_of(page, name).locator(".tree-title")
    return float(
        title.evaluate("el => getComputedStyle(el).paddingLeft").removesuffix("px")
    )


def test_editor_creates_drags_edits_reads_history_and_reverts(
    page: Any, live_server: Any, structure: dict[str, OrganizationalUnit]
) -> None:
    base = live_server.url
    log_in(page, base)

    # Create a unit under the Department of Operations.
    page.goto(f"{base}/admin/units/organizationalunit/add/")
    page.fill("#id_name", "Data Governance Unit")
    page.fill("#id_short_name", "DGU")
    page.select_option("#id_kind", "unit")
    choose_autocomplete(page, "parent", "Department of Operations")
    page.fill("#id_mandate", "Keeps the registry of data sets.")
    page.fill("#id_reason", "Created by the 2026 data strategy")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    unit = OrganizationalUnit.objects.get(short_name="DGU")
    assert unit.parent == structure["left"]

    # Drag it under the Department of Policy; the browser asks for the reason.
    page.goto(f"{base}/admin/units/organizationalunit/")
    handle = row_of(page, "Data Governance Unit").locator(".drag-handle")
    target = row_of(page, "Department of Policy").locator("th")
    handle_box = handle.bounding_box()
    target_box = target.bounding_box()
    page.mouse.move(
        handle_box["x"] + handle_box["width"] / 2,
        handle_box["y"] + handle_box["height"] / 2,
    )
    page.mouse.down()
    page.mouse.move(
        target_box["x"] + 40, target_box["y"] + target_box["height"] / 2, steps=12
    )
    page.mouse.up()
    page.wait_for_selector("#move-dialog[open]")
    page.fill("#id_move_reason", "Policy owns data governance")
    with page.expect_navigation():
        page.click("#move-dialog-submit")
    page.wait_for_selector(".messagelist .success")
    assert "now reports to" in page.inner_text(".messagelist")
    unit.refresh_from_db()
    assert unit.parent == structure["right"]
    assert_tree_matches_rebuild()
    # The tree shows the unit indented below its new parent.
    names = page.locator("#result_list tbody th").all_inner_texts()
    assert names.index("Data Governance Unit (DGU)") == (
        names.index("Department of Policy") + 1
    )
    # Indented one level (22px) deeper than its parent, by a class, as the
    # Content-Security-Policy allows no style attributes.
    assert title_indent(page, "Data Governance Unit (DGU)") == (
        title_indent(page, "Department of Policy") + 22
    )
    screenshot(page, "admin-tree")

    # Edit the mandate with a reason.
    page.goto(f"{base}/admin/units/organizationalunit/{unit.pk}/change/")
    page.fill(
        "#id_mandate",
        "Keeps the catalogue of data sets and publishes it as open data.",
    )
    page.fill("#id_reason", "Mandate widened by the Council")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    # The history lists both reasons and shows the mandate as a word diff.
    page.goto(f"{base}/admin/units/organizationalunit/{unit.pk}/change/")
    page.click("a.historylink")
    page.wait_for_selector("#unit-history")
    history = page.inner_text("#unit-history")
    for reason in (
        "Mandate widened by the Council",
        "Policy owns data governance",
        "Created by the 2026 data strategy",
        "hr-editor",
    ):
        assert reason in history
    inserted = page.locator("#unit-history .registry-diff ins").all_inner_texts()
    assert " and publishes it as open data" in inserted
    assert "catalogue" in inserted
    assert (
        "registry" in page.locator("#unit-history .registry-diff del").all_inner_texts()
    )
    screenshot(page, "admin-history")

    # One version with its diff, then revert to the version before the edit.
    page.locator("tr.revision", has_text="Mandate widened").locator("a").click()
    page.wait_for_selector("#version-diff")
    assert "open data" in page.inner_text("#version-diff .registry-diff")
    screenshot(page, "admin-diff")
    page.goto(f"{base}/admin/units/organizationalunit/{unit.pk}/history/")
    page.locator("tr.revision", has_text="Policy owns data governance").locator(
        "a"
    ).click()
    page.fill("#id_reason", "Council decision annulled")
    page.click("input[name=revert]")
    page.wait_for_selector(".messagelist .success")
    assert re.search(r"was reverted", page.inner_text(".messagelist"))
    unit.refresh_from_db()
    assert unit.mandate == "Keeps the registry of data sets."
    assert unit.parent == structure["right"]
    assert unit.history.order_by("-history_id").first().history_change_reason == (
        "Council decision annulled"
    )
    assert page.locator("tr.revision").count() == 4
    assert_tree_matches_rebuild()


def test_dragging_a_unit_into_its_own_subtree_shows_the_refusal(
    page: Any, live_server: Any, structure: dict[str, OrganizationalUnit]
) -> None:
    child = services.unit_create(
        user=None,
        reason="x",
        name="Operations Support",
        kind="unit",
        parent=structure["left"],
    )
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/units/organizationalunit/")
    handle = row_of(page, "Department of Operations").locator(".drag-handle")
    target = row_of(page, "Operations Support").locator("th")
    handle_box, target_box = handle.bounding_box(), target.bounding_box()
    page.mouse.move(handle_box["x"] + 5, handle_box["y"] + 5)
    page.mouse.down()
    page.mouse.move(
        target_box["x"] + 40, target_box["y"] + target_box["height"] / 2, steps=12
    )
    page.mouse.up()
    page.fill("#id_move_reason", "Loop")
    page.click("#move-dialog-submit")
    # The refusal is shown in the dialog, which stays open.
    page.wait_for_selector("#move-dialog-error:not([hidden])")
    assert "cycle" in page.inner_text("#move-dialog-error")
    assert page.locator("#move-dialog").evaluate("dialog => dialog.open")
    child.refresh_from_db()
    assert child.parent == structure["left"]
    assert (
        OrganizationalUnit.objects.get(pk=structure["left"].pk).parent
        == (structure["root"])
    )
    assert_tree_matches_rebuild()


def test_cancelling_the_move_dialog_moves_nothing(
    page: Any, live_server: Any, structure: dict[str, OrganizationalUnit]
) -> None:
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/units/organizationalunit/")
    handle = row_of(page, "Department of Policy").locator(".drag-handle")
    target = row_of(page, "Department of Operations").locator("th")
    handle_box, target_box = handle.bounding_box(), target.bounding_box()
    page.mouse.move(handle_box["x"] + 5, handle_box["y"] + 5)
    page.mouse.down()
    page.mouse.move(
        target_box["x"] + 40, target_box["y"] + target_box["height"] / 2, steps=12
    )
    page.mouse.up()
    page.wait_for_selector("#move-dialog[open]")
    page.click("#move-dialog-cancel")
    page.wait_for_selector("#move-dialog", state="hidden")
    assert page.locator("#drag-line").count() == 0
    assert (
        OrganizationalUnit.objects.get(pk=structure["right"].pk).parent
        == (structure["root"])
    )
    assert structure["right"].history.count() == 1


def test_unit_page_shows_posts_holders_relationships_and_abolishes(
    page: Any, live_server: Any, structure: dict[str, OrganizationalUnit]
) -> None:
    left, right = structure["left"], structure["right"]
    head = services.post_create(
        user=None,
        reason="x",
        title="Director of Operations",
        unit=left,
        is_head=True,
        effective_at=STRUCTURE_RECORDED_FROM,
    )
    person = services.person_create(user=None, reason="x", full_name="Amina Farah")
    services.appointment_start(
        user=None,
        reason="x",
        person=person,
        post=head,
        started_on=datetime.date(2024, 5, 1),
    )
    services.relationship_create(
        user=None, reason="x", source=left, target=right, kind="collaborates_with"
    )
    services.unit_create(
        user=None, reason="x", name="Field Support Unit", kind="unit", parent=left
    )
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/units/organizationalunit/{left.pk}/change/")
    assert "Amina Farah (since 1 May 2024)" in page.inner_text("#posts-group")
    assert "Department of Policy" in page.inner_text("#outgoing_relationships-group")
    screenshot(page, "admin-unit-form")

    page.click("a.abolish-link")
    page.fill("#id_reason", "Operations merged into Policy")
    field_support = OrganizationalUnit.objects.get(name="Field Support Unit")
    choose_autocomplete(page, f"sub_unit_{field_support.pk}_to", "Department of Policy")
    screenshot(page, "admin-abolish")
    page.click("#abolish-form input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "was abolished" in page.inner_text(".messagelist")
    assert "This unit was abolished on" in page.inner_text("#content-main")
    left.refresh_from_db()
    assert not left.is_active
    moved = OrganizationalUnit.objects.get(name="Field Support Unit")
    assert moved.parent == right and moved.is_active
    assert not Post.objects.get(pk=head.pk).is_active
    assert_tree_matches_rebuild()


def test_editor_reverts_a_post_to_an_earlier_version(
    page: Any,
    live_server: Any,
    structure: dict[str, OrganizationalUnit],
    browser_editor: Any,
) -> None:
    post = services.post_create(
        user=browser_editor,
        reason="New post",
        title="Director of Operations",
        unit=structure["left"],
        is_head=True,
    )
    first_version = post.history.get()
    services.post_update(
        post=post,
        user=browser_editor,
        reason="Title shortened",
        title="Operations Director",
    )
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/units/post/{post.pk}/history/")
    assert "Title shortened" in page.inner_text("#content")
    page.goto(
        f"{live_server.url}/admin/units/post/{post.pk}/history/{first_version.history_id}/"
    )
    page.fill(
        "#revert-form textarea, #revert-form input[name=reason]", "Old title was right"
    )
    page.click("#revert-form input[name=revert]")
    page.wait_for_selector(".messagelist")
    post.refresh_from_db()
    assert post.title == "Director of Operations"
    assert post.history.count() == 3, "a revert is one new revision, not an erasure"
    assert post.history.first().history_change_reason == "Old title was right"
    screenshot(page, "admin-post-revert")


def test_unit_form_with_many_posts_and_long_names_fits_1280_pixels(
    page: Any, live_server: Any, structure: dict[str, OrganizationalUnit]
) -> None:
    """A unit with a dozen posts and long names: no sideways scroll, nothing clipped."""
    parent = services.unit_create(
        user=None,
        reason="x",
        name="Department of Programme Support and Migration Management for "
        "Humanitarian Emergencies, Transition, Recovery and Durable Solutions",
        kind=UnitKind.DEPARTMENT,
        parent=structure["root"],
        effective_at=STRUCTURE_RECORDED_FROM,
    )
    unit = services.unit_create(
        user=None,
        reason="x",
        name="Division of Regional Operations, Partnerships, Knowledge Management "
        "and Resource Mobilization for Small Island Developing States",
        kind=UnitKind.DIVISION,
        parent=parent,
        effective_at=STRUCTURE_RECORDED_FROM,
    )
    partner = services.unit_create(
        user=None,
        reason="x",
        name="Office of the Special Envoy for Migration, Climate Change, Environment "
        "and Disaster Risk Reduction in Small Island Developing States",
        kind=UnitKind.OFFICE,
        parent=structure["root"],
        effective_at=STRUCTURE_RECORDED_FROM,
    )
    holder_names = []
    for index in range(12):
        post = services.post_create(
            user=None,
            reason="x",
            title="Senior Programme Coordination and Knowledge Management Officer "
            f"for Regional Operations, Partnerships and Resource Mobilization {index}",
            unit=unit,
            is_head=index == 0,
            filling_method="temporary_appointment" if index % 3 else "other",
            effective_at=STRUCTURE_RECORDED_FROM,
        )
        if index % 2 == 0:
            name = (
                "Maria-Fernanda Alexandrina Konstantopoulou-Wolfeschlegelsteinhausen "
                f"de la Cruz y Villanueva {index}"
            )
            holder_names.append(name)
            services.appointment_start(
                user=None,
                reason="x",
                person=services.person_create(
                    user=None,
                    reason="x",
                    full_name=name,
                    effective_at=STRUCTURE_RECORDED_FROM,
                ),
                post=post,
                started_on=datetime.date(2024, 5, 1),
            )
    services.relationship_create(
        user=None,
        reason="x",
        source=unit,
        target=partner,
        kind="works_in_conjunction_with",
        description="Joint planning of field operations in the Pacific and the "
        "Caribbean, with shared reporting to donors and a common risk register",
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/units/organizationalunit/{unit.pk}/change/")
    page.wait_for_selector("#posts-group .select2-container")
    screenshot(page, "admin-unit-many-posts")

    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    posts = page.inner_text("#posts-group")
    for name in holder_names:
        assert f"{name} (since 1 May 2024)" in " ".join(posts.split())
    # Nothing is clipped: no cell, row label or chosen name is wider than its box,
    # and every post and relationship field lies inside the content column.
    clipped = page.evaluate(
        """() => [...document.querySelectorAll(
            '#posts-group tr.form-row:not(.empty-form) td, '
            + '#outgoing_relationships-group tr.form-row:not(.empty-form) td, '
            + '.inline-group td.original p, .select2-selection__rendered'
        )].filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.outerHTML)"""
    )
    assert clipped == []
    right_edge = page.evaluate(
        "document.querySelector('#content-main').getBoundingClientRect().right"
    )
    widest = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll(
            '#posts-group tr.form-row:not(.empty-form) td > *, '
            + '#outgoing_relationships-group tr.form-row:not(.empty-form) td > *'
        )].map(e => e.getBoundingClientRect().right))"""
    )
    assert widest <= right_edge
    # The buttons above the form leave the long name in the heading uncovered.
    overlap = page.evaluate(
        """() => {
            const a = document.querySelector('#content > h2').getBoundingClientRect();
            const b = document.querySelector('ul.object-tools').getBoundingClientRect();
            return a.left < b.right && b.left < a.right
                && a.top < b.bottom && b.top < a.bottom;
        }"""
    )
    assert not overlap
    description = page.locator("#id_outgoing_relationships-0-description")
    assert description.is_disabled()
    assert description.evaluate("e => e.scrollHeight <= e.clientHeight + 1")

    # Rows added in the page take the same layout and still fit.
    page.click("#posts-group .add-row a")
    page.click("#outgoing_relationships-group .add-row a")
    new_title = page.locator("#id_posts-12-title")
    assert new_title.is_visible()
    assert page.locator("#id_outgoing_relationships-1-description").is_visible()
    row_width = "e => e.closest('tr').getBoundingClientRect().width"
    assert new_title.evaluate(row_width) == page.locator("#id_posts-0-title").evaluate(
        row_width
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # The longest way of filling a post is shown whole in its list.
    select = page.locator("#id_posts-1-filling_method")
    assert select.evaluate(
        """select => {
            const context = document.createElement('canvas').getContext('2d');
            context.font = getComputedStyle(select).font;
            const text = select.options[select.selectedIndex].text;
            return context.measureText(text).width + 24 <= select.clientWidth;
        }"""
    )


def test_editor_appoints_a_new_person_and_sends_sub_units_to_two_places(
    page: Any, live_server: Any, structure: dict[str, OrganizationalUnit]
) -> None:
    """Appointing someone the registry does not know, and splitting a department."""
    left, right, root = structure["left"], structure["right"], structure["root"]
    post = services.post_create(
        user=None,
        reason="x",
        title="Director of Operations",
        unit=left,
        is_head=True,
        effective_at=STRUCTURE_RECORDED_FROM,
    )
    sub_units = {
        name: services.unit_create(
            user=None,
            reason="x",
            name=name,
            kind="unit",
            parent=left,
            effective_at=STRUCTURE_RECORDED_FROM,
        )
        for name in ("Field Support Unit", "Logistics Unit", "Archive Unit")
    }
    base = live_server.url
    log_in(page, base)

    # One save, one reason: the new person is recorded and appointed.
    page.goto(f"{base}/admin/units/organizationalunit/{left.pk}/change/")
    headers = page.inner_text("#posts-group thead").lower()
    for header in ("appoint a recorded person", "or a new person", "appointed from"):
        assert header in headers
    page.fill("#id_posts-0-new_person", "Amara Okafor")
    page.fill("#id_posts-0-appointed_on", "2024-06-03")
    page.fill("#id_reason", "Director recruited after the vacancy notice")
    screenshot(page, "admin-appoint-new-person")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert "Amara Okafor (since 3 June 2024)" in page.inner_text("#posts-group")
    appointment = post.appointments.get()
    for revision in (appointment.person.history.get(), appointment.history.get()):
        assert revision.history_change_reason == (
            "Director recruited after the vacancy notice"
        )
        assert revision.history_user.username == "hr-editor"

    # A refused appointment shows its message next to the field.
    page.fill("#id_posts-0-new_person", "Someone Else")
    page.fill("#id_posts-0-appointed_on", "2024-07-01")
    page.fill("#id_reason", "Second director")
    page.click("input[name=_continue]")
    page.wait_for_selector("#posts-group .field-new_person .errorlist")
    assert "is held by Amara Okafor" in page.inner_text(
        "#posts-group .field-new_person .errorlist"
    )
    # Only that message: the person was named, so nothing else is asked for.
    assert page.locator("#posts-group .errorlist").count() == 1
    screenshot(page, "admin-appoint-refused")
    assert not Person.objects.filter(full_name="Someone Else").exists()

    # Abolish the department: each sub-unit goes its own way, on the first submit.
    page.goto(f"{base}/admin/units/organizationalunit/{left.pk}/abolish/")
    rows = page.locator("#sub-units tbody tr")
    assert rows.count() == 3
    # Each starts moving under the abolished department's parent.
    assert "Office of the Director General" in rows.first.inner_text()
    field_support = sub_units["Field Support Unit"].pk
    archive = sub_units["Archive Unit"].pk
    choose_autocomplete(page, f"sub_unit_{field_support}_to", "Department of Policy")
    page.check(f"input[name=sub_unit_{archive}][value=abolish]")
    page.fill("#id_reason", "Operations split between Policy and the Office")
    screenshot(page, "admin-abolish-per-sub-unit")
    page.click("#abolish-form input[type=submit]")
    page.wait_for_selector(".messagelist .success")
    assert "was abolished" in page.inner_text(".messagelist")
    assert page.locator(".errornote").count() == 0
    assert page.locator("input[name=_addanother]").count() == 0
    screenshot(page, "admin-abolished")

    def parent_of(name: str) -> OrganizationalUnit | None:
        return OrganizationalUnit.objects.get(name=name).parent

    assert parent_of("Field Support Unit") == right
    assert parent_of("Logistics Unit") == root
    assert not OrganizationalUnit.objects.get(name="Archive Unit").is_active
    left.refresh_from_db()
    assert not left.is_active
    assert_tree_matches_rebuild()


def test_editor_imports_a_workbook_sees_the_difference_and_saves_a_draft(
    page: Any,
    live_server: Any,
    structure: dict[str, OrganizationalUnit],
    tmp_path: Any,
) -> None:
    exported = workbook_bytes(
        RegistryAt(None), registry_name="R", as_of=None, exported_at=None
    )
    book = load_workbook(BytesIO(exported))
    units = book["Units"]
    policy = next(
        row[0].row
        for row in units.iter_rows(min_row=2)
        if row[0].value == structure["right"].slug
    )
    units.cell(policy, 2, "Department of Policy and Research")
    units.append(
        ["", "Data Unit", "", "unit", structure["right"].slug, "direct_supervision"]
    )
    path = tmp_path / "structure.xlsx"
    book.save(path)

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/units/reorganization/")
    page.click("text=Import a spreadsheet")
    page.set_input_files("#id_file", str(path))
    page.fill("#id_title", "Research added to Policy")
    page.click("input[name=_preview]")
    page.wait_for_selector("#import-difference")
    rows = page.locator("#import-difference tbody tr")
    assert rows.count() == 2
    text = page.inner_text("#import-difference")
    assert "Establish “Data Unit” (data-unit) under “Department of Policy" in text
    assert "Rename “Department of Policy” to “Department of Policy and Research”" in (
        text
    )
    assert page.input_value("#id_title") == "Research added to Policy"
    assert not Reorganization.objects.exists()
    screenshot(page, "admin-import-difference")

    page.fill("#id_reason", "Board paper 2026/7")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    assert "holds the file's 2 changes" in page.inner_text(".messagelist")
    draft = Reorganization.objects.get()
    assert draft.title == "Research added to Policy"
    assert [operation.kind for operation in draft.operations.all()] == [
        "establish_unit",
        "change_unit",
    ]
    assert draft.problems == []
    screenshot(page, "admin-import-draft")

"""The public pages, now and as of past dates, their error cases and query counts."""

from __future__ import annotations

import datetime
import html as html_module
import re
from collections.abc import Callable, Iterator
from http import HTTPStatus
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from pytest_django import DjangoAssertNumQueries, DjangoDbBlocker

from benchmarks.generate import generate
from tests.conftest import (
    ResponseWithContent,
    ScriptedHistory,
    at,
    page_text,
    reread,
    rolled_back_registry,
)
from tests.factories import editor_user
from tests.scale.test_views_at_scale import (
    SCALED_PAGES,
    assert_chart_drawn_as_from_the_whole_tree,
    queries_per_page,
)
from units import services
from units.models import (
    OrganizationalUnit,
    ReportingLine,
    UnitKind,
    UnitRelationship,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static_files")]


def assert_no_staff_identity(response: ResponseWithContent) -> None:
    html = response.content.decode().lower()
    assert "editor@example.org" not in html
    assert not re.search(r"\beditor\b", html)


# --- Structure ------------------------------------------------------------------------


def test_structure_shows_the_current_tree_with_heads(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "Headquarters" in text
    assert "Unit Ex" in text
    assert "Head of X: Ben Okoro" in text
    # Department A was abolished in 2022: today's structure does not list it.
    assert "Department A" not in text
    assert "Past view" not in text
    assert 'href="/units/unit-x/"' in response.content.decode()
    assert_no_staff_identity(response)


def test_structure_as_of_a_past_date_shows_that_tree_and_says_so(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/?as_of=2021-01-01")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "Past view: this page shows the structure as it stood on 1 January 2021" in (
        text
    )
    assert "Department A" in text
    assert "Unit X" in text and "Unit Ex" not in text
    assert "Head of X: Ana Lima" in text
    assert "Unit Y" not in text
    html = response.content.decode()
    # Links keep the date, so following them stays in the past.
    assert 'href="/units/unit-x/?as_of=2021-01-01"' in html
    assert 'value="2021-01-01"' in html


def test_structure_marks_oversight_reporting_lines(
    client: Client, make_unit: Callable[..., OrganizationalUnit]
) -> None:
    root = make_unit("Board", kind=UnitKind.OFFICE)
    make_unit("Audit Office", root, reporting_line=ReportingLine.OVERSIGHT)
    html = client.get("/").content.decode()
    assert re.search(
        r'Audit Office</a>.*?<span class="line line-oversight">Oversight</span>', html
    )


def test_structure_with_a_malformed_date_explains_and_shows_today(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/?as_of=2021-13-45")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    text = page_text(response)
    assert "“2021-13-45” is not a valid date" in text
    assert "Showing the structure as it is today instead." in text
    assert "Unit Ex" in text
    assert "Past view" not in text


def test_structure_with_a_date_before_the_first_record_explains(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/?as_of=1999-05-01")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    text = page_text(response)
    assert "The registry starts on 1 January 2020" in text
    assert "no record of the structure on 1 May 1999" in text


def test_structure_on_a_future_date_with_nothing_scheduled_shows_today(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    # A future date is the structure as planned (tests/api/test_planned_reads.py);
    # with no reorganization scheduled, that is today's, and the page says so.
    response = client.get("/?as_of=2999-01-01")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "Future date: no reorganization is scheduled by 1 January 2999" in text
    assert "Past view" not in text
    assert "Unit Ex" in text


def test_structure_of_an_empty_registry_says_so(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == HTTPStatus.OK
    assert "No units are recorded" in page_text(response)


def test_pages_refuse_writes(client: Client, scripted_history: ScriptedHistory) -> None:
    response = client.post("/", {"as_of": "2021-01-01"})
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_structure_of_a_small_registry_shows_every_unit_at_once(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    html = client.get("/").content.decode()
    assert "data-children-url" not in html
    assert ">Expand all</button>" in html
    assert "loads its sub-units when you open it" not in html
    # Headquarters holds Department B, Unit Ex and Unit Y today, not Department A.
    assert re.search(r"Headquarters</a>.*?<summary>3 sub-units<", html)


# --- Sub-units loaded into the structure page ------------------------------------------


def test_sub_units_part_lists_the_active_children_with_their_counts(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/hq/children/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert html.startswith("<ul>") and html.rstrip().endswith("</ul>")
    assert "<html" not in html  # a piece of the page, not a page
    # Department A was abolished in 2022; Department B holds two units, not loaded.
    assert "Department A" not in html
    assert re.search(
        r'href="/units/department-b/">Department B</a>.*?'
        r'<details data-children-url="/units/department-b/children/">'
        r"<summary>2 sub-units<",
        html,
    )
    assert 'href="/units/department-b/#subunits-heading"' in html
    assert "Unit Ex" not in html  # one level only


def test_sub_units_part_as_of_a_date_shows_that_structure(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    html = client.get("/units/hq/children/?as_of=2021-01-01").content.decode()
    assert 'href="/units/department-a/?as_of=2021-01-01"' in html
    assert 'data-children-url="/units/department-a/children/?as_of=2021-01-01"' in html
    assert re.search(r"Department A</a>.*?<summary>1 sub-unit<", html)
    # Unit X only moved to Department B in 2022: then, B had no sub-units.
    assert (
        '<li class="leaf"><span class="entry"><a class="unit-link" '
        'href="/units/department-b/?as_of=2021-01-01">Department B</a>'
    ) in html
    units = client.get("/units/department-a/children/?as_of=2021-01-01")
    text = page_text(units)
    assert "Unit X" in text and "Head of X: Ana Lima" in text


def test_sub_units_part_of_an_unknown_unit_is_a_404(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/nowhere/children/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "There is no unit “nowhere” in the registry."


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "/units/department-a/children/",
            "The unit “department-a” is not part of the structure today.",
        ),
        (
            "/units/unit-y/children/?as_of=2022-01-01",
            "The unit “unit-y” is not part of the structure on 1 January 2022.",
        ),
    ],
)
def test_sub_units_part_of_a_unit_absent_on_that_date_is_a_404(
    client: Client, scripted_history: ScriptedHistory, url: str, message: str
) -> None:
    response = client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.content.decode() == message


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2021-13-45", "“2021-13-45” is not a valid date: use the form YYYY-MM-DD"),
        ("1999-05-01", "The registry starts on 1 January 2020"),
    ],
)
def test_sub_units_part_refuses_a_bad_date(
    client: Client, scripted_history: ScriptedHistory, as_of: str, message: str
) -> None:
    response = client.get(f"/units/hq/children/?as_of={as_of}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert message in text
    assert "instead" not in text  # nothing is shown instead


def test_sub_units_part_refuses_writes(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.post("/units/hq/children/")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- Unit page ------------------------------------------------------------------------


def test_unit_page_shows_mandate_posts_breadcrumbs_and_timeline(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/unit-x/")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "Unit Ex keeps the registry and publishes it." in text
    assert re.search(r"Structure Headquarters Department B Unit Ex", text)
    assert "Head of X Head Ben Okoro since 2 January 2023" in text
    assert "Past holders Ana Lima , Head of X: 1 June 2020 – 1 January 2023" in text
    # Timeline, newest first, with reasons but never the author.
    for reason in ("Reorganization 2022", "Renamed by the 2021 reform", "Establish"):
        assert reason in text
    assert text.index("Reorganization 2022") < text.index("Renamed by the 2021")
    assert "<del>Department A</del> → <ins>Department B</ins>" in (
        response.content.decode()
    )
    assert_no_staff_identity(response)


def test_unit_page_says_established_when_the_founding_date_is_known(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(client.get("/units/unit-x/"))
    assert "Established 1 June 2020" in text
    assert "Recorded since" not in text


def test_unit_page_as_of_shows_the_unit_as_it_was(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/unit-x/?as_of=2021-06-01")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "as it stood on 1 June 2021" in text
    assert re.search(r"Structure Headquarters Department A Unit Ex", text)
    assert "Ana Lima since 1 June 2020" in text
    assert "Ben Okoro" not in text
    # Later changes are not yet in the timeline.
    assert "Reorganization 2022" not in text
    assert "Renamed by the 2021 reform" in text


def timeline_text(response: Any) -> str:
    text = page_text(response)
    return text[text.index("Timeline of changes") :]


def test_unit_timeline_shows_sub_units_joining_and_leaving(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/department-a/")
    # The scripted history is recorded today: every entry says so after its date.
    text = re.sub(r" \(recorded [^)]*\)", "", timeline_text(response))
    assert (
        "1 January 2022 Sub-unit left: Unit Ex , moved to Department B "
        "Reason: Reorganization 2022" in text
    )
    assert (
        "1 June 2020 Sub-unit joined: Unit X , established under this unit "
        "Reason: Establish Unit X" in text
    )
    html = response.content.decode()
    assert 'href="/units/department-b/">Department B</a>' in html
    text = timeline_text(client.get("/units/department-b/"))
    assert "Sub-unit joined: Unit Ex , moved here from Department A" in text
    # Unit Y was recorded late; its joining says so, as the unit's own versions do.
    assert "1 June 2023 (recorded " in text
    assert "Sub-unit joined: Unit Y , established under this unit" in text
    text = re.sub(r" \(recorded [^)]*\)", "", timeline_text(client.get("/units/hq/")))
    assert (
        "1 June 2022 Sub-unit abolished: Department A Reason: Department A closed"
        in text
    )
    assert_no_staff_identity(response)


def test_unit_timeline_shows_appointments_to_its_posts(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/unit-x/")
    text = re.sub(r" \(recorded [^)]*\)", "", timeline_text(response))
    assert (
        "2 January 2023 Appointed: Ben Okoro , Head of X, from 2 January 2023 "
        "Reason: Ben appointed" in text
    )
    assert (
        "1 January 2023 Left the post: Ana Lima , Head of X, on 1 January 2023 "
        "Reason: End of term" in text
    )
    assert text.index("Appointed: Ben Okoro") < text.index("Reorganization 2022")
    assert_no_staff_identity(response)


def test_unit_timeline_as_of_leaves_out_what_came_later(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = timeline_text(client.get("/units/department-b/?as_of=2022-12-31"))
    assert "Sub-unit joined: Unit Ex" in text
    assert "Unit Y" not in text
    text = timeline_text(client.get("/units/unit-x/?as_of=2022-12-31"))
    assert "Appointed: Ana Lima" in text
    assert "Ben Okoro" not in text


def test_unit_page_lists_the_head_post_first_then_by_title(
    client: Client, scripted_history: ScriptedHistory, editor: User
) -> None:
    for title in ("Registrar", "Analyst"):
        services.post_create(
            user=editor,
            reason="More posts",
            title=title,
            unit=scripted_history.unit_x,
            effective_at=at("2023-03-01"),
        )
    text = page_text(client.get("/units/unit-x/"))
    assert (
        text.index("Head of X Head") < text.index("Analyst") < text.index("Registrar")
    )
    earlier = page_text(client.get("/units/unit-x/?as_of=2023-02-01"))
    assert "Head of X Head" in earlier and "Analyst" not in earlier


def test_unit_page_lists_sub_units_and_abolished_ones(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(client.get("/units/hq/"))
    assert "Department B" in text
    assert "Abolished sub-units Department A abolished" in text


def test_unit_page_of_an_abolished_unit_says_so(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/department-a/")
    assert response.status_code == HTTPStatus.OK
    assert "This unit was abolished on" in page_text(response)


def test_unit_page_shows_dotted_line_relationships(
    client: Client, scripted_history: ScriptedHistory, editor: User
) -> None:
    services.relationship_create(
        source=scripted_history.unit_y,
        target=scripted_history.unit_x,
        kind="supports",
        description="Publishes the registry",
        user=editor,
        reason="Working arrangement",
        effective_at=at("2023-07-01"),
    )
    text = page_text(client.get("/units/unit-x/"))
    assert "Unit Y supports Unit Ex" in text
    assert "Publishes the registry" in text
    earlier = page_text(client.get("/units/unit-x/?as_of=2023-06-15"))
    assert "Unit Y supports" not in earlier


def y_advises_x(history: ScriptedHistory, editor: User) -> UnitRelationship:
    """A dotted line from Unit Y to Unit X since 1 July 2023."""
    return services.relationship_create(
        source=history.unit_y,
        target=history.unit_x,
        kind="advises",
        user=editor,
        reason="Working arrangement",
        effective_at=at("2023-07-01"),
    )


def test_an_ended_relationship_shows_only_while_it_lasted(
    client: Client, scripted_history: ScriptedHistory, editor: User
) -> None:
    relationship = y_advises_x(scripted_history, editor)
    services.relationship_end(
        relationship=relationship,
        user=editor,
        reason="Arrangement over",
        effective_at=at("2024-01-01"),
    )
    assert "Unit Y advises" not in page_text(client.get("/units/unit-x/"))
    during = page_text(client.get("/units/unit-x/?as_of=2023-08-01"))
    assert "Unit Y advises Unit Ex" in during
    chart_then = client.get("/chart/?as_of=2023-08-01").content.decode()
    assert chart_then.count('class="edge edge-relationship"') == 1
    assert (
        'class="edge edge-relationship"' not in client.get("/chart/").content.decode()
    )


def test_unknown_unit_is_a_404_page(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/no-such-unit/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    text = page_text(response)
    assert "Page not found" in text
    assert "There is no unit “no-such-unit” in the registry." in text


def test_unit_page_before_the_unit_existed_explains(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/unit-y/?as_of=2022-01-01")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "had not been established on 1 January 2022" in page_text(response)


def test_unit_page_with_a_malformed_date_explains(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/units/unit-x/?as_of=yesterday")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    text = page_text(response)
    assert "“yesterday” is not a valid date: use the form YYYY-MM-DD" in text
    assert "Unit Ex" in text


def test_unknown_url_is_a_404_page(client: Client) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "There is no page at /no/such/page/" in page_text(response)


# --- Compare --------------------------------------------------------------------------


def test_compare_shows_renames_moves_abolitions_and_mandate_diff(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/compare/?from=2020-12-31&to=2022-12-31")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    html = response.content.decode()
    assert "4 changes between 31 December 2020 and 31 December 2022" in text
    assert "Unit X renamed Unit Ex" in text
    assert "Unit Ex moved from Department A to Department B" in text
    assert "Units abolished 1" in text
    assert "Department A closed" in text
    assert "<del>Unit X keeps the registry.</del>" not in html  # word-level, not whole
    assert "<del>X</del><ins>Ex</ins>" in html
    assert "registry<ins> and publishes it</ins>." in html
    assert_no_staff_identity(response)


def test_compare_shows_appointments_and_additions(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(client.get("/compare/?from=2022-12-31&to=2023-12-31"))
    assert "Ana Lima left the post of Head of X" in text
    assert "Ben Okoro appointed Head of X" in text
    assert "Units added 1" in text
    assert "Unit Y" in text


def test_compare_includes_the_from_day_whole(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    # Unit X moved at noon on 1 January 2022: "that day to that day" shows it.
    response = client.get("/compare/?from=2022-01-01&to=2022-01-01")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "1 change between 1 January 2022 and 1 January 2022" in text
    assert "Unit Ex moved from Department A to Department B" in text
    assert (
        "Included: every change that took effect from the start of 1 January 2022 "
        "to the end of 1 January 2022 (UTC)." in text
    )
    # "Yesterday to today": Ana left on 1 January 2023, Ben came on the 2nd.
    text = page_text(client.get("/compare/?from=2023-01-01&to=2023-01-02"))
    assert "Ana Lima left the post of Head of X" in text
    assert "Ben Okoro appointed Head of X" in text


def test_compare_form_says_both_days_are_included(client: Client) -> None:
    text = page_text(client.get("/compare/"))
    assert (
        "Both days are included: every change that took effect from the start of "
        "the “from” day to the end of the “to” day (UTC)" in text
    )


def test_compare_lists_what_the_feed_it_links_lists(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/compare/?from=2023-01-01&to=2023-01-02")
    feed = client.get(html_module.unescape(response.context["feed_url"])).json()
    listed = sorted(
        (change.history_id, change.kind)
        for section in response.context["sections"]
        for change in section.changes
    )
    assert listed == sorted((row["history_id"], row["kind"]) for row in feed["results"])
    assert len(listed) == 2
    # The API reads the same days the same way.
    same_days = client.get(
        "/api/v1/changes/", {"since": "2023-01-01", "until": "2023-01-02"}
    ).json()
    assert same_days["results"] == feed["results"]


def test_compare_names_instants_given_in_the_address_exactly(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(
        client.get("/compare/?from=2021-12-31T12:00:00Z&to=2022-01-01T12:00:00Z")
    )
    assert "Unit Ex moved" in text
    assert "between 31 December 2021, 12:00 UTC and 1 January 2022, 12:00 UTC" in text
    assert (
        "from just after 31 December 2021, 12:00 UTC to 1 January 2022, 12:00 UTC."
        in text
    )


def test_compare_to_defaults_to_today(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/compare/?from=2023-01-01")
    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "Ben Okoro appointed" in text
    assert "between 1 January 2023 and now" in text
    assert re.search(
        r"from the start of 1 January 2023 to now, \d+ \w+ \d{4}, [\d:]+ UTC\.",
        text,
    )


def test_compare_to_defaults_to_the_page_date(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(client.get("/compare/?from=2020-12-31&as_of=2021-06-01"))
    assert "between 31 December 2020 and 1 June 2021" in text
    assert "Unit X renamed Unit Ex" in text
    assert "moved from" not in text


def test_compare_without_dates_shows_the_form_only(client: Client) -> None:
    response = client.get("/compare/")
    assert response.status_code == HTTPStatus.OK
    assert "Pick two dates" in page_text(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2023-02-30&to=2024-01-01", "The “from” date “2023-02-30” is not a date"),
        ("from=2022-01-01&to=soon", "The “to” date “soon” is not a date"),
        ("from=2024-01-01&to=2022-01-01", "must be on or before the “to” date"),
        ("from=2022-01-02&to=2022-01-01", "must be on or before the “to” date"),
        ("to=2024-01-01", "Give the “from” date as well"),
    ],
)
def test_compare_refuses_bad_dates_with_a_message(
    client: Client, scripted_history: ScriptedHistory, query: str, message: str
) -> None:
    response = client.get(f"/compare/?{query}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in page_text(response)
    assert "changes between" not in page_text(response)


# --- Chart ----------------------------------------------------------------------------


def test_chart_draws_an_svg_with_links_and_reporting_lines(
    client: Client, make_unit: Callable[..., OrganizationalUnit]
) -> None:
    root = make_unit("Board", kind=UnitKind.OFFICE, slug="board")
    make_unit("Audit", root, slug="audit", reporting_line=ReportingLine.OVERSIGHT)
    make_unit("Finance", root, slug="finance")
    response = client.get("/chart/")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert 'href="/units/audit/"' in html
    assert html.count('class="edge edge-oversight"') == 1
    assert html.count('class="edge edge-supervision"') == 1
    assert 'href="/chart/download.png?depth=3"' in html


def test_chart_folds_levels_below_the_depth_and_opens_a_subtree(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    folded = client.get("/chart/?depth=1").content.decode()
    assert "+2" in folded  # Department B's two units are folded into a badge
    assert 'href="/units/unit-x/"' not in folded
    assert "/chart/?root=department-b&amp;depth=1" in folded
    opened = client.get("/chart/?root=department-b&depth=1")
    text = page_text(opened)
    assert "Organization chart: Department B" in text
    assert "Whole organization Headquarters Department B" in text
    assert 'href="/units/unit-x/"' in opened.content.decode()
    assert 'href="/units/department-a/"' not in opened.content.decode()


def opened_box_fill(html: str, slug: str) -> str:
    box = html.split(f'data-slug="{slug}"')[1]
    fill = re.search(r'<rect [^>]*fill="([^"]+)"[^>]*class="box"', box)
    assert fill is not None, slug
    return fill.group(1)


@pytest.mark.parametrize("as_of", ["", "&as_of=2023-01-01"])
def test_chart_of_an_opened_branch_keeps_its_place_in_the_organization(
    client: Client, scripted_history: ScriptedHistory, as_of: str
) -> None:
    """The branch is read alone, but its units keep their levels: it is no top unit."""
    whole = client.get(f"/chart/?depth=3{as_of}").content.decode()
    assert opened_box_fill(whole, "hq") == "#0b3d91"
    opened = client.get(f"/chart/?root=department-b{as_of}")
    assert opened.status_code == HTTPStatus.OK
    html = opened.content.decode()
    assert opened_box_fill(html, "department-b") == opened_box_fill(
        whole, "department-b"
    )
    assert "Whole organization Headquarters Department B" in page_text(opened)
    assert 'data-slug="unit-x"' in html
    assert 'data-slug="department-a"' not in html


def test_chart_as_of_a_date_draws_that_structure(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    html = client.get("/chart/?as_of=2021-01-01").content.decode()
    assert 'href="/units/department-a/?as_of=2021-01-01"' in html
    assert "Organization chart — as of 1 January 2021" in html
    assert "Unit Y" not in html


def test_chart_with_a_bad_depth_explains_and_uses_the_default(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(client.get("/chart/?depth=deep"))
    assert "The depth “deep” is not a number; showing 3 levels." in text
    text = page_text(client.get("/chart/?depth=0"))
    assert "The depth must be between 1 and 30" in text


def test_chart_of_an_unknown_unit_is_a_404(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/chart/?root=nowhere")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "There is no unit “nowhere” in the registry." in page_text(response)


@pytest.mark.parametrize(
    ("file_format", "content_type", "magic"),
    [
        ("svg", "image/svg+xml", b"<svg "),
        ("png", "image/png", b"\x89PNG"),
        ("pdf", "application/pdf", b"%PDF"),
    ],
)
def test_chart_downloads(
    client: Client,
    scripted_history: ScriptedHistory,
    file_format: str,
    content_type: str,
    magic: bytes,
) -> None:
    response = client.get(f"/chart/download.{file_format}?as_of=2021-01-01")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == content_type
    assert response.content.startswith(magic)
    assert (
        f'filename="org-chart-all-2021-01-01.{file_format}"'
        in (response["Content-Disposition"])
    )
    if file_format == "svg":
        # Links in a downloaded file must work outside the site.
        assert b'href="http://testserver/units/department-a/?as_of=2021-01-01"' in (
            response.content
        )


def test_chart_download_refuses_unknown_formats_and_bad_dates(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    assert client.get("/chart/download.gif").status_code == HTTPStatus.NOT_FOUND
    response = client.get("/chart/download.png?as_of=not-a-date")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "“not-a-date” is not a valid date" in response.content.decode()


@pytest.fixture(scope="class")
def grown_history(
    shared_scripted_history: ScriptedHistory, django_db_blocker: DjangoDbBlocker
) -> Iterator[None]:
    """The scripted history grown deeper, with dotted lines: written once for the
    class's tests, in a savepoint rolled back after them (it was rewritten for each)."""
    with rolled_back_registry(django_db_blocker):
        editor = editor_user()
        y_advises_x(reread(shared_scripted_history), editor)
        grow_the_tree(editor, 6)
        grow_deeper(editor, 24)
        services.relationship_create(
            source=OrganizationalUnit.objects.get(name="Cell 11"),
            target=OrganizationalUnit.objects.get(slug="team-2"),
            kind="supports",
            user=editor,
            reason="Working arrangement",
        )
        yield


@pytest.mark.usefixtures("grown_history")
class TestChartOfAHistory:
    @pytest.mark.parametrize("root", [None, "department-b"])
    @pytest.mark.parametrize("as_of", [None, "2021-01-01", "2023-08-15"])
    def test_chart_of_a_history_draws_what_the_whole_tree_drew(
        self, client: Client, db: None, as_of: str | None, root: str | None
    ) -> None:
        """Reading only the drawn levels changes no byte of the chart, at any depth."""
        for depth in (None, 1, 2, 4):
            assert_chart_drawn_as_from_the_whole_tree(
                client, root=root, depth=depth, as_of=as_of
            )


@pytest.fixture(scope="class")
def seed(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """The seed, loaded once for the class's tests and rolled back after them."""
    with rolled_back_registry(django_db_blocker):
        call_command("load_seed", stdout=StringIO())
        yield


@pytest.mark.usefixtures("seed")
class TestPagesOfTheSeed:
    def test_seed_pages_say_recorded_since_and_show_the_appointments_notes(
        self, client: Client, db: None
    ) -> None:
        # (page_text keeps entities: the note's apostrophe is &#x27; there.)
        note = "The seed gives no start date; recorded from the fixture"

        unit_page = page_text(client.get("/units/office-of-the-director-general/"))
        assert "Recorded since 1 January 2023 (founding date not known)" in unit_page
        assert "Established" not in unit_page.split("Mandate")[0]
        assert f"António Vitorino since 1 January 2023 {note}" in unit_page

        # The interpretation of the source is said as such, not shown as fact.
        assert "Provenance Name and mandate inferred from the source:" in unit_page
        prima = page_text(client.get("/units/prima-unit/"))
        assert "Provenance Placement inferred from the source:" in prima
        assert "Provenance" not in page_text(
            client.get("/units/global-data-institute/")
        )

        posts_page = page_text(
            client.get("/posts/?unit=office-of-the-director-general")
        )
        assert f"António Vitorino since 1 January 2023 {note}" in posts_page
        people_page = page_text(client.get("/people/?person=amy-e-pope"))
        assert f"since 1 January 2023 ({note}" in people_page

    @pytest.mark.parametrize("opened", [False, True], ids=["whole", "largest-branch"])
    @pytest.mark.parametrize("as_of", [None, "2024-06-01"])
    def test_chart_of_the_seed_draws_what_the_whole_tree_drew(
        self, client: Client, db: None, as_of: str | None, opened: bool
    ) -> None:
        largest = max(
            OrganizationalUnit.objects.filter(level=1),
            key=lambda unit: unit.rght - unit.lft,
        )
        for depth in (None, 1, 2, 4):
            drawn = assert_chart_drawn_as_from_the_whole_tree(
                client,
                root=largest.slug if opened else None,
                depth=depth,
                as_of=as_of,
            )
            if not opened:
                assert 'class="relationship"' in drawn.svg


# --- Search ---------------------------------------------------------------------------


def test_search_finds_names_and_mandates_and_highlights(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/search/?q=Registry")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "1 result matching “Registry”" in page_text(response)
    assert "Unit Ex keeps the <mark>registry</mark> and publishes it." in html
    by_name = client.get("/search/?q=department").content.decode()
    assert "<mark>Department</mark> B" in by_name
    assert "Department A" not in by_name  # abolished, not in today's structure


def test_search_finds_acronyms(
    client: Client, make_unit: Callable[..., OrganizationalUnit]
) -> None:
    make_unit("Internal Governance Framework Unit", short_name="IGF", slug="igf")
    response = client.get("/search/?q=igf")
    html = response.content.decode()
    assert "1 result matching “igf”" in page_text(response)
    assert '<abbr class="acronym"><mark>IGF</mark></abbr>' in html
    assert "matched in acronym" in html


def test_search_as_of_a_date_searches_that_structure(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(client.get("/search/?q=unit+x&as_of=2021-01-01"))
    assert "1 result matching “unit x” on 1 January 2021" in text
    assert "Unit X" in text


def test_search_escapes_the_query(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    html = client.get("/search/?q=<script>alert(1)</script>").content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html
    assert "0 results matching" in html


def test_search_finds_people_and_posts_saying_what_each_is(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/search/?q=okoro")
    assert "1 result matching “okoro”" in page_text(response)
    html = response.content.decode()
    assert (
        '<a href="/people/?person=ben-okoro#ben-okoro">Ben <mark>Okoro</mark></a>'
        in html
    )
    assert '<span class="result-type">Person</span>' in html

    posts = client.get("/search/?q=head+of").content.decode()
    assert '<a href="/posts/?unit=unit-x#post-head-of-x">' in posts
    assert '<span class="result-type">Post</span> (head) in' in posts
    assert '<a href="/units/unit-x/">Unit Ex</a>' in posts

    units = client.get("/search/?q=registry").content.decode()
    assert '<span class="result-type">Unit</span> · Unit' in units


def test_search_finds_names_as_they_stood_at_the_date(
    client: Client, scripted_history: ScriptedHistory, editor: User
) -> None:
    services.person_update(
        person=scripted_history.ben,
        user=editor,
        reason="Name corrected",
        full_name="Benedict Okoro",
    )
    services.post_abolish(
        post=scripted_history.head_of_x, user=editor, reason="No longer needed"
    )
    before = client.get("/search/?q=ben+okoro&as_of=2024-01-01")
    assert "1 result matching “ben okoro” on 1 January 2024" in page_text(before)
    assert "<mark>Ben</mark> <mark>Okoro</mark>" in before.content.decode()
    # The post in the unit as it was named then; the post is gone now.
    then = client.get("/search/?q=head+of&as_of=2020-07-01").content.decode()
    assert '<a href="/units/unit-x/?as_of=2020-07-01">Unit X</a>' in then
    assert "0 results matching" in page_text(client.get("/search/?q=head+of+x"))
    assert "Benedict" in page_text(client.get("/search/?q=okoro"))
    # Nobody was recorded before mid-2020.
    assert "0 results" in page_text(client.get("/search/?q=ana&as_of=2020-01-01"))


def test_search_refuses_a_too_long_query(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/search/?q=" + "a" * 201)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "The search text is too long (201 characters)" in page_text(response)


def test_search_without_a_query_shows_the_form(client: Client) -> None:
    response = client.get("/search/")
    assert response.status_code == HTTPStatus.OK
    assert "matching" not in page_text(response)


# --- Posts and people -----------------------------------------------------------------


def test_posts_show_holders_and_past_holders(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(client.get("/posts/"))
    assert (
        "Head of X Head Ben Okoro since 2 January 2023 Ana Lima (1 June 2020–1 January 2023)"
        in text
    )
    past = page_text(client.get("/posts/?as_of=2021-01-01"))
    assert "Head of X Head Ana Lima since 1 June 2020 —" in past


def test_people_show_current_and_past_posts(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/people/")
    text = page_text(response)
    assert "Ben Okoro Holds: Head of X ( Unit Ex ) since 2 January 2023" in text
    assert (
        "Ana Lima Holds no post now. Held before: Head of X (1 June 2020 – 1 January 2023)"
        in text
    )
    assert_no_staff_identity(response)
    past = page_text(client.get("/people/?as_of=2021-01-01"))
    assert "Ana Lima Holds: Head of X" in past
    assert "Ben Okoro" not in past


def test_people_with_a_bad_date_explain(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/people/?as_of=2020-02-31")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "is not a valid date" in page_text(response)


def test_posts_of_one_unit_and_people_link_to_each_other(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    response = client.get("/posts/?unit=unit-x")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "The posts of one unit." in page_text(response)
    assert 'id="post-head-of-x"' in html
    assert 'href="/people/?person=ben-okoro#ben-okoro"' in html
    person = client.get("/people/?person=ben-okoro")
    text = page_text(person)
    assert "Ben Okoro Holds: Head of X" in text
    assert "Ana Lima" not in text
    assert 'href="/posts/?unit=unit-x#post-head-of-x"' in person.content.decode()
    past = client.get("/people/?person=ana-lima&as_of=2021-01-01").content.decode()
    assert 'href="/posts/?unit=unit-x&amp;as_of=2021-01-01#post-head-of-x"' in past
    unit_page = client.get("/units/unit-x/").content.decode()
    assert 'href="/people/?person=ben-okoro#ben-okoro"' in unit_page


def test_posts_of_a_unit_without_posts_say_so(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    text = page_text(client.get("/posts/?unit=department-b"))
    assert "No posts are recorded for that unit." in text
    nobody = page_text(client.get("/people/?person=ben-okoro&as_of=2021-01-01"))
    assert "This person held no post on that date." in nobody


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/posts/?unit=nowhere", "There is no unit “nowhere” in the registry."),
        ("/people/?person=nobody", "There is no person “nobody” in the registry."),
    ],
)
def test_posts_and_people_of_an_unknown_slug_are_a_404(
    client: Client, scripted_history: ScriptedHistory, url: str, message: str
) -> None:
    response = client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert message in page_text(response)


@pytest.mark.parametrize("url", ["/posts/", "/people/"])
@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("2", "There is no page 2: there is 1 page. Showing the first page instead."),
        ("0", "“0” is not a page number. Showing the first page instead."),
        ("two", "“two” is not a page number. Showing the first page instead."),
    ],
)
def test_posts_and_people_refuse_a_page_that_does_not_exist(
    client: Client, scripted_history: ScriptedHistory, url: str, page: str, message: str
) -> None:
    response = client.get(f"{url}?page={page}")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    text = page_text(response)
    assert message in text
    assert "Ben Okoro" in text  # the first page, as it says


# --- Constant queries -----------------------------------------------------------------


def grow_the_tree(editor: User, extra_units: int) -> None:
    """Add units, head posts, holders and relationships in a 2023 reorganization."""
    parent = OrganizationalUnit.objects.get(slug="department-b")
    previous = None
    for number in range(extra_units):
        unit = services.unit_create(
            user=editor,
            reason="Growth",
            name=f"Team {number}",
            slug=f"team-{number}",
            kind=UnitKind.UNIT,
            parent=parent,
            mandate=f"Team {number} keeps the registry too.",
            effective_at=at("2023-08-01"),
        )
        post = services.post_create(
            user=editor,
            reason="Growth",
            title=f"Lead of team {number}",
            unit=unit,
            is_head=True,
            effective_at=at("2023-08-01"),
        )
        person = services.person_create(
            user=editor,
            reason="Growth",
            full_name=f"Person {number}",
            effective_at=at("2023-08-01"),
        )
        services.appointment_start(
            user=editor,
            reason="Growth",
            person=person,
            post=post,
            started_on=datetime.date(2023, 8, 1),
            effective_at=at("2023-08-01"),
        )
        if previous is not None:
            services.relationship_create(
                source=unit,
                target=previous,
                kind="supports",
                user=editor,
                reason="Growth",
                effective_at=at("2023-08-01"),
            )
        if number % 3 == 0:
            parent = unit  # deepen the tree as well as widen it
        previous = unit


PAGES_AND_QUERIES = [
    ("/", 6),
    ("/?as_of=2024-01-01", 5),
    ("/units/department-b/children/", 6),
    ("/units/department-b/children/?as_of=2024-01-01", 5),
    # The timeline (6 queries), the provenance note, read on its own (1), and the
    # lineage (1; one more for the linked units' names when there are links).
    ("/units/unit-x/", 19),
    ("/units/unit-x/?as_of=2024-01-01", 21),
    ("/units/team-4/", 20),
    # Six history tables read by index, the states before, the names (3).
    ("/compare/?from=2020-01-01&to=2024-01-01", 14),
    ("/chart/", 9),
    ("/chart/?as_of=2024-01-01&depth=all", 7),
    ("/chart/?root=department-b", 11),
    ("/chart/download.svg", 9),
    ("/search/?q=registry", 4),
    ("/search/?q=registry&as_of=2024-01-01", 4),
    ("/search/?q=team", 5),
    ("/search/?q=team&as_of=2024-01-01", 5),
    ("/search/?q=person", 3),
    ("/posts/", 9),
    ("/posts/?as_of=2024-01-01", 9),
    ("/posts/?unit=unit-x", 10),
    ("/people/", 5),
    ("/people/?as_of=2024-01-01", 6),
    ("/people/?person=ben-okoro", 6),
]


@pytest.mark.parametrize(("url", "queries"), PAGES_AND_QUERIES)
def test_each_page_runs_a_constant_number_of_queries(
    client: Client,
    scripted_history: ScriptedHistory,
    editor: User,
    django_assert_num_queries: DjangoAssertNumQueries,
    url: str,
    queries: int,
) -> None:
    grow_the_tree(editor, 6)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == HTTPStatus.OK
    grow_deeper(editor, 24)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == HTTPStatus.OK


def grow_deeper(editor: User, extra_units: int) -> None:
    """Add chains of units four deep under the top."""
    top = OrganizationalUnit.objects.get(slug="hq")
    parent = top
    for number in range(extra_units):
        parent = services.unit_create(
            user=editor,
            reason="More growth",
            name=f"Cell {number}",
            kind=UnitKind.UNIT,
            parent=parent if number % 4 else top,
            mandate="Another registry keeper.",
            effective_at=at("2023-09-01"),
        )


def test_server_error_page_renders_without_a_request() -> None:
    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert 'href="/static/units/site.css"' in html


def test_pages_take_as_many_queries_for_44_generated_units_as_for_thousands(
    client: Client,
) -> None:
    # tests/scale/test_views_at_scale.py counts the same pages on 3,000 units.
    assert queries_per_page(client, generate(44, seed=11)) == dict(SCALED_PAGES)

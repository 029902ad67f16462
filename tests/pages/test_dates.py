"""One date format and one date-time format on every page and admin screen (issue 16).

Pages, the admin (lists, history, forms' read-only values, the abolish page), the
chart's title and the feed's text each used their own format ("2024-01-01",
"1 Jan 2024", "1 January 2024", "2024-01-01 00:00 UTC"). This renders them with the
scripted history and reads every date a person sees; machine formats (``<time
datetime>``, the API's JSON, Atom's timestamps) stay ISO 8601.
"""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import ScriptedHistory
from units.dates import day_text, moment_text

pytestmark = pytest.mark.usefixtures("plain_static_files")

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November"
    "|December"
)
# The one format of a day, and of a day with a time (in UTC).
ONE_FORMAT = re.compile(rf"\d{{1,2}} (?:{MONTHS}) \d{{4}}(?:, \d{{2}}:\d{{2}} UTC)?")
# Anything that looks like a date or a time, in any format people write them.
SHORT_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
DATE_LIKE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?: UTC)?"
    r"|\d{1,2}/\d{1,2}/\d{2,4}"
    rf"|(?:{SHORT_MONTHS})[a-z]*\.? \d{{1,2}}, \d{{4}}(?:, \d{{1,2}}:\d{{2}}(?: [ap]\.m\.)?)?"
    rf"|\d{{1,2}} (?:{SHORT_MONTHS})[a-z]*\.? \d{{4}}(?:,? \d{{1,2}}:\d{{2}}(?::\d{{2}})?)?(?: UTC)?"
    r"|\d{2}:\d{2} UTC"
)


class _VisibleText(HTMLParser):
    """The text a reader sees (no scripts, styles or attribute values), and the
    text and ``datetime`` of every ``<time>``."""

    HIDDEN = {"script", "style", "template", "textarea", "option"}

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.times: list[tuple[str, str]] = []
        self._hidden = 0
        self._time: list[Any] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "time":
            self._time.append([dict(attrs).get("datetime") or "", ""])

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        if tag == "time" and self._time:
            machine, shown = self._time.pop()
            self.times.append((machine, shown.strip()))

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.text.append(data)
        for open_time in self._time:
            open_time[1] += data


def date_problems(html: str) -> list[str]:
    """Every date shown in another format than the one, and every bad ``<time>``."""
    reader = _VisibleText()
    reader.feed(html)
    text = re.sub(r"\s+", " ", " ".join(reader.text))
    problems = [
        f"not the one format: {found!r}"
        for found in DATE_LIKE.findall(text)
        if not ONE_FORMAT.fullmatch(found)
    ]
    problems += [
        f"a day shown with 00:00: {found!r}"
        for found in ONE_FORMAT.findall(text)
        if found.endswith("00:00 UTC")
    ]
    for machine, shown in reader.times:
        if not ONE_FORMAT.fullmatch(shown):
            problems.append(f"<time> shows {shown!r}")
        try:
            datetime.datetime.fromisoformat(machine)
        except ValueError:
            problems.append(f"<time datetime={machine!r}> is not ISO 8601")
    return problems


def shown_dates(html: str) -> list[str]:
    reader = _VisibleText()
    reader.feed(html)
    return ONE_FORMAT.findall(" ".join(reader.text))


def test_the_check_finds_every_other_format() -> None:
    html = (
        "<p>Established 1 January 2020</p><td>2020-01-01</td><td>1 Jan 2020</td>"
        "<td>Jan. 1, 2020</td><td>1 January 2020, 00:00 UTC</td>"
        '<time datetime="2020-01-01">2020-01-01</time><time datetime="soon">1 May 2020'
        '</time><input value="2020-01-01"><script>"2020-01-01"</script>'
    )
    assert date_problems(html) == [
        "not the one format: '2020-01-01'",
        "not the one format: '1 Jan 2020'",
        "not the one format: 'Jan. 1, 2020'",
        "not the one format: '2020-01-01'",
        "a day shown with 00:00: '1 January 2020, 00:00 UTC'",
        "<time> shows '2020-01-01'",
        "<time datetime='soon'> is not ISO 8601",
    ]
    assert date_problems("<p>Recorded 1 June 2020, 12:00 UTC</p>") == []


def test_the_formats_come_from_the_language_and_drop_a_time_nobody_gave() -> None:
    assert day_text(datetime.date(2024, 3, 1)) == "1 March 2024"
    midnight = datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC)
    assert moment_text(midnight) == "1 March 2024"
    assert moment_text(midnight.replace(hour=9, minute=5)) == "1 March 2024, 09:05 UTC"
    # A date asked for in ``as_of`` means the end of that day: the day itself.
    assert (
        moment_text(midnight.replace(hour=23, minute=59, second=59, microsecond=999999))
        == "1 March 2024"
    )


def page_urls(history: ScriptedHistory) -> list[str]:
    unit_x = history.unit_x
    return [
        "/",
        "/?as_of=2021-06-01",
        "/?as_of=2021-06-01T09:30:00Z",
        f"/units/{unit_x.slug}/",
        f"/units/{history.department_a.slug}/",
        f"/units/{history.department_a.slug}/?as_of=2021-01-01",
        "/posts/",
        "/posts/?as_of=2022-06-01",
        "/people/",
        "/compare/?from=2020-01-01&to=2023-12-31",
        "/compare/?since=2021-01-01T10:00:00Z&until=2023-01-01T10:00:00Z",
        "/search/?q=Unit",
        "/chart/",
        "/chart/?as_of=2021-06-01",
    ]


def dates_shown_in_the_one_format(client: Client, urls: list[str]) -> int:
    """Every page answers and writes every date in the one format; how many it shows."""
    found = {}
    dates = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        dates += len(shown_dates(html))
        if problems := date_problems(html):
            found[url] = problems
    assert found == {}
    return dates


@pytest.mark.django_db
def test_every_page_writes_dates_in_the_one_format(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    dates = dates_shown_in_the_one_format(client, page_urls(scripted_history))
    # The pages do show dates: the check is not vacuous.
    assert dates > 30


def admin_urls(history: ScriptedHistory) -> list[str]:
    unit_x, department_a = history.unit_x, history.department_a
    version = unit_x.history.order_by("history_id").first()
    assert version is not None
    return [
        reverse("admin:units_organizationalunit_changelist"),
        reverse("admin:units_organizationalunit_changelist") + "?status=abolished",
        reverse("admin:units_organizationalunit_change", args=[unit_x.pk]),
        reverse("admin:units_organizationalunit_change", args=[department_a.pk]),
        reverse("admin:units_organizationalunit_history", args=[unit_x.pk]),
        reverse(
            "admin:units_organizationalunit_version",
            args=[unit_x.pk, version.history_id],
        ),
        reverse("admin:units_organizationalunit_abolish", args=[unit_x.pk]),
        reverse("admin:units_post_changelist"),
        reverse("admin:units_post_change", args=[history.head_of_x.pk]),
        reverse("admin:units_post_history", args=[history.head_of_x.pk]),
        reverse("admin:units_person_changelist"),
        reverse("admin:units_person_change", args=[history.ana.pk]),
        reverse("admin:units_person_history", args=[history.ana.pk]),
    ]


@pytest.mark.django_db
def test_every_admin_screen_writes_dates_in_the_one_format(
    admin_client: Client, scripted_history: ScriptedHistory
) -> None:
    dates = dates_shown_in_the_one_format(admin_client, admin_urls(scripted_history))
    assert dates > 20


@pytest.mark.django_db
def test_the_feed_and_the_chart_title_write_dates_in_the_one_format(
    client: Client, scripted_history: ScriptedHistory
) -> None:
    feed = client.get("/api/v1/changes.atom?since=2020-01-01").content.decode()
    texts = re.findall(r"<(?:title|summary)[^>]*>([^<]*)<", feed)
    assert texts
    assert [
        found
        for text in texts
        for found in DATE_LIKE.findall(text)
        if not ONE_FORMAT.fullmatch(found)
    ] == []
    # Atom's own timestamps stay ISO 8601.
    assert re.search(r"<updated>\d{4}-\d{2}-\d{2}T", feed)
    svg = client.get("/chart/download.svg?as_of=2021-06-01").content.decode()
    assert "Organization chart — as of 1 June 2021" in svg

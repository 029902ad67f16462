"""The read cache: as-of answers survive later writes, keys ignore unknown parameters,
one request builds an answer while the others wait or get the previous one, and
answers over the size bound are sent but not kept."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import answer_cache
from tests.conftest import at
from tests.factories import AppointmentFactory, PostFactory, UnitFactory
from units import selectors, services
from units.models import OrganizationalUnit, RegistryState

API = "/api/v1/"
PAST = {"as_of": "2015-01-01"}


@pytest.fixture
def alpha(editor: User) -> OrganizationalUnit:
    unit: OrganizationalUnit = UnitFactory.create(
        name="Alpha", effective_at=at("2010-01-01"), user=editor
    )
    UnitFactory.create(name="Beta", effective_at=at("2010-01-01"), user=editor)
    return unit


def rename(unit: OrganizationalUnit, name: str, editor: User, **when: Any) -> None:
    services.unit_update(unit=unit.pk, user=editor, reason="Renamed", name=name, **when)


def answer_keys() -> list[str]:
    # The local-memory cache of the tests keeps its keys in a dict.
    return [key for key in cache._cache if ":api-answer:" in key]  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_a_past_tree_stays_cached_across_a_write_effective_after_it(
    client: Client,
    alpha: OrganizationalUnit,
    editor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    first = client.get(f"{API}tree/", PAST)
    rename(alpha, "Alpha Renamed", editor)

    # One query: is anything recorded since effective on or before 2015-01-01?
    with django_assert_num_queries(1):
        again = client.get(f"{API}tree/", PAST)

    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert b"Alpha Renamed" in client.get(f"{API}tree/").content


@pytest.mark.django_db
def test_an_up_to_date_client_of_a_past_tree_gets_304_after_a_later_write(
    client: Client,
    alpha: OrganizationalUnit,
    editor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    etag = client.get(f"{API}tree/", PAST)["ETag"]
    rename(alpha, "Alpha Renamed", editor)

    with django_assert_num_queries(1):
        response = client.get(f"{API}tree/", PAST, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == HTTPStatus.NOT_MODIFIED
    assert response["ETag"] == etag


@pytest.mark.django_db
@pytest.mark.parametrize(
    "effective", ["2012-06-01T00:00:00Z", "2015-01-01T23:59:59.999999Z"]
)
def test_a_backdated_write_at_or_before_the_instant_changes_the_past_tree(
    client: Client, alpha: OrganizationalUnit, editor: User, effective: str
) -> None:
    first = client.get(f"{API}tree/", PAST)
    # Effective in the past, recorded now; the last one exactly at the instant asked.
    rename(
        alpha,
        "Alpha Backdated",
        editor,
        effective_at=selectors.parse_instant(effective),
    )

    again = client.get(f"{API}tree/", PAST, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == HTTPStatus.OK
    assert again["ETag"] != first["ETag"]
    assert b"Alpha Backdated" in again.content
    assert b"Alpha Backdated" not in first.content


@pytest.mark.django_db
def test_a_backdated_write_after_the_instant_leaves_the_past_tree(
    client: Client, alpha: OrganizationalUnit, editor: User
) -> None:
    first = client.get(f"{API}tree/", PAST)
    rename(alpha, "Alpha Later", editor, effective_at=at("2016-01-01"))

    response = client.get(f"{API}tree/", PAST, HTTP_IF_NONE_MATCH=first["ETag"])

    assert response.status_code == HTTPStatus.NOT_MODIFIED


@pytest.mark.django_db
def test_a_past_branch_follows_the_same_rule(
    client: Client,
    alpha: OrganizationalUnit,
    editor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    url = f"{API}units/{alpha.slug}/tree/"
    first = client.get(url, PAST)
    beta = OrganizationalUnit.objects.get(name="Beta")
    rename(beta, "Beta Renamed", editor)
    with django_assert_num_queries(1):
        assert client.get(url, PAST).content == first.content

    rename(alpha, "Alpha Backdated", editor, effective_at=at("2014-01-01"))

    assert b"Alpha Backdated" in client.get(url, PAST).content


@pytest.mark.django_db
def test_a_past_tree_is_rebuilt_after_a_restore_epoch(
    client: Client, alpha: OrganizationalUnit
) -> None:
    first = client.get(f"{API}tree/", PAST)
    RegistryState.objects.filter(pk=1).update(generation=selectors.RESTORE_EPOCH)

    again = client.get(f"{API}tree/", PAST, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == HTTPStatus.OK
    assert again["ETag"] != first["ETag"]


@pytest.mark.django_db
def test_a_stamp_is_invalid_once_history_rows_are_gone(
    alpha: OrganizationalUnit,
) -> None:
    stamp = selectors.stamp_now()
    when = at("2015-01-01")
    assert selectors.still_valid(stamp, when) == stamp

    later = (stamp[0], stamp[1] + 1, *stamp[2:])  # a row the history no longer has

    assert selectors.still_valid(later, when) is None
    assert selectors.still_valid(stamp[:-1], when) is None


@pytest.mark.django_db
def test_a_rename_of_a_holder_recorded_late_leaves_past_answers(
    editor: User,
) -> None:
    post = PostFactory(
        is_head=True, effective_at=at("2000-01-01"), unit__effective_at=at("2000-01-01")
    )
    person = services.person_create(
        user=editor, reason="Recorded late", full_name="Ana First"
    )
    AppointmentFactory(
        post=post,
        person=person,
        started_on=datetime.date(2020, 1, 1),
        user=editor,
        effective_at=at("2020-01-01"),
    )
    when = at("2021-01-01")
    before = selectors.posts_as_of(when, heads_only=True)

    services.person_update(
        person=person, user=editor, reason="Renamed", full_name="Ana Second"
    )

    after = selectors.posts_as_of(when, heads_only=True)
    assert [post.holder.person_name for post in before if post.holder] == ["Ana First"]
    assert [post.holder.person_name for post in after if post.holder] == ["Ana First"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "tree/",
        "units/",
        "posts/",
        "changes/",
        "export/units.csv",
        "export/snapshot.zip",
    ],
)
def test_unknown_parameters_make_no_new_cache_entry(
    client: Client, alpha: OrganizationalUnit, path: str
) -> None:
    first = client.get(f"{API}{path}", {"limit": "1"} if path == "units/" else {})
    keys = sorted(answer_keys())

    for junk in ("1", "2", "3"):
        response = client.get(
            f"{API}{path}", {"x": junk, **({"limit": "1"} if path == "units/" else {})}
        )
        assert response.status_code == HTTPStatus.OK
        assert response.content == first.content

    assert sorted(answer_keys()) == keys
    assert len(keys) == 2  # the answer and its ETag


@pytest.mark.django_db
def test_page_links_leave_out_unknown_parameters(
    client: Client, alpha: OrganizationalUnit
) -> None:
    response = client.get(f"{API}units/", {"limit": "1", "x": "1"})

    assert "limit=1" in response.json()["next"]
    assert "x=" not in response.json()["next"]


@pytest.mark.django_db
def test_an_answer_over_the_size_bound_is_sent_not_kept(
    client: Client, alpha: OrganizationalUnit, settings: Any
) -> None:
    settings.CACHE_MAX_ENTRY_BYTES = 100
    response = client.get(f"{API}tree/")

    assert response.status_code == HTTPStatus.OK
    assert len(response.content) > 100
    assert answer_keys() == []

    settings.CACHE_MAX_ENTRY_BYTES = 10_000_000
    client.get(f"{API}tree/")
    assert len(answer_keys()) == 2  # the answer and its ETag


@pytest.mark.django_db
def test_while_another_request_builds_the_previous_answer_is_sent_with_its_etag(
    client: Client,
    alpha: OrganizationalUnit,
    editor: User,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    previous = client.get(f"{API}tree/")
    rename(alpha, "Alpha Renamed", editor)
    (key,) = {key.rsplit(":", 1)[0] for key in answer_keys()}
    key = key.split(":", 2)[2]  # without the cache's prefix and version
    cache.add(f"{key}:building", "another worker", 60)

    # One query (the generation); the tree is not built again.
    with django_assert_num_queries(1):
        response = client.get(f"{API}tree/")

    assert response.content == previous.content
    assert response["ETag"] == previous["ETag"]
    cache.delete(f"{key}:building")
    assert b"Alpha Renamed" in client.get(f"{API}tree/").content


def test_a_request_builds_after_waiting_for_a_builder_that_never_finishes(
    settings: Any,
) -> None:
    settings.CACHE_BUILD_WAIT_SECONDS = 0
    cache.add("answer:building", "another worker", 60)

    answer = answer_cache.build_once("answer", '"e1"', lambda: b"[1]")

    assert answer == answer_cache.Answer('"e1"', b"[1]")
    assert answer_cache.stored("answer", '"e1"') == answer
    # The other builder's lock is left to it.
    assert cache.get("answer:building") == "another worker"


def test_a_caller_that_may_not_build_beside_another_is_refused_after_the_wait() -> None:
    cache.add("shared:building", "another worker", 60)
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        return b"[1]"

    with pytest.raises(answer_cache.BuildBusy):
        answer_cache.build_once(
            "one",
            '"e1"',
            build,
            lock="shared:building",
            wait_seconds=0.2,
            build_when_busy=False,
        )

    assert builds == []
    assert answer_cache.stored("one") is None
    assert cache.get("shared:building") == "another worker"
    # The lock free, the same call builds, keeps its answer and frees the lock.
    cache.delete("shared:building")
    answer = answer_cache.build_once(
        "one", '"e1"', build, lock="shared:building", build_when_busy=False
    )
    assert answer == answer_cache.Answer('"e1"', b"[1]") == answer_cache.stored("one")
    assert builds == [1]
    assert cache.get("shared:building") is None


def test_a_cache_that_holds_no_lock_refuses_a_caller_that_may_not_build_at_once() -> (
    None
):
    class Unreachable:
        unreachable = True

        def add(self, *args: Any) -> bool:
            return False

    with (
        mock.patch.object(answer_cache, "cache", Unreachable()),
        mock.patch.object(answer_cache.time, "sleep", side_effect=AssertionError),
        pytest.raises(answer_cache.BuildBusy),
    ):
        answer_cache.build_once("one", '"e1"', lambda: b"[1]", build_when_busy=False)


def test_an_answer_its_builder_says_not_to_keep_is_not_kept() -> None:
    assert answer_cache.build_once("one", '"e1"', lambda: None) is None
    assert answer_cache.stored("one") is None
    assert cache.get("one:building") is None


def test_two_concurrent_misses_build_once(settings: Any) -> None:
    settings.CACHE_BUILD_WAIT_SECONDS = 60
    started, release = threading.Event(), threading.Event()
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        started.set()
        release.wait(60)
        return b"[1]"

    answers: dict[str, answer_cache.Answer] = {}

    def first() -> None:
        answers["first"] = answer_cache.build_once("answer", '"e1"', build)

    def second() -> None:
        answers["second"] = answer_cache.build_once("answer", '"e1"', build)

    builder = threading.Thread(target=first)
    builder.start()
    started.wait(60)
    waiter = threading.Thread(target=second)
    waiter.start()
    release.set()
    builder.join(60)
    waiter.join(60)

    assert builds == [1]
    assert answers["first"] == answers["second"] == answer_cache.Answer('"e1"', b"[1]")


@pytest.mark.django_db
def test_a_checked_past_answer_costs_one_small_query_until_the_next_write(
    client: Client, alpha: OrganizationalUnit, editor: User
) -> None:
    first = client.get(f"{API}tree/", PAST)
    client.get(f"{API}tree/", PAST)  # the stamp checked once: nothing since

    # Nothing written since that check: the generation alone says so.
    with CaptureQueriesContext(connection) as hit:
        assert client.get(f"{API}tree/", PAST)["ETag"] == first["ETag"]
    assert len(hit.captured_queries) == 1
    assert "EXISTS" not in hit.captured_queries[0]["sql"]

    rename(alpha, "Alpha Renamed", editor)
    # A write since: the generation moved, so the stamp is checked again.
    with CaptureQueriesContext(connection) as after_write:
        assert client.get(f"{API}tree/", PAST)["ETag"] == first["ETag"]
    assert len(after_write.captured_queries) == 2
    assert "EXISTS" in after_write.captured_queries[1]["sql"]
    with CaptureQueriesContext(connection) as hit_again:
        client.get(f"{API}tree/", PAST)
    assert len(hit_again.captured_queries) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["tree/", "units/", "units/alpha/tree/"])
def test_an_answer_about_now_changes_with_the_day_without_a_write(
    client: Client, editor: User, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Who holds a post "now" depends on the day: an appointment recorded today to
    start tomorrow shows tomorrow, though nothing is written at midnight. The ETag
    of an answer about now names the day, so a client holding today's answer is not
    told 304 tomorrow and the cached answer is not served then."""
    post = PostFactory.create(
        title="Director",
        is_head=True,
        unit=UnitFactory.create(name="Alpha", effective_at=at("2010-01-01")),
        effective_at=at("2010-01-01"),
        user=editor,
    )
    today = timezone.now()
    AppointmentFactory.create(
        post=post,
        person__full_name="Ada Holder",
        started_on=today.date() + datetime.timedelta(days=1),
        effective_at=today,
        user=editor,
        reason="Appointed from tomorrow",
    )
    answer_today = client.get(f"{API}{path}")
    assert b"Ada Holder" not in answer_today.content

    monkeypatch.setattr(timezone, "now", lambda: today + datetime.timedelta(days=1))
    tomorrow = client.get(f"{API}{path}", HTTP_IF_NONE_MATCH=answer_today["ETag"])

    assert tomorrow.status_code == HTTPStatus.OK
    assert tomorrow["ETag"] != answer_today["ETag"]
    assert b"Ada Holder" in tomorrow.content

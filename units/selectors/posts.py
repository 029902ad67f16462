"""Posts with the person holding each, now or as of an instant."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from units.models import (
    Appointment,
    Person,
    Post,
    appointment_is_current,
)
from units.selectors.as_of import (
    _ever_matched,
    _in_ids,
    iter_state_rows_as_of,
    recorded_by,
    state_rows_as_of,
)
from units.selectors.fields import (
    APPOINTMENT_SHOWN_FIELDS,
    PERSON_FIELDS,
    POST_STATE_FIELDS,
)
from units.selectors.results import Holder, PostState


def _holders_by_post(
    appointments: Iterable[dict[str, Any]], people: Mapping[int, Mapping[str, Any]]
) -> dict[int, Holder]:
    holders: dict[int, Holder] = {}
    for row in appointments:
        person = people.get(row["person_id"])
        if person is None:
            continue
        holders[row["post_id"]] = Holder(
            person_id=row["person_id"],
            person_slug=person["slug"],
            person_name=person["full_name"],
            started_on=row["started_on"],
            ended_on=row["ended_on"],
            note=row["note"],
        )
    return holders


_POST_UNIT_ID = POST_STATE_FIELDS.index("unit_id")
_POST_IS_HEAD = POST_STATE_FIELDS.index("is_head")
_POST_ABOLISHED_ON = POST_STATE_FIELDS.index("abolished_on")


def _posts_with_holders(
    post_rows: Iterable[dict[str, Any]],
    appointment_rows: Iterable[dict[str, Any]],
    people: Mapping[int, Mapping[str, Any]],
) -> list[PostState]:
    holders = _holders_by_post(appointment_rows, people)
    posts = [PostState(**row) for row in post_rows]
    for post in posts:
        post.holder = holders.get(post.id)
    return posts


def _current_heads(branch: Q | None = None) -> dict[int, PostState]:
    """Each unit's current head post and holder, in three queries.

    ``branch`` (a condition on units) limits them to some units, inside the database.
    """
    head_posts = Post.objects.filter(is_head=True, abolished_on__isnull=True)
    # Open appointments only (no end date yet), as ``with_current_head`` joins them.
    appointments = Appointment.objects.current_on(timezone.now().date()).filter(
        post__is_head=True, ended_on__isnull=True
    )
    if branch is not None:
        head_posts = head_posts.filter(_on_relation(branch, "unit"))
        appointments = appointments.filter(_on_relation(branch, "post__unit"))
    head_rows = head_posts.values(*POST_STATE_FIELDS)
    appointment_rows = list(appointments.values(*APPOINTMENT_SHOWN_FIELDS))
    people = {
        row["id"]: row
        for row in Person.objects.filter(
            pk__in={row["person_id"] for row in appointment_rows}
        ).values("id", "slug", "full_name")
    }
    return {
        post.unit_id: post
        for post in _posts_with_holders(head_rows, appointment_rows, people)
    }


def _on_relation(condition: Q, relation: str) -> Q:
    """The same condition on units, written from a model related to them.

    ``condition`` is flat (lookups under one connector), as every caller builds it.
    """
    lookups = []
    for child in condition.children:
        if not isinstance(child, tuple):
            raise TypeError("Only a flat condition of lookups moves to a relation.")
        lookup, value = child
        lookups.append((f"{relation}__{lookup}", value))
    return Q(*lookups, _connector=condition.connector)


def posts_as_of(
    when: datetime.datetime | None = None,
    *,
    heads_only: bool = False,
    unit_ids: Iterable[int] | None = None,
) -> list[PostState]:
    """Posts (active at ``when``, default now) with the person holding each, if any.

    With ``unit_ids`` only those units' posts and appointments are read, so the cost
    follows them, not the registry. Appointments never change post, person or start
    once made (they are started and ended, nothing else), so only those started by
    ``when``'s day are read. Three queries (four when a holder was recorded after the
    appointment began); holders are named as they were at ``when`` (``people_as_of``).
    """
    when = when or timezone.now()
    day = when.date()
    posts_read: models.QuerySet | None = None
    if unit_ids is not None:
        wanted_units = set(unit_ids)
        ever = Q(unit_id__in=_in_ids(wanted_units))
        if heads_only:
            ever &= Q(is_head=True)
        posts_read = _ever_matched(Post, ever)
    post_rows = [
        row
        # Read as they come: of a whole registry's posts only the heads may be kept.
        for row in iter_state_rows_as_of(Post, when, POST_STATE_FIELDS, ids=posts_read)
        if row[_POST_ABOLISHED_ON] is None
        and (not heads_only or row[_POST_IS_HEAD])
        and (unit_ids is None or row[_POST_UNIT_ID] in wanted_units)
    ]
    post_ids = {row[0] for row in post_rows}
    appointments_read = (
        None
        if unit_ids is None
        else _ever_matched(Appointment, Q(post_id__in=_in_ids(post_ids)))
    )
    held = [
        row
        for row in iter_state_rows_as_of(
            Appointment,
            when,
            APPOINTMENT_SHOWN_FIELDS,
            ids=appointments_read,
            started_by=day,
        )
        if row[2] in post_ids and appointment_is_current(row[3], row[4], day)
    ]
    people = people_as_of(when, {row[1] for row in held})
    holders = {
        post_id: Holder(
            person_id, people[person_id][1], people[person_id][2], start, end, note
        )
        for _, person_id, post_id, start, end, note in held
        if person_id in people
    }
    posts = [PostState(*row) for row in post_rows]
    for post in posts:
        post.holder = holders.get(post.id)
    return posts


def people_as_of(
    when: datetime.datetime, person_ids: Iterable[int]
) -> dict[int, tuple[int, str, str]]:
    """Each person's (id, slug, full_name) as their record stood at ``when``.

    One query, two when some were recorded only after ``when`` (a person may be
    recorded long after the posts they held): those are named as first recorded,
    their earliest revision as known at ``known_at`` (a correction of it, recorded
    later at the same effective time, wins). Never the current row: a later rename
    must not change an answer about an earlier instant (nor, so, the cache rule of
    ``freshness``).
    """
    wanted = set(person_ids)
    if not wanted:
        return {}
    people = {
        row[0]: row for row in state_rows_as_of(Person, when, PERSON_FIELDS, ids=wanted)
    }
    if missing := wanted - people.keys():
        # Latest effective first, and within one effective time the first recorded
        # first: the row kept for each person (the last one read) is the winner of
        # its earliest effective time.
        first_recorded = (
            recorded_by(Person.history.filter(id__in=_in_ids(missing)))
            .order_by("-history_date", "history_id")
            .values_list(*PERSON_FIELDS)
        )
        people.update((row[0], row) for row in first_recorded)
    return people


def unit_posts_as_of(
    unit_id: int, when: datetime.datetime | None = None
) -> list[PostState]:
    """One unit's posts at ``when`` as its page lists them: the head first, then by title."""
    posts = posts_as_of(when, unit_ids={unit_id})
    posts.sort(key=lambda post: (not post.is_head, post.title))
    return posts


def with_open_appointments(posts: models.QuerySet[Post]) -> models.QuerySet[Post]:
    """``posts`` with ``open_appointments``: who holds each now, person loaded."""
    return posts.prefetch_related(
        models.Prefetch(
            "appointments",
            queryset=Appointment.objects.filter(ended_on__isnull=True).select_related(
                "person"
            ),
            to_attr="open_appointments",
        )
    )


def open_appointments(post: Post) -> list[Appointment]:
    """Who holds ``post`` now: the open appointment, or none (read if not prefetched)."""
    prefetched = getattr(post, "open_appointments", None)
    if prefetched is not None:
        return prefetched
    return list(
        post.appointments.filter(ended_on__isnull=True).select_related("person")
    )

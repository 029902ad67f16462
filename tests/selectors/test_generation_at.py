"""``generation_at``: the registry's generation as far as one instant is concerned, which
a snapshot carries, moves only with a change effective at or before that instant."""

from __future__ import annotations

import datetime

import pytest

from tests.conftest import ScriptedHistory, at
from units import selectors, services
from units.models import RegistryState
from units.selectors.freshness import next_restore_epoch

pytestmark = pytest.mark.django_db


def test_it_counts_only_revisions_effective_by_then(
    scripted_history: ScriptedHistory,
) -> None:
    early = selectors.generation_at(at("2020-03-01"))
    later = selectors.generation_at(at("2023-07-01"))

    # Only the three units established on 2020-01-01 were effective by March 2020.
    assert early.newest_ids["posts"] == early.newest_ids["appointments"] == 0
    assert early.newest_ids["units"] < later.newest_ids["units"]
    assert later.newest_ids["appointments"] > 0
    assert early.recorded_at is not None and later.recorded_at is not None
    assert early.recorded_at <= later.recorded_at
    assert early.recorded_at.tzinfo == datetime.UTC
    assert selectors.generation_at(at("2019-01-01")).recorded_at is None


def test_a_later_change_leaves_it_and_a_backdated_one_moves_it(
    scripted_history: ScriptedHistory, editor
) -> None:
    when = at("2022-02-01")
    before = selectors.generation_at(when)
    services.unit_update(
        unit=scripted_history.unit_y, user=editor, reason="Now", name="Unit Why"
    )
    assert selectors.generation_at(when) == before

    services.unit_update(
        unit=scripted_history.root,
        user=editor,
        reason="Back then",
        name="Head Quarters",
        effective_at=at("2022-01-15"),
    )
    after = selectors.generation_at(when)
    assert after.newest_ids["units"] > before.newest_ids["units"]
    assert after.recorded_at is not None and before.recorded_at is not None
    assert after.recorded_at > before.recorded_at


def test_a_restore_moves_its_epoch(scripted_history: ScriptedHistory) -> None:
    when = at("2022-02-01")
    before = selectors.generation_at(when)
    state = RegistryState.objects.get(pk=1)
    state.generation = next_restore_epoch(state.generation)
    state.save()

    assert selectors.generation_at(when).epoch == before.epoch + 1

"""The current tree derived from the previous answer equals the tree built whole.

``api.formats.tree_patch`` re-encodes only the units a write changed and puts their
subtrees back in place; after every kind of unit write (rename, translation, move to
another parent or another position, new first and last sub-units, abolition with and
without sub-units, reinstatement, several writes at once) the derived bytes must be
the whole build's, in English and French, with and without abolished units. Writes
it cannot describe (a holder, a restore) must build the tree whole, and the endpoint
must derive rather than rebuild (one query instead of the stream).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.answer_cache import Built
from api.formats import tree_patch
from api.formats.tree_patch import TreeBasis, patched_current_tree, whole_current_tree
from benchmarks.generate import generate
from units import selectors, services
from units.models import OrganizationalUnit, Person, Post, UnitKind

ORIGIN = "http://testserver"
READS = [(False, "en"), (True, "en"), (False, "fr"), (True, "es")]


@pytest.fixture
def registry(db: None) -> None:
    generate(120, seed=3, changes_per_unit=2)


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible choices, not secrets


def _whole(include_abolished: bool, language: str) -> Built:
    return whole_current_tree(
        include_abolished=include_abolished, origin=ORIGIN, language=language
    )


def _derived(previous: Built, include_abolished: bool, language: str) -> Built | None:
    return patched_current_tree(
        previous.body,
        previous.basis,
        include_abolished=include_abolished,
        origin=ORIGIN,
        language=language,
    )


def _assert_derived_after(write: Callable[[], Any]) -> None:
    """Every read derived across ``write`` equals the read built whole after it."""
    before = {read: _whole(*read) for read in READS}
    write()
    for read, previous in before.items():
        derived = _derived(previous, *read)
        assert derived is not None, f"{read}: built whole instead of derived"
        assert derived.body == _whole(*read).body, read
        # The new basis carries on: nothing changed since, nothing to do.
        again = _derived(derived, *read)
        assert again is not None
        assert again.body == derived.body


def _active(**filters: Any) -> list[OrganizationalUnit]:
    return list(OrganizationalUnit.objects.active().filter(**filters).order_by("pk"))


def _a_leaf(rng: random.Random) -> OrganizationalUnit:
    leaves = [unit for unit in _active(level__gte=2) if unit.is_leaf_node()]
    return rng.choice(leaves)


def _a_branch(rng: random.Random) -> OrganizationalUnit:
    return rng.choice([u for u in _active(level__gte=1) if not u.is_leaf_node()])


def _new_parent_for(unit: OrganizationalUnit, rng: random.Random) -> OrganizationalUnit:
    inside = set(unit.get_descendants(include_self=True).values_list("pk", flat=True))
    return rng.choice(
        [u for u in _active() if u.pk not in inside and u.pk != unit.parent_id]
    )


def _write(**fields: Any) -> dict[str, Any]:
    return {"user": None, "reason": "Tree patch test", **fields}


@pytest.mark.django_db
class TestDerivedEqualsWhole:
    def test_rename_and_edit(self, registry: None) -> None:
        unit = _a_branch(_rng(1))
        _assert_derived_after(
            lambda: services.unit_update(
                unit=unit,
                **_write(name="Renamed \u2028 “unit”", mandate='Quotes " and \\'),
            )
        )

    def test_translation(self, registry: None) -> None:
        unit = _a_leaf(_rng(2))
        _assert_derived_after(
            lambda: services.unit_update(
                unit=unit, **_write(name_fr="Unité renommée", mandate_es="Mandato")
            )
        )

    def test_move_a_subtree_to_another_parent(self, registry: None) -> None:
        rng = _rng(3)
        for _ in range(3):
            unit = _a_branch(rng)
            parent = _new_parent_for(unit, rng)
            _assert_derived_after(
                functools.partial(
                    services.unit_move, unit=unit, new_parent=parent, **_write()
                )
            )

    @pytest.mark.parametrize("position", ["first-child", "last-child", "before"])
    def test_move_to_a_position(
        self, registry: None, position: services.MovePosition
    ) -> None:
        rng = _rng(4)
        unit = _a_leaf(rng)
        target = _a_branch(rng) if position != "before" else _a_leaf(rng)
        _assert_derived_after(
            lambda: services.unit_move_to_position(
                unit=unit, target=target, position=position, **_write()
            )
        )

    def test_new_first_and_last_sub_units(self, registry: None) -> None:
        parent = _a_branch(_rng(5))

        def first_child() -> None:
            created = services.unit_create(
                name="First", kind=UnitKind.UNIT, parent=parent, **_write()
            )
            services.unit_move_to_position(
                unit=created, target=parent, position="first-child", **_write()
            )

        _assert_derived_after(first_child)
        _assert_derived_after(
            lambda: services.unit_create(
                name="Last", kind=UnitKind.UNIT, parent=parent, **_write()
            )
        )

    def test_new_unit_under_a_leaf_and_at_the_top(self, registry: None) -> None:
        leaf = _a_leaf(_rng(6))
        _assert_derived_after(
            lambda: services.unit_create(
                name="Only child", kind=UnitKind.UNIT, parent=leaf, **_write()
            )
        )
        _assert_derived_after(
            lambda: services.unit_create(
                name="Second top unit", kind=UnitKind.OFFICE, **_write()
            )
        )

    def test_abolish_and_reinstate(self, registry: None) -> None:
        leaf = _a_leaf(_rng(7))
        _assert_derived_after(lambda: services.unit_abolish(unit=leaf, **_write()))
        _assert_derived_after(lambda: services.unit_reinstate(unit=leaf, **_write()))

    def test_abolish_moving_the_sub_units(self, registry: None) -> None:
        rng = _rng(8)
        unit = _a_branch(rng)
        parent = unit.parent
        _assert_derived_after(
            lambda: services.unit_abolish(
                unit=unit, sub_units="move", move_sub_units_to=parent, **_write()
            )
        )

    def test_several_writes_between_two_reads(self, registry: None) -> None:
        rng = _rng(9)

        def writes() -> None:
            branch = _a_branch(rng)
            services.unit_update(unit=branch, **_write(name="Busy branch"))
            child = branch.get_children().active().first()
            services.unit_move(
                unit=child, new_parent=_new_parent_for(child, rng), **_write()
            )
            services.unit_create(
                name="New under busy", kind=UnitKind.UNIT, parent=branch, **_write()
            )
            services.unit_update(unit=_a_leaf(rng), **_write(mandate="Rewritten"))

        _assert_derived_after(writes)


@pytest.mark.django_db
def test_a_unit_moved_out_of_a_changed_subtree(registry: None) -> None:
    """A unit that was inside another changed unit's subtree is placed right, or
    the tree is built whole: either way the bytes are the whole build's."""
    rng = _rng(10)
    branch = _a_branch(rng)
    child = branch.get_children().active().first()
    before = _whole(False, "en")
    services.unit_update(unit=branch, **_write(name="Renamed branch"))
    services.unit_move(unit=child, new_parent=None, **_write())
    derived = _derived(before, False, "en")
    whole = _whole(False, "en")
    assert derived is None or derived.body == whole.body


@pytest.mark.django_db
class TestHeads:
    """A unit's object shows its head post and holder: their changes re-encode it."""

    def _head(self) -> Post:
        return (
            Post.objects.filter(is_head=True, abolished_on__isnull=True)
            .filter(appointments__ended_on__isnull=True)
            .order_by("pk")
            .first()
        ) or pytest.fail("the generated registry has no held head post")

    def test_retitled_head_post(self, registry: None) -> None:
        post = self._head()
        _assert_derived_after(
            lambda: services.post_update(
                post=post, title="Retitled head", title_fr="Titre", **_write()
            )
        )

    def test_renamed_holder(self, registry: None) -> None:
        person = Person.objects.get(
            appointments__post=self._head(), appointments__ended_on__isnull=True
        )
        _assert_derived_after(
            lambda: services.person_update(
                person=person, full_name="Renamed Person", **_write()
            )
        )

    def test_holder_leaves_and_another_comes(self, registry: None) -> None:
        post = self._head()
        appointment = post.appointments.get(ended_on__isnull=True)
        _assert_derived_after(
            lambda: services.appointment_end(
                appointment=appointment, ended_on=timezone.now().date(), **_write()
            )
        )
        _assert_derived_after(
            lambda: services.appointment_start_for_new_person(
                post=post,
                full_name="New Holder",
                started_on=timezone.now().date(),
                **_write(),
            )
        )


@pytest.mark.django_db
def test_another_day_or_another_basis_is_built_whole(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _whole(False, "en")
    assert isinstance(before.basis, TreeBasis)
    yesterday = TreeBasis(
        before.basis.stamp, before.basis.day.replace(year=before.basis.day.year - 1)
    )
    assert (
        patched_current_tree(
            before.body, yesterday, include_abolished=False, origin=ORIGIN
        )
        is None
    )
    assert (
        patched_current_tree(
            before.body, "not a basis", include_abolished=False, origin=ORIGIN
        )
        is None
    )
    # A stamp from another restore epoch: the history was replaced.
    other_epoch = TreeBasis(
        (before.basis.stamp[0] + 1, *before.basis.stamp[1:]), before.basis.day
    )
    assert (
        patched_current_tree(
            before.body, other_epoch, include_abolished=False, origin=ORIGIN
        )
        is None
    )


@pytest.mark.django_db
def test_too_many_changes_are_built_whole(
    registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors.tree_changes, "MOST_CHANGED_UNITS", 1)
    before = _whole(False, "en")
    rng = _rng(11)
    services.unit_update(unit=_a_leaf(rng), **_write(mandate="One"))
    services.unit_update(unit=_a_branch(rng), **_write(mandate="Two"))
    assert _derived(before, False, "en") is None


@pytest.mark.django_db
def test_a_previous_answer_out_of_shape_is_built_whole(registry: None) -> None:
    before = _whole(False, "en")
    unit = _a_leaf(_rng(12))
    services.unit_update(unit=unit, **_write(name="Changed"))
    broken = Built(
        before.body.replace(b'"children":[', b'"children": [', 1), before.basis
    )
    derived = _derived(broken, False, "en")
    assert derived is None or derived.body == _whole(False, "en").body


@pytest.mark.django_db
def test_the_endpoint_derives_after_a_write(registry: None, settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    cache.clear()
    client = APIClient()
    first = client.get("/api/v1/tree/")
    assert first.status_code == HTTPStatus.OK
    unit = _a_branch(_rng(13))
    services.unit_move(
        unit=unit, new_parent=_new_parent_for(unit, _rng(14)), **_write()
    )
    with CaptureQueriesContext(connection) as queries:
        second = client.get("/api/v1/tree/")
    assert second.status_code == HTTPStatus.OK
    assert second["ETag"] != first["ETag"]
    # The generation, then the changes (the stamp, the changed units, their rows with
    # the stamp again); no stream of the tree.
    assert len(queries) == 4, [query["sql"][:120] for query in queries]
    cache.clear()
    assert client.get("/api/v1/tree/").content == second.content


@pytest.mark.django_db
def test_a_fault_in_deriving_builds_the_tree_whole(
    registry: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = _whole(False, "en")
    services.unit_update(unit=_a_leaf(_rng(15)), **_write(name="Faulty"))

    def fault(*args: Any, **kwargs: Any) -> bytearray:
        raise RuntimeError("a bug in deriving")

    monkeypatch.setattr(tree_patch, "_patched", fault)
    assert _derived(before, False, "en") is None
    assert "Deriving the tree from the previous answer failed" in caplog.text

"""Every write service runs in one transaction of its own.

A service that lost its ``@transaction.atomic`` still passes on SQLite, where
``select_for_update`` does nothing; on PostgreSQL its lock is refused outside a
transaction, and the database worker left due reorganizations unapplied. So the
decorator itself is checked, for every function ``units.services`` offers.
"""

from __future__ import annotations

import inspect

import pytest
from django.db import transaction

from units import services

# Not writes of their own: they read, compute, or call writes that are atomic.
NOT_ONE_TRANSACTION = {
    "apply_due_reorganizations": "applies each due one in its own transaction",
    "catch_up_reorganizations": "calls apply_due_reorganizations",
    "effective_datetime": "a time check",
    "import_difference": "reads a file and the registry; writes nothing",
    "previewed_changes": "a read inside registry_as_planned's rolled-back transaction",
    "refusal_code": "a refusal's code",
    "refusal_status": "a refusal's HTTP status",
    "registry_as_planned": "a context manager that opens its own transaction",
    "revert_mode": "reads a revert's mode, or refuses an unknown one",
    "reorganization_problems": "a try-out in a transaction of its own, rolled back",
    "unit_move": "calls unit_update, which is atomic",
}


def runs_in_one_transaction(function: object) -> bool:
    closure = inspect.getclosurevars(function)  # type: ignore[arg-type]
    return any(
        isinstance(value, transaction.Atomic) for value in closure.nonlocals.values()
    )


@pytest.mark.parametrize(
    "name",
    [
        name
        for name in services.__all__
        if inspect.isfunction(getattr(services, name))
        and name not in NOT_ONE_TRANSACTION
    ],
)
def test_every_write_service_runs_in_one_transaction(name: str) -> None:
    assert runs_in_one_transaction(getattr(services, name)), name


def test_the_exceptions_are_services_still() -> None:
    assert set(NOT_ONE_TRANSACTION) <= set(services.__all__)

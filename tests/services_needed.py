"""Tests that need a local service (Redis): skipped on a developer's machine without it,
failed in CI, which must provide it (``.ci/run`` installs and starts it)."""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest

REDIS_ADDRESS = ("127.0.0.1", 6379)


def missing(reason: str) -> NoReturn:
    """Skip for a developer without the service; fail in CI, which must provide it."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it (.ci/run installs and starts it)")
    pytest.skip(reason)


def redis_is_running() -> bool:
    try:
        socket.create_connection(REDIS_ADDRESS, timeout=1).close()
    except OSError:
        return False
    return True

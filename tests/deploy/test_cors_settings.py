"""CORS_ALLOWED_ORIGINS, read from the environment (settings are read once: a process
each, as in test_deploy)."""

from __future__ import annotations

import subprocess

import pytest

from tests.deploy.test_deploy import manage, production_environment, production_settings

CORS = "[s.CORS_ALLOW_ALL_ORIGINS, s.CORS_ALLOWED_ORIGINS, s.CORS_ALLOW_CREDENTIALS]"


def test_any_site_may_read_by_default() -> None:
    assert production_settings(CORS) == [True, [], False]


def test_named_origins_are_the_only_ones_that_may_read() -> None:
    origins = " https://app.example.org , https://other.example.org:8443 "

    assert production_settings(CORS, CORS_ALLOWED_ORIGINS=origins) == [
        False,
        ["https://app.example.org", "https://other.example.org:8443"],
        False,
    ]


def test_an_empty_list_lets_no_other_site_read() -> None:
    assert production_settings(CORS, CORS_ALLOWED_ORIGINS="") == [False, [], False]


def test_star_among_origins_is_refused_at_start() -> None:
    with pytest.raises(subprocess.CalledProcessError) as refused:
        production_settings(CORS, CORS_ALLOWED_ORIGINS="*,https://app.example.org")

    assert "CORS_ALLOWED_ORIGINS is either * (any origin)" in refused.value.stderr


def test_an_origin_without_a_scheme_fails_the_system_check() -> None:
    result = manage(
        "check",
        environment=production_environment(CORS_ALLOWED_ORIGINS="app.example.org"),
    )

    assert result.returncode != 0
    assert "corsheaders.E013" in result.stderr
    assert "app.example.org" in result.stderr

"""The read cache's mechanics: keys, one builder per answer, bounded entries.

When an answer is still true is decided elsewhere (``units.selectors.freshness``);
this module only stores and fetches answers:

- **Keys from known parameters only.** An answer's key names the caller's visibility,
  the host, the path and the values of the parameters the read documents (its
  FilterSets). Anything else in the query string is ignored, as the API ignores it:
  ``?x=1``, ``?x=2``... share one entry instead of adding one each.
- **One entry per key.** An answer is stored once, under its key, with its ETag; a
  newer answer replaces it rather than sitting beside it until it expires.
- **One builder.** A miss takes a build lock (``cache.add``) before building. Others
  that miss meanwhile answer with the previous answer under its own ETag, or, when
  there is none, wait up to ``CACHE_BUILD_WAIT_SECONDS`` for the builder's answer. With
  a shared cache (Redis) an answer is thus built once for all workers. A cache that
  is unreachable cannot hold a lock: each request then builds its own answer at once
  rather than wait for a builder that cannot tell it has finished. The planned reads
  (``orgregistry.planned_reads``) use the same rule with one lock for all their keys
  and a refusal (``BuildBusy``) instead of a second build.
- **Bounded entries.** An answer larger than ``CACHE_MAX_ENTRY_BYTES`` is sent but not
  stored.
- **Compressed once.** A large answer a client takes gzip-compressed is compressed by
  one request and kept beside it, under its ETag, for every other such client
  (``gzipped``).
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import overload

from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from rest_framework.request import Request

from api.filters import QueryFilterSet
from units.selectors import reader_kind

CACHE_SECONDS = 300
# Longer than any build: a builder that dies lets others build once this passes.
BUILD_LOCK_SECONDS = 600
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Answer:
    """An encoded answer (JSON bytes, or a pickled payload) and its ETag.

    ``basis``: what the answer was built from beyond its key: what the next answer
    may be derived from instead of built whole (a tree's stamp,
    ``api.formats.tree_patch``), or the objects an as-of answer read as they are now
    (``selectors.CurrentReads``); None for most answers.
    """

    etag: str
    body: bytes
    basis: object = None


@dataclass(frozen=True)
class Built:
    """What a build returns when the answer has a ``basis`` to keep beside it."""

    body: bytes
    basis: object


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Taken by every read (``orgregistry.known_at``), whatever its FilterSets.
EVERY_READ_PARAMETERS = frozenset({"known_at"})


def known_parameters(parameters: Iterable[type[QueryFilterSet]]) -> frozenset[str]:
    """The query parameters the FilterSets of a read take, and ``known_at``."""
    return EVERY_READ_PARAMETERS | frozenset(
        name for filterset in parameters for name in filterset.base_filters
    )


def fingerprint(request: Request, known: frozenset[str]) -> str:
    """What, besides the registry's state, decides the answer to this request."""
    # Staff and public answers differ (authors, internal reasons): never one key.
    visibility = reader_kind(request.user)
    # The host is part of it because answers carry absolute links.
    query = sorted(
        (name, values) for name, values in request.query_params.lists() if name in known
    )
    # The language (?lang=, Accept-Language) decides the labels an answer spells out
    # (a change's field label, a choice's display): one entry and ETag per language.
    language = translation.get_language()
    return digest(
        f"{visibility}|{request.get_host()}|{request.path}|{query}|{language}"
    )


def _body_key(key: str) -> str:
    return f"{key}:body"


def _etag_key(key: str) -> str:
    return f"{key}:etag"


def stored(key: str, etag: str | None = None) -> Answer | None:
    """The stored answer under ``key`` (only if its ETag is ``etag``, when given).

    The small ETag entry is read first, so a stale answer is never fetched whole.
    """
    stored_etag = cache.get(_etag_key(key))
    if stored_etag is None or (etag is not None and stored_etag != etag):
        return None
    answer = cache.get(_body_key(key))
    if not isinstance(answer, Answer) or answer.etag != stored_etag:
        return None
    return answer


def store(key: str, answer: Answer) -> bool:
    """Keep ``answer`` under ``key`` unless it is over the size bound."""
    if len(answer.body) > settings.CACHE_MAX_ENTRY_BYTES:
        return False
    cache.set(_body_key(key), answer, CACHE_SECONDS)
    cache.set(_etag_key(key), answer.etag, CACHE_SECONDS)
    return True


class BuildBusy(Exception):
    """Another request held the build lock for the whole wait, and this caller's
    answer may not be built beside it (``build_when_busy=False``)."""


@overload
def build_once(
    key: str,
    etag: str,
    build: Callable[[], bytes | Built],
    *,
    lock: str | None = ...,
    lock_seconds: int = ...,
    wait_seconds: float | None = ...,
    build_when_busy: bool = ...,
) -> Answer: ...


@overload
def build_once(
    key: str,
    etag: str,
    build: Callable[[], bytes | Built | None],
    *,
    lock: str | None = ...,
    lock_seconds: int = ...,
    wait_seconds: float | None = ...,
    build_when_busy: bool = ...,
) -> Answer | None: ...


def build_once(
    key: str,
    etag: str,
    build: Callable[[], bytes | Built | None],
    *,
    lock: str | None = None,
    lock_seconds: int = BUILD_LOCK_SECONDS,
    wait_seconds: float | None = None,
    build_when_busy: bool = True,
) -> Answer | None:
    """The answer ``etag`` names, built here only if nobody else is building it.

    While another request builds, this one answers with the previous answer under
    ``key`` (its own ETag), or waits for the new one (``wait_seconds``, by default
    ``CACHE_BUILD_WAIT_SECONDS``); after the wait it builds too, or, with
    ``build_when_busy=False``, raises ``BuildBusy``. ``lock`` names the build lock
    (by default the key's own; one name for several keys lets one build run at a
    time among them all). ``build`` returning None built an answer not to keep: then
    None is returned and the caller answers with what it built.
    """
    lock = lock or f"{key}:building"
    holding = cache.add(lock, etag, lock_seconds)
    if not holding and getattr(cache, "unreachable", False):
        # No lock can be held: build at once, or refuse at once.
        if not build_when_busy:
            raise BuildBusy(key)
        return _built(key, etag, build, keep=False)
    if not holding:
        previous = stored(key)
        if previous is not None:
            return previous
        wait = (
            settings.CACHE_BUILD_WAIT_SECONDS if wait_seconds is None else wait_seconds
        )
        deadline = time.monotonic() + wait
        while not holding and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            built = stored(key, etag)
            if built is not None:
                return built
            holding = cache.add(lock, etag, lock_seconds)
        if not holding and not build_when_busy:
            raise BuildBusy(key)
    try:
        # Another builder may have finished between this request's miss and its lock.
        built = stored(key, etag) if holding else None
        if built is not None:
            return built
        return _built(key, etag, build, keep=True)
    finally:
        if holding:
            cache.delete(lock)


def _built(
    key: str, etag: str, build: Callable[[], bytes | Built | None], *, keep: bool
) -> Answer | None:
    built = build()
    if built is None:
        return None
    if isinstance(built, Built):
        answer = Answer(etag, built.body, built.basis)
    else:
        answer = Answer(etag, built)
    if keep:
        store(key, answer)
    return answer


# The current tree, 10,000 units (6.1 MB of JSON) and 100,000 (60.4 MB): level 5 makes
# it 10.3-10.4x smaller in 44 ms and 0.46 s; 6, 11.0-11.1x in 64 ms and 0.65 s; 1,
# 8.3-8.6x in 20 ms and 0.19 s (docs/performance.md). Compressed once per answer and
# sent to every client that takes it, the smaller size is worth the time.
GZIP_LEVEL = 5
# Below this an answer is compressed for each request that takes it (well under a
# millisecond) rather than fetched compressed from the cache.
GZIP_KEEP_MIN_BYTES = 64 * 1024


def compress(body: bytes) -> bytes:
    # mtime=0: the same answer always compresses to the same bytes.
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def gzipped(answer: Answer, *, keep: bool = True) -> bytes | None:
    """``answer``'s body gzip-compressed, or None to send it as it is.

    A large answer is compressed once for all the clients that take it so: kept in
    the cache under its ETag (which names one body), within the size bound. While
    another request compresses it, this one gets None rather than compressing it
    again. ``keep=False``: compressed here and not kept.
    """
    if not keep or len(answer.body) < GZIP_KEEP_MIN_BYTES:
        return compress(answer.body)
    key = f"api-gzip:{digest(answer.etag)}"
    kept = cache.get(key)
    if isinstance(kept, bytes):
        return kept
    lock = f"{key}:building"
    if not cache.add(lock, answer.etag, BUILD_LOCK_SECONDS):
        return None
    try:
        compressed = compress(answer.body)
        if len(compressed) <= settings.CACHE_MAX_ENTRY_BYTES:
            cache.set(key, compressed, CACHE_SECONDS)
        return compressed
    finally:
        cache.delete(lock)

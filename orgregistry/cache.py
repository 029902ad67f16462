"""The cache behind ``CACHE_URL``: parsing the URL, and a Redis cache that fails soft.

The read cache only saves work: every cached answer is keyed on the registry generation,
so any answer can be rebuilt from the database. A cache that is down must therefore
slow reads down, never fail them; Django's Redis backend raises instead, so this one
answers like an empty cache while Redis is unreachable, and says so in the log.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.exceptions import ImproperlyConfigured
from redis import exceptions as redis_errors
from redis.connection import ConnectionPool

logger = logging.getLogger(__name__)

SCHEMES = ("locmem", "redis", "rediss", "db", "file", "dummy")
# A whole-tree answer is tens of megabytes: each socket read may wait this long, but a
# transfer goes on as long as bytes keep arriving. Connecting is quick or not at all.
REDIS_SOCKET_TIMEOUT = 5.0
REDIS_CONNECT_TIMEOUT = 1.0
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def default_key_prefix(database: Mapping[str, Any]) -> str:
    """A prefix naming the registry's database, so two registries never share keys.

    Keys hold the generation, which counts writes in one database: two registries on
    one Redis would otherwise serve each other's answers for equal generations. The
    credentials are left out so a password change keeps the cache.
    """
    identity = "|".join(
        str(database.get(field) or "") for field in ("ENGINE", "HOST", "PORT", "NAME")
    )
    return "orgregistry-" + hashlib.sha256(identity.encode()).hexdigest()[:12]


THROTTLE_TABLE = "orgregistry_throttle"


def throttle_cache_url(cache_url: str, *, single_process: bool) -> str | None:
    """Where API throttle counters must live, or None when the default cache will do.

    They must be seen by every worker process. Redis is shared and made for it, and a
    development server or a test run is one process: the default cache then serves.
    Any other read cache may be per process (``locmem://``), never count
    (``dummy://``) or cull counters along with cached answers (``db://``'s 300
    entries), so the counters get a table of their own.
    """
    if single_process or urlsplit(cache_url).scheme.lower() in {"redis", "rediss"}:
        return None
    return f"db://{THROTTLE_TABLE}"


def parse(url: str, *, key_prefix: str, version: int = 1) -> dict[str, Any]:
    """One ``CACHES`` entry from a cache URL; ImproperlyConfigured says what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    shown = _without_password(url)
    if scheme in {"memcached", "pymemcache", "pylibmc"}:
        raise ImproperlyConfigured(
            f"CACHE_URL {shown!r}: memcached is not offered; its 1 MB item limit is far "
            "below a whole-tree answer. Use redis:// or db://."
        )
    if scheme not in SCHEMES or not url.startswith(f"{parts.scheme}://"):
        raise ImproperlyConfigured(
            f"CACHE_URL {shown!r} is not a cache URL; it must start with one of "
            + ", ".join(f"{name}://" for name in SCHEMES)
            + "."
        )
    common = {"KEY_PREFIX": key_prefix, "VERSION": version}
    if scheme == "locmem":
        _refuse_extra(shown, parts.path, parts.query)
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": parts.netloc,
            **common,
        }
    if scheme == "dummy":
        _refuse_extra(shown, parts.netloc, parts.path, parts.query)
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache", **common}
    if scheme == "db":
        _refuse_extra(shown, parts.path, parts.query)
        if not _TABLE_NAME.fullmatch(parts.netloc):
            raise ImproperlyConfigured(
                f"CACHE_URL {shown!r}: name the cache table after db://, in letters, "
                "digits and underscores (like db://registry_cache)."
            )
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": parts.netloc,
            **common,
        }
    if scheme == "file":
        _refuse_extra(shown, parts.query)
        if parts.netloc or parts.path in {"", "/"}:
            raise ImproperlyConfigured(
                f"CACHE_URL {shown!r}: give an absolute folder after file:// "
                "(like file:///var/cache/orgregistry)."
            )
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": parts.path,
            **common,
        }
    return _redis(url, shown, parts.hostname, parts.path, common)


def _refuse_extra(shown: str, *extras: str) -> None:
    if any(extras):
        raise ImproperlyConfigured(
            f"CACHE_URL {shown!r} has parts this kind of cache does not take."
        )


def _redis(
    url: str, shown: str, host: str | None, path: str, common: dict[str, Any]
) -> dict[str, Any]:
    try:
        port = urlsplit(url).port
    except ValueError:
        port = -1
    if not host or port == -1 or not re.fullmatch(r"(/\d+)?/?", path):
        raise ImproperlyConfigured(
            f"CACHE_URL {shown!r}: a Redis URL is redis://[:password@]host[:port][/db], "
            "with a numeric port and database (like redis://127.0.0.1:6379/0)."
        )
    options = {
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    }
    # redis-py takes options from the URL's query (socket_timeout=10, ssl_cert_reqs=…)
    # and would refuse an unknown one only at the first request: build a connection
    # now (it connects lazily) so a typo stops the start instead.
    try:
        pool = ConnectionPool.from_url(url, **options)
        pool.connection_class(**pool.connection_kwargs)
    except (TypeError, ValueError) as error:
        raise ImproperlyConfigured(
            f"CACHE_URL {shown!r}: Redis refuses its options ({error})."
        ) from error
    return {
        "BACKEND": "orgregistry.cache.ResilientRedisCache",
        "LOCATION": url,
        "OPTIONS": options,
        **common,
    }


Result = TypeVar("Result")


# Servers found unreachable, and when they last failed: one entry per server for the
# whole process, so its aliases (answers, schedule, throttle) and threads
# learn of an outage, and log it, once.
_OUTAGES: dict[str, float] = {}


class ResilientRedisCache(RedisCache):
    """Django's Redis cache, answering like an empty cache while Redis is unreachable.

    Reads miss, writes are dropped, and one warning per outage goes to the log. After a
    connection failure the backend stops trying for ``retry_seconds``, so requests do
    not each wait for a connect timeout; then the next operation tries again. The API
    throttle keeps its counters here too, so while Redis is down nobody is throttled:
    the registry stays readable, which matters more.
    """

    retry_seconds = 5.0
    # Set by RedisCache; django-stubs leave these internals undeclared.
    _servers: list[str]
    _cache: RedisCacheClient

    def _attempt(self, operation: Callable[[], Result], fallback: Result) -> Result:
        server = _without_password(self._servers[0])
        failed_at = _OUTAGES.get(server)
        if failed_at is not None and time.monotonic() < failed_at + self.retry_seconds:
            return fallback
        try:
            result = operation()
        except (redis_errors.ConnectionError, redis_errors.TimeoutError) as error:
            if server not in _OUTAGES:
                logger.warning(
                    "Cache at %s unreachable, answering without it: %s", server, error
                )
            _OUTAGES[server] = time.monotonic()
            return fallback
        except redis_errors.RedisError as error:
            # Reachable but refusing (out of memory, a value over its size limit).
            logger.warning("Cache at %s refused an operation: %s", server, error)
            return fallback
        if _OUTAGES.pop(server, None) is not None:
            logger.warning("Cache at %s reachable again", server)
        return result

    @property
    def unreachable(self) -> bool:
        """Whether the last attempt found the server down (and it is not retried yet)."""
        return _without_password(self._servers[0]) in _OUTAGES

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return self._attempt(partial(super().add, key, value, timeout, version), False)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._attempt(partial(super().get, key, default, version), default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._attempt(partial(super().set, key, value, timeout, version), None)

    def touch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return self._attempt(partial(super().touch, key, timeout, version), False)

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._attempt(partial(super().delete, key, version), False)

    def get_many(self, keys: Iterable[Any], version: Any = None) -> dict[Any, Any]:
        return self._attempt(partial(super().get_many, list(keys), version), {})

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._attempt(partial(super().has_key, key, version), False)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        # None stands for "unreachable": Redis's INCR always answers a number.
        result = self._attempt(partial(super().incr, key, delta, version), None)
        if result is None:
            # What an empty cache answers.
            raise ValueError(f"Key '{key}' not found.")
        return result

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        return self._attempt(
            partial(super().set_many, data, timeout, version), list(data)
        )

    def delete_many(self, keys: Iterable[Any], version: Any = None) -> None:
        self._attempt(partial(super().delete_many, list(keys), version), None)

    def clear(self) -> None:
        """Delete this registry's keys only.

        Django's Redis backend empties the whole Redis database, which may hold other
        registries' caches (each under its own key prefix).
        """

        def delete_prefixed() -> None:
            client = self._cache.get_client(write=True)
            pattern = _glob_escape(self.key_prefix) + ":*"
            batch: list[bytes] = []
            for key in client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) == 1000:
                    client.delete(*batch)
                    batch.clear()
            if batch:
                client.delete(*batch)

        self._attempt(delete_prefixed, None)


def _glob_escape(text: str) -> str:
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def _without_password(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)

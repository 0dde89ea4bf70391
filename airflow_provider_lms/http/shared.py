"""One platform limit for every task, worker and triggerer that uses one credential, kept in Redis.

The client-side rate limit (:mod:`~airflow_provider_lms.http.ratelimit`) counts one process's requests.
Two mapped tasks on two Celery workers, each within "the limit", send twice the limit between them, and
the platform answers 429 to half of it. A limit that holds across processes needs a store they all reach.

**Why Redis.** Airflow 3 tasks cannot reach the metadata database (the Task Execution API stands between
them), and a Celery deployment already runs Redis as its broker; a Kubernetes deployment adds one small
Redis (or points at the broker's). Everything here is a few keys per credential, each with an expiry, so
nothing needs cleaning up and a Redis restart only forgets the current window.

**What is shared**, per key ``"<conn type>:<conn id>"`` (the client's ``limiter_key``):

* the **sliding window**: a sorted set of request start times (Redis's own clock, so the workers' clocks
  need not agree), trimmed, counted and added to by one Lua script, so that two processes can never both
  take the last slot;
* the **pause**: when the platform answers 429 with ``Retry-After``, every request of every process waits
  until then (a key with that expiry), instead of each request finding out on its own;
* the **circuit** (:class:`~airflow_provider_lms.http.breaker.BreakerStore`): failures in a row and the
  trip, so that a key revoked in one task stops the others. A trip expires (``shared_trip_ttl``), so a task
  retry minutes later starts with the circuit closed.

Switched on per connection with the extra ``shared_limit_url`` (``redis://host:6379/0``; a password in
it is never logged: :func:`redact_url`). Without it the client keeps today's in-process behaviour.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import threading
import time
import uuid
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_lms.http.auth import mask
from airflow_provider_lms.http.breaker import Trip
from airflow_provider_lms.http.errors import LmsInputError, LmsTransportError

__all__ = ["SharedLimitStore", "SharedWindowLimiter", "redact_url", "shared_store_for", "validate_shared_url"]

#: Every key this module writes starts with this, so an operator can find (or flush) them.
PREFIX = "lms:limit:"

# KEYS: window, pause. ARGV: max requests (0: no window, only the pause), window in microseconds, a unique
# member. Returns 0 when the request may start (and is recorded), else the microseconds to wait.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return paused * 1000
end
if tonumber(ARGV[1]) == 0 then
  return 0
end
local period = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(period / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1000, tonumber(oldest[2]) + period - now)
"""

# KEYS: pause. ARGV: milliseconds. Only ever lengthens a pause: a shorter Retry-After from a request that
# was answered earlier must not cut short the wait a later answer asked for.
_PAUSE = """
local left = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[1])
if left < want then
  redis.call('SET', KEYS[1], '1', 'PX', want)
  return want
end
return left
"""

# KEYS: failures. ARGV: expiry in seconds. Failures in a row, forgotten after the expiry.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return n
"""


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}{port}", parts.path, parts.query, parts.fragment))


def validate_shared_url(value: str, *, field: str = "shared_limit_url") -> str:
    """Return ``value`` stripped, or raise :class:`LmsInputError` naming ``field`` (never echoing a password)."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise LmsInputError(field, f"{redact_url(text)!r} is not a redis://, rediss:// or unix:// URL")
    if parts.scheme != "unix" and not parts.hostname:
        raise LmsInputError(field, f"{redact_url(text)!r} has no host name")
    return text


class SharedLimitStore:
    """The Redis keys one credential's limit, pause and circuit live in (see the module docstring).

    :param url: the Redis URL (``redis://[:password@]host:port/db``).
    :param trip_ttl: seconds a circuit trip (and a failure count) is remembered.
    :param client: a ready ``redis.Redis`` (tests); built from ``url`` when omitted.
    """

    def __init__(self, url: str, *, trip_ttl: float = 60.0, client: Any = None) -> None:
        self.url = url
        self.where = redact_url(url)
        self.trip_ttl = max(1, int(trip_ttl))
        if client is None:
            try:
                import redis
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise LmsInputError(
                    "shared_limit_url", "needs the redis package: pip install 'airflow-provider-lms[scaleout]'"
                ) from exc
            # Short timeouts: Redis on the same network answers in well under a millisecond, and a store
            # that hangs must not hang every request of every task.
            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        self.redis = client
        self._reserve = client.register_script(_RESERVE)
        self._pause = client.register_script(_PAUSE)
        self._count = client.register_script(_COUNT)
        # A member must be unique per request across every process: host, pid, a per-store nonce, a counter.
        self._ids = itertools.count()
        self._nonce = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return fn(*args, **kwargs)
        except redis.RedisError as exc:
            # The request is not sent: guessing at the platform's limit would break the promise this store
            # makes. The error names the store (without its password), not the platform.
            raise LmsTransportError(
                f"the shared limit store {self.where} failed ({what}: {type(exc).__name__})", sent=False, kind="other"
            ) from None

    # -- the window and the pause ----------------------------------------------------------------------
    def reserve(self, key: str, max_requests: int, period: float) -> float:
        """Record one request start for ``key`` and return 0, or return the seconds to wait first."""
        member = f"{self._nonce}-{next(self._ids)}"
        keys = [f"{PREFIX}window:{key}:{max_requests}:{period:g}", f"{PREFIX}pause:{key}"]
        wait_us = self._call("reserve", self._reserve, keys=keys, args=[max_requests, int(period * 1e6), member])
        return float(wait_us) / 1e6

    def pause(self, key: str, seconds: float) -> None:
        """Make every request for ``key``, in every process, wait ``seconds`` from now (never shortens)."""
        if seconds > 0:
            self._call("pause", self._pause, keys=[f"{PREFIX}pause:{key}"], args=[max(1, int(seconds * 1000))])

    def paused_for(self, key: str) -> float:
        """Seconds left of ``key``'s pause (0 when none)."""
        left = self._call("pause", self.redis.pttl, f"{PREFIX}pause:{key}")
        return max(0.0, float(left) / 1000)

    # -- the circuit (BreakerStore) --------------------------------------------------------------------
    def tripped(self, key: str) -> Trip | None:
        raw = self._call("circuit", self.redis.get, f"{PREFIX}trip:{key}")
        if raw is None:
            return None
        return Trip(**json.loads(raw))

    def count_failure(self, key: str) -> int:
        return int(self._call("circuit", self._count, keys=[f"{PREFIX}failures:{key}"], args=[self.trip_ttl]))

    def reset(self, key: str) -> None:
        self._call("circuit", self.redis.delete, f"{PREFIX}failures:{key}")

    def trip(self, trip: Trip) -> Trip:
        name = f"{PREFIX}trip:{trip.key}"
        self._call("circuit", self.redis.set, name, json.dumps(asdict(trip)), nx=True, ex=self.trip_ttl)
        return self.tripped(trip.key) or trip


class SharedWindowLimiter:
    """The client's limiter when the limit is shared: the same calls as the in-process one.

    :param store: the Redis store.
    :param key: the credential's key (``"<conn type>:<conn id>"``).
    :param max_requests: the most requests per window, across every process (``None``: no client-side
        window; the platform's pause is still shared).
    :param period: the window length in seconds.
    :param slack: extra seconds added to the window, for the time between our send and the platform's receipt.
    """

    def __init__(
        self, store: SharedLimitStore, key: str, max_requests: int | None, period: float, *, slack: float = 0.25
    ) -> None:
        self.store = store
        self.key = key
        self.max_requests = max_requests or 0
        self.period = period + slack
        self.waited_seconds = 0.0
        self._lock = threading.Lock()

    def _note(self, waited: float) -> float:
        with self._lock:
            self.waited_seconds += waited
        return waited

    def acquire(self) -> float:
        """Block until a request may start (window and pause); return the seconds waited."""
        waited = 0.0
        while (wait := self.store.reserve(self.key, self.max_requests, self.period)) > 0:
            time.sleep(wait)
            waited += wait
        return self._note(waited)

    async def aacquire(self) -> float:
        """The async twin of :meth:`acquire` (the Redis call itself is a sub-millisecond round trip)."""
        waited = 0.0
        while (wait := self.store.reserve(self.key, self.max_requests, self.period)) > 0:
            await asyncio.sleep(wait)
            waited += wait
        return self._note(waited)

    def pause(self, seconds: float) -> None:
        """The platform said "retry after ``seconds``": every process waits that long."""
        self.store.pause(self.key, seconds)


_stores: dict[tuple[str, float], SharedLimitStore] = {}
_stores_lock = threading.Lock()


def shared_store_for(url: str, *, trip_ttl: float = 60.0) -> SharedLimitStore:
    """The process-wide store for ``url`` (one Redis connection pool per URL), created on first use."""
    with _stores_lock:
        store = _stores.get((url, trip_ttl))
        if store is None:
            store = _stores[(url, trip_ttl)] = SharedLimitStore(url, trip_ttl=trip_ttl)
        else:
            return store
    # Outside the lock: in the triggerer, masking suspends this coroutine (see http/auth.py ``mask``).
    mask(urlsplit(url).password)
    return store

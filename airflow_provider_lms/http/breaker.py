"""The circuit breaker a bulk run's items share: an outage or a revoked key stops the run within seconds.

Without it, every item of a run against a dead platform spends its own retries (1,000 items x 7 attempts
with backoff: an hour and a half), and a revoked key is tried once per item. With it:

* **401 or 403** opens the circuit at once: a key that was refused will not heal within the run;
* **connection failures** (refused, a host name that does not resolve, connect/read timeouts and the
  request deadline) open it after ``ClientSettings.circuit_failures`` in a row; any answer from the host
  (even a 5xx) resets the count, so a flaky platform is retried as before and an absent one is not.

Once open, no request of the run is sent any more (:class:`~airflow_provider_lms.http.errors.LmsCircuitOpenError`),
sleeping retries wake up, and the bulk runner marks every item it has not started ``not_attempted``: a
retry of the task redoes them. There is no half-open state: a bulk run ends; waits (sensors, triggers)
ride out outages on their own terms and use no breaker.

**Where the state lives.** A :class:`CircuitBreaker` holds the policy; its counts and its trip live in a
:class:`BreakerStore`, keyed by the client's ``circuit_key`` (``"<conn type>:<conn id>"``, the same key as
the rate limit's). By default the store is in-process (:class:`InProcessBreakerStore`, one per run). A
connection with a shared limit (``shared_limit_url``) passes its Redis store
(:class:`~airflow_provider_lms.http.shared.SharedLimitStore`) with each call instead, so that a revoked key
seen by one task stops every task that uses it; that store expires its trips (``shared_trip_ttl``), so a
task retry after the outage starts closed.

The client finds the breaker of the run it serves through a context variable (:func:`guarded_by`), the
way it finds the item's retry recorder: hooks and operators need not pass it along.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from airflow_provider_lms.http.errors import LmsCircuitOpenError, LmsError, LmsTransportError

__all__ = [
    "BreakerStore",
    "CircuitBreaker",
    "InProcessBreakerStore",
    "Trip",
    "current_breaker",
    "guarded_by",
]

#: Transport failures that say "nobody answers there" (not "the answer was bad").
CONNECTION_KINDS = frozenset({"refused", "dns", "timeout"})


@dataclass(frozen=True)
class Trip:
    """Why a circuit opened.

    :param key: the circuit key (connection) it opened for.
    :param where: the host (and port) the failures were against.
    :param cause: ``"connection"`` or ``"credentials"``.
    :param failures: how many failures in a row opened it.
    :param last_error: the error that opened it, as text (free of secrets, like every ``LmsError``).
    :param trip_id: tells this trip from another with the same text (a shared store returns copies).
    """

    key: str
    where: str
    cause: str
    failures: int
    last_error: str
    trip_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def describe(self) -> str:
        """One readable line, e.g. ``circuit open after 5 connection failures to 127.0.0.1:9``."""
        if self.cause == "credentials":
            return f"circuit open: {self.where} refused the credentials ({self.last_error})"
        return f"circuit open after {self.failures} connection failures to {self.where} (last: {self.last_error})"


class BreakerStore(Protocol):
    """Where a breaker keeps its failure counts and trips; the seam for a store shared across workers."""

    def tripped(self, key: str) -> Trip | None:
        """The trip of ``key``, if its circuit is open."""

    def count_failure(self, key: str) -> int:
        """Add one connection failure for ``key``; return the failures in a row."""

    def reset(self, key: str) -> None:
        """The host answered: the failures in a row start again from zero."""

    def trip(self, trip: Trip) -> Trip:
        """Open ``trip.key``'s circuit; return the trip that holds (the first one wins)."""


class InProcessBreakerStore:
    """A :class:`BreakerStore` in this process's memory, safe across threads and event loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._trips: dict[str, Trip] = {}

    def tripped(self, key: str) -> Trip | None:
        return self._trips.get(key)

    def count_failure(self, key: str) -> int:
        with self._lock:
            self._failures[key] = n = self._failures.get(key, 0) + 1
            return n

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def trip(self, trip: Trip) -> Trip:
        with self._lock:
            return self._trips.setdefault(trip.key, trip)


def _classify(error: BaseException | None) -> str:
    """``"ok"`` (the host answered), ``"connection"`` (nobody answered) or ``"credentials"`` (401/403)."""
    if isinstance(error, LmsTransportError) and error.kind in CONNECTION_KINDS:
        return "connection"
    # By HTTP status only: a platform-level "forbidden" inside a 200 answer (GraphQL) is one record's
    # permission, not a revoked key.
    if isinstance(error, LmsError) and error.status in (401, 403):
        return "credentials"
    return "ok"


class CircuitBreaker:
    """The circuit of one bulk run (see the module docstring).

    :param store: where counts and trips live (default: a fresh in-process store, i.e. this run only).
    :param threshold: connection failures in a row that open the circuit, when the client gives none.
    """

    def __init__(self, *, store: BreakerStore | None = None, threshold: int = 5) -> None:
        self.store: BreakerStore = store if store is not None else InProcessBreakerStore()
        self.threshold = threshold
        self._opened = threading.Event()
        self._first: Trip | None = None
        self._lock = threading.Lock()

    @property
    def trip_info(self) -> Trip | None:
        """The first trip of this run, or None while the circuit is closed."""
        return self._first

    @property
    def is_open(self) -> bool:
        """Whether any circuit of this run has opened."""
        return self._opened.is_set()

    def check(self, key: str, *, platform: str | None = None, store: BreakerStore | None = None) -> None:
        """Raise :class:`LmsCircuitOpenError` when ``key``'s circuit is open (before a request is sent).

        :param store: the connection's shared store, used instead of the run's own when given.
        """
        trip = (store or self.store).tripped(key)
        if trip is not None:
            self._note(trip)
            raise LmsCircuitOpenError(trip.describe(), platform=platform)

    def record(
        self,
        key: str,
        where: str,
        error: BaseException | None,
        *,
        threshold: int | None = None,
        store: BreakerStore | None = None,
    ) -> None:
        """Count one request's outcome: None (an answer), or the error it ended with.

        :param store: the connection's shared store, used instead of the run's own when given.
        """
        kind = _classify(error)
        where_kept = store or self.store
        if kind == "ok":
            where_kept.reset(key)
            return
        failures = 1
        if kind == "connection":
            failures = where_kept.count_failure(key)
            if failures < (threshold or self.threshold):
                return
        new = Trip(key, where, kind, failures, str(error))
        trip = where_kept.trip(new)
        if isinstance(error, LmsError) and trip == new:
            error.opened_circuit = True  # the bulk runner names this item first in its summary
        self._note(trip)

    def _note(self, trip: Trip) -> None:
        with self._lock:
            if self._first is None:
                self._first = trip
        self._opened.set()

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when the circuit opens meanwhile (a retry's backoff)."""
        self._opened.wait(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        """The async twin of :meth:`sleep`: wakes within a quarter second of the circuit opening."""
        end = time.monotonic() + max(0.0, seconds)
        while not self.is_open and (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.25))


_active: ContextVar[CircuitBreaker | None] = ContextVar("lms_circuit_breaker", default=None)


def current_breaker() -> CircuitBreaker | None:
    """The breaker of the bulk run this code runs for, if any."""
    return _active.get()


@contextmanager
def guarded_by(breaker: CircuitBreaker | None) -> Iterator[CircuitBreaker | None]:
    """Make the client consult ``breaker`` for every request made inside the block."""
    token = _active.set(breaker)
    try:
        yield breaker
    finally:
        _active.reset(token)

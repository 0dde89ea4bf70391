"""A client-side sliding-window rate limit, shared by every client of one connection in a process.

This limiter counts one process's requests; :mod:`airflow_provider_lms.http.shared` holds the same window
in Redis for every process that uses one credential (the connection extra ``shared_limit_url``).

A sliding window (not a token bucket) because the platforms count "N requests in any T seconds":
a bucket that refills continuously would, after a full burst, send request N+1 while the server's
window still holds N, and earn the very 429 we are trying to avoid.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

__all__ = ["SlidingWindowLimiter", "limiter_for"]


class SlidingWindowLimiter:
    """Allow at most ``max_requests`` starts in any ``period`` seconds.

    Safe to share between threads and event loops: the lock is only held to read and record
    timestamps, never while waiting.

    :param max_requests: the most requests per window.
    :param period: the window length in seconds.
    :param slack: extra seconds added to the window, to absorb the difference between our send time
        and the platform's receive time.
    """

    def __init__(self, max_requests: int, period: float, *, slack: float = 0.25) -> None:
        self.max_requests = max_requests
        self.period = period + slack
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """The platform answered 429 with ``Retry-After: seconds``: every request of this limiter waits that
        long, not only the one that was refused (the others would only earn 429s of their own meanwhile)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + max(0.0, seconds))

    def _reserve(self) -> float:
        """Record a request and return 0, or return how long to wait before trying again."""
        with self._lock:
            now = time.monotonic()
            if now < self._paused_until:
                return self._paused_until - now
            horizon = now - self.period
            while self._stamps and self._stamps[0] <= horizon:
                self._stamps.popleft()
            if len(self._stamps) < self.max_requests:
                self._stamps.append(now)
                return 0.0
            return self._stamps[0] - horizon

    def acquire(self) -> float:
        """Block until a request may start; return the seconds waited."""
        waited = 0.0
        while (wait := self._reserve()) > 0:
            time.sleep(wait)
            waited += wait
        self.waited_seconds += waited
        return waited

    async def aacquire(self) -> float:
        """Wait (without blocking the event loop) until a request may start; return the seconds waited."""
        waited = 0.0
        while (wait := self._reserve()) > 0:
            await asyncio.sleep(wait)
            waited += wait
        self.waited_seconds += waited
        return waited


_registry: dict[tuple[str, int, float, float], SlidingWindowLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(key: str, max_requests: int, period: float, *, slack: float = 0.25) -> SlidingWindowLimiter:
    """The process-wide limiter for ``key`` (one per connection and limit), created on first use."""
    with _registry_lock:
        ident = (key, max_requests, period, slack)
        limiter = _registry.get(ident)
        if limiter is None:
            limiter = _registry[ident] = SlidingWindowLimiter(max_requests, period, slack=slack)
        return limiter

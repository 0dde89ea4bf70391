"""Eduframe's per-token rate limit (FACTS.md: 500 requests per 5 minutes), as a sliding window."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

__all__ = ["DEFAULT_RATE_LIMIT_REQUESTS", "DEFAULT_RATE_LIMIT_SECONDS", "SlidingWindowRateLimiter"]

#: FACTS.md: 500 requests per 5 minutes per token.
DEFAULT_RATE_LIMIT_REQUESTS = 500
DEFAULT_RATE_LIMIT_SECONDS = 300.0


class SlidingWindowRateLimiter:
    """Per-key sliding-window limit: at most ``max_requests`` in any ``per_seconds`` window.

    :param max_requests: Requests allowed per window.
    :param per_seconds: Window length in seconds.
    :param monotonic: Time source (real time, not the sandbox clock: limits are about wall time).
    """

    def __init__(self, max_requests: int, per_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._monotonic = monotonic
        self._hits: dict[str, deque[float]] = {}

    def configure(self, max_requests: int, per_seconds: float) -> None:
        """Change the limit and forget past requests, so the new limit starts from a clean window."""
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._hits.clear()

    def hit(self, key: str) -> int | None:
        """Record a request; return ``None`` if allowed, else the whole seconds to wait (>= 1)."""
        now = self._monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.per_seconds:
            hits.popleft()
        if len(hits) >= self.max_requests:
            # ASSUMPTION: rejected requests do not count against the window (only served ones do).
            return max(1, math.ceil(hits[0] + self.per_seconds - now))
        hits.append(now)
        return None

"""Everything one sandbox instance remembers: per-platform data, faults, the request log, the clock."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from airflow_provider_lms.sandbox._common import utc_now
from airflow_provider_lms.sandbox.eduframe import (
    DEFAULT_RATE_LIMIT_REQUESTS,
    DEFAULT_RATE_LIMIT_SECONDS,
    EDUFRAME_SANDBOX_API_KEY,
    EduframeState,
)
from airflow_provider_lms.sandbox.faults import FaultInjector
from airflow_provider_lms.sandbox.request_log import RequestLog


class PlatformState(Protocol):
    """What ``SandboxState`` needs from a platform's state object."""

    def reset(self) -> None:
        """Drop all data and reseed the platform's demo data."""


class SandboxState:
    """The state behind one sandbox app: one attribute per platform, plus shared machinery.

    To add a platform, create its state in ``__init__`` (``self.<name> = <Name>State(clock=self.now)``)
    and list it in ``platforms()``; ``reset()`` then covers it.

    The app serves requests on a single event loop and its handlers never await while changing data, so
    requests do not interleave; code on other threads (tests) should change state through the control
    API, or hold ``lock``, which ``reset()`` also takes.

    :param eduframe_api_keys: Bearer keys the Eduframe double accepts (default: the sandbox key).
    :param eduframe_rate_limit: ``(max_requests, per_seconds)`` per token for Eduframe.
    :param request_log_size: How many requests the log keeps.
    """

    def __init__(
        self,
        *,
        eduframe_api_keys: Iterable[str] = (EDUFRAME_SANDBOX_API_KEY,),
        eduframe_rate_limit: tuple[int, float] = (DEFAULT_RATE_LIMIT_REQUESTS, DEFAULT_RATE_LIMIT_SECONDS),
        request_log_size: int = 1000,
    ) -> None:
        self.lock = threading.RLock()
        #: Added to the wall clock; moves the sandbox's "now" forward (``POST /_sandbox/clock/advance``).
        self.clock_offset = timedelta(0)
        self.faults = FaultInjector()
        self.request_log = RequestLog(maxlen=request_log_size)
        self.eduframe = EduframeState(
            clock=self.now,
            api_keys=eduframe_api_keys,
            rate_limit_requests=eduframe_rate_limit[0],
            rate_limit_seconds=eduframe_rate_limit[1],
        )

        # The other platforms' states come from their mounts (see sandbox/platforms.py).
        from airflow_provider_lms.sandbox.platforms import load_mounts

        self._platform_states: dict[str, PlatformState] = {
            m.name: m.state_factory(self.now) for m in load_mounts() if m.state_factory is not None
        }

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally: ``state.anewspring`` and the like.
        states = self.__dict__.get("_platform_states", {})
        if name in states:
            return states[name]
        raise AttributeError(name)

    def platforms(self) -> dict[str, PlatformState]:
        """Every platform's state by name."""
        return {"eduframe": self.eduframe, **self._platform_states}

    def now(self) -> datetime:
        """The sandbox clock: UTC wall time plus ``clock_offset``."""
        return utc_now() + self.clock_offset

    def advance_clock(self, seconds: float) -> datetime:
        """Move the sandbox clock forward (e.g. to let auto-progress complete enrollments)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.clock_offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        """Back to the seeded demo data, no faults, an empty request log and the real clock."""
        with self.lock:
            self.clock_offset = timedelta(0)
            self.faults.reset()
            self.request_log.clear()
            for platform in self.platforms().values():
                platform.reset()

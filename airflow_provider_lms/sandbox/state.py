"""Everything one sandbox instance remembers: per-platform data, faults, the request log, the clock."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Protocol

from airflow_provider_lms.sandbox._common import utc_now
from airflow_provider_lms.sandbox.faults import FaultInjector
from airflow_provider_lms.sandbox.platforms import load_mounts
from airflow_provider_lms.sandbox.request_log import RequestLog


class PlatformState(Protocol):
    """What ``SandboxState`` needs from a platform's state object."""

    def reset(self) -> None:
        """Drop all data and reseed the platform's demo data."""


class SandboxState:
    """The state behind one sandbox app: one state per platform, plus shared machinery.

    Each platform's state comes from its mount's ``state_factory`` (see ``sandbox/platforms.py``) and is
    reachable as ``platform(<name>)``, or as the attribute ``<name>``; ``reset()`` covers every one.

    The app serves requests on a single event loop and its handlers never await while changing data, so
    requests do not interleave; code on other threads (tests) should change state through the control
    API, or hold ``lock``, which ``reset()`` also takes.

    :param request_log_size: How many requests the log keeps.
    """

    def __init__(self, *, request_log_size: int = 1000) -> None:
        self.lock = threading.RLock()
        #: Added to the wall clock; moves the sandbox's "now" forward (``POST /_sandbox/clock/advance``).
        self.clock_offset = timedelta(0)
        self.faults = FaultInjector()
        self.request_log = RequestLog(maxlen=request_log_size)
        self._platform_states: dict[str, PlatformState] = {
            m.name: m.state_factory(self.now) for m in load_mounts() if m.state_factory is not None
        }

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally: ``state.<platform>``.
        states = self.__dict__.get("_platform_states", {})
        if name in states:
            return states[name]
        raise AttributeError(name)

    def platform(self, name: str) -> Any:
        """The state of the platform called ``name``."""
        try:
            return self._platform_states[name]
        except KeyError:
            raise KeyError(f"the sandbox serves no platform {name!r}") from None

    def platforms(self) -> dict[str, PlatformState]:
        """Every platform's state by name."""
        return dict(self._platform_states)

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

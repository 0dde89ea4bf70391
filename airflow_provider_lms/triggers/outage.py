"""How waits (sensors and triggers) live through a platform outage.

A wait may last days; a platform may be down for an hour of them. So a wait rides an outage out, up to
its own timeout, instead of failing on the first error the HTTP core gives up on:

* errors that can heal (refused connections, timeouts, dropped connections, maintenance pages, 5xx, 429:
  :func:`~airflow_provider_lms.http.errors.may_heal`) are waited out, backing off from the poll interval
  and doubling up to :data:`MAX_OUTAGE_BACKOFF`;
* errors that cannot heal (401, 403, 404, other 4xx, a host name that does not resolve) end the wait at once;
* an outage is logged twice: when it starts and when it ends, never on every poll (the HTTP core's own
  retry lines are lowered to DEBUG meanwhile, see :func:`~airflow_provider_lms.http.client.quiet_retries`).

The clock and the sleep are module functions (:func:`now`, :func:`pause`) so that a test can run a
five-minute wait on a virtual clock while the requests still go over real HTTP.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from airflow_provider_lms.http.errors import may_heal

__all__ = ["MAX_OUTAGE_BACKOFF", "OutageWatch", "now", "pause"]

# ASSUMPTION: no platform documents how often a client may probe while it is down; five minutes between
# probes (or the poll interval, when longer) notices the end of an outage soon without hammering it.
MAX_OUTAGE_BACKOFF = 300.0


def now() -> float:
    """The wall clock of waits (a UNIX timestamp, comparable with a sensor's ``end_time``)."""
    return time.time()


async def pause(seconds: float) -> None:
    """Sleep between polls."""
    await asyncio.sleep(seconds)


class OutageWatch:
    """Tracks the outage one wait is in, if any: what to log, and how long to back off.

    :param log: the sensor's or trigger's logger.
    :param what: what is waited on, for the log lines (e.g. ``"enrollment 11 on Eduframe"``).
    :param poll_interval: the wait's normal interval; backoff starts there.
    """

    def __init__(self, log: Any, what: str, poll_interval: float) -> None:
        self.log = log
        self.what = what
        self.poll_interval = max(0.0, float(poll_interval))
        self.since: float | None = None
        self.failures = 0
        self.last_error: str | None = None

    @staticmethod
    def heals(exc: BaseException) -> bool:
        """Whether waiting may fix ``exc`` (see the module docstring)."""
        return may_heal(exc)

    def failed(self, exc: BaseException) -> float:
        """Note a poll that failed with a healable error; return the seconds to wait before the next one."""
        self.failures += 1
        self.last_error = str(exc)
        if self.since is None:
            self.since = now()
            self.log.warning(
                "%s: the platform is unavailable (%s); waiting it out, polling with backoff", self.what, exc
            )
        cap = max(self.poll_interval, MAX_OUTAGE_BACKOFF)
        return min(cap, max(self.poll_interval, 1.0) * 2 ** (self.failures - 1))

    def recovered(self) -> None:
        """Note a poll that got an answer; logs the end of an outage once."""
        if self.since is not None:
            self.log.warning(
                "%s: the platform answers again after %.0fs (%d failed polls)",
                self.what,
                now() - self.since,
                self.failures,
            )
        self.since = None
        self.failures = 0
        self.last_error = None

    def describe(self) -> str | None:
        """The current outage in one line, or None when there is none."""
        if self.since is None:
            return None
        return f"the platform has been unavailable for {now() - self.since:.0f}s (last error: {self.last_error})"

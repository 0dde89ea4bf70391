"""The trigger behind the deferrable LaraCyclePeriodEndedSensor: sleeps until the period's end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_lms.hooks.lara import LaraHook
from airflow_provider_lms.http.client import quiet_retries
from airflow_provider_lms.http.errors import LmsError
from airflow_provider_lms.triggers.outage import OutageWatch

__all__ = ["LaraCyclePeriodEndedTrigger"]


def period_event(hook: LaraHook, period: Any, status: str, message: str) -> TriggerEvent:
    """One event with the period as JSON and its computed end."""
    return TriggerEvent(
        {
            "status": status,
            "message": message,
            "period": period.model_dump(mode="json", by_alias=True),
            "period_start": period.start(hook.tz).isoformat(),
            "period_end": hook.period_end(period).isoformat(),
        }
    )


class LaraCyclePeriodEndedTrigger(BaseTrigger):
    """Sleep until a cycle period's computed end, then read the period again and finish if it has ended.

    Instead of polling every minute it sleeps until the end it was given (at most ``max_sleep``
    seconds at a time). On waking it reads the period again: an administrator may have moved its start
    or changed its duration, in which case it sleeps on until the new end. It yields exactly one event:
    ``success`` (with the period and its end), ``failed`` (the period was deleted), ``timeout`` or ``error``.
    An outage of Lära when it wakes is ridden out up to ``end_time`` (:mod:`airflow_provider_lms.triggers.outage`);
    401, 403, 404 and a host name that does not resolve end the wait with ``error`` at once.

    :param lms_conn_id: the Lära connection.
    :param cycle_id: the cycle (règlement).
    :param cycle_period_id: the period to wait for.
    :param period_end: the end computed when the sensor deferred, as a UNIX timestamp.
    :param end_time: a UNIX timestamp after which the trigger gives up, or None.
    :param max_sleep: the longest single sleep in seconds, so that an edit that ends the period earlier
        is noticed within that time (default 6 hours).
    """

    def __init__(
        self,
        lms_conn_id: str,
        cycle_id: str,
        cycle_period_id: str,
        period_end: float,
        end_time: float | None = None,
        max_sleep: float = 6 * 3600.0,
    ) -> None:
        super().__init__()
        self.lms_conn_id = lms_conn_id
        self.cycle_id = cycle_id
        self.cycle_period_id = cycle_period_id
        self.period_end = period_end
        self.end_time = end_time
        self.max_sleep = max_sleep

    def serialize(self) -> tuple[str, dict[str, Any]]:
        # JSON-safe values only (trigger kwargs go through airflow.sdk.serde): the end is a float
        # timestamp, not a pendulum DateTime.
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "lms_conn_id": self.lms_conn_id,
                "cycle_id": self.cycle_id,
                "cycle_period_id": self.cycle_period_id,
                "period_end": self.period_end,
                "end_time": self.end_time,
                "max_sleep": self.max_sleep,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = LaraHook(self.lms_conn_id)
        end = float(self.period_end)
        watch = OutageWatch(self.log, f"Lära period {self.cycle_period_id}", 60.0)
        try:
            while True:
                now = time.time()
                if self.end_time is not None and now >= self.end_time:
                    yield TriggerEvent({"status": "timeout", "message": "gave up waiting for the period to end"})
                    return
                if now < end:
                    nap = min(end - now, max(1.0, float(self.max_sleep)))
                    if self.end_time is not None:
                        nap = min(nap, max(0.0, self.end_time - now))
                    self.log.info("period %s ends in %.0fs; sleeping %.0fs", self.cycle_period_id, end - now, nap)
                    await asyncio.sleep(nap)
                # Awake: read the period again, it may have been edited while we slept.
                try:
                    with quiet_retries():
                        period = await hook.aget_period(self.cycle_id, self.cycle_period_id)
                except LmsError as exc:
                    if not watch.heals(exc):
                        raise
                    delay = watch.failed(exc)
                    if self.end_time is not None:
                        delay = min(delay, max(0.0, self.end_time - time.time()))
                    await asyncio.sleep(delay)
                    continue
                watch.recovered()
                new_end = hook.period_end(period)
                if period.is_deleted:
                    yield period_event(hook, period, "failed", f"period {self.cycle_period_id} was deleted")
                    return
                if time.time() >= new_end.timestamp():
                    yield period_event(hook, period, "success", f"period {self.cycle_period_id} ended at {new_end}")
                    return
                if abs(new_end.timestamp() - end) > 0.5:
                    self.log.info("period %s was edited: it now ends at %s", self.cycle_period_id, new_end)
                end = new_end.timestamp()
        except LmsError as exc:
            # The core has already retried; report instead of crashing the triggerer.
            yield TriggerEvent({"status": "error", "message": str(exc)})
        except Exception as exc:
            yield TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
        finally:
            await hook.aclose()

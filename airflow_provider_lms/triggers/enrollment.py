"""The trigger behind the deferrable EnrollmentCompletedSensor: polls through the async client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_lms.hooks.base import EnrollmentRef, LmsHook
from airflow_provider_lms.hooks.registry import aget_lms_hook
from airflow_provider_lms.http.client import quiet_retries
from airflow_provider_lms.http.errors import LmsError, LmsTransportError
from airflow_provider_lms.models.state import NormalizedEnrollment, completion_verdict
from airflow_provider_lms.triggers import outage

__all__ = ["EnrollmentCompletedTrigger"]


class EnrollmentCompletedTrigger(BaseTrigger):
    """Poll one enrollment until it completes, can never complete, or time runs out.

    It yields exactly one event: ``status`` is ``success`` (with the normalized enrollment),
    ``failed`` (canceled, expired, or not passed when a pass was required), ``timeout`` or ``error``.

    A platform outage is ridden out up to ``end_time`` (see :mod:`airflow_provider_lms.triggers.outage`):
    refused connections, timeouts, 5xx and 429 are waited out with backoff and logged once when the outage
    starts and once when it ends; 401, 403, 404 and a host name that does not resolve end the wait at once
    with an ``error`` event. An outage still going at ``end_time`` ends it with ``timeout``, naming the outage.

    :param lms_conn_id: the platform connection.
    :param enrollment: the enrollment reference as ``{"enrollment_id", "learner_id", "course_id"}``.
    :param require_passed: wait for a pass, not just completion.
    :param poll_interval: seconds between polls.
    :param end_time: a UNIX timestamp after which the trigger gives up, or None.
    :param completed_since: ISO 8601; completions before it do not count (re-certification).
    """

    def __init__(
        self,
        lms_conn_id: str,
        enrollment: dict[str, Any],
        require_passed: bool = False,
        poll_interval: float = 60.0,
        end_time: float | None = None,
        completed_since: str | None = None,
    ) -> None:
        super().__init__()
        self.lms_conn_id = lms_conn_id
        self.enrollment = enrollment
        self.require_passed = require_passed
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.completed_since = completed_since

    def serialize(self) -> tuple[str, dict[str, Any]]:
        # Only JSON-safe values: since Airflow 3.2 trigger kwargs go through airflow.sdk.serde, and
        # the reference is passed as a plain dict rather than an EnrollmentRef for that reason.
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "lms_conn_id": self.lms_conn_id,
                "enrollment": self.enrollment,
                "require_passed": self.require_passed,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "completed_since": self.completed_since,
            },
        )

    async def _poll(self, hook: LmsHook, ref: EnrollmentRef) -> NormalizedEnrollment:
        """One read of the enrollment, bounded by ``end_time`` (a hung platform must not outlive the wait)."""
        with quiet_retries():
            if self.end_time is None:
                return await hook.aget_enrollment_state(ref)
            left = max(0.1, self.end_time - outage.now())
            return await asyncio.wait_for(hook.aget_enrollment_state(ref), left)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = None
        try:
            ref = EnrollmentRef(**self.enrollment)
            hook = await aget_lms_hook(self.lms_conn_id)
            watch = outage.OutageWatch(self.log, f"{ref!r} on {hook.platform}", self.poll_interval)
            last_reason = None
            while True:
                try:
                    enrollment = await self._poll(hook, ref)
                except (LmsError, asyncio.TimeoutError) as exc:
                    if isinstance(exc, LmsError) and not watch.heals(exc):
                        raise
                    delay = watch.failed(exc if isinstance(exc, LmsError) else _deadline_error(hook))
                else:
                    watch.recovered()
                    verdict, reason = completion_verdict(
                        enrollment, require_passed=self.require_passed, completed_since=self.completed_since
                    )
                    if reason != last_reason:  # a state change, not every poll
                        self.log.info("%s", reason)
                        last_reason = reason
                    if verdict != "wait":
                        status = "success" if verdict == "done" else "failed"
                        dump = enrollment.model_dump(mode="json")
                        yield TriggerEvent({"status": status, "message": reason, "enrollment": dump})
                        return
                    delay = self.poll_interval
                if self.end_time is not None and outage.now() + delay > self.end_time:
                    if watch.since is None or outage.now() >= self.end_time:
                        why = watch.describe() or last_reason
                        yield TriggerEvent({"status": "timeout", "message": f"gave up waiting: {why}"})
                        return
                    delay = max(0.0, self.end_time - outage.now())  # one last try at the very end
                await outage.pause(delay)
        except LmsError as exc:
            # Cannot heal (or bad input): report instead of crashing the triggerer.
            yield TriggerEvent({"status": "error", "message": str(exc)})
        except Exception as exc:
            yield TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
        finally:
            if hook is not None:
                await hook.aclose()


def _deadline_error(hook: LmsHook) -> LmsError:
    return LmsTransportError("no answer before the wait's end", kind="timeout", platform=hook.platform)

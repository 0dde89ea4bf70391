"""The trigger behind the deferrable EnrollmentCompletedSensor: polls through the async client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_lms.hooks.base import EnrollmentRef, LmsHook
from airflow_provider_lms.hooks.rosters import roster_entry
from airflow_provider_lms.http.client import quiet_retries
from airflow_provider_lms.http.errors import LmsError, LmsTransportError
from airflow_provider_lms.models.state import NormalizedEnrollment, completion_verdict
from airflow_provider_lms.triggers import outage
from airflow_provider_lms.triggers.shared_poll import HookLease, Waiter, shared_polls

__all__ = ["EnrollmentCompletedTrigger"]

# A lone poll gives its last try at the end of the wait at least 0.1 s; a shared poll's last try starts at the
# end (with the other waiters' reads), so its answer is awaited this long past the end.
LAST_TRY_SECONDS = 1.0


class EnrollmentCompletedTrigger(BaseTrigger):
    """Poll one enrollment until it completes, can never complete, or time runs out.

    It yields exactly one event: ``status`` is ``success`` (with the normalized enrollment),
    ``failed`` (canceled, expired, or not passed when a pass was required), ``timeout`` or ``error``.

    Waits share their reads (issue 18; :mod:`airflow_provider_lms.triggers.shared_poll`): every trigger of a
    triggerer process uses one hook per connection, and where the platform lists a course's enrollments in
    one call (Eduframe, aNewSpring, Pluvo) and the reference names the course, the waits on one course share
    one roster read per ``poll_interval`` (the smallest among them). Other waits poll their enrollment alone.

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

    async def _poll(self, lease: HookLease, ref: EnrollmentRef) -> NormalizedEnrollment:
        """One read of the enrollment, bounded by ``end_time`` (a hung platform must not outlive the wait)."""

        async def read() -> NormalizedEnrollment:
            async with lease.gate:  # the waits share the hook's connections: queue here, not in its pool
                return await lease.hook.aget_enrollment_state(ref)

        with quiet_retries():
            if self.end_time is None:
                return await read()
            left = max(0.1, self.end_time - outage.now())
            return await asyncio.wait_for(read(), left)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        polls = shared_polls()
        lease: HookLease | None = None
        waiter: Waiter | None = None
        final: TriggerEvent | None = None
        try:
            ref = EnrollmentRef(**self.enrollment)
            lease = await polls.acquire_hook(self.lms_conn_id)
            hook = lease.hook
            watch = outage.OutageWatch(self.log, f"{ref!r} on {hook.platform}", self.poll_interval)
            entry = roster_entry(hook, ref)
            if entry is None:  # no course roster answers for this ref: poll it on its own
                events = self._wait_alone(lease, ref, watch)
            else:
                waiter = polls.wait_on(lease, entry[0], entry[1], ref, self.poll_interval)
                events = self._wait_shared(waiter, hook, watch)
            async with contextlib.aclosing(events):
                async for event in events:
                    final = event
                    break
        except LmsError as exc:
            # Cannot heal (or bad input): report instead of crashing the triggerer.
            final = TriggerEvent({"status": "error", "message": str(exc)})
        except Exception as exc:
            final = TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
        finally:
            # Before the event is handed over, and on cancellation too (Airflow cancels triggers on timeout and
            # reassignment): the course poll stops reading for this wait, and the hook is let go.
            if waiter is not None:
                waiter.leave()
            if lease is not None:
                lease.release()
        if final is not None:
            yield final

    def _judge(self, enrollment: NormalizedEnrollment, last_reason: str | None) -> tuple[TriggerEvent | None, str]:
        """The final event if the wait is over (else None), and the reason, logged when it changed."""
        verdict, reason = completion_verdict(
            enrollment, require_passed=self.require_passed, completed_since=self.completed_since
        )
        if reason != last_reason:  # a state change, not every poll
            self.log.info("%s", reason)
        if verdict == "wait":
            return None, reason
        status = "success" if verdict == "done" else "failed"
        return TriggerEvent(
            {"status": status, "message": reason, "enrollment": enrollment.model_dump(mode="json")}
        ), reason

    async def _wait_alone(
        self, lease: HookLease, ref: EnrollmentRef, watch: outage.OutageWatch
    ) -> AsyncGenerator[TriggerEvent, None]:
        """Poll the enrollment by itself every ``poll_interval`` (a platform or ref without a course roster)."""
        last_reason: str | None = None
        while True:
            try:
                enrollment = await self._poll(lease, ref)
            except (LmsError, asyncio.TimeoutError) as exc:
                if isinstance(exc, LmsError) and not watch.heals(exc):
                    raise
                delay = watch.failed(exc if isinstance(exc, LmsError) else _deadline_error(lease.hook))
            else:
                watch.recovered()
                event, last_reason = self._judge(enrollment, last_reason)
                if event is not None:
                    yield event
                    return
                delay = self.poll_interval
            if self.end_time is not None and outage.now() + delay > self.end_time:
                if watch.since is None or outage.now() >= self.end_time:
                    why = watch.describe() or last_reason
                    yield TriggerEvent({"status": "timeout", "message": f"gave up waiting: {why}"})
                    return
                delay = max(0.0, self.end_time - outage.now())  # one last try at the very end
            await outage.pause(delay)

    async def _wait_shared(
        self, waiter: Waiter, hook: LmsHook, watch: outage.OutageWatch
    ) -> AsyncGenerator[TriggerEvent, None]:
        """Take this enrollment's state from its course's shared poll, which paces the reads (shared_poll.py)."""
        last_reason: str | None = None
        grace = 0.0  # after asking for a last try at the end: the time that read may take
        while True:
            try:
                if self.end_time is None:
                    delivery = await waiter.next()
                else:
                    left = max(0.1, self.end_time - outage.now()) + grace
                    delivery = await asyncio.wait_for(waiter.next(), left)
            except asyncio.TimeoutError:
                if waiter.reading:  # the end came during a read: as a lone poll, that read had no answer in time
                    watch.failed(_deadline_error(hook))
                late = watch.describe() or last_reason or "no state was read before the wait's end"
                yield TriggerEvent({"status": "timeout", "message": f"gave up waiting: {late}"})
                return
            error = delivery.error
            if error is not None:
                # Not raised: the same error object goes to every waiter of the poll, and each raise would
                # lengthen its traceback.
                if not isinstance(error, (LmsError, asyncio.TimeoutError)):
                    yield TriggerEvent({"status": "error", "message": f"{type(error).__name__}: {error}"})
                    return
                if isinstance(error, LmsError) and not watch.heals(error):
                    yield TriggerEvent({"status": "error", "message": str(error)})
                    return
                watch.failed(error if isinstance(error, LmsError) else _deadline_error(hook))
            else:
                assert delivery.state is not None
                watch.recovered()
                event, last_reason = self._judge(delivery.state, last_reason)
                if event is not None:
                    yield event
                    return
            if self.end_time is not None and delivery.next_at > self.end_time:
                if watch.since is None or outage.now() >= self.end_time:
                    why = watch.describe() or last_reason
                    yield TriggerEvent({"status": "timeout", "message": f"gave up waiting: {why}"})
                    return
                waiter.last_try_at(self.end_time)  # one last try at the very end
                grace = LAST_TRY_SECONDS


def _deadline_error(hook: LmsHook) -> LmsError:
    return LmsTransportError("no answer before the wait's end", kind="timeout", platform=hook.platform)

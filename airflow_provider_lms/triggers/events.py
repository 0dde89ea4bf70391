"""Event triggers for ``AssetWatcher``: event-driven DAGs for users who cannot expose a webhook endpoint.

The webhook receiver (``airflow_provider_lms.webhooks``) needs Airflow's API server to be reachable from
the platform. Where it is not, a watcher polls instead; each new completion becomes one asset event::

    completions = Asset(
        "lms://eduframe/enrollment.completed",
        watchers=[AssetWatcher(name="eduframe_completions", trigger=EduframeCompletedEnrollmentsTrigger())],
    )

    @dag(schedule=[completions])
    def on_completion(): ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.http.client import quiet_retries
from airflow_provider_lms.http.errors import LmsError, LmsInputError
from airflow_provider_lms.models.eduframe import EduframeEnrollment
from airflow_provider_lms.triggers.outage import OutageWatch

__all__ = ["EduframeCompletedEnrollmentsTrigger"]


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class EduframeCompletedEnrollmentsTrigger(BaseEventTrigger):
    """Poll Eduframe for newly completed enrollments; yield one event per completion, never one twice.

    It keeps a watermark: completions whose ``updated_at`` lies before it are old news, and every
    enrollment id it has emitted is remembered, so a completed enrollment that is updated again (a grade
    added) is not emitted again. The watermark starts at ``completed_after``, or at the moment the trigger
    first runs, so that switching a watcher on does not replay history. Eduframe's ``GET /enrollments``
    has no ``updated since`` filter, so each poll pages through the completed enrollments (filtered with
    ``status=completed`` and, if given, ``planned_course_id``): keep ``poll_interval`` modest for large
    tenants, the HTTP core's rate limit guards the quota either way.

    The watermark lives in the trigger: when the triggerer restarts the trigger, it starts again from
    ``completed_after`` (or from the restart, when not given), so a restart never re-emits completions
    from before ``completed_after``, but one without it can miss completions made while it was down.
    Pin ``completed_after`` to avoid gaps; the consuming DAG should then tolerate a repeat around a restart.

    Event payload: ``{"platform": "eduframe", "event": "enrollment.completed", "enrollment_id",
    "student_id", "planned_course_id", "graduation_state", "updated_at", "enrollment"}`` (the normalized
    enrollment), or ``{"status": "error", "message"}`` when the watch cannot go on. An Eduframe outage is
    waited out, backing off, and logged once when it starts and once when it ends; what cannot heal (a bad
    setting, 401, 403, 404, a host name that does not resolve) ends the watch with that one error event.

    :param lms_conn_id: the Eduframe connection.
    :param poll_interval: seconds between polls.
    :param completed_after: ISO 8601; completions updated before it are never emitted.
    :param planned_course_id: watch only this planned course.
    """

    def __init__(
        self,
        lms_conn_id: str = "eduframe_default",
        poll_interval: float = 60.0,
        completed_after: str | None = None,
        planned_course_id: int | None = None,
    ) -> None:
        super().__init__()
        self.lms_conn_id = lms_conn_id
        self.poll_interval = poll_interval
        self.completed_after = completed_after
        self.planned_course_id = planned_course_id
        self.watermark: datetime | None = _timestamp(completed_after)
        self.emitted: set[int] = set()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        # JSON-safe kwargs only (airflow.sdk.serde); the watermark is runtime state, not configuration.
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "lms_conn_id": self.lms_conn_id,
                "poll_interval": self.poll_interval,
                "completed_after": self.completed_after,
                "planned_course_id": self.planned_course_id,
            },
        )

    async def poll(self, hook: EduframeHook) -> list[EduframeEnrollment]:
        """One poll: the completions not emitted yet, oldest first; advances the watermark."""
        if self.watermark is None:
            self.watermark = datetime.now(timezone.utc)
        fresh: list[tuple[datetime, EduframeEnrollment]] = []
        watched = hook.aiter_enrollments(status="completed", planned_course_id=self.planned_course_id)
        async for enrollment in watched:
            updated = _timestamp(enrollment.updated_at)
            if enrollment.status != "completed" or enrollment.id in self.emitted:
                continue
            if updated is None or updated < self.watermark:
                continue
            fresh.append((updated, enrollment))
        fresh.sort(key=lambda pair: (pair[0], pair[1].id))
        for updated, enrollment in fresh:
            self.emitted.add(enrollment.id)
            self.watermark = max(self.watermark, updated)
        return [enrollment for _, enrollment in fresh]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = EduframeHook(self.lms_conn_id)
        watch = OutageWatch(self.log, "watching Eduframe completions", self.poll_interval)
        try:
            while True:
                delay = self.poll_interval
                try:
                    with quiet_retries():
                        completions = await self.poll(hook)
                    watch.recovered()
                except LmsError as exc:
                    if isinstance(exc, LmsInputError) or not watch.heals(exc):
                        # A bad setting (a planned course id that is no id), a refused key: cannot heal.
                        yield TriggerEvent({"status": "error", "message": str(exc)})
                        return
                    # The core has already retried; wait the outage out, logged once, rather than die.
                    delay = watch.failed(exc)
                    completions = []
                for enrollment in completions:
                    self.log.info("enrollment %s completed (%s)", enrollment.id, enrollment.graduation_state)
                    yield TriggerEvent(
                        {
                            "platform": "eduframe",
                            "event": "enrollment.completed",
                            "enrollment_id": enrollment.id,
                            "student_id": enrollment.student_id,
                            "planned_course_id": enrollment.planned_course_id,
                            "graduation_state": enrollment.graduation_state,
                            "updated_at": enrollment.updated_at,
                            "enrollment": enrollment.normalized().model_dump(mode="json"),
                        }
                    )
                await asyncio.sleep(delay)
        finally:
            await hook.aclose()

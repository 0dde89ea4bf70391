"""The trigger behind the deferrable EnrollmentCompletedSensor: polls through the async client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.registry import aget_lms_hook
from airflow_provider_lms.http.errors import LmsError
from airflow_provider_lms.models.state import completion_verdict

__all__ = ["EnrollmentCompletedTrigger"]


class EnrollmentCompletedTrigger(BaseTrigger):
    """Poll one enrollment until it completes, can never complete, or time runs out.

    It yields exactly one event: ``status`` is ``success`` (with the normalized enrollment),
    ``failed`` (canceled, expired, or not passed when a pass was required), ``timeout`` or ``error``.

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

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = None
        try:
            ref = EnrollmentRef(**self.enrollment)
            hook = await aget_lms_hook(self.lms_conn_id)
            while True:
                enrollment = await hook.aget_enrollment_state(ref)
                verdict, reason = completion_verdict(
                    enrollment, require_passed=self.require_passed, completed_since=self.completed_since
                )
                self.log.info("%s", reason)
                if verdict != "wait":
                    status = "success" if verdict == "done" else "failed"
                    payload = {"status": status, "message": reason, "enrollment": enrollment.model_dump(mode="json")}
                    yield TriggerEvent(payload)
                    return
                if self.end_time is not None and time.time() + self.poll_interval > self.end_time:
                    yield TriggerEvent({"status": "timeout", "message": f"gave up waiting: {reason}"})
                    return
                await asyncio.sleep(self.poll_interval)
        except LmsError as exc:
            # The core has already retried; report instead of crashing the triggerer.
            yield TriggerEvent({"status": "error", "message": str(exc)})
        except Exception as exc:
            yield TriggerEvent({"status": "error", "message": f"{type(exc).__name__}: {exc}"})
        finally:
            if hook is not None:
                await hook.aclose()

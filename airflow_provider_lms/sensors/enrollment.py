"""EnrollmentCompletedSensor: wait until a learner has completed a course, on any platform."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pendulum
import pendulum.parsing.exceptions
from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException

from airflow_provider_lms.hooks.base import EnrollmentRef, LmsHook
from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.http.client import quiet_retries
from airflow_provider_lms.http.errors import LmsError, LmsInputError
from airflow_provider_lms.links import LmsPageLink, page_url
from airflow_provider_lms.models.state import completion_verdict
from airflow_provider_lms.sensors.outage_log import outage_tracker
from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger

try:
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - older task SDKs
    from airflow.configuration import conf  # type: ignore[no-redef,unused-ignore]

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["EnrollmentCompletedSensor"]


class EnrollmentCompletedSensor(BaseSensorOperator):
    """Wait until an enrollment is completed (optionally: passed).

    Name the enrollment by ``enrollment_id``, or by ``learner_id`` and ``course_id``. The sensor fails
    at once when the enrollment is canceled or expired (it can never complete), or, with
    ``require_passed``, when it completed without a pass. Works in poke, reschedule and deferrable
    mode; deferred, it holds no worker slot while it waits. Returns the normalized enrollment.

    A platform outage is waited out up to ``timeout``: refused connections, timeouts, 5xx and 429 make a
    poke answer "not yet" (logged once when the outage starts and once when it ends; in reschedule mode
    through Airflow's task state store, see :mod:`airflow_provider_lms.sensors.outage_log`); 401, 403, 404
    and a host name that does not resolve fail the task at once.

    :param lms_conn_id: the platform connection.
    :param enrollment_id: the platform's enrollment id.
    :param learner_id: the learner's id (with ``course_id``).
    :param course_id: the course's id (with ``learner_id``).
    :param require_passed: wait for a pass, not only completion.
    :param completed_since: ISO 8601 date or time; only a completion on or after it counts (for periodic
        re-certification, where an old result must be renewed).
    :param deferrable: wait in the triggerer instead of a worker slot
        (default: ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("lms_conn_id", "enrollment_id", "learner_id", "course_id", "completed_since")
    ui_color = "#dff0d8"
    #: A button to the enrollment's (or course's) page on the platform (when the connection has ``web_url``).
    operator_extra_links = (LmsPageLink(),)

    def __init__(
        self,
        *,
        lms_conn_id: str,
        enrollment_id: Any = None,
        learner_id: Any = None,
        course_id: Any = None,
        require_passed: bool = False,
        completed_since: Any = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lms_conn_id = lms_conn_id
        self.enrollment_id = enrollment_id
        self.learner_id = learner_id
        self.course_id = course_id
        self.require_passed = require_passed
        self.completed_since = completed_since
        self.deferrable = deferrable

    def _hook(self) -> LmsHook:
        hook = get_lms_hook(self.lms_conn_id)
        hook.require("enrollment_status")
        if self.require_passed and not hook.reports_pass:
            # Such a wait could never end: refuse it before the first poll instead.
            raise LmsInputError(
                "require_passed",
                f"{hook.platform} reports completion only, never a pass or a fail; wait for completion instead",
            )
        return hook

    def lms_page_url(self) -> str | None:
        """The platform page of the awaited enrollment (or of its course), for the "LMS page" link."""
        hook = get_lms_hook(self.lms_conn_id)
        ref = self._ref(hook)
        if ref.enrollment_id is not None:
            url = page_url(hook, "enrollment", enrollment_id=ref.enrollment_id, course_id=ref.course_id)
            if url:
                return url
        return page_url(hook, "course", course_id=ref.course_id) if ref.course_id else None

    def _ref(self, hook: LmsHook) -> EnrollmentRef:
        def parse(field: str, value: Any, parser: Any) -> str | None:
            return None if value in (None, "") else parser(field, value)

        ref = EnrollmentRef(
            enrollment_id=parse("enrollment_id", self.enrollment_id, hook.parse_enrollment_id),
            learner_id=parse("learner_id", self.learner_id, hook.parse_learner_id),
            course_id=parse("course_id", self.course_id, hook.parse_course_id),
        )
        return ref

    def _since(self) -> str | None:
        """``completed_since`` as ISO 8601 text, checked before any request."""
        value = self.completed_since
        if value in (None, ""):
            return None
        if isinstance(value, datetime):
            return pendulum.instance(value).isoformat()
        try:
            return pendulum.parse(str(value)).isoformat()  # type: ignore[union-attr]
        except (ValueError, pendulum.parsing.exceptions.ParserError):
            raise LmsInputError("completed_since", f"{value!r} is not an ISO 8601 date or time") from None

    def poke(self, context: Context) -> PokeReturnValue:
        hook = self._hook()
        ref = self._ref(hook)
        since = self._since()
        # Logs an outage once when it starts and once when it ends, also across reschedule-mode pokes.
        watch = outage_tracker(self, context, f"{ref!r} on {hook.platform}")
        try:
            with quiet_retries():
                enrollment = hook.get_enrollment_state(ref)
        except LmsError as exc:
            if not watch.heals(exc):
                raise
            watch.failed(exc)  # logs the outage's start once; the sensor's timeout bounds the wait
            return PokeReturnValue(is_done=False)
        finally:
            hook.close()
        watch.recovered()
        verdict, reason = completion_verdict(enrollment, require_passed=self.require_passed, completed_since=since)
        if reason != getattr(self, "_last_reason", None):  # a state change, not every poke
            self.log.info("%s", reason)
            self._last_reason = reason
        if verdict == "fail":
            raise AirflowException(reason)
        return PokeReturnValue(
            is_done=verdict == "done",
            xcom_value=enrollment.model_dump(mode="json") if verdict == "done" else None,
        )

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        # Poke once before deferring: an enrollment that is already complete needs no trigger.
        hook = self._hook()
        ref = self._ref(hook)
        result = self.poke(context)
        if result.is_done:
            return result.xcom_value
        self.defer(
            trigger=EnrollmentCompletedTrigger(
                lms_conn_id=self.lms_conn_id,
                enrollment=ref.to_dict(),
                require_passed=self.require_passed,
                poll_interval=float(self.poke_interval),
                end_time=time.time() + float(self.timeout),
                completed_since=self._since(),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Called when the trigger fires; raises unless the enrollment completed."""
        if not event:
            raise AirflowException("the trigger ended without an event")
        status = event.get("status")
        if status == "success":
            self.log.info("%s", event.get("message"))
            return event.get("enrollment")
        raise AirflowException(f"waiting for enrollment completion ended with {status}: {event.get('message')}")

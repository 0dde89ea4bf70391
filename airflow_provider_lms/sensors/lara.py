"""LaraCyclePeriodEndedSensor: wait until a Lära cycle period has ended."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException

from airflow_provider_lms.hooks.lara import LaraHook, lara_id
from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.http.client import quiet_retries
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsError
from airflow_provider_lms.models.inputs import check_number, parse_moment
from airflow_provider_lms.sensors.outage_log import outage_tracker
from airflow_provider_lms.triggers.lara import LaraCyclePeriodEndedTrigger

try:
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - older task SDKs
    from airflow.configuration import conf  # type: ignore[no-redef,unused-ignore]

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_lms.models.lara import LaraCyclePeriod

__all__ = ["LaraCyclePeriodEndedSensor", "lara_hook"]


def lara_hook(conn_id: str) -> LaraHook:
    """The hook for a Lära connection; a connection of another platform fails at once."""
    hook = get_lms_hook(conn_id)
    if not isinstance(hook, LaraHook):
        raise LmsCapabilityError(
            f"{hook.platform} has no cycles or member statuses (connection {conn_id!r}); platforms that do: Lära"
        )
    return hook


def _moment(field: str, value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    # A reference time without an offset is UTC, as Airflow's own times are (data_interval_start always has one).
    return parse_moment(field, value, naive_tz="UTC")


class LaraCyclePeriodEndedSensor(BaseSensorOperator):
    """Wait until a cycle's period has ended: the period given, or else the period running now.

    The end is the period's ``startDate`` plus ``duration`` times ``durationUnit``, in the portal's time
    zone (see :func:`airflow_provider_lms.models.lara.period_end`). Without ``cycle_period_id`` the sensor
    waits for the active period running at ``reference_time`` (default: when the DAG run started), so
    the choice does not drift to the next period once this one ends. Poke, reschedule and deferrable
    mode; deferred, the trigger sleeps until the end instead of polling, then reads the period again in
    case it was edited. Returns ``{"cycle_id", "cycle_period_id", "admin_name", "period_start",
    "period_end"}``.

    :param lms_conn_id: the Lära connection.
    :param cycle_id: the cycle (règlement) id, as Lära gives it (already URL-encoded).
    :param cycle_period_id: the period to wait for; None for the period running at ``reference_time``.
    :param reference_time: ISO 8601 moment that picks the running period (templated; e.g.
        ``{{ data_interval_start }}``).
    :param max_sleep: deferred, the longest single sleep in seconds before the period is read again.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("lms_conn_id", "cycle_id", "cycle_period_id", "reference_time")
    ui_color = "#fcf3cf"

    def __init__(
        self,
        *,
        cycle_id: str,
        cycle_period_id: str | None = None,
        lms_conn_id: str = "lara_default",
        reference_time: Any = None,
        max_sleep: float = 6 * 3600.0,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lms_conn_id = lms_conn_id
        self.cycle_id = cycle_id
        self.cycle_period_id = cycle_period_id
        self.reference_time = reference_time
        self.max_sleep = max_sleep
        self.deferrable = deferrable

    def _reference(self, context: Context) -> datetime:
        given = _moment("reference_time", self.reference_time)
        if given is not None:
            return given
        run = context.get("dag_run")
        started = getattr(run, "start_date", None) if run is not None else None
        return started if isinstance(started, datetime) else datetime.now(timezone.utc)

    def _period(self, hook: LaraHook, context: Context) -> LaraCyclePeriod:
        cycle = lara_id("cycle_id", self.cycle_id)
        period_id = None if self.cycle_period_id in (None, "") else lara_id("cycle_period_id", self.cycle_period_id)
        at = None if period_id is not None else self._reference(context)
        return hook.get_period(cycle, period_id, at=at)

    def _result(self, hook: LaraHook, period: LaraCyclePeriod) -> dict[str, Any]:
        return {
            "cycle_id": period.cycle_id or self.cycle_id,
            "cycle_period_id": period.cycle_period_id,
            "admin_name": period.admin_name,
            "period_start": period.start(hook.tz).isoformat(),
            "period_end": hook.period_end(period).isoformat(),
        }

    def _check(self, context: Context) -> tuple[LaraCyclePeriod, pendulum.DateTime, dict[str, Any], bool]:
        # Every input before the hook reads its connection, and before any request.
        lara_id("cycle_id", self.cycle_id)
        if self.cycle_period_id not in (None, ""):
            lara_id("cycle_period_id", self.cycle_period_id)
        _moment("reference_time", self.reference_time)
        check_number("max_sleep", self.max_sleep, minimum=1, maximum=7 * 86400)
        hook = lara_hook(self.lms_conn_id)
        try:
            period = self._period(hook, context)
            end = hook.period_end(period)
            result = self._result(hook, period)
        finally:
            hook.close()
        if period.is_deleted:
            raise AirflowException(f"Lära period {period.cycle_period_id} is deleted; it will never be closed")
        now = pendulum.now(end.timezone_name or "UTC")
        if now >= end:
            self.log.info("period %s (%s) ended at %s", period.cycle_period_id, period.admin_name, end)
            return period, end, result, True
        self.log.info("period %s (%s) ends at %s, in %s", period.cycle_period_id, period.admin_name, end, end - now)
        return period, end, result, False

    def poke(self, context: Context) -> PokeReturnValue:
        # An outage is waited out up to the sensor's timeout, as EnrollmentCompletedSensor does: refused
        # connections, timeouts, 5xx and 429 answer "not yet" (logged when the outage starts and ends);
        # what cannot heal (401, 403, 404, an unknown host) fails at once. In reschedule mode the outage is
        # remembered in the task state store, so it is still logged once (sensors/outage_log.py).
        watch = outage_tracker(self, context, f"Lära cycle {self.cycle_id}")
        try:
            with quiet_retries():
                _, _, result, done = self._check(context)
        except LmsError as exc:
            if not watch.heals(exc):
                raise
            watch.failed(exc)
            return PokeReturnValue(is_done=False)
        watch.recovered()
        return PokeReturnValue(is_done=done, xcom_value=result if done else None)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        # Poke once before deferring: a period that has already ended needs no trigger.
        period, end, result, done = self._check(context)
        if done:
            return result
        self.defer(
            trigger=LaraCyclePeriodEndedTrigger(
                lms_conn_id=self.lms_conn_id,
                cycle_id=lara_id("cycle_id", self.cycle_id),
                # The resolved id, so that the trigger waits for this period even after the next begins.
                cycle_period_id=period.cycle_period_id,
                period_end=end.timestamp(),
                end_time=time.time() + float(self.timeout),
                max_sleep=float(self.max_sleep),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Called when the trigger fires; raises unless the period ended."""
        if not event:
            raise AirflowException("the trigger ended without an event")
        if event.get("status") != "success":
            raise AirflowException(
                f"waiting for the Lära period ended with {event.get('status')}: {event.get('message')}"
            )
        self.log.info("%s", event.get("message"))
        period = event.get("period") or {}
        return {
            "cycle_id": period.get("cycleId") or self.cycle_id,
            "cycle_period_id": period.get("cyclePeriodId"),
            "admin_name": period.get("adminName"),
            "period_start": event.get("period_start"),
            "period_end": event.get("period_end"),
        }

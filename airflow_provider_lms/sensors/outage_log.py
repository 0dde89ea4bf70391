"""How a sensor logs an outage once, whichever mode it waits in (issue 16).

* Poke mode runs every poke on one operator object, so the in-memory
  :class:`~airflow_provider_lms.triggers.outage.OutageWatch` remembers the outage from one poke to the next.
  Deferred, the trigger's own watch does the same.
* In reschedule mode every poke is a new process with a new operator object, so a watch on the object
  forgets everything between pokes: each poke used to log the outage's start again, and its end was never
  logged. :class:`RescheduleOutage` keeps the outage in Airflow's **task state store**
  (``context["task_state_store"]``, Airflow 3.3+). That store holds key/value rows for one task of one DAG
  run, shared by all its pokes and tries and kept in the metadata database by the API server. The first failed
  poke logs a WARNING with what is failing, the pokes after it log at DEBUG, and the first poke that gets an
  answer logs one WARNING with how long the outage lasted. The other ways were worse: Airflow clears a task's
  XComs each time a poke starts (only a resumed deferral keeps them); a Variable is global, outlives the run and
  needs cleaning up; a file on the worker is lost when the next poke runs on another worker.
* Airflow 3.2 has no task state store, and nothing else survives from one poke to the next (only the number of
  reschedules and the time of the first). There each failed poke logs one short INFO line, the start of an
  outage cannot be told from the middle of one, and its end is not logged.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any

from airflow_provider_lms.http.errors import LmsError, may_heal
from airflow_provider_lms.triggers.outage import OutageWatch

__all__ = ["OUTAGE_KEY", "RescheduleOutage", "now", "outage_tracker"]

#: The sensor's key in the task state store: ``{"since": <UNIX time>, "failures": <int>, "try": <try number>}``.
OUTAGE_KEY = "lms_outage"

_log = logging.getLogger(__name__)


def now() -> float:
    """The wall clock (a UNIX timestamp); pokes in different processes must agree on it."""
    return time.time()


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def _short(exc: BaseException) -> str:
    """The error in a few words (e.g. ``"service unavailable, HTTP 503"``), for a line repeated on every poke."""
    if isinstance(exc, LmsError):
        kind = f"HTTP {exc.status}" if exc.status is not None else getattr(exc, "kind", None)
        text = f"{exc.message}, {kind}" if kind else exc.message
    else:
        text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


class RescheduleOutage:
    """The outage a reschedule-mode sensor is in, remembered across pokes in the task state store.

    It has the same ``heals``, ``failed`` and ``recovered`` methods as
    :class:`~airflow_provider_lms.triggers.outage.OutageWatch`, so a sensor's ``poke()`` does not care which
    one it has.

    :param log: the sensor's logger.
    :param what: what is waited on, for the log lines (e.g. ``"enrollment 11 on Eduframe"``).
    :param context: the poke's Airflow context, which holds ``task_state_store`` (Airflow 3.3+) and ``ti``.
    """

    def __init__(self, log: Any, what: str, context: Any) -> None:
        self.log = log
        self.what = what
        self._store = context.get("task_state_store")
        ti = context.get("ti")
        self._try = getattr(ti, "try_number", None)

    @staticmethod
    def heals(exc: BaseException) -> bool:
        """Whether waiting may fix ``exc`` (:func:`~airflow_provider_lms.http.errors.may_heal`)."""
        return may_heal(exc)

    def _read(self) -> dict[str, Any] | None:
        if self._store is None:
            return None
        try:
            state = self._store.get(OUTAGE_KEY)
        except Exception as exc:  # bookkeeping for the log must never fail the wait itself
            _log.debug("task state store unreadable (%s); outage logging falls back to one line per poke", exc)
            self._store = None
            return None
        return state if isinstance(state, dict) and isinstance(state.get("since"), int | float) else None

    def _write(self, state: dict[str, Any] | None) -> None:
        if self._store is None:
            return
        try:
            if state is None:
                self._store.delete(OUTAGE_KEY)
            else:
                self._store.set(OUTAGE_KEY, state)
        except Exception as exc:  # as in _read: a lost note costs a log line, not the task
            _log.debug("task state store not written (%s)", exc)

    def failed(self, exc: BaseException) -> None:
        """Note a poke that failed with a healable error: logs the outage's start once."""
        state = self._read()
        if self._store is None:
            # No store (Airflow 3.2), or it could not be read: no memory between pokes, so one short line
            # each (see the module docstring).
            self.log.info("%s: the platform is unavailable (%s); poking again later", self.what, _short(exc))
            return
        if state is None:
            state = {"since": now(), "failures": 0}
            self.log.warning(
                "%s: the platform is unavailable (%s); waiting it out until the sensor's timeout, "
                "poking again at each reschedule",
                self.what,
                exc,
            )
        elif state.get("try") != self._try:
            # The same outage, but this try has its own log, which must say what is going on.
            self.log.warning(
                "%s: the platform is still unavailable (%s), since %s (an earlier try); waiting it out",
                self.what,
                exc,
                _when(state["since"]),
            )
        else:
            self.log.debug("%s: still unavailable after %.0fs (%s)", self.what, now() - state["since"], _short(exc))
        self._write({"since": state["since"], "failures": int(state.get("failures", 0)) + 1, "try": self._try})

    def recovered(self) -> None:
        """Note a poke that got an answer: logs the end of an outage once."""
        state = self._read()
        if state is None:
            return
        if state.get("try") == self._try:
            self.log.warning(
                "%s: the platform answers again after %.0fs (%d failed pokes since %s)",
                self.what,
                now() - state["since"],
                int(state.get("failures", 0)),
                _when(state["since"]),
            )
        # An outage noted by an earlier try ended unseen (this try's log never reported it): just forget it.
        self._write(None)


def outage_tracker(sensor: Any, context: Any, what: str) -> OutageWatch | RescheduleOutage:
    """The outage tracker for this poke of ``sensor``: in the task state store in reschedule mode, else in memory.

    :param sensor: the sensor (a ``BaseSensorOperator`` with ``deferrable``).
    :param context: the poke's Airflow context.
    :param what: what is waited on, for the log lines.
    """
    if sensor.reschedule and not getattr(sensor, "deferrable", False):
        return RescheduleOutage(sensor.log, what, context)
    # Poke mode (and a deferrable sensor's one poke before it defers): pokes share this object.
    watch: OutageWatch | None = getattr(sensor, "_outage_watch", None)
    if watch is None:
        watch = sensor._outage_watch = OutageWatch(sensor.log, what, float(sensor.poke_interval))
    return watch

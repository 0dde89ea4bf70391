"""Outages end fast and clearly (issue 16), against the sandbox on loopback.

* A 1,000-item bulk run facing a dead port, or a key revoked in the middle of the run, stops within seconds
  having sent a few dozen requests at most: the run's circuit opens, the items not tried end
  ``not_attempted``, the task fails, and a retry of the task (once the platform is back) completes the run
  with every learner enrolled exactly once.
* A deferrable sensor's trigger with a 300 s timeout rides out a 60 s outage and succeeds. The outage is
  real (the sandbox answers 503 or drops the connection on every request); only the trigger's clock is
  virtual (``triggers/outage.py``: ``now``/``pause``), so the test takes seconds, not minutes.
* A platform that never answers, or answers garbage, is ridden out up to the trigger's end and then ends in
  one ``timeout`` event that names the outage; a host name that does not resolve, or a refused key, ends the
  wait at once with one ``error`` event.
* An answer over the connection's size limit is refused after one download, with the limit in the error.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import Any

import httpcore
import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred

from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.http.errors import LmsResponseTooLargeError, LmsTransportError
from airflow_provider_lms.operators import LmsSubscribeOperator
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from airflow_provider_lms.triggers import outage
from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger
from tests.faults.conftest import STORM_EXTRAS, connect, control, ctx

PLANNED_COURSE = 3  # the seeded flexible First Aid course: no capacity limit
ITEMS = 1000
#: Real-world retry settings (not the storms' quick ones): the point is that the circuit, not a small
#: retry budget, ends the run. Only the client-side rate limit is lifted, as the sandbox's is.
OUTAGE_EXTRAS: dict[str, Any] = {"rate_limit_requests": 10**6, "max_connections": 16}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _learners(sandbox: SandboxServer, n: int) -> list[str]:
    """``n`` learners put straight into the sandbox's state (test setup; no requests)."""
    return [str(i) for i in sandbox.state.eduframe.add_students(n, first_name="Out")]


def _enrollments_per_learner(sandbox: SandboxServer, learners: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(learners, 0)
    for e in sandbox.state.eduframe.enrollments.values():
        if str(e.student_id) in counts and e.planned_course_id == PLANNED_COURSE and e.status != "canceled":
            counts[str(e.student_id)] += 1
    return counts


def _subscribe(conn_id: str, learners: list[str]) -> LmsSubscribeOperator:
    return LmsSubscribeOperator(
        task_id="subscribe", lms_conn_id=conn_id, course_id=PLANNED_COURSE, learner_ids=learners, concurrency=16
    )


def _try(operator: LmsSubscribeOperator) -> tuple[dict[str, Any], str | None, float]:
    """Run the task once; its summary (from XCom when it failed), its failure message, and its duration."""
    context = ctx()
    started = time.monotonic()
    try:
        return operator.execute(context), None, time.monotonic() - started
    except AirflowException as exc:
        return context["ti"].pushed["summary"], str(exc), time.monotonic() - started


def test_a_1000_item_run_against_a_dead_port_stops_fast_and_a_retry_completes_it(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    learners = _learners(sandbox, ITEMS)
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})

    class _Dead:
        url = f"http://127.0.0.1:{_closed_port()}"

    conn = connect(monkeypatch, _Dead(), "eduframe", **OUTAGE_EXTRAS)  # type: ignore[arg-type]
    attempts = 0
    real_connect = socket.create_connection

    def counting_connect(*args: Any, **kwargs: Any) -> socket.socket:
        nonlocal attempts
        attempts += 1
        return real_connect(*args, **kwargs)

    # Count the TCP connects the client really tries (httpcore's sync backend makes them this way).
    monkeypatch.setattr(httpcore._backends.sync.socket, "create_connection", counting_connect)
    summary, failure, took = _try(_subscribe(conn, learners))

    assert took < 30, took
    assert attempts <= 36, attempts  # a few dozen at most: the threshold (5) plus what was in flight
    assert summary["not_attempted"] >= ITEMS - 40 and summary["done"] == 0
    assert summary["failed"] + summary["not_attempted"] == ITEMS
    assert "circuit open after 5 connection failures to 127.0.0.1" in summary["circuit"]
    assert failure is not None and "items not attempted" in failure and "a retry redoes" in failure

    # The platform is back (the connection points at it again): Airflow's retry runs the task again.
    monkeypatch.undo()
    conn = connect(monkeypatch, sandbox, "eduframe", **OUTAGE_EXTRAS)
    summary, failure, _ = _try(_subscribe(conn, learners))
    assert failure is None and summary["done"] == ITEMS and summary["not_attempted"] == 0
    assert set(_enrollments_per_learner(sandbox, learners).values()) == {1}


def test_items_never_tried_fail_the_task_even_when_item_errors_may_be_carried_past(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    learners = _learners(sandbox, 50)

    class _Dead:
        url = f"http://127.0.0.1:{_closed_port()}"

    conn = connect(monkeypatch, _Dead(), "eduframe", **OUTAGE_EXTRAS)  # type: ignore[arg-type]
    operator = _subscribe(conn, learners)
    operator.fail_on_item_error = False
    summary, failure, _ = _try(operator)
    # Only a retry of the task will ever try them, so the task must fail for Airflow to retry it.
    assert summary["not_attempted"] > 0
    assert failure is not None and f"{summary['not_attempted']} not attempted" in failure


def test_a_key_revoked_mid_run_stops_it_at_once_and_a_retry_finishes_it_without_doubles(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    learners = _learners(sandbox, ITEMS)
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    conn = connect(monkeypatch, sandbox, "eduframe", **OUTAGE_EXTRAS)
    ef = sandbox.state.eduframe
    stop = threading.Event()

    seeded = len(ef.enrollments)

    def revoke_after_some_orders() -> None:
        # An administrator revokes the key while the run is under way.
        while not stop.is_set() and len(ef.enrollments) < seeded + 100:
            time.sleep(0.005)
        ef.api_keys.discard(EDUFRAME_SANDBOX_API_KEY)

    control(sandbox, "DELETE", "/requests")
    revoker = threading.Thread(target=revoke_after_some_orders)
    revoker.start()
    try:
        summary, failure, took = _try(_subscribe(conn, learners))
    finally:
        stop.set()
        revoker.join()
    refused = [e for e in control(sandbox, "GET", "/requests").json() if e.get("status") == 401]

    assert took < 30, took
    assert 0 < len(refused) <= 32, len(refused)  # at most what was in flight when the first 401 came
    assert summary["done"] >= 50 and summary["not_attempted"] >= 500
    assert summary["done"] + summary["failed"] + summary["not_attempted"] == ITEMS
    assert "refused the credentials" in summary["circuit"] and "401" in summary["circuit"]
    assert failure is not None and "HTTP 401" in failure
    assert EDUFRAME_SANDBOX_API_KEY not in json.dumps(summary) + failure
    done_in_try_1 = summary["done"]

    ef.api_keys.add(EDUFRAME_SANDBOX_API_KEY)  # a new key is in place; Airflow retries the task
    summary, failure, _ = _try(_subscribe(conn, learners))
    assert failure is None
    # Items whose order went through just before the revocation (their read-back got the 401) are found
    # enrolled now, like the ones try 1 reported done.
    assert summary["already_done"] >= done_in_try_1 and summary["done"] + summary["already_done"] == ITEMS
    assert set(_enrollments_per_learner(sandbox, learners).values()) == {1}  # nobody twice


def _enroll(sandbox: SandboxServer) -> str:
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    learner = _learners(sandbox, 1)[0]
    hook = EduframeHook("faults_eduframe")
    try:
        return str(hook.subscribe_learner(str(PLANNED_COURSE), learner).result["enrollment_id"])
    finally:
        hook.close()


class _VirtualClock:
    """The trigger's clock: ``pause`` moves it on at once (and lets the event loop run)."""

    def __init__(self) -> None:
        self.now = time.time()
        self.start = self.now

    def time(self) -> float:
        return self.now

    async def pause(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_a_deferred_sensor_with_a_300s_timeout_survives_a_60s_outage_and_succeeds(
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    conn = connect(monkeypatch, sandbox, "eduframe", **STORM_EXTRAS)
    enrollment_id = await asyncio.to_thread(_enroll, sandbox)
    clock = _VirtualClock()
    monkeypatch.setattr(outage, "now", clock.time)
    seen = {"polls in outage": 0, "over": False}

    async def pause(seconds: float) -> None:
        await clock.pause(seconds)
        if seen["over"]:
            return
        if clock.now - clock.start < 60:
            seen["polls in outage"] += 1
            return
        # 60 s have passed: the outage ends, and meanwhile the learner has completed the course.
        seen["over"] = True
        await asyncio.to_thread(control, sandbox, "DELETE", "/faults")
        await asyncio.to_thread(control, sandbox, "POST", f"/eduframe/enrollments/{enrollment_id}/complete")

    monkeypatch.setattr(outage, "pause", pause)
    # The outage: every platform request fails (503, 502 or a dropped connection), from before the deferral.
    control(sandbox, "PUT", "/faults", json={"fault_rate": 1.0, "kinds": ["503", "502", "drop"]})
    sensor = EnrollmentCompletedSensor(
        task_id="wait", lms_conn_id=conn, enrollment_id=enrollment_id, deferrable=True, poke_interval=5, timeout=300
    )
    with pytest.raises(TaskDeferred) as deferred:
        await asyncio.to_thread(sensor.execute, ctx())  # its first poke meets the outage: not done, defer
    trigger = deferred.value.trigger
    assert isinstance(trigger, EnrollmentCompletedTrigger)
    trigger.end_time = clock.start + 300  # the sensor's 300 s timeout, on the trigger's (virtual) clock

    capsys.readouterr()
    with caplog.at_level("DEBUG", logger="airflow_provider_lms.http"):
        events = await asyncio.wait_for(_collect(trigger), timeout=60)
    log = capsys.readouterr().out.splitlines()  # Airflow's structlog writes the trigger's log lines here

    assert [e["status"] for e in events] == ["success"], events
    assert seen["over"] and seen["polls in outage"] >= 3  # it polled, backing off, through the outage
    assert len([line for line in log if "the platform is unavailable" in line]) == 1, log  # its start, once
    assert len([line for line in log if "answers again" in line]) == 1, log  # and its end, once
    # The HTTP core's retry lines are there, but at DEBUG: not one INFO line per poll.
    retries = [r for r in caplog.records if r.name == "airflow_provider_lms.http" and "retry" in r.getMessage()]
    assert retries and {r.levelname for r in retries} == {"DEBUG"}


async def _collect(trigger: EnrollmentCompletedTrigger) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


async def test_a_host_name_that_does_not_resolve_ends_a_wait_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Nowhere:
        url = "http://lms-sandbox.invalid"  # RFC 6761: never resolves

    conn = connect(monkeypatch, _Nowhere(), "eduframe", **STORM_EXTRAS)  # type: ignore[arg-type]
    trigger = EnrollmentCompletedTrigger(conn, {"enrollment_id": "1"}, poll_interval=1, end_time=time.time() + 300)
    started = time.monotonic()
    events = await asyncio.wait_for(_collect(trigger), timeout=60)
    assert [e["status"] for e in events] == ["error"]
    assert "does not resolve" in events[0]["message"]
    assert time.monotonic() - started < 10


def test_an_answer_over_the_size_limit_is_refused_after_one_download(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo data's enrollment list is a few KB: over a 1 KiB limit.
    connect(monkeypatch, sandbox, "eduframe", **STORM_EXTRAS, max_response_bytes=1024)
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    control(sandbox, "POST", "/eduframe/seed_enrollments", json={"count": 50})
    control(sandbox, "DELETE", "/requests")
    hook = EduframeHook("faults_eduframe")
    try:
        with pytest.raises(LmsResponseTooLargeError, match=r"1024-byte limit .*max_response_bytes"):
            list(hook.client.iter_link_items("enrollments"))
    finally:
        hook.close()
    assert len(control(sandbox, "GET", "/requests").json()) == 1  # not fetched again


def test_a_malformed_answer_keeps_the_parsers_reason(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    connect(monkeypatch, sandbox, "eduframe", **{**STORM_EXTRAS, "max_retries": 0})
    control(sandbox, "PUT", "/faults", json={"fault_rate": 1.0, "kinds": ["notjson"]})
    hook = EduframeHook("faults_eduframe")
    try:
        with pytest.raises(LmsTransportError) as info:
            hook.client.request("GET", "enrollments", parse=lambda r: r.json())
    finally:
        hook.close()
    assert "malformed answer: Expecting value" in str(info.value)

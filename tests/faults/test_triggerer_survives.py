"""The triggerer survives a platform that is down, answers garbage, or cancels the enrollment.

A trigger must yield exactly one event and return, never an exception that would take the triggerer's loop
with it, never a hang. A platform that cannot be reached or keeps failing is waited out up to the trigger's
end (issue 16: outages can heal), which then ends it with one ``timeout`` event naming the outage. A sensor
whose enrollment is canceled stops waiting (in poke mode and through the trigger).
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger
from tests.faults.conftest import STORM_EXTRAS, connect, control, ctx

QUICK = {**STORM_EXTRAS, "max_retries": 2, "connect_timeout": 0.5}


async def _events(trigger: EnrollmentCompletedTrigger, limit: float = 30) -> list[dict]:
    async def collect() -> list[dict]:
        return [event.payload async for event in trigger.run()]

    return await asyncio.wait_for(collect(), timeout=limit)


async def test_a_trigger_whose_platform_is_unreachable_waits_until_its_end_then_emits_one_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class _Closed:
        url = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused

    conn = connect(monkeypatch, _Closed(), "eduframe", **QUICK)  # type: ignore[arg-type]
    trigger = EnrollmentCompletedTrigger(conn, {"enrollment_id": "1"}, poll_interval=0.1, end_time=time.time() + 4)
    started = time.monotonic()
    events = await _events(trigger)
    assert len(events) == 1 and events[0]["status"] == "timeout", events
    assert "unavailable" in events[0]["message"] and "connection failed" in events[0]["message"]
    assert EDUFRAME_SANDBOX_API_KEY not in json.dumps(events)
    assert 3.5 <= time.monotonic() - started < 10  # it waited for its end, and not much longer


@pytest.mark.parametrize("kinds", [["503"], ["500"], ["drop"], ["notjson"], ["truncate"], ["timeout"]])
async def test_a_trigger_whose_platform_always_fails_waits_until_its_end_then_emits_one_timeout(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, kinds: list[str]
) -> None:
    conn = connect(monkeypatch, sandbox, "eduframe", **QUICK)
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    enrollment_id = await asyncio.to_thread(_enroll_and_cancel, sandbox, False)  # exists, still running
    control(sandbox, "PUT", "/faults", json={"fault_rate": 1.0, "kinds": kinds, "timeout_sleep_s": 1.0})
    try:
        trigger = EnrollmentCompletedTrigger(
            conn, {"enrollment_id": enrollment_id}, poll_interval=0.1, end_time=time.time() + 3
        )
        events = await _events(trigger)
    finally:
        control(sandbox, "DELETE", "/faults")
    assert len(events) == 1 and events[0]["status"] == "timeout", events
    assert "unavailable" in events[0]["message"]
    assert "Traceback" not in events[0]["message"]


def _enroll_and_cancel(sandbox: SandboxServer, cancel: bool = True) -> str:
    api = httpx.Client(
        base_url=sandbox.platform_url("eduframe"),
        headers={"Authorization": f"Bearer {EDUFRAME_SANDBOX_API_KEY}"},
        timeout=10,
    )
    with api:
        order = api.post(
            "/orders",
            json={"catalog_variant_id": 1, "creator_id": 1, "student_ids": [2], "approve": True},
        )
        assert order.status_code == 201, order.text
        enrollment = next(e for e in control(sandbox, "GET", "/eduframe/state").json()["enrollments"])
        if cancel:
            api.put(f"/enrollments/{enrollment['id']}/cancel").raise_for_status()
    return str(enrollment["id"])


async def test_a_canceled_enrollment_ends_the_trigger_and_the_sensor(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = connect(monkeypatch, sandbox, "eduframe", **QUICK)
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    enrollment_id = await asyncio.to_thread(_enroll_and_cancel, sandbox)

    trigger = EnrollmentCompletedTrigger(conn, {"enrollment_id": enrollment_id}, poll_interval=0.1)
    events = await _events(trigger, limit=10)
    assert [e["status"] for e in events] == ["failed"] and "cancel" in events[0]["message"].lower()

    sensor = EnrollmentCompletedSensor(
        task_id="wait", lms_conn_id=conn, enrollment_id=enrollment_id, poke_interval=1, timeout=60
    )
    started = time.monotonic()
    with pytest.raises(AirflowException, match=r"(?i)cancel"):
        await asyncio.to_thread(sensor.poke, ctx())
    assert time.monotonic() - started < 10
    with pytest.raises(AirflowException, match=r"(?i)cancel"):
        sensor.execute_complete(ctx(), events[0])

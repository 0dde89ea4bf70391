"""Lära operators, sensor and trigger against the sandbox: statuses really change, re-runs change nothing."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred

from airflow_provider_lms.hooks.lara import LaraHook
from airflow_provider_lms.http.errors import LmsAuthenticationError, LmsCapabilityError
from airflow_provider_lms.operators.lara import (
    LaraChangeCurrentMemberStatusOperator,
    LaraCycleComplianceOperator,
    LaraUpdateMemberStatusesOperator,
    LaraUpdateMemberStatusOperator,
)
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.lara import LaraSeed, _lara_connection
from airflow_provider_lms.sensors.lara import LaraCyclePeriodEndedSensor
from airflow_provider_lms.triggers.lara import LaraCyclePeriodEndedTrigger
from tests.task_context import FakeTI, ctx

CONN = "lara_live"
S = LaraSeed


@pytest.fixture
def lara(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(_lara_connection(sandbox.url)))
    return sandbox


def state(sandbox: SandboxServer) -> dict[str, Any]:
    return httpx.get(f"{sandbox.control_url}/lara/state").json()


def member(sandbox: SandboxServer, user_id: str) -> dict[str, Any]:
    return next(m for m in state(sandbox)["members"] if m["userId"] == user_id)


def end_period_in(sandbox: SandboxServer, seconds: float, period: str = S.DEMO_PERIOD_ID) -> None:
    httpx.post(
        f"{sandbox.control_url}/lara/period_end", json={"cyclePeriodId": period, "seconds": seconds}
    ).raise_for_status()


def test_compliance_sorts_members_by_credits(lara: SandboxServer):
    op = LaraCycleComplianceOperator(
        task_id="c",
        lms_conn_id=CONN,
        cycle_id=S.CYCLE_ID,
        cycle_period_id=S.DEMO_PERIOD_ID,
        members=[*S.MEMBER_IDS, S.MEMBER_IDS[0]],
    )
    context = ctx()
    result = op.execute(context)
    assert [m["userId"] for m in result["compliant"]] == list(S.COMPLIANT_IDS)
    assert [m["userId"] for m in result["non_compliant"]] == list(S.NON_COMPLIANT_IDS)
    assert context["ti"].pushed["non_compliant"] == result["non_compliant"]
    short = {r["member"]["userId"]: r["shortfall"] for r in result["members"]}
    assert short[S.MEMBER_IDS[4]] == 0.5 and short[S.MEMBER_IDS[1]] == 0.0  # 15 + 5 exempted reach 20
    assert result["required_credits"] == 20.0
    strict = LaraCycleComplianceOperator(
        task_id="c2",
        lms_conn_id=CONN,
        cycle_id=S.CYCLE_ID,
        cycle_period_id=S.DEMO_PERIOD_ID,
        members=S.MEMBER_IDS[:2],
        count_exempted=False,
    ).execute(ctx())
    assert [m["userId"] for m in strict["non_compliant"]] == [S.MEMBER_IDS[1]]


def test_members_can_be_named_by_custom_field(lara: SandboxServer):
    by_field = [{"customFieldAPIName": "numero_permis", "customFieldValue": n} for n in S.LICENSE_NUMBERS]
    result = LaraCycleComplianceOperator(
        task_id="c", lms_conn_id=CONN, cycle_id=S.CYCLE_ID, cycle_period_id=S.DEMO_PERIOD_ID, members=by_field
    ).execute(ctx())
    assert [m["customFieldValue"] for m in result["non_compliant"]] == ["10004", "10005", "10006"]
    op = LaraChangeCurrentMemberStatusOperator(
        task_id="r", lms_conn_id=CONN, members=result["non_compliant"], status="Suspendu"
    )
    assert op.execute(ctx())["done"] == 3
    assert member(lara, S.MEMBER_IDS[3])["currentStatus"] == "Suspendu"


def test_a_failing_member_fails_the_compliance_task_after_all_were_read(lara: SandboxServer):
    op = LaraCycleComplianceOperator(
        task_id="c",
        lms_conn_id=CONN,
        cycle_id=S.CYCLE_ID,
        cycle_period_id=S.DEMO_PERIOD_ID,
        members=[S.MEMBER_IDS[0], "ghost%3d%3d"],
    )
    context = ctx()
    with pytest.raises(AirflowException, match="1 of 2 items failed"):
        op.execute(context)
    assert "1003" in context["ti"].pushed["summary"]["items"][1]["error"]


def test_change_current_closes_the_running_range_and_a_rerun_changes_nothing(lara: SandboxServer):
    op = LaraChangeCurrentMemberStatusOperator(
        task_id="r",
        lms_conn_id=CONN,
        members=list(S.NON_COMPLIANT_IDS),
        status={"status": "Restreint", "isActiveMember": False},
        status_start_date="2026-11-22T00:00:00-05:00",
    )
    first = op.execute(ctx())
    assert (first["done"], first["already_done"]) == (3, 0)
    after = state(lara)
    again = op.execute(ctx())
    assert (again["done"], again["already_done"]) == (0, 3)
    assert state(lara)["members"] == after["members"]
    for m in after["members"]:
        if m["userId"] in S.NON_COMPLIANT_IDS:
            assert m["currentStatus"] == "Restreint" and m["isActiveMember"] is False
            membre = next(s for s in m["statuses"] if s["status"] == "Membre")
            assert membre["endDate"] == "2026-11-22T00:00:00"  # closed where the new range starts
        else:
            assert m["currentStatus"] == "Membre" and m["isActiveMember"] is True


def test_update_whole_list_and_one_entry(lara: SandboxServer):
    statuses = [
        {"status": "1ère inscription", "startDate": "2018-01-01T00:00:00", "endDate": "2018-12-31T23:59:59"},
        {"status": "Membre", "isActiveMember": True, "startDate": "2019-01-01T00:00:00"},
    ]
    op = LaraUpdateMemberStatusesOperator(task_id="u", lms_conn_id=CONN, members=S.MEMBER_IDS[0], statuses=statuses)
    assert op.execute(ctx())["done"] == 1
    saved = member(lara, S.MEMBER_IDS[0])["statuses"]
    assert [(s["status"], s["startDate"], s["endDate"]) for s in saved] == [
        ("1ère inscription", "2018-01-01T00:00:00", "2018-12-31T23:59:59"),
        ("Membre", "2019-01-01T00:00:00", None),
    ]
    assert op.execute(ctx())["already_done"] == 1
    assert member(lara, S.MEMBER_IDS[0])["statuses"] == saved  # entry ids unchanged: nothing was resent

    entry = saved[1]["entryId"]
    one = LaraUpdateMemberStatusOperator(
        task_id="o",
        lms_conn_id=CONN,
        member=S.MEMBER_IDS[0],
        entry_id=entry,
        status={"status": "Temporaire", "startDate": "2019-01-01T00:00:00", "endDate": None},
    )
    assert one.execute(ctx())["done"] == 1
    assert member(lara, S.MEMBER_IDS[0])["statuses"][1]["status"] == "Temporaire"
    assert member(lara, S.MEMBER_IDS[0])["isActiveMember"] is True  # "temporaire" is a listed active name
    assert one.execute(ctx())["already_done"] == 1


def test_operators_refuse_another_platforms_connection(lara: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDU_X", json.dumps({"conn_type": "eduframe", "password": "k"}))
    op = LaraChangeCurrentMemberStatusOperator(task_id="r", lms_conn_id="edu_x", members=["a"], status="X")
    with pytest.raises(LmsCapabilityError, match="Lära"):
        op.execute(ctx())


def test_sensor_pokes_until_the_period_has_ended(lara: SandboxServer):
    sensor = LaraCyclePeriodEndedSensor(
        task_id="w", lms_conn_id=CONN, cycle_id=S.CYCLE_ID, cycle_period_id=S.DEMO_PERIOD_ID
    )
    end_period_in(lara, 3600)
    assert sensor.poke(ctx()).is_done is False
    end_period_in(lara, -1)
    done = sensor.poke(ctx())
    assert done.is_done and done.xcom_value["cycle_period_id"] == S.DEMO_PERIOD_ID
    assert done.xcom_value["period_end"].endswith(("-05:00", "-04:00"))  # Toronto


def test_without_a_period_the_sensor_waits_for_the_one_running_at_the_reference_time(lara: SandboxServer):
    sensor = LaraCyclePeriodEndedSensor(task_id="w", lms_conn_id=CONN, cycle_id=S.CYCLE_ID)
    result = sensor.poke(ctx())
    assert result.is_done is False
    # The run started while the demo period was running: after it ends, that period (not the next) counts.
    run = type("Run", (), {"start_date": datetime.now(timezone.utc) - timedelta(seconds=10)})()
    end_period_in(lara, -1)
    done = sensor.poke({"ti": FakeTI(), "dag_run": run})
    assert done.is_done and done.xcom_value["cycle_period_id"] == S.DEMO_PERIOD_ID
    # Without the run's start, "now" picks the next period, which has not ended.
    assert sensor.poke(ctx()).is_done is False


def test_deferrable_sensor_defers_with_the_computed_end(lara: SandboxServer):
    end_period_in(lara, 120)
    sensor = LaraCyclePeriodEndedSensor(
        task_id="w", lms_conn_id=CONN, cycle_id=S.CYCLE_ID, deferrable=True, timeout=3600
    )
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(ctx())
    trigger = info.value.trigger
    assert isinstance(trigger, LaraCyclePeriodEndedTrigger)
    assert trigger.cycle_period_id == S.DEMO_PERIOD_ID
    assert abs(trigger.period_end - (time.time() + 120)) < 5
    classpath, kwargs = trigger.serialize()
    assert classpath.endswith("LaraCyclePeriodEndedTrigger") and json.loads(json.dumps(kwargs)) == kwargs
    end_period_in(lara, -5)
    sensor.cycle_period_id = S.DEMO_PERIOD_ID
    result = sensor.execute(ctx())  # already ended: no deferral
    assert result["cycle_period_id"] == S.DEMO_PERIOD_ID


def _requests(sandbox: SandboxServer, method: str) -> int:
    log = httpx.get(f"{sandbox.control_url}/requests").json()
    return sum(1 for r in log if r["path"].endswith(method))


async def test_trigger_sleeps_until_the_end_instead_of_polling(lara: SandboxServer):
    end_period_in(lara, 1.5)
    period = LaraHook(CONN).get_period(S.CYCLE_ID, S.DEMO_PERIOD_ID)
    end = LaraHook(CONN).period_end(period).timestamp()
    httpx.delete(f"{lara.control_url}/requests")
    trigger = LaraCyclePeriodEndedTrigger(CONN, S.CYCLE_ID, S.DEMO_PERIOD_ID, period_end=end, max_sleep=60)
    started = time.time()
    events = [e async for e in trigger.run()]
    assert len(events) == 1 and events[0].payload["status"] == "success"
    assert time.time() >= end and time.time() - started < 5
    assert _requests(lara, "getperiodlist") == 1  # one read on waking, no polling


async def test_trigger_notices_an_edited_period_and_sleeps_on(lara: SandboxServer):
    end_period_in(lara, 0.5)
    hook = LaraHook(CONN)
    first_end = hook.period_end(hook.get_period(S.CYCLE_ID, S.DEMO_PERIOD_ID)).timestamp()
    end_period_in(lara, 2.5)  # an administrator extends the period after the sensor deferred
    trigger = LaraCyclePeriodEndedTrigger(CONN, S.CYCLE_ID, S.DEMO_PERIOD_ID, period_end=first_end)
    events = [e async for e in trigger.run()]
    assert events[0].payload["status"] == "success"
    assert time.time() >= first_end + 1.5
    assert _requests(lara, "getperiodlist") >= 2


async def test_trigger_times_out_and_reports_errors(lara: SandboxServer):
    end_period_in(lara, 3600)
    far = time.time() + 3600
    timed = LaraCyclePeriodEndedTrigger(CONN, S.CYCLE_ID, S.DEMO_PERIOD_ID, period_end=far, end_time=time.time() + 0.3)
    (timeout,) = [e async for e in timed.run()]
    assert timeout.payload["status"] == "timeout"
    gone = LaraCyclePeriodEndedTrigger(CONN, S.CYCLE_ID, "missing%3d%3d", period_end=time.time() - 1)
    (error,) = [e async for e in gone.run()]
    event = error.payload
    assert event["status"] == "error" and "missing" in event["message"]


def test_the_poking_sensor_rides_out_an_outage_and_logs_it_once(
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
):
    conn = {**_lara_connection(sandbox.url)}
    conn["extra"] = {**conn["extra"], "backoff_base": 0.01, "backoff_max": 0.05, "max_retries": 2}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(conn))
    sensor = LaraCyclePeriodEndedSensor(
        task_id="w", lms_conn_id=CONN, cycle_id=S.CYCLE_ID, cycle_period_id=S.DEMO_PERIOD_ID, poke_interval=1
    )
    end_period_in(sandbox, -1)
    # The portal is down: every request answers 503. Polls say "not yet" instead of failing the task.
    httpx.put(f"{sandbox.control_url}/faults", json={"fault_rate": 1.0, "kinds": ["503"]}).raise_for_status()
    with caplog.at_level("WARNING"):
        assert [sensor.poke(ctx()).is_done for _ in range(3)] == [False, False, False]
        httpx.delete(f"{sandbox.control_url}/faults").raise_for_status()
        done = sensor.poke(ctx())
    assert done.is_done and done.xcom_value["cycle_period_id"] == S.DEMO_PERIOD_ID
    # Airflow's task logger may go to structlog (stdout) or to logging, depending on the version.
    logged = capsys.readouterr().out + caplog.text
    assert logged.count("the platform is unavailable") == 1, logged  # once when it starts, not every poll
    assert logged.count("answers again") == 1


def test_the_poking_sensor_fails_at_once_on_a_refused_key(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    conn = {**_lara_connection(sandbox.url)}
    conn["extra"] = {
        **conn["extra"],
        **{k: "not-the-secret" for k, v in conn["extra"].items() if "secret" in k and isinstance(v, str)},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(conn))
    sensor = LaraCyclePeriodEndedSensor(task_id="w", lms_conn_id=CONN, cycle_id=S.CYCLE_ID)
    with pytest.raises(LmsAuthenticationError, match="HTTP 401"):
        sensor.poke(ctx())

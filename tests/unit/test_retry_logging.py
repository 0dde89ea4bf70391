"""What the task log says about retries and outages (issues 16 and 17).

A bulk run logs its retries at DEBUG and sums them up in its summary line, with one WARNING per item that
finally failed; a single hook call still logs each retry at INFO. A sensor in reschedule mode runs each poke
in a new process, and still logs an outage once when it starts and once when it ends. The outage is kept in
Airflow's task state store; the tests use Airflow's real accessor over a stand-in for the API server.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import uuid
from typing import Any

import httpx
import pytest
import respx
from airflow.sdk.exceptions import AirflowException

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.http import BulkRunner
from airflow_provider_lms.models.results import ItemResult
from airflow_provider_lms.sensors import outage_log
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from airflow_provider_lms.sensors.lara import LaraCyclePeriodEndedSensor

from .conftest import EDUFRAME_URL, conn_json, fast_client
from .test_eduframe_hook import enrollment
from .test_lara_hook import CYCLE, PERIOD_JSON, PORTAL

HTTP_LOG = "airflow_provider_lms.http"


def retry_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == HTTP_LOG and r.levelno == level and "; retry " in r.getMessage()
    ]


# -- bulk runs --------------------------------------------------------------------------------------------
@respx.mock
def test_a_bulk_run_logs_retries_at_debug_sums_them_up_and_warns_once_per_failed_item(
    caplog: pytest.LogCaptureFixture,
):
    client = fast_client(max_retries=2)
    seen: dict[str, int] = {}
    lock = threading.Lock()
    broken = {"/items/5", "/items/13"}  # these never answer: they must end failed

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            seen[request.url.path] = seen.get(request.url.path, 0) + 1
            first = seen[request.url.path] == 1
        if first or request.url.path in broken:
            return httpx.Response(503, text="maintenance")
        return httpx.Response(200, json={"ok": True})

    respx.get(url__regex=r"https://api\.test/items/\d+").mock(side_effect=answer)

    def fetch(n: int) -> ItemResult:
        client.request("GET", f"/items/{n}")
        return ItemResult()

    with caplog.at_level(logging.DEBUG):
        summary = BulkRunner(concurrency=4).run("fetch", list(range(1, 21)), fetch, key=str)

    # Every item's first answer was a 503, yet not one INFO retry line.
    assert retry_lines(caplog, logging.INFO) == []
    debug = retry_lines(caplog, logging.DEBUG)
    assert "fetch 7: Test GET /items/7 failed (503); retry 1/2 in " in "\n".join(debug)
    # 18 items healed after one retry; the two broken ones made 2 retries in each of their 2 passes.
    assert summary.retries == {"503": 18 + 2 * 2 * 2, "item": 2}
    assert summary.retried_items == 20
    assert summary.failed == 2 and summary.done == 18
    info = [
        r.getMessage() for r in caplog.records if r.name == "airflow_provider_lms.bulk" and r.levelno == logging.INFO
    ]
    summaries = [m for m in info if m.startswith("fetch: 20 items")]
    assert len(summaries) == 1
    assert "retries: 26x 503, 2x item (20 of 20 items needed a retry)" in summaries[0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith("fetch failed for 5: Test: service unavailable (HTTP 503")
    assert warnings[1].startswith("fetch failed for 13: ")
    # A downstream task reads the counts from the XCom.
    xcom = json.loads(json.dumps(summary.to_xcom()))
    assert xcom["retries"] == {"503": 26, "item": 2} and xcom["retried_items"] == 20


def test_every_failed_item_gets_its_warning_not_only_the_first_twenty(caplog: pytest.LogCaptureFixture):
    def refuse(n: int) -> ItemResult:
        raise ValueError(f"item {n} is bad")

    with caplog.at_level(logging.WARNING, logger="airflow_provider_lms.bulk"):
        summary = BulkRunner(concurrency=4).run("check", list(range(30)), refuse, key=str)
    assert summary.failed == 30 and summary.retried_items == 0
    warned = {r.getMessage().split(":")[0] for r in caplog.records if r.levelno == logging.WARNING}
    assert warned == {f"check failed for {n}" for n in range(30)}


@respx.mock
def test_a_single_hook_call_still_logs_its_retry_at_info(eduframe_conn, caplog: pytest.LogCaptureFixture):
    respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(
        side_effect=[httpx.Response(503, text="busy"), httpx.Response(200, json=enrollment(status="active"))]
    )
    hook = get_lms_hook(eduframe_conn)
    with caplog.at_level(logging.DEBUG, logger=HTTP_LOG):
        hook.get_enrollment_state(EnrollmentRef(enrollment_id="11"))
    lines = retry_lines(caplog, logging.INFO)
    assert len(lines) == 1 and lines[0].startswith("Eduframe GET /api/v1/enrollments/11 failed (503); retry 1/6")


# -- sensors in reschedule mode -----------------------------------------------------------------------------
class FakeApiServer:
    """Stands in for the API server's task state store, behind Airflow's own ``TaskStateStoreAccessor``.

    Its rows outlive every "process" (every poke builds a fresh sensor and accessor), as the database does.
    """

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    def send(self, msg: Any) -> Any:
        from airflow.sdk.exceptions import ErrorType
        from airflow.sdk.execution_time.comms import ErrorResponse, TaskStateStoreResult

        kind = type(msg).__name__
        if kind == "GetTaskStateStore":
            if msg.key not in self.rows:
                return ErrorResponse(error=ErrorType.TASK_STORE_NOT_FOUND)
            return TaskStateStoreResult(value=json.loads(self.rows[msg.key]))
        if kind == "SetTaskStateStore":
            self.rows[msg.key] = json.dumps(msg.value)  # what the database keeps: JSON
        elif kind == "DeleteTaskStateStore":
            self.rows.pop(msg.key, None)
        return None


class FakeTI:
    def __init__(self, try_number: int) -> None:
        self.try_number = try_number

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)


@pytest.fixture
def api_server(monkeypatch: pytest.MonkeyPatch) -> FakeApiServer:
    from airflow.sdk.execution_time import task_runner

    server = FakeApiServer()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", server, raising=False)
    return server


def poke_context(try_number: int = 1, *, with_store: bool = True) -> dict[str, Any]:
    context: dict[str, Any] = {"ti": FakeTI(try_number)}
    if with_store:
        if importlib.util.find_spec("airflow.sdk._shared.state") is None:
            pytest.skip("this Airflow (3.2) has no task state store; the test without one covers it")
        from airflow.sdk._shared.state import TaskScope
        from airflow.sdk.execution_time.context import TaskStateStoreAccessor

        scope = TaskScope(dag_id="d", run_id="r", task_id="w", map_index=-1)
        context["task_state_store"] = TaskStateStoreAccessor(uuid.uuid4(), scope)
    return context


def sensor_lines(capsys: pytest.CaptureFixture[str], name: str) -> list[str]:
    # Airflow's logging (structlog) writes an operator's lines to stdout: "<time> [warning  ] <message> [<logger>]".
    return [line for line in capsys.readouterr().out.splitlines() if name in line]


@pytest.fixture
def quick_edu(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(
        "AIRFLOW_CONN_EDU_Q", conn_json("eduframe", base_url=EDUFRAME_URL, backoff_base=0.001, max_retries=1)
    )
    return "edu_q"


def enrollment_poke(conn_id: str, context: dict[str, Any]) -> Any:
    # A new sensor object for every poke, as in reschedule mode, where each poke is a new process.
    sensor = EnrollmentCompletedSensor(
        task_id="w", lms_conn_id=conn_id, enrollment_id=11, mode="reschedule", poke_interval=60
    )
    return sensor.poke(context)


@respx.mock
def test_a_reschedule_mode_sensor_logs_an_outage_once_when_it_starts_and_once_when_it_ends(
    quick_edu, api_server, capsys, monkeypatch
):
    clock = iter([1000.0, 1060.0, 1120.0, 1190.0])
    monkeypatch.setattr(outage_log, "now", lambda: next(clock))
    down = httpx.Response(503, text="maintenance")
    up = httpx.Response(200, json=enrollment(status="active"))
    respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(side_effect=[down] * 6 + [up] * 2)

    for _ in range(3):  # three pokes meet the outage
        assert enrollment_poke(quick_edu, poke_context()).is_done is False
    during = sensor_lines(capsys, "EnrollmentCompletedSensor")
    warnings = [line for line in during if "[warning" in line]
    assert len(warnings) == 1, during
    assert (
        "enrollment 11 on Eduframe: the platform is unavailable (Eduframe: service unavailable (HTTP 503"
        in (warnings[0])
    )
    assert not [line for line in during if "[info" in line and "unavailable" in line], during

    assert enrollment_poke(quick_edu, poke_context()).is_done is False  # it answers: still active
    after = [line for line in sensor_lines(capsys, "EnrollmentCompletedSensor") if "[warning" in line]
    assert len(after) == 1 and "answers again after 190s (3 failed pokes since 1970-01-01T00:16:40+00:00)" in (after[0])
    assert api_server.rows == {}  # the outage is over: nothing left in the store

    assert enrollment_poke(quick_edu, poke_context()).is_done is False  # and a quiet poke says nothing of it
    assert not [line for line in sensor_lines(capsys, "EnrollmentCompletedSensor") if "[warning" in line]


@respx.mock
def test_a_new_try_during_the_same_outage_says_so_in_its_own_log(quick_edu, api_server, capsys):
    respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(return_value=httpx.Response(502, text="bad gateway"))
    enrollment_poke(quick_edu, poke_context(try_number=1))
    enrollment_poke(quick_edu, poke_context(try_number=1))
    assert len([line for line in sensor_lines(capsys, "Sensor") if "[warning" in line]) == 1
    enrollment_poke(quick_edu, poke_context(try_number=2))  # try 2 writes a new log file
    lines = [line for line in sensor_lines(capsys, "Sensor") if "[warning" in line]
    assert len(lines) == 1 and "still unavailable" in lines[0] and "(an earlier try)" in lines[0]


@respx.mock
def test_an_outage_that_ended_between_tries_is_forgotten_silently(quick_edu, api_server, capsys):
    respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(
        side_effect=[httpx.Response(503)] * 2 + [httpx.Response(200, json=enrollment(status="active"))]
    )
    enrollment_poke(quick_edu, poke_context(try_number=1))
    capsys.readouterr()
    enrollment_poke(quick_edu, poke_context(try_number=2))
    assert not [line for line in sensor_lines(capsys, "Sensor") if "[warning" in line]
    assert api_server.rows == {}


@respx.mock
def test_an_outage_that_cannot_heal_still_fails_a_reschedule_mode_sensor_at_once(quick_edu, api_server):
    respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(return_value=httpx.Response(403, text="forbidden"))
    with pytest.raises(Exception, match="HTTP 403"):
        enrollment_poke(quick_edu, poke_context())
    assert api_server.rows == {}


@respx.mock
def test_without_a_task_state_store_each_failed_poke_logs_one_short_info_line(quick_edu, capsys):
    # Airflow 3.2: nothing survives between pokes, so the start of an outage cannot be told from its middle.
    respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(
        return_value=httpx.Response(503, text="<html>" + "maintenance " * 100 + "</html>")
    )
    for _ in range(3):
        enrollment_poke(quick_edu, poke_context(with_store=False))
    lines = [line for line in sensor_lines(capsys, "EnrollmentCompletedSensor") if "unavailable" in line]
    assert len(lines) == 3 and all("[info" in line for line in lines), lines
    assert "unavailable (service unavailable, HTTP 503); poking again later" in lines[0]
    assert "maintenance maintenance" not in lines[0]  # short: not the platform's whole page


@respx.mock
def test_a_poke_mode_sensor_still_remembers_its_outage_in_memory(quick_edu, capsys):
    respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(
        side_effect=[httpx.Response(503)] * 4 + [httpx.Response(200, json=enrollment(status="active"))]
    )
    sensor = EnrollmentCompletedSensor(task_id="w", lms_conn_id=quick_edu, enrollment_id=11, poke_interval=1)
    for _ in range(3):
        sensor.poke(poke_context(with_store=False))
    lines = [line for line in sensor_lines(capsys, "EnrollmentCompletedSensor") if "[warning" in line]
    assert len(lines) == 2 and "is unavailable" in lines[0] and "answers again" in lines[1], lines


@respx.mock
def test_the_lara_sensor_in_reschedule_mode_logs_its_outage_once(monkeypatch, api_server, capsys):
    extra = {
        "base_url": PORTAL,
        "credential_1_header": "X-Onboarding-A",
        "credential_1_secret": "secret-a-91",
        "backoff_base": 0.001,
        "max_retries": 1,
    }
    monkeypatch.setenv("AIRFLOW_CONN_LARA_Q", json.dumps({"conn_type": "lara", "extra": extra}))
    period = {**PERIOD_JSON, "isDeleted": False}  # started in 2018 for two years: long over
    respx.post(f"{PORTAL}/lmsapi/cycle/getperiodlist").mock(
        side_effect=[httpx.Response(503)] * 6 + [httpx.Response(200, json=[period])]
    )

    def poke() -> Any:
        sensor = LaraCyclePeriodEndedSensor(
            task_id="w", lms_conn_id="lara_q", cycle_id=CYCLE, cycle_period_id=CYCLE, mode="reschedule"
        )
        return sensor.poke(poke_context())

    assert [poke().is_done for _ in range(4)] == [False, False, False, True]
    lines = [line for line in sensor_lines(capsys, "LaraCyclePeriodEndedSensor") if "[warning" in line]
    assert len(lines) == 2, lines
    assert f"Lära cycle {CYCLE}: the platform is unavailable" in lines[0]
    assert "answers again" in lines[1] and "(3 failed pokes since" in lines[1]


def test_a_broken_store_costs_the_log_line_not_the_wait(quick_edu, capsys):
    class Broken:
        def get(self, key: str, default: Any = None) -> Any:
            raise RuntimeError("API server unreachable")

    with respx.mock:
        respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(return_value=httpx.Response(503))
        context = {"ti": FakeTI(1), "task_state_store": Broken()}
        assert enrollment_poke(quick_edu, context).is_done is False
    lines = [line for line in sensor_lines(capsys, "EnrollmentCompletedSensor") if "unavailable" in line]
    assert len(lines) == 1 and "[info" in lines[0]


def test_a_canceled_enrollment_still_fails_after_an_outage(quick_edu, api_server):
    with respx.mock:
        respx.get(f"{EDUFRAME_URL}/enrollments/11").mock(
            side_effect=[httpx.Response(503)] * 2 + [httpx.Response(200, json=enrollment(status="canceled"))]
        )
        enrollment_poke(quick_edu, poke_context())
        with pytest.raises(AirflowException, match="canceled"):
            enrollment_poke(quick_edu, poke_context())
    assert api_server.rows == {}

"""The Lära compliance DAG in a real Airflow (`airflow dags test`, SQLite) against the sandbox.

The demo period is set to end a few seconds after the run starts, so the sensor really defers and its
trigger sleeps until the computed end. One run plus a re-run back every check: exactly the
non-compliant members end up restricted, from the period's end; the re-run changes nothing; the
report is written; the credentials appear nowhere Airflow keeps things.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer, SandboxState
from airflow_provider_lms.sandbox.lara import LARA_CREDENTIALS, LaraSeed
from airflow_provider_lms.testing import AirflowRunner, DagTestResult, sandbox_connection_env

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "lms_lara_cycle_compliance"
RESTRICTED = "Restreint - formation continue incomplète"
# Long enough that `airflow dags test` reaches the sensor before the period ends, even on a loaded 2-core machine.
WAIT_SECONDS = 30.0


@dataclass
class FlowRun:
    airflow: AirflowRunner
    first: DagTestResult
    second: DagTestResult
    before: dict[str, Any]
    after_first: dict[str, Any]
    after_second: dict[str, Any]
    xcoms_first: dict[str, Any]
    xcoms_second: dict[str, Any]
    report_dir: Path


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowRun]:
    report_dir = tmp_path_factory.mktemp("reports")
    with SandboxServer(state=SandboxState()) as sandbox:
        sandbox.reset()
        control = sandbox.control_url
        with AirflowRunner(ROOT / "example_dags", home=tmp_path_factory.mktemp("airflow-home")) as airflow:
            airflow.env.update(sandbox_connection_env(sandbox.url))
            airflow.env["LARA_REPORT_DIR"] = str(report_dir)
            airflow.migrate()  # before the clock starts, so the period ends while the DAG waits
            httpx.post(
                f"{control}/lara/period_end",
                json={"cyclePeriodId": LaraSeed.DEMO_PERIOD_ID, "seconds": WAIT_SECONDS},
            ).raise_for_status()
            before = httpx.get(f"{control}/lara/state").json()
            first = airflow.dags_test(DAG_ID)
            after_first = httpx.get(f"{control}/lara/state").json()
            xcoms_first = airflow.xcom_values(DAG_ID)
            second = airflow.dags_test(DAG_ID)
            after_second = httpx.get(f"{control}/lara/state").json()
            xcoms_second = airflow.xcom_values(DAG_ID)
            yield FlowRun(
                airflow, first, second, before, after_first, after_second, xcoms_first, xcoms_second, report_dir
            )


def _period_end(state: dict[str, Any]) -> str:
    return next(p["endDate"] for p in state["periods"] if p["cyclePeriodId"] == LaraSeed.DEMO_PERIOD_ID)


def test_the_dag_succeeds_and_the_sensor_waited_for_the_end(flow: FlowRun):
    assert flow.first.succeeded, flow.first.output[-6000:]
    assert set(flow.first.task_states) == {
        "wait_for_period_end",
        "check_compliance",
        "restrict_non_compliant",
        "write_report",
    }
    waited = flow.xcoms_first["wait_for_period_end"]
    assert waited["cycle_period_id"] == LaraSeed.DEMO_PERIOD_ID
    # It found the period running, deferred, and came back through the trigger once the end passed.
    text = flow.airflow.log_text() + flow.first.output
    assert "ends at" in text, text[-6000:]
    assert f"period {LaraSeed.DEMO_PERIOD_ID} ended at" in text


def test_exactly_the_non_compliant_members_are_restricted_from_the_period_end(flow: FlowRun):
    end = _period_end(flow.before)[:19]
    for m in flow.after_first["members"]:
        if m["userId"] in LaraSeed.NON_COMPLIANT_IDS:
            assert m["currentStatus"] == RESTRICTED and m["isActiveMember"] is False, m
            restricted = [s for s in m["statuses"] if s["status"] == RESTRICTED]
            assert len(restricted) == 1 and restricted[0]["startDate"] == end
            closed = [s for s in m["statuses"] if s["status"] == "Membre"]
            assert closed[0]["endDate"] == end
        else:
            assert m["statuses"] == next(b for b in flow.before["members"] if b["userId"] == m["userId"])["statuses"]
            assert m["currentStatus"] == "Membre" and m["isActiveMember"] is True


def test_a_rerun_changes_nothing(flow: FlowRun):
    assert flow.second.succeeded, flow.second.output[-6000:]
    assert flow.after_second["members"] == flow.after_first["members"]
    restrict = flow.xcoms_second["restrict_non_compliant"]
    assert (restrict["done"], restrict["already_done"], restrict["failed"]) == (0, 3, 0)
    assert flow.xcoms_first["restrict_non_compliant"]["done"] == 3


def test_the_report_is_written(flow: FlowRun):
    summary = flow.xcoms_first["write_report"]
    assert (summary["compliant"], summary["non_compliant"], summary["restricted_now"]) == (3, 3, 3)
    report = json.loads(Path(summary["path"]).read_text())
    assert Path(summary["path"]).parent == flow.report_dir
    rows = {r["member"]: r for r in report["members"]}
    assert rows[LaraSeed.MEMBER_IDS[4]]["shortfall"] == 0.5
    assert rows[LaraSeed.MEMBER_IDS[3]]["status_change"] == "done"
    assert flow.xcoms_second["write_report"]["already_restricted"] == 3


def test_the_credentials_never_appear_in_logs_xcom_or_the_metadata_db(flow: FlowRun):
    for secret in LARA_CREDENTIALS.values():
        assert secret not in flow.first.output and secret not in flow.second.output
        assert secret not in flow.airflow.log_text()
        assert secret.encode() not in flow.airflow.db_path.read_bytes()

"""The Pynter re-certification DAG in a real Airflow (`airflow dags test`, SQLite) against the sandbox.

One module-scoped run plus a re-run back the checks: every task succeeded, the sandbox state afterwards
(one cohort per overdue course, a new result for each overdue learner, nobody overdue any more), the CSV
reports, a re-run that inserts nothing, and the SOAP password nowhere in what Airflow kept.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer, SandboxState
from airflow_provider_lms.sandbox.pynter import PYNTER_PREFIX, PYNTER_SANDBOX_USERNAME
from airflow_provider_lms.testing import AirflowRunner, DagTestResult, sandbox_connection_env

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "lms_pynter_recertification"
# A password no other part of the suite uses, so that finding it anywhere means it leaked.
DISTINCT_PASSWORD = "sbx-pynter-pw-8c1d5e3f"
OVERDUE = {("E1001", 1), ("E1003", 1), ("E1003", 2)}


@dataclass
class FlowRun:
    airflow: AirflowRunner
    first: DagTestResult
    second: DagTestResult
    before: dict[str, Any]
    after_first: dict[str, Any]
    after_second: dict[str, Any]
    reports: Path
    xcoms_first: dict[str, Any]
    xcoms_second: dict[str, Any]


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowRun]:
    state = SandboxState()
    reports = tmp_path_factory.mktemp("pynter-reports")
    with SandboxServer(state=state) as sandbox:
        sandbox.reset()
        state.pynter.password = DISTINCT_PASSWORD
        control = sandbox.control_url
        httpx.put(f"{control}/pynter/auto_progress", json={"complete_after_seconds": 2}).raise_for_status()
        before = httpx.get(f"{control}/pynter/state").json()
        # Only this DAG in the folder: `dags test` serializes every DAG it finds, so an unrelated broken
        # file would fail this run for reasons that are not Pynter's.
        dags = tmp_path_factory.mktemp("dags")
        shutil.copy(ROOT / "example_dags" / f"{DAG_ID}.py", dags)
        with AirflowRunner(dags, home=tmp_path_factory.mktemp("airflow-home")) as airflow:
            env = sandbox_connection_env(sandbox.url)
            env["AIRFLOW_CONN_PYNTER_DEFAULT"] = json.dumps(
                {
                    "conn_type": "pynter",
                    "login": PYNTER_SANDBOX_USERNAME,
                    "password": DISTINCT_PASSWORD,
                    "extra": {"base_url": sandbox.url + PYNTER_PREFIX},
                }
            )
            airflow.env.update(env)
            first = airflow.dags_test(DAG_ID, conf={"report_dir": str(reports / "first")})
            after_first = httpx.get(f"{control}/pynter/state").json()
            xcoms_first = airflow.xcom_values(DAG_ID)
            second = airflow.dags_test(DAG_ID, conf={"report_dir": str(reports / "second")})
            after_second = httpx.get(f"{control}/pynter/state").json()
            xcoms_second = airflow.xcom_values(DAG_ID)
            yield FlowRun(airflow, first, second, before, after_first, after_second, reports, xcoms_first, xcoms_second)


def _overdue(state: dict[str, Any]) -> set[tuple[str, int]]:
    return {(r["ExternalId"], r["ModuleId"]) for r in state["planning"] if r["Status"] == "Verlopen"}


def test_the_dag_succeeds_with_every_task(flow: FlowRun):
    assert flow.first.succeeded, flow.first.output[-6000:]
    waits = [t for t in flow.first.task_states if t.startswith("wait_for_recertification[")]
    assert len(waits) == len(OVERDUE)
    assert flow.first.task_states["sync_new_completions"] == "success"


def test_the_sandbox_state_shows_every_overdue_learner_recertified(flow: FlowRun):
    assert _overdue(flow.before) == OVERDUE
    assert _overdue(flow.after_first) == set()
    new = flow.after_first["results"][len(flow.before["results"]) :]
    assert {(r["ExternalId"], r["ModuleId"]) for r in new} == OVERDUE
    # The old results stay: a course has several results over time, the latest is the current status.
    assert len(flow.after_first["results"]) == len(flow.before["results"]) + len(OVERDUE)
    classes = flow.after_first["classes"][len(flow.before["classes"]) :]
    assert sorted(c["ModuleId"] for c in classes) == [1, 2]
    assert all(c["Name"].startswith("Herhaling ") for c in classes)
    assert "UpdateEmployee" not in flow.after_first["calls"]


def test_the_reports_list_the_overdue_learners_and_their_new_results(flow: FlowRun):
    with open(flow.reports / "first" / "overdue.csv", encoding="utf-8") as handle:
        overdue = list(csv.DictReader(handle))
    assert {(r["learner_id"], int(r["course_id"])) for r in overdue} == OVERDUE
    with open(flow.reports / "first" / "completions.csv", encoding="utf-8") as handle:
        completions = list(csv.DictReader(handle))
    assert {(r["learner_id"], int(r["course_id"])) for r in completions} == OVERDUE
    synced = flow.xcoms_first["sync_new_completions"]
    assert synced["count"] == 3 and {r["grade"] for r in synced["rows"]} == {"passed"}
    waited = [v for k, v in flow.xcoms_first.items() if k.startswith("wait_for_recertification[")]
    assert {w["state"] for w in waited} == {"passed"}
    assert all(w["completed_at"] for w in waited)


def test_a_rerun_inserts_nothing_and_waits_for_nobody(flow: FlowRun):
    assert flow.second.succeeded, flow.second.output[-6000:]
    assert flow.after_second["classes"] == flow.after_first["classes"]
    assert flow.after_second["results"] == flow.after_first["results"]
    assert flow.xcoms_second["plan_recertification"] == []
    with open(flow.reports / "second" / "overdue.csv", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == []


def test_the_password_never_appears_in_logs_xcom_or_the_metadata_db(flow: FlowRun):
    assert DISTINCT_PASSWORD not in flow.first.output and DISTINCT_PASSWORD not in flow.second.output
    assert DISTINCT_PASSWORD not in flow.airflow.log_text()
    assert DISTINCT_PASSWORD.encode() not in flow.airflow.db_path.read_bytes()

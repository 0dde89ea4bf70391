"""The Eduframe example DAG in a real Airflow (`airflow dags test`, SQLite) against the sandbox.

One module-scoped run (plus a re-run) backs several checks: the sandbox state afterwards, the
idempotency of the re-run, every Eduframe request checked against the OpenAPI document, and a scan
for the API key in everything Airflow kept (logs, XCom, rendered templates, the whole metadata DB).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer, SandboxState
from airflow_provider_lms.testing import AirflowRunner, DagTestResult, sandbox_connection_env
from scripts.demo import DAG_ID, learner_emails, verify_state
from tests.openapi_helpers import validate_logged_eduframe_exchanges

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parents[2]
# A key no other part of the suite uses, so that finding it anywhere means it leaked.
DISTINCT_KEY = "sbx-edu-key-4f9c2e7a1b"


@dataclass
class FlowRun:
    sandbox: SandboxServer
    airflow: AirflowRunner
    first: DagTestResult
    second: DagTestResult
    state_after_first: dict[str, Any]
    state_after_second: dict[str, Any]
    requests: list[dict[str, Any]]
    xcoms_first: dict[str, Any]
    xcoms_second: dict[str, Any]


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowRun]:
    state = SandboxState()
    state.eduframe.api_keys = {DISTINCT_KEY}
    with SandboxServer(state=state) as sandbox:
        sandbox.reset()
        state.eduframe.api_keys = {DISTINCT_KEY}
        httpx.put(
            f"{sandbox.control_url}/eduframe/auto_progress",
            json={"complete_after_seconds": 2, "graduation_state": "passed"},
        ).raise_for_status()
        with AirflowRunner(ROOT / "example_dags", home=tmp_path_factory.mktemp("airflow-home")) as airflow:
            airflow.env.update(sandbox_connection_env(sandbox.url, overrides={"eduframe": {"password": DISTINCT_KEY}}))
            first = airflow.dags_test(DAG_ID)
            after_first = httpx.get(f"{sandbox.control_url}/eduframe/state").json()
            requests = httpx.get(f"{sandbox.control_url}/requests").json()
            xcoms_first = airflow.xcom_values(DAG_ID)
            second = airflow.dags_test(DAG_ID)
            after_second = httpx.get(f"{sandbox.control_url}/eduframe/state").json()
            xcoms_second = airflow.xcom_values(DAG_ID)
            yield FlowRun(
                sandbox, airflow, first, second, after_first, after_second, requests, xcoms_first, xcoms_second
            )


def test_the_dag_succeeds_with_every_task(flow: FlowRun):
    assert flow.first.succeeded, flow.first.output[-5000:]
    assert flow.first.task_states["award_certificates"] == "success"
    assert sum(1 for t in flow.first.task_states if t.startswith("wait_for_completion[")) == 3


def test_each_learner_is_enrolled_once_graded_and_certified(flow: FlowRun):
    assert verify_state(flow.state_after_first, learner_emails()) == []


def test_a_rerun_changes_nothing(flow: FlowRun):
    assert flow.second.succeeded, flow.second.output[-5000:]
    assert flow.state_after_second["orders"] == flow.state_after_first["orders"]
    assert flow.state_after_second["enrollments"] == flow.state_after_first["enrollments"]
    assert flow.state_after_second["users"] == flow.state_after_first["users"]
    xcoms = flow.xcoms_second
    assert xcoms["enroll_in_course"]["done"] == 0
    assert xcoms["enroll_in_course"]["already_done"] == 3
    assert xcoms["record_grades"]["already_done"] == 3
    assert xcoms["award_certificates"]["already_done"] == 3


def test_xcom_results_are_typed_summaries(flow: FlowRun):
    xcoms = flow.xcoms_first
    learners = xcoms["find_or_create_learners"]
    assert learners["total"] == 3 and learners["failed"] == 0
    assert {i["status"] for i in learners["items"]} == {"done", "already_done"}  # anna existed, two are new
    assert xcoms["wait_for_completion[0]"]["state"] == "passed"
    assert xcoms["enroll_in_course"]["done"] == 3
    assert xcoms["record_grades"]["done"] == 3 and xcoms["award_certificates"]["done"] == 3


def test_every_eduframe_request_of_the_flow_validates_against_the_openapi_document(flow: FlowRun):
    eduframe = [r for r in flow.requests if r["path"].startswith("/eduframe/")]
    assert len(eduframe) >= 20
    methods = {(r["method"], r["path"].split("/api/v1", 1)[1].split("/")[1]) for r in eduframe}
    assert ("POST", "orders") in methods and ("POST", "grades") in methods and ("PUT", "program") in methods
    assert validate_logged_eduframe_exchanges(eduframe, flow.sandbox.url) == len(eduframe)


def test_the_api_key_never_appears_in_logs_xcom_or_the_metadata_db(flow: FlowRun):
    key = DISTINCT_KEY
    assert key not in flow.first.output and key not in flow.second.output
    assert key not in flow.airflow.log_text()
    # The whole SQLite file: XCom, rendered templates, task instance notes, anything Airflow stored.
    assert key.encode() not in flow.airflow.db_path.read_bytes()
    assert key not in str(flow.requests)

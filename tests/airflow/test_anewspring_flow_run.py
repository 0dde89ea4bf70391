"""The aNewSpring example DAG in a real Airflow (`airflow dags test`, SQLite) against the sandbox.

One module-scoped run plus a re-run: the sandbox state afterwards (each learner subscribed once, scored,
completed, certified when the exam passed), the report file, a re-run that changes nothing, and the API key
nowhere in what Airflow kept.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer, SandboxState
from airflow_provider_lms.testing import AirflowRunner, DagTestResult, sandbox_connection_env

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "lms_anewspring_cohort_to_certificates"
DISTINCT_KEY = "sbx-ans-key-8d2b6f0c3e"
COURSE = "VEILIG-2026"
CSV_SCORES = {"learner-001": 82.0, "learner-002": 91.0, "learner-003": 48.0, "learner-004": 74.5}


@dataclass
class FlowRun:
    airflow: AirflowRunner
    first: DagTestResult
    second: DagTestResult
    state_first: dict[str, Any]
    state_second: dict[str, Any]
    xcoms_first: dict[str, Any]
    xcoms_second: dict[str, Any]
    calls: list[dict[str, Any]]


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowRun]:
    state = SandboxState()
    with SandboxServer(state=state) as sandbox:
        sandbox.reset()
        state.anewspring.api_keys = {DISTINCT_KEY}
        httpx.put(
            f"{sandbox.control_url}/anewspring/auto_progress", json={"complete_after_seconds": 2}
        ).raise_for_status()
        # A DAG folder of our own (this DAG and its CSV): another example DAG that fails to parse must not
        # stop `dags test`, which serializes the whole folder.
        dags = tmp_path_factory.mktemp("dags")
        shutil.copy(ROOT / "example_dags" / f"{DAG_ID}.py", dags)
        shutil.copytree(ROOT / "example_dags" / "data", dags / "data")
        with AirflowRunner(dags, home=tmp_path_factory.mktemp("airflow-home")) as airflow:
            env = sandbox_connection_env(sandbox.url)
            conn = env["AIRFLOW_CONN_ANEWSPRING_DEFAULT"].replace("sandbox-anewspring-key", DISTINCT_KEY)
            airflow.env.update({**env, "AIRFLOW_CONN_ANEWSPRING_DEFAULT": conn})
            first = airflow.dags_test(DAG_ID)
            state_first = httpx.get(f"{sandbox.control_url}/anewspring/state").json()
            xcoms_first = airflow.xcom_values(DAG_ID)
            calls = httpx.get(f"{sandbox.control_url}/anewspring/calls").json()
            second = airflow.dags_test(DAG_ID)
            state_second = httpx.get(f"{sandbox.control_url}/anewspring/state").json()
            xcoms_second = airflow.xcom_values(DAG_ID)
            yield FlowRun(airflow, first, second, state_first, state_second, xcoms_first, xcoms_second, calls)


def _subs(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["user_id"]: s for s in state["subscriptions"] if s["course_id"] == COURSE}


def test_the_dag_succeeds_with_every_task(flow: FlowRun):
    assert flow.first.succeeded, flow.first.output[-6000:]
    assert sum(1 for t in flow.first.task_states if t.startswith("wait_for_completion[")) == 4


def test_the_sandbox_holds_each_learner_once_scored_completed_and_certified_if_passed(flow: FlowRun):
    subs = _subs(flow.state_first)
    assert set(subs) == set(CSV_SCORES) | {"learner-001", "learner-002", "learner-003"}
    for learner, score in CSV_SCORES.items():
        sub = subs[learner]
        assert sub["times_subscribed"] == 1 and sub["subscribed"]
        assert sub["external_scores"] == {"EXAMEN-PRAKTIJK": score}
        assert sub["completed"]
        # 48 is below the pass mark: the course completes, the certificate does not pass.
        assert sub["stage"] == ("course_completed" if score < 55 else "certificate_passed")
    # Every write went through the documented POST calls, form-encoded.
    posts = {c["function"] for c in flow.calls if c["method"] == "POST"}
    assert posts == {"subscribeGroups", "subscribe", "scoreExternalActivity"}


def test_the_report_file_has_results_and_certificates_and_the_log_names_it(flow: FlowRun):
    report = flow.xcoms_first["report"]
    path = Path(report["path"])
    assert path.exists() and path.suffix == ".csv"
    assert f"report written to {path}" in flow.first.output + flow.airflow.log_text()
    with open(path, encoding="utf-8") as handle:
        rows = {r["learner_id"]: r for r in csv.DictReader(handle)}
    assert set(rows) == set(CSV_SCORES)
    assert rows["learner-002"]["certified"] == "True" and rows["learner-002"]["state"] == "passed"
    assert rows["learner-002"]["exam_score"] == "91%" and rows["learner-002"]["exam_score_percent"] == "91.0"
    assert rows["learner-003"]["certified"] == "False" and rows["learner-003"]["state"] == "completed"
    assert report["certified"] == 3


def test_a_rerun_changes_nothing(flow: FlowRun):
    assert flow.second.succeeded, flow.second.output[-6000:]
    first, second = _subs(flow.state_first), _subs(flow.state_second)
    for learner, sub in first.items():
        again = second[learner]
        assert again["times_subscribed"] == 1
        assert again["external_scores"] == sub["external_scores"]
        assert again["score_posts"] == sub["score_posts"]  # equal scores are not even posted again
        assert again["stage"] == sub["stage"]
    xcoms = flow.xcoms_second
    assert xcoms["subscribe_learners"]["done"] == 0 and xcoms["subscribe_learners"]["already_done"] == 4
    assert xcoms["post_exam_scores"]["done"] == 0 and xcoms["post_exam_scores"]["already_done"] == 4


def test_first_run_summaries(flow: FlowRun):
    xcoms = flow.xcoms_first
    # The group held learner-001..003; only learner-004 needed its own subscribe.
    assert xcoms["subscribe_learners"]["done"] == 1 and xcoms["subscribe_learners"]["already_done"] == 3
    assert xcoms["post_exam_scores"]["done"] == 4
    assert xcoms["wait_for_completion[1]"]["state"] == "passed"


def test_the_api_key_never_appears_in_logs_xcom_or_the_metadata_db(flow: FlowRun):
    assert DISTINCT_KEY not in flow.first.output and DISTINCT_KEY not in flow.second.output
    assert DISTINCT_KEY not in flow.airflow.log_text()
    assert DISTINCT_KEY.encode() not in flow.airflow.db_path.read_bytes()

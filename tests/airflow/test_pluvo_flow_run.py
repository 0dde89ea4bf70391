"""The Pluvo example DAG in a real Airflow (`airflow dags test`, SQLite) against the sandbox.

One module-scoped run plus a re-run: the sandbox state afterwards (each employee a Pluvo user once, with the
HR employee id as ref; each in the training once; completed; certified once; no mail sent), the report file,
a re-run that changes nothing, and the client secret nowhere in what Airflow kept.
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
DAG_ID = "lms_pluvo_hr_export_to_certificates"
TRAINING = "10000000-0000-4000-8000-000000000001"
DISTINCT_SECRET = "sbx-pluvo-secret-5c1e9a7f20"
CLIENT_ID = "sandbox-pluvo-client"
USERS_QUERY = """query($email: String) { user(email: $email) { id ref name email } }"""


@dataclass
class FlowRun:
    airflow: AirflowRunner
    first: DagTestResult
    second: DagTestResult
    state_first: dict[str, Any]
    state_second: dict[str, Any]
    xcoms_first: dict[str, Any]
    xcoms_second: dict[str, Any]
    users: dict[str, dict[str, Any]]


def _hr_rows() -> list[dict[str, str]]:
    with open(ROOT / "example_dags" / "data" / "pluvo_hr_export.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _users_by_email(sandbox: SandboxServer) -> dict[str, dict[str, Any]]:
    """Each HR employee as Pluvo holds them, read through the sandbox's own GraphQL endpoint."""
    base = f"{sandbox.url}/pluvo"
    token = httpx.post(
        f"{base}/oauth/token/",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-pluvo-client",
            "client_secret": DISTINCT_SECRET,
        },
    ).json()["access_token"]
    found = {}
    for row in _hr_rows():
        answer = httpx.post(
            f"{base}/graphql/",
            json={"query": USERS_QUERY, "variables": {"email": row["email"]}},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        found[row["email"].lower()] = answer["data"]["user"]
    return found


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowRun]:
    state = SandboxState()
    with SandboxServer(state=state) as sandbox:
        sandbox.reset()
        state.platform("pluvo").clients = {CLIENT_ID: DISTINCT_SECRET}
        # Learners finish the training two sandbox seconds after they join it, with a score of 0.8.
        httpx.put(
            f"{sandbox.control_url}/pluvo/auto_progress", json={"complete_after_seconds": 2, "score": 0.8}
        ).raise_for_status()
        dags = tmp_path_factory.mktemp("dags")
        shutil.copy(ROOT / "example_dags" / f"{DAG_ID}.py", dags)
        shutil.copytree(ROOT / "example_dags" / "data", dags / "data")
        with AirflowRunner(dags, home=tmp_path_factory.mktemp("airflow-home")) as airflow:
            airflow.env.update(sandbox_connection_env(sandbox.url, overrides={"pluvo": {"password": DISTINCT_SECRET}}))
            first = airflow.dags_test(DAG_ID)
            state_first = httpx.get(f"{sandbox.control_url}/pluvo/state").json()
            xcoms_first = airflow.xcom_values(DAG_ID)
            second = airflow.dags_test(DAG_ID)
            state_second = httpx.get(f"{sandbox.control_url}/pluvo/state").json()
            xcoms_second = airflow.xcom_values(DAG_ID)
            users = _users_by_email(sandbox)
            yield FlowRun(airflow, first, second, state_first, state_second, xcoms_first, xcoms_second, users)


def test_the_dag_succeeds_with_every_task(flow: FlowRun):
    assert flow.first.succeeded, flow.first.output[-6000:]
    assert sum(1 for t in flow.first.task_states if t.startswith("wait_for_completion[")) == len(_hr_rows())


def test_each_employee_is_one_pluvo_user_with_the_hr_id_as_ref(flow: FlowRun):
    for row in _hr_rows():
        user = flow.users[row["email"].lower()]
        assert user is not None, row
        assert user["ref"] == row["employee_id"]
        assert user["name"] == f"{row['first_name']} {row['last_name']}"
    # 120 seeded users plus the four employees, once each, even after the re-run.
    assert flow.state_first["users"] == 124 and flow.state_second["users"] == 124


def test_each_employee_joined_the_training_once_completed_and_holds_one_certificate(flow: FlowRun):
    ids = {u["id"] for u in flow.users.values()}
    assert set(flow.state_first["participants"][TRAINING]) == ids
    done = {p["user_id"]: p for p in flow.state_first["progress"] if p["training_id"] == TRAINING}
    assert set(done) == ids and all(p["completion_date"] and p["progress"] == 1.0 for p in done.values())
    items = [i for i in flow.state_first["portfolio_items"] if i["user_id"] in ids]
    assert sorted(i["user_id"] for i in items) == sorted(ids)


def test_no_invitation_or_mail_went_out(flow: FlowRun):
    # Pluvo invites and mails by default; the provider only when a parameter asks.
    assert flow.state_first["mails"] == [] and flow.state_second["mails"] == []


def test_the_report_names_progress_score_completion_and_certificate(flow: FlowRun):
    report = flow.xcoms_first["report"]
    path = Path(report["path"])
    assert f"report written to {path}" in flow.first.output + flow.airflow.log_text()
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["learner_id"] for r in rows} == {u["id"] for u in flow.users.values()}
    assert all(r["state"] == "completed" and r["completed_at"] and r["certificate"] == "done" for r in rows), rows
    assert {r["score"] for r in rows} == {"0.8"}


def test_a_rerun_changes_nothing(flow: FlowRun):
    assert flow.second.succeeded, flow.second.output[-6000:]
    for key in ("participants", "portfolio_items", "enrollments", "progress", "groups"):
        assert flow.state_second[key] == flow.state_first[key], key
    xcoms = flow.xcoms_second
    employees = len(_hr_rows())
    assert xcoms["find_or_create_learners"]["already_done"] == employees
    assert xcoms["enroll_in_training"]["already_done"] == employees
    assert xcoms["issue_certificates"]["already_done"] == employees


def test_the_client_secret_never_appears_in_logs_xcom_or_the_metadata_db(flow: FlowRun):
    assert DISTINCT_SECRET not in flow.first.output and DISTINCT_SECRET not in flow.second.output
    assert DISTINCT_SECRET not in flow.airflow.log_text()
    assert DISTINCT_SECRET.encode() not in flow.airflow.db_path.read_bytes()

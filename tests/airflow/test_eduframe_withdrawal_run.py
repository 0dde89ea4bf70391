"""The Eduframe withdrawal example DAG in a real Airflow (`airflow dags test`, SQLite) against the sandbox.

Before the run the sandbox holds: Anna, Bram and Chloé ordered into program edition 1 (which enrolls them in
its planned course 1 too), Anna and Bram certified, Eva enrolled in planned course 1 only. The withdrawal
list names Anna, Bram, Chloé, Daan (never enrolled) and a former contractor Eduframe does not know. One
module-scoped run plus a re-run back the checks: enrollments canceled once, certificates deleted once,
Eva and Chloé's program enrollment untouched, the report, a re-run that changes nothing, every Eduframe
request valid by the OpenAPI document, and the API key nowhere in what Airflow kept.
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
from airflow_provider_lms.sandbox.eduframe import EduframeSeed
from airflow_provider_lms.testing import AirflowRunner, DagTestResult, sandbox_connection_env
from tests.openapi_helpers import validate_logged_eduframe_exchanges

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "lms_eduframe_withdrawal"
DISTINCT_KEY = "sbx-edu-withdrawal-key-7d21c9"
ANNA, BRAM, CHLOE, DAAN, EVA = EduframeSeed.LEARNER_IDS
COURSE = EduframeSeed.WORKPLACE_SAFETY_PLANNED_COURSE_ID


@dataclass
class FlowRun:
    sandbox: SandboxServer
    airflow: AirflowRunner
    first: DagTestResult
    second: DagTestResult
    state_first: dict[str, Any]
    state_second: dict[str, Any]
    requests: list[dict[str, Any]]
    xcoms_first: dict[str, Any]
    xcoms_second: dict[str, Any]
    counters_first: dict[str, Any]
    counters_second: dict[str, Any]


def _prepare(sandbox: SandboxServer) -> None:
    """Enroll and certify the learners through the sandbox's own API, as an earlier flow would have."""
    api = httpx.Client(
        base_url=sandbox.platform_url("eduframe"), headers={"Authorization": f"Bearer {DISTINCT_KEY}"}, timeout=10
    )
    with api:
        for variant, students in (
            (EduframeSeed.PROGRAM_VARIANT_ID, [ANNA, BRAM, CHLOE]),
            (EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID, [EVA]),
        ):
            body = {"catalog_variant_id": variant, "creator_id": EduframeSeed.ADMIN_USER_ID, "student_ids": students}
            api.post("/orders", json=body).raise_for_status()
        for pe in api.get("/program/enrollments", params={"per_page": 100}).json():
            if pe["student_id"] in (ANNA, BRAM):
                api.put(
                    f"/program/enrollments/{pe['id']}/award_certificate",
                    json={"certificate_template_id": EduframeSeed.CERTIFICATE_TEMPLATE_ID},
                ).raise_for_status()


def _counters(state: SandboxState) -> dict[str, Any]:
    """What the sandbox counts itself: each enrollment's cancels, each program enrollment's removed certificates."""
    ef = state.eduframe
    return {
        "canceled": {e.student_id: e.times_canceled for e in ef.enrollments.values()},
        "deleted": {p.student_id: p.certificates_deleted for p in ef.program_enrollments.values()},
    }


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowRun]:
    state = SandboxState()
    with SandboxServer(state=state) as sandbox:
        sandbox.reset()
        state.eduframe.api_keys = {DISTINCT_KEY}
        _prepare(sandbox)
        httpx.delete(f"{sandbox.control_url}/requests").raise_for_status()
        dags = tmp_path_factory.mktemp("dags")
        shutil.copy(ROOT / "example_dags" / f"{DAG_ID}.py", dags)
        shutil.copytree(ROOT / "example_dags" / "data", dags / "data")
        with AirflowRunner(dags, home=tmp_path_factory.mktemp("airflow-home")) as airflow:
            airflow.env.update(sandbox_connection_env(sandbox.url, overrides={"eduframe": {"password": DISTINCT_KEY}}))
            first = airflow.dags_test(DAG_ID)
            state_first = httpx.get(f"{sandbox.control_url}/eduframe/state").json()
            counters_first = _counters(state)
            xcoms_first = airflow.xcom_values(DAG_ID)
            second = airflow.dags_test(DAG_ID)
            state_second = httpx.get(f"{sandbox.control_url}/eduframe/state").json()
            counters_second = _counters(state)
            requests = httpx.get(f"{sandbox.control_url}/requests").json()  # both runs
            xcoms_second = airflow.xcom_values(DAG_ID)
            yield FlowRun(
                sandbox,
                airflow,
                first,
                second,
                state_first,
                state_second,
                requests,
                xcoms_first,
                xcoms_second,
                counters_first,
                counters_second,
            )


def test_the_dag_succeeds_with_every_task(flow: FlowRun):
    assert flow.first.succeeded, flow.first.output[-6000:]
    assert set(flow.first.task_states) == {
        "read_withdrawals",
        "look_up_learners",
        "cancel_enrollments",
        "revoke_certificates",
        "report",
    }


def test_withdrawn_learners_enrollments_are_canceled_once_and_others_untouched(flow: FlowRun):
    in_course = {e["student_id"]: e for e in flow.state_first["enrollments"] if e["planned_course_id"] == COURSE}
    assert {s: e["status"] for s, e in in_course.items()} == {
        ANNA: "canceled",
        BRAM: "canceled",
        CHLOE: "canceled",
        EVA: "confirmed",  # not on the list
    }
    assert flow.counters_first["canceled"] == {ANNA: 1, BRAM: 1, CHLOE: 1, EVA: 0}
    summary = flow.xcoms_first["cancel_enrollments"]
    assert (summary["done"], summary["already_done"], summary["failed"]) == (3, 1, 0)  # Daan had none


def test_withdrawn_learners_certificates_are_deleted_once(flow: FlowRun):
    pes = {p["student_id"]: p for p in flow.state_first["program_enrollments"]}
    assert {s: p["certificate_awarded"] for s, p in pes.items()} == {ANNA: False, BRAM: False, CHLOE: False}
    assert flow.counters_first["deleted"] == {ANNA: 1, BRAM: 1, CHLOE: 0}
    # Only the certificate goes: the program enrollments themselves stay as they were.
    assert {p["state"] for p in pes.values()} == {"confirmed"}
    summary = flow.xcoms_first["revoke_certificates"]
    assert (summary["done"], summary["already_done"], summary["failed"]) == (2, 2, 0)  # Chloé and Daan held none


def test_the_report_says_what_happened_to_each_person(flow: FlowRun):
    path = Path(flow.xcoms_first["report"]["path"])
    with open(path, encoding="utf-8") as handle:
        rows = {r["email"]: r for r in csv.DictReader(handle)}
    assert len(rows) == 5
    anna = rows["anna.devries@sandbox.example"]
    assert (anna["eduframe_user_id"], anna["enrollment"], anna["certificate"]) == (str(ANNA), "canceled", "revoked")
    assert rows["bram.jansen@sandbox.example"]["certificate"] == "revoked"  # the list wrote Bram.Jansen@...
    assert rows["chloe.bakker@sandbox.example"]["certificate"] == "none held"
    assert rows["daan.visser@sandbox.example"]["enrollment"].startswith("none open")
    assert rows["former.contractor@sandbox.example"]["enrollment"] == "not in Eduframe"
    assert flow.xcoms_first["look_up_learners"]["unknown"] == ["former.contractor@sandbox.example"]


def test_a_rerun_changes_nothing(flow: FlowRun):
    assert flow.second.succeeded, flow.second.output[-6000:]
    for key in ("enrollments", "program_enrollments", "orders", "users"):
        assert flow.state_second[key] == flow.state_first[key], key
    assert flow.counters_second == flow.counters_first
    for task_id, total in (("cancel_enrollments", 4), ("revoke_certificates", 4)):
        summary = flow.xcoms_second[task_id]
        assert (summary["done"], summary["already_done"]) == (0, total), task_id
    writes = [r for r in flow.requests if r["method"] != "GET" and r["path"].startswith("/eduframe/")]
    assert len(writes) == 5  # over both runs: 3 cancels and 2 certificate deletions, all in the first


def test_every_eduframe_request_validates_against_the_openapi_document(flow: FlowRun):
    eduframe = [r for r in flow.requests if r["path"].startswith("/eduframe/")]
    methods = {(r["method"], r["path"].rsplit("/", 1)[-1]) for r in eduframe}
    assert ("PUT", "cancel") in methods and ("POST", "delete_certificate") in methods
    assert validate_logged_eduframe_exchanges(eduframe, flow.sandbox.url) == len(eduframe)


def test_the_api_key_never_appears_in_logs_xcom_or_the_metadata_db(flow: FlowRun):
    assert DISTINCT_KEY not in flow.first.output and DISTINCT_KEY not in flow.second.output
    assert DISTINCT_KEY not in flow.airflow.log_text()
    assert DISTINCT_KEY.encode() not in flow.airflow.db_path.read_bytes()

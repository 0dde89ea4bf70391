"""The flagship DAG, run by a real scheduler with a real triggerer, as in a deployment.

api-server, dag-processor, scheduler (LocalExecutor, parallelism 2) and triggerer run as separate processes
against the sandbox. The test starts a run through the REST API, as the UI's Trigger button does. While the
learners are still learning in aNewSpring, all four mapped completion sensors are deferred at the same
time, each as a trigger that the triggerer has claimed. The pool shows no running slot, and the executor's
two slots could not have held four waits at once. Then the learners finish: the run completes with grades
and certificates in Eduframe and the status change in Lära, each written once, and a second run changes
nothing. The second flagship, on Pluvo, then runs twice on the same scheduler: its waits are triggers claimed
by the triggerer, each employee is enrolled and certified once, no mail goes out, and the re-run changes nothing.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.testing import sandbox_connection_env
from tests.airflow.browser import artifacts_dir, screenshot_pages
from tests.airflow.live import LiveAirflow, live_airflow

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "lms_flagship_enrollment_to_certification"
SENSOR = "anewspring_wait_for_completion"
# The second flagship: Pluvo from an HR export to certificates, on the same scheduler and triggerer.
PLUVO_DAG_ID = "lms_pluvo_hr_export_to_certificates"
PLUVO_TRAINING = "10000000-0000-4000-8000-000000000001"
LEARNERS = 4
PARALLELISM = 2


@dataclass
class Flagship:
    live: LiveAirflow
    sandbox: SandboxServer
    run_id: str
    while_waiting: dict[str, Any]
    final_state: str
    second_run_state: str
    state_after_first: dict[str, Any]
    state_after_second: dict[str, Any]
    pluvo: dict[str, Any]


def _trigger(live: LiveAirflow, dag_id: str = DAG_ID) -> str:
    answer = live.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["dag_run_id"])


def _finished(live: LiveAirflow, run_id: str, dag_id: str = DAG_ID) -> str | None:
    state = live.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
    return state if state in ("success", "failed") else None


def _run_pluvo_flagship(live: LiveAirflow, sandbox: SandboxServer) -> dict[str, Any]:
    """The Pluvo flow through the scheduler: its sensors defer to the triggerer until auto-progress completes."""
    httpx.put(
        f"{sandbox.control_url}/pluvo/auto_progress", json={"complete_after_seconds": 20, "score": 0.9}, timeout=30
    ).raise_for_status()
    run_id = _trigger(live, PLUVO_DAG_ID)
    classpaths = set()

    def finished() -> str | None:
        # Record what holds the waits while they wait: a trigger each, claimed by the triggerer.
        rows = live.airflow.query(
            "SELECT t.classpath FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id "
            "WHERE ti.dag_id = ? AND ti.run_id = ? AND t.triggerer_id IS NOT NULL",
            PLUVO_DAG_ID,
            run_id,
        )
        classpaths.update(r[0] for r in rows)
        return _finished(live, run_id, PLUVO_DAG_ID)

    final = live.wait_for("the Pluvo run to finish", finished, 900, interval=1)
    states = live.task_states(PLUVO_DAG_ID, run_id)
    state = httpx.get(f"{sandbox.control_url}/pluvo/state", timeout=30).json()
    second = _trigger(live, PLUVO_DAG_ID)
    second_final = live.wait_for("the second Pluvo run", lambda: _finished(live, second, PLUVO_DAG_ID), 900)
    again = httpx.get(f"{sandbox.control_url}/pluvo/state", timeout=30).json()
    return {
        "final": final,
        "states": states,
        "trigger_classpaths": classpaths,
        "state": state,
        "second_final": second_final,
        "state_again": again,
    }


def _sandbox_state(sandbox: SandboxServer) -> dict[str, Any]:
    state = {
        name: httpx.get(f"{sandbox.control_url}/{name}/state", timeout=30).json()
        for name in ("eduframe", "anewspring", "lara")
    }
    state["lara"].pop("now")  # the portal's clock, not its data
    return state


def _observe_waiting(live: LiveAirflow, run_id: str) -> dict[str, Any]:
    """Wait until every sensor is deferred at once, and record what holds a slot at that moment."""

    def all_deferred() -> dict[str, str] | None:
        states = {k: v for k, v in live.task_states(DAG_ID, run_id).items() if k.startswith(SENSOR)}
        if len(states) == LEARNERS and set(states.values()) == {"deferred"}:
            return states
        if "failed" in states.values() or "upstream_failed" in states.values():
            raise AssertionError(f"a sensor failed before it deferred: {states}\n{live.log_tails()}")
        return None

    sensors = live.wait_for("all four sensors to be deferred at once", all_deferred, 600)
    time.sleep(3)  # a few more poll cycles of the triggers: still deferred, still no slot
    pool = live.api("GET", "/pools/default_pool").json()
    triggers = live.airflow.query(
        "SELECT t.id, t.classpath, t.triggerer_id FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id "
        "WHERE ti.dag_id = ? AND ti.run_id = ? AND ti.task_id = ?",
        DAG_ID,
        run_id,
        SENSOR,
    )
    running = live.airflow.query(
        "SELECT COUNT(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND state = 'running'", DAG_ID, run_id
    )[0][0]
    return {
        "sensors": {**sensors, **{k: v for k, v in live.task_states(DAG_ID, run_id).items() if k.startswith(SENSOR)}},
        "pool": {k: pool.get(k) for k in ("slots", "running_slots", "queued_slots", "deferred_slots", "open_slots")},
        "triggers": [{"id": t[0], "classpath": t[1], "triggerer_id": t[2]} for t in triggers],
        "running_task_instances": running,
        "executor_parallelism": PARALLELISM,
    }


@pytest.fixture(scope="module")
def flagship(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flagship]:
    dags = tmp_path_factory.mktemp("dags")
    shutil.copy(ROOT / "example_dags" / f"{DAG_ID}.py", dags)
    shutil.copy(ROOT / "example_dags" / f"{PLUVO_DAG_ID}.py", dags)
    shutil.copytree(ROOT / "example_dags" / "data", dags / "data")
    home = tmp_path_factory.mktemp("airflow-home")
    with SandboxServer() as sandbox:
        env = {
            **sandbox_connection_env(sandbox.url),
            "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
            "AIRFLOW__TRIGGERER__CAPACITY": "100",
        }
        with live_airflow(
            dags,
            home,
            tmp_path_factory.mktemp("logs"),
            env=env,
            ready=lambda live: (
                len(live.airflow.query("SELECT dag_id FROM dag WHERE dag_id IN (?, ?)", DAG_ID, PLUVO_DAG_ID)) == 2
            ),
        ) as live:
            run_id = _trigger(live)
            # Nobody has finished the e-learning yet: the sensors find nothing done and defer.
            while_waiting = _observe_waiting(live, run_id)
            screenshot_pages(
                live,
                # The run with its four deferred sensors, and the pools page: deferred slots, no running ones.
                {
                    "flagship_sensors_deferred": f"/dags/{DAG_ID}/runs/{run_id}",
                    "flagship_pools_while_waiting": "/pools",
                },
                artifacts_dir("flagship"),
            )
            # The learners finish the course in aNewSpring (the certificate when every judged activity passed).
            httpx.put(
                f"{sandbox.control_url}/anewspring/auto_progress", json={"complete_after_seconds": 0}, timeout=30
            ).raise_for_status()
            final = live.wait_for("the run to finish", lambda: _finished(live, run_id), 900, interval=2)
            state_after_first = _sandbox_state(sandbox)
            finished_page = {"flagship_run_finished": f"/dags/{DAG_ID}/runs/{run_id}"}
            screenshot_pages(live, finished_page, artifacts_dir("flagship"))
            second = _trigger(live)
            second_state = live.wait_for("the second run to finish", lambda: _finished(live, second), 900, interval=2)
            state_after_second = _sandbox_state(sandbox)
            pluvo = _run_pluvo_flagship(live, sandbox)
            yield Flagship(
                live,
                sandbox,
                run_id,
                while_waiting,
                final,
                second_state,
                state_after_first,
                state_after_second,
                pluvo,
            )


def test_waiting_sensors_are_deferred_in_the_triggerer_and_hold_no_worker_slot(flagship: Flagship):
    seen = flagship.while_waiting
    (artifacts_dir("flagship") / "while_waiting.json").write_text(json.dumps(seen, indent=2, default=str))
    assert set(seen["sensors"].values()) == {"deferred"} and len(seen["sensors"]) == LEARNERS, seen
    # Four waits at once with an executor that runs two tasks at a time: the waits are not in its slots.
    assert seen["executor_parallelism"] < LEARNERS
    assert seen["running_task_instances"] == 0, seen
    assert seen["pool"]["running_slots"] == 0 and seen["pool"]["deferred_slots"] == LEARNERS, seen["pool"]
    # Each wait is a trigger that the running triggerer has claimed.
    assert len(seen["triggers"]) == LEARNERS
    assert all(t["triggerer_id"] is not None for t in seen["triggers"]), seen["triggers"]
    assert {t["classpath"] for t in seen["triggers"]} == {
        "airflow_provider_lms.triggers.enrollment.EnrollmentCompletedTrigger"
    }


def test_the_scheduler_runs_the_flow_to_the_end_across_three_platforms(flagship: Flagship):
    assert flagship.final_state == "success", flagship.live.log_tails()
    states = flagship.live.task_states(DAG_ID, flagship.run_id)
    assert set(states.values()) == {"success"}, states
    state = flagship.state_after_first
    # Eduframe: four learners enrolled in the course and the program, graded once, certified when aNewSpring did.
    enrollments = state["eduframe"]["enrollments"]
    assert len([e for e in enrollments if e["planned_course_id"] == 1]) == LEARNERS
    grades = [float(e["grade"]["score"]) for e in enrollments if e.get("grade")]
    with open(ROOT / "example_dags" / "data" / "anewspring_exam_scores.csv", newline="") as handle:
        exam = [float(row["score"]) for row in csv.DictReader(handle)]
    assert sorted(grades) == sorted(round(score / 10, 1) for score in exam)  # percent -> the Dutch 1-10 scale
    assert len(state["eduframe"]["grades"]) == LEARNERS
    certified = [p for p in state["eduframe"]["program_enrollments"] if p["certificate_awarded"]]
    assert len(certified) == 3  # learner-003 scored 48% and earned no aNewSpring certificate
    # aNewSpring: subscribed and scored once each, every course completed.
    subs = [s for s in state["anewspring"]["subscriptions"] if s["course_id"] == "VEILIG-2026"]
    assert len(subs) == LEARNERS and all(s["completed"] for s in subs)
    # Lära: the one member short of credits (permit 10004: 12 of 20) got the restricted status.
    restricted = [m["numero_permis"] for m in state["lara"]["members"] if m["currentStatus"].startswith("Restreint")]
    assert restricted == ["10004"]


def test_a_second_run_changes_nothing(flagship: Flagship):
    assert flagship.second_run_state == "success", flagship.live.log_tails()
    assert flagship.state_after_second == flagship.state_after_first


def test_the_pluvo_flagship_runs_through_the_scheduler_with_its_waits_in_the_triggerer(flagship: Flagship):
    pluvo = flagship.pluvo
    assert pluvo["final"] == "success", flagship.live.log_tails()
    assert set(pluvo["states"].values()) == {"success"}, pluvo["states"]
    assert pluvo["trigger_classpaths"] == {"airflow_provider_lms.triggers.enrollment.EnrollmentCompletedTrigger"}
    state = pluvo["state"]
    # Four employees, each in the training once, completed, certified once; no invitation mail went out.
    participants = state["participants"][PLUVO_TRAINING]
    assert len(participants) == 4
    completed = [p for p in state["progress"] if p["training_id"] == PLUVO_TRAINING and p["completion_date"]]
    assert {p["user_id"] for p in completed} == set(participants)
    certificates = [i for i in state["portfolio_items"] if i["user_id"] in participants]
    assert sorted(i["user_id"] for i in certificates) == sorted(participants)
    assert state["mails"] == []
    # The second run changes nothing on Pluvo.
    assert pluvo["second_final"] == "success", flagship.live.log_tails()
    for key in ("users", "participants", "progress", "portfolio_items", "mails"):
        assert pluvo["state_again"][key] == state[key], key

"""The main job: the Eduframe enrollment-to-certification example DAG in a real Airflow, against the sandbox.

Runs ``airflow dags test`` twice in a throwaway AIRFLOW_HOME with SQLite: the first run does the work,
the second shows that a re-run changes nothing. Then it reads the sandbox's state and checks it.
Run it through ``python dev.py demo``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.testing import AirflowRunner, DagTestResult, sandbox_connection_env

ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "lms_eduframe_enrollment_to_certification"
PLANNED_COURSE_ID = 1
PROGRAM_EDITION_ID = 1


def learner_emails() -> list[str]:
    """The learners the example DAG enrolls by default."""
    sys.path.insert(0, str(ROOT / "example_dags"))
    try:
        from lms_eduframe_enrollment_to_certification import DEMO_LEARNERS
    finally:
        sys.path.pop(0)
    return [learner["email"] for learner in DEMO_LEARNERS]


def verify_state(state: dict[str, Any], emails: list[str]) -> list[str]:
    """What is wrong with the sandbox after the flow (empty when all is well)."""
    problems: list[str] = []
    ids_by_email = {u["email"]: u["id"] for u in state["users"]}
    users = Counter(u["email"] for u in state["users"])
    for email in emails:
        if users[email] != 1:
            problems.append(f"{email} exists {users[email]} times (expected once)")
    learner_ids = [ids_by_email[e] for e in emails if e in ids_by_email]
    enrollments = [
        e for e in state["enrollments"] if e["planned_course_id"] == PLANNED_COURSE_ID and e["status"] != "canceled"
    ]
    per_learner = Counter(e["student_id"] for e in enrollments)
    for lid in learner_ids:
        if per_learner[lid] != 1:
            problems.append(f"learner {lid} has {per_learner[lid]} enrollments in planned course 1 (expected 1)")
    for e in enrollments:
        if e["student_id"] in learner_ids and not (e.get("grade") and e["grade"].get("score") is not None):
            problems.append(f"enrollment {e['id']} of learner {e['student_id']} has no grade")
    program = Counter(p["student_id"] for p in state["program_enrollments"] if p["edition_id"] == PROGRAM_EDITION_ID)
    certified = {
        p["student_id"]
        for p in state["program_enrollments"]
        if p["edition_id"] == PROGRAM_EDITION_ID and p.get("certificate_awarded")
    }
    for lid in learner_ids:
        if program[lid] != 1:
            problems.append(f"learner {lid} has {program[lid]} enrollments in program edition 1 (expected 1)")
        if lid not in certified:
            problems.append(f"learner {lid} was not awarded the certificate")
    orders = Counter(tuple(o["student_ids"]) for o in state["orders"])
    for students, n in orders.items():
        if n > 2:  # one course order and one program order per learner, at most
            problems.append(f"{n} orders for students {list(students)}")
    return problems


def report(result: DagTestResult, label: str) -> None:
    print(f"\n== {label}: `airflow dags test {result.dag_id}` exited {result.returncode} in {result.seconds:.1f}s")
    for task, state in sorted(result.task_states.items()):
        print(f"   {task:<32} {state}")


def run_demo(*, complete_after: float = 3.0, keep_home: Path | None = None, quiet: bool = False) -> int:
    """Start the sandbox, run the DAG twice, check the sandbox; return a process exit code."""
    emails = learner_emails()
    with SandboxServer() as sandbox, AirflowRunner(ROOT / "example_dags", home=keep_home) as airflow:
        print(f"sandbox on {sandbox.url}; Airflow home {airflow.home}")
        # The learners "study" in the sandbox: each enrollment completes and passes a few seconds after it is made.
        httpx.put(
            f"{sandbox.control_url}/eduframe/auto_progress",
            json={"complete_after_seconds": complete_after, "graduation_state": "passed"},
        ).raise_for_status()
        airflow.env.update(sandbox_connection_env(sandbox.url))
        first = airflow.dags_test(DAG_ID)
        report(first, "first run")
        before = httpx.get(f"{sandbox.control_url}/eduframe/state").json()
        second = airflow.dags_test(DAG_ID)
        report(second, "re-run")
        after = httpx.get(f"{sandbox.control_url}/eduframe/state").json()

        failed = [r for r in (first, second) if not r.succeeded]
        for r in failed:
            print(r.output[-6000:])
        problems = verify_state(after, emails)
        if before["orders"] != after["orders"]:
            problems.append(f"the re-run placed {len(after['orders']) - len(before['orders'])} new orders")
        if not quiet:
            print("\n== sandbox after both runs")
            ids = {u["email"]: u["id"] for u in after["users"]}
            for email in emails:
                lid = ids.get(email)
                enr = [e for e in after["enrollments"] if e["student_id"] == lid]
                prog = [p for p in after["program_enrollments"] if p["student_id"] == lid]
                score = enr[0]["grade"]["score"] if enr and enr[0].get("grade") else None
                print(
                    f"   {email:<34} learner {lid}: {len(enr)} course enrollment(s) {[e['status'] for e in enr]}, "
                    f"score {score}, certificate {'yes' if any(p.get('certificate_awarded') for p in prog) else 'no'}"
                )
            rerun_orders = len(after["orders"]) - len(before["orders"])
            print(f"   orders placed: {len(after['orders'])} (the re-run placed {rerun_orders})")
        if failed or problems:
            for p in problems:
                print(f"PROBLEM: {p}")
            return 1
        print("\nOK: every learner enrolled once, graded and certified; the re-run changed nothing.")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep-home", type=Path, help="use (and keep) this AIRFLOW_HOME for inspection")
    parser.add_argument("--complete-after", type=float, default=3.0, help="seconds until learners complete")
    args = parser.parse_args(argv)
    return run_demo(complete_after=args.complete_after, keep_home=args.keep_home)


if __name__ == "__main__":
    sys.exit(main())

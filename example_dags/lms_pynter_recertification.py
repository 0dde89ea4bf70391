"""Pynter, periodic re-certification.

1. read the mandatory planning (``GetMandatoryPlanning``);
2. find the learners whose latest result is older than the course's validity (computed here from the
   finish date and the validity in months, not taken from Pynter's status text);
3. report them in a CSV file;
4. take the next step: plan a re-certification cohort (``InsertClass``, created once per course and day);
5. wait, deferred, until each of them has a *new* result (``EnrollmentCompletedSensor`` with
   ``completed_since``: the old result does not count);
6. sync the new completions out of Pynter (CSV + XCom rows another platform's operator can take).

Re-running it is safe: the cohort is looked up before it is inserted, and learners with a valid result are
no longer overdue. The defaults point at the sandbox's seeded data; set ``pynter_default`` for your Pynter.
"""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.models.pynter import PYNTER_TZ
from airflow_provider_lms.operators.pynter import PynterSyncCompletionsOperator
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

CONN_ID = "pynter_default"
DEFAULT_REPORT_DIR = os.path.join(tempfile.gettempdir(), "lms-pynter-reports")

with DAG(
    dag_id="lms_pynter_recertification",
    description="Find Pynter learners whose mandatory certification expired, plan a re-certification, wait for it.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "report_dir": Param(DEFAULT_REPORT_DIR, type="string", description="Where the CSV reports go"),
        "include_never_finished": Param(False, type="boolean", description="Also report learners with no result"),
        "class_starts_in_days": Param(14, type="integer", minimum=0),
    },
    tags=["lms", "pynter", "example"],
) as dag:

    @task
    def read_mandatory_planning() -> list[dict[str, Any]]:
        """Every person and mandatory course, with the latest result."""
        hook = PynterHook(CONN_ID)
        try:
            return [row.model_dump(mode="json") for row in hook.get_mandatory_planning()]
        finally:
            hook.close()

    @task(multiple_outputs=True)
    def find_overdue(planning: list[dict[str, Any]], params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Learners whose latest result is older than the course's validity (and, if asked, never finished)."""
        from airflow_provider_lms.models.pynter import PynterMandatoryPlanning

        include_never = bool((params or {}).get("include_never_finished"))
        checked_at = pendulum.now("UTC")
        local_now = checked_at.in_timezone(PYNTER_TZ).naive()
        overdue = []
        for raw in planning:
            row = PynterMandatoryPlanning.model_validate(raw)
            if row.LastFinishDate is None and not include_never:
                continue
            if row.is_overdue(local_now):
                expires = row.expires_at()
                overdue.append(
                    {
                        "learner_id": row.ExternalId,
                        "course_id": str(row.ModuleId),
                        "course_code": row.ModuleCode,
                        "last_finished": row.LastFinishDate.isoformat() if row.LastFinishDate else None,
                        "expired_on": expires.isoformat() if expires else None,
                    }
                )
        targets = [
            {"learner_id": o["learner_id"], "course_id": o["course_id"], "completed_since": checked_at.isoformat()}
            for o in overdue
            if o["last_finished"] is not None
        ]
        print(f"{len(overdue)} overdue of {len(planning)} mandatory planning rows")
        return {"overdue": overdue, "targets": targets, "checked_at": checked_at.isoformat()}

    @task
    def report_overdue(overdue: list[dict[str, Any]], params: dict[str, Any] | None = None) -> str:
        """The overdue learners as a CSV file, for HR."""
        folder = str((params or {}).get("report_dir") or DEFAULT_REPORT_DIR)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "overdue.csv")
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=["learner_id", "course_id", "course_code", "last_finished", "expired_on"]
            )
            writer.writeheader()
            writer.writerows(overdue)
        return path

    @task
    def plan_recertification(overdue: list[dict[str, Any]], params: dict[str, Any] | None = None) -> list[Any]:
        """One re-certification cohort per course with overdue learners (looked up before it is inserted)."""
        hook = PynterHook(CONN_ID)
        start = pendulum.now(PYNTER_TZ).date() + timedelta(days=int((params or {}).get("class_starts_in_days", 14)))
        outcomes = []
        try:
            for course_id, code in sorted({(o["course_id"], o["course_code"]) for o in overdue}):
                name = f"Herhaling {code or course_id} {start.isoformat()}"
                outcome = hook.ensure_class(course_id, name, start, start, location="Utrecht")
                print(f"{name}: {outcome.status.value} (class {outcome.result['class_id']})")
                outcomes.append({"status": outcome.status.value, **outcome.result})
        finally:
            hook.close()
        return outcomes

    @task
    def recertification_targets(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The sensors' arguments, one per overdue learner and course (mapping needs a return value)."""
        return targets

    planning = read_mandatory_planning()
    found = find_overdue(planning)
    report = report_overdue(found["overdue"])
    planned = plan_recertification(found["overdue"])

    wait = EnrollmentCompletedSensor.partial(
        task_id="wait_for_recertification",
        lms_conn_id=CONN_ID,
        deferrable=True,
        poke_interval=2,
        timeout=600,
    ).expand_kwargs(recertification_targets(found["targets"]))

    sync = PynterSyncCompletionsOperator(
        task_id="sync_new_completions",
        lms_conn_id=CONN_ID,
        since=found["checked_at"],
        csv_path="{{ params.report_dir }}/completions.csv",
        trigger_rule="none_failed",
    )

    planned >> wait >> sync
    report >> sync

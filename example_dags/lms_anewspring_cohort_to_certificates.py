"""aNewSpring, from a cohort to a certificate report.

1. read the exam system's export (``data/anewspring_exam_scores.csv``: learner, course, activity, score);
2. subscribe the cohort's learner group (``subscribeGroups``) and every learner in the export (``subscribe``;
   learners already subscribed count as done, nobody is subscribed twice);
3. post the exam scores on the course's external activity in one bulk run (``scoreExternalActivity``);
4. wait, deferred in the triggerer, until each learner has completed the course;
5. collect every learner's results and certificate into a CSV report; the task log gives its path.

Every step is idempotent: a re-run subscribes nobody again and leaves equal scores alone. The defaults point
at the sandbox's seeded data (course ``VEILIG-2026``, activity ``EXAMEN-PRAKTIJK``, group ``COHORT-2026-A``);
set the ``anewspring_default`` connection and the params for your own environment.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_lms.operators import LmsScoreExternalActivityOperator, LmsSubscribeOperator
from airflow_provider_lms.operators.subscriptions import LmsSubscribeGroupsOperator
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

CONN_ID = "anewspring_default"
SCORES_CSV = Path(__file__).resolve().parent / "data" / "anewspring_exam_scores.csv"

with DAG(
    dag_id="lms_anewspring_cohort_to_certificates",
    description="Subscribe a cohort in aNewSpring, post exam scores from a CSV, wait, report results and certificates.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    params={
        "course_id": Param("VEILIG-2026", type="string", description="The course run's external id"),
        "group_ids": Param(["COHORT-2026-A"], type="array", description="Learner groups to subscribe"),
        "scores_csv": Param(str(SCORES_CSV), type="string", description="The exam system's export"),
        "report_dir": Param("", type="string", description="Where the report goes (default $AIRFLOW_HOME/reports)"),
    },
    tags=["lms", "anewspring", "example"],
) as dag:

    @task
    def read_scores(path: str, course_id: str) -> list[dict[str, Any]]:
        """Rows of the export for this course; empty cells become None so that validation sees them as absent."""
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [
                {k: (v.strip() or None) for k, v in row.items() if k}
                for row in csv.DictReader(handle)
                if row.get("course_id", "").strip() == course_id
            ]
        if not rows:
            raise ValueError(f"{path} has no rows for course {course_id}")
        print(f"read {len(rows)} scores from {path}")
        return rows

    @task
    def learners_of(rows: list[dict[str, Any]]) -> list[str]:
        """The export's learners, each once, in order (a list of its own so that the sensor can map over it)."""
        return list(dict.fromkeys(r["learner_id"] for r in rows))

    export = read_scores("{{ params.scores_csv }}", "{{ params.course_id }}")
    learner_ids = learners_of(export)

    subscribe_groups = LmsSubscribeGroupsOperator(
        task_id="subscribe_cohort_groups",
        lms_conn_id=CONN_ID,
        course_id="{{ params.course_id }}",
        group_ids="{{ params.group_ids }}",
    )

    subscribe_learners = LmsSubscribeOperator(
        task_id="subscribe_learners",
        lms_conn_id=CONN_ID,
        course_id="{{ params.course_id }}",
        learner_ids=learner_ids,
    )

    post_scores = LmsScoreExternalActivityOperator(
        task_id="post_exam_scores",
        lms_conn_id=CONN_ID,
        scores=export,
        concurrency=16,
    )

    wait = EnrollmentCompletedSensor.partial(
        task_id="wait_for_completion",
        lms_conn_id=CONN_ID,
        course_id="{{ params.course_id }}",
        deferrable=True,
        poke_interval=2,
        timeout=1800,
    ).expand(learner_id=learner_ids)

    @task
    def report(learner_ids: list[str], course_id: str, report_dir: str, run_label: str | None = None) -> dict[str, Any]:
        """Write every learner's results and certificate to a CSV file and return its path."""
        from airflow_provider_lms.hooks.anewspring import ANewSpringHook

        hook = ANewSpringHook(CONN_ID)
        rows = []
        try:
            for learner in learner_ids:
                result = hook.get_course_results(learner, course_id)
                exam = next((p for p in result.parts if p.is_external), None)
                certificate = next((p for p in result.parts if p.is_certificate), None)
                rows.append(
                    {
                        "learner_id": learner,
                        "course_id": course_id,
                        "state": result.state().value,
                        "completed": result.completed,
                        "complete_date": result.complete_date,
                        "grade": result.grade,
                        "grade_percent": result.grade_percent,
                        "exam_score": exam.score if exam else None,
                        "exam_score_percent": exam.score_percent if exam else None,
                        "progress": result.progress,
                        "certified": result.certified,
                        "certificate_date": certificate.complete_date if certificate and certificate.passed else None,
                    }
                )
        finally:
            hook.close()
        folder = Path(report_dir or Path(os.environ.get("AIRFLOW_HOME", tempfile.gettempdir())) / "reports")
        folder.mkdir(parents=True, exist_ok=True)
        safe_run = "".join(c if c.isalnum() or c in "-_" else "_" for c in (run_label or "manual"))
        path = folder / f"anewspring_{course_id}_{safe_run}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        certified = sum(1 for r in rows if r["certified"])
        print(f"report written to {path}: {len(rows)} learners, {certified} certified")
        return {"path": str(path), "learners": len(rows), "certified": certified, "rows": rows}

    collected = report(learner_ids, "{{ params.course_id }}", "{{ params.report_dir }}", "{{ run_id }}")

    # Groups first, so that the learners they hold are reported as already subscribed, deterministically.
    learner_ids >> subscribe_groups >> subscribe_learners >> post_scores >> wait >> collected

"""Pluvo, from an HR export to certificates.

1. read the HR system's export (``data/pluvo_hr_export.csv``: employee id, e-mail, name, department);
2. find or create each employee in Pluvo by e-mail (``updateOrCreateUser``), keeping the employee id as the
   user's ``ref``. No invitation mail goes out: Pluvo sends one by default, the provider only when asked
   (``platform_options={"send_invite": True}``);
3. enroll them in the training (``addUsersToTraining``, without Pluvo's default invitation mail); learners
   already in it count as done, nobody is added twice;
4. wait, deferred in the triggerer, until each learner has completed the training (``portfolioReport``);
5. issue the training's certificate (``generateCertificate``) to those who completed; learners who already
   hold it are skipped;
6. write a CSV report of progress, score, completion date and certificate per learner; the task log gives
   its path.

Every step is idempotent: a re-run creates, enrolls and certifies nobody again. The defaults point at the
sandbox's seeded training and certificate template; set the ``pluvo_default`` connection (organisation URL,
OAuth2 client id and secret, scopes) and the params for your own organisation.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsSubscribeOperator,
)
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

CONN_ID = "pluvo_default"
HR_EXPORT = Path(__file__).resolve().parent / "data" / "pluvo_hr_export.csv"

with DAG(
    dag_id="lms_pluvo_hr_export_to_certificates",
    description="Create employees in Pluvo from an HR export, enroll them in a training, wait, certify, report.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    params={
        "training_id": Param(
            "10000000-0000-4000-8000-000000000001", type="string", description="The Pluvo training (its id)"
        ),
        "certificate_id": Param(
            "50000000-0000-4000-8000-000000000001", type="string", description="The certificate template's id"
        ),
        "hr_export": Param(str(HR_EXPORT), type="string", description="The HR system's CSV export"),
        "report_dir": Param("", type="string", description="Where the report goes (default $AIRFLOW_HOME/reports)"),
    },
    tags=["lms", "pluvo", "example"],
) as dag:

    @task
    def read_hr_export(path: str) -> list[dict[str, Any]]:
        """The export's employees as learners; the employee id becomes the Pluvo user's ``ref``."""
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]
        if not rows:
            raise ValueError(f"{path} has no employees")
        print(f"read {len(rows)} employees from {path}")
        return [
            {
                "email": row["email"],
                "first_name": row["first_name"],
                "last_name": row["last_name"],
                "external_id": row["employee_id"],
            }
            for row in rows
        ]

    learners = LmsEnsureLearnersOperator(
        task_id="find_or_create_learners", lms_conn_id=CONN_ID, learners=read_hr_export("{{ params.hr_export }}")
    )

    @task
    def learner_ids_of(summary: dict[str, Any]) -> list[str]:
        """The Pluvo user id of every employee found or created (a list of its own, so a sensor can map over it)."""
        return [item["result"]["learner_id"] for item in summary["items"] if item["status"] != "failed"]

    learner_ids = learner_ids_of(learners.output)

    enroll = LmsSubscribeOperator(
        task_id="enroll_in_training",
        lms_conn_id=CONN_ID,
        course_id="{{ params.training_id }}",
        learner_ids=learners.output["learner_ids"],
        platform_options={"target": "training"},
    )

    completed = EnrollmentCompletedSensor.partial(
        task_id="wait_for_completion",
        lms_conn_id=CONN_ID,
        course_id="{{ params.training_id }}",
        deferrable=True,
        poke_interval=2,
        timeout=6 * 3600,
    ).expand(learner_id=learner_ids)

    certify = LmsAwardCertificateOperator(
        task_id="issue_certificates",
        lms_conn_id=CONN_ID,
        program_id="{{ params.training_id }}",
        certificate_template_id="{{ params.certificate_id }}",
        learner_ids=learners.output["learner_ids"],
    )

    @task
    def report(
        enrollments: list[dict[str, Any]],
        certificates: dict[str, Any],
        training_id: str,
        report_dir: str,
        run_label: str | None = None,
    ) -> dict[str, Any]:
        """Write each learner's progress, score, completion and certificate to a CSV file; return its path."""
        issued = {item["key"]: item["status"] for item in certificates["items"]}
        rows = []
        for enrollment in enrollments:
            raw = enrollment.get("raw") or {}
            rows.append(
                {
                    "learner_id": enrollment["learner_id"],
                    "training_id": training_id,
                    "state": enrollment["state"],
                    "progress": raw.get("progress"),
                    "score": raw.get("score"),
                    "completed_at": enrollment.get("completed_at"),
                    "certificate": issued.get(enrollment["learner_id"], "not issued"),
                }
            )
        folder = Path(report_dir or Path(os.environ.get("AIRFLOW_HOME", tempfile.gettempdir())) / "reports")
        folder.mkdir(parents=True, exist_ok=True)
        safe_run = "".join(c if c.isalnum() or c in "-_" else "_" for c in (run_label or "manual"))
        path = folder / f"pluvo_{training_id}_{safe_run}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"report written to {path}: {len(rows)} learners")
        return {"path": str(path), "learners": len(rows)}

    report(completed.output, certify.output, "{{ params.training_id }}", "{{ params.report_dir }}", "{{ run_id }}")

    enroll >> completed >> certify

"""Eduframe, from enrollment to certification.

1. find or create the learners by e-mail;
2. enroll them in the planned course, and in the program edition whose certificate they earn;
3. wait (deferred, in the triggerer) until each has completed the course;
4. record the external exam's scores as their grades;
5. award the program certificate.

Every step is idempotent: re-running the DAG enrolls nobody twice and changes no grade that is already
right. The defaults point at the sandbox's seeded data (planned course 1 in program edition 1, certificate
template 1); set the ``eduframe_default`` connection and the params for your own Eduframe.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsScoreExternalActivityOperator,
    LmsSubscribeOperator,
)
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

CONN_ID = "eduframe_default"

DEMO_LEARNERS = [
    {"email": "anna.devries@sandbox.example", "first_name": "Anna", "last_name": "de Vries"},
    {"email": "farah.elamrani@sandbox.example", "first_name": "Farah", "last_name": "El Amrani"},
    {"email": "gijs.mulder@sandbox.example", "first_name": "Gijs", "last_name": "Mulder"},
]

with DAG(
    dag_id="lms_eduframe_enrollment_to_certification",
    description="Enroll learners in Eduframe, wait for completion, grade them and award the certificate.",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,  # ids and lists from params stay ints and lists
    params={
        "planned_course_id": Param(1, type="integer", minimum=1, description="Eduframe planned course"),
        "program_edition_id": Param(1, type="integer", minimum=1, description="Program edition (certificate)"),
        "certificate_template_id": Param(1, type="integer", minimum=1),
        "learners": Param(DEMO_LEARNERS, type="array", description="Learners: email, first_name, last_name"),
    },
    tags=["lms", "eduframe", "example"],
) as dag:
    learners = LmsEnsureLearnersOperator(
        task_id="find_or_create_learners", lms_conn_id=CONN_ID, learners="{{ params.learners }}"
    )

    enroll = LmsSubscribeOperator(
        task_id="enroll_in_course",
        lms_conn_id=CONN_ID,
        course_id="{{ params.planned_course_id }}",
        learner_ids=learners.output["learner_ids"],
    )

    enroll_in_program = LmsSubscribeOperator(
        task_id="enroll_in_program",
        lms_conn_id=CONN_ID,
        course_id="{{ params.program_edition_id }}",
        learner_ids=learners.output["learner_ids"],
        platform_options={"target": "program_edition"},
    )

    @task
    def enrollment_ids(summary: dict[str, Any]) -> list[str]:
        """The enrollment of every learner who is enrolled, whether by this run or before it."""
        return [item["result"]["enrollment_id"] for item in summary["items"] if item["status"] != "failed"]

    completed = EnrollmentCompletedSensor.partial(
        task_id="wait_for_completion",
        lms_conn_id=CONN_ID,
        deferrable=True,
        poke_interval=2,
        timeout=6 * 3600,
    ).expand(enrollment_id=enrollment_ids(enroll.output))

    @task
    def exam_results(enrollments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stands in for an external exam system's export: one score row per learner who completed."""
        rows = []
        for enrollment in enrollments:
            learner = int(enrollment["learner_id"])
            rows.append(
                {
                    "learner_id": learner,
                    "course_id": enrollment["course_id"],
                    "score": float(6 + learner % 4),
                    "comment": "External exam",
                }
            )
        return rows

    grades = LmsScoreExternalActivityOperator(
        task_id="record_grades", lms_conn_id=CONN_ID, scores=exam_results(completed.output)
    )

    certify = LmsAwardCertificateOperator(
        task_id="award_certificates",
        lms_conn_id=CONN_ID,
        program_id="{{ params.program_edition_id }}",
        certificate_template_id="{{ params.certificate_template_id }}",
        learner_ids=learners.output["learner_ids"],
    )

    # Course first: ordering the program edition would otherwise enroll them in its courses itself.
    enroll >> enroll_in_program >> completed
    grades >> certify

"""A DAG author's own DAG: enroll learners in an Eduframe planned course and wait until they complete.

The connection id and the course are all it knows of its platform; its test (``../test_my_dag.py``)
points ``eduframe_default`` at the sandbox with the provider's pytest plugin.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_lms.operators import LmsSubscribeOperator
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

with DAG(
    dag_id="my_enrollment_dag",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
    params={
        "planned_course_id": Param(1, type="integer", minimum=1),
        "learner_ids": Param([2, 3], type="array"),
    },
) as dag:
    enroll = LmsSubscribeOperator(
        task_id="enroll",
        lms_conn_id="eduframe_default",
        course_id="{{ params.planned_course_id }}",
        learner_ids="{{ params.learner_ids }}",
    )

    @task
    def enrollment_ids(summary: dict) -> list[str]:
        """Every learner's enrollment, whether this run made it or an earlier one did."""
        return [item["result"]["enrollment_id"] for item in summary["items"] if item["status"] != "failed"]

    EnrollmentCompletedSensor.partial(
        task_id="wait_until_completed",
        lms_conn_id="eduframe_default",
        require_passed=True,
        deferrable=True,
        poke_interval=1,
        timeout=120,
    ).expand(enrollment_id=enrollment_ids(enroll.output))

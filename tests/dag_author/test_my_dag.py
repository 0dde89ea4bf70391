"""A DAG author's test of their own DAG, with nothing but the provider's pytest plugin (``lms_*`` fixtures).

Airflow runs the DAG in this process (``dag.test()``) against the sandbox; the sandbox's control API
makes the learners finish and shows what the DAG did.
"""

from __future__ import annotations

from pathlib import Path

DAG_FILE = Path(__file__).parent / "dags" / "my_enrollment_dag.py"


def test_learners_are_enrolled_once_and_the_run_waits_for_their_completion(
    lms_connections, lms_sandbox_control, lms_run_dag
):
    assert lms_connections["eduframe"] == "eduframe_default"
    eduframe = lms_sandbox_control.eduframe
    newcomer = eduframe.seed_learner("noor.hendriks@example.com", "Noor", "Hendriks")
    # Nobody finishes a course during a test by themselves: have the sandbox complete every enrollment
    # a second after it was made, with a pass.
    eduframe.set_auto_progress(complete_after_seconds=1, graduation_state="passed")

    result = lms_run_dag(DAG_FILE, conf={"learner_ids": [2, newcomer]})

    assert result.succeeded, result.task_states
    assert result.task_states["wait_until_completed[1]"] == "success"
    enrolled = {e["student_id"]: e for e in eduframe.enrollments(planned_course_id=1)}
    assert set(enrolled) == {2, newcomer}
    assert {e["status"] for e in enrolled.values()} == {"completed"}
    assert result.xcom["enroll"]["done"] == 2

    # A second run enrolls nobody again: both learners are already done.
    again = lms_run_dag(DAG_FILE, conf={"learner_ids": [2, newcomer]})
    assert again.succeeded, again.task_states
    assert again.xcom["enroll"]["already_done"] == 2
    assert len(eduframe.enrollments(planned_course_id=1)) == 2


def test_a_learner_who_fails_fails_the_wait(lms_connections, lms_sandbox_control, lms_run_dag):
    lms_sandbox_control.eduframe.set_auto_progress(complete_after_seconds=0, graduation_state="failed")

    result = lms_run_dag(DAG_FILE, conf={"learner_ids": [4]})

    assert result.state == "failed"
    assert result.task_states["enroll"] == "success"
    assert result.task_states["wait_until_completed[0]"] == "failed"


def test_the_enrollment_survives_a_flaky_platform(lms_connections, lms_sandbox_control, lms_run_dag):
    lms_sandbox_control.eduframe.set_auto_progress(complete_after_seconds=0)
    # Every other Eduframe request answers 503 for the first 6: the hooks retry, the run still succeeds.
    lms_sandbox_control.inject_faults(["503"], rate=0.5, platform="eduframe", max_faults=6)

    result = lms_run_dag(DAG_FILE, conf={"learner_ids": [5]})

    assert result.succeeded, result.task_states
    assert lms_sandbox_control.faults()["injected"]["503"] >= 1
    assert [e["student_id"] for e in lms_sandbox_control.eduframe.enrollments(planned_course_id=1)] == [5]

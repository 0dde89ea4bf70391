"""OpenLineage events of a real Airflow run (`airflow dags test`, SQLite) against the Eduframe sandbox.

Airflow's OpenLineage provider writes its events to a file (its ``file`` transport, one JSON event a line).
A small DAG finds learners, enrolls them in a planned course whose id comes from a template, and grades
them; the checks read the file as a lineage backend would: each writing task's COMPLETE event names the
platform datasets (see :mod:`airflow_provider_lms.lineage`), and the API key appears nowhere in it.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from airflow_provider_lms.sandbox import SandboxServer, SandboxState
from airflow_provider_lms.sandbox.eduframe import EduframeSeed
from airflow_provider_lms.testing import AirflowRunner, DagTestResult, sandbox_connection_env

pytest.importorskip("airflow.providers.openlineage", reason="the OpenLineage provider (test extra) is not installed")

pytestmark = pytest.mark.airflow

DAG_ID = "lms_openlineage_check"
# A key no other part of the suite uses, so that finding it anywhere means it leaked.
DISTINCT_KEY = "sbx-edu-lineage-key-5e8b1d"
ANNA, BRAM = EduframeSeed.LEARNER_IDS[:2]
COURSE = EduframeSeed.WORKPLACE_SAFETY_PLANNED_COURSE_ID

DAG_FILE = f'''
from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_lms.operators import (
    LmsEnsureLearnersOperator,
    LmsScoreExternalActivityOperator,
    LmsSubscribeOperator,
)

with DAG(
    "{DAG_ID}",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={{"course": Param({COURSE}, type="integer")}},
):
    learners = LmsEnsureLearnersOperator(
        task_id="ensure_learners",
        lms_conn_id="eduframe_default",
        learners=[{{"email": "{EduframeSeed.LEARNER_EMAILS[0]}", "first_name": "Anna", "last_name": "de Vries"}}],
    )
    # The course id is a template: the event must name the rendered id, not the template.
    enroll = LmsSubscribeOperator(
        task_id="enroll",
        lms_conn_id="eduframe_default",
        course_id="{{{{ params.course }}}}",
        learner_ids=[{ANNA}, {BRAM}],
    )
    grade = LmsScoreExternalActivityOperator(
        task_id="grade",
        lms_conn_id="eduframe_default",
        scores=[
            {{"learner_id": {ANNA}, "course_id": {COURSE}, "score": 8.5}},
            {{"learner_id": {BRAM}, "course_id": {COURSE}, "grade": "7"}},
        ],
    )
    learners >> enroll >> grade
'''


@dataclass
class LineageRun:
    result: DagTestResult
    namespace: str
    raw: str
    events: list[dict[str, Any]]

    def complete(self, task_id: str) -> dict[str, Any]:
        """The COMPLETE event of one task (the job name is ``<dag_id>.<task_id>``)."""
        found = [
            e
            for e in self.events
            if e.get("eventType") == "COMPLETE" and e.get("job", {}).get("name") == f"{DAG_ID}.{task_id}"
        ]
        seen = [(e.get("eventType"), e.get("job", {}).get("name")) for e in self.events]
        # When events are missing, the listener's own lines in the run's output say why.
        said = [line for line in self.result.output.splitlines() if "penLineage" in line][-20:]
        assert len(found) == 1, f"{seen}\n" + "\n".join(said)
        return found[0]


def _holds_egg_info(path: str) -> bool:
    return (Path(path) / "airflow_provider_lms.egg-info").exists()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LineageRun]:
    dags = tmp_path_factory.mktemp("dags")
    (dags / f"{DAG_ID}.py").write_text(textwrap.dedent(DAG_FILE))
    events_file = tmp_path_factory.mktemp("lineage") / "events.jsonl"
    state = SandboxState()
    with SandboxServer(state=state) as sandbox:
        sandbox.reset()
        state.eduframe.api_keys = {DISTINCT_KEY}
        with AirflowRunner(dags, home=tmp_path_factory.mktemp("airflow-home")) as airflow:
            airflow.env.update(sandbox_connection_env(sandbox.url, overrides={"eduframe": {"password": DISTINCT_KEY}}))
            # `dev.py test` puts the source tree on PYTHONPATH, and with it the `airflow_provider_lms.egg-info`
            # that an editable install leaves there: Airflow then finds the provider's distribution twice, and
            # the listener wrote the DAG's event but no task's. The installed package is what a user has.
            airflow.env["PYTHONPATH"] = os.pathsep.join(
                p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and not _holds_egg_info(p)
            )
            airflow.env.update(
                {
                    # The provider's file transport: with append, one JSON event per line in one file.
                    "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                        {"type": "file", "log_file_path": str(events_file), "append": True}
                    ),
                    "AIRFLOW__OPENLINEAGE__NAMESPACE": "lms-tests",
                    # The listener emits each task's events beside the task and gives up after
                    # execution_timeout (10 s by default): on a loaded 2-core CI machine that was too short,
                    # and the task events were lost. A thread (not a fork) with a long bound keeps them.
                    "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
                    "AIRFLOW__OPENLINEAGE__EXECUTION_TIMEOUT": "180",
                }
            )
            result = airflow.dags_test(DAG_ID)
            # The listener writes each task's lines to the task's log, not to the command's output: keep them
            # with the result, so that a missing event says why.
            listener = [line for line in airflow.log_text().splitlines() if "penLineage" in line]
            result.output += "\n" + "\n".join(listener)
            raw = events_file.read_text() if events_file.exists() else ""
            events = [json.loads(line) for line in raw.splitlines() if line.strip()]
            host = urlsplit(sandbox.platform_url("eduframe"))
            yield LineageRun(result, f"lms://eduframe/{host.hostname}:{host.port}", raw, events)


def _datasets(event: dict[str, Any], side: str) -> list[tuple[str, str]]:
    return sorted((d["namespace"], d["name"]) for d in event.get(side, []))


def test_the_dag_succeeds_and_the_provider_wrote_events(run: LineageRun) -> None:
    assert run.result.succeeded, run.result.output[-5000:]
    assert run.events, f"no OpenLineage events were written\n{run.result.output[-5000:]}"


def test_the_enroll_task_completes_with_the_course_as_output_and_learners_as_input(run: LineageRun) -> None:
    event = run.complete("enroll")
    assert _datasets(event, "outputs") == [(run.namespace, f"course/{COURSE}")]
    assert _datasets(event, "inputs") == [(run.namespace, "learners")]


def test_grading_writes_the_course_and_finding_learners_writes_learners(run: LineageRun) -> None:
    assert _datasets(run.complete("grade"), "outputs") == [(run.namespace, f"course/{COURSE}")]
    ensure = run.complete("ensure_learners")
    assert _datasets(ensure, "outputs") == [(run.namespace, "learners")]
    assert _datasets(ensure, "inputs") == []


def test_the_api_key_appears_nowhere_in_the_events(run: LineageRun) -> None:
    assert run.raw and DISTINCT_KEY not in run.raw
    # Nor any user:password@ part of a URL.
    assert "@127.0.0.1" not in run.raw

"""A real Airflow task retry redoes only what is not yet done.

A DAG written into a temporary folder runs the aNewSpring subscribe operator (``retries=1``) with
``airflow dags test`` (Airflow 3.3's ``dag.test()`` loop does schedule a task that is ``up_for_retry``
again once its ``retry_delay`` has passed, with ``try_number`` 2, so no scheduler is needed), in a throwaway
SQLite Airflow, against the sandbox on loopback:

* try 1: the platform refuses every subscribe of some learners (429, 502, 503, 504, picked at random). Their
  retries run out, they fail with their reason, the other learners are subscribed, and the task fails.
* The outage ends when Airflow marks the task ``up_for_retry``. The DAG's ``on_retry_callback`` switches the
  sandbox's faults off, so the switch does not depend on timing.
* try 2 (Airflow's own retry): only the learners that failed are subscribed; the others are found already
  subscribed and are not sent again.

The checks use the sandbox state (each learner subscribed exactly once, counting every subscription the
platform made), the sandbox's request log (no second subscribe for a learner done in try 1), the metadata
database (the task instance ended ``success`` on try 2, try 1 in its history) and the two tries' task logs.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.anewspring import ANEWSPRING_PREFIX
from airflow_provider_lms.sandbox.app import PLATFORMS
from airflow_provider_lms.testing import AirflowRunner
from tests.faults.conftest import FIGURES, STORM_EXTRAS, control, count_faults

pytestmark = pytest.mark.airflow

DAG_ID = "lms_faults_task_retry"
TASK_ID = "subscribe"
CONN_ID = "faults_retry_anewspring"
COURSE = "VEILIG-2026"
#: Learners whose subscribe the platform refuses during try 1, and learners it accepts.
FLAKY = [f"retry-flaky-{i:02d}" for i in range(4)]
STEADY = [f"retry-steady-{i:02d}" for i in range(8)]
#: Refused before the platform acts on it, so a failed subscribe really did not happen (a "drop" or
#: "timeout" would subscribe the learner and the operator would rightly find it done).
REFUSALS = ["429", "502", "503", "504"]

DAG_FILE = """
from datetime import datetime, timedelta

import httpx
from airflow.sdk import DAG

from airflow_provider_lms.operators import LmsSubscribeOperator


def _outage_over(context):
    # Called by Airflow when the task goes up_for_retry: the platform's outage ends before try 2.
    httpx.delete({faults_url!r}, timeout=30).raise_for_status()


with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    LmsSubscribeOperator(
        task_id={task_id!r},
        lms_conn_id={conn_id!r},
        course_id={course!r},
        learner_ids={learners!r},
        concurrency=4,
        retries=1,
        retry_delay=timedelta(seconds=1),
        on_retry_callback=_outage_over,
    )
"""


def _connection(sandbox: SandboxServer) -> str:
    mount = next(m for m in PLATFORMS if m.name == "anewspring")
    assert mount.connection_factory is not None
    conn = mount.connection_factory(sandbox.url)
    # Quick backoff, and few retries: a 429 waits its Retry-After (1 s) each time.
    conn["extra"] = {**conn.get("extra", {}), **STORM_EXTRAS, "max_retries": 2}
    return json.dumps(conn)


def _tries(output: str) -> list[str]:
    """The task log of each try, in order.

    ``dags test`` runs each try in-process and writes its task log to the command's output (no log
    files), between a ``[DAG TEST] starting`` and a ``[DAG TEST] end task`` line.
    """
    start, end = f"[DAG TEST] starting task_id={TASK_ID} ", f"[DAG TEST] end task task_id={TASK_ID} "
    tries: list[str] = []
    current: list[str] | None = None
    for line in output.splitlines():
        if start in line:
            current = []
        elif end in line and current is not None:
            tries.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    assert len(tries) == 2, f"expected two tries of {TASK_ID}, found {len(tries)}:\n{output[-6000:]}"
    return tries


def _subscribe_posts(sandbox: SandboxServer) -> dict[str, list[dict[str, Any]]]:
    posts: dict[str, list[dict[str, Any]]] = {}
    for entry in control(sandbox, "GET", "/requests", params={"method": "POST"}).json():
        path = entry["path"]
        if path.startswith(f"{ANEWSPRING_PREFIX}/subscribe/"):
            posts.setdefault(path.split("/")[-2], []).append(entry)
    return posts


def test_an_airflow_task_retry_redoes_only_the_items_not_done(
    sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    control(sandbox, "POST", "/anewspring/users", json={"users": [{"id": u, "name": u} for u in FLAKY + STEADY]})
    # Flaky and steady interleaved, so both kinds run side by side in the worker threads.
    learners = [u for pair in zip(STEADY, FLAKY, strict=False) for u in pair] + STEADY[len(FLAKY) :]

    dags = tmp_path_factory.mktemp("retry-dags")
    (dags / f"{DAG_ID}.py").write_text(
        textwrap.dedent(DAG_FILE).format(
            faults_url=f"{sandbox.control_url}/faults",
            dag_id=DAG_ID,
            task_id=TASK_ID,
            conn_id=CONN_ID,
            course=COURSE,
            learners=learners,
        )
    )
    # Every subscribe of a flaky learner is refused; reads (isSubscribed) and the others pass.
    control(
        sandbox,
        "PUT",
        "/faults",
        json={
            "fault_rate": 1.0,
            "kinds": REFUSALS,
            "seed": 9,
            "path_prefix": f"{ANEWSPRING_PREFIX}/subscribe/retry-flaky-",
        },
    )
    with AirflowRunner(dags, home=tmp_path_factory.mktemp("retry-airflow-home")) as airflow:
        airflow.env[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = _connection(sandbox)
        run = airflow.dags_test(DAG_ID, timeout=300)
        faults = control(sandbox, "GET", "/faults").json()
        history = airflow.query(
            "SELECT try_number, state FROM task_instance_history WHERE dag_id = ? AND task_id = ? ORDER BY try_number",
            DAG_ID,
            TASK_ID,
        )
        final = airflow.query(
            "SELECT try_number, state FROM task_instance WHERE dag_id = ? AND task_id = ?", DAG_ID, TASK_ID
        )
        summary = airflow.xcom_values(DAG_ID)[TASK_ID]
    first_log, second_log = _tries(run.output)

    # Airflow: the task failed on try 1, was retried by Airflow itself, and succeeded on try 2.
    assert run.succeeded, run.output[-6000:]
    assert final == [(2, "success")], final
    assert [t for t, _ in history] == [1] and history[0][1] in ("failed", "up_for_retry"), history
    assert faults["fault_rate"] == 0, "the on_retry_callback switched the faults off"
    assert faults["injected_total"] >= len(FLAKY), faults

    # Try 1: the flaky learners failed after their retries, each with its reason; the task failed.
    assert f"{len(FLAKY)} of {len(learners)} items failed" in first_log, first_log[-4000:]
    for learner in FLAKY:
        reason = next(line for line in first_log.splitlines() if f"failed for {learner}:" in line)
        assert any(f"HTTP {code}" in reason for code in REFUSALS), reason
    assert f"{len(learners) - len(FLAKY)} done" in first_log

    # Try 2 redid only the learners not done: the others were found subscribed and not sent again.
    assert f"{len(learners)} items, {len(FLAKY)} done, {len(learners) - len(FLAKY)} already done, 0 failed" in (
        second_log
    ), second_log[-4000:]
    statuses = {i["key"]: i["status"] for i in summary["items"]}
    assert statuses == {u: ("done" if u in FLAKY else "already_done") for u in learners}, statuses

    # The platform: each learner subscribed exactly once (times_subscribed counts every subscription made).
    subs = {s["user_id"]: s for s in control(sandbox, "GET", "/anewspring/state").json()["subscriptions"]}
    assert {u: (subs[u]["subscribed"], subs[u]["times_subscribed"]) for u in learners} == dict.fromkeys(
        learners, (True, 1)
    )
    # And on the wire: a steady learner's subscribe was sent once, in try 1; a flaky one's was refused until
    # the retry, where it went through once.
    posts = _subscribe_posts(sandbox)
    assert {u: len(posts[u]) for u in STEADY} == dict.fromkeys(STEADY, 1)
    for learner in FLAKY:
        assert posts[learner][-1]["fault"] is None, posts[learner]
        assert all(p["fault"] in REFUSALS for p in posts[learner][:-1]), posts[learner]

    FIGURES["airflow task retries (try 2 redid only the failed items)"] += 1
    count_faults(faults)
    FIGURES["items"] += len(learners)


CIRCUIT_DAG_ID = "lms_faults_circuit_retry"
CIRCUIT_CONN_ID = "faults_retry_eduframe"
#: The seeded Eduframe learners and the flexible First Aid planned course (no capacity limit).
CIRCUIT_LEARNERS = ["2", "3", "4", "5", "6"]
CIRCUIT_COURSE = 3

CIRCUIT_DAG_FILE = """
from datetime import datetime, timedelta

import httpx
from airflow.sdk import DAG

from airflow_provider_lms.operators import LmsSubscribeOperator


def _new_key(context):
    # Called by Airflow when the task goes up_for_retry: the administrator has put a valid key back
    # (the sandbox's reset restores its keys; nothing was enrolled in try 1).
    httpx.post({reset_url!r}, timeout=30).raise_for_status()


with DAG({dag_id!r}, schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    LmsSubscribeOperator(
        task_id={task_id!r},
        lms_conn_id={conn_id!r},
        course_id={course!r},
        learner_ids={learners!r},
        concurrency=2,
        retries=1,
        retry_delay=timedelta(seconds=1),
        on_retry_callback=_new_key,
    )
"""


def test_a_revoked_key_opens_the_circuit_fails_the_task_and_airflows_retry_completes_it(
    sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    mount = next(m for m in PLATFORMS if m.name == "eduframe")
    assert mount.connection_factory is not None
    conn = mount.connection_factory(sandbox.url)
    conn["extra"] = {**conn.get("extra", {}), **STORM_EXTRAS}
    dags = tmp_path_factory.mktemp("circuit-dags")
    (dags / f"{CIRCUIT_DAG_ID}.py").write_text(
        textwrap.dedent(CIRCUIT_DAG_FILE).format(
            reset_url=f"{sandbox.control_url}/reset",
            dag_id=CIRCUIT_DAG_ID,
            task_id=TASK_ID,
            conn_id=CIRCUIT_CONN_ID,
            course=CIRCUIT_COURSE,
            learners=CIRCUIT_LEARNERS,
        )
    )
    sandbox.state.eduframe.api_keys.clear()  # the key is revoked before the run starts
    with AirflowRunner(dags, home=tmp_path_factory.mktemp("circuit-airflow-home")) as airflow:
        airflow.env[f"AIRFLOW_CONN_{CIRCUIT_CONN_ID.upper()}"] = json.dumps(conn)
        run = airflow.dags_test(CIRCUIT_DAG_ID, timeout=300)
        final = airflow.query(
            "SELECT try_number, state FROM task_instance WHERE dag_id = ? AND task_id = ?", CIRCUIT_DAG_ID, TASK_ID
        )
        summary = airflow.xcom_values(CIRCUIT_DAG_ID)[TASK_ID]
    first_log, second_log = _tries(run.output)

    assert run.succeeded, run.output[-6000:]
    assert final == [(2, "success")], final
    # Try 1: the first 401s opened the circuit; the items not started were not attempted; the task failed.
    assert "refused the credentials" in first_log and "HTTP 401" in first_log, first_log[-4000:]
    assert "items not attempted" in first_log and "a retry redoes only the items not done" in first_log
    # Try 2 (Airflow's retry, with a valid key): everything done, nothing left.
    assert f"{len(CIRCUIT_LEARNERS)} items, {len(CIRCUIT_LEARNERS)} done" in second_log, second_log[-4000:]
    assert summary["not_attempted"] == 0 and summary["failed"] == 0 and summary["circuit"] is None
    enrolled = [
        str(e["student_id"])
        for e in control(sandbox, "GET", "/eduframe/state").json()["enrollments"]
        if e["planned_course_id"] == CIRCUIT_COURSE and e["status"] != "canceled"
    ]
    assert sorted(enrolled) == sorted(CIRCUIT_LEARNERS)  # each once
    FIGURES["airflow task retries after an open circuit"] += 1

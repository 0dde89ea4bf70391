"""A Celery worker killed in the middle of a batch: Airflow retries the task, and the retry orders for nobody twice.

On the tier's deployment (``tests/scaleout/conftest.py``), one ``LmsSubscribeOperator`` task of 300 Eduframe
learners (``retries=1``) runs on one of the two workers, with latency on every request so that it takes a while.
Once the sandbox has taken a few dozen of its orders, the test sends SIGKILL, by PID, to every process of that
worker: the Celery main process, its pool and the task's processes, as when a machine or a pod dies.
No process is left to finish the try. The scheduler finds the task's heartbeat gone
(``task_instance_heartbeat_timeout``, 60 s in the tier), fails the try and queues the retry, which the other worker
runs. Checked in the sandbox's state and in Postgres:

* try 1 failed and try 2 succeeded on the worker that was still alive (``task_instance_history``, ``task_instance``);
* every learner has exactly one enrollment, and exactly one order: the retry looked first and ordered only for the
  learners that try 1 had not reached (no second order for anyone), and its summary says so (``already_done`` for
  those try 1 had done, ``done`` for the rest, 0 failed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import Counter
from typing import Any

import httpx
import psutil
import pytest

from tests.scaleout.cluster import WORKERS, start_worker
from tests.scaleout.deployment import COURSE, KILL_DAG_ID, KILL_SIZE, Deployment

pytestmark = [pytest.mark.scaleout, pytest.mark.airflow]

#: Per request: the batch takes well over the time to notice it running and kill its worker.
LATENCY_MS = 60
#: Kill once this many of the batch's learners have an order (of 300).
KILL_AFTER_ORDERS = 40


def _orders_per_learner(deployment: Deployment) -> Counter[str]:
    ef = deployment.sandbox.state.eduframe
    wanted = set(deployment.kill_learners)
    return Counter(
        str(student) for order in list(ef.orders.values()) for _, student in order.items if str(student) in wanted
    )


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def killed(deployment: Deployment) -> dict[str, Any]:
    cluster, control = deployment.cluster, deployment.sandbox.control_url
    httpx.put(f"{control}/faults", json={"latency_ms": LATENCY_MS}, timeout=30).raise_for_status()
    run_id = cluster.trigger(KILL_DAG_ID)

    def running_with_orders() -> dict[str, Any] | None:
        (ti,) = cluster.task_instances(KILL_DAG_ID, run_id)
        if ti["state"] in ("success", "failed"):
            raise AssertionError(f"the batch ended ({ti['state']}) before its worker could be killed")
        ordered = sum(_orders_per_learner(deployment).values())
        return ti if ti["state"] == "running" and ti["hostname"] in WORKERS and ordered >= KILL_AFTER_ORDERS else None

    ti = cluster.live.wait_for("the batch to be running with orders placed", running_with_orders, 300, interval=0.5)
    victim = ti["hostname"]
    worker = cluster.workers[victim]
    # Every process of the worker: the Celery main process, its pool, and each task's supervisor and task
    # process. The task process runs in a session of its own (a first version of this test killed only the
    # worker's process group, and the orphaned task went on ordering until the batch was done), so the tree
    # is collected first and each process is killed by its PID.
    tree = [worker.pid, *(p.pid for p in psutil.Process(worker.pid).children(recursive=True))]
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=30)
    gone_by = time.monotonic() + 30
    while any(_alive(pid) for pid in tree) and time.monotonic() < gone_by:
        time.sleep(0.2)
    orphans = [pid for pid in tree if _alive(pid)]
    ordered_at_kill = sum(_orders_per_learner(deployment).values())
    final = cluster.live.wait_for("the retried batch", lambda: cluster.finished(KILL_DAG_ID, run_id), 420, interval=2)
    httpx.delete(f"{control}/faults", timeout=30)
    # The other tests of the tier may come after this one: bring the killed worker back.
    cluster.workers[victim] = start_worker(cluster.live, victim)
    history = cluster.query(
        "SELECT try_number, state, hostname FROM task_instance_history WHERE dag_id = %s AND run_id = %s "
        "ORDER BY try_number",
        KILL_DAG_ID,
        run_id,
    )
    current = cluster.query(
        "SELECT try_number, state, hostname FROM task_instance WHERE dag_id = %s AND run_id = %s", KILL_DAG_ID, run_id
    )
    ef = deployment.sandbox.state.eduframe
    wanted = set(deployment.kill_learners)
    enrollments = Counter(
        str(e.student_id)
        for e in list(ef.enrollments.values())
        if e.planned_course_id == COURSE and str(e.student_id) in wanted and e.status != "canceled"
    )
    return {
        "final": final,
        "victim": victim,
        "orphans": orphans,
        "ordered_at_kill": ordered_at_kill,
        "history": history,
        "current": current,
        "summary": cluster.xcom(KILL_DAG_ID, run_id, "subscribe"),
        "orders": _orders_per_learner(deployment),
        "enrollments": enrollments,
    }


def test_the_killed_try_fails_and_the_retry_succeeds_on_the_other_worker(killed: dict[str, Any]):
    assert not killed["orphans"], f"processes of the killed worker outlived SIGKILL: {killed['orphans']}"
    assert killed["final"] == "success", (killed["history"], killed["current"])
    survivor = next(name for name in WORKERS if name != killed["victim"])
    assert [tuple(row[:2]) for row in killed["history"]] == [(1, "failed")], killed["history"]
    assert [tuple(row) for row in killed["current"]] == [(2, "success", survivor)], killed["current"]


def test_the_retry_orders_for_nobody_twice_and_every_learner_is_enrolled_once(killed: dict[str, Any]):
    # Try 1 had reached at least KILL_AFTER_ORDERS learners, and not all of them: the kill came mid-batch.
    assert KILL_AFTER_ORDERS <= killed["ordered_at_kill"] < KILL_SIZE, killed["ordered_at_kill"]
    assert len(killed["orders"]) == KILL_SIZE and set(killed["orders"].values()) == {1}, killed["orders"].most_common(3)
    assert len(killed["enrollments"]) == KILL_SIZE and set(killed["enrollments"].values()) == {1}
    summary = killed["summary"]
    assert summary["failed"] == 0 and summary["total"] == KILL_SIZE, summary
    # What try 1 had ordered, try 2 found (already_done); the rest it ordered itself.
    assert summary["already_done"] >= killed["ordered_at_kill"] and summary["done"] >= 1, summary
    assert summary["already_done"] + summary["done"] == KILL_SIZE, summary

"""Two attempts of one subscribe task at the same moment still enroll every learner exactly once (Eduframe).

Airflow makes such overlaps itself: a Celery worker whose main process dies leaves its task processes running
as orphans while the scheduler retries the same task elsewhere. Eduframe has no idempotency key and an order
does not check for an existing enrollment, so two attempts that both look, see nothing and both order enroll
the learner twice (the issue: 1,744 of 2,000 learners, and both runs said ``done``).

Here two separate *processes* (spawned, each its own client, connection pool and hook) run the same
``LmsSubscribeOperator`` of the same 300 learners on one planned course against the sandbox over HTTP, started
together behind a barrier, with latency on every request so their looks, orders and read-backs interleave.
The sandbox's own state is then checked: every learner has exactly one enrollment that is not canceled (the
duplicates the race made were canceled, and are counted), both summaries have 0 failed, for each learner
exactly one of the two says ``done`` and both name the same enrollment, the one still live. A re-run sends no
order. With a shared store (``shared_limit_url``, a real redis-server) the claim per credential, course and
learner keeps the two from ordering at once: one order per learner, no duplicate to cancel.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections import Counter
from typing import Any

import pytest

from airflow_provider_lms.operators import LmsSubscribeOperator
from airflow_provider_lms.operators.learners import LmsEnsureLearnersOperator
from airflow_provider_lms.sandbox import SandboxServer
from tests.faults.conftest import FIGURES, connect, control, ctx
from tests.scaleout.services import redis_server, require_modules

LEARNERS = 300
COURSE = 1  # the seeded planned course with a catalog variant
#: Per request; an item's look, order and read-back take about three of these, so attempts started within a
#: few milliseconds of each other race on nearly every learner.
LATENCY_MS = 40
#: No client-side limit: the sandbox's own limit is lifted too, and throttling would only pull the two apart.
EXTRAS: dict[str, Any] = {"rate_limit_requests": 10**6, "backoff_base": 0.01, "backoff_max": 0.05}


def _attempt(conn_id: str, learners: list[str], start: Any, out: Any) -> None:
    """One attempt (runs in its own process): wait for the other, then subscribe all the learners."""
    operator = LmsSubscribeOperator(
        task_id="subscribe", lms_conn_id=conn_id, course_id=COURSE, learner_ids=learners, concurrency=8
    )
    start.wait(timeout=60)
    try:
        out.put(("ok", operator.execute(ctx())))
    except Exception as exc:  # the parent reports it; a child's traceback alone would be lost
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def _learners(conn_id: str) -> list[str]:
    rows = [{"email": f"overlap{i}@sandbox.example", "first_name": "O", "last_name": str(i)} for i in range(LEARNERS)]
    summary = LmsEnsureLearnersOperator(task_id="learners", lms_conn_id=conn_id, learners=rows).execute(ctx())
    assert summary["failed"] == 0
    return [str(item["result"]["learner_id"]) for item in summary["items"]]


def _run_two_at_once(conn_id: str, learners: list[str]) -> list[dict[str, Any]]:
    # Spawned, not forked: the sandbox's server thread runs in this process, and each attempt must be a
    # process of its own, as an orphaned task and its retry are.
    mp = multiprocessing.get_context("spawn")
    start = mp.Barrier(2)
    out = mp.Queue()
    procs = [mp.Process(target=_attempt, args=(conn_id, learners, start, out)) for _ in range(2)]
    for p in procs:
        p.start()
    answers = []
    try:
        for _ in procs:
            answers.append(out.get(timeout=180))
    except queue.Empty:
        pytest.fail("an attempt did not finish within 180 s")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = [detail for kind, detail in answers if kind == "error"]
    assert not errors, errors
    return [summary for _, summary in answers]


def _enrollments(sandbox: SandboxServer) -> list[dict[str, Any]]:
    state = control(sandbox, "GET", "/eduframe/state").json()
    return [e for e in state["enrollments"] if e["planned_course_id"] == COURSE]


def _race(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, **extras: Any) -> dict[str, Any]:
    """Two attempts at once, then the checks that hold with or without a shared store; returns the counts."""
    conn_id = connect(monkeypatch, sandbox, "eduframe", **EXTRAS, **extras)
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    learners = _learners(conn_id)
    assert not _enrollments(sandbox)

    control(sandbox, "PUT", "/faults", json={"latency_ms": LATENCY_MS})
    first, second = _run_two_at_once(conn_id, learners)
    control(sandbox, "DELETE", "/faults")

    enrollments = _enrollments(sandbox)
    live = Counter(str(e["student_id"]) for e in enrollments if e["status"] != "canceled")
    canceled = [e for e in enrollments if e["status"] == "canceled"]
    orders = {e["order_id"] for e in enrollments}
    store = "with a shared store" if extras else "no shared store"
    print(
        f"\noverlap ({store}): {len(orders)} orders for {LEARNERS} learners, {len(canceled)} duplicate enrollments "
        f"canceled; attempt 1: {first['done']} done, {first['already_done']} already done; "
        f"attempt 2: {second['done']} done, {second['already_done']} already done"
    )

    # Exactly one live enrollment per learner; every other enrollment the race made is canceled.
    assert {lid: live[lid] for lid in learners} == dict.fromkeys(learners, 1)
    assert sum(live.values()) == LEARNERS
    assert len(canceled) == len(orders) - LEARNERS

    assert first["failed"] == second["failed"] == 0
    # Every learner is "done" in exactly one of the two summaries, "already_done" in the other.
    assert first["done"] + second["done"] == LEARNERS
    assert first["already_done"] + second["already_done"] == LEARNERS
    kept = {str(e["student_id"]): str(e["id"]) for e in enrollments if e["status"] != "canceled"}
    statuses: dict[str, list[str]] = {lid: [] for lid in learners}
    for summary in (first, second):
        for item in summary["items"]:
            statuses[item["key"]].append(item["status"])
            # Both attempts report the enrollment that is kept, whichever of them made it.
            assert item["result"]["enrollment_id"] == kept[item["key"]]
    assert all(sorted(s) == ["already_done", "done"] for s in statuses.values())
    # An attempt whose own order was the duplicate says so.
    notes = [i["result"].get("note", "") for s in (first, second) for i in s["items"]]
    assert sum("this attempt's duplicate" in n for n in notes) == len(canceled)

    # A re-run afterwards finds everyone enrolled and sends no order.
    control(sandbox, "DELETE", "/requests")
    again = LmsSubscribeOperator(task_id="again", lms_conn_id=conn_id, course_id=COURSE, learner_ids=learners)
    rerun = again.execute(ctx())
    assert rerun["already_done"] == LEARNERS and rerun["done"] == 0
    assert not control(sandbox, "GET", "/requests", params={"method": "POST"}).json()
    assert len(_enrollments(sandbox)) == len(enrollments)
    return {"orders": len(orders), "canceled": len(canceled)}


def test_two_overlapping_attempts_enroll_each_learner_exactly_once(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    counts = _race(monkeypatch, sandbox)
    FIGURES["overlap: duplicate enrollments made by racing attempts, then canceled"] += counts["canceled"]
    # The race was real: both attempts ordered for some learners (else this test proves nothing).
    assert counts["orders"] > LEARNERS, "the two attempts never ordered for the same learner: no overlap exercised"


def test_with_a_shared_store_overlapping_attempts_make_no_duplicate_at_all(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    require_modules("redis")
    with redis_server() as url:
        counts = _race(monkeypatch, sandbox, shared_limit_url=url)
    # The claim made the second attempt wait for the first: one order per learner, nothing to cancel.
    assert counts == {"orders": LEARNERS, "canceled": 0}

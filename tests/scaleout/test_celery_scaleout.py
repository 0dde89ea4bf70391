"""The scale-out tier: Airflow on CeleryExecutor, Postgres and Redis, with two Celery workers, against the sandbox.

One deployment, as a platform engineer would run it on one machine: API server, scheduler, DAG processor,
triggerer and two Celery workers (own log-server ports, own hostnames), started once for the tier
(``tests/scaleout/conftest.py``). Runs go through the scheduler, started through the public REST API:

* the flagship DAG: every task succeeds, its completion sensors wait deferred in the triggerer, the triggerer
  is restarted while they wait and the new one resumes them (no sensor loses a try), every learner is
  enrolled once in Eduframe, and the tasks ran on the Celery workers;
* eight mapped ``LmsSubscribeOperator`` batches of 250 learners (2,000) on Eduframe with 20 ms latency and a
  binding rate limit, all on one token with the shared limit (Redis) on: the sandbox never sees more than its
  limit in any window, a handful of 429s at most, no failed item, every learner enrolled exactly once, and
  the batches ran on both workers. The test prints the figures.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.scaleout.cluster import WORKERS
from tests.scaleout.deployment import BATCH_SIZE, BATCHES, COURSE, FLAGSHIP, LIMIT, MAPPED, WINDOW, Deployment

pytestmark = [pytest.mark.scaleout, pytest.mark.airflow]

SENSOR = "anewspring_wait_for_completion"
LATENCY_MS = 20


# -- the flagship -------------------------------------------------------------------------------------------


#: The triggerer (its job id) that holds each of a run's waits.
_CLAIMS = (
    "SELECT t.triggerer_id FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id "
    "WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.task_id = %s"
)


@pytest.fixture(scope="module")
def flagship(deployment: Deployment) -> dict[str, Any]:
    cluster, sandbox = deployment.cluster, deployment.sandbox
    run_id = cluster.trigger(FLAGSHIP)

    def all_deferred() -> list[dict[str, Any]] | None:
        sensors = [t for t in cluster.task_instances(FLAGSHIP, run_id) if t["task_id"] == SENSOR]
        if sensors and all(t["state"] == "deferred" for t in sensors):
            return sensors
        if any(t["state"] in ("failed", "upstream_failed") for t in cluster.task_instances(FLAGSHIP, run_id)):
            raise AssertionError(f"the flagship failed before its sensors deferred\n{cluster.live.log_tails()}")
        return None

    deferred = cluster.live.wait_for("the flagship's sensors to defer", all_deferred, 420, interval=2)

    def claims() -> list[tuple[Any, ...]] | None:
        rows = cluster.query(_CLAIMS, FLAGSHIP, run_id, SENSOR)
        return rows if rows and all(r[0] is not None for r in rows) else None

    # A deferred task's trigger row exists before a triggerer claims it (its next assignment pass, seconds
    # later on a loaded machine): wait for the claims rather than read them once.
    claimed = cluster.live.wait_for("the triggerer to claim the waits", claims, 120, interval=2)
    # The triggerer restarts while the sensors wait (a deploy, a crashed pod): the new triggerer must claim
    # the same triggers and the waits go on, no sensor failed or re-run.
    cluster.live.restart("triggerer")

    def reclaimed() -> list[tuple[Any, ...]] | None:
        rows = cluster.query(_CLAIMS, FLAGSHIP, run_id, SENSOR)
        return rows if rows and all(r[0] is not None and r[0] != claimed[0][0] for r in rows) else None

    after_restart = cluster.live.wait_for("the new triggerer to claim the waits", reclaimed, 180, interval=2)
    httpx.put(
        f"{sandbox.control_url}/anewspring/auto_progress", json={"complete_after_seconds": 0}, timeout=30
    ).raise_for_status()
    final = cluster.live.wait_for("the flagship run", lambda: cluster.finished(FLAGSHIP, run_id), 420, interval=2)
    return {
        "final": final,
        "deferred": deferred,
        "claimed": claimed,
        "after_restart": after_restart,
        "tis": cluster.task_instances(FLAGSHIP, run_id),
        "eduframe": httpx.get(f"{sandbox.control_url}/eduframe/state", timeout=30).json(),
    }


def test_the_flagship_runs_on_the_celery_workers_with_its_waits_in_the_triggerer(flagship: dict[str, Any]):
    assert flagship["final"] == "success", flagship["tis"]
    assert {t["state"] for t in flagship["tis"]} == {"success"}, [(t["task_id"], t["state"]) for t in flagship["tis"]]
    # Every task ran on one of the two Celery workers (their own hostnames, from hostname_callable).
    assert {t["hostname"] for t in flagship["tis"]} <= set(WORKERS), {t["hostname"] for t in flagship["tis"]}
    # The completion sensors waited deferred, each a trigger claimed by the running triggerer.
    assert len(flagship["deferred"]) == 4 and len(flagship["claimed"]) == 4
    assert all(row[0] is not None for row in flagship["claimed"]), flagship["claimed"]
    # After the triggerer's restart, the new one holds all four waits, and every sensor still succeeded once
    # (try 1: the restart cost no task a try).
    assert len(flagship["after_restart"]) == 4
    sensors = [t for t in flagship["tis"] if t["task_id"] == SENSOR]
    assert {(t["state"], t["try_number"]) for t in sensors} == {("success", 1)}, sensors
    # Four learners, each enrolled once in the flagship's planned course.
    per_learner = Counter(e["student_id"] for e in flagship["eduframe"]["enrollments"] if e["planned_course_id"] == 1)
    assert len(per_learner) == 4 and set(per_learner.values()) == {1}, per_learner


# -- the mapped run under a binding, shared limit ---------------------------------------------------------------


def _busiest_window(stamps: list[float], width: float) -> int:
    """The most requests in any ``width``-second sliding window."""
    best, start = 0, 0
    for end, t in enumerate(stamps):
        while t - stamps[start] >= width:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.fixture(scope="module")
def mapped(deployment: Deployment, flagship: dict[str, Any]) -> dict[str, Any]:
    cluster, sandbox = deployment.cluster, deployment.sandbox
    control = sandbox.control_url
    # The binding limit and the latency, from a clean window and an empty request log.
    httpx.put(
        f"{control}/eduframe/rate_limit", json={"max_requests": LIMIT, "per_seconds": WINDOW}, timeout=30
    ).raise_for_status()
    httpx.put(f"{control}/faults", json={"latency_ms": LATENCY_MS}, timeout=30).raise_for_status()
    httpx.delete(f"{control}/requests", timeout=30).raise_for_status()
    # What the sandbox's own limiter counted, on its own clock: (time, served) per request it judged.
    limiter = sandbox.state.eduframe.limiter
    judged: list[tuple[float, bool]] = []
    counted = limiter.hit

    def hit(key: str) -> int | None:
        wait = counted(key)
        judged.append((limiter._monotonic(), wait is None))
        return wait

    limiter.hit = hit  # type: ignore[method-assign]
    load = os.getloadavg()[0]
    started = time.monotonic()
    run_id = cluster.trigger(MAPPED)
    final = cluster.live.wait_for("the mapped run", lambda: cluster.finished(MAPPED, run_id), 420, interval=2)
    seconds = time.monotonic() - started
    load = max(load, os.getloadavg()[0])
    del limiter.hit
    httpx.delete(f"{control}/faults", timeout=30)
    stamps = sorted(t for t, served in judged if served)
    seen = sorted(t for t, _ in judged)
    tis = cluster.task_instances(MAPPED, run_id)
    summaries = [cluster.xcom(MAPPED, run_id, "subscribe", t["map_index"]) for t in tis if t["state"] == "success"]
    ef = sandbox.state.eduframe
    per_learner = Counter(str(e.student_id) for e in ef.enrollments.values() if e.planned_course_id == COURSE)
    first = stamps[0] if stamps else 0.0
    per_window = Counter(int((t - first) // WINDOW) for t in stamps)
    return {
        "final": final,
        "seconds": seconds,
        "tis": tis,
        "summaries": summaries,
        "served": len(stamps),
        "limited": sum(1 for _, served in judged if not served),
        "busiest": _busiest_window(stamps, WINDOW),
        "busiest_seen": _busiest_window(seen, WINDOW),
        "load": load,
        "per_window": [per_window[i] for i in range(max(per_window) + 1)] if per_window else [],
        "span": (stamps[-1] - first) if stamps else 0.0,
        "enrollments": per_learner,
        "learners": deployment.learners,
    }


def test_two_workers_share_one_limit_and_enroll_every_learner_once(
    mapped: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    failed = sum(int(s.get("failed", 0)) for s in mapped["summaries"])
    done = sum(int(s.get("done", 0)) for s in mapped["summaries"])
    hosts = Counter(t["hostname"] for t in mapped["tis"])
    once = sum(1 for learner in mapped["learners"] if mapped["enrollments"][learner] == 1)
    # The allowed maximum: LIMIT per WINDOW over the span the requests took.
    allowed = LIMIT * (mapped["span"] / WINDOW + 1)
    pace = mapped["served"] / allowed
    with capsys.disabled():
        print(
            f"\n[scaleout] {BATCHES}x{BATCH_SIZE} learners on Eduframe, {LATENCY_MS} ms latency, limit {LIMIT} per "
            f"{WINDOW:g} s, shared through Redis: run {mapped['final']} in {mapped['seconds']:.1f} s\n"
            f"[scaleout] requests the sandbox served per {WINDOW:g} s window: {mapped['per_window']}\n"
            f"[scaleout] busiest sliding {WINDOW:g} s window: {mapped['busiest']} served, {mapped['busiest_seen']} "
            f"received (limit {LIMIT}); "
            f"{mapped['served']} served in {mapped['span']:.1f} s = {pace:.0%} of the allowed pace\n"
            f"[scaleout] 429 answers: {mapped['limited']}; items done {done}, failed {failed}; "
            f"learners enrolled exactly once: {once} of {len(mapped['learners'])}; batches per worker: {dict(hosts)}\n"
            f"[scaleout] machine load (1 min) during the run: {mapped['load']:.1f} on {os.cpu_count()} CPUs"
        )
    assert mapped["final"] == "success", [(t["map_index"], t["state"]) for t in mapped["tis"]]
    assert len(mapped["tis"]) == BATCHES and {t["state"] for t in mapped["tis"]} == {"success"}
    assert mapped["busiest"] <= LIMIT
    # A handful: at most 1 % of the requests (the rest of the spread of arrival times beyond the slack).
    assert mapped["limited"] <= max(5, mapped["served"] // 100), mapped["limited"]
    assert failed == 0 and done == BATCHES * BATCH_SIZE
    assert once == len(mapped["learners"]) and len(mapped["enrollments"]) == len(mapped["learners"])
    # The batches ran on both Celery workers.
    assert set(hosts) == set(WORKERS), hosts

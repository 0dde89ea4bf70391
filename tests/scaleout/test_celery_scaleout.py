"""The scale-out tier: Airflow on CeleryExecutor, Postgres and Redis, with two Celery workers, against the sandbox.

One deployment, as a platform engineer would run it on one machine: API server, scheduler, DAG processor,
triggerer and two Celery workers (own log-server ports, own hostnames). Runs go through the scheduler,
started through the public REST API:

* the flagship DAG: every task succeeds, its completion sensors wait deferred in the triggerer, every
  learner is enrolled once in Eduframe, and the tasks ran on the Celery workers;
* eight mapped ``LmsSubscribeOperator`` batches of 250 learners (2,000) on Eduframe with 20 ms latency and a
  binding rate limit, all on one token with the shared limit (Redis) on: the sandbox never sees more than its
  limit in any window, a handful of 429s at most, no failed item, every learner enrolled exactly once, and
  the batches ran on both workers. The test prints the figures.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe.records import EfUser
from airflow_provider_lms.sandbox.state import SandboxState
from airflow_provider_lms.testing import sandbox_connection_env
from tests.scaleout.cluster import WORKERS, Cluster, celery_cluster
from tests.scaleout.services import postgres_server, redis_server, require_modules

pytestmark = [pytest.mark.scaleout, pytest.mark.airflow]

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = "lms_flagship_enrollment_to_certification"
SENSOR = "anewspring_wait_for_completion"
MAPPED = "lms_scaleout_mapped_subscribe"
BATCHES, BATCH_SIZE = 8, 250
#: A planned course with no participant cap (seeded, flexible, active).
COURSE = 3
#: The binding limit: the sandbox's, and the connection's client-side share of it (all tasks together).
LIMIT, WINDOW = 250, 5.0
#: The client's window is this much longer than the platform's: the spread of arrival times it absorbs.
SLACK = 0.75
LATENCY_MS = 20

MAPPED_DAG = f'''
"""{BATCHES} batches of {BATCH_SIZE} Eduframe learners, mapped over the Celery workers (scale-out test)."""
import json
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_provider_lms.operators import LmsSubscribeOperator

BATCHES = json.loads((Path(__file__).parent / "scaleout_batches.json").read_text())

with DAG(
    dag_id="{MAPPED}",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
):
    LmsSubscribeOperator.partial(
        task_id="subscribe", lms_conn_id="eduframe_default", course_id="{COURSE}", concurrency=8, retries=0
    ).expand(learner_ids=BATCHES)
'''


@dataclass
class Deployment:
    cluster: Cluster
    sandbox: SandboxServer
    learners: list[str]


def _seed_learners(sandbox: SandboxServer, n: int) -> list[str]:
    """Eduframe users made straight in the sandbox's state (faster than 2,000 POSTs; nothing is running yet)."""
    ef = sandbox.state.eduframe
    now = datetime.now(timezone.utc)
    ids = []
    for i in range(n):
        user_id = ef.next_id("users")
        ef.users[user_id] = EfUser(
            id=user_id,
            first_name="Scale",
            middle_name=None,
            last_name=f"Out {i}",
            email=f"scaleout{i}@sandbox.example",
            roles=["student"],
            created_at=now,
            updated_at=now,
        )
        ids.append(str(user_id))
    return ids


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    require_modules("redis", "psycopg2", "asyncpg", "airflow.providers.celery")
    dags = tmp_path_factory.mktemp("dags")
    shutil.copy(ROOT / "example_dags" / f"{FLAGSHIP}.py", dags)
    shutil.copytree(ROOT / "example_dags" / "data", dags / "data")
    (dags / f"{MAPPED}.py").write_text(MAPPED_DAG)
    # The request log must hold every request of the mapped run, to count them per window.
    with (
        redis_server() as redis_url,
        postgres_server() as database_url,
        SandboxServer(state=SandboxState(request_log_size=200_000)) as sandbox,
    ):
        learners = _seed_learners(sandbox, BATCHES * BATCH_SIZE)
        batches = [learners[i : i + BATCH_SIZE] for i in range(0, len(learners), BATCH_SIZE)]
        (dags / "scaleout_batches.json").write_text(json.dumps(batches))
        env = sandbox_connection_env(sandbox.url)
        eduframe = json.loads(env["AIRFLOW_CONN_EDUFRAME_DEFAULT"])
        # One token for every task: the limit is shared through Redis, and the client's share is the whole limit.
        eduframe["extra"].update(
            {
                "shared_limit_url": redis_url,
                "rate_limit_requests": LIMIT,
                "rate_limit_period": WINDOW,
                "rate_limit_slack": SLACK,
            }
        )
        env["AIRFLOW_CONN_EDUFRAME_DEFAULT"] = json.dumps(eduframe)
        with celery_cluster(
            dags,
            tmp_path_factory.mktemp("airflow-home"),
            tmp_path_factory.mktemp("logs"),
            database_url=database_url,
            redis_url=redis_url,
            env=env,
            dag_ids=[FLAGSHIP, MAPPED],
        ) as cluster:
            yield Deployment(cluster, sandbox, learners)


# -- the flagship -------------------------------------------------------------------------------------------


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
    claimed = cluster.query(
        "SELECT t.triggerer_id FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id "
        "WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.task_id = %s",
        FLAGSHIP,
        run_id,
        SENSOR,
    )
    httpx.put(
        f"{sandbox.control_url}/anewspring/auto_progress", json={"complete_after_seconds": 0}, timeout=30
    ).raise_for_status()
    final = cluster.live.wait_for("the flagship run", lambda: cluster.finished(FLAGSHIP, run_id), 420, interval=2)
    return {
        "final": final,
        "deferred": deferred,
        "claimed": claimed,
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
    # Four learners, each enrolled once in the flagship's planned course.
    per_learner = Counter(e["student_id"] for e in flagship["eduframe"]["enrollments"] if e["planned_course_id"] == 1)
    assert len(per_learner) == 4 and set(per_learner.values()) == {1}, per_learner


# -- the mapped run under a binding, shared limit ---------------------------------------------------------------


def _xcom(cluster: Cluster, run_id: str, map_index: int) -> dict[str, Any]:
    answer = cluster.live.api(
        "GET",
        f"/dags/{MAPPED}/dagRuns/{run_id}/taskInstances/subscribe/xcomEntries/return_value",
        params={"map_index": map_index, "deserialize": "true", "stringify": "false"},
    )
    answer.raise_for_status()
    value = answer.json()["value"]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = ast.literal_eval(value)
    return dict(value)


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
    summaries = [_xcom(cluster, run_id, t["map_index"]) for t in tis if t["state"] == "success"]
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

"""Scenario 1: bulk subscribe and score, the provider against what a DAG author writes without it.

The sandbox (own process) answers every Eduframe request 20 ms late, its rate limit raised out of the way.
An *item* is one learner: subscribe them to a planned course, then record a score. Three ways, each on its
own fresh learners so that each starts from nothing:

- **provider**: the bulk runner behind ``LmsSubscribeOperator`` / ``LmsScoreExternalActivityOperator``
  (``EduframeHook.subscribe_learner`` then ``score_activity``, look-before-write), at ``--concurrency``;
- **requests loop**: a PythonOperator's ``for`` loop with one ``requests.Session``: look up the enrollment,
  ``POST /orders``, read the enrollment id back, ``POST /grades``;
- **HttpHook loop**: the same calls through the http provider's ``HttpHook.run`` (connection from
  ``AIRFLOW_CONN_*``), as an ``HttpOperator``-style DAG would make them.

The provider runs all ``--items`` (default 5,000, the issue's size). The naive loops are sequential, so
their time grows linearly with the item count (5,000 items would take ~8 minutes each): they run a sample
of ``--naive-items`` and their throughput (items per second, which does not depend on the sample size) is
extrapolated to the full count. The provider's bound is the concurrency bound ``N x requests per item x
latency / concurrency``; the ratio measured / bound says how much the client and the sandbox add. The CPU
each process spends per request (client: this process; sandbox: its own process) says which one is the
limit. Requests are counted by the sandbox.

The **bare httpx** run is the floor the HTTP library itself allows here: as many GETs as the provider sent,
through httpx alone (no retries, limits, parsing or look-before-write) from the same number of threads, on
clients of 4 connections each as the provider's client pools them. Its wall / bound says how close to the
bound any httpx client gets on this machine; provider / bare httpx is what the provider adds. The same GETs
on one asyncio event loop (``httpx.AsyncClient``s of 4 connections, as many tasks as threads) say whether an
asyncio bulk path would get closer than threads.

Goals: the provider is at least ``--goal`` (default 10) times the throughput of the faster naive loop,
fails nothing, a re-run changes nothing, and its wall time is within ``--max-bound-ratio`` (default 1.3,
issue 18) of the concurrency bound.

    /work/venv/bin/python benchmarks/scenario_bulk_naive.py                 # 5,000 items, naive loops 200 each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import bar_plot, save, table
from _sandbox_process import SandboxProcess, eduframe_hook

from airflow_provider_lms.http import BulkRunner, ItemResult
from airflow_provider_lms.models.inputs import LearnerSpec, ScoreRow
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY, EduframeSeed

COURSE = EduframeSeed.FIRST_AID_FLEXIBLE_PLANNED_COURSE_ID  # no participant cap
VARIANT = EduframeSeed.FIRST_AID_FLEXIBLE_VARIANT_ID


def naive_item(send: Any, learner: int) -> int:
    """What a hand-written loop does per learner; ``send(method, path, params, json)`` returns the JSON body."""
    params = {"student_id": learner, "planned_course_id": COURSE}
    if not send("GET", "/enrollments", params, None):
        send("POST", "/orders", None, {"catalog_variant_id": VARIANT, "creator_id": learner, "student_ids": [learner]})
    enrollment = send("GET", "/enrollments", params, None)[0]
    send(
        "POST",
        "/grades",
        None,
        {"grade": None, "score": 8.0, "gradeable_id": enrollment["id"], "gradeable_type": "Enrollment"},
    )
    return 4


def bare_httpx(api: str, requests_: int, concurrency: int) -> dict[str, float]:
    """``requests_`` GETs through httpx alone from ``concurrency`` threads: wall seconds and CPU ms per request."""
    headers = {"Authorization": f"Bearer {EDUFRAME_SANDBOX_API_KEY}"}
    clients = [
        httpx.Client(headers=headers, limits=httpx.Limits(max_connections=4)) for _ in range(-(-concurrency // 4))
    ]
    left = iter(range(requests_))
    lock = threading.Lock()

    def worker(k: int) -> None:
        client = clients[k // 4]
        while True:
            with lock:
                i = next(left, None)
            if i is None:
                return
            params = {"student_id": 1 + i % 50, "planned_course_id": COURSE}
            client.get(f"{api}/enrollments", params=params, timeout=30).raise_for_status()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    cpu0, started = _own_cpu_seconds(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - started, _own_cpu_seconds() - cpu0
    for client in clients:
        client.close()
    return {"seconds": wall, "cpu_ms_per_request": cpu / requests_ * 1000}


def bare_httpx_async(api: str, requests_: int, concurrency: int) -> dict[str, float]:
    """The same GETs as :func:`bare_httpx` from ``concurrency`` tasks on one event loop."""
    headers = {"Authorization": f"Bearer {EDUFRAME_SANDBOX_API_KEY}"}

    async def run() -> None:
        clients = [
            httpx.AsyncClient(headers=headers, limits=httpx.Limits(max_connections=4))
            for _ in range(-(-concurrency // 4))
        ]
        left = iter(range(requests_))

        async def worker(k: int) -> None:
            for i in left:  # one event loop: no lock needed to take the next request
                params = {"student_id": 1 + i % 50, "planned_course_id": COURSE}
                (await clients[k // 4].get(f"{api}/enrollments", params=params, timeout=30)).raise_for_status()

        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        for client in clients:
            await client.aclose()

    cpu0, started = _own_cpu_seconds(), time.perf_counter()
    asyncio.run(run())
    wall, cpu = time.perf_counter() - started, _own_cpu_seconds() - cpu0
    return {"seconds": wall, "cpu_ms_per_request": cpu / requests_ * 1000}


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--naive-items", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--goal", type=float, default=10.0)
    parser.add_argument("--max-bound-ratio", type=float, default=1.3)
    args = parser.parse_args(argv)

    with SandboxProcess() as sandbox:
        control = sandbox.control_url
        api = f"{sandbox.url}/eduframe/api/v1"
        httpx.put(f"{control}/eduframe/rate_limit", json={"max_requests": 10**9, "per_seconds": 1}).raise_for_status()
        # max_connections = concurrency: one connection per worker thread, as an operator would configure.
        hook = eduframe_hook(
            sandbox.url, rate_limit_requests=10**9, rate_limit_period=1, max_connections=args.concurrency
        )

        # Setup (not timed, no latency): the learners exist.
        total = args.items + 2 * args.naive_items
        specs = [LearnerSpec(email=f"b{i}@bench.example", first_name="B", last_name=str(i)) for i in range(total)]
        made = BulkRunner(concurrency=16, progress_interval=3600).run(
            "setup", specs, hook.ensure_learner, key=lambda s: s.email
        )
        ids = [int(i.result["learner_id"]) for i in made.items]
        bulk_ids = ids[: args.items]
        req_ids = ids[args.items : args.items + args.naive_items]
        http_ids = ids[args.items + args.naive_items :]
        hook.catalog_variant_id_for("planned_course", COURSE)  # warm the variant cache outside the timing
        httpx.put(f"{control}/faults", json={"latency_ms": args.latency_ms}).raise_for_status()

        # -- the provider --------------------------------------------------------------------------------
        runner = BulkRunner(concurrency=args.concurrency, progress_interval=3600)

        def subscribe(learner: int) -> ItemResult[Any]:
            return hook.subscribe_learner(str(COURSE), str(learner))

        def score(learner: int) -> ItemResult[Any]:
            return hook.score_activity(ScoreRow(learner_id=learner, course_id=COURSE, score=8.0))

        served_before = sandbox.requests_served()
        client_cpu0, sandbox_cpu0 = _own_cpu_seconds(), sandbox.cpu_seconds()
        started = time.perf_counter()
        subscribed = runner.run("subscribe", bulk_ids, subscribe, key=str)
        scored = runner.run("score", bulk_ids, score, key=str)
        provider_s = time.perf_counter() - started
        client_cpu = _own_cpu_seconds() - client_cpu0
        sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu0
        provider_requests = sandbox.requests_served() - served_before
        rerun_started = time.perf_counter()
        re_sub = runner.run("subscribe", bulk_ids, subscribe, key=str)
        re_score = runner.run("score", bulk_ids, score, key=str)
        rerun_s = time.perf_counter() - rerun_started
        bare = bare_httpx(api, provider_requests, args.concurrency)
        bare_async = bare_httpx_async(api, provider_requests, args.concurrency)

        # -- a requests loop -----------------------------------------------------------------------------
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {EDUFRAME_SANDBOX_API_KEY}"

        def send_requests(method: str, path: str, params: Any, body: Any) -> Any:
            r = session.request(method, api + path, params=params, json=body, timeout=30)
            r.raise_for_status()
            return r.json()

        served_before = sandbox.requests_served()
        started = time.perf_counter()
        for learner in req_ids:
            naive_item(send_requests, learner)
        requests_s = time.perf_counter() - started
        requests_loop_requests = sandbox.requests_served() - served_before
        session.close()

        # -- HttpHook in a loop --------------------------------------------------------------------------
        host = httpx.URL(api)
        os.environ["AIRFLOW_CONN_BENCH_HTTP"] = json.dumps(
            {"conn_type": "http", "host": host.host, "port": host.port, "schema": "http"}
        )
        from airflow.providers.http.hooks.http import HttpHook

        def send_httphook(method: str, path: str, params: Any, body: Any) -> Any:
            hook_ = HttpHook(method=method, http_conn_id="bench_http")
            headers = {"Authorization": f"Bearer {EDUFRAME_SANDBOX_API_KEY}"}
            if method == "GET":
                return hook_.run(f"/eduframe/api/v1{path}", data=params, headers=headers).json()
            return hook_.run(f"/eduframe/api/v1{path}", json=body, headers=headers).json()

        served_before = sandbox.requests_served()
        started = time.perf_counter()
        for learner in http_ids:
            naive_item(send_httphook, learner)
        httphook_s = time.perf_counter() - started
        httphook_requests = sandbox.requests_served() - served_before
        hook.close()

    n, m = args.items, args.naive_items
    per_item = provider_requests / n
    bound = n * per_item * (args.latency_ms / 1000) / args.concurrency
    tput = {"provider": n / provider_s, "requests loop": m / requests_s, "HttpHook loop": m / httphook_s}
    best_naive = max(tput["requests loop"], tput["HttpHook loop"])
    speedup = tput["provider"] / best_naive
    failed = subscribed.failed + scored.failed
    rerun_changed = re_sub.done + re_score.done
    latency_s = args.latency_ms / 1000
    # A sequential loop's bound is its requests x latency; its time at the full count is extrapolated.
    loops = {"requests loop": (requests_s, requests_loop_requests), "HttpHook loop": (httphook_s, httphook_requests)}
    rows = [
        [
            f"provider, concurrency {args.concurrency}",
            n,
            per_item,
            provider_s,
            tput["provider"],
            provider_s / bound,
            provider_s,
        ],
        *[
            [f"{name} (sequential)", m, sent_ / m, wall, tput[name], wall / (sent_ * latency_s), n / tput[name]]
            for name, (wall, sent_) in loops.items()
        ],
    ]
    print(
        table(
            f"Bulk subscribe + score on Eduframe, {args.latency_ms:.0f} ms latency",
            ["run", "items run", "requests/item", "wall s", "items/s", "wall / bound", f"s for {n:,} items"],
            rows,
        )
    )
    print(
        f"  bound = requests x latency / concurrency (concurrency 1 for the loops); provider bound {bound:.1f}s; "
        f"loop times for {n:,} items extrapolated from {m:,}"
    )
    print(
        f"  provider CPU per request: client {client_cpu / provider_requests * 1000:.2f} ms "
        f"({client_cpu / provider_s:.0%} of a core), sandbox {sandbox_cpu / provider_requests * 1000:.2f} ms "
        f"({sandbox_cpu / provider_s:.0%} of a core)"
    )
    bare_ratio = bare["seconds"] / bound
    print(
        f"  bare httpx, {provider_requests:,} GETs at concurrency {args.concurrency}: {bare['seconds']:.1f}s, "
        f"{bare_ratio:.2f}x the bound, client CPU {bare['cpu_ms_per_request']:.2f} ms per request; "
        f"provider / bare httpx {provider_s / bare['seconds']:.2f}x"
    )
    print(
        f"  bare httpx on one asyncio event loop, the same GETs: {bare_async['seconds']:.1f}s, "
        f"{bare_async['seconds'] / bound:.2f}x the bound, client CPU {bare_async['cpu_ms_per_request']:.2f} ms "
        "per request"
    )
    near_bound = provider_s / bound <= args.max_bound_ratio
    print(
        f"  provider wall / bound: {provider_s / bound:.2f}x (goal <= {args.max_bound_ratio}x: "
        f"{'met' if near_bound else 'MISSED'}; bare httpx {bare_ratio:.2f}x)"
    )
    print(
        f"  provider vs the faster naive loop: {speedup:.1f}x items/s (goal >= {args.goal}x); failed {failed}; "
        f"re-run {rerun_s:.1f}s changed {rerun_changed} items"
    )
    figures = {
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "items": n,
        "naive_items": m,
        "provider_seconds": round(provider_s, 2),
        "provider_requests_per_item": round(per_item, 2),
        "provider_bound_seconds": round(bound, 2),
        "provider_ratio_to_bound": round(provider_s / bound, 2),
        "provider_client_cpu_ms_per_request": round(client_cpu / provider_requests * 1000, 3),
        "provider_sandbox_cpu_ms_per_request": round(sandbox_cpu / provider_requests * 1000, 3),
        "naive_requests_per_item": {name: round(sent_ / m, 2) for name, (_, sent_) in loops.items()},
        "naive_seconds_extrapolated_to_items": {name: round(n / tput[name], 1) for name in loops},
        "items_per_second": {k: round(v, 2) for k, v in tput.items()},
        "speedup_vs_best_naive": round(speedup, 2),
        "failed": failed,
        "rerun_seconds": round(rerun_s, 2),
        "rerun_changed": rerun_changed,
        "retries": {**subscribed.retries, **scored.retries},
        "bare_httpx_seconds": round(bare["seconds"], 2),
        "bare_httpx_ratio_to_bound": round(bare_ratio, 2),
        "bare_httpx_client_cpu_ms_per_request": round(bare["cpu_ms_per_request"], 3),
        "provider_to_bare_httpx": round(provider_s / bare["seconds"], 2),
        "bare_httpx_asyncio_seconds": round(bare_async["seconds"], 2),
        "bare_httpx_asyncio_ratio_to_bound": round(bare_async["seconds"] / bound, 2),
        "bare_httpx_asyncio_client_cpu_ms_per_request": round(bare_async["cpu_ms_per_request"], 3),
        "goal_ratio_to_bound": args.max_bound_ratio,
    }
    save("bulk_naive", figures)
    bar_plot("bulk_naive", "Subscribe + score: items per second", list(tput), list(tput.values()), "items / s")
    ok = speedup >= args.goal and failed == 0 and rerun_changed == 0 and near_bound
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

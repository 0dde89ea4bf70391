"""Bulk enrollment of 500 learners vs. the same calls one after another, against the sandbox.

The sandbox runs in its own process (as a real platform would) with 20 ms added to every answer and
its rate limit raised so that it does not bind. Both runs use the same hook and the same call pattern
(look up the enrollment, order, read the enrollment back); the naive run makes them one after another,
the provider's bulk runner eight at a time. A third run repeats the bulk run to show it orders nothing.

    python dev.py bench                      # all benchmarks
    .venv/bin/python benchmarks/bulk_enroll.py --learners 500 --latency-ms 20
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sandbox_process import SandboxProcess, eduframe_hook

from airflow_provider_lms.http import BulkRunner, ItemResult
from airflow_provider_lms.models.inputs import LearnerSpec

BULK_COURSE = 1
SEQUENTIAL_COURSE = 2  # a second planned course, so both runs make exactly the same calls
FAULT_COURSE = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    with SandboxProcess() as sandbox:
        control = sandbox.control_url
        httpx.put(f"{control}/eduframe/rate_limit", json={"max_requests": 10**9, "per_seconds": 1}).raise_for_status()
        hook = eduframe_hook(sandbox.url, rate_limit_requests=10**9, rate_limit_period=1)

        # Setup (not timed): the learners exist.
        specs = [
            LearnerSpec(email=f"bench{i}@sandbox.example", first_name="B", last_name=str(i))
            for i in range(args.learners)
        ]
        made = BulkRunner(concurrency=16).run("setup", specs, hook.ensure_learner, key=lambda s: s.email)
        learners = [i.result["learner_id"] for i in made.items]
        httpx.put(f"{control}/faults", json={"latency_ms": args.latency_ms, "fault_rate": 0}).raise_for_status()

        def enroll_in(course: int):
            return lambda learner: hook.subscribe_learner(str(course), learner)

        hook.catalog_variant_id_for("planned_course", BULK_COURSE)  # warm the variant cache for both runs alike
        hook.catalog_variant_id_for("planned_course", SEQUENTIAL_COURSE)

        started = time.perf_counter()
        for learner in learners:
            result: ItemResult = enroll_in(SEQUENTIAL_COURSE)(learner)
            assert result.status.value == "done"
        sequential = time.perf_counter() - started

        bulk_runner = BulkRunner(concurrency=args.concurrency, progress_interval=3600)
        started = time.perf_counter()
        bulk = bulk_runner.run("subscribe", learners, enroll_in(BULK_COURSE), key=str)
        bulk_seconds = time.perf_counter() - started

        orders_before = len(httpx.get(f"{control}/eduframe/state").json()["orders"])
        started = time.perf_counter()
        rerun = bulk_runner.run("subscribe", learners, enroll_in(BULK_COURSE), key=str)
        rerun_seconds = time.perf_counter() - started
        state = httpx.get(f"{control}/eduframe/state").json()

        # The same bulk run with 30% of answers turned into 429, 503 or dropped connections.
        httpx.put(
            f"{control}/faults",
            json={"latency_ms": args.latency_ms, "fault_rate": args.fault_rate, "kinds": ["429", "503", "drop"]},
        ).raise_for_status()
        started = time.perf_counter()
        stormy = bulk_runner.run("subscribe", learners, enroll_in(FAULT_COURSE), key=str)
        stormy_seconds = time.perf_counter() - started
        injected = httpx.get(f"{control}/faults").json()["injected"]
        httpx.delete(f"{control}/faults").raise_for_status()
        stormy_state = httpx.get(f"{control}/eduframe/state").json()
        hook.close()

    per_learner: dict[int, int] = {}
    for e in state["enrollments"]:
        if e["planned_course_id"] == BULK_COURSE:
            per_learner[e["student_id"]] = per_learner.get(e["student_id"], 0) + 1
    ratio = bulk_seconds / sequential
    stormy_counts = Counter(
        e["student_id"] for e in stormy_state["enrollments"] if e["planned_course_id"] == FAULT_COURSE
    )
    stormy_exactly_once = all(stormy_counts[int(lid)] == 1 for lid in learners) and len(stormy_counts) == len(learners)
    figures = {
        "learners": args.learners,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "sequential_seconds": round(sequential, 3),
        "bulk_seconds": round(bulk_seconds, 3),
        "ratio_bulk_to_sequential": round(ratio, 4),
        "speedup": round(sequential / bulk_seconds, 2),
        "bulk_failed": bulk.failed,
        "rerun_seconds": round(rerun_seconds, 3),
        "rerun_done": rerun.done,
        "rerun_already_done": rerun.already_done,
        "orders_placed_by_rerun": len(state["orders"]) - orders_before,
        "learners_enrolled_more_than_once": sum(1 for n in per_learner.values() if n > 1),
        "faults_injected": injected,
        "fault_run_seconds": round(stormy_seconds, 3),
        "fault_run_failed": stormy.failed,
        "fault_run_retries": stormy.retries,
        "fault_run_every_learner_enrolled_exactly_once": stormy_exactly_once,
    }
    print(f"\nBulk enrollment: {args.learners} learners, {args.latency_ms:.0f} ms latency per request")
    print(f"  {'run':<34}{'seconds':>10}")
    print(f"  {'one after another (naive)':<34}{sequential:>10.2f}")
    print(f"  {'bulk, concurrency ' + str(args.concurrency):<34}{bulk_seconds:>10.2f}")
    print(f"  {'bulk re-run (nothing to do)':<34}{rerun_seconds:>10.2f}")
    print(f"  ratio bulk / naive: {ratio:.3f} (goal < 0.25), speed-up {sequential / bulk_seconds:.1f}x")
    new_orders = figures["orders_placed_by_rerun"]
    print(f"  re-run: {rerun.done} done, {rerun.already_done} already done, {new_orders} new orders")
    print(f"  with {args.fault_rate:.0%} faults injected ({injected}):")
    print(f"    {stormy.describe()}")
    print(f"    every learner enrolled exactly once: {stormy_exactly_once}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = (
        ratio < 0.25
        and bulk.failed == 0
        and figures["orders_placed_by_rerun"] == 0
        and figures["learners_enrolled_more_than_once"] == 0
        and stormy.failed == 0
        and stormy_exactly_once
    )
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""aNewSpring bulk: subscribe 2,000 learners and score 2,000 rows, bulk vs. the same calls one after another.

The sandbox runs in its own process with 20 ms added to every answer. Both runs make the same calls through
the same hook (isSubscribed then subscribe; getResults of the activity then scoreExternalActivity), into two
course runs copied from the same template so that each run starts from nothing; the naive run makes them
one after another, the bulk run with the operators' runner at ``--concurrency`` (an operator parameter; 32
here, since concurrency 8 caps the speed-up at 8x). A re-run of the bulk run must change nothing.

    /work/venv/bin/python benchmarks/anewspring_bulk.py --learners 2000 --latency-ms 20 --concurrency 32
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sandbox_process import SandboxProcess

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.http import BulkRunner
from airflow_provider_lms.models.inputs import ScoreRow
from airflow_provider_lms.sandbox.anewspring import ANEWSPRING_SANDBOX_API_KEY

TEMPLATE = "VEILIG-2026"
EXAM = "EXAMEN-PRAKTIJK"


def hook_for(sandbox_url: str) -> ANewSpringHook:
    os.environ["AIRFLOW_CONN_BENCH_ANS"] = json.dumps(
        {
            "conn_type": "anewspring",
            "password": ANEWSPRING_SANDBOX_API_KEY,
            "extra": {"base_url": f"{sandbox_url}/anewspring/api", "max_connections": 64},
        }
    )
    return ANewSpringHook("bench_ans")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--goal", type=float, default=10.0, help="minimum speed-up (default 10)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    with SandboxProcess() as sandbox:
        control = f"{sandbox.control_url}/anewspring"
        users = [f"bench-{i:05d}" for i in range(args.learners)]
        httpx.post(f"{control}/users", json={"users": [{"id": u} for u in users]}, timeout=60).raise_for_status()
        for course in ("BENCH-NAIVE", "BENCH-BULK"):
            httpx.post(f"{control}/courses", json={"id": course, "template": TEMPLATE}).raise_for_status()
        httpx.put(f"{sandbox.control_url}/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
        hook = hook_for(sandbox.url)

        def rows(course: str) -> list[ScoreRow]:
            return [
                ScoreRow(learner_id=u, course_id=course, activity_id=EXAM, score=50 + i % 51, comment="bench")
                for i, u in enumerate(users)
            ]

        def subscribe(course: str):
            return lambda user: hook.subscribe_learner(course, user)

        hook.test_connection()  # open the pool before timing
        started = time.perf_counter()
        for user in users:
            assert hook.subscribe_learner("BENCH-NAIVE", user).status.value == "done"
        for row in rows("BENCH-NAIVE"):
            assert hook.score_activity(row).status.value == "done"
        naive = time.perf_counter() - started

        runner = BulkRunner(concurrency=args.concurrency, progress_interval=3600)
        started = time.perf_counter()
        subscribed = runner.run("subscribe", users, subscribe("BENCH-BULK"), key=str)
        scored = runner.run(
            "score_external_activity", rows("BENCH-BULK"), hook.score_activity, key=lambda r: r.learner_id
        )
        bulk = time.perf_counter() - started
        state_before = httpx.get(f"{control}/state", timeout=60).json()

        started = time.perf_counter()
        resub = runner.run("subscribe", users, subscribe("BENCH-BULK"), key=str)
        rescore = runner.run(
            "score_external_activity", rows("BENCH-BULK"), hook.score_activity, key=lambda r: r.learner_id
        )
        rerun = time.perf_counter() - started
        state_after = httpx.get(f"{control}/state", timeout=60).json()
        hook.close()

    def bulk_subs(state: dict) -> list[dict]:
        return sorted((s for s in state["subscriptions"] if s["course_id"] == "BENCH-BULK"), key=lambda s: s["user_id"])

    unchanged = bulk_subs(state_before) == bulk_subs(state_after)
    once = all(s["times_subscribed"] == 1 and s["score_posts"] == 1 for s in bulk_subs(state_after))
    speedup = naive / bulk
    figures = {
        "learners": args.learners,
        "score_rows": args.learners,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "naive_seconds": round(naive, 2),
        "bulk_seconds": round(bulk, 2),
        "speedup": round(speedup, 2),
        "ratio_bulk_to_naive": round(bulk / naive, 4),
        "bulk_failed": subscribed.failed + scored.failed,
        "rerun_seconds": round(rerun, 2),
        "rerun_done": resub.done + rescore.done,
        "rerun_changed_state": not unchanged,
        "each_learner_subscribed_and_scored_once": once,
    }
    print(
        f"\naNewSpring bulk: {args.learners} subscriptions + {args.learners} scores, {args.latency_ms:.0f} ms latency"
    )
    print(f"  one after another (naive)     {naive:8.2f} s")
    print(f"  bulk, concurrency {args.concurrency:<3}        {bulk:8.2f} s")
    print(
        f"  bulk re-run (nothing to do)   {rerun:8.2f} s   "
        f"done {resub.done + rescore.done}, state unchanged: {unchanged}"
    )
    print(f"  speed-up {speedup:.1f}x (goal >= {args.goal:g}x), ratio bulk/naive {bulk / naive:.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = speedup >= args.goal and figures["bulk_failed"] == 0 and unchanged and once and figures["rerun_done"] == 0
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

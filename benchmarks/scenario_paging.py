"""Scenario 4: page through 5,000 / 50,000 / 500,000 Eduframe enrollments; client memory must stay flat.

The sandbox (own process) is seeded through ``POST /_sandbox/eduframe/seed_enrollments``; the client
reads every enrollment of one planned course with ``EduframeHook.list_enrollments`` (Link-header cursor
pagination, 100 per page, the documented maximum) and keeps only a count, as a streaming task would.
Peak memory is the client's Python heap peak while paging (tracemalloc), so the sandbox's own memory
does not count. Goal: the peak at the largest count is at most ``--flat-factor`` (default 2) times the
peak at the smallest, and the requests made equal ceil(count / 100).

    /work/venv/bin/python benchmarks/scenario_paging.py     # 5,000, 50,000 and 500,000: the issue's sweep
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import line_plot, save, table
from _sandbox_process import SandboxProcess, eduframe_hook

from airflow_provider_lms.hooks.eduframe import PER_PAGE
from airflow_provider_lms.sandbox.eduframe import EduframeSeed

COURSE = EduframeSeed.FIRST_AID_PLANNED_COURSE_ID


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--counts",
        default="5000,50000,500000",
        help="comma-separated enrollment counts",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer (default 0)")
    parser.add_argument("--flat-factor", type=float, default=2.0)
    args = parser.parse_args(argv)
    counts = sorted(int(c) for c in args.counts.split(","))

    rows = []
    with SandboxProcess() as sandbox:
        control = sandbox.control_url
        httpx.put(f"{control}/eduframe/rate_limit", json={"max_requests": 10**9, "per_seconds": 1}).raise_for_status()
        hook = eduframe_hook(sandbox.url, rate_limit_requests=10**9, rate_limit_period=1, timeout=120)
        base = sum(1 for _ in hook.list_enrollments(planned_course_id=COURSE))  # demo enrollments already there
        if args.latency_ms:
            httpx.put(f"{control}/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
        have = 0
        for count in counts:
            # Grow the course to ``count`` enrollments (seeding is not timed).
            httpx.post(
                f"{control}/eduframe/seed_enrollments",
                json={"count": count - have, "planned_course_id": COURSE},
                timeout=600,
            ).raise_for_status()
            have = count
            served_before = sandbox.requests_served()  # counted by the sandbox
            tracemalloc.start()
            started = time.perf_counter()
            seen = sum(1 for _ in hook.list_enrollments(planned_course_id=COURSE))
            wall = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            requests_made = sandbox.requests_served() - served_before
            expected = count + base
            rows.append(
                {
                    "enrollments": expected,
                    "seen": seen,
                    "requests": requests_made,
                    "expected_requests": math.ceil(expected / PER_PAGE),
                    "wall_seconds": round(wall, 2),
                    "records_per_second": round(seen / wall),
                    "peak_client_heap_mib": round(peak / 2**20, 2),
                }
            )
            print(f"  {expected:,} enrollments: {requests_made} requests, {wall:.1f}s, peak {peak / 2**20:.2f} MiB")
        hook.close()

    print()
    print(
        table(
            f"Paging Eduframe enrollments ({PER_PAGE} per page, {args.latency_ms:.0f} ms added latency)",
            ["enrollments", "requests", "wall s", "records/s", "peak client heap MiB"],
            [
                [r["enrollments"], r["requests"], r["wall_seconds"], r["records_per_second"], r["peak_client_heap_mib"]]
                for r in rows
            ],
        )
    )
    growth = rows[-1]["peak_client_heap_mib"] / max(rows[0]["peak_client_heap_mib"], 1e-6)
    all_seen = all(r["seen"] == r["enrollments"] for r in rows)
    minimal_requests = all(r["requests"] == r["expected_requests"] for r in rows)
    ok = growth <= args.flat_factor and all_seen and minimal_requests
    print(
        f"  peak memory growth {rows[0]['enrollments']:,} -> {rows[-1]['enrollments']:,}: {growth:.2f}x "
        f"(goal <= {args.flat_factor}x); every record seen: {all_seen}; one request per page: {minimal_requests}"
    )
    save("paging", {"latency_ms": args.latency_ms, "rows": rows, "memory_growth": round(growth, 3), "ok": ok})
    line_plot(
        "paging",
        "Paging Eduframe enrollments: client peak heap",
        [r["enrollments"] for r in rows],
        {"peak client heap (MiB)": [r["peak_client_heap_mib"] for r in rows]},
        "enrollments",
        "MiB",
    )
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

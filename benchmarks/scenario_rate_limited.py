"""Scenario 2: a rate-limited Eduframe: how close to the allowed pace, and how many 429s (goal: 0).

The sandbox (own process) allows ``--max-requests`` per ``--per-seconds`` (default 50 per 5 s, Eduframe's
real 500 per 300 s scaled down so a run takes seconds, not hours) and answers 20 ms late. The connection
carries the same limit, as a user copies it from the platform's documentation. A bulk run of look-ups
(``get_enrollment_state`` by learner and planned course, one GET each) at concurrency 8 then makes
``--requests`` requests. Reported: the provider's pace against the allowed maximum and the 429s the sandbox
sent (from its request log). Goal: no 429 and a pace of at least ``--min-pace`` (default 0.85) of the
maximum; the client keeps a 0.25 s safety margin per window, so the ceiling is 5 / 5.25 = 95%.

    /work/venv/bin/python benchmarks/scenario_rate_limited.py --requests 250
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import bar_plot, save, table
from _sandbox_process import SandboxProcess, add_limit_arguments, eduframe_hook, limit_sandbox, look_ups

from airflow_provider_lms.http import BulkRunner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_limit_arguments(parser)
    args = parser.parse_args(argv)

    with SandboxProcess() as sandbox:
        control = sandbox.control_url
        hook = eduframe_hook(sandbox.url, rate_limit_requests=args.max_requests, rate_limit_period=args.per_seconds)
        hook.get_conn()  # reading the connection is not part of the pace
        limit_sandbox(control, args)
        items, look = look_ups(hook, 0, args.requests)
        started = time.perf_counter()
        summary = BulkRunner(concurrency=args.concurrency, progress_interval=3600).run(
            "look", items, look, key=lambda i: f"{i[0]}/{i[1]}"
        )
        wall = time.perf_counter() - started
        log = httpx.get(f"{control}/requests", params={"path_prefix": "/eduframe"}, timeout=60).json()
        hook.close()

    statuses = [e.get("status") or e.get("status_code") for e in log]
    received_429 = sum(1 for s in statuses if s == 429)
    served = len(log)
    allowed_rate = args.max_requests / args.per_seconds
    # A sliding window lets a full window's worth start at once, then the next batch one window later:
    # the last of n requests can start no earlier than floor((n - 1) / max) windows after the first.
    bound_seconds = ((served - 1) // args.max_requests) * args.per_seconds
    pace = served / wall
    pace_ratio = bound_seconds / wall if wall else 0.0
    figures = {
        "requests": served,
        "limit": f"{args.max_requests} per {args.per_seconds:g} s",
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "wall_seconds": round(wall, 2),
        "fastest_allowed_seconds": round(bound_seconds, 2),
        "pace_vs_allowed": round(pace_ratio, 3),
        "requests_per_second": round(pace, 2),
        "allowed_requests_per_second": allowed_rate,
        "received_429": received_429,
        "client_retries": summary.retries,
        "failed_items": summary.failed,
    }
    print(
        table(
            f"Rate-limited Eduframe: {args.max_requests} requests per {args.per_seconds:g} s, {args.latency_ms:.0f} ms",
            ["run", "requests", "wall s", "fastest allowed s", "pace / allowed", "429s"],
            [
                [
                    f"provider (bulk, concurrency {args.concurrency})",
                    served,
                    wall,
                    bound_seconds,
                    pace_ratio,
                    received_429,
                ]
            ],
        )
    )
    save("rate_limited", figures)
    bar_plot(
        "rate_limited",
        "Rate-limited Eduframe: wall time vs the fastest the limit allows",
        ["fastest allowed", "provider"],
        [bound_seconds, wall],
        "seconds",
    )
    ok = received_429 == 0 and summary.failed == 0 and pace_ratio >= args.min_pace and served == args.requests
    print(
        f"  429s received: {received_429} (goal 0); pace {pace_ratio:.0%} of the allowed maximum (goal >= "
        f"{args.min_pace:.0%}); requests {served} (expected {args.requests})"
    )
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Scenario 6: one Eduframe limit shared by several processes through Redis (issue 18: the shared-limit pace).

The sandbox (own process) allows ``--max-requests`` per ``--per-seconds`` (default 50 per 5 s) and answers
20 ms late; a throwaway ``redis-server`` runs on loopback. ``--processes`` worker processes (default 2, spawned)
each build their own EduframeHook on the same connection, whose extras carry the same limit and
``shared_limit_url``, so that they share one sliding window in Redis (key ``"eduframe:bench_eduframe"``). They
wait at a barrier, then each runs a bulk run of look-ups (``get_enrollment_state``, one GET each) at
concurrency 8, ``--requests`` in all. For comparison the same processes run again without ``shared_limit_url``,
each counting only its own requests, after a clean window (``--per-seconds`` + 1 s, request log and Redis keys
cleared). From the sandbox's request log: requests, 429s, the busiest window (most requests, refused or not,
whose arrival falls in any ``--per-seconds``), wall time from the first process's start to the last one's end, the
fastest the limit allows (``((served - 1) // max) * per_seconds``) and the pace (fastest allowed / wall).

Goal (issue 18), with the shared limit: no window above the limit, at most ``--max-429`` 429s (default 3),
no failed item, and a pace of at least ``--min-pace`` (default 0.85). The per-process run is not a goal.
Needs redis-server and the ``redis`` package (``python3 dev.py bench`` installs both).

    .venv/bin/python benchmarks/scenario_shared_limit.py --processes 2 --requests 250
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import bar_plot, save, table
from _sandbox_process import SandboxProcess, add_limit_arguments, eduframe_hook, limit_sandbox, look_ups, stop

from airflow_provider_lms.http import BulkRunner
from airflow_provider_lms.http.shared import PREFIX

REDIS_SERVER = "/usr/bin/redis-server"
#: The table's figures, in its column order.
COLUMNS = "requests received_429 failed_items busiest_window wall_seconds fastest_allowed_seconds pace_vs_allowed"


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server on a free loopback port, no persistence, its files in a temp dir; yields its URL."""
    import redis

    with socket.socket() as s:  # redis refuses --port 0: take a free port from the kernel
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    workdir = tempfile.mkdtemp(prefix="lms-bench-redis-")
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", workdir]
    proc = subprocess.Popen([REDIS_SERVER, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port} (exit code {proc.poll()})")
            with contextlib.suppress(redis.RedisError):
                if redis.Redis.from_url(url, socket_timeout=1).ping():
                    break
            time.sleep(0.05)
        yield url
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def worker(
    first: int, count: int, concurrency: int, sandbox_url: str, extras: dict[str, Any], barrier: Any, results: Any
) -> None:
    """One process: its own hook on the shared connection, then items ``first`` .. ``first + count - 1``."""
    hook = eduframe_hook(sandbox_url, **extras)  # the same conn id in every process: one Redis key
    hook.get_conn()  # reading the connection is not part of the pace
    items, look = look_ups(hook, first, count)
    barrier.wait(timeout=300)
    started = time.time()  # the wall clock: comparable across processes
    summary = BulkRunner(concurrency=concurrency, progress_interval=3600).run(
        "look", items, look, key=lambda i: f"{i[0]}/{i[1]}"
    )
    results.put({"start": started, "end": time.time(), "failed": summary.failed + summary.not_attempted})
    hook.close()


def busiest_window(times: list[float], seconds: float) -> int:
    """The most of ``times`` (sorted) that fall within any ``seconds`` (a window [t, t + seconds))."""
    most, low = 0, 0
    for high, t in enumerate(times):
        while times[low] <= t - seconds:
            low += 1
        most = max(most, high - low + 1)
    return most


def measure(args: argparse.Namespace, sandbox_url: str, shared_url: str | None) -> dict[str, Any]:
    """One contended run of every process; its figures from the sandbox's request log."""
    limit_sandbox(f"{sandbox_url}/_sandbox", args)  # a fresh window on the platform, the request log cleared
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(args.processes), ctx.Queue()
    extras: dict[str, Any] = {"rate_limit_requests": args.max_requests, "rate_limit_period": args.per_seconds}
    if shared_url:
        extras["shared_limit_url"] = shared_url
    share, rest = divmod(args.requests, args.processes)
    counts = [share + (1 if i < rest else 0) for i in range(args.processes)]
    procs = [
        ctx.Process(target=worker, args=(sum(counts[:i]), n, args.concurrency, sandbox_url, extras, barrier, results))
        for i, n in enumerate(counts)
    ]
    for p in procs:
        p.start()
    done = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    response = httpx.get(f"{sandbox_url}/_sandbox/requests", params={"path_prefix": "/eduframe"}, timeout=60)
    log = response.json()
    # Every arrival counts toward what the platform sees, refused or not (the sandbox refuses what is over).
    arrivals = sorted(datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() for e in log)
    served = [e for e in log if e.get("status") != 429]
    wall = max(r["end"] for r in done) - min(r["start"] for r in done)
    bound = ((len(served) - 1) // args.max_requests) * args.per_seconds
    return {
        "requests": len(log),
        "served": len(served),
        "received_429": sum(1 for e in log if e.get("status") == 429),
        "failed_items": sum(r["failed"] for r in done),
        "busiest_window": busiest_window(arrivals, args.per_seconds),
        "wall_seconds": round(wall, 2),
        "fastest_allowed_seconds": round(bound, 2),
        "pace_vs_allowed": round(bound / wall, 3) if wall else 0.0,
        "log_evicted": int(response.headers.get("X-Sandbox-Log-Evicted", "0")),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    add_limit_arguments(parser)
    parser.add_argument("--max-429", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import redis
    except ImportError:
        redis = None  # type: ignore[assignment]
    if redis is None or not Path(REDIS_SERVER).exists():
        print(
            f"  needs {REDIS_SERVER} (apt-get install redis-server) and the redis package (pip install -e "
            "'.[scaleout]'): python3 dev.py bench installs both"
        )
        return 2

    with redis_server() as redis_url, SandboxProcess() as sandbox:
        shared = measure(args, sandbox.url, redis_url)
        time.sleep(args.per_seconds + 1)  # the naive run starts from a clean window
        store = redis.Redis.from_url(redis_url)
        for key in store.scan_iter(f"{PREFIX}*"):
            store.delete(key)
        naive = measure(args, sandbox.url, None)

    runs = {"shared limit (Redis)": shared, "per-process limit": naive}
    print(
        table(
            f"Eduframe at {args.max_requests} requests per {args.per_seconds:g} s, {args.latency_ms:.0f} ms, "
            f"{args.processes} processes x concurrency {args.concurrency}, {args.requests} look-ups",
            ["run", "requests", "429s", "failed", "busiest window", "wall s", "fastest allowed s", "pace / allowed"],
            [[name, *(r[key] for key in COLUMNS.split())] for name, r in runs.items()],
        )
    )
    limit_text = f"{args.max_requests} per {args.per_seconds:g} s"
    figures = {"limit": limit_text, "latency_ms": args.latency_ms, "processes": args.processes}
    figures |= {"concurrency": args.concurrency, "shared": shared, "per_process": naive}
    save("shared_limit", figures)
    bar_plot(
        "shared_limit",
        f"{args.processes} processes on one Eduframe limit: the busiest {args.per_seconds:g} s the platform saw",
        ["the limit", "shared limit", "per-process limit"],
        [args.max_requests, shared["busiest_window"], naive["busiest_window"]],
        "requests in the busiest window",
    )
    ok = (
        shared["busiest_window"] <= args.max_requests
        and shared["received_429"] <= args.max_429
        and shared["failed_items"] == 0
        and shared["pace_vs_allowed"] >= args.min_pace
        and shared["served"] == args.requests
        and shared["log_evicted"] == 0
    )
    print(
        f"  shared limit: busiest window {shared['busiest_window']} (goal <= {args.max_requests}); "
        f"429s {shared['received_429']} (goal <= {args.max_429}); failed items {shared['failed_items']} (goal 0); "
        f"pace {shared['pace_vs_allowed']:.0%} of the allowed maximum (goal >= {args.min_pace:.0%}); "
        f"served {shared['served']} (expected {args.requests})"
    )
    print(
        f"  per-process limit (comparison): busiest window {naive['busiest_window']}, "
        f"429s {naive['received_429']}, failed items {naive['failed_items']}"
    )
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Scenario 3: 1,000 EnrollmentCompletedSensor waits, deferred (one triggerer loop) vs poke mode.

The sandbox (own process) holds ``--waits`` fresh enrollments that complete ``--complete-after`` seconds
later (its auto-progress rule); every wait polls by enrollment id each ``--poll-interval`` seconds until
it sees the completion. Each mode runs in a fresh child process, so its memory and CPU are its own:

- **deferred**: ``EnrollmentCompletedTrigger`` x N in one asyncio event loop, as the triggerer runs them
  (the sensors' worker slots were released when they deferred);
- **poke**: N ``EnrollmentCompletedSensor.poke()`` loops, one thread each; in Airflow each is a worker
  slot (a whole task process), so the thread here is a lower bound of what poke mode really costs.

Reported: worker slots held while waiting, the child's memory growth (RSS) for the waits, CPU seconds per
poll cycle (all N polls), polls made. Goal: every wait ends in success in both modes, and the deferred
mode uses no more CPU per poll cycle than poke mode.

    /work/venv/bin/python benchmarks/scenario_waiting.py --waits 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import bar_plot, save, table
from _sandbox_process import SandboxProcess, eduframe_hook


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def child(mode: str, first: int, count: int, poll: float) -> dict[str, Any]:
    """Run the waits in this process and return the figures (called with ``--child``)."""
    ids = list(range(first, first + count))
    if mode == "deferred":
        from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger

        triggers = [
            EnrollmentCompletedTrigger("bench_eduframe", {"enrollment_id": str(i)}, poll_interval=poll) for i in ids
        ]
        base = _rss_mib()
        cpu0, t0 = time.process_time(), time.perf_counter()

        async def first_event(trigger: EnrollmentCompletedTrigger) -> str:
            async for event in trigger.run():
                return str(event.payload["status"])
            return "none"

        async def all_waits() -> list[str]:
            return await asyncio.gather(*(first_event(t) for t in triggers))

        peak = [base]

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_mib())
                time.sleep(0.2)

        done = threading.Event()
        threading.Thread(target=sample, daemon=True).start()
        statuses = asyncio.run(all_waits())
        slots = 0
    else:
        from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

        sensors = [
            EnrollmentCompletedSensor(task_id=f"wait_{i}", lms_conn_id="bench_eduframe", enrollment_id=i) for i in ids
        ]
        base = _rss_mib()
        cpu0, t0 = time.process_time(), time.perf_counter()
        statuses = ["none"] * count
        peak = [base]
        done = threading.Event()

        def wait(index: int) -> None:
            while True:
                if sensors[index].poke({}).is_done:  # type: ignore[arg-type]
                    statuses[index] = "success"
                    return
                time.sleep(poll)

        threads = [threading.Thread(target=wait, args=(i,)) for i in range(count)]
        for th in threads:
            th.start()
        while any(th.is_alive() for th in threads):
            peak[0] = max(peak[0], _rss_mib())
            time.sleep(0.2)
        slots = count
    done.set()
    return {
        "wall_seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - cpu0,
        "rss_growth_mib": peak[0] - base,
        "succeeded": sum(1 for s in statuses if s == "success"),
        "worker_slots_held": slots,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waits", type=int, default=1000)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--complete-after", type=float, default=12.0)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FIRST_ID", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, first, count = args.child
        print(json.dumps(child(mode, int(first), int(count), args.poll_interval)))
        return 0

    results: dict[str, dict[str, Any]] = {}
    with SandboxProcess() as sandbox:
        control = sandbox.control_url
        httpx.put(f"{control}/eduframe/rate_limit", json={"max_requests": 10**9, "per_seconds": 1}).raise_for_status()
        eduframe_hook(sandbox.url, rate_limit_requests=10**9, rate_limit_period=1, max_connections=4)
        env = dict(os.environ)
        for mode in ("deferred", "poke"):
            httpx.put(f"{control}/eduframe/auto_progress", json={"complete_after_seconds": None}).raise_for_status()
            seeded = httpx.post(f"{control}/eduframe/seed_enrollments", json={"count": args.waits}, timeout=120).json()
            httpx.put(
                f"{control}/eduframe/auto_progress", json={"complete_after_seconds": args.complete_after}
            ).raise_for_status()
            httpx.delete(f"{control}/requests").raise_for_status()
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--poll-interval",
                    str(args.poll_interval),
                    "--child",
                    mode,
                    str(seeded["first_id"]),
                    str(args.waits),
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            log = httpx.get(f"{control}/requests", params={"path_prefix": "/eduframe/api"})
            figures["polls"] = len(log.json()) + int(log.headers.get("X-Sandbox-Log-Evicted", "0"))
            figures["poll_cycles"] = figures["polls"] / args.waits
            figures["cpu_ms_per_poll_cycle"] = 1000 * figures["cpu_seconds"] / figures["poll_cycles"]
            results[mode] = figures
            print(f"  {mode}: {figures}", flush=True)

    rows = [
        [
            mode,
            r["worker_slots_held"],
            r["rss_growth_mib"],
            r["cpu_ms_per_poll_cycle"],
            r["polls"],
            r["succeeded"],
            r["wall_seconds"],
        ]
        for mode, r in results.items()
    ]
    print(
        table(
            f"Waiting: {args.waits} enrollment waits, poll every {args.poll_interval:g} s, complete after "
            f"{args.complete_after:g} s",
            ["mode", "worker slots", "memory MiB", "CPU ms / poll cycle", "polls", "succeeded", "wall s"],
            rows,
        )
    )
    save("waiting", {"waits": args.waits, "poll_interval": args.poll_interval, "modes": results})
    bar_plot(
        "waiting",
        f"{args.waits} waits: CPU ms per poll cycle",
        list(results),
        [r["cpu_ms_per_poll_cycle"] for r in results.values()],
        "CPU ms",
    )
    ok = all(r["succeeded"] == args.waits for r in results.values()) and (
        results["deferred"]["cpu_ms_per_poll_cycle"] <= results["poke"]["cpu_ms_per_poll_cycle"]
    )
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Scenario 3: 1,000 EnrollmentCompletedSensor waits, deferred (one triggerer loop) vs poke mode.

The sandbox (own process) holds fresh enrollments that complete ``--complete-after`` seconds after the
waits start (its auto-progress rule); every wait polls by enrollment id each ``--poll-interval`` seconds
until it sees the completion.

- **deferred**: ``EnrollmentCompletedTrigger`` x ``--waits`` (1,000) in one asyncio event loop in one child
  process, as the triggerer runs them (the sensors' worker slots were released when they deferred);
- **poke**: in Airflow each poking sensor holds a worker slot, a task process of its own. 1,000 Airflow
  processes (~130 MiB each) do not fit a 2-core benchmark, and 1,000 threads in one process measure
  thread contention rather than poke mode, so poke mode is *sampled*: ``--poke-sample`` (8) child processes,
  one ``EnrollmentCompletedSensor.poke()`` loop each, run side by side; their CPU per poll and their memory
  per process are scaled to ``--waits``. A real task process also heartbeats and talks to its supervisor,
  which is not counted, so the poke figures are a lower bound.

Each child builds its triggers or sensors and says it is ready; only then is the completion clock set, so
both modes start waiting alike. CPU is the children's own CPU while waiting (for deferred, that includes
building every hook and client and connecting). A wait of hours is made of *later* poll cycles: deferred
mode runs a second time, ``--extra-cycles`` poll intervals longer, and the difference in CPU over the
difference in polls is its later-cycle cost; each poke process times its own pokes, and every poke but the
first is a later one.

Reported per mode: worker slots held, memory (deferred: the triggerer process's growth for all waits; poke:
the processes' size x waits), CPU per poll cycle of all waits (whole wait, and later cycles), polls.
Goal: every wait ends in success, and deferred mode uses no more CPU per poll cycle than poke mode, both
over the whole wait and in later cycles.

    /work/venv/bin/python benchmarks/scenario_waiting.py                 # 1,000 waits, the issue's size
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import bar_plot, save, table
from _sandbox_process import SandboxProcess, eduframe_hook


def _rss_mib() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _peak_rss_mib() -> float:
    # The kernel's high-water mark: no sampling thread, whose wake-ups would be billed to the polls.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ready() -> None:
    """Tell the parent the waits are built, and start when it says so (after it set the completion clock)."""
    print("ready", flush=True)
    sys.stdin.readline()


def child(mode: str, first: int, count: int, poll: float) -> dict[str, Any]:
    """Run the waits in this process and return the figures (called with ``--child``)."""
    ids = list(range(first, first + count))
    extra: dict[str, float] = {}
    if mode == "deferred":
        from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger

        triggers = [
            EnrollmentCompletedTrigger("bench_eduframe", {"enrollment_id": str(i)}, poll_interval=poll) for i in ids
        ]

        async def first_event(trigger: EnrollmentCompletedTrigger) -> str:
            async for event in trigger.run():
                return str(event.payload["status"])
            return "none"

        async def all_waits() -> list[str]:
            return await asyncio.gather(*(first_event(t) for t in triggers))

        base = _rss_mib()
        _ready()
        cpu0, t0 = time.process_time(), time.perf_counter()
        statuses = asyncio.run(all_waits())
    else:
        from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

        sensors = [
            EnrollmentCompletedSensor(task_id=f"wait_{i}", lms_conn_id="bench_eduframe", enrollment_id=i) for i in ids
        ]
        statuses = ["none"] * count
        poke_cpu: list[list[float]] = [[] for _ in ids]

        def wait(index: int) -> None:
            while True:
                before = time.thread_time()
                done = sensors[index].poke({}).is_done  # type: ignore[arg-type]
                poke_cpu[index].append(time.thread_time() - before)
                if done:
                    statuses[index] = "success"
                    return
                time.sleep(poll)

        threads = [threading.Thread(target=wait, args=(i,)) for i in range(count)]
        base = _rss_mib()
        _ready()
        cpu0, t0 = time.process_time(), time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        later = [cpu for pokes in poke_cpu for cpu in pokes[1:]]
        extra["first_poke_cpu_ms"] = 1000 * sum(p[0] for p in poke_cpu if p) / count
        extra["later_poke_cpu_ms"] = 1000 * sum(later) / max(len(later), 1)
    return {
        **extra,
        "wall_seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - cpu0,
        "rss_growth_mib": max(0.0, _peak_rss_mib() - base),
        "succeeded": sum(1 for s in statuses if s == "success"),
        "process_rss_mib": _rss_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waits", type=int, default=1000)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--complete-after", type=float, default=12.0)
    parser.add_argument("--extra-cycles", type=int, default=3, help="poll cycles the longer run adds")
    parser.add_argument("--poke-sample", type=int, default=8, help="poke-mode sensor processes actually run")
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

        def run_children(mode: str, groups: list[tuple[int, int]], go: Callable[[], None]) -> list[dict[str, Any]]:
            """Start one child per ``(first id, count)`` group, start them together once all are ready."""
            logs = [tempfile.TemporaryFile() for _ in groups]  # noqa: SIM115 - closed in the finally below
            procs = []
            for (first_id, count), log in zip(groups, logs, strict=True):
                command = [sys.executable, __file__, "--poll-interval", str(args.poll_interval)]
                command += ["--child", mode, str(first_id), str(count)]
                # The child's log (a line per poll) goes to a file: a pipe nobody reads would block it.
                procs.append(
                    subprocess.Popen(
                        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
                    )
                )
            try:
                for proc in procs:
                    assert proc.stdout is not None
                    if proc.stdout.readline().strip() != "ready":
                        raise RuntimeError(f"a {mode} child did not start")
                go()
                for proc in procs:
                    assert proc.stdin is not None
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                figures = []
                for proc, log in zip(procs, logs, strict=True):
                    out, _ = proc.communicate(timeout=3600)
                    if proc.returncode != 0:
                        log.seek(0)
                        raise RuntimeError(f"a {mode} child failed:\n{log.read().decode()[-3000:]}")
                    figures.append(json.loads(out.strip().splitlines()[-1]))
                return figures
            finally:
                for proc in procs:
                    if proc.poll() is None:
                        proc.kill()
                for log in logs:
                    log.close()

        def measure(mode: str, count: int, complete_after: float) -> dict[str, Any]:
            httpx.put(f"{control}/eduframe/auto_progress", json={"complete_after_seconds": None}).raise_for_status()
            first_id = int(
                httpx.post(f"{control}/eduframe/seed_enrollments", json={"count": count}, timeout=120).json()[
                    "first_id"
                ]
            )
            seeded_at = time.monotonic()

            def start_clock() -> None:
                # Auto-progress counts from each enrollment's creation (the seeding): completing them
                # ``complete_after`` seconds after *now* makes both modes wait, and poll, alike.
                after = time.monotonic() - seeded_at + complete_after
                httpx.put(
                    f"{control}/eduframe/auto_progress", json={"complete_after_seconds": after}
                ).raise_for_status()
                httpx.delete(f"{control}/requests").raise_for_status()

            groups = [(first_id, count)] if mode == "deferred" else [(first_id + i, 1) for i in range(count)]
            children = run_children(mode, groups, start_clock)
            log = httpx.get(f"{control}/requests", params={"path_prefix": "/eduframe/api"})
            polls = len(log.json()) + int(log.headers.get("X-Sandbox-Log-Evicted", "0"))
            cpu = sum(c["cpu_seconds"] for c in children)
            return {
                "waits": count,
                "processes": len(children),
                "succeeded": sum(c["succeeded"] for c in children),
                "polls": polls,
                "cpu_seconds": round(cpu, 3),
                "cpu_ms_per_poll": 1000 * cpu / polls,
                "wall_seconds": round(max(c["wall_seconds"] for c in children), 2),
                "rss_growth_mib": round(sum(c["rss_growth_mib"] for c in children), 2),
                "process_rss_mib": round(sum(c["process_rss_mib"] for c in children) / len(children), 1),
                **(
                    {
                        "first_poke_cpu_ms": sum(c["first_poke_cpu_ms"] for c in children) / len(children),
                        "later_poke_cpu_ms": sum(c["later_poke_cpu_ms"] for c in children) / len(children),
                    }
                    if mode == "poke"
                    else {}
                ),
            }

        n = args.waits
        # Deferred: the whole wait, then the same waits ``--extra-cycles`` poll intervals longer; the
        # difference is what a poll cycle costs once the waits are set up (a real wait polls for hours).
        short = measure("deferred", n, args.complete_after)
        longer = measure("deferred", n, args.complete_after + args.extra_cycles * args.poll_interval)
        later_ms = 1000 * (longer["cpu_seconds"] - short["cpu_seconds"]) / (longer["polls"] - short["polls"])
        results["deferred"] = {
            "measured": short,
            "measured_longer": longer,
            "worker_slots_held": 0,
            "cpu_ms_per_poll_cycle": short["cpu_ms_per_poll"] * n,
            "cpu_ms_per_later_poll_cycle": later_ms * n,
            "memory_mib": short["rss_growth_mib"],
        }
        # Poke: each sampled process times its own pokes (one thread each), so a later poll is simply the
        # mean of every poke but the first; both figures are scaled from the sample to ``n`` waits.
        sample = measure("poke", args.poke_sample, args.complete_after)
        results["poke"] = {
            "measured": sample,
            "worker_slots_held": n,
            "cpu_ms_per_poll_cycle": sample["cpu_ms_per_poll"] * n,
            "cpu_ms_per_later_poll_cycle": sample["later_poke_cpu_ms"] * n,
            "first_poke_cpu_ms": sample["first_poke_cpu_ms"],
            "memory_mib": sample["process_rss_mib"] * n,
        }
        for mode, figures in results.items():
            print(f"  {mode}: {json.dumps(figures)}", flush=True)

    rows = [
        [
            "deferred (all measured)" if mode == "deferred" else f"poke ({args.poke_sample} measured, scaled)",
            r["worker_slots_held"],
            r["memory_mib"],
            r["cpu_ms_per_poll_cycle"],
            r["cpu_ms_per_later_poll_cycle"],
            r["measured"]["polls"],
            f"{r['measured']['succeeded']}/{r['measured']['waits']}",
            r["measured"]["wall_seconds"],
        ]
        for mode, r in results.items()
    ]
    print(
        table(
            f"Waiting: {n:,} enrollment waits, poll every {args.poll_interval:g} s, complete "
            f"{args.complete_after:g} s after the waits start",
            [
                "mode",
                "worker slots",
                "memory MiB",
                "CPU ms / poll cycle",
                "CPU ms / later cycle",
                "polls made",
                "succeeded",
                "wall s",
            ],
            rows,
        )
    )
    deferred, poke = results["deferred"], results["poke"]
    print(
        f"  deferred: {1024 * deferred['memory_mib'] / n:.0f} KiB per wait in one triggerer process; poke: "
        f"{poke['measured']['process_rss_mib']:.0f} MiB per sensor process x {n:,} "
        f"= {poke['memory_mib'] / 1024:.1f} GiB"
    )
    save(
        "waiting",
        {
            "waits": n,
            "poke_sample": args.poke_sample,
            "poll_interval": args.poll_interval,
            "complete_after": args.complete_after,
            "extra_cycles": args.extra_cycles,
            "modes": results,
        },
    )
    bar_plot(
        "waiting",
        f"{n:,} waits: CPU ms per later poll cycle",
        list(results),
        [r["cpu_ms_per_later_poll_cycle"] for r in results.values()],
        "CPU ms",
    )
    ok = all(r["measured"]["succeeded"] == r["measured"]["waits"] for r in results.values()) and (
        deferred["cpu_ms_per_later_poll_cycle"] <= poke["cpu_ms_per_later_poll_cycle"]
        and deferred["cpu_ms_per_poll_cycle"] <= poke["cpu_ms_per_poll_cycle"]
    )
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

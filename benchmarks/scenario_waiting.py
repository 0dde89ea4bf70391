"""Scenario 3: 1,000 EnrollmentCompletedSensor waits on 10 courses: shared course polls vs a poll per learner.

The sandbox (own process) holds 10 planned courses of 100 fresh enrollments each; they complete
``--complete-after`` seconds after the waits start (its auto-progress rule), and every wait polls each
``--poll-interval`` seconds until it sees the completion. Three modes:

- **shared** (issue 18): ``EnrollmentCompletedTrigger`` x ``--waits`` in one asyncio event loop in one child
  process, as the triggerer runs them, each ref naming its enrollment and its planned course: the waits of a
  course share one paged roster read (``GET /enrollments?planned_course_id=``) per interval, and one hook;
- **naive**: the same triggers in the same kind of process, each ref naming only its enrollment: each wait
  reads its own enrollment (``GET /enrollments/{id}``) every interval, the per-learner poll the triggers did
  before issue 18 (they now share one hook per connection here too);
- **poke**: in Airflow each poking sensor holds a worker slot, a task process of its own; poke mode is
  *sampled* (``--poke-sample`` processes, one ``poke()`` loop each) and scaled to ``--waits``: 1,000
  processes of ~130 MiB do not fit a 2-core benchmark. A real task process also heartbeats, which is not
  counted: a lower bound.

Each child builds its triggers or sensors and says it is ready; only then is the completion clock set, so all
modes start waiting alike. CPU is the child's own CPU while waiting. A wait of hours is made of *later* poll
cycles: shared and naive each run a second time, ``--extra-cycles`` poll intervals longer, and the difference
in CPU over the difference in poll cycles is the later-cycle cost. A poll cycle: naive, every wait's read
(requests / waits per cycle); shared, one read of every course's roster, all its pages (the log's first-page
reads / courses). Reported: requests per poll cycle, CPU per wait per poll cycle (whole wait and later
cycles), and both as ratios of shared to naive in this run. Goals: every wait succeeds; shared sends at most
one read of every page of each course's roster per cycle (<= 10 x pages); a later cycle costs at most 1 ms of
CPU per wait; shared mode's CPU per cycle is no more than naive's or poke mode's.

    /work/venv/bin/python benchmarks/scenario_waiting.py                 # 1,000 waits on 10 courses
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

#: Planned courses the benchmark's sandbox gets beyond its demo data: 10 fresh ones per measured run.
SPARE_COURSES = 60
MODEL_PLANNED_COURSE = 3  # the seeded flexible course: no capacity limit


def _rss_mib() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 2**20


def _peak_rss_mib() -> float:
    # The kernel's high-water mark: no sampling thread, whose wake-ups would be billed to the polls.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve_sandbox(port_file: str) -> None:
    """The sandbox with :data:`SPARE_COURSES` more planned courses (``--serve-sandbox``), until terminated."""
    import dataclasses

    from airflow_provider_lms.sandbox import SandboxServer
    from airflow_provider_lms.sandbox.state import SandboxState

    state = SandboxState(request_log_size=100_000)  # a naive run's requests are counted from the log
    ef = state.eduframe
    model = ef.planned_courses[MODEL_PLANNED_COURSE]
    for _ in range(SPARE_COURSES):
        pc_id = ef.next_id("planned_courses")
        ef.planned_courses[pc_id] = dataclasses.replace(model, id=pc_id)
    server = SandboxServer(state=state).start()
    Path(port_file).write_text(str(server.port))
    threading.Event().wait()  # serve until the benchmark terminates the process


class _CoursesSandbox(SandboxProcess):
    """:class:`SandboxProcess` running :func:`serve_sandbox` (this script with ``--serve-sandbox``)."""

    start_timeout = 60.0

    def command(self, port_file: Path) -> list[str]:
        return [sys.executable, __file__, "--serve-sandbox", str(port_file)]


#: The child's CPU, wall clock and memory when the parent said go.
_START: dict[str, float] = {}


def _ready() -> None:
    """Tell the parent the waits are built, and start when it says so (after it set the completion clock)."""
    _START["rss"] = _rss_mib()
    print("ready", flush=True)
    sys.stdin.readline()
    _START["cpu"], _START["wall"] = time.process_time(), time.perf_counter()


def _deferred(mode: str, groups: list[tuple[int, int, int]], poll: float) -> list[str]:
    """Run the triggers of ``groups`` (planned course, first enrollment id, count) in one event loop."""
    from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger

    def ref(course: int, enrollment: int) -> dict[str, str]:
        if mode == "shared":
            return {"enrollment_id": str(enrollment), "course_id": str(course)}
        return {"enrollment_id": str(enrollment)}  # no course: the trigger polls its enrollment alone

    triggers = [
        EnrollmentCompletedTrigger("bench_eduframe", ref(course, i), poll_interval=poll)
        for course, first, count in groups
        for i in range(first, first + count)
    ]

    async def first_event(trigger: EnrollmentCompletedTrigger) -> str:
        async for event in trigger.run():
            return str(event.payload["status"])
        return "none"

    async def all_waits() -> list[str]:
        return await asyncio.gather(*(first_event(t) for t in triggers))

    _ready()
    return asyncio.run(all_waits())


def _poke(first: int, count: int, poll: float, extra: dict[str, float]) -> list[str]:
    """Poke loops (one thread each) over the enrollments ``first .. first + count - 1``."""
    from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor

    sensors = [
        EnrollmentCompletedSensor(task_id=f"wait_{i}", lms_conn_id="bench_eduframe", enrollment_id=i)
        for i in range(first, first + count)
    ]
    statuses = ["none"] * count
    poke_cpu: list[list[float]] = [[] for _ in sensors]

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
    _ready()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    later = [cpu for pokes in poke_cpu for cpu in pokes[1:]]
    extra["first_poke_cpu_ms"] = 1000 * sum(p[0] for p in poke_cpu if p) / count
    extra["later_poke_cpu_ms"] = 1000 * sum(later) / max(len(later), 1)
    return statuses


def child(mode: str, groups: list[tuple[int, int, int]], poll: float) -> dict[str, Any]:
    """Run the waits in this process and return the figures (called with ``--child``)."""
    extra: dict[str, float] = {}
    if mode == "poke":
        [(_, first, count)] = groups
        statuses = _poke(first, count, poll, extra)
    else:
        statuses = _deferred(mode, groups, poll)
    return {
        **extra,
        "wall_seconds": time.perf_counter() - _START["wall"],
        "cpu_seconds": time.process_time() - _START["cpu"],
        "rss_growth_mib": max(0.0, _peak_rss_mib() - _START["rss"]),
        "succeeded": sum(1 for s in statuses if s == "success"),
        "process_rss_mib": _rss_mib(),
    }


def _run_children(
    mode: str, per_child: list[list[tuple[int, int, int]]], poll: float, go: Callable[[], None]
) -> list[dict[str, Any]]:
    """Start one child per group list, start them together once all are ready; their figures."""
    logs = [tempfile.TemporaryFile() for _ in per_child]  # noqa: SIM115 - closed in the finally below
    procs = []
    for groups, log in zip(per_child, logs, strict=True):
        command = [sys.executable, __file__, "--poll-interval", str(poll), "--child", mode, json.dumps(groups)]
        # The child's log (a line per state change) goes to a file: a pipe nobody reads would block it.
        procs.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True))
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


class _Bench:
    """The sandbox's control API, the spare planned courses, and one measured run per call of :meth:`measure`."""

    def __init__(self, control: str, args: argparse.Namespace) -> None:
        self.control = control
        self.args = args
        self.next_course = MODEL_PLANNED_COURSE + 1  # the spare planned courses follow the demo data's 3

    def _seed(self, course: int, count: int) -> int:
        answer = httpx.post(
            f"{self.control}/eduframe/seed_enrollments",
            json={"count": count, "planned_course_id": course},
            timeout=120,
        )
        answer.raise_for_status()
        return int(answer.json()["first_id"])

    def measure(self, mode: str, waits: int, complete_after: float) -> dict[str, Any]:
        """One measured run of ``waits`` waits in ``mode``; the figures of its children and of the request log."""
        httpx.put(f"{self.control}/eduframe/auto_progress", json={"complete_after_seconds": None}).raise_for_status()
        if mode == "poke":
            groups = [(MODEL_PLANNED_COURSE, self._seed(MODEL_PLANNED_COURSE, waits), waits)]
            per_child = [[(course, first + i, 1)] for course, first, _ in groups for i in range(waits)]
        else:
            courses = list(range(self.next_course, self.next_course + self.args.courses))
            self.next_course += self.args.courses  # fresh courses: each roster holds this run's waits only
            per_course = waits // len(courses)
            groups = [(c, self._seed(c, per_course), per_course) for c in courses]
            per_child = [groups]
        seeded_at = time.monotonic()

        def start_clock() -> None:
            # Auto-progress counts from each enrollment's creation (the seeding): completing them
            # ``complete_after`` seconds after *now* makes every mode wait, and poll, alike.
            after = time.monotonic() - seeded_at + complete_after
            httpx.put(
                f"{self.control}/eduframe/auto_progress", json={"complete_after_seconds": after}
            ).raise_for_status()
            httpx.delete(f"{self.control}/requests").raise_for_status()

        children = _run_children(mode, per_child, self.args.poll_interval, start_clock)
        log = httpx.get(f"{self.control}/requests", params={"path_prefix": "/eduframe/api"}, timeout=60)
        entries = log.json()
        requests = len(entries) + int(log.headers.get("X-Sandbox-Log-Evicted", "0"))
        if mode == "shared":
            queries = [e.get("query") or "" for e in entries]
            first_pages = sum(1 for q in queries if "planned_course_id" in q and "cursor" not in q)
            cycles = first_pages / len(groups)
        else:
            cycles = requests / waits
        cpu = sum(c["cpu_seconds"] for c in children)
        figures: dict[str, Any] = {
            "waits": waits,
            "processes": len(children),
            "succeeded": sum(c["succeeded"] for c in children),
            "requests": requests,
            "poll_cycles": round(cycles, 2),
            "requests_per_cycle": requests / cycles,
            "cpu_seconds": round(cpu, 3),
            "cpu_ms_per_wait_per_cycle": 1000 * cpu / (waits * cycles),
            "wall_seconds": round(max(c["wall_seconds"] for c in children), 2),
            "rss_growth_mib": round(sum(c["rss_growth_mib"] for c in children), 2),
            "process_rss_mib": round(sum(c["process_rss_mib"] for c in children) / len(children), 1),
        }
        if mode == "poke":
            figures["first_poke_cpu_ms"] = sum(c["first_poke_cpu_ms"] for c in children) / len(children)
            figures["later_poke_cpu_ms"] = sum(c["later_poke_cpu_ms"] for c in children) / len(children)
        return figures

    def deferred(self, mode: str) -> dict[str, Any]:
        """A mode's whole wait and the same waits ``--extra-cycles`` intervals longer; the later-cycle cost."""
        n, args = self.args.waits, self.args
        short = self.measure(mode, n, args.complete_after)
        longer = self.measure(mode, n, args.complete_after + args.extra_cycles * args.poll_interval)
        extra_cycles = max(longer["poll_cycles"] - short["poll_cycles"], 1e-9)
        later_ms = 1000 * (longer["cpu_seconds"] - short["cpu_seconds"]) / (extra_cycles * n)
        return {
            "measured": short,
            "measured_longer": longer,
            "worker_slots_held": 0,
            "requests_per_cycle": short["requests_per_cycle"],
            "cpu_ms_per_wait_per_cycle": short["cpu_ms_per_wait_per_cycle"],
            "cpu_ms_per_wait_per_later_cycle": later_ms,
            "memory_mib": short["rss_growth_mib"],
        }

    def poke(self) -> dict[str, Any]:
        """Poke mode, sampled: each sampled process times its own pokes; scaled to ``--waits``."""
        sample = self.measure("poke", self.args.poke_sample, self.args.complete_after)
        return {
            "measured": sample,
            "worker_slots_held": self.args.waits,
            "requests_per_cycle": float(self.args.waits),  # one read per sensor per cycle, scaled
            "cpu_ms_per_wait_per_cycle": sample["cpu_ms_per_wait_per_cycle"],
            "cpu_ms_per_wait_per_later_cycle": sample["later_poke_cpu_ms"],
            "first_poke_cpu_ms": sample["first_poke_cpu_ms"],
            "memory_mib": sample["process_rss_mib"] * self.args.waits,
        }


def _report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> bool:
    """Print the table and the ratios, save the figures and the plot; whether every goal is met."""
    n = args.waits
    shared, naive = results["shared"], results["naive"]
    pages = shared["measured"]["requests_per_cycle"] / args.courses
    ratios = {
        "requests_per_cycle": shared["requests_per_cycle"] / naive["requests_per_cycle"],
        "cpu_per_wait_per_cycle": shared["cpu_ms_per_wait_per_cycle"] / naive["cpu_ms_per_wait_per_cycle"],
        "cpu_per_wait_per_later_cycle": shared["cpu_ms_per_wait_per_later_cycle"]
        / naive["cpu_ms_per_wait_per_later_cycle"],
    }
    labels = {
        "shared": "shared course polls (measured)",
        "naive": "poll per learner (measured)",
        "poke": f"poke ({args.poke_sample} measured, scaled)",
    }
    rows = [
        [
            labels[mode],
            r["worker_slots_held"],
            r["memory_mib"],
            r["requests_per_cycle"],
            r["cpu_ms_per_wait_per_cycle"],
            r["cpu_ms_per_wait_per_later_cycle"],
            f"{r['measured']['succeeded']}/{r['measured']['waits']}",
            r["measured"]["wall_seconds"],
        ]
        for mode, r in results.items()
    ]
    headers = ["mode", "worker slots", "memory MiB", "requests / cycle", "CPU ms / wait / cycle"]
    headers += ["CPU ms / wait / later cycle", "succeeded", "wall s"]
    print(
        table(
            f"Waiting: {n:,} enrollment waits on {args.courses} courses, poll every {args.poll_interval:g} s, "
            f"complete {args.complete_after:g} s after the waits start",
            headers,
            rows,
        )
    )
    print(
        f"  shared / naive: requests per cycle {ratios['requests_per_cycle']:.4f} "
        f"({shared['requests_per_cycle']:.1f} vs {naive['requests_per_cycle']:.1f}; {pages:.1f} pages per course); "
        f"CPU per wait per cycle {ratios['cpu_per_wait_per_cycle']:.3f}, per later cycle "
        f"{ratios['cpu_per_wait_per_later_cycle']:.3f}"
    )
    save(
        "waiting",
        {
            "waits": n,
            "courses": args.courses,
            "poke_sample": args.poke_sample,
            "poll_interval": args.poll_interval,
            "complete_after": args.complete_after,
            "extra_cycles": args.extra_cycles,
            "modes": results,
            "shared_over_naive": ratios,
        },
    )
    try:
        bar_plot(
            "waiting",
            f"{n:,} waits on {args.courses} courses: CPU ms per wait per later poll cycle",
            list(results),
            [r["cpu_ms_per_wait_per_later_cycle"] for r in results.values()],
            "CPU ms",
        )
    except ImportError:  # matplotlib comes with the bench extra; the figures above are the result
        print("  (no plot: matplotlib is not installed)")
    every_wait = all(r["measured"]["succeeded"] == r["measured"]["waits"] for r in results.values())
    # Whole pages only: one read of every page of each course's roster per cycle, no more.
    few_requests = shared["requests_per_cycle"] <= args.courses * max(1.0, round(pages)) + 1e-9
    cheap = shared["cpu_ms_per_wait_per_later_cycle"] <= 1.0
    cheaper = all(
        shared[k] <= other[k]
        for other in results.values()
        for k in ("cpu_ms_per_wait_per_cycle", "cpu_ms_per_wait_per_later_cycle")
    )
    print(f"  goals: every wait succeeds {every_wait}; <= {args.courses} x pages requests per cycle {few_requests}; ")
    print(f"         <= 1 ms CPU per wait per later cycle {cheap}; no more CPU than naive and poke {cheaper}")
    return every_wait and few_requests and cheap and cheaper


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waits", type=int, default=1000)
    parser.add_argument("--courses", type=int, default=10)
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--complete-after", type=float, default=12.0)
    parser.add_argument("--extra-cycles", type=int, default=3, help="poll cycles the longer runs add")
    parser.add_argument("--poke-sample", type=int, default=8, help="poke-mode sensor processes actually run")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "GROUPS"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-sandbox", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_sandbox:
        serve_sandbox(args.serve_sandbox)
        return 0
    if args.child:
        mode, groups = args.child
        print(json.dumps(child(mode, [tuple(g) for g in json.loads(groups)], args.poll_interval)))
        return 0
    if args.waits % args.courses or args.courses * 4 > SPARE_COURSES:
        parser.error(f"--waits must be a multiple of --courses, and --courses at most {SPARE_COURSES // 4}")

    with _CoursesSandbox() as sandbox:
        control = sandbox.control_url
        httpx.put(f"{control}/eduframe/rate_limit", json={"max_requests": 10**9, "per_seconds": 1}).raise_for_status()
        eduframe_hook(sandbox.url, rate_limit_requests=10**9, rate_limit_period=1, max_connections=4)
        bench = _Bench(control, args)
        results = {"shared": bench.deferred("shared"), "naive": bench.deferred("naive"), "poke": bench.poke()}
        for mode, figures in results.items():
            print(f"  {mode}: {json.dumps(figures)}", flush=True)
    ok = _report(args, results)
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

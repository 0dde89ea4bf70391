"""The sandbox in a process of its own, so that a benchmark's client and server do not share a GIL.

Also what the rate-limit scenarios (``scenario_rate_limited.py``, ``scenario_shared_limit.py``) share: their
options, the sandbox's limit and latency, and the look-ups they send.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.http import ItemResult
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY, EduframeSeed

if TYPE_CHECKING:
    from typing import Self  # Python 3.11; the project supports 3.10


class SandboxProcess:
    """``python -m airflow_provider_lms.sandbox --port 0`` in the background, stopped on exit."""

    #: Seconds the sandbox gets to write its port file.
    start_timeout = 30.0

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def control_url(self) -> str:
        return f"{self.url}/_sandbox"

    def command(self, port_file: Path) -> list[str]:
        """The sandbox's command line; it writes its port to ``port_file`` once it serves (subclasses change it)."""
        module = ["-m", "airflow_provider_lms.sandbox", "--port", "0", "--port-file", str(port_file)]
        return [sys.executable, *module, "--log-level", "warning"]

    def __enter__(self) -> Self:
        """Start :meth:`command` and wait until it has written its port."""
        port_file = Path(tempfile.mkdtemp()) / "port"
        self._proc = subprocess.Popen(self.command(port_file), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + self.start_timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        return self

    @property
    def pid(self) -> int:
        """The sandbox process id (to read its CPU time)."""
        assert self._proc is not None
        return self._proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the sandbox process has used so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def requests_served(self) -> int:
        """How many platform requests the sandbox has logged so far (the log numbers them)."""
        entries = httpx.get(f"{self.control_url}/requests", timeout=30).json()
        return max((int(e["seq"]) for e in entries), default=0)

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            stop(self._proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc``, and kill it if it has not exited 10 s later."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def eduframe_hook(sandbox_url: str, **extra: Any) -> EduframeHook:
    """An EduframeHook on a connection (from the environment) that points at the sandbox."""
    conn_id = "bench_eduframe"
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
        {
            "conn_type": "eduframe",
            "password": EDUFRAME_SANDBOX_API_KEY,
            "extra": {"base_url": f"{sandbox_url}/eduframe/api/v1", **extra},
        }
    )
    return EduframeHook(conn_id)


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """The rate-limit scenarios' options: the run's size, the platform's limit and latency, the pace goal."""
    parser.add_argument("--requests", type=int, default=250)
    parser.add_argument("--max-requests", type=int, default=50)
    parser.add_argument("--per-seconds", type=float, default=5.0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--min-pace", type=float, default=0.85)


def limit_sandbox(control_url: str, args: argparse.Namespace) -> None:
    """Give the sandbox's Eduframe the limit of ``args`` (from a clean window) and its latency; clear the log."""
    limit = {"max_requests": args.max_requests, "per_seconds": args.per_seconds}
    httpx.put(f"{control_url}/eduframe/rate_limit", json=limit).raise_for_status()
    httpx.put(f"{control_url}/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
    httpx.delete(f"{control_url}/requests").raise_for_status()


Item = tuple[int, int]


def look_ups(hook: EduframeHook, first: int, count: int) -> tuple[list[Item], Callable[[Item], ItemResult[str]]]:
    """Look-ups ``first`` .. ``first + count - 1`` (a seeded learner and a planned course each, one GET), and the
    BulkRunner function that sends one."""
    learners = EduframeSeed.LEARNER_IDS
    items = [(learners[i % len(learners)], 1 + i % 3) for i in range(first, first + count)]

    def look(item: Item) -> ItemResult[str]:
        state = hook.get_enrollment_state(EnrollmentRef(learner_id=str(item[0]), course_id=str(item[1])))
        return ItemResult(result=state.state.value)

    return items, look

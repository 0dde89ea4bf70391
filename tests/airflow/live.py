"""A real, running Airflow for tests: api-server, scheduler, dag-processor and triggerer on loopback.

Each component is its own ``airflow`` process (as in a deployment), in its own process group, sharing a
throwaway ``AIRFLOW_HOME`` with a SQLite metadata database. Every process is stopped when the context ends,
also when startup fails or times out; on a timeout the components' log tails are in the error.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from airflow_provider_lms.testing import AirflowRunner

STARTUP_TIMEOUT = 420.0  # a shared 2-core machine: Airflow's first start can be slow
JWT_SECRET = "test-jwt-secret-9c1e7b"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(airflow: AirflowRunner, logs: Path, *args: str) -> subprocess.Popen[bytes]:
    log = (logs / f"{args[0]}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "airflow", *args],
        env=airflow.environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as a whole below
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class LiveAirflow:
    """Handles on a running Airflow: its runner (env, DB queries), URL, component logs and processes."""

    airflow: AirflowRunner
    url: str
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: a simple-auth-manager user and password; None when every visitor is an admin (all_admins)
    credentials: tuple[str, str] | None = None
    _token: str | None = None

    def api_up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_for(self, what: str, check: Callable[[], T], timeout: float = 180.0, interval: float = 1.0) -> T:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out waiting for {what}\n{self.log_tails()}")

    def log_tails(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in self.logs.glob("*.log"))

    def restart(self, component: str, *args: str) -> None:
        _stop(self.processes[component])
        self.processes[component] = _start(self.airflow, self.logs, component, *args)

    # -- the REST API, as an admin of the simple auth manager ----------------------------------------

    def token(self) -> str:
        if self._token is None:
            if self.credentials is None:
                # With simple_auth_manager_all_admins the token endpoint hands out an admin token, no login.
                answer = httpx.get(f"{self.url}/auth/token", timeout=30)
            else:
                user, password = self.credentials
                answer = httpx.post(f"{self.url}/auth/token", json={"username": user, "password": password}, timeout=30)
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return httpx.request(method, f"{self.url}/api/v2{path}", headers=headers, timeout=60, **kwargs)

    # -- the metadata database ------------------------------------------------------------------------

    def dag_runs(self, dag_id: str) -> list[tuple[str, str, str]]:
        return [
            tuple(r)
            for r in self.airflow.query(
                "SELECT run_id, run_type, state FROM dag_run WHERE dag_id = ? ORDER BY id", dag_id
            )
        ]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        rows = self.airflow.query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ?", dag_id, run_id
        )
        return {(t if m < 0 else f"{t}[{m}]"): str(s) for t, m, s in rows}


@contextlib.contextmanager
def live_airflow(
    dags: Path,
    home: Path,
    logs: Path,
    *,
    components: tuple[str, ...] = ("api-server", "dag-processor", "scheduler", "triggerer"),
    env: dict[str, str] | None = None,
    ready: Callable[[LiveAirflow], bool] | None = None,
    credentials: tuple[str, str] | None = None,
) -> Iterator[LiveAirflow]:
    """Start the given Airflow components against ``dags`` and yield once the API server answers.

    :param dags: the DAG folder.
    :param home: ``AIRFLOW_HOME`` (SQLite database, task logs).
    :param logs: where each component's output goes (``<component>.log``).
    :param components: which ``airflow`` commands to run, each in its own process.
    :param env: further environment (connections, config) for every component.
    :param ready: a further condition to wait for before yielding (e.g. the DAGs are parsed).
    :param credentials: log in as this simple-auth-manager user (its password file is written here)
        instead of treating every visitor as an admin.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with AirflowRunner(dags, home=home) as airflow:
        airflow.env.update(
            {
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
                "AIRFLOW__API__BASE_URL": url,
                "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
                **(env or {}),
            }
        )
        if credentials is not None:
            user, password = credentials
            passwords = home / "simple_auth_manager_passwords.json"
            passwords.write_text(json.dumps({user: password}))
            airflow.env.update(
                {
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:admin",
                    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                }
            )
        airflow.migrate()
        live = LiveAirflow(airflow, url, logs, credentials=credentials)
        try:
            for component in components:
                args = ("--host", "127.0.0.1", "--port", str(port)) if component == "api-server" else ()
                live.processes[component] = _start(airflow, logs, component, *args)
            if "api-server" in components:
                live.wait_for("the API server", live.api_up, STARTUP_TIMEOUT)
            if ready is not None:
                live.wait_for("Airflow to be ready", lambda: ready(live), STARTUP_TIMEOUT)
            yield live
        finally:
            for process in reversed(list(live.processes.values())):
                _stop(process)

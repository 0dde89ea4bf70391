"""Airflow as a scaled-out deployment: CeleryExecutor, Postgres, Redis, and two Celery workers on loopback.

The API server, scheduler, DAG processor and triggerer start as in :mod:`tests.airflow.live` (one process
each), but against Postgres (the API server's async side through asyncpg) with the Celery executor and Redis
as its broker; then two ``airflow celery worker`` processes, each with its own log-server port and its own
hostname (``tests.scaleout.hostname``), as two machines would have.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.airflow.live import LiveAirflow, _stop, live_airflow
from tests.scaleout.services import free_port

ROOT = Path(__file__).resolve().parents[2]
WORKERS = ("worker-a", "worker-b")
#: Task slots per worker: the eight mapped batches need both workers.
WORKER_CONCURRENCY = 4


@dataclass
class Cluster:
    """The running deployment: the Airflow handles, the database URL and the Celery workers."""

    live: LiveAirflow
    database_url: str
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the metadata database (Postgres)."""
        import psycopg2

        with contextlib.closing(psycopg2.connect(self.database_url.replace("+psycopg2", ""))) as db, db.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run, through the public REST API (state, hostname, map index)."""
        answer = self.live.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        answer.raise_for_status()
        return list(answer.json()["task_instances"])

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        answer = self.live.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["dag_run_id"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """A task's return value (the bulk operators' summary), through the public REST API."""
        answer = self.live.api(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
            params={"map_index": map_index, "deserialize": "true", "stringify": "false"},
        )
        answer.raise_for_status()
        value = answer.json()["value"]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = ast.literal_eval(value)
        return dict(value)

    def finished(self, dag_id: str, run_id: str) -> str | None:
        state = self.live.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"]
        return state if state in ("success", "failed") else None


def celery_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The settings every component shares: Postgres, the Celery executor, Redis as its broker."""
    broker = redis_url.rsplit("/", 1)[0] + "/1"  # db 0 is the shared limit's, db 1 the broker's
    return {
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker,
        # Task results in Redis too (db 2): with Celery's database backend on the metadata database, the
        # scheduler and the Execution API stalled for half a minute on a loaded 2-core machine.
        "AIRFLOW__CELERY__RESULT_BACKEND": redis_url.rsplit("/", 1)[0] + "/2",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        # One task per worker process at a time, none held back in a worker's prefetch buffer: the batches
        # spread over both workers.
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "21600",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.scaleout.hostname.worker_hostname",
        "AIRFLOW__CORE__PARALLELISM": "32",
        "AIRFLOW__TRIGGERER__CAPACITY": "100",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
        # A task whose worker was killed stops heartbeating; the scheduler fails it (and retries it) after this
        # many seconds instead of the default 300 (the worker-kill test), still far above a loaded machine's gaps.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        # A shared 2-core machine under load answers slowly; the default 5 s made a task's first call to the
        # Execution API time out, and its retries then found the task already running.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
    }


def start_worker(live: LiveAirflow, name: str) -> subprocess.Popen[bytes]:
    env = live.airflow.environment()
    env.update(
        {
            "LMS_WORKER_HOSTNAME": name,
            # Two workers on one host: each serves its task logs on its own port.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    log = (live.logs / f"celery-{name}.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow",
            "celery",
            "worker",
            "--concurrency",
            str(WORKER_CONCURRENCY),
            "--celery-hostname",
            f"{name}@%h",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _workers_ready(cluster: Cluster) -> bool:
    logs = [(cluster.live.logs / f"celery-{n}.log").read_text(errors="replace") for n in WORKERS]
    for name, process in cluster.workers.items():
        if process.poll() is not None:
            raise AssertionError(f"Celery worker {name} exited\n{cluster.live.log_tails()}")
    return all(" ready." in text for text in logs)


@contextlib.contextmanager
def celery_cluster(
    dags: Path, home: Path, logs: Path, *, database_url: str, redis_url: str, env: dict[str, str], dag_ids: list[str]
) -> Iterator[Cluster]:
    """Start the whole deployment against ``dags``; yield when the API answers, the DAGs are parsed and
    both workers are ready."""
    settings = {**celery_env(database_url, redis_url), **env}
    holder: dict[str, Cluster] = {}

    def parsed(live: LiveAirflow) -> bool:
        holder.setdefault("c", Cluster(live, database_url))
        dead = [name for name, process in live.processes.items() if process.poll() is not None]
        if dead:
            raise AssertionError(f"Airflow's {', '.join(dead)} exited during startup\n{live.log_tails()}")
        return all(live.api("GET", f"/dags/{d}").status_code == 200 for d in dag_ids)

    with live_airflow(dags, home, logs, env=settings, ready=parsed) as live:
        cluster = holder.get("c") or Cluster(live, database_url)
        try:
            for name in WORKERS:
                cluster.workers[name] = start_worker(live, name)
            live.wait_for("both Celery workers", lambda: _workers_ready(cluster), 240)
            yield cluster
        finally:
            for process in cluster.workers.values():
                _stop(process)

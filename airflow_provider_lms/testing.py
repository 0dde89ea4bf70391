"""Helpers for testing DAGs against the sandbox in a real Airflow, for our tests and for yours.

Typical use in a DAG author's own test::

    from airflow_provider_lms.sandbox import SandboxServer
    from airflow_provider_lms.testing import AirflowRunner, sandbox_connection_env

    with SandboxServer() as sandbox, AirflowRunner("dags/") as airflow:
        airflow.env.update(sandbox_connection_env(sandbox.url))
        run = airflow.dags_test("my_dag")
        assert run.succeeded, run.output

``dags_test`` runs ``airflow dags test`` in a subprocess with a throwaway ``AIRFLOW_HOME`` and a SQLite
metadata database, so nothing of the developer's own Airflow is touched.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["AirflowRunner", "DagTestResult", "sandbox_connection_env"]


def sandbox_connection_env(
    sandbox_url: str, *, overrides: Mapping[str, Mapping[str, Any]] | None = None, **extra: Any
) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables that point every platform's default connection at a running sandbox.

    :param sandbox_url: the sandbox root, e.g. ``http://127.0.0.1:8765``.
    :param overrides: per platform name, connection fields to replace, e.g. ``{"<platform>": {"password":
        "another-key"}}`` when a test made the sandbox accept another key.
    :param extra: further connection extras for every connection (e.g. ``backoff_base``).
    """
    from airflow_provider_lms.sandbox.platforms import connection_env

    return connection_env(sandbox_url, overrides=overrides, **extra)


@dataclass
class DagTestResult:
    """The outcome of one ``airflow dags test`` run.

    :param dag_id: the DAG that ran.
    :param returncode: the CLI's exit code.
    :param output: stdout and stderr together.
    :param seconds: wall time of the run.
    :param task_states: task id (with map index, if mapped) to final state, from the metadata DB.
    """

    dag_id: str
    returncode: int
    output: str
    seconds: float
    task_states: dict[str, str]

    @property
    def succeeded(self) -> bool:
        """The CLI exited 0 and every task succeeded (or was skipped)."""
        return self.returncode == 0 and all(s in ("success", "skipped") for s in self.task_states.values())


class AirflowRunner:
    """A throwaway Airflow installation (home, SQLite DB, DAG folder) driven through its CLI.

    :param dags_folder: the folder with the DAG files.
    :param home: the ``AIRFLOW_HOME`` to use; a temporary folder (removed on exit) when omitted.
    :param env: extra environment variables for every Airflow command.
    """

    def __init__(self, dags_folder: str | Path, *, home: str | Path | None = None, env: dict[str, str] | None = None):
        self.dags_folder = Path(dags_folder).resolve()
        self._own_home = home is None
        self.home = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix="lms-airflow-home-"))
        self.env: dict[str, str] = dict(env or {})
        self._migrated = False

    @property
    def db_path(self) -> Path:
        """The SQLite metadata database."""
        return self.home / "airflow.db"

    def environment(self) -> dict[str, str]:
        """The environment every Airflow command runs with."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.db_path}",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                # `dags test` runs one DAG; scanning for the others' changes only costs time.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "3600",
            }
        )
        env.update(self.env)
        return env

    def airflow(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>`` with this installation; output captured as text."""
        return subprocess.run(  # noqa: S603 - fixed executable, arguments from our own code
            [sys.executable, "-m", "airflow", *args],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def migrate(self) -> None:
        """Create the metadata database once (a few seconds on SQLite)."""
        if self._migrated:
            return
        done = self.airflow("db", "migrate", timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        self._migrated = True

    def dags_test(self, dag_id: str, *, conf: dict[str, Any] | None = None, timeout: float = 900) -> DagTestResult:
        """Run ``airflow dags test <dag_id>`` and read the tasks' final states from the database."""
        self.migrate()
        args = ["dags", "test", dag_id]
        if conf:
            args += ["--conf", json.dumps(conf)]
        started = time.monotonic()
        done = self.airflow(*args, timeout=timeout)
        seconds = time.monotonic() - started
        return DagTestResult(
            dag_id=dag_id,
            returncode=done.returncode,
            output=done.stdout + "\n" + done.stderr,
            seconds=seconds,
            task_states=self.task_states(dag_id),
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read from the metadata database (for assertions)."""
        with sqlite3.connect(self.db_path) as db:
            return list(db.execute(sql, params))

    def task_states(self, dag_id: str) -> dict[str, str]:
        """Final task states of the DAG's latest run."""
        if not self.db_path.exists():
            return {}
        rows = self.query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = "
            "(SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1)",
            dag_id,
            dag_id,
        )
        return {(t if m < 0 else f"{t}[{m}]"): str(s) for t, m, s in rows}

    def xcom_values(self, dag_id: str) -> dict[str, Any]:
        """XCom ``return_value`` of each task of the latest run, decoded from JSON."""
        rows = self.query(
            "SELECT task_id, map_index, value FROM xcom WHERE dag_id = ? AND key = 'return_value' AND run_id = "
            "(SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1)",
            dag_id,
            dag_id,
        )
        out: dict[str, Any] = {}
        for task_id, map_index, value in rows:
            key = task_id if map_index < 0 else f"{task_id}[{map_index}]"
            raw = value.decode() if isinstance(value, bytes) else value
            try:
                out[key] = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                out[key] = raw
        return out

    def log_text(self) -> str:
        """Every task log file under this home, concatenated."""
        logs = self.home / "logs"
        if not logs.exists():
            return ""
        return "\n".join(p.read_text(errors="replace") for p in sorted(logs.rglob("*")) if p.is_file())

    def close(self) -> None:
        """Remove the temporary home (if this runner made it)."""
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> AirflowRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

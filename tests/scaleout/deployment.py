"""The one scale-out deployment every module of the tier runs against (``tests/scaleout/conftest.py`` holds it).

Starting it costs minutes, so it is started once for the package and shared: the flagship and the mapped
``LmsSubscribeOperator`` run (``test_celery_scaleout.py``), and the webhook receiver on Postgres with the
asset-scheduled Pluvo example DAG (``test_receiver_postgres.py``). What each module needs is here: the DAGs
in its folder, the seeded learners, the connections (the Eduframe client's on the shared limit, the
receiver's webhook secrets).
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.state import SandboxState
from airflow_provider_lms.testing import sandbox_connection_env
from tests.scaleout.cluster import Cluster, celery_cluster
from tests.scaleout.services import postgres_server, redis_server, require_modules

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = "lms_flagship_enrollment_to_certification"
MAPPED = "lms_scaleout_mapped_subscribe"
#: The receiver's asset-scheduled example DAG: one run per ``lms://pluvo/TRAINING_FINISHED`` event.
PLUVO_EVENTS_DAG = "lms_pluvo_training_finished_report"
BATCHES, BATCH_SIZE = 8, 250
#: A planned course with no participant cap (seeded, flexible, active).
COURSE = 3
#: The binding limit: the sandbox's, and the connection's client-side share of it (all tasks together).
LIMIT, WINDOW = 250, 5.0
#: The client's window is this much longer than the platform's: the spread of arrival times it absorbs.
SLACK = 0.75

#: The receiver's secrets (the connections' passwords); the tier checks that no log of the cluster holds them.
PLUVO_WEBHOOK_SECRET = "pluvo-whsec-scaleout-3f81c6a2"
EDUFRAME_WEBHOOK_TOKEN = "edu-whtok-scaleout-b47d09e5"
#: The report the Pluvo example DAG appends to (a file both workers reach: they share this machine).
REPORT_FILE = "achievements.jsonl"


def _subscribe_dag(dag_id: str, doc: str, data_file: str, task: str) -> str:
    """A DAG file of one subscribe task (``task``, which names the learners ``DATA``) read from ``data_file``."""
    return f'''
"""{doc}"""
import json
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_provider_lms.operators import LmsSubscribeOperator

DATA = json.loads((Path(__file__).parent / "{data_file}").read_text())

with DAG(dag_id="{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    {task}
'''


MAPPED_DAG = _subscribe_dag(
    MAPPED,
    f"{BATCHES} batches of {BATCH_SIZE} Eduframe learners, mapped over the Celery workers (scale-out test).",
    "scaleout_batches.json",
    'LmsSubscribeOperator.partial(task_id="subscribe", lms_conn_id="eduframe_default", '
    f'course_id="{COURSE}", concurrency=8, retries=0).expand(learner_ids=DATA)',
)

#: The worker-kill run: one batch, retried once after its worker dies (``test_worker_kill.py``).
KILL_DAG_ID = "lms_scaleout_worker_kill"
KILL_SIZE = 300

KILL_DAG = _subscribe_dag(
    KILL_DAG_ID,
    f"One batch of {KILL_SIZE} Eduframe learners whose worker is killed mid-batch (scale-out test).",
    "scaleout_kill_learners.json",
    'LmsSubscribeOperator(task_id="subscribe", lms_conn_id="eduframe_default", '
    f'course_id="{COURSE}", learner_ids=DATA, concurrency=4, retries=1, retry_delay=timedelta(seconds=1))',
)


@dataclass
class Deployment:
    """The running deployment, the sandbox it talks to, and what was prepared for the tests.

    :param cluster: the Airflow components and the Celery workers.
    :param sandbox: the platforms' sandbox the connections point at.
    :param learners: the seeded Eduframe learners of the mapped run.
    :param home: the deployment's ``AIRFLOW_HOME`` (task logs, the Pluvo DAG's report).
    :param kill_learners: the seeded Eduframe learners of the worker-kill run.
    """

    cluster: Cluster
    sandbox: SandboxServer
    learners: list[str]
    home: Path
    kill_learners: list[str]

    @property
    def report(self) -> Path:
        """The achievements report the Pluvo example DAG writes."""
        return self.home / REPORT_FILE


def _seed_learners(sandbox: SandboxServer, n: int) -> list[str]:
    """Eduframe users made straight in the sandbox's state (faster than 2,000 POSTs; nothing is running yet)."""
    return [str(i) for i in sandbox.state.eduframe.add_students(n, first_name="Scale")]


def _connections(sandbox_url: str, redis_url: str, home: Path) -> dict[str, str]:
    env = sandbox_connection_env(sandbox_url)
    eduframe = json.loads(env["AIRFLOW_CONN_EDUFRAME_DEFAULT"])
    # One token for every task: the limit is shared through Redis, and the client's share is the whole limit.
    eduframe["extra"].update(
        {
            "shared_limit_url": redis_url,
            "rate_limit_requests": LIMIT,
            "rate_limit_period": WINDOW,
            "rate_limit_slack": SLACK,
        }
    )
    env["AIRFLOW_CONN_EDUFRAME_DEFAULT"] = json.dumps(eduframe)
    # The receiver's secrets: Pluvo signs, Eduframe presents a token of our own (aNewSpring stays switched off).
    env["AIRFLOW_CONN_LMS_WEBHOOK_PLUVO"] = json.dumps({"conn_type": "generic", "password": PLUVO_WEBHOOK_SECRET})
    env["AIRFLOW_CONN_LMS_WEBHOOK_EDUFRAME"] = json.dumps({"conn_type": "generic", "password": EDUFRAME_WEBHOOK_TOKEN})
    env["AIRFLOW_VAR_LMS_ACHIEVEMENTS_REPORT"] = str(home / REPORT_FILE)
    return env


@contextlib.contextmanager
def scaleout_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Start Redis, Postgres, the sandbox and the whole Celery deployment; stop them all afterwards."""
    require_modules("redis", "psycopg2", "asyncpg", "airflow.providers.celery")
    dags = tmp_path_factory.mktemp("dags")
    shutil.copy(ROOT / "example_dags" / f"{FLAGSHIP}.py", dags)
    shutil.copy(ROOT / "example_dags" / f"{PLUVO_EVENTS_DAG}.py", dags)
    shutil.copytree(ROOT / "example_dags" / "data", dags / "data")
    (dags / f"{MAPPED}.py").write_text(MAPPED_DAG)
    home = tmp_path_factory.mktemp("airflow-home")
    # The request log must hold every request of the mapped run, to count them per window.
    with (
        redis_server() as redis_url,
        postgres_server() as database_url,
        SandboxServer(state=SandboxState(request_log_size=200_000)) as sandbox,
    ):
        learners = _seed_learners(sandbox, BATCHES * BATCH_SIZE)
        batches = [learners[i : i + BATCH_SIZE] for i in range(0, len(learners), BATCH_SIZE)]
        (dags / "scaleout_batches.json").write_text(json.dumps(batches))
        kill_learners = _seed_learners(sandbox, KILL_SIZE)
        (dags / "scaleout_kill_learners.json").write_text(json.dumps(kill_learners))
        (dags / f"{KILL_DAG_ID}.py").write_text(KILL_DAG)
        with celery_cluster(
            dags,
            home,
            tmp_path_factory.mktemp("logs"),
            database_url=database_url,
            redis_url=redis_url,
            env=_connections(sandbox.url, redis_url, home),
            dag_ids=[FLAGSHIP, MAPPED, PLUVO_EVENTS_DAG, KILL_DAG_ID],
        ) as cluster:
            yield Deployment(cluster, sandbox, learners, home, kill_learners)

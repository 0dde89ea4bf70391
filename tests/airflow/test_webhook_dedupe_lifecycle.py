"""The dedupe table across Airflow's own database commands: ``db reset`` and ``db clean``.

Airflow does not drop or clean ``lms_webhook_delivery`` (it is not one of Airflow's tables). A key left
behind by ``airflow db reset`` must not swallow the first delivery into the fresh database; a key whose
asset event ``airflow db clean`` purged must still stop a replay. Real CLI commands on a real SQLite
metadata database; the recorder runs in a subprocess with that Airflow's environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from airflow_provider_lms.testing import AirflowRunner

pytestmark = pytest.mark.airflow

URI = "lms://pluvo/TRAINING_FINISHED"

# Registers the asset as a DAG scheduled on it would (asset + asset_active rows), then records each
# delivery key given on the command line and prints the outcomes as JSON.
RECORD = f"""
import json, sys
from airflow.models.asset import AssetActive, AssetModel
from airflow.utils.session import create_session
from sqlalchemy import select
from airflow_provider_lms.webhooks.store import AirflowAssetRecorder

with create_session() as session:
    if session.scalar(select(AssetModel).where(AssetModel.uri == {URI!r})) is None:
        session.add(AssetModel(name={URI!r}, uri={URI!r}, group="asset"))
        session.add(AssetActive(name={URI!r}, uri={URI!r}))
recorder = AirflowAssetRecorder()
print(json.dumps([recorder.record("pluvo", key, {URI!r}, {{"delivery_key": key}}) for key in sys.argv[1:]]))
"""


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowRunner]:
    with AirflowRunner(tmp_path_factory.mktemp("dags"), home=tmp_path_factory.mktemp("home")) as runner:
        runner.migrate()
        yield runner


def record(airflow: AirflowRunner, *keys: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", RECORD, *keys], env=airflow.environment(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def events(airflow: AirflowRunner) -> list[str]:
    rows = airflow.query("SELECT extra FROM asset_event ORDER BY id")
    return [json.loads(extra)["delivery_key"] for (extra,) in rows]


def cli(airflow: AirflowRunner, *args: str) -> None:
    done = airflow.airflow(*args, timeout=600)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])


def test_a_key_left_behind_by_db_reset_does_not_swallow_the_next_delivery(airflow):
    assert record(airflow, "a" * 64, "a" * 64) == ["recorded", "duplicate"]
    cli(airflow, "db", "reset", "--yes")
    # The table survived the reset with its key; the delivery is recorded in the fresh database anyway.
    assert airflow.query("SELECT COUNT(*) FROM lms_webhook_delivery")[0][0] == 1
    assert events(airflow) == []
    assert record(airflow, "a" * 64) == ["recorded"]
    assert events(airflow) == ["a" * 64]
    # Event ids restarted at 1 after the reset: an old key pointing at id 1 must not pass for this event.
    assert record(airflow, "a" * 64, "b" * 64) == ["duplicate", "recorded"]


def test_a_key_whose_event_db_clean_purged_still_stops_a_replay(airflow):
    record(airflow, "c" * 64)
    [(cut,)] = airflow.query("SELECT MAX(timestamp) FROM asset_event")
    record(airflow, "d" * 64)  # a newer event, kept by the clean
    cli(
        airflow,
        "db",
        "clean",
        "--tables",
        "asset_event",
        "--clean-before-timestamp",
        str(cut) + "+00:00",
        "--skip-archive",
        "--yes",
    )
    assert "c" * 64 not in events(airflow) and "d" * 64 in events(airflow)
    assert record(airflow, "c" * 64, "d" * 64) == ["duplicate", "duplicate"]

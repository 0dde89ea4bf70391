"""The webhook receiver in the scale-out deployment: Airflow's API server on Postgres, the runs on Celery.

The receiver's SQLite tests (``tests/airflow/test_webhook_receiver_run.py``) cannot show what only Postgres
does: its JSON columns refuse ``NaN`` and ``Infinity`` (a body that reached the asset event's ``extra``
would end as a 503 and a platform retrying forever), and two copies of one delivery arriving at once block
each other on the dedupe table's primary key. Against the tier's deployment (``tests/scaleout/conftest.py``),
over real HTTP, signed as the platforms sign:

* hostile bodies (``NaN``, ``Infinity``, ``1e999``, nesting one level deeper than the receiver allows, and far
  deeper), each correctly signed and otherwise a valid Pluvo event, answer 400 and record no asset event;
  Airflow's public ``GET /api/v2/assets/events`` still answers 200 (also at the end, after the runs);
* a valid delivery is recorded once; its replay (byte for byte, or re-signed with a new ``sentDate``) answers
  ``duplicate``, and a delivery whose ``sentDate`` is older than the replay window answers ``stale``; of eight
  copies of a second delivery sent at the same moment, one is recorded and seven answer ``duplicate``; none
  of these records anything more;
* each recorded event starts a run of the asset-scheduled Pluvo example DAG of its own; the runs succeed on
  the Celery workers and write each achievement to the report once;
* no log of the cluster (components, workers, task logs) holds the Pluvo secret or the Eduframe token, also
  after deliveries that carry the token in the URL.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox.webhook_sender import Delivery, WebhookSender
from airflow_provider_lms.webhooks.config import DEFAULT_MAX_DELIVERY_AGE, DEFAULT_MAX_JSON_DEPTH
from airflow_provider_lms.webhooks.receiver import EDUFRAME_TOKEN_HEADER
from tests.scaleout.cluster import WORKERS, Cluster
from tests.scaleout.deployment import EDUFRAME_WEBHOOK_TOKEN, PLUVO_EVENTS_DAG, PLUVO_WEBHOOK_SECRET, Deployment

pytestmark = [pytest.mark.scaleout, pytest.mark.airflow]

PLUVO_URI = "lms://pluvo/TRAINING_FINISHED"
#: Stands in the body for a value JSON cannot carry; replaced in the signed bytes.
HOLE = "__hostile__"


def _stamp(age: timedelta) -> str:
    return (datetime.now(timezone.utc) - age).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finished(n: int, *, score: Any = 0.8, sent_age: timedelta = timedelta(minutes=2), **more: Any) -> dict[str, Any]:
    """A valid Pluvo ``TRAINING_FINISHED`` body; ``n`` makes it a delivery of its own."""
    return {
        "id": f"5ca1e0a7-0000-4000-8000-{n:012d}",
        "score": score,
        "start_date": "2026-01-05T09:00:00+01:00",
        "user": {"id": f"u-scaleout-{n}", "name": f"Learner {n}", "email": f"learner{n}@scaleout.example"},
        "training": {"id": "t-scaleout", "title": "Scale-out training", "isActive": True},
        "sentDate": _stamp(sent_age),
        "event": "TRAINING_FINISHED",
        **more,
    }


def _hostile(n: int, value: str, **more: Any) -> bytes:
    """A valid event's bytes with ``value`` (raw JSON text) as its score."""
    return json.dumps(_finished(n, score=HOLE, **more)).replace(json.dumps(HOLE), value).encode()


def _rest_pluvo_events(cluster: Cluster) -> list[dict[str, Any]]:
    """The Pluvo asset's events, through Airflow's public REST API, which must answer 200.

    Only called while no run that consumed one of them is queued: Airflow 3.3's ``GET /assets/events``
    answers 500 while a consuming run has no start date yet (apache/airflow#71360, fixed upstream by
    #71379), a moment after each asset-triggered run is created. The other checks read Postgres instead.
    """
    answer = cluster.live.api("GET", "/assets/events", params={"limit": 100, "order_by": "timestamp"})
    assert answer.status_code == 200, answer.text[:2000]
    body = answer.json()
    assert body["total_entries"] <= 100, "more events than one page: the test would miss some"
    return [e for e in body["asset_events"] if e["uri"] == PLUVO_URI]


def _db_pluvo_events(cluster: Cluster) -> list[dict[str, Any]]:
    """The Pluvo asset's events in the metadata database: ``{"id", "extra"}`` each, oldest first."""
    rows = cluster.query(
        "SELECT e.id, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = %s ORDER BY e.id",
        PLUVO_URI,
    )
    return [{"id": i, "extra": json.loads(x) if isinstance(x, str) else x} for i, x in rows]


def _status(result: Any) -> str:
    return str(json.loads(result.last_body)["status"])


@pytest.fixture(scope="module")
def receiver(deployment: Deployment) -> str:
    """The receiver's base URL, once the API server serves the plugin."""
    base = f"{deployment.cluster.live.url}/lms-webhooks"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    deployment.cluster.live.wait_for("the webhook receiver", healthy, 120)
    return base


def test_hostile_numbers_and_deep_nesting_answer_400_on_postgres_and_record_nothing(
    deployment: Deployment, receiver: str
):
    cluster = deployment.cluster
    # The asset is live (the Pluvo DAG is scheduled on it): a hostile body let through would be recorded.
    assets = cluster.live.api("GET", "/assets", params={"limit": 100}).json()["assets"]
    assert [[d["dag_id"] for d in a["scheduled_dags"]] for a in assets if a["uri"] == PLUVO_URI] == [[PLUVO_EVENTS_DAG]]
    before, stored = _rest_pluvo_events(cluster), _db_pluvo_events(cluster)
    limit = DEFAULT_MAX_JSON_DEPTH  # the deployment leaves [lms_webhooks] max_json_depth at its default
    bodies = {
        "NaN": _hostile(10, "NaN"),
        "Infinity": _hostile(11, "Infinity"),
        "-Infinity": _hostile(12, "-Infinity"),
        "1e999": _hostile(13, "1e999"),
        # The top-level object is one level; this field adds `limit` more.
        f"depth {limit + 1}": _hostile(14, "0.5", extraFields=json.loads("[" * limit + "]" * limit)),
        "depth 100000": _hostile(15, "[" * 100_000 + "]" * 100_000),
    }
    with WebhookSender("pluvo", PLUVO_WEBHOOK_SECRET, max_attempts=1) as pluvo:
        answers = {name: pluvo.deliver(pluvo.sign(f"{receiver}/pluvo", body=body)) for name, body in bodies.items()}
    statuses = {name: result.statuses for name, result in answers.items()}
    assert statuses == {name: [400] for name in bodies}, {
        n: (r.statuses, r.last_body[:200]) for n, r in answers.items()
    }
    # The REST API still lists the asset's events (200), and none was added.
    assert _rest_pluvo_events(cluster) == before
    assert _db_pluvo_events(cluster) == stored


def _consumed(cluster: Cluster) -> dict[str, list[int]]:
    """``run_id -> ids of the asset events it consumed`` for the Pluvo DAG's runs."""
    rows = cluster.query(
        "SELECT dr.run_id, dae.event_id FROM dag_run dr JOIN dagrun_asset_event dae ON dae.dag_run_id = dr.id "
        "WHERE dr.dag_id = %s ORDER BY dae.event_id",
        PLUVO_EVENTS_DAG,
    )
    runs: dict[str, list[int]] = {}
    for run_id, event_id in rows:
        runs.setdefault(run_id, []).append(event_id)
    return runs


@pytest.fixture(scope="module")
def deliveries(deployment: Deployment, receiver: str) -> dict[str, Any]:
    """A valid delivery, its replays and a stale one; then eight simultaneous copies of a second delivery.

    The copies go out once the first event's run exists. Airflow 3.3 queues an asset-triggered run with one
    ``asset_dag_run_queue`` row per (asset, DAG) and lets that run consume only the events up to the row's
    creation: an event recorded while the row waits is left for the run of a *later* event
    (apache/airflow#56050; upstream's fix, #70972, links each queue row to its event). Sent while the
    first run is pending, the second delivery would start no run of its own.
    """
    cluster = deployment.cluster
    before = _db_pluvo_events(cluster)
    url = f"{receiver}/pluvo"
    with WebhookSender("pluvo", PLUVO_WEBHOOK_SECRET, max_attempts=1) as pluvo:
        delivery = pluvo.sign(url, _finished(1))
        first = pluvo.deliver(delivery)
        after_first = _db_pluvo_events(cluster)
        # The platform never saw our answer: the same bytes again, then re-signed with a new sentDate.
        replay = pluvo.deliver(delivery)
        resent = pluvo.send(url, _finished(1, sent_age=timedelta(seconds=5)))
        # Older than the replay window (max_delivery_age, left at its default here).
        stale = pluvo.send(url, _finished(3, sent_age=timedelta(seconds=DEFAULT_MAX_DELIVERY_AGE + 3600)))
        after_replays = _db_pluvo_events(cluster)
        if len(after_first) > len(before):
            cluster.live.wait_for("the first event's run", lambda: _consumed(cluster), 120, interval=0.5)
        # Eight copies of one new delivery at the same moment: they meet on the dedupe table's primary key.
        copy: Delivery = pluvo.sign(url, _finished(2))
        with ThreadPoolExecutor(max_workers=8) as pool:
            copies = list(pool.map(lambda _: pluvo.deliver(copy), range(8)))
    return {
        "before": before,
        "first": first,
        "after_first": after_first,
        "replay": replay,
        "resent": resent,
        "stale": stale,
        "after_replays": after_replays,
        "copies": copies,
        "events": _db_pluvo_events(cluster),
    }


def test_a_delivery_is_recorded_once_and_replays_concurrent_copies_and_stale_ones_record_nothing(
    deployment: Deployment, deliveries: dict[str, Any]
):
    d = deliveries
    assert (d["first"].statuses, _status(d["first"])) == ([200], "recorded"), d["first"]
    assert len(d["after_first"]) == len(d["before"]) + 1
    assert d["after_first"][-1]["extra"]["payload"]["id"] == _finished(1)["id"]
    assert (d["replay"].statuses, _status(d["replay"])) == ([200], "duplicate"), d["replay"]
    assert (d["resent"].statuses, _status(d["resent"])) == ([200], "duplicate"), d["resent"]
    assert (d["stale"].statuses, _status(d["stale"])) == ([200], "stale"), d["stale"]
    assert d["after_replays"] == d["after_first"]
    copies = sorted(_status(c) for c in d["copies"])
    assert copies == ["duplicate"] * 7 + ["recorded"], [(c.statuses, c.last_body) for c in d["copies"]]
    # One event for the first delivery, one for the copies, none for the replays or the stale one.
    new = d["events"][len(d["before"]) :]
    assert [e["extra"]["payload"]["id"] for e in new] == [_finished(1)["id"], _finished(2)["id"]], new
    # The dedupe keys are in the metadata database (Postgres), one per recorded delivery.
    keys = deployment.cluster.query(
        "SELECT delivery_key FROM lms_webhook_delivery WHERE platform = 'pluvo' ORDER BY received_at"
    )
    assert [k for (k,) in keys] == [e["extra"]["delivery_key"] for e in new]


def test_the_recorded_events_run_the_asset_scheduled_dag_on_the_celery_workers(
    deployment: Deployment, deliveries: dict[str, Any]
):
    cluster = deployment.cluster
    recorded = deliveries["events"][len(deliveries["before"]) :]
    assert len(recorded) == 2, recorded

    def finished_runs() -> dict[str, list[int]] | None:
        runs = _consumed(cluster)
        if sorted(i for ids in runs.values() for i in ids) != [e["id"] for e in recorded]:
            return None
        return runs if all(cluster.finished(PLUVO_EVENTS_DAG, r) for r in runs) else None

    runs = cluster.live.wait_for(f"the runs of {PLUVO_EVENTS_DAG}", finished_runs, 240, interval=2)
    assert runs is not None  # wait_for returns only a truthy value
    # Each delivery started a run of its own, which consumed that delivery's event only.
    assert sorted(runs.values()) == [[e["id"]] for e in recorded], runs
    for run_id in runs:
        tis = cluster.task_instances(PLUVO_EVENTS_DAG, run_id)
        assert cluster.finished(PLUVO_EVENTS_DAG, run_id) == "success", [(t["task_id"], t["state"]) for t in tis]
        assert {t["state"] for t in tis} == {"success"}, [(t["task_id"], t["state"]) for t in tis]
        # Run by the Celery workers (their own hostnames), not in the scheduler or the API server.
        assert {t["hostname"] for t in tis} <= set(WORKERS), {t["hostname"] for t in tis}
    # Each recorded delivery's achievement is in the report, once.
    lines = [json.loads(line) for line in deployment.report.read_text().splitlines() if line.strip()]
    assert sorted(row["delivery_key"] for row in lines) == sorted(e["extra"]["delivery_key"] for e in recorded)
    assert sorted(row["learner_email"] for row in lines) == ["learner1@scaleout.example", "learner2@scaleout.example"]
    # With every run started, the public REST API lists the events (200) and the runs they created.
    listed = _rest_pluvo_events(cluster)
    assert [e["id"] for e in listed] == [e["id"] for e in deliveries["events"]]
    assert {r["run_id"] for e in listed for r in e["created_dagruns"]} == set(runs)


def test_no_log_of_the_cluster_holds_a_webhook_secret(
    deployment: Deployment, receiver: str, deliveries: dict[str, Any]
):
    live = deployment.cluster.live
    event = {"event": "enrollment.updated", "id": 17}
    # The Eduframe token in the URL (what the platform's settings allow), in the header, and a wrong one.
    in_url = httpx.post(f"{receiver}/eduframe/{EDUFRAME_WEBHOOK_TOKEN}", json=event, timeout=30)
    in_header = httpx.post(
        f"{receiver}/eduframe", json=event, headers={EDUFRAME_TOKEN_HEADER: EDUFRAME_WEBHOOK_TOKEN}, timeout=30
    )
    wrong = httpx.post(f"{receiver}/eduframe/{EDUFRAME_WEBHOOK_TOKEN}-old", json=event, timeout=30)
    # No DAG is scheduled on the Eduframe asset: accepted, nothing recorded.
    assert [in_url.status_code, in_header.status_code, wrong.status_code] == [200, 200, 401]
    assert in_url.json()["status"] == in_header.json()["status"] == "no_asset"
    with WebhookSender("pluvo", "not-the-pluvo-secret-1", max_attempts=1) as forger:
        assert forger.send(f"{receiver}/pluvo", _finished(4)).statuses == [401]
    # The API server logged the requests (so the search below sees them), with the URL's token blanked.
    api_log = live.logs / "api-server.log"
    live.wait_for("the access log lines", lambda: api_log.read_text(errors="replace").count("eduframe/redacted") >= 2)
    task_logs = deployment.home / "logs"
    live.wait_for(
        f"the task logs of {PLUVO_EVENTS_DAG}", lambda: any(task_logs.glob(f"dag_id={PLUVO_EVENTS_DAG}/**/*.log")), 240
    )
    files = [*live.logs.glob("*.log"), *(p for p in task_logs.rglob("*") if p.is_file())]
    text = {str(p): p.read_text(errors="replace") for p in files}
    assert any("celery-worker" in name for name in text), sorted(text)
    leaks = [
        (name, which)
        for name, content in text.items()
        for which, secret in (
            ("the Pluvo secret", PLUVO_WEBHOOK_SECRET),
            ("the Eduframe token", EDUFRAME_WEBHOOK_TOKEN),
        )
        if secret in content
    ]
    assert leaks == []

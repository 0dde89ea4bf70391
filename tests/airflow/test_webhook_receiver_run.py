"""The webhook receiver in a real Airflow API server, fed by the sandbox's signing webhook sender.

One module-scoped Airflow (SQLite, a temporary AIRFLOW_HOME) runs ``api-server`` (with our plugin from
the ``airflow.plugins`` entry point), ``scheduler`` and ``dag-processor`` on a free loopback port, with
the Pluvo and aNewSpring example DAGs. Deliveries then go over real HTTP: signed ones become exactly one
asset event each and the Pluvo one starts a run of the scheduled DAG; forged, replayed, oversize and
malformed ones are rejected or deduplicated and create nothing. Every process is stopped at the end,
also when startup fails or times out.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from tests.airflow.live import STARTUP_TIMEOUT, LiveAirflow, live_airflow

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parents[2]
DAGS = ["lms_pluvo_training_finished_report.py", "lms_events_anewspring_results.py"]
PLUVO_SECRET = "pluvo-whsec-5d1c9a7e3b"
ANEWSPRING_SECRET = "ans-whsec-0b6f2e8d4a"
EDUFRAME_TOKEN = "edu-whtok-7c3e91a05f"
PLUVO_URI = "lms://pluvo/TRAINING_FINISHED"
ANEWSPRING_URI = "lms://anewspring/RESULT_UPDATED"

# Deliveries are refused as replays once their sentDate is older than max_delivery_age (6 days): stamp recently.
SENT = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
RESENT = (datetime.now(timezone.utc) - timedelta(minutes=3)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _healthy(live: LiveAirflow) -> bool:
    try:
        return httpx.get(f"{live.url}/lms-webhooks/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _asset_events(live: LiveAirflow, uri: str) -> list[dict[str, Any]]:
    rows = live.airflow.query(
        "SELECT e.id, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = ? ORDER BY e.id",
        uri,
    )
    return [{"id": i, "extra": json.loads(x) if isinstance(x, str) else x} for i, x in rows]


def _all_asset_events(live: LiveAirflow) -> int:
    return int(live.airflow.query("SELECT COUNT(*) FROM asset_event")[0][0])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAirflow]:
    dags = tmp_path_factory.mktemp("dags")
    for name in DAGS:
        shutil.copy(ROOT / "example_dags" / name, dags / name)
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        "AIRFLOW_CONN_LMS_WEBHOOK_PLUVO": json.dumps({"conn_type": "generic", "password": PLUVO_SECRET}),
        "AIRFLOW_CONN_LMS_WEBHOOK_ANEWSPRING": json.dumps({"conn_type": "generic", "password": ANEWSPRING_SECRET}),
        "AIRFLOW_CONN_LMS_WEBHOOK_EDUFRAME": json.dumps({"conn_type": "generic", "password": EDUFRAME_TOKEN}),
        "AIRFLOW__LMS_WEBHOOKS__MAX_BODY_BYTES": "65536",
        "AIRFLOW_VAR_LMS_ACHIEVEMENTS_REPORT": str(home / "achievements.jsonl"),
    }

    def ready(live: LiveAirflow) -> bool:
        # The plugin answers, and the dag-processor has registered the example DAGs' assets.
        return _healthy(live) and len(live.airflow.query("SELECT uri FROM asset WHERE uri LIKE 'lms://%'")) >= 2

    with live_airflow(
        dags,
        home,
        tmp_path_factory.mktemp("logs"),
        components=("api-server", "dag-processor", "scheduler"),
        env=env,
        ready=ready,
    ) as running:
        yield running


def _training_finished(n: int) -> dict[str, Any]:
    return {
        "id": f"83ffeded-2122-47e0-8c03-ed06bdc4d3b{n}",
        "score": None,
        "start_date": "2023-08-07T14:38:08+02:00",
        "user": {"id": "933d8663-edf6-42c9-895a-eeec13fff0ab", "name": "User X", "email": "x@example.org"},
        "training": {"id": "0f1e2d3c-edf6-42c9-895a-eeec13fff0ab", "title": "Training X", "isActive": True},
        "sentDate": SENT,
        "event": "TRAINING_FINISHED",
    }


def test_signed_deliveries_become_one_asset_event_each_and_bad_ones_none(live: LiveAirflow):
    pluvo_url = f"{live.url}/lms-webhooks/pluvo"
    anewspring_url = f"{live.url}/lms-webhooks/anewspring"
    before = _all_asset_events(live)

    with WebhookSender("pluvo", PLUVO_SECRET, backoff=0.05) as pluvo:
        delivery = pluvo.sign(pluvo_url, _training_finished(1))
        first = pluvo.deliver(delivery)
        assert first.delivered and first.statuses == [200], first
        assert json.loads(first.last_body)["status"] == "recorded"

        # The platform never saw our answer and sends the same delivery again, byte for byte...
        replay = pluvo.deliver(delivery)
        assert replay.statuses == [200] and json.loads(replay.last_body)["status"] == "duplicate"
        # ...or re-signs it with a new salt and a new sentDate: still the same delivery.
        resent = pluvo.send(pluvo_url, {**_training_finished(1), "sentDate": RESENT})
        assert json.loads(resent.last_body)["status"] == "duplicate"

    with WebhookSender("pluvo", "not-the-secret", max_attempts=1) as forger:
        forged = forger.send(pluvo_url, _training_finished(2))
    assert forged.statuses == [401]
    assert "not-the-secret" not in forged.last_body and PLUVO_SECRET not in forged.last_body

    with WebhookSender("pluvo", PLUVO_SECRET, max_attempts=1) as pluvo:
        oversize = pluvo.send(pluvo_url, {**_training_finished(3), "padding": "x" * 70_000})
        malformed = pluvo.deliver(pluvo.sign(pluvo_url, body=b'{"event": "TRAINING_FINISHED", "id": '))
        incomplete = pluvo.send(pluvo_url, {"id": "x", "event": "TRAINING_FINISHED"})  # no user, no training
    assert oversize.statuses == [413]
    assert malformed.statuses == [400]
    assert incomplete.statuses == [422]
    unsigned = httpx.post(pluvo_url, content=json.dumps(_training_finished(4)), timeout=10)
    assert unsigned.status_code == 401

    with WebhookSender("anewspring", ANEWSPRING_SECRET) as anewspring:
        result = anewspring.send(anewspring_url, {"event": "RESULT_UPDATED", "userID": "u-17", "courseID": "c-3"})
        again = anewspring.deliver(result.delivery)
    assert result.statuses == [200] and json.loads(result.last_body)["status"] == "recorded"
    assert json.loads(again.last_body)["status"] == "duplicate"
    with WebhookSender("anewspring", "wrong", max_attempts=1) as forger:
        assert forger.send(anewspring_url, {"event": "RESULT_UPDATED", "userID": "u-18"}).statuses == [401]

    pluvo_events = _asset_events(live, PLUVO_URI)
    anewspring_events = _asset_events(live, ANEWSPRING_URI)
    assert len(pluvo_events) == 1 and len(anewspring_events) == 1
    assert _all_asset_events(live) == before + 2
    extra = pluvo_events[0]["extra"]
    assert extra["platform"] == "pluvo" and extra["event"] == "TRAINING_FINISHED"
    assert extra["payload"] == _training_finished(1)
    assert anewspring_events[0]["extra"]["payload"]["userID"] == "u-17"
    # The dedup record is in the metadata database, not only in the API server's memory.
    keys = live.airflow.query("SELECT platform, delivery_key FROM lms_webhook_delivery ORDER BY platform")
    assert [k[0] for k in keys] == ["anewspring", "pluvo"]
    assert keys[1][1] == extra["delivery_key"]


def test_the_pluvo_event_starts_a_run_of_the_scheduled_dag(live: LiveAirflow):
    dag_id = "lms_pluvo_training_finished_report"
    if not _asset_events(live, PLUVO_URI):
        with WebhookSender("pluvo", PLUVO_SECRET) as pluvo:
            pluvo.send(f"{live.url}/lms-webhooks/pluvo", _training_finished(1))
    runs = live.wait_for(f"a run of {dag_id}", lambda: live.dag_runs(dag_id), 240)
    assert len(runs) == 1 and runs[0][1] == "asset_triggered", runs
    # The run really executes: the achievement lands in the report, once.
    finished = live.wait_for(
        "the run to finish", lambda: [r for r in live.dag_runs(dag_id) if r[2] in ("success", "failed")], 300
    )
    assert finished[0][2] == "success", live.airflow.log_text()[-5000:]
    report = Path(live.airflow.environment()["AIRFLOW_VAR_LMS_ACHIEVEMENTS_REPORT"]).read_text().splitlines()
    assert [json.loads(line)["learner_email"] for line in report] == ["x@example.org"]
    assert len(live.dag_runs(dag_id)) == 1


def test_a_replay_after_an_api_server_restart_is_still_caught(live: LiveAirflow):
    before = _all_asset_events(live)
    port = live.url.rsplit(":", 1)[1]
    live.restart("api-server", "--host", "127.0.0.1", "--port", port)
    live.wait_for("the restarted API server with the plugin", lambda: _healthy(live), STARTUP_TIMEOUT)
    with WebhookSender("pluvo", PLUVO_SECRET, backoff=0.05) as pluvo:
        replay = pluvo.send(f"{live.url}/lms-webhooks/pluvo", _training_finished(1))
    assert json.loads(replay.last_body)["status"] == "duplicate", replay
    assert _all_asset_events(live) == before


def test_hostile_bodies_no_schema_and_no_token_in_the_api_server_log(live: LiveAirflow):
    before = _all_asset_events(live)
    base = f"{live.url}/lms-webhooks"
    with WebhookSender("anewspring", ANEWSPRING_SECRET, max_attempts=1) as anewspring:
        nan = anewspring.deliver(anewspring.sign(f"{base}/anewspring", body=b'{"event": "RESULT_UPDATED", "s": NaN}'))
        deep = anewspring.deliver(anewspring.sign(f"{base}/anewspring", body=b"[" * 60_000))
    assert (nan.statuses, deep.statuses) == ([400], [400])
    assert [httpx.get(f"{base}{p}", timeout=10).status_code for p in ("/openapi.json", "/docs", "/redoc")] == [404] * 3
    # The Eduframe URL form: accepted (no DAG uses the asset), and the token is in no log of the API server.
    answer = httpx.post(f"{base}/eduframe/{EDUFRAME_TOKEN}", json={"event": "enrollment.updated"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["status"] == "no_asset"
    assert httpx.post(f"{base}/eduframe/{EDUFRAME_TOKEN}x", json={"event": "x"}, timeout=10).status_code == 401
    assert _all_asset_events(live) == before
    api_log = live.wait_for(
        "the access log line",
        lambda: (live.logs / "api-server.log").read_text(errors="replace").count("eduframe/redacted"),
    )
    assert api_log >= 2
    assert EDUFRAME_TOKEN not in "".join(p.read_text(errors="replace") for p in live.logs.glob("*.log"))


def _tree_rss(pid: int) -> int:
    import psutil

    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)] if p.is_running())


def test_a_hundred_slow_drip_connections_are_cut_off_at_the_deadline_and_memory_returns(live: LiveAirflow):
    import contextlib
    import select
    import socket
    import time

    deadline = 10.0  # DEFAULT_BODY_READ_TIMEOUT: the receiver's own setting, not shortened for this test
    host, port = "127.0.0.1", int(live.url.rsplit(":", 1)[1])
    api_pid = live.processes["api-server"].pid
    baseline = _tree_rss(api_pid)
    head = (
        b"POST /lms-webhooks/pluvo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 60000\r\n\r\n"
    )
    started = time.monotonic()
    open_conns: list[socket.socket] = []
    for _ in range(100):
        conn = socket.create_connection((host, port), timeout=5)
        conn.sendall(head + b'{"event": "TRAINING_FINISHED", "padding": "')
        conn.setblocking(False)
        open_conns.append(conn)
    answers: list[bytes] = []
    ended_at: list[float] = []
    received: dict[socket.socket, bytes] = {}
    peak = baseline
    # Drip one byte per connection every 0.2 s (nothing needs a signature to do this), until the API server
    # answers and closes each one.
    while open_conns and time.monotonic() - started < deadline + 20:
        readable, _, _ = select.select(open_conns, [], [], 0.2)
        for conn in readable:
            try:
                chunk = conn.recv(4096)
            except (BlockingIOError, ConnectionError):
                chunk = b""
            received[conn] = received.get(conn, b"") + chunk
            if not chunk or b"\r\n\r\n" in received[conn]:
                open_conns.remove(conn)
                answers.append(received.pop(conn))
                ended_at.append(time.monotonic() - started)
                conn.close()
        for conn in open_conns:
            with contextlib.suppress(OSError):
                conn.send(b"x")
        peak = max(peak, _tree_rss(api_pid))
    for conn in open_conns:
        conn.close()
    statuses = sorted({a.split(b"\r\n", 1)[0].decode(errors="replace") for a in answers})
    print(
        f"\n100 dripping connections: {statuses}, cut off after {min(ended_at):.1f}-{max(ended_at):.1f} s; "
        f"API server RSS {baseline / 2**20:.0f} MB before, {peak / 2**20:.0f} MB peak, ",
        end="",
    )
    assert len(answers) == 100 and statuses == ["HTTP/1.1 408 Request Timeout"], statuses
    assert max(ended_at) < deadline + 10
    time.sleep(2)
    after = _tree_rss(api_pid)
    print(f"{after / 2**20:.0f} MB after")
    # 100 held bodies of at most 60 KB each: the peak stays far from the 220 MB that 200 such connections held
    # before the deadline existed, and what they held is given back.
    assert peak - baseline < 64 * 2**20
    assert after - baseline < 24 * 2**20
    # The API server still serves deliveries afterwards.
    assert _healthy(live)

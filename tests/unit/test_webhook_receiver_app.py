"""The receiver app on its own: every rejection path, and what reaches the recorder (no Airflow DB)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.webhooks.receiver import asset_uri, create_webhook_app, delivery_key

SECRETS = {"pluvo": "pluvo-unit-secret", "anewspring": "ans-unit-secret", "eduframe": "edu-url-token-123"}

# Deliveries are refused as replays once their sentDate is older than max_delivery_age (6 days): stamp recently.
SENT = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
RESENT = (datetime.now(timezone.utc) - timedelta(minutes=3)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MemoryRecorder:
    """Deduplicates like the real recorder, in memory."""

    def __init__(self, assets: set[str] | None = None, fail: bool = False) -> None:
        self.assets = assets
        self.fail = fail
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.keys: set[tuple[str, str]] = set()

    def record(self, platform: str, key: str, uri: str, extra: dict[str, Any]) -> str:
        if self.fail:
            raise RuntimeError("database is down")
        if self.assets is not None and uri not in self.assets:
            return "no_asset"
        if (platform, key) in self.keys:
            return "duplicate"
        self.keys.add((platform, key))
        self.events.append((uri, extra))
        return "recorded"


def finished(n: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "id": f"event-{n}",
        "score": None,
        "user": {"id": "u1", "email": "a@example.org"},
        "training": {"id": "t1", "title": "Training X"},
        "sentDate": SENT,
        "event": "TRAINING_FINISHED",
        **changes,
    }


@pytest.fixture
def recorder() -> MemoryRecorder:
    return MemoryRecorder()


@pytest.fixture
def client(recorder: MemoryRecorder) -> TestClient:
    app = create_webhook_app(secrets=SECRETS.get, recorder=recorder, body_limit=4096)
    return TestClient(app)


def post_signed(client: TestClient, platform: str, payload: Any = None, *, body: bytes | None = None, secret=None):
    delivery = WebhookSender(platform, secret or SECRETS[platform]).sign("http://x", payload, body=body)  # type: ignore[arg-type]
    return client.post(f"/{platform}", content=delivery.body, headers=delivery.headers)


def test_a_signed_pluvo_event_is_recorded_on_its_asset(client, recorder):
    answer = post_signed(client, "pluvo", finished())
    assert answer.status_code == 200
    assert answer.json() == {"status": "recorded", "asset": "lms://pluvo/TRAINING_FINISHED"}
    [(uri, extra)] = recorder.events
    assert uri == asset_uri("pluvo", "TRAINING_FINISHED")
    assert extra["payload"] == finished() and extra["event"] == "TRAINING_FINISHED"
    assert extra["delivery_key"] == delivery_key("pluvo", finished())


def test_a_replay_is_one_event(client, recorder):
    assert post_signed(client, "pluvo", finished()).json()["status"] == "recorded"
    assert post_signed(client, "pluvo", finished()).json()["status"] == "duplicate"
    # A re-send with a new sentDate is the same delivery; another event is not.
    assert post_signed(client, "pluvo", finished(sentDate=RESENT)).json()["status"] == "duplicate"
    assert post_signed(client, "pluvo", finished(2)).json()["status"] == "recorded"
    assert len(recorder.events) == 2


def test_forged_and_unsigned_deliveries_are_401_and_never_echo_secrets(client, recorder):
    forged = post_signed(client, "pluvo", finished(), secret="guess")
    unsigned = client.post("/pluvo", json=finished())
    no_salt = client.post("/pluvo", json=finished(), headers={"X-Signature": "abc"})
    for answer in (forged, unsigned, no_salt):
        assert answer.status_code == 401
        assert SECRETS["pluvo"] not in answer.text and "guess" not in answer.text
    assert recorder.events == []


def test_oversize_is_413_before_the_signature_is_checked(client, recorder):
    big = finished(padding="x" * 5000)
    assert post_signed(client, "pluvo", big).status_code == 413

    def chunks():  # no Content-Length: counted while streaming
        yield b"{" + b" " * 3000
        yield b" " * 3000 + b"}"

    assert client.post("/pluvo", content=chunks()).status_code == 413
    assert recorder.events == []


def test_malformed_json_is_400_and_a_body_that_is_not_the_event_is_422(client, recorder):
    assert post_signed(client, "pluvo", body=b'{"event": ').status_code == 400
    assert post_signed(client, "pluvo", body=b"\xff\xfe").status_code == 400
    assert post_signed(client, "pluvo", [1, 2]).status_code == 400
    missing = post_signed(client, "pluvo", {"id": "x", "event": "TRAINING_FINISHED", "user": {"id": "u"}})
    assert missing.status_code == 422 and "training" in missing.json()["detail"]
    assert post_signed(client, "pluvo", {"id": "x", "event": "../../etc"}).status_code == 422
    assert recorder.events == []


def test_unknown_pluvo_events_still_reach_their_asset(client, recorder):
    assert post_signed(client, "pluvo", {"id": "n1", "event": "SOMETHING_NEW"}).json()["asset"] == (
        "lms://pluvo/SOMETHING_NEW"
    )


def test_anewspring(client, recorder):
    ok = post_signed(client, "anewspring", {"event": "RESULT_UPDATED", "userID": "u"})
    assert ok.json() == {"status": "recorded", "asset": "lms://anewspring/RESULT_UPDATED"}
    assert post_signed(client, "anewspring", {"event": "RESULT_UPDATED", "userID": "u"}, secret="x").status_code == 401
    assert post_signed(client, "anewspring", {"userID": "u"}).status_code == 422


def test_eduframe_token_in_the_url_or_a_header(client, recorder):
    body = {"tenant_id": "t", "educator": "demo", "event": "enrollment.updated", "event_data": {"id": 5}}
    assert client.post(f"/eduframe/{SECRETS['eduframe']}", json=body).json()["asset"] == (
        "lms://eduframe/enrollment.updated"
    )
    assert (
        client.post("/eduframe", json={**body, "n": 2}, headers={"X-LMS-Webhook-Token": SECRETS["eduframe"]}).json()[
            "status"
        ]
        == "recorded"
    )
    assert client.post("/eduframe/wrong-token", json=body).status_code == 401
    assert client.post("/eduframe", json=body).status_code == 401
    assert len(recorder.events) == 2


def test_an_unconfigured_platform_is_404():
    app = create_webhook_app(secrets=lambda platform: None, recorder=MemoryRecorder())
    assert TestClient(app).post("/pluvo", json=finished()).status_code == 404


def test_no_asset_and_database_failures():
    none_scheduled = TestClient(create_webhook_app(secrets=SECRETS.get, recorder=MemoryRecorder(assets=set())))
    answer = post_signed(none_scheduled, "pluvo", finished())
    assert answer.status_code == 200 and answer.json()["status"] == "no_asset"
    failing = TestClient(create_webhook_app(secrets=SECRETS.get, recorder=MemoryRecorder(fail=True)))
    assert post_signed(failing, "pluvo", finished()).status_code == 503  # the platform retries later


def test_delivery_key_is_independent_of_formatting():
    a = json.loads('{"b": 1, "a": [1, 2], "event": "X"}')
    b = json.loads('{"event":"X","a":[1,2],"b":1}')
    assert delivery_key("anewspring", a) == delivery_key("anewspring", b)
    assert delivery_key("anewspring", a) != delivery_key("pluvo", {**a, "b": 2})


def test_the_plugin_mounts_the_app():
    from airflow_provider_lms.webhooks.plugin import URL_PREFIX, LmsWebhooksPlugin

    [app] = LmsWebhooksPlugin.fastapi_apps
    assert app["url_prefix"] == URL_PREFIX == "/lms-webhooks"
    assert {r.path for r in app["app"].routes} >= {"/pluvo", "/anewspring", "/eduframe", "/eduframe/{token}"}


def test_a_pluvo_delivery_older_than_the_replay_window_is_stale_and_recorded_nowhere(recorder):
    app = create_webhook_app(secrets=SECRETS.get, recorder=recorder, body_limit=4096, delivery_age=3600)
    client = TestClient(app)
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1, minutes=1)).isoformat()
    old = post_signed(client, "pluvo", finished(sentDate=hour_ago))
    # 200, so Pluvo stops retrying, but nothing recorded: a captured delivery replayed after the dedupe
    # table forgot it cannot start a DAG run again.
    assert old.status_code == 200 and old.json()["status"] == "stale"
    assert recorder.events == []
    fresh = post_signed(client, "pluvo", finished(sentDate=SENT))
    assert fresh.json()["status"] == "recorded" and len(recorder.events) == 1


def test_the_default_replay_window_stays_inside_the_dedupe_retention(client, recorder):
    from airflow_provider_lms.webhooks.config import DEFAULT_MAX_DELIVERY_AGE
    from airflow_provider_lms.webhooks.store import AirflowAssetRecorder

    assert AirflowAssetRecorder().retention.total_seconds() > DEFAULT_MAX_DELIVERY_AGE
    week_old = (datetime.now(timezone.utc) - timedelta(days=7)).isoformat()
    assert post_signed(client, "pluvo", finished(sentDate=week_old)).json()["status"] == "stale"
    # Platforms without a send time in the body are left to the dedupe table.
    anewspring = post_signed(client, "anewspring", {"event": "RESULT_UPDATED", "userID": "u1"})
    assert anewspring.json()["status"] == "recorded"

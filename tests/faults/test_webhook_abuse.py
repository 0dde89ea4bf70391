"""The webhook receiver under abuse: forged signatures, replays, oversize and slow bodies, wrong content
types and unknown events, against ``create_webhook_app`` in-process (httpx's ASGI transport).

Each abusive delivery must be refused with the right status, record nothing, and never echo a secret.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.webhooks.receiver import create_webhook_app
from airflow_provider_lms.webhooks.signatures import anewspring_signature, pluvo_signature
from tests.faults.conftest import FIGURES

SECRETS = {"pluvo": "pluvo-abuse-secret-7f1", "anewspring": "ans-abuse-secret-2c9", "eduframe": "edu-abuse-token-55a"}
LIMIT = 8192

# Deliveries are refused as replays once their sentDate is older than max_delivery_age (6 days): stamp recently.
SENT = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
RESENT = (datetime.now(timezone.utc) - timedelta(minutes=3)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorder:
    """Deduplicates by delivery key, like the real recorder."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.keys: set[tuple[str, str]] = set()

    def record(self, platform: str, key: str, uri: str, extra: dict[str, Any]) -> str:
        if (platform, key) in self.keys:
            return "duplicate"
        self.keys.add((platform, key))
        self.events.append((platform, uri))
        return "recorded"


def finished(n: int = 1) -> dict[str, Any]:
    return {
        "id": f"event-{n}",
        "score": None,
        "user": {"id": "u1", "email": "a@example.org"},
        "training": {"id": "t1", "title": "Training X"},
        "sentDate": SENT,
        "event": "TRAINING_FINISHED",
    }


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(recorder: Recorder) -> AsyncIterator[httpx.AsyncClient]:
    app = create_webhook_app(secrets=SECRETS.get, recorder=recorder, body_limit=LIMIT)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as c:
        yield c


def signed(
    platform: str, payload: Any = None, *, body: bytes | None = None, secret: str | None = None
) -> tuple[bytes, dict[str, str]]:
    delivery = WebhookSender(platform, secret or SECRETS[platform]).sign("http://x", payload, body=body)
    return delivery.body, dict(delivery.headers)


def _no_secret_in(answer: httpx.Response) -> None:
    for secret in SECRETS.values():
        assert secret not in answer.text and secret not in str(answer.headers)


async def test_forged_signatures_are_401_and_record_nothing(client: httpx.AsyncClient, recorder: Recorder) -> None:
    body, headers = signed("pluvo", finished())
    tampered = body.replace(b"u1", b"u2")
    forged: list[httpx.Response] = [
        await client.post("/pluvo", content=body, headers={**headers, "X-Signature": "0" * 64}),
        await client.post("/pluvo", content=tampered, headers=headers),  # body changed after signing
        await client.post("/pluvo", content=body, headers={**headers, "X-Signature-Salt": "other-salt"}),
        await client.post("/pluvo", content=body, headers={"Content-Type": "application/json"}),  # unsigned
        await client.post(
            "/pluvo",
            content=body,
            headers={**headers, "X-Signature": pluvo_signature(body, headers["X-Signature-Salt"], "guessed")},
        ),
    ]
    ans_body, ans_headers = signed("anewspring", {"event": "RESULT_UPDATED", "userID": "u"})
    forged += [
        await client.post("/anewspring", content=ans_body, headers={**ans_headers, "X-WebHook-Signature": ""}),
        await client.post(
            "/anewspring",
            content=ans_body,
            headers={**ans_headers, "X-WebHook-Signature": anewspring_signature(ans_body, SECRETS["pluvo"])},
        ),
        await client.post("/anewspring", content=ans_body + b" ", headers=ans_headers),
        # Eduframe: a wrong token in the URL or the header, a token that is a prefix of the real one.
        await client.post("/eduframe/wrong-token", json={"event": "enrollment.updated"}),
        await client.post("/eduframe", json={"event": "enrollment.updated"}, headers={"X-LMS-Webhook-Token": "x"}),
        await client.post(f"/eduframe/{SECRETS['eduframe'][:-1]}", json={"event": "enrollment.updated"}),
    ]
    assert [a.status_code for a in forged] == [401] * len(forged)
    for answer in forged:
        _no_secret_in(answer)
    assert recorder.events == []
    FIGURES["webhook abuses refused"] += len(forged)


async def test_a_replay_is_answered_but_recorded_once(client: httpx.AsyncClient, recorder: Recorder) -> None:
    body, headers = signed("pluvo", finished())
    answers = [await client.post("/pluvo", content=body, headers=headers) for _ in range(5)]
    assert [a.json()["status"] for a in answers] == ["recorded"] + ["duplicate"] * 4
    # Re-signed with a fresh salt it is still the same delivery.
    body2, headers2 = signed("pluvo", finished())
    assert (await client.post("/pluvo", content=body2, headers=headers2)).json()["status"] == "duplicate"
    ans_body, ans_headers = signed("anewspring", {"event": "RESULT_UPDATED", "userID": "u"})
    for _ in range(3):
        await client.post("/anewspring", content=ans_body, headers=ans_headers)
    assert recorder.events == [
        ("pluvo", "lms://pluvo/TRAINING_FINISHED"),
        ("anewspring", "lms://anewspring/RESULT_UPDATED"),
    ]
    FIGURES["webhook abuses refused"] += 7


async def test_an_oversize_body_is_413_declared_or_not(client: httpx.AsyncClient, recorder: Recorder) -> None:
    big = finished()
    big["training"]["title"] = "x" * (LIMIT + 1)
    body, headers = signed("pluvo", big)
    declared = await client.post("/pluvo", content=body, headers=headers)
    # The same body sent chunked (no Content-Length) is counted while it is read.

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 1024):
            yield body[i : i + 1024]

    chunked = await client.post("/pluvo", content=chunks(), headers=headers)
    lying = await client.post("/pluvo", content=body, headers={**headers, "Content-Length": "not-a-number"})
    assert (declared.status_code, chunked.status_code) == (413, 413)
    assert lying.status_code in (400, 413)
    assert recorder.events == []
    FIGURES["webhook abuses refused"] += 3


async def test_a_slow_endless_body_is_cut_at_the_limit_not_read_to_the_end(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    sent = 0

    async def trickle() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):  # 1 MB if it were read to the end
            sent += 1
            await asyncio.sleep(0.001)
            yield b" " * 1024

    answer = await asyncio.wait_for(
        client.post(
            "/anewspring", content=trickle(), headers={"X-WebHook-Signature": "abc", "Content-Type": "application/json"}
        ),
        timeout=20,
    )
    assert answer.status_code == 413
    assert sent <= LIMIT // 1024 + 2, f"{sent} chunks were read"
    assert recorder.events == []
    FIGURES["webhook abuses refused"] += 1


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html"]
)
async def test_a_wrong_content_type_is_415(client: httpx.AsyncClient, recorder: Recorder, content_type: str) -> None:
    body, headers = signed("pluvo", finished())
    answer = await client.post("/pluvo", content=body, headers={**headers, "Content-Type": content_type})
    assert answer.status_code == 415 and "content-type" in answer.json()["detail"]
    assert recorder.events == []
    FIGURES["webhook abuses refused"] += 1


async def test_json_content_types_with_parameters_pass(client: httpx.AsyncClient, recorder: Recorder) -> None:
    body, headers = signed("pluvo", finished())
    answer = await client.post(
        "/pluvo", content=body, headers={**headers, "Content-Type": "application/json; charset=utf-8"}
    )
    assert answer.status_code == 200


async def test_unknown_events_are_recorded_on_their_own_asset_or_refused_when_not_a_name(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    # A new event name the platform adds later still reaches its asset (nothing is lost)...
    body, headers = signed("anewspring", {"event": "SOMETHING_NEW", "userID": "u"})
    assert (await client.post("/anewspring", content=body, headers=headers)).json()["asset"] == (
        "lms://anewspring/SOMETHING_NEW"
    )
    # ...but a value that is not an event name never becomes part of an asset URI.
    refused = []
    for event in ["../../dags", "x" * 65, "a b", "", "lms://x", "ÉVÉNEMENT"]:
        body, headers = signed("anewspring", {"event": event})
        refused.append((await client.post("/anewspring", content=body, headers=headers)).status_code)
    assert refused == [422] * 6
    assert recorder.events == [("anewspring", "lms://anewspring/SOMETHING_NEW")]
    FIGURES["webhook abuses refused"] += 6


async def test_the_health_route_and_errors_carry_no_secret(client: httpx.AsyncClient) -> None:
    answers = [await client.get("/health"), await client.post("/pluvo", content=b"{}")]
    answers.append(await client.post(f"/eduframe/{SECRETS['eduframe']}x", content=json.dumps({"event": "x"})))
    for answer in answers:
        _no_secret_in(answer)

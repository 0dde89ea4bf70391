"""OAuth2 token handling, the client-side rate limit and the bulk runner."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest
import respx

from airflow_provider_lms.http import (
    BulkRunner,
    ClientSettings,
    ItemResult,
    ItemStatus,
    LmsAuthenticationError,
    LmsHttpClient,
    LmsServerError,
    LmsTransportError,
    OAuth2ClientCredentials,
)
from airflow_provider_lms.http.once import create_once
from airflow_provider_lms.http.ratelimit import SlidingWindowLimiter

TOKEN_URL = "https://org.pluvo.test/oauth/token/"


def _oauth_client(auth: OAuth2ClientCredentials) -> LmsHttpClient:
    return LmsHttpClient(
        ClientSettings(base_url="https://org.pluvo.test", backoff_base=0.001), platform="Pluvo", auth=auth
    )


@respx.mock
def test_oauth_token_is_fetched_once_form_encoded_and_reused():
    token_route = respx.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json={"access_token": "tok-1", "token_type": "Bearer", "expires_in": 86400})
    )
    api = respx.post("https://org.pluvo.test/graphql/").mock(return_value=httpx.Response(200, json={"data": {}}))
    auth = OAuth2ClientCredentials(TOKEN_URL, "cid", "csecret", "users.read trainings.read")
    client = _oauth_client(auth)
    for _ in range(3):
        client.request("POST", "/graphql/", json={"query": "{}"})
    assert token_route.call_count == 1
    sent = token_route.calls[0].request
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    form = dict(httpx.QueryParams(sent.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "csecret",
        "scope": "users.read trainings.read",
    }
    assert all(c.request.headers["Authorization"] == "Bearer tok-1" for c in api.calls)


@respx.mock
def test_oauth_token_is_refreshed_before_expiry():
    respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "old", "expires_in": 301}),
            httpx.Response(200, json={"access_token": "new", "expires_in": 86400}),
        ]
    )
    api = respx.get("https://org.pluvo.test/x").mock(return_value=httpx.Response(200))
    auth = OAuth2ClientCredentials(TOKEN_URL, "cid", "csecret", refresh_margin=300)
    client = _oauth_client(auth)
    client.request("GET", "/x")
    time.sleep(1.1)  # the first token had 1 s left before the refresh margin
    client.request("GET", "/x")
    assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer old", "Bearer new"]


@respx.mock
def test_oauth_refreshes_once_on_401_then_gives_up():
    respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "revoked", "expires_in": 86400}),
            httpx.Response(200, json={"access_token": "fresh", "expires_in": 86400}),
        ]
    )
    api = respx.get("https://org.pluvo.test/x").mock(side_effect=[httpx.Response(401), httpx.Response(200)])
    auth = OAuth2ClientCredentials(TOKEN_URL, "cid", "csecret")
    _oauth_client(auth).request("GET", "/x")
    assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer revoked", "Bearer fresh"]
    assert auth.tokens_fetched == 2


@respx.mock
def test_oauth_bad_secret_is_an_authentication_error_without_the_secret():
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
    auth = OAuth2ClientCredentials(TOKEN_URL, "cid", "very-secret-value")
    with pytest.raises(LmsAuthenticationError) as info:
        _oauth_client(auth).request("GET", "/x")
    assert "very-secret-value" not in str(info.value)


@respx.mock
def test_oauth_token_is_masked_in_logs(monkeypatch):
    masked: list[str] = []
    import airflow.sdk.log as sdk_log

    monkeypatch.setattr(sdk_log, "mask_secret", lambda s, *a, **k: masked.append(s))
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "tok-xyz", "expires_in": 99999}))
    respx.get("https://org.pluvo.test/x").mock(return_value=httpx.Response(200))
    _oauth_client(OAuth2ClientCredentials(TOKEN_URL, "cid", "cs")).request("GET", "/x")
    assert "tok-xyz" in masked


def test_sliding_window_never_exceeds_the_limit_in_any_window():
    limiter = SlidingWindowLimiter(5, 0.5, slack=0.0)
    stamps = []
    for _ in range(12):
        limiter.acquire()
        stamps.append(time.monotonic())
    for i in range(len(stamps) - 5):
        assert stamps[i + 5] - stamps[i] >= 0.5 - 1e-3
    assert stamps[-1] - stamps[0] >= 1.0  # 12 requests at 5 per 0.5 s need two full windows


def test_sliding_window_is_shared_by_threads():
    limiter = SlidingWindowLimiter(10, 0.5, slack=0.0)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 30
    for i in range(len(stamps) - 10):
        assert stamps[i + 10] - stamps[i] >= 0.5 - 1e-3


def test_bulk_records_every_outcome_and_bounds_concurrency():
    running = 0
    peak = 0
    lock = threading.Lock()

    def op(n: int) -> ItemResult:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        if n % 10 == 0:
            raise LmsServerError("boom", status=500)
        return ItemResult(status=ItemStatus.ALREADY_DONE if n % 3 == 0 else ItemStatus.DONE, result={"n": n})

    summary = BulkRunner(concurrency=4).run("demo", list(range(1, 41)), op, key=str)
    assert peak <= 4
    assert summary.total == 40
    assert summary.failed == 4
    assert summary.already_done == len([n for n in range(1, 41) if n % 3 == 0 and n % 10 != 0])
    assert summary.done + summary.already_done + summary.failed == 40
    assert [i.key for i in summary.items] == [str(n) for n in range(1, 41)]
    failed = summary.failures()[0]
    assert failed.key == "10" and "HTTP 500" in (failed.error or "")
    # The summary is JSON for XCom.
    import json

    assert json.loads(json.dumps(summary.to_xcom()))["failed"] == 4


def test_bulk_gives_transient_failures_a_second_pass():
    calls: dict[int, int] = {}

    def op(n: int) -> ItemResult:
        calls[n] = calls.get(n, 0) + 1
        if calls[n] == 1 and n % 2:
            raise LmsTransportError("dropped")
        return ItemResult()

    summary = BulkRunner(concurrency=2).run("demo", [1, 2, 3, 4], op, key=str)
    assert summary.failed == 0
    assert summary.retries == {"item": 2}


def test_bulk_logs_progress_at_the_interval(caplog):
    def op(n: int) -> ItemResult:
        time.sleep(0.05)
        return ItemResult()

    with caplog.at_level(logging.INFO, logger="airflow_provider_lms.bulk"):
        BulkRunner(concurrency=1, progress_interval=0.1).run("slow", list(range(10)), op, key=str)
    progress = [r.getMessage() for r in caplog.records if "%)" in r.getMessage()]
    assert progress, "expected periodic progress lines"
    assert any("slow: 10 items, 10 done" in r.getMessage() for r in caplog.records)


def test_create_once_looks_again_before_resending_after_an_ambiguous_failure():
    store: list[str] = []
    attempts = 0

    def create() -> str:
        nonlocal attempts
        attempts += 1
        store.append("record")  # carried out...
        if attempts == 1:
            raise LmsTransportError("connection dropped after the server acted")  # ...but the answer was lost
        return "record"

    record, created = create_once(lambda: store[0] if store else None, create)
    assert record == "record" and created is True
    assert store == ["record"]  # never created twice
    assert attempts == 1

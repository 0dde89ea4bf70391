"""The circuit breaker a bulk run's items share, the outage rule of waits, and readable parser errors."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import respx
from pydantic import BaseModel

from airflow_provider_lms.http import (
    BulkRunner,
    ClientSettings,
    ItemResult,
    ItemStatus,
    LmsAuthenticationError,
    LmsHttpClient,
    LmsPermissionError,
    LmsServerError,
    LmsTransportError,
)
from airflow_provider_lms.http.breaker import CircuitBreaker, InProcessBreakerStore
from airflow_provider_lms.http.errors import (
    LmsCircuitOpenError,
    LmsInputError,
    LmsNotFoundError,
    LmsRateLimitedError,
    LmsResponseTooLargeError,
    may_heal,
)

URL = "https://lms.test"


def _client(**overrides: object) -> LmsHttpClient:
    settings = ClientSettings(base_url=URL, **{"backoff_base": 0.001, **overrides})  # type: ignore[arg-type]
    return LmsHttpClient(settings, platform="Test", limiter_key="test:conn")


def _refused() -> LmsTransportError:
    return LmsTransportError("connection failed", sent=False, kind="refused")


# -- the policy ----------------------------------------------------------------------------------------------
def test_connection_failures_in_a_row_open_the_circuit_and_an_answer_resets_the_count():
    breaker = CircuitBreaker(threshold=3)
    for _ in range(2):
        breaker.record("k", "lms.test", _refused())
    breaker.record("k", "lms.test", None)  # the host answered: a blip, not an outage
    breaker.record("k", "lms.test", LmsServerError("down", status=503))  # a 503 is an answer too
    for _ in range(2):
        breaker.record("k", "lms.test", _refused())
    assert not breaker.is_open
    breaker.record("k", "lms.test", _refused())
    assert breaker.is_open
    with pytest.raises(LmsCircuitOpenError, match=r"after 3 connection failures to lms\.test"):
        breaker.check("k")


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_opens_the_circuit_at_once(status):
    breaker = CircuitBreaker()
    error = (LmsAuthenticationError if status == 401 else LmsPermissionError)("no", status=status)
    breaker.record("k", "lms.test", error)
    assert breaker.is_open and error.opened_circuit
    assert "refused the credentials" in (breaker.trip_info.describe() if breaker.trip_info else "")


def test_a_permission_error_inside_an_answer_is_one_records_business_not_the_keys():
    # Pluvo's GraphQL says FORBIDDEN in a 200 answer for one record; that must not stop the whole run.
    breaker = CircuitBreaker()
    breaker.record("k", "lms.test", LmsPermissionError("forbidden field", status=None))
    assert not breaker.is_open


def test_the_store_is_the_seam_a_shared_store_plugs_into():
    store = InProcessBreakerStore()
    CircuitBreaker(store=store).record("k", "lms.test", LmsAuthenticationError("no", status=401))
    # Another breaker on the same store (another task, with a shared store) sees the trip.
    with pytest.raises(LmsCircuitOpenError):
        CircuitBreaker(store=store).check("k")
    CircuitBreaker(store=store).check("other")  # another credential is not affected


# -- a bulk run over the HTTP core -----------------------------------------------------------------------------
def _subscribe_all(client: LmsHttpClient, items: list[int], **runner: object) -> object:
    def op(n: int) -> ItemResult:
        client.request("GET", f"/learners/{n}", parse=lambda r: r.json())
        return ItemResult(status=ItemStatus.DONE, result={"n": n})

    return BulkRunner(concurrency=4, progress_interval=3600, **runner).run(  # type: ignore[arg-type]
        "subscribe", items, op, key=str
    )


@respx.mock
def test_a_revoked_key_stops_a_run_after_the_requests_in_flight():
    route = respx.get(url__regex=rf"{URL}/learners/\d+").mock(return_value=httpx.Response(401))
    summary = _subscribe_all(_client(), list(range(500)))
    assert route.call_count <= 4  # the concurrency: what was in flight when the first 401 came back
    assert summary.failed == route.call_count and summary.not_attempted == 500 - route.call_count
    assert summary.done == 0 and summary.results() == {}
    assert summary.circuit and "refused the credentials" in summary.circuit
    first = summary.failures()[0]
    assert first.error and first.error.endswith(
        f"[this opened the circuit: {summary.not_attempted} items not attempted]"
    )
    assert f"{summary.not_attempted} items not attempted" in summary.describe()
    assert {i.status for i in summary.items} == {ItemStatus.FAILED, ItemStatus.NOT_ATTEMPTED}
    assert summary.to_xcom()["not_attempted"] == summary.not_attempted


@respx.mock
def test_a_dead_platform_stops_a_run_even_while_its_retries_sleep():
    route = respx.get(url__regex=rf"{URL}/learners/\d+").mock(side_effect=httpx.ConnectError("refused"))
    # Long backoffs: without the breaker 500 items would wait minutes; sleeping retries wake when it opens.
    client = _client(backoff_base=5.0, backoff_max=5.0, max_retries=6)
    started = time.monotonic()
    summary = _subscribe_all(client, list(range(500)))
    assert time.monotonic() - started < 8
    assert route.call_count <= 5 + 4
    assert summary.not_attempted >= 490 and "after 5 connection failures to lms.test" in (summary.circuit or "")


@respx.mock
def test_a_flaky_platform_never_opens_the_circuit():
    calls = {"n": 0}
    lock = threading.Lock()

    def flaky(request: httpx.Request) -> httpx.Response:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if n % 2:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={})

    respx.get(url__regex=rf"{URL}/learners/\d+").mock(side_effect=flaky)
    summary = _subscribe_all(_client(), list(range(100)))
    assert summary.done == 100 and summary.circuit is None and summary.not_attempted == 0


@respx.mock
def test_each_run_starts_with_its_circuit_closed():
    route = respx.get(url__regex=rf"{URL}/learners/\d+")
    route.mock(return_value=httpx.Response(401))
    client = _client()
    assert _subscribe_all(client, list(range(50))).not_attempted > 0
    route.mock(return_value=httpx.Response(200, json={}))  # the key was replaced; the task is retried
    assert _subscribe_all(client, list(range(50))).done == 50


@respx.mock
def test_outside_a_bulk_run_requests_retry_as_before():
    route = respx.get(f"{URL}/one").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(LmsTransportError, match="connection failed"):
        _client(max_retries=7).request("GET", "/one")
    assert route.call_count == 8  # no breaker: the request's own retry budget


@respx.mock
def test_an_answer_over_the_limit_is_fetched_once_and_gets_no_second_pass():
    route = respx.get(url__regex=rf"{URL}/learners/\d+").mock(return_value=httpx.Response(200, content=b"[" * 5000))
    summary = _subscribe_all(_client(max_response_bytes=1024), [1])
    assert route.call_count == 1
    assert summary.failed == 1 and "1024-byte limit" in (summary.items[0].error or "")


# -- the outage rule of waits ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "heals"),
    [
        (LmsTransportError("refused", sent=False, kind="refused"), True),
        (LmsTransportError("timed out", kind="timeout"), True),
        (LmsTransportError("malformed", kind="malformed"), True),
        (LmsServerError("down", status=503), True),
        (LmsRateLimitedError("slow down", status=429), True),
        (LmsTransportError("no such host", sent=False, kind="dns"), False),
        (LmsResponseTooLargeError("big", limit=1024), False),
        (LmsAuthenticationError("no", status=401), False),
        (LmsPermissionError("no", status=403), False),
        (LmsNotFoundError("gone", status=404), False),
        (LmsInputError("x", "bad"), False),
    ],
)
def test_which_errors_a_wait_rides_out(error, heals):
    assert may_heal(error) is heals


def test_a_host_name_that_does_not_resolve_is_told_apart_from_a_refused_connection():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LmsTransportError) as refused:
        LmsHttpClient(ClientSettings(base_url=f"http://127.0.0.1:{port}", max_retries=0), platform="T").request(
            "GET", "/x"
        )
    assert refused.value.kind == "refused" and may_heal(refused.value)
    with pytest.raises(LmsTransportError, match="does not resolve") as nowhere:
        LmsHttpClient(ClientSettings(base_url="http://lms.invalid", max_retries=0), platform="T").request("GET", "/x")
    assert nowhere.value.kind == "dns" and not may_heal(nowhere.value)


# -- parser reasons --------------------------------------------------------------------------------------------
class _Learner(BaseModel):
    id: int


@respx.mock
def test_a_parsers_reason_is_kept_short_and_without_the_input_it_rejected():
    respx.get(f"{URL}/learner").mock(return_value=httpx.Response(200, json={"id": "secret-looking-" + "z" * 500}))
    with pytest.raises(LmsTransportError) as info:
        _client(max_retries=0).request("GET", "/learner", parse=lambda r: _Learner.model_validate(r.json()))
    message = str(info.value)
    assert "malformed answer: id: Input should be a valid integer" in message
    assert "zzz" not in message  # pydantic's reason, not the body it rejected


@respx.mock
def test_a_long_parser_reason_is_truncated():
    def parse(response: httpx.Response) -> None:
        raise ValueError("bad answer: " + "y" * 5000)

    respx.get(f"{URL}/x").mock(return_value=httpx.Response(200, json={}))
    with pytest.raises(LmsTransportError) as info:
        _client(max_retries=0).request("GET", "/x", parse=parse)
    assert "malformed answer: bad answer: yyy" in str(info.value) and len(str(info.value)) < 400

"""The shared platform limit (http/shared.py) against a real redis-server on loopback.

Two processes with one credential share one window, one pause after a 429 and one circuit; the retry budget
for 429s covers the platform's window; without ``shared_limit_url`` the client keeps its in-process limiter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from airflow_provider_lms.http import ClientSettings, LmsHttpClient, LmsInputError, LmsTransportError
from airflow_provider_lms.http.breaker import CircuitBreaker, guarded_by
from airflow_provider_lms.http.errors import LmsAuthenticationError, LmsCircuitOpenError, LmsRateLimitedError
from airflow_provider_lms.http.ratelimit import SlidingWindowLimiter
from tests.scaleout.services import redis_server, require_modules

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    require_modules("redis")
    with redis_server() as url:
        yield url


@pytest.fixture
def url(redis_url: str) -> str:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


def shared_client(url: str, key: str = "eduframe:edu", **overrides: object) -> LmsHttpClient:
    settings = ClientSettings(
        base_url="https://api.test",
        backoff_base=0.001,
        shared_limit_url=url,
        **overrides,  # type: ignore[arg-type]
    )
    return LmsHttpClient(settings, platform="Test", limiter_key=key)


def _store(url: str):
    # A store of its own (its own connection pool), as another process would have.
    from airflow_provider_lms.http.shared import SharedLimitStore

    return SharedLimitStore(url)


_WORKER = """
import json, sys, time
from airflow_provider_lms.http.shared import SharedLimitStore, SharedWindowLimiter
limiter = SharedWindowLimiter(SharedLimitStore(sys.argv[1]), "eduframe:edu", 20, 1.0, slack=0.3)
stamps = []
for _ in range(int(sys.argv[2])):
    limiter.acquire()
    stamps.append(time.time())
print(json.dumps(stamps))
"""


def test_two_processes_share_one_window_and_never_exceed_it(url: str):
    # Two OS processes, 30 requests each, at most 20 per second between them: 60 requests need three windows.
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, url, "30"], stdout=subprocess.PIPE, cwd=ROOT, text=True)
        for _ in range(2)
    ]
    stamps = sorted(s for p in procs for s in json.loads(p.communicate(timeout=60)[0]))
    assert len(stamps) == 60
    # In any one-second window (by the processes' clocks, which here are one clock), at most 20 starts; the
    # slack (0.3 s) covers the time between Redis granting a start and the process noting it.
    busiest = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    assert busiest <= 20, busiest
    # And the pace is the limit's: the last start is in the third window (2 x 1.3 s on), not later.
    assert 2.4 <= stamps[-1] - stamps[0] < 5.0


def test_the_window_is_atomic_under_threads_on_separate_connections(url: str):
    from airflow_provider_lms.http.shared import SharedWindowLimiter

    limiters = [SharedWindowLimiter(_store(url), "k", 25, 30.0) for _ in range(4)]
    granted = []
    lock = threading.Lock()

    def grab(limiter: SharedWindowLimiter) -> None:
        for _ in range(20):
            if limiter.store.reserve("k", 25, limiter.period) == 0:
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=grab, args=(lim,)) for lim in limiters for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 160 tries at once for 25 slots: exactly 25 granted, never 26.
    assert len(granted) == 25


@respx.mock
def test_a_429_with_retry_after_pauses_every_process_with_that_credential(url: str):
    seen: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, json={})

    respx.get("https://api.test/x").mock(side_effect=answer)
    first = shared_client(url, rate_limit_requests=1000, rate_limit_period=60)
    first.request("GET", "/x")  # 429, waits the second the platform asked for, then succeeds
    assert len(seen) == 2 and seen[1] - seen[0] >= 0.95
    # Meanwhile another task (its own store and client, as in another worker) asked for a request right after
    # the 429: it also waited for the pause, instead of earning a 429 of its own.
    seen.clear()
    _store(url).pause("eduframe:edu", 0.8)
    started = time.monotonic()
    shared_client(url, rate_limit_requests=1000, rate_limit_period=60).request("GET", "/x")
    assert seen and seen[0] - started >= 0.75


def test_a_pause_is_never_shortened_by_a_later_shorter_retry_after(url: str):
    store = _store(url)
    store.pause("k", 2.0)
    store.pause("k", 0.1)
    assert store.paused_for("k") > 1.5


@respx.mock
def test_a_revoked_key_seen_by_one_task_stops_the_others_until_the_trip_expires(url: str):
    route = respx.get("https://api.test/x").mock(return_value=httpx.Response(401))
    with guarded_by(CircuitBreaker()), pytest.raises(LmsAuthenticationError):
        shared_client(url, shared_trip_ttl=1).request("GET", "/x")
    assert route.call_count == 1
    # Another task's run (its own breaker, its own client) is refused before it sends anything.
    with guarded_by(CircuitBreaker()), pytest.raises(LmsCircuitOpenError, match="refused the credentials"):
        shared_client(url, shared_trip_ttl=1).request("GET", "/x")
    assert route.call_count == 1
    # Another credential is not affected.
    with guarded_by(CircuitBreaker()), pytest.raises(LmsAuthenticationError):
        shared_client(url, key="eduframe:other").request("GET", "/x")
    # The trip expires: a task retry after the outage starts with the circuit closed.
    time.sleep(1.2)
    route.mock(return_value=httpx.Response(200, json={}))
    with guarded_by(CircuitBreaker()):
        shared_client(url, shared_trip_ttl=1).request("GET", "/x")


@respx.mock
def test_the_429_budget_covers_the_platforms_window():
    # A task that starts after another spent the window: the platform asks for 2 s, more than max_retry_wait.
    route = respx.get("https://api.test/x").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={})]
    )
    settings = ClientSettings(
        base_url="https://api.test", max_retry_wait=1, rate_limit_requests=100, rate_limit_period=2
    )
    assert settings.rate_limit_budget == 3.0  # 1.5 windows
    LmsHttpClient(settings, platform="Test").request("GET", "/x")
    assert route.call_count == 2
    # Eduframe's 500 per 5 minutes: the budget is past the window, where it used to be 120 s.
    edu = ClientSettings(base_url="https://x.test", rate_limit_requests=500, rate_limit_period=300)
    assert edu.rate_limit_budget >= 300


@respx.mock
def test_429s_are_counted_apart_from_other_retries():
    # Many 429s in a row (the window frees one slot at a time) do not use up max_retries.
    route = respx.get("https://api.test/x").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0"})] * 4 + [httpx.Response(200, json={})]
    )
    LmsHttpClient(ClientSettings(base_url="https://api.test", max_retries=1), platform="Test").request("GET", "/x")
    assert route.call_count == 5
    # ... but they have a cap of their own.
    route.mock(return_value=httpx.Response(429, headers={"Retry-After": "0"}))
    capped = ClientSettings(base_url="https://api.test", max_rate_limit_retries=3)
    with pytest.raises(LmsRateLimitedError):
        LmsHttpClient(capped, platform="Test").request("GET", "/x")
    assert route.call_count == 5 + 4


def test_without_a_shared_url_the_limiter_stays_in_process():
    client = LmsHttpClient(
        ClientSettings(base_url="https://api.test", rate_limit_requests=5, rate_limit_period=1), platform="Test"
    )
    assert isinstance(client.limiter, SlidingWindowLimiter) and client.shared_store is None


def test_the_url_is_checked_and_its_password_never_shown():
    with pytest.raises(LmsInputError, match="shared_limit_url") as info:
        # As a connection's extras are read.
        ClientSettings.from_values("https://api.test", {"shared_limit_url": "http://:hunter2@redis.test:6379/0"}, {})
    assert "hunter2" not in str(info.value)
    require_modules("redis")
    from airflow_provider_lms.http.shared import SharedLimitStore

    # Nobody listens on port 1: the request is refused, naming the store without its password.
    store = SharedLimitStore("redis://:hunter2@127.0.0.1:1/0")
    with pytest.raises(LmsTransportError) as failed:
        store.reserve("k", 1, 1.0)
    assert "127.0.0.1:1" in str(failed.value) and "hunter2" not in str(failed.value)

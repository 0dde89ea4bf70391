"""The HTTP core: retries, Retry-After, error mapping, pagination, redirects."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
import respx

from airflow_provider_lms.http import (
    ClientSettings,
    LmsAuthenticationError,
    LmsConflictError,
    LmsHttpClient,
    LmsInputError,
    LmsNotFoundError,
    LmsPermissionError,
    LmsRateLimitedError,
    LmsServerError,
    LmsTransportError,
    LmsValidationError,
    parse_retry_after,
)
from airflow_provider_lms.http.auth import BearerAuth
from airflow_provider_lms.http.client import recording_retries

from .conftest import fast_client


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("7") == 7.0
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= parse_retry_after(date, now=now) <= 31
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


@respx.mock
def test_429_is_retried_after_the_time_the_platform_asks():
    route = respx.get("https://api.test/things").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0.2"}), httpx.Response(200, json=[1])]
    )
    client = fast_client()
    started = time.monotonic()
    with recording_retries() as rec:
        assert client.request("GET", "/things", parse=lambda r: r.json()) == [1]
    assert time.monotonic() - started >= 0.2
    assert route.call_count == 2
    assert rec.reasons == {"429": 1}


@respx.mock
def test_429_with_http_date_retry_after_is_honoured():
    # HTTP dates have whole seconds: two seconds ahead is at least one full second away.
    date = email.utils.formatdate(time.time() + 2, usegmt=True)
    route = respx.post("https://api.test/orders").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": date}), httpx.Response(201, json={"id": 1})]
    )
    started = time.monotonic()
    assert fast_client().request("POST", "/orders", json={}, parse=lambda r: r.json()) == {"id": 1}
    # A 429 means "not carried out", so even a create is retried, after the given date.
    assert route.call_count == 2
    assert time.monotonic() - started >= 0.9


@respx.mock
def test_retry_after_beyond_the_total_wait_cap_gives_up_at_once():
    respx.get("https://api.test/x").mock(return_value=httpx.Response(429, headers={"Retry-After": "600"}))
    started = time.monotonic()
    with pytest.raises(LmsRateLimitedError) as info:
        fast_client(max_retry_wait=5).request("GET", "/x")
    assert info.value.retry_after == 600
    assert time.monotonic() - started < 2


@respx.mock
@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_for_reads(status):
    route = respx.get("https://api.test/x").mock(side_effect=[httpx.Response(status), httpx.Response(200, json={})])
    fast_client().request("GET", "/x")
    assert route.call_count == 2


@respx.mock
def test_503_on_a_create_is_not_resent_blindly():
    route = respx.post("https://api.test/orders").mock(return_value=httpx.Response(503))
    with pytest.raises(LmsServerError) as info:
        fast_client().request("POST", "/orders", json={})
    assert route.call_count == 1
    assert info.value.status == 503


@respx.mock
def test_500_is_retried_for_reads_but_a_create_is_not_resent():
    read = respx.get("https://api.test/x").mock(side_effect=[httpx.Response(500), httpx.Response(200, json={})])
    fast_client().request("GET", "/x")
    assert read.call_count == 2
    create = respx.post("https://api.test/orders").mock(return_value=httpx.Response(500))
    with pytest.raises(LmsServerError):
        fast_client().request("POST", "/orders", json={})
    assert create.call_count == 1


@respx.mock
def test_connect_error_is_retried_even_for_a_create():
    route = respx.post("https://api.test/orders").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201, json={"id": 9})]
    )
    assert fast_client().request("POST", "/orders", json={}, parse=lambda r: r.json()) == {"id": 9}
    assert route.call_count == 2


@respx.mock
def test_read_timeout_on_a_create_is_not_resent():
    route = respx.post("https://api.test/orders").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(LmsTransportError) as info:
        fast_client().request("POST", "/orders", json={})
    assert route.call_count == 1
    assert info.value.sent is True


@respx.mock
def test_retries_are_capped():
    route = respx.get("https://api.test/x").mock(return_value=httpx.Response(503))
    with pytest.raises(LmsServerError):
        fast_client(max_retries=3).request("GET", "/x")
    assert route.call_count == 4


@respx.mock
def test_truncated_json_on_a_read_is_retried():
    route = respx.get("https://api.test/x").mock(
        side_effect=[httpx.Response(200, content=b'[{"id": 1'), httpx.Response(200, json=[{"id": 1}])]
    )
    assert fast_client().request("GET", "/x", parse=lambda r: r.json()) == [{"id": 1}]
    assert route.call_count == 2


@respx.mock
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, LmsValidationError),
        (401, LmsAuthenticationError),
        (403, LmsPermissionError),
        (404, LmsNotFoundError),
        (409, LmsConflictError),
        (422, LmsValidationError),
    ],
)
def test_error_statuses_map_to_one_hierarchy(status, cls):
    respx.get("https://api.test/x").mock(return_value=httpx.Response(status, text="nope"))
    with pytest.raises(cls) as info:
        fast_client().request("GET", "/x")
    assert info.value.status == status
    assert info.value.platform == "Test"


@respx.mock
def test_errors_never_carry_the_key_or_the_query_string():
    secret = "s3cr3t-key-value"
    respx.get("https://api.test/users").mock(return_value=httpx.Response(401, json={"message": "bad key"}))
    client = LmsHttpClient(
        ClientSettings(base_url="https://api.test", backoff_base=0.001), platform="Test", auth=BearerAuth(secret)
    )
    with pytest.raises(LmsAuthenticationError) as info:
        client.request("GET", "/users", params={"_key": secret})
    text = str(info.value) + repr(info.value.to_dict())
    assert secret not in text
    assert "/users" in text


@respx.mock
def test_link_pagination_follows_next_lazily():
    pages = {
        None: (["a", "b"], '<https://api.test/items?cursor=c2&per_page=2>; rel="next"'),
        "c2": (["c", "d"], '<https://api.test/items?cursor=c3&per_page=2>; rel="next"'),
        "c3": (["e"], None),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        items, link = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json=items, headers={"Link": link} if link else {})

    route = respx.get("https://api.test/items").mock(side_effect=answer)
    it = fast_client().iter_link_items("/items", {"per_page": 2})
    assert next(it) == "a"
    assert route.call_count == 1  # nothing fetched ahead of need
    assert list(it) == ["b", "c", "d", "e"]
    assert route.call_count == 3


@respx.mock
def test_a_next_link_to_another_host_is_refused():
    respx.get("https://api.test/items").mock(
        return_value=httpx.Response(200, json=[1], headers={"Link": '<https://evil.test/items?c=2>; rel="next"'})
    )
    with pytest.raises(LmsTransportError, match="another host"):
        list(fast_client().iter_link_items("/items"))


@respx.mock
def test_redirects_are_not_followed():
    respx.get("https://api.test/x").mock(return_value=httpx.Response(302, headers={"Location": "https://evil.test/x"}))
    other = respx.get("https://evil.test/x").mock(return_value=httpx.Response(200))
    fast_client().request("GET", "/x")
    assert other.call_count == 0


@pytest.mark.parametrize("url", ["api.eduframe.nl/api/v1", "ftp://x.test", "https://", "", "https://x.test/?a=1"])
def test_base_url_without_scheme_or_host_is_rejected(url):
    with pytest.raises(LmsInputError, match="base_url"):
        ClientSettings.from_values(url, {}, {})


@respx.mock
async def test_async_requests_share_the_retry_policy():
    route = respx.get("https://api.test/x").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"ok": True})]
    )
    client = fast_client()
    assert await client.arequest("GET", "/x", parse=lambda r: r.json()) == {"ok": True}
    assert route.call_count == 2
    await client.aclose()

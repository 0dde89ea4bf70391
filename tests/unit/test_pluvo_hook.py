"""PluvoHook with respx: the OAuth2 token's life, GraphQL errors, lazy Relay pagination."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.pluvo import PluvoGraphQLError, PluvoHook
from airflow_provider_lms.http.errors import LmsAuthenticationError, LmsInputError

BASE = "https://acme.pluvo.test"
TOKEN_URL = f"{BASE}/oauth/token/"
GRAPHQL_URL = f"{BASE}/graphql/"
CLIENT_SECRET = "pluvo-client-secret-x81"


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> PluvoHook:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PLUVO_T",
        json.dumps(
            {
                "conn_type": "pluvo",
                "login": "client-1",
                "password": CLIENT_SECRET,
                "extra": {"base_url": BASE, "scopes": "users.read trainings.read", "backoff_base": 0.001},
            }
        ),
    )
    return PluvoHook("pluvo_t")


def _token(n: int = 1, expires_in: int = 86400) -> httpx.Response:
    return httpx.Response(200, json={"access_token": f"tok-{n}", "token_type": "Bearer", "expires_in": expires_in})


@respx.mock
def test_the_token_is_fetched_once_form_encoded_and_reused(hook):
    token = respx.post(TOKEN_URL).mock(return_value=_token())
    graphql = respx.post(GRAPHQL_URL).mock(return_value=httpx.Response(200, json={"data": {"__typename": "Query"}}))
    assert hook.query("{ __typename }") == {"__typename": "Query"}
    hook.query("{ __typename }")
    assert token.call_count == 1 and graphql.call_count == 2
    form = parse_qs(token.calls[0].request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["client-1"],
        "client_secret": [CLIENT_SECRET],
        "scope": ["users.read trainings.read"],
    }
    assert graphql.calls[1].request.headers["Authorization"] == "Bearer tok-1"
    assert json.loads(graphql.calls[0].request.content) == {"query": "{ __typename }", "variables": {}}


@respx.mock
def test_a_401_fetches_a_new_token_once(hook):
    token = respx.post(TOKEN_URL).mock(side_effect=[_token(1), _token(2), _token(3)])
    graphql = respx.post(GRAPHQL_URL).mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json={"data": {"ok": True}})]
    )
    assert hook.query("{ ok }") == {"ok": True}
    assert token.call_count == 2
    assert graphql.calls[1].request.headers["Authorization"] == "Bearer tok-2"


@respx.mock
def test_a_token_near_expiry_is_replaced_before_use(hook, monkeypatch):
    token = respx.post(TOKEN_URL).mock(side_effect=[_token(1), _token(2)])
    respx.post(GRAPHQL_URL).mock(return_value=httpx.Response(200, json={"data": {}}))
    hook.query("{ a }")
    later = time.monotonic() + 86400 - 200  # inside the 300 s refresh margin
    monkeypatch.setattr("airflow_provider_lms.http.auth.time.monotonic", lambda: later)
    hook.query("{ a }")
    assert token.call_count == 2


@respx.mock
def test_a_rejected_client_is_an_authentication_error_without_the_secret(hook):
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
    with pytest.raises(LmsAuthenticationError) as err:
        hook.query("{ a }")
    assert CLIENT_SECRET not in str(err.value)
    ok, message = hook.test_connection()
    assert not ok and CLIENT_SECRET not in message


@respx.mock
def test_graphql_errors_are_raised_even_with_partial_data(hook):
    respx.post(TOKEN_URL).mock(return_value=_token())
    respx.post(GRAPHQL_URL).mock(
        return_value=httpx.Response(
            200, json={"data": {"a": 1}, "errors": [{"message": "Cannot query field 'b'", "path": ["b"]}]}
        )
    )
    with pytest.raises(PluvoGraphQLError) as err:
        hook.query("{ a b }")
    assert "Cannot query field 'b'" in str(err.value) and err.value.errors[0]["path"] == ["b"]


@respx.mock
def test_test_connection(hook):
    respx.post(TOKEN_URL).mock(return_value=_token())
    respx.post(GRAPHQL_URL).mock(return_value=httpx.Response(200, json={"data": {"__typename": "Query"}}))
    assert hook.test_connection() == (True, "Connected to Pluvo at acme.pluvo.test")


def _page(ids: list[int], has_next: bool, cursor: str | None) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": {
                "users": {
                    "edges": [{"node": {"id": str(i)}} for i in ids],
                    "pageInfo": {"hasNextPage": has_next, "endCursor": cursor},
                }
            }
        },
    )


@respx.mock
def test_pagination_is_lazy_and_follows_end_cursors(hook):
    respx.post(TOKEN_URL).mock(return_value=_token())
    graphql = respx.post(GRAPHQL_URL).mock(side_effect=[_page([1, 2], True, "c2"), _page([3], False, "c3")])
    nodes = hook.paginate(
        "query($first: Int, $after: String) { users(first: $first, after: $after) { ... } }", "users", page_size=2
    )
    assert graphql.call_count == 0  # nothing until the first node is needed
    assert next(nodes) == {"id": "1"}
    assert graphql.call_count == 1
    assert [n["id"] for n in nodes] == ["2", "3"]
    sent = [json.loads(c.request.content)["variables"] for c in graphql.calls]
    assert sent == [{"first": 2, "after": None}, {"first": 2, "after": "c2"}]


@respx.mock
def test_a_repeated_cursor_stops_instead_of_looping(hook):
    respx.post(TOKEN_URL).mock(return_value=_token())
    respx.post(GRAPHQL_URL).mock(side_effect=[_page([1], True, "c1"), _page([1], True, "c1")])
    with pytest.raises(PluvoGraphQLError):
        list(hook.paginate("q", "users"))


@pytest.mark.parametrize("size", [0, 51, 10.0, True])
def test_page_size_is_at_most_50(hook, size):
    with pytest.raises(LmsInputError, match="page_size"):
        next(hook.paginate("q", "users", page_size=size))


@respx.mock
def test_mutations_are_not_retried_after_a_dropped_connection(hook):
    respx.post(TOKEN_URL).mock(return_value=_token())
    graphql = respx.post(GRAPHQL_URL).mock(side_effect=httpx.ReadError("dropped"))
    with pytest.raises(Exception):  # noqa: B017 - the transport error type is the core's business
        hook.query("mutation { finish }")
    assert graphql.call_count == 1

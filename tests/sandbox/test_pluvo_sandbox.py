"""PluvoHook against the sandbox over real HTTP, and the sandbox's signing, retrying webhook sender."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from airflow_provider_lms.hooks.pluvo import PluvoGraphQLError, PluvoHook
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.server import bind_socket
from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.testing import sandbox_connection_env
from airflow_provider_lms.webhooks.receiver import create_webhook_app
from tests.unit.test_webhook_receiver_app import MemoryRecorder

USERS = "query Users($first: Int, $after: String) { users(first: $first, after: $after) { edges { cursor node { id email isActive } } pageInfo { hasNextPage endCursor } } }"  # noqa: E501


@pytest.fixture
def hook(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> PluvoHook:
    for key, value in sandbox_connection_env(sandbox.url).items():
        monkeypatch.setenv(key, value)
    return PluvoHook()


def test_connection_and_relay_pagination_over_every_user(hook, sandbox):
    assert hook.test_connection() == (True, "Connected to Pluvo at 127.0.0.1")
    users = list(hook.paginate(USERS, "users"))
    assert len(users) == 120 and len({u["id"] for u in users}) == 120
    graphql_calls = [r for r in httpx.get(f"{sandbox.control_url}/requests").json() if r["path"].endswith("/graphql/")]
    assert len(graphql_calls) == 1 + 3  # the connection test, then 50 + 50 + 20


def test_the_sandbox_refuses_first_above_50_as_a_graphql_error(hook):
    with pytest.raises(PluvoGraphQLError, match="at most 50"):
        hook.query(USERS, {"first": 51})
    with pytest.raises(PluvoGraphQLError, match="Cannot query field 'salary'"):
        hook.query("{ users { nodes { salary } } }")


def test_token_is_cached_refreshed_after_expiry_and_once_after_revocation(hook, sandbox):
    control = sandbox.control_url
    hook.query("{ __typename }")
    hook.query("{ __typename }")
    assert httpx.get(f"{control}/pluvo/state").json()["tokens_issued"] == 1
    httpx.post(f"{control}/pluvo/revoke_tokens").raise_for_status()
    hook.query("{ __typename }")  # 401, one new token, the same query again
    assert httpx.get(f"{control}/pluvo/state").json()["tokens_issued"] == 2
    # A day later the sandbox's token has expired; the hook's copy is treated the same way.
    httpx.post(f"{control}/clock/advance", json={"seconds": 86400}).raise_for_status()
    hook.query("{ __typename }")
    assert httpx.get(f"{control}/pluvo/state").json()["tokens_issued"] == 3


class _Receiver:
    """A receiver app on a loopback port, in a thread."""

    def __init__(self, app: FastAPI) -> None:
        sock = bind_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def __enter__(self) -> _Receiver:
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[tuple[_Receiver, MemoryRecorder]]:
    recorder = MemoryRecorder()
    app = create_webhook_app(secrets={"pluvo": "sbx-whsec"}.get, recorder=recorder)
    with _Receiver(app) as running:
        yield running, recorder


def test_a_learner_finishing_a_training_sends_a_signed_training_finished(sandbox, receiver):
    running, recorder = receiver
    control = sandbox.control_url
    httpx.put(
        f"{control}/pluvo/webhook", json={"url": f"{running.url}/pluvo", "secret": "sbx-whsec"}
    ).raise_for_status()
    answer = httpx.post(
        f"{control}/pluvo/finish_training",
        json={"user_id": "00000000-0000-4000-8000-000000000007", "training_id": "10000000-0000-4000-8000-000000000002"},
        timeout=30,
    ).json()
    assert answer["delivered"] and answer["statuses"] == [200]
    [(uri, extra)] = recorder.events
    assert uri == "lms://pluvo/TRAINING_FINISHED"
    assert extra["payload"]["user"]["email"] == "learner7@example.org"
    assert extra["payload"]["training"]["title"] == "Training 2"


def _flaky(statuses: list[int]) -> tuple[FastAPI, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> JSONResponse:
        seen.append({"body": await request.body(), "headers": dict(request.headers)})
        status = statuses[min(len(seen), len(statuses)) - 1]
        return JSONResponse({}, status_code=status)

    return app, seen


@pytest.mark.parametrize(
    ("platform", "statuses", "attempts", "delivered"),
    [
        ("pluvo", [503, 400, 200], 3, True),  # Pluvo retries 5xx and 4xx...
        ("pluvo", [500, 410], 2, False),  # ...but not 410 Gone
        ("anewspring", [500, 404, 200], 3, True),
    ],
)
def test_the_sender_retries_failed_deliveries_with_the_same_signed_bytes(platform, statuses, attempts, delivered):
    app, seen = _flaky(statuses)
    with _Receiver(app) as running, WebhookSender(platform, "s", backoff=0.01) as sender:
        result = sender.send(f"{running.url}/hook", {"event": "X", "id": "1"})
    assert result.attempts == attempts and result.delivered is delivered
    assert result.gone is (410 in statuses and platform == "pluvo")
    assert len({s["body"] for s in seen}) == 1
    assert json.loads(seen[0]["body"]) == {"event": "X", "id": "1"}
    header = "x-signature" if platform == "pluvo" else "x-webhook-signature"
    assert len({s["headers"][header] for s in seen}) == 1

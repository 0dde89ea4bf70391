"""The receiver against the internet: strict JSON, no public schema, a body-read deadline, and the Eduframe
path token kept out of every log (ours, uvicorn's access log and Airflow's access-log middleware)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.webhooks import config
from airflow_provider_lms.webhooks.bodies import json_depth
from airflow_provider_lms.webhooks.receiver import EDUFRAME_TOKEN_HEADER, create_webhook_app
from airflow_provider_lms.webhooks.store import Outcome

SECRETS = {"anewspring": "ans-hardening-secret-9d2", "eduframe": "edu-hardening-token-4b7"}


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def record(self, platform: str, key: str, uri: str, extra: dict[str, Any]) -> Outcome:
        self.events.append(uri)
        return "recorded"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _client(recorder: Recorder, **options: Any) -> TestClient:
    app = create_webhook_app(secrets=SECRETS.get, recorder=recorder, body_limit=1024 * 1024, **options)
    # A 500 must show as a 500, not as an exception in the test.
    return TestClient(app, raise_server_exceptions=False)


def _nested(depth: int) -> bytes:
    """An object with ``event`` whose deepest value sits ``depth`` levels down (the object is level 1)."""
    return b'{"event": "x", "v": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def _post_both(client: TestClient, body: bytes) -> list[tuple[int, Any]]:
    """``body`` to aNewSpring (signed) and to Eduframe (header token): status and JSON answer of each."""
    signed = WebhookSender("anewspring", SECRETS["anewspring"]).sign("http://x", None, body=body)
    answers = [
        client.post("/anewspring", content=signed.body, headers=dict(signed.headers)),
        client.post(
            "/eduframe",
            content=body,
            headers={EDUFRAME_TOKEN_HEADER: SECRETS["eduframe"], "Content-Type": "application/json"},
        ),
    ]
    return [(a.status_code, a.json()) for a in answers]


@pytest.mark.parametrize(
    "body",
    [
        b'{"event": "x", "score": NaN}',
        b'{"event": "x", "score": Infinity}',
        b'{"event": "x", "score": -Infinity}',
        b'{"event": "x", "score": 1e999}',
        b'{"event": "x", "score": [-1e999]}',
        b'{"event": "x", "event": "y"}',
        b'{"event": "x", "user": {"id": 1, "id": 2}}',
    ],
    ids=["nan", "infinity", "-infinity", "overflow", "negative-overflow", "duplicate-key", "nested-duplicate"],
)
def test_json_that_is_not_strict_is_400_and_records_nothing(recorder: Recorder, body: bytes) -> None:
    answers = _post_both(_client(recorder), body)
    assert [status for status, _ in answers] == [400, 400]
    for _, answer in answers:
        assert answer["detail"].startswith("body is not strict JSON") and len(answer["detail"]) < 80
    assert recorder.events == []


def test_nesting_deeper_than_the_limit_is_400_never_a_500(recorder: Recorder) -> None:
    client = _client(recorder)
    assert _post_both(client, _nested(64)) == [
        (200, {"status": "recorded", "asset": f"lms://{p}/x"})
        for p in (
            "anewspring",
            "eduframe",
        )
    ]
    recorder.events.clear()
    # One level too deep, and far beyond Python's recursion limit (json's parser would crash with a 500).
    for body in (_nested(65), _nested(100_000), b"[" * 500_000):
        answers = _post_both(client, body)
        assert [status for status, _ in answers] == [400, 400], body[:40]
        assert all("deeper than 64" in answer["detail"] for _, answer in answers)
    assert recorder.events == []


def test_the_depth_limit_is_configurable(recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(recorder, json_depth=3)
    assert [status for status, _ in _post_both(client, _nested(3))] == [200, 200]
    assert [status for status, _ in _post_both(client, _nested(4))] == [400, 400]
    monkeypatch.setenv("AIRFLOW__LMS_WEBHOOKS__MAX_JSON_DEPTH", "7")
    monkeypatch.setenv("AIRFLOW__LMS_WEBHOOKS__BODY_READ_TIMEOUT", "2.5")
    assert (config.max_json_depth(), config.body_read_timeout()) == (7, 2.5)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    assert json_depth('{"a": "[[[[{{{{", "b": ["\\"]]]]", [1]]}') == 3


def test_an_unterminated_string_of_escaped_quotes_is_refused_promptly(recorder: Recorder) -> None:
    # A depth scan that retried a failed string match from every quote would take hours on this body.
    body = b'{"event": "x", "a": "' + b'\\"' * 400_000
    start = time.monotonic()
    assert [status for status, _ in _post_both(_client(recorder), body)] == [400, 400]
    assert time.monotonic() - start < 10


def test_no_schema_or_docs_are_served(recorder: Recorder) -> None:
    client = _client(recorder)
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path
    # The plugin mounts the same app: nothing at its prefix either.
    outer = FastAPI()
    outer.mount("/lms-webhooks", create_webhook_app(secrets=SECRETS.get, recorder=recorder))
    with TestClient(outer) as mounted:
        assert mounted.get("/lms-webhooks/openapi.json").status_code == 404
        assert mounted.get("/lms-webhooks/health").status_code == 200


class _Server:
    """The receiver on a loopback port, served by uvicorn in a thread (as the API server would)."""

    def __init__(self, app: Any, *, access_log: bool = False) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", access_log=access_log))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


def _drip(port: int, head: bytes, drop: bytes, give_up: float) -> tuple[bytes, float]:
    """Send ``head``, then ``drop`` every 0.1 s until the server answers; the answer and seconds taken."""
    with socket.create_connection(("127.0.0.1", port), timeout=give_up) as conn:
        start = time.monotonic()
        conn.sendall(head)
        conn.settimeout(0.1)
        while time.monotonic() - start < give_up:
            try:
                answer = conn.recv(4096)
                return answer, time.monotonic() - start
            except TimeoutError:
                pass
            try:
                conn.sendall(drop)
            except OSError:  # the server closed the connection; its answer may still be readable
                conn.settimeout(1)
                return conn.recv(4096), time.monotonic() - start
    return b"", give_up


@pytest.fixture
def dripping_server(recorder: Recorder) -> Iterator[_Server]:
    app = create_webhook_app(secrets=SECRETS.get, recorder=recorder, body_timeout=1.0)
    with _Server(app) as server:
        yield server


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_dripping_body_is_cut_off_at_the_deadline_with_408(
    dripping_server: _Server, recorder: Recorder, framing: str
) -> None:
    token = SECRETS["eduframe"]
    if framing == "content-length":
        length, drop = b"Content-Length: 5000\r\n", b" "
    else:
        length, drop = b"Transfer-Encoding: chunked\r\n", b"1\r\n \r\n"
    head = (
        b"POST /eduframe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"{EDUFRAME_TOKEN_HEADER}: {token}\r\n".encode()
        + length
        + b"\r\n"
    )
    answer, seconds = _drip(dripping_server.port, head, drop, give_up=15)
    # 5000 drops at 10 a second would take 500 s; the deadline is 1 s (slack for a loaded machine).
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert seconds < 8
    assert b"not received within 1 seconds" in answer
    assert recorder.events == []


def test_a_prompt_body_on_a_real_server_is_not_hurt_by_the_deadline(dripping_server: _Server) -> None:
    body = json.dumps({"event": "enrollment.updated"}).encode()
    head = (
        b"POST /eduframe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"{EDUFRAME_TOKEN_HEADER}: {SECRETS['eduframe']}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    answer, _ = _drip(dripping_server.port, head, b"", give_up=15)
    assert answer.startswith(b"HTTP/1.1 200")


def _eduframe_paths() -> list[tuple[str, int]]:
    token = SECRETS["eduframe"]
    return [(f"/eduframe/{token}", 200), (f"/eduframe/{token}x", 401), (f"/eduframe/{token}/more", 404)]


def test_uvicorns_access_log_never_shows_the_path_token(recorder: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    app = create_webhook_app(secrets=SECRETS.get, recorder=recorder)
    # Another server in this session may have configured uvicorn's loggers (its default log config stops
    # uvicorn.access from propagating), so listen on that logger itself, not only at the root.
    access_logger = logging.getLogger("uvicorn.access")
    was_disabled = access_logger.disabled
    access_logger.disabled = False
    access_logger.addHandler(caplog.handler)
    try:
        with _Server(app, access_log=True) as server:
            caplog.set_level(logging.INFO, logger="uvicorn")
            caplog.set_level(logging.INFO, logger="uvicorn.access")
            caplog.set_level(logging.DEBUG, logger="airflow_provider_lms")
            for path, status in _eduframe_paths():
                request = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 23\r\nConnection: close\r\n\r\n"
                answer, _ = _drip(server.port, request.encode() + b'{"event": "enrollment"}', b"", give_up=15)
                shown = path.replace(SECRETS["eduframe"], "T")
                assert answer.startswith(f"HTTP/1.1 {status}".encode()), (shown, answer)
    finally:
        access_logger.removeHandler(caplog.handler)
        access_logger.disabled = was_disabled
    access = list(dict.fromkeys(r.getMessage() for r in caplog.records if r.name == "uvicorn.access"))
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(access) == 3 and all("/eduframe/redacted" in line for line in access), access
    assert not [r for r in caplog.records if SECRETS["eduframe"] in r.getMessage()]


def test_airflows_access_log_middleware_never_shows_the_path_token(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    access_log = pytest.importorskip("airflow.api_fastapi.common.http_access_log")
    capture_logs = pytest.importorskip("structlog.testing").capture_logs
    outer = FastAPI()
    outer.mount("/lms-webhooks", create_webhook_app(secrets=SECRETS.get, recorder=recorder))
    outer.add_middleware(access_log.HttpAccessLogMiddleware)
    # Only server-side loggers: the HTTP client's own request log (httpx, INFO) prints the URL it was given.
    caplog.set_level(logging.DEBUG, logger="airflow_provider_lms")
    caplog.set_level(logging.DEBUG, logger="airflow")
    with TestClient(outer, raise_server_exceptions=False) as client, capture_logs() as logged:
        statuses = [
            client.post(f"/lms-webhooks{path}", json={"event": "enrollment.updated"}).status_code
            for path, _ in _eduframe_paths()
        ]
    assert statuses == [status for _, status in _eduframe_paths()]
    paths = [entry["path"] for entry in logged if entry.get("event") == "request finished"]
    assert paths == [
        "/lms-webhooks/eduframe/redacted",
        "/lms-webhooks/eduframe/redacted",
        "/lms-webhooks/eduframe/redacted/more",
    ]
    assert recorder.events == ["lms://eduframe/enrollment.updated"]
    assert not [r for r in caplog.records if SECRETS["eduframe"] in r.getMessage()]
    assert not [entry for entry in logged if SECRETS["eduframe"] in json.dumps(entry, default=str)]


def test_a_trailing_slash_is_served_not_redirected_so_the_token_is_never_repeated():
    from fastapi.testclient import TestClient

    from airflow_provider_lms.webhooks.receiver import create_webhook_app

    token = "edu-slash-token-42"
    events: list[str] = []

    class Recorder:
        def record(self, platform, key, uri, extra):
            events.append(uri)
            return "recorded"

    client = TestClient(create_webhook_app(secrets={"eduframe": token}.get, recorder=Recorder()))
    body = {"event": "enrollment.updated", "entity_id": 1}
    for path in (f"/eduframe/{token}/", "/eduframe/"):
        answer = client.post(path, json=body, headers={"X-LMS-Webhook-Token": token}, follow_redirects=False)
        assert answer.status_code == 200, (path, answer.status_code)
        assert "location" not in answer.headers and token not in answer.text
    assert events == ["lms://eduframe/enrollment.updated"] * 2
    assert client.get("/health/", follow_redirects=False).status_code == 200

"""The sync client's connection pools, over real sockets on loopback.

``max_connections`` is split over small pools (cheaper per request in httpcore); a request only goes to a
pool with a free connection, so more threads than connections never open more connections than allowed
nor break one another's, and the pools behave as one client (one cookie jar).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airflow_provider_lms.http.client import LmsHttpClient, _pool_sizes
from airflow_provider_lms.http.config import ClientSettings


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so that connections are reused and can be counted

    def do_GET(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        with server.lock:
            server.peers.add(self.client_address)
            server.cookies_seen.append(self.headers.get("Cookie"))
        time.sleep(0.02)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/login":
            self.send_header("Set-Cookie", "session=abc123; Path=/")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.peers: set[tuple[str, int]] = set()
        self.cookies_seen: list[str | None] = []


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _client(server: _Server, max_connections: int) -> LmsHttpClient:
    url = f"http://127.0.0.1:{server.server_address[1]}"
    return LmsHttpClient(ClientSettings(base_url=url, max_connections=max_connections), platform="Test")


def test_pool_sizes_split_the_connections_evenly():
    assert _pool_sizes(4) == [4]
    assert _pool_sizes(6) == [3, 3]
    assert _pool_sizes(10) == [4, 3, 3]
    assert sum(_pool_sizes(32)) == 32 and max(_pool_sizes(32)) <= 4


def test_more_threads_than_connections_never_open_more_connections(server: _Server):
    client = _client(server, max_connections=6)
    try:
        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda i: client.request("GET", f"/item/{i}"), range(96)))
    finally:
        client.close()
    assert [a.status_code for a in answers] == [200] * 96
    assert 1 <= len(server.peers) <= 6, server.peers  # one peer (client port) per connection opened


def test_the_pools_share_one_cookie_jar(server: _Server):
    client = _client(server, max_connections=8)  # two pools
    try:
        client.request("GET", "/login")
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: client.request("GET", f"/after/{i}"), range(16)))
    finally:
        client.close()
    assert server.cookies_seen[0] is None
    assert server.cookies_seen[1:] == ["session=abc123"] * 16


def test_a_read_response_leaves_no_cyclic_garbage(server: _Server):
    client = _client(server, max_connections=2)
    try:
        client.request("GET", "/warm-up")
        gc.collect()
        gc.disable()
        try:
            for i in range(50):
                client.request("GET", f"/page/{i}")
            left = gc.collect()
        finally:
            gc.enable()
    finally:
        client.close()
    # Each response used to stay alive in a response <-> stream cycle until a full collection.
    assert left < 50, left

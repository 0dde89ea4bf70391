"""The request deadline and the answer-size limit, over real HTTP against a tiny hostile server on loopback.

The sandbox answers like the platforms do; these answers are what a broken proxy or a hostile host sends:
a body or headers that drip one byte at a time (each read is quick, so httpx's per-read timeout never
fires), and a 50 MB answer with or without a ``Content-Length``.
"""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator

import pytest

from airflow_provider_lms.http import ClientSettings, LmsHttpClient, LmsTransportError
from airflow_provider_lms.http.errors import LmsResponseTooLargeError

FIFTY_MB = 50 * 1024 * 1024
DEFAULT_LIMIT = ClientSettings(base_url="http://x").max_response_bytes
_CHUNK = b"x" * 65536


class _HostileServer:
    """Serves ``/drip-body``, ``/drip-headers``, ``/huge`` (with Content-Length) and ``/huge-chunked``."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.hits: Counter[str] = Counter()
        self._closing = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = conn.recv(65536).decode("latin-1")
                path = request.split(" ", 2)[1]
                self.hits[path] += 1
                if path == "/drip-body":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                    self._drip(conn, b"[" + b"1," * 49999)
                elif path == "/drip-headers":
                    self._drip(conn, b"HTTP/1.1 200 OK\r\n" + b"X-Slow: y\r\n" * 10000)
                elif path == "/huge":
                    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {FIFTY_MB}\r\n\r\n".encode())
                    self._flood(conn)
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    self._flood(conn, chunked=True)
            except OSError:
                return  # the client hung up: what the limits are for

    @staticmethod
    def _drip(conn: socket.socket, data: bytes) -> None:
        for i in range(len(data)):
            conn.sendall(data[i : i + 1])
            time.sleep(0.05)

    @staticmethod
    def _flood(conn: socket.socket, *, chunked: bool = False) -> None:
        # From one small buffer: the server's own memory must not show in the client's measurement.
        frame = b"%x\r\n%s\r\n" % (len(_CHUNK), _CHUNK) if chunked else _CHUNK
        for _ in range(FIFTY_MB // len(_CHUNK)):
            conn.sendall(frame)
        if chunked:
            conn.sendall(b"0\r\n\r\n")

    def close(self) -> None:
        self._closing = True
        self.sock.close()


@pytest.fixture
def hostile() -> Iterator[_HostileServer]:
    server = _HostileServer()
    yield server
    server.close()


def _client(server: _HostileServer, **overrides: object) -> LmsHttpClient:
    settings = ClientSettings(base_url=server.url, backoff_base=0.001, **overrides)  # type: ignore[arg-type]
    return LmsHttpClient(settings, platform="Hostile")


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_a_dripping_answer_ends_at_the_request_deadline(hostile: _HostileServer, path: str) -> None:
    # Each byte comes well within the 5 s read timeout; only the 1 s deadline can end this.
    client = _client(hostile, timeout=5, request_deadline=1.0, max_retries=0)
    started = time.monotonic()
    with pytest.raises(LmsTransportError, match="within the 1s request deadline") as info:
        client.request("GET", path, parse=lambda r: r.json())
    took = time.monotonic() - started
    assert 0.9 <= took < 1.6, took
    assert info.value.kind == "timeout"
    client.close()


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
async def test_a_dripping_answer_ends_at_the_deadline_on_the_async_side_too(hostile: _HostileServer, path: str) -> None:
    client = _client(hostile, timeout=5, request_deadline=1.0, max_retries=0)
    started = time.monotonic()
    with pytest.raises(LmsTransportError, match="within the 1s request deadline"):
        await client.arequest("GET", path, parse=lambda r: r.json())
    assert 0.9 <= time.monotonic() - started < 1.6
    await client.aclose()


def test_a_dripping_answer_is_retried_within_each_attempts_own_deadline(hostile: _HostileServer) -> None:
    client = _client(hostile, timeout=5, request_deadline=0.5, max_retries=2)
    started = time.monotonic()
    with pytest.raises(LmsTransportError):
        client.request("GET", "/drip-body", parse=lambda r: r.json())
    assert time.monotonic() - started < 2.5
    assert hostile.hits["/drip-body"] == 3  # a read is idempotent: three attempts, each cut at 0.5 s
    client.close()


@pytest.mark.parametrize("path", ["/huge", "/huge-chunked"])
def test_a_50mb_answer_is_refused_once_holding_at_most_about_twice_the_limit(
    hostile: _HostileServer, path: str
) -> None:
    client = _client(hostile)  # the default limit, default retries: a GET would be retried if it could heal
    tracemalloc.start()
    try:
        with pytest.raises(LmsResponseTooLargeError, match=rf"{DEFAULT_LIMIT}-byte limit") as info:
            client.request("GET", path, parse=lambda r: r.json())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()
    assert peak < 2 * DEFAULT_LIMIT, f"peak {peak / 2**20:.1f} MiB"
    assert hostile.hits[path] == 1  # downloaded once, not once per retry
    assert "max_response_bytes" in str(info.value) and info.value.limit == DEFAULT_LIMIT


async def test_a_50mb_answer_is_refused_on_the_async_side_too(hostile: _HostileServer) -> None:
    client = _client(hostile, max_response_bytes=5 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(LmsResponseTooLargeError, match="5242880-byte limit"):
            await client.arequest("GET", "/huge-chunked", parse=lambda r: r.json())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await client.aclose()
    assert peak < 2 * 5 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert hostile.hits["/huge-chunked"] == 1

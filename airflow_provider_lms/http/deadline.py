"""A wall-clock deadline per request, and a size limit per answer.

httpx's timeouts bound each single network operation: an answer that drips one byte per second never
trips a 30 s read timeout and can take forever. The client therefore gives every attempt a deadline:

* sync: the connection pool's network backend is wrapped (:class:`DeadlineBackend`) so that every connect,
  read and write waits at most until the deadline of the request running in this thread (a context
  variable), and fails with a timeout once it has passed;
* async: the whole attempt runs under ``asyncio.timeout`` (see ``LmsHttpClient.arequest``).

The body is read in chunks (:func:`read_limited`, :func:`aread_limited`): reading stops as soon as the answer
passes ``max_response_bytes`` (or the deadline), so memory stays at about the limit however large the answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

__all__ = ["DeadlineBackend", "aread_limited", "deadline_transport", "read_limited", "request_deadline"]

_deadline: ContextVar[float | None] = ContextVar("lms_request_deadline", default=None)


@contextmanager
def request_deadline(seconds: float) -> Iterator[float]:
    """Give the network operations inside the block a common deadline ``seconds`` from now (monotonic)."""
    deadline = time.monotonic() + seconds
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def _clamp(timeout: float | None, exc: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current deadline; raise ``exc`` when none is left."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the current request's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._stream.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps httpcore's network backend so that connections honour the request deadline.

    :param inner: the backend that really connects (httpcore's default sync backend).
    """

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _clamp(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, _clamp(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport(**kwargs: Any) -> httpx.HTTPTransport:
    """httpx's own transport (same arguments), with its pool's network backend wrapped in :class:`DeadlineBackend`.

    httpx has no public way to hand its pool a network backend, so the pool's attribute is set after it is
    built. Should a future httpx rename it, requests still end at their deadline between body chunks
    (:func:`read_limited`), only less precisely; ``tests/unit/test_client_limits.py`` notices either way.
    """
    transport = httpx.HTTPTransport(**kwargs)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, DeadlineBackend):
        pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


def _too_large(size: int, limit: int) -> bool:
    return size > limit


def declared_size(response: httpx.Response) -> int | None:
    """The ``Content-Length`` the platform announced, when it announced a plain one."""
    value = response.headers.get("Content-Length")
    if value is None or "content-encoding" in response.headers:
        return None  # a compressed body's length says nothing about what it unpacks to
    try:
        return int(value)
    except ValueError:
        return None


class AnswerTooLarge(Exception):
    """Internal: the body passed the limit (the client turns it into ``LmsResponseTooLargeError``)."""


class DeadlinePassed(Exception):
    """Internal: the deadline passed between two chunks of the body."""


def read_limited(response: httpx.Response, limit: int, deadline: float) -> None:
    """Read a streamed response's body into it, stopping past ``limit`` bytes or after ``deadline``."""
    size = declared_size(response)
    if size is not None and _too_large(size, limit):
        raise AnswerTooLarge(size)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if _too_large(len(body), limit):
            raise AnswerTooLarge(len(body))
        if time.monotonic() > deadline:
            raise DeadlinePassed
    # What httpx's own ``Response.read()`` stores; set here because the body was read under our limits.
    response._content = bytes(body)


async def aread_limited(response: httpx.Response, limit: int) -> None:
    """The async twin of :func:`read_limited` (the deadline is the caller's ``asyncio.timeout``)."""
    size = declared_size(response)
    if size is not None and _too_large(size, limit):
        raise AnswerTooLarge(size)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if _too_large(len(body), limit):
            raise AnswerTooLarge(len(body))
    response._content = bytes(body)

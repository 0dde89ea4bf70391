"""Fault injection for every sandbox platform: latency, rate limits, server errors and broken connections.

The kinds split into two groups, and the split is what a client's retry-safety design is tested against:

* answered **without** processing the request (safe to retry even for non-idempotent calls):
  ``"429"`` (with ``Retry-After: 1``), ``"500"``, ``"502"``, ``"503"``, ``"504"``;
* answered **after** the platform processed the request (a blind retry of a POST duplicates it):
  ``"drop"`` (headers with the real ``Content-Length`` are sent, then the connection is closed before
  the body), ``"timeout"`` (the answer is held back ``timeout_sleep_s`` seconds), ``"truncate"`` (the
  body is cut in half, ``Content-Length`` matches the cut body, so the JSON is invalid) and
  ``"notjson"`` (an HTML error page with status 200, as a misconfigured proxy would send).

The middleware never touches ``/_sandbox/*``: the control API must stay reachable while faults are on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX, ErrorRenderer

FaultKind = Literal["429", "500", "502", "503", "504", "drop", "timeout", "truncate", "notjson"]
ALL_FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
#: Kinds answered before the platform sees the request.
UNPROCESSED_FAULT_KINDS: frozenset[str] = frozenset({"429", "500", "502", "503", "504"})

#: Key in the ASGI scope where the request-log middleware leaves the log entry for this request, so the
#: fault middleware can note which fault it injected.
SCOPE_LOG_ENTRY = "lms_sandbox.log_entry"

_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_NOT_JSON_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Service temporarily unavailable</title></head>"
    "<body><h1>We'll be right back</h1><p>The service is undergoing maintenance "
    "(sandbox fault injection: notjson).</p></body></html>\n"
)

logger = logging.getLogger(__name__)


class FaultConfig(BaseModel):
    """Fault-injection settings (the body of ``PUT /_sandbox/faults``).

    :param latency_ms: Delay added to every matching platform request, in milliseconds.
    :param fault_rate: Probability (0..1) that a matching request gets a fault.
    :param kinds: Fault kinds to choose from (uniformly, with the seeded generator).
    :param path_prefix: Only requests whose path starts with this prefix are affected; ``None`` = all
        platform paths.
    :param seed: Seed of the ``random.Random`` that decides which requests fail and how, so a test run is
        reproducible.
    :param timeout_sleep_s: How long a ``"timeout"`` fault holds the answer back.
    :param max_faults: Stop injecting after this many faults (``None`` = no limit); handy for
        "fail twice, then succeed" retry tests.
    """

    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(default=0.0, ge=0)
    fault_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    kinds: list[FaultKind] = Field(default_factory=list)
    path_prefix: str | None = None
    # ASSUMPTION: seed defaults to 0 (not OS entropy) so that a run without an explicit seed still
    # reproduces.
    seed: int = 0
    timeout_sleep_s: float = Field(default=30.0, ge=0)
    max_faults: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _kinds_needed_for_rate(self) -> FaultConfig:
        if self.fault_rate > 0 and not self.kinds:
            raise ValueError("kinds must name at least one fault kind when fault_rate > 0")
        return self


class FaultInjector:
    """Holds the fault configuration, the seeded random generator and the per-kind counters."""

    def __init__(self) -> None:
        self.config = FaultConfig()
        self._rng = random.Random(self.config.seed)
        self.injected: dict[str, int] = dict.fromkeys(ALL_FAULT_KINDS, 0)

    def configure(self, config: FaultConfig) -> None:
        """Install a new configuration; counters and the generator restart so runs are reproducible."""
        self.config = config
        self._rng = random.Random(config.seed)
        self.injected = dict.fromkeys(ALL_FAULT_KINDS, 0)

    def disable(self) -> None:
        """Switch faults and latency off but keep the counters, so a test can still read them."""
        self.config = FaultConfig()
        self._rng = random.Random(self.config.seed)

    def reset(self) -> None:
        """Back to no faults and zero counters."""
        self.configure(FaultConfig())

    @property
    def injected_total(self) -> int:
        """Number of faults injected since the last ``configure``/``reset``."""
        return sum(self.injected.values())

    def applies_to(self, path: str) -> bool:
        """Whether latency and faults apply to ``path``."""
        if path.startswith(CONTROL_PREFIX):
            return False
        prefix = self.config.path_prefix
        return prefix is None or path.startswith(prefix)

    def draw(self, path: str) -> FaultKind | None:
        """Decide whether this request gets a fault, and which; counts it when it does."""
        cfg = self.config
        if not self.applies_to(path) or cfg.fault_rate <= 0 or not cfg.kinds:
            return None
        if cfg.max_faults is not None and self.injected_total >= cfg.max_faults:
            return None
        if self._rng.random() >= cfg.fault_rate:
            return None
        kind: FaultKind = cfg.kinds[0] if len(cfg.kinds) == 1 else self._rng.choice(cfg.kinds)
        self.injected[kind] += 1
        return kind

    def snapshot(self) -> dict[str, Any]:
        """The configuration plus counters, as served by ``GET /_sandbox/faults``."""
        return {
            **self.config.model_dump(),
            "injected": dict(self.injected),
            "injected_total": self.injected_total,
        }


class InjectedConnectionDrop(Exception):
    """Raised after the response headers went out, so the server closes the connection mid-response."""


class _QuietInjectedDrops(logging.Filter):
    """Hide uvicorn's traceback for drops we caused on purpose; real application errors still log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, InjectedConnectionDrop)


_QUIET_FILTER = _QuietInjectedDrops()


def install_drop_log_filter() -> None:
    """Attach the filter to uvicorn's error logger once (idempotent)."""
    server_logger = logging.getLogger("uvicorn.error")
    if _QUIET_FILTER not in server_logger.filters:
        server_logger.addFilter(_QUIET_FILTER)


def _with_content_length(headers: Sequence[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    kept.append((b"content-length", str(length).encode("ascii")))
    return kept


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _sleep_unless_disconnected(seconds: float, receive: Receive) -> bool:
    """Sleep, but stop early when the client hangs up; returns True if it did."""
    sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
    watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
    done, pending = await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    return watcher in done


class FaultInjectionMiddleware:
    """Pure ASGI middleware that injects latency and faults into platform requests.

    :param app: The wrapped ASGI app.
    :param injector: The ``FaultInjector`` holding the live configuration (read on every request).
    :param error_renderers: ``(path prefix, renderer)`` pairs; an injected 429/5xx is answered with the
        body of the platform whose prefix matches the path.
    """

    def __init__(
        self,
        app: ASGIApp,
        injector: FaultInjector,
        error_renderers: Sequence[tuple[str, ErrorRenderer]] = (),
    ) -> None:
        self.app = app
        self.injector = injector
        self.error_renderers = list(error_renderers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not self.injector.applies_to(path):
            await self.app(scope, receive, send)
            return

        latency_ms = self.injector.config.latency_ms
        if latency_ms > 0:
            await asyncio.sleep(latency_ms / 1000.0)

        kind = self.injector.draw(path)
        if kind is None:
            await self.app(scope, receive, send)
            return

        entry = scope.get(SCOPE_LOG_ENTRY)
        if entry is not None:
            entry["fault"] = kind
        logger.debug("sandbox: injecting fault %s into %s %s", kind, scope.get("method"), path)

        if kind in UNPROCESSED_FAULT_KINDS:
            await self._answer_unprocessed(int(kind), path, scope, receive, send)
            return

        start, body = await self._run_buffered(scope, receive)
        headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
        status: int = start["status"]

        if kind == "drop":
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": _with_content_length(headers, len(body)),
                }
            )
            # Raising (rather than returning) makes the server close the transport at once; the client
            # has the headers and a promised Content-Length, and then sees the connection end.
            raise InjectedConnectionDrop(f"sandbox fault injection: dropped {path} mid-response")

        if kind == "timeout":
            if await _sleep_unless_disconnected(self.injector.config.timeout_sleep_s, receive):
                return
        elif kind == "truncate":
            body = body[: len(body) // 2]
        elif kind == "notjson":
            page = HTMLResponse(_NOT_JSON_PAGE, status_code=200)
            await page(scope, receive, send)
            return

        await send(
            {"type": "http.response.start", "status": status, "headers": _with_content_length(headers, len(body))}
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _answer_unprocessed(self, status: int, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"{_REASONS[status]} (sandbox fault injection)"
        for prefix, render in self.error_renderers:
            if path.startswith(prefix):
                response = render(status, message)
                break
        else:
            response = JSONResponse({"error": message}, status_code=status)
        if status == 429:
            response.headers["Retry-After"] = "1"
        await response(scope, receive, send)

    async def _run_buffered(self, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
        """Let the platform process the request, keeping its answer back so it can be damaged."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start is None:  # pragma: no cover - every route answers
            start = {"type": "http.response.start", "status": 500, "headers": []}
        return start, b"".join(chunks)

"""A bounded log of the requests the sandbox platforms received, for tests to assert on.

Entries hold the method, path, query string, content type, JSON (or form) body, the status answered, the
injected fault if any, and the answer as it went over the wire (``response_content_type``,
``response_body``; what a client could have read, so a dropped answer logs an empty body), which lets a
test replay an exchange through an OpenAPI validator. Headers are never recorded, so an ``Authorization``
header, API key or token cannot leak through ``GET /_sandbox/requests``; credentials that travel in the
query string or a body (an API key parameter such as ``_key``, OAuth2 ``client_secret``, an ``access_token`` answer) are
masked.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX, iso_timestamp, utc_now
from airflow_provider_lms.sandbox.faults import SCOPE_LOG_ENTRY

#: Query/body field names whose values are masked in the log (compared case-insensitively).
SECRET_FIELD_NAMES = frozenset(
    {"_key", "api_key", "apikey", "access_token", "refresh_token", "client_secret", "password", "secret"}
)
MASK = "***"
#: Response bodies longer than this are cut in the log (``response_truncated`` says so).
MAX_LOGGED_RESPONSE_BYTES = 256 * 1024


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if str(k).lower() in SECRET_FIELD_NAMES else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _mask_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(k.lower() in SECRET_FIELD_NAMES for k, _ in pairs):
        return query
    return urlencode([(k, MASK if k.lower() in SECRET_FIELD_NAMES else v) for k, v in pairs])


class RequestLog:
    """A ring buffer of request entries (oldest dropped first).

    :param maxlen: How many entries to keep.
    """

    def __init__(self, maxlen: int = 1000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._seq = 0
        #: Entries pushed out of the buffer since the last clear.
        self.evicted = 0

    @property
    def maxlen(self) -> int:
        """Capacity of the buffer."""
        return self._entries.maxlen or 0

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Add an entry (numbered with ``seq``) and return it, so the caller can fill in the status."""
        if len(self._entries) == self.maxlen:
            self.evicted += 1
        self._seq += 1
        entry["seq"] = self._seq
        self._entries.append(entry)
        return entry

    def entries(self, path_prefix: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """Entries, oldest first, optionally filtered."""
        return [
            dict(e)
            for e in self._entries
            if (path_prefix is None or e["path"].startswith(path_prefix))
            and (method is None or e["method"] == method.upper())
        ]

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self.evicted = 0


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _response_text(content_type: str, body: bytes) -> tuple[str, bool]:
    """The answer's body for the log: masked if it is JSON carrying secrets, cut if huge."""
    truncated = len(body) > MAX_LOGGED_RESPONSE_BYTES
    if truncated:
        return body[:MAX_LOGGED_RESPONSE_BYTES].decode("utf-8", "replace"), True
    text = body.decode("utf-8", "replace")
    if _is_json(content_type) and any(name in text.lower() for name in SECRET_FIELD_NAMES):
        try:
            parsed = json.loads(text)
        except ValueError:
            return text, False
        masked = _mask(parsed)
        if masked != parsed:
            return json.dumps(masked), False
    return text, False


def _decode_body(content_type: str, body: bytes) -> tuple[Any, Any]:
    """Return ``(json, form)``: whichever the body is, masked; ``(None, None)`` for anything else."""
    if not body:
        return None, None
    media = content_type.split(";", 1)[0].strip().lower()
    if _is_json(media):
        try:
            return _mask(json.loads(body)), None
        except ValueError:
            return None, None
    if media == "application/x-www-form-urlencoded":
        form: dict[str, list[str]] = {}
        for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            form.setdefault(key, []).append(value)
        return None, _mask(form)
    return None, None


class RequestLogMiddleware:
    """Pure ASGI middleware that records every platform request into a ``RequestLog``.

    It reads the whole request body first and replays it downstream, so even a request the fault
    middleware answers without processing is logged with its body.

    :param app: The wrapped ASGI app.
    :param log: Where entries go.
    :param clock: Source of the timestamps (the sandbox clock).
    """

    def __init__(self, app: ASGIApp, log: RequestLog, clock: Callable[[], datetime] = utc_now) -> None:
        self.app = app
        self.log = log
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        first_messages: list[Message] = []
        while True:
            message = await receive()
            first_messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        content_type = headers.get("content-type", "")
        json_body, form_body = _decode_body(content_type, body)
        entry = self.log.append(
            {
                "time": iso_timestamp(self.clock()),
                "method": scope.get("method", ""),
                "path": path,
                "query": _mask_query(scope.get("query_string", b"").decode("latin-1")),
                "content_type": content_type or None,
                "json": json_body,
                "form": form_body,
                "status": None,
                "fault": None,
                "response_content_type": None,
                "response_body": None,
                "response_truncated": False,
            }
        )
        scope[SCOPE_LOG_ENTRY] = entry

        replay = list(first_messages)

        async def replay_receive() -> Message:
            if replay:
                return replay.pop(0)
            return await receive()

        response_chunks: list[bytes] = []

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"content-type":
                        entry["response_content_type"] = value.decode("latin-1")
                entry["response_body"] = ""
            elif message["type"] == "http.response.body":
                response_chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    entry["response_body"], entry["response_truncated"] = _response_text(
                        entry["response_content_type"] or "", b"".join(response_chunks)
                    )
            await send(message)

        await self.app(scope, replay_receive, recording_send)

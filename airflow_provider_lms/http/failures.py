"""How a failed exchange is described: the kind of transport failure, and a parser's reason.

Kept apart from the client so that its errors stay readable (and short) and its module small.
"""

from __future__ import annotations

import socket

import httpx

__all__ = ["parse_reason", "transport_kind"]


#: ``socket.gaierror`` numbers meaning the name does not exist (EAI_AGAIN, a resolver hiccup, is not one).
_NO_SUCH_NAME = frozenset(getattr(socket, n) for n in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, n))


def transport_kind(exc: httpx.HTTPError) -> str:
    """What kind of transport failure ``exc`` is (see :class:`LmsTransportError`)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        for _ in range(8):  # httpx -> httpcore -> socket; bounded, as a chain may loop back on itself
            if cause is None:
                break
            if isinstance(cause, socket.gaierror):
                return "dns" if cause.errno in _NO_SUCH_NAME else "refused"
            cause = cause.__cause__ or cause.__context__
        return "refused"
    return "dropped"


#: How much of a parser's reason an error keeps: enough to read, too little to carry a body along.
_REASON_CHARS = 200


def parse_reason(exc: ValueError) -> str:
    """A parser's reason, on one line and truncated: what the platform sent wrong, never the whole body."""
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic: the fields and messages, without the input values they would echo
        try:
            parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'answer'}: {e.get('msg')}" for e in errors()[:3]]
            text = "; ".join(parts)
        except Exception:  # an error type that merely has an errors attribute
            text = str(exc)
    else:
        text = str(exc)
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 3] + "..."

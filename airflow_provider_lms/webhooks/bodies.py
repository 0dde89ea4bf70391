"""Reading and parsing a delivery's body, with every limit a hostile client could test.

A body is read with a size limit (413) and a wall-clock deadline (408), then parsed as strict JSON:
no ``NaN``/``Infinity``, no number that overflows to infinity, no duplicate keys and no nesting deeper
than a limit (all 400). Each of these would otherwise reach the delivery key, the asset event's
``extra`` (which Airflow stores as JSON and cannot hold ``NaN``) or Python's recursion limit, and end
as a 500 instead of a clear refusal.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from starlette.requests import Request

__all__ = ["Rejected", "json_depth", "read_body", "strict_json_object"]


class Rejected(Exception):
    """A delivery refused with ``status`` and a short ``detail`` that never echoes the body or a secret.

    :param status: the HTTP status to answer.
    :param detail: the answer's ``detail``.
    """

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail


async def read_body(request: Request, limit: int, deadline: float) -> bytes:
    """The whole body, at most ``limit`` bytes (else 413) and within ``deadline`` seconds (else 408).

    The deadline is for the whole body, not per chunk: a client that drips one byte a second would pass
    any per-chunk timeout while holding a connection (and a worker slot) for as long as it likes.
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise Rejected(413, f"body larger than {limit} bytes")
        except ValueError:
            raise Rejected(400, "invalid Content-Length") from None
    try:
        return await asyncio.wait_for(_read_counted(request, limit), timeout=deadline)
    except asyncio.TimeoutError:  # Python 3.10: not yet the builtin TimeoutError
        raise Rejected(408, f"body not received within {deadline:g} seconds") from None


async def _read_counted(request: Request, limit: int) -> bytes:
    # Chunked bodies carry no length: count while reading and stop at the limit.
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


#: A JSON string (with escapes) or one bracket: what :func:`json_depth` needs to see, nothing else. The
#: closing quote is optional so that an unterminated string matches to the end instead of failing: a
#: failed match would be retried from every later quote, quadratic in a body of ``"\"\"\"...``.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, counted without recursion.

    Brackets inside strings do not count. Text that is not JSON gets some number; the parser refuses it
    afterwards anyway.
    """
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif piece in ("]", "}"):
            depth -= 1
    return deepest


class _NotStrict(ValueError):
    """Valid for Python's ``json`` but not for strict JSON; the message names what, never a value."""


def _no_constant(name: str) -> Any:
    raise _NotStrict(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotStrict("a number is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # ASSUMPTION: a body with a duplicate key is refused (400). RFC 8259 leaves the meaning open, and two
    # parsers (ours and whatever signed or forwarded the body) may keep different copies; no platform
    # documents sending one, so refusing is the safe reading.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _NotStrict("an object has a duplicate key")
    return result


def strict_json_object(body: bytes, max_depth: int) -> dict[str, Any]:
    """``body`` as a JSON object, strictly (see the module docstring); :class:`Rejected` 400 otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "body is not valid UTF-8 JSON") from None
    # Checked before parsing: json's C parser recurses and would hit the recursion limit first.
    if json_depth(text) > max_depth:
        raise Rejected(400, f"body nests deeper than {max_depth} levels")
    try:
        payload = json.loads(
            text, parse_constant=_no_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
        )
    except _NotStrict as exc:
        raise Rejected(400, f"body is not strict JSON: {exc}") from None
    except ValueError:  # JSONDecodeError, and int() refusing a number of more than 4300 digits
        raise Rejected(400, "body is not valid UTF-8 JSON") from None
    except RecursionError:  # not reachable below the depth limit; a guard should the limit be set huge
        raise Rejected(400, "body nests too deep") from None
    if not isinstance(payload, dict):
        raise Rejected(400, "body must be a JSON object")
    return payload

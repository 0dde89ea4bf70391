"""Relay connections as Pluvo serves them: ``first`` (at most 50), ``after``, ``offset``, ``count``.

Pluvo's pagination page: ``edges { node cursor }``, ``pageInfo { hasNextPage endCursor }``, ``count`` = the
total; ``first`` is at most 50; ``paginated*`` and ``portfolioReport`` take ``offset`` as well, and
``certificates`` takes ``last``/``before``. The rest follows graphene (Pluvo's server library) and the
Relay connection spec: cursors are ``base64("arrayconnection:<index>")`` (opaque to clients), ``offset``
counts from the ``after`` cursor, ``hasNextPage`` is answered when paging forward.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError

__all__ = ["MAX_FIRST", "connection", "decode_cursor", "encode_cursor"]

MAX_FIRST = 50
_PREFIX = "arrayconnection:"


def encode_cursor(index: int) -> str:
    """The opaque cursor of the record at ``index`` in the list."""
    return base64.b64encode(f"{_PREFIX}{index}".encode()).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The index a cursor points at.

    :raises GraphQLError: for a cursor this sandbox did not hand out.
    """
    # ASSUMPTION: graphene silently ignores a cursor it cannot read (the page restarts at the top); the
    # sandbox refuses it instead, so that a client bug that would page forever shows up in tests.
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(cursor)
        return int(text[len(_PREFIX) :])
    except (ValueError, UnicodeError):
        raise GraphQLError(f"Invalid cursor: {cursor!r}") from None


def _limit(name: str, value: int | None, field_name: str, cap: bool) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise GraphQLError(f"Argument `{name}` on the `{field_name}` connection must be non-negative.")
    if value > MAX_FIRST:
        # ASSUMPTION: Pluvo documents the maximum (50) but not what a larger `first` does. The default is
        # graphene-django's answer to a request over its limit (this message); `cap` silently caps it.
        if cap:
            return MAX_FIRST
        raise GraphQLError(
            f"Requesting {value} records on the `{field_name}` connection exceeds the `{name}` limit of "
            f"{MAX_FIRST} records."
        )
    return value


def connection(records: Sequence[Any], args: dict[str, Any], field_name: str, *, cap: bool = False) -> dict[str, Any]:
    """The connection object (``edges``, ``pageInfo``, ``count``) of ``records`` for the field's arguments.

    :param records: The whole filtered list, in its stable order.
    :param args: The field's arguments (``first``, ``after``, ``offset``, ``last``, ``before``).
    :param field_name: The connection field's name, for error messages.
    :param cap: Cap ``first``/``last`` over 50 instead of failing.
    :raises GraphQLError: for a page size over 50 (unless ``cap``), a negative one, or a foreign cursor.
    """
    first = _limit("first", args.get("first"), field_name, cap)
    last = _limit("last", args.get("last"), field_name, cap)
    if first is None and last is None:
        # ASSUMPTION: without a size the page is the maximum (50), as graphene-django pages by its limit.
        first = MAX_FIRST
    lower = decode_cursor(args["after"]) + 1 if args.get("after") else 0
    offset = args.get("offset") or 0
    if offset < 0:
        raise GraphQLError(f"Argument `offset` on the `{field_name}` connection must be non-negative.")
    # ASSUMPTION: as graphene-django, `offset` counts on from the `after` cursor when both are given.
    lower = min(lower + offset, len(records))
    upper = min(decode_cursor(args["before"]), len(records)) if args.get("before") else len(records)
    upper = max(upper, lower)
    start, end = lower, upper
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    edges = [{"node": records[index], "cursor": encode_cursor(index)} for index in range(start, end)]
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": end < upper if first is not None else False,
            "hasPreviousPage": start > lower if last is not None else start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "count": len(records),
    }

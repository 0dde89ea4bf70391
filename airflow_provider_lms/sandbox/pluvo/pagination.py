"""Relay-style pages of a list, as FACTS.md describes Pluvo's: ``first`` (at most 50), ``after``, cursors."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from airflow_provider_lms.sandbox.pluvo.errors import GraphQLError

__all__ = ["MAX_FIRST", "Page", "decode_cursor", "encode_cursor", "page"]

MAX_FIRST = 50

T = TypeVar("T")


def encode_cursor(index: int) -> str:
    """The opaque cursor of the record at ``index`` in the list."""
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """The index a cursor points at; ``-1`` for no cursor (the page starts at the first record).

    :raises GraphQLError: for a cursor this sandbox did not hand out.
    """
    if cursor is None:
        return -1
    try:
        kind, _, number = base64.b64decode(cursor).decode().partition(":")
        if kind != "cursor":
            raise ValueError(cursor)
        return int(number)
    except ValueError:
        raise GraphQLError(f"invalid cursor {cursor!r}") from None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list.

    :param items: ``(index in the whole list, record)`` for each record of the page.
    :param start: Index of the page's first record.
    :param has_next: More records follow the page.
    :param total: Length of the whole list.
    """

    items: list[tuple[int, T]]
    start: int
    has_next: bool
    total: int

    def page_info(self) -> dict[str, Any]:
        """The connection's ``pageInfo`` object."""
        return {
            "hasNextPage": self.has_next,
            "hasPreviousPage": self.start > 0,
            "startCursor": encode_cursor(self.items[0][0]) if self.items else None,
            "endCursor": encode_cursor(self.items[-1][0]) if self.items else None,
        }


def page(records: Sequence[T], first: Any, after: Any) -> Page[T]:
    """The page of ``records`` that ``first`` and ``after`` ask for (``first`` defaults to the maximum).

    :raises GraphQLError: for a ``first`` that is not a non-negative integer of at most 50, or a bad cursor.
    """
    if first is None:
        first = MAX_FIRST
    if not isinstance(first, int) or first < 0:
        raise GraphQLError("'first' must be a non-negative integer")
    if first > MAX_FIRST:
        raise GraphQLError(f"'first' must be at most {MAX_FIRST}, got {first}")
    start = decode_cursor(after) + 1
    items = list(enumerate(records))[start : start + first]
    return Page(items=items, start=start, has_next=start + first < len(records), total=len(records))

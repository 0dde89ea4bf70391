"""Eduframe's cursor pagination: ``per_page`` (max 100), an opaque ``cursor`` and a ``Link`` header.

The cursor is the base64url-encoded last (or, for ``prev``, first) key seen, so a page boundary does not
shift when records are appended while a client pages through. The deprecated ``page`` parameter is still
accepted as plain offset paging.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request

from airflow_provider_lms.sandbox.eduframe.errors import bad_request
from airflow_provider_lms.sandbox.eduframe.params import int_param

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "decode_cursor", "encode_cursor", "paginate", "paginate_ids"]

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100

T = TypeVar("T")


def encode_cursor(payload: dict[str, int]) -> str:
    """``{"after": key}`` or ``{"before": key}`` as an opaque, URL-safe cursor."""
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, int]:
    """The position a cursor of :func:`encode_cursor` holds; anything else is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if (
            isinstance(payload, dict)
            and len(payload) == 1
            and next(iter(payload)) in ("after", "before")
            and isinstance(next(iter(payload.values())), int)
        ):
            return payload
    except (ValueError, binascii.Error):
        pass
    raise bad_request("cursor")


def _page_url(request: Request, cursor: str) -> str:
    """The request's own absolute URL with ``cursor`` swapped; ``page`` goes, other params stay."""
    pairs = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k not in ("cursor", "page")]
    pairs.append(("cursor", cursor))
    return str(request.url.replace(query=urlencode(pairs)))


def _per_page(request: Request) -> int:
    per_page = int_param(request, "per_page")
    if per_page is None:
        per_page = DEFAULT_PER_PAGE
    if per_page < 1:
        raise bad_request("per_page", "must be greater than or equal to 1")
    # ASSUMPTION: per_page above the documented maximum of 100 is clamped to 100, not rejected.
    return min(per_page, MAX_PER_PAGE)


def _links(request: Request, next_after: int | None, prev_before: int | None) -> dict[str, str]:
    links: list[str] = []
    if next_after is not None:
        links.append(f'<{_page_url(request, encode_cursor({"after": next_after}))}>; rel="next"')
    if prev_before is not None:
        links.append(f'<{_page_url(request, encode_cursor({"before": prev_before}))}>; rel="prev"')
    return {"Link": ", ".join(links)} if links else {}


def paginate(request: Request, items: Sequence[T], key: Callable[[T], int]) -> tuple[list[T], dict[str, str]]:
    """Cut one page out of ``items`` (sorted by ``key`` ascending) and build its ``Link`` header."""
    per_page = _per_page(request)

    keys = [key(item) for item in items]
    cursor = request.query_params.get("cursor")
    if cursor:
        position = decode_cursor(cursor)
        if "after" in position:
            start = bisect.bisect_right(keys, position["after"])  # keys are sorted: O(log n) per page
            end = min(start + per_page, len(keys))
        else:
            end = bisect.bisect_left(keys, position["before"])
            start = max(0, end - per_page)
    else:
        # ``page`` is deprecated but still accepted: plain offset paging.
        page = int_param(request, "page") or 1
        if page < 1:
            raise bad_request("page", "must be greater than or equal to 1")
        start = min((page - 1) * per_page, len(keys))
        end = min(start + per_page, len(keys))

    window = list(items[start:end])
    next_after = keys[end - 1] if end < len(keys) and window else None
    prev_before = (keys[start] if start < len(keys) else keys[-1] + 1) if start > 0 else None
    return window, _links(request, next_after, prev_before)


def paginate_ids(
    request: Request, ids: Sequence[int], lookup: Callable[[int], T | None]
) -> tuple[list[T], dict[str, str]] | None:
    """:func:`paginate` over ``[lookup(i) for i in ids]`` without the ``None`` results, built lazily.

    ``ids`` are ascending and are the records' keys. Only the records of the page (and the nearest match on
    either side, for the links) are looked up, so paging through n records costs O(n) in all instead of
    O(n) per page. Returns None for a deprecated ``page`` beyond the first (the caller falls back to
    :func:`paginate`, which counts offsets).
    """
    per_page = _per_page(request)

    def any_match(index: int, step: int) -> int | None:
        """The key of the nearest match at ``index``, ``index + step``, ... within ``ids``, or None."""
        while 0 <= index < len(ids):
            if lookup(ids[index]) is not None:
                return ids[index]
            index += step
        return None

    window: list[T] = []
    keys: list[int] = []
    cursor = request.query_params.get("cursor")
    position = decode_cursor(cursor) if cursor else None
    if position is not None and "before" in position:
        # The last per_page matches before the cursor (ascending); ids[index + 1:end] have been looked at.
        end = bisect.bisect_left(ids, position["before"])
        index = end - 1
        while index >= 0 and len(window) < per_page:
            record = lookup(ids[index])
            if record is not None:
                window.append(record)
                keys.append(ids[index])
            index -= 1
        window.reverse()
        keys.reverse()
        next_after = keys[-1] if window and any_match(end, 1) is not None else None
        prev_before = keys[0] if window and any_match(index, -1) is not None else None
        return window, _links(request, next_after, prev_before)

    if position is None:
        # ``page`` is deprecated but still accepted: plain offset paging (only page 1 is cheap here).
        page = int_param(request, "page") or 1
        if page < 1:
            raise bad_request("page", "must be greater than or equal to 1")
        if page > 1:
            return None
        start = 0
    else:
        start = bisect.bisect_right(ids, position["after"])
    index = start
    while index < len(ids) and len(window) < per_page:
        record = lookup(ids[index])
        if record is not None:
            window.append(record)
            keys.append(ids[index])
        index += 1
    next_after = keys[-1] if window and any_match(index, 1) is not None else None
    prev_before = None
    last_before = any_match(start - 1, -1)
    if last_before is not None:
        prev_before = keys[0] if window else last_before + 1
    return window, _links(request, next_after, prev_before)

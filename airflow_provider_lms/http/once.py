"""Create a record at most once, even when the create request's fate is unknown.

A POST that times out or loses its connection may or may not have been carried out. Sending it
again blindly is how learners get enrolled twice. Instead: look first, create, and after an
ambiguous failure look again before creating again. Every hook's "create" goes through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from airflow_provider_lms.http.client import _recorder
from airflow_provider_lms.http.errors import LmsServerError, LmsTransportError

__all__ = ["create_once"]

T = TypeVar("T")


def create_once(
    find: Callable[[], T | None], create: Callable[[], T], *, attempts: int = 3, already_looked: bool = False
) -> tuple[T, bool]:
    """Return ``(record, created)``: the existing record, or the one this call created.

    :param find: returns the record if it exists (must be a read, safe to repeat).
    :param create: creates the record (not idempotent).
    :param attempts: how many times ``create`` may be sent after ambiguous failures.
    :param already_looked: the caller has just looked and found nothing; skip the first look.
    """
    if not already_looked:
        existing = find()
        if existing is not None:
            return existing, False
    for attempt in range(1, attempts + 1):
        try:
            return create(), True
        except (LmsTransportError, LmsServerError):
            # Unknown outcome: the platform may have created it before failing. Looking again is
            # what makes the next attempt safe.
            recorder = _recorder.get()
            if recorder is not None:
                recorder.record("verify-after-failure")
            existing = find()
            if existing is not None:
                return existing, True
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover

"""How the HTTP core's retries reach the task log (issue 17).

* One hook call on its own: each retry is an INFO line. The line explains why the call took longer
  than usual, and there are only a few of them.
* One item of a bulk run (:class:`~airflow_provider_lms.http.bulk.BulkRunner`): the retry goes to DEBUG. A
  run of 5,000 items whose first answers were 503s used to log 5,000 INFO retry lines and bury the few
  items that really failed. The run counts its retries instead (each item's
  :class:`~airflow_provider_lms.http.client.RetryRecorder`). Its summary line and
  :attr:`BulkSummary.retries <airflow_provider_lms.http.bulk.BulkSummary.retries>` say how many there were
  by reason and how many items needed one, and each item that finally failed gets one WARNING.
* Inside a wait (:func:`~airflow_provider_lms.http.client.quiet_retries`): DEBUG, because the wait logs an
  outage itself, once when it starts and once when it ends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["bulk_item", "current_bulk_item", "log_retry"]

_item: ContextVar[str | None] = ContextVar("lms_bulk_item", default=None)


@contextlib.contextmanager
def bulk_item(label: str) -> Iterator[None]:
    """Mark the block as one item of a bulk run: its retries are logged at DEBUG and name ``label``.

    Enter it in the thread that runs the item. A worker thread of a ``ThreadPoolExecutor`` does not
    inherit the context variables of the thread that made the pool.

    :param label: the item as the DAG author knows it, e.g. ``"subscribe 17"`` (never a secret).
    """
    token = _item.set(label)
    try:
        yield
    finally:
        _item.reset(token)


def current_bulk_item() -> str | None:
    """The label of the bulk item running in this context, or None outside a bulk run."""
    return _item.get()


def log_retry(
    log: logging.Logger,
    *,
    quiet: bool,
    platform: str,
    method: str,
    path: str,
    reason: str,
    attempt: int,
    max_retries: int,
    sleep: float,
) -> None:
    """Log one retry of the HTTP core: at INFO for a single call, at DEBUG in a bulk item or a quiet block.

    :param log: the HTTP core's logger.
    :param quiet: whether a wait asked for quiet retries (``quiet_retries()``).
    :param platform: the platform's display name.
    :param method: the HTTP method.
    :param path: the URL path, without the query string.
    :param reason: why it is retried: the status code, ``"transport"`` or an error class name.
    :param attempt: the attempt that failed, counting from 1.
    :param max_retries: the connection's retry limit, for the "retry n/m" part.
    :param sleep: the seconds until the next attempt.
    """
    item = _item.get()
    level = logging.DEBUG if quiet or item is not None else logging.INFO
    if not log.isEnabledFor(level):
        return
    log.log(
        level,
        "%s%s %s %s failed (%s); retry %d/%d in %.2fs",
        f"{item}: " if item else "",
        platform,
        method,
        path,
        reason,
        attempt,
        max_retries,
        sleep,
    )

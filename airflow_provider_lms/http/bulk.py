"""Bounded-concurrency bulk runs that record an outcome for every item.

A bulk run never stops half-way on one bad item: every item ends as ``done``, ``already_done`` or
``failed`` with its reason, and the summary is JSON (XCom-ready). Item operations are written to be
idempotent (look before you create), so a re-run redoes only what is not done yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, Field

from airflow_provider_lms.http.client import RetryRecorder, recording_retries
from airflow_provider_lms.http.errors import LmsError, LmsTransportError
from airflow_provider_lms.models.results import ItemResult, ItemStatus

__all__ = ["BulkRunner", "BulkSummary", "ItemOutcome"]

T = TypeVar("T")


class _Log(Protocol):
    """Any logger with stdlib-style methods (stdlib, structlog, Airflow's task logger)."""

    def info(self, *args: Any, **kwargs: Any) -> Any: ...
    def warning(self, *args: Any, **kwargs: Any) -> Any: ...


class ItemOutcome(BaseModel):
    """The recorded outcome of one item.

    :param key: the item's identity as the DAG author knows it (e.g. the learner id).
    :param status: done, already_done or failed.
    :param result: JSON-safe details from the operation.
    :param error: why it failed, readable and free of secrets.
    :param retries: retries made for this item, by reason.
    """

    key: str
    status: ItemStatus
    result: Any = None
    error: str | None = None
    retries: dict[str, int] = Field(default_factory=dict)


class BulkSummary(BaseModel):
    """The JSON-serializable summary of a bulk run, returned by operators as XCom.

    :param operation: what was done, e.g. ``"subscribe"``.
    :param total: number of items.
    :param done: items changed by this run.
    :param already_done: items that needed no change.
    :param failed: items that failed after their retries.
    :param retries: retries made across the run, by reason (``"429"``, ``"503"``, ``"transport"``...).
    :param duration_seconds: wall time of the run.
    :param items: every item's outcome, in input order.
    """

    operation: str
    total: int
    done: int
    already_done: int
    failed: int
    retries: dict[str, int]
    duration_seconds: float
    items: list[ItemOutcome]

    def to_xcom(self) -> dict[str, Any]:
        """The summary as plain JSON types."""
        return self.model_dump(mode="json")

    def failures(self) -> list[ItemOutcome]:
        """The outcomes of the failed items."""
        return [i for i in self.items if i.status is ItemStatus.FAILED]

    def results(self) -> dict[str, Any]:
        """Item key to result, for the items that succeeded."""
        return {i.key: i.result for i in self.items if i.status is not ItemStatus.FAILED}

    def describe(self) -> str:
        """One readable line for the task log."""
        retried = ", ".join(f"{n}x {reason}" for reason, n in sorted(self.retries.items())) or "none"
        return (
            f"{self.operation}: {self.total} items, {self.done} done, {self.already_done} already done, "
            f"{self.failed} failed in {self.duration_seconds:.1f}s; retries: {retried}"
        )


def _item_error(exc: BaseException) -> str:
    if isinstance(exc, LmsError):
        return str(exc)
    # Unexpected errors are still recorded per item rather than aborting the run; the type name
    # helps a reader tell a bug from a platform problem.
    return f"{type(exc).__name__}: {exc}"


def _worth_another_pass(exc: BaseException) -> bool:
    return isinstance(exc, LmsTransportError) or (isinstance(exc, LmsError) and exc.retryable)


class BulkRunner:
    """Run one idempotent operation over many items with bounded concurrency.

    :param concurrency: how many items run at once (default 8).
    :param progress_interval: seconds between progress lines in the log (default 10).
    :param item_attempts: how many passes an item that failed with a transient error gets; the
        operation must be idempotent for this to be safe (every provider operation is).
    :param logger: where progress goes; the operator's task logger in practice.
    """

    def __init__(
        self,
        *,
        concurrency: int = 8,
        progress_interval: float = 10.0,
        item_attempts: int = 2,
        logger: _Log | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.progress_interval = progress_interval
        self.item_attempts = max(1, item_attempts)
        self.log: _Log = logger or logging.getLogger("airflow_provider_lms.bulk")

    def run(
        self,
        operation: str,
        items: Sequence[T],
        fn: Callable[[T], ItemResult[Any]],
        key: Callable[[T], str],
    ) -> BulkSummary:
        """Apply ``fn`` to every item and return the summary; never raises for an item's failure."""
        started = time.monotonic()
        total = len(items)
        outcomes: list[ItemOutcome | None] = [None] * total
        counts = {s: 0 for s in ItemStatus}
        lock = threading.Lock()

        def work(index: int) -> None:
            outcome = self._attempt(items[index], fn, key)
            with lock:
                outcomes[index] = outcome
                counts[outcome.status] += 1

        # A fixed set of workers takes the next index from a shared counter, rather than one future per
        # item: waiting on 5,000 futures (FIRST_COMPLETED) after every completion cost O(n) per item, O(n^2)
        # in all, on the thread that holds the GIL the workers need (benchmarks/RESULTS.md).
        next_index = iter(range(total))
        stop = threading.Event()

        def worker() -> None:
            while not stop.is_set():
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                try:
                    work(index)
                except BaseException:
                    stop.set()  # work() records the items' failures; this is our own bug: stop taking items
                    raise

        def progress() -> None:
            with lock:
                finished_n = sum(counts.values())
                failed_n = counts[ItemStatus.FAILED]
            self.log.info(
                "%s: %d/%d (%d%%), %d failed, %.0fs elapsed",
                operation,
                finished_n,
                total,
                100 * finished_n // max(total, 1),
                failed_n,
                time.monotonic() - started,
            )

        self.log.info("%s: starting %d items with concurrency %d", operation, total, self.concurrency)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"lms-{operation}") as pool:
            pending: set[Future[None]] = {pool.submit(worker) for _ in range(min(self.concurrency, total))}
            while pending:
                finished, pending = wait(pending, timeout=self.progress_interval)
                for fut in finished:
                    fut.result()  # surfaces only our own bugs
                if pending:
                    progress()
        return self._summarize(operation, total, [o for o in outcomes if o is not None], counts, started)

    def _attempt(self, item: T, fn: Callable[[T], ItemResult[Any]], key: Callable[[T], str]) -> ItemOutcome:
        """One item's outcome, after another pass when its first failure was transient."""
        recorder = RetryRecorder()
        outcome: ItemOutcome | None = None
        for attempt in range(1, self.item_attempts + 1):
            with recording_retries(recorder):
                try:
                    res = fn(item)
                    outcome = ItemOutcome(key=key(item), status=res.status, result=res.result)
                    break
                except Exception as exc:
                    outcome = ItemOutcome(key=key(item), status=ItemStatus.FAILED, error=_item_error(exc))
                    if attempt < self.item_attempts and _worth_another_pass(exc):
                        recorder.record("item")
                        continue
                    break
        assert outcome is not None
        outcome.retries = dict(recorder.reasons)
        return outcome

    def _summarize(
        self, operation: str, total: int, final: list[ItemOutcome], counts: dict[ItemStatus, int], started: float
    ) -> BulkSummary:
        """The run's summary, logged with its first failures."""
        retries: dict[str, int] = {}
        for o in final:
            for reason, n in o.retries.items():
                retries[reason] = retries.get(reason, 0) + n
        summary = BulkSummary(
            operation=operation,
            total=total,
            done=counts[ItemStatus.DONE],
            already_done=counts[ItemStatus.ALREADY_DONE],
            failed=counts[ItemStatus.FAILED],
            retries=retries,
            duration_seconds=round(time.monotonic() - started, 3),
            items=final,
        )
        self.log.info("%s", summary.describe())
        for failure in summary.failures()[:20]:
            self.log.warning("%s failed for %s: %s", operation, failure.key, failure.error)
        return summary

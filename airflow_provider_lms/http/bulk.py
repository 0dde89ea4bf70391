"""Bounded-concurrency bulk runs that record an outcome for every item.

A bulk run never stops half-way on one bad item: every item ends as ``done``, ``already_done`` or
``failed`` with its reason, and the summary is JSON (XCom-ready). Item operations are written to be
idempotent (look before you create), so a re-run redoes only what is not done yet.

It does stop on an outage: the run's items share one :class:`~airflow_provider_lms.http.breaker.CircuitBreaker`,
and once its circuit opens (a dead platform, a revoked key) the items not started yet end ``not_attempted``
within seconds instead of each spending its own retries. The summary says why (``circuit``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, Field

from airflow_provider_lms.http.breaker import CircuitBreaker, guarded_by
from airflow_provider_lms.http.client import RetryRecorder, recording_retries
from airflow_provider_lms.http.errors import LmsCircuitOpenError, LmsError
from airflow_provider_lms.http.retrylog import bulk_item
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
    :param status: done, already_done, failed or not_attempted.
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
    :param retries: retries made across the run, by reason (``"429"``, ``"503"``, ``"transport"``...; ``"item"``
        counts an item's second pass). The task log has them only here: during a run each retry is a DEBUG line.
    :param retried_items: how many items needed at least one retry.
    :param duration_seconds: wall time of the run.
    :param items: every item's outcome, in input order.
    :param not_attempted: items never tried because the run's circuit had opened (a retry does them).
    :param circuit: why the circuit opened, one line, or None when it stayed closed.
    """

    operation: str
    total: int
    done: int
    already_done: int
    failed: int
    retries: dict[str, int]
    duration_seconds: float
    items: list[ItemOutcome]
    not_attempted: int = 0
    circuit: str | None = None
    retried_items: int = 0

    def to_xcom(self) -> dict[str, Any]:
        """The summary as plain JSON types."""
        return self.model_dump(mode="json")

    def failures(self) -> list[ItemOutcome]:
        """The outcomes of the failed items; the one whose failure opened the circuit comes first."""
        failed = [i for i in self.items if i.status is ItemStatus.FAILED]
        return sorted(failed, key=lambda i: not (i.error or "").endswith(_OPENED_MARK))

    def results(self) -> dict[str, Any]:
        """Item key to result, for the items that succeeded."""
        return {i.key: i.result for i in self.items if i.status in (ItemStatus.DONE, ItemStatus.ALREADY_DONE)}

    def describe(self) -> str:
        """One readable line for the task log."""
        retried = ", ".join(f"{n}x {reason}" for reason, n in sorted(self.retries.items())) or "none"
        if self.retries:
            retried += f" ({self.retried_items} of {self.total} items needed a retry)"
        line = (
            f"{self.operation}: {self.total} items, {self.done} done, {self.already_done} already done, "
            f"{self.failed} failed in {self.duration_seconds:.1f}s; retries: {retried}"
        )
        if self.circuit:
            line += f"; {self.circuit}; {self.not_attempted} items not attempted"
        return line


#: Ends the error of the item whose failure opened the circuit (so that ``failures()`` can name it first).
_OPENED_MARK = "items not attempted]"
#: Marks that item during the run; the summary completes it with the count (``_OPENED_MARK``).
_OPENER = " [this opened the circuit"


def _item_error(exc: BaseException) -> str:
    if isinstance(exc, LmsError):
        return str(exc)
    # Unexpected errors are still recorded per item rather than aborting the run; the type name
    # helps a reader tell a bug from a platform problem.
    return f"{type(exc).__name__}: {exc}"


def _worth_another_pass(exc: BaseException) -> bool:
    # ``retryable``, not "any transport error": an answer over the size limit must not be fetched again.
    return isinstance(exc, LmsError) and exc.retryable


class BulkRunner:
    """Run one idempotent operation over many items with bounded concurrency.

    :param concurrency: how many items run at once (default 8).
    :param progress_interval: seconds between progress lines in the log (default 10).
    :param item_attempts: how many passes an item that failed with a transient error gets; the
        operation must be idempotent for this to be safe (every provider operation is).
    :param logger: where progress goes; the operator's task logger in practice.
    :param breaker_factory: makes the breaker each run's items share (default: a fresh in-process
        :class:`~airflow_provider_lms.http.breaker.CircuitBreaker` per run). A breaker over a store shared by
        workers (issue 18) plugs in here.
    """

    def __init__(
        self,
        *,
        concurrency: int = 8,
        progress_interval: float = 10.0,
        item_attempts: int = 2,
        logger: _Log | None = None,
        breaker_factory: Callable[[], CircuitBreaker] = CircuitBreaker,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self.progress_interval = progress_interval
        self.item_attempts = max(1, item_attempts)
        self.log: _Log = logger or logging.getLogger("airflow_provider_lms.bulk")
        self.breaker_factory = breaker_factory

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
        breaker = self.breaker_factory()
        tripped: list[bool] = []  # becomes non-empty once the circuit's opening has been logged

        def work(index: int) -> None:
            if breaker.is_open:
                # The platform is unreachable or refused the key: this item is left for a retry of the task.
                outcome = ItemOutcome(key=key(items[index]), status=ItemStatus.NOT_ATTEMPTED)
            else:
                outcome = self._attempt(operation, items[index], fn, key, breaker)
            with lock:
                outcomes[index] = outcome
                counts[outcome.status] += 1
                first_trip = breaker.is_open and not tripped
                if first_trip:
                    tripped.append(True)
            if first_trip and breaker.trip_info is not None:
                why = breaker.trip_info.describe()
                self.log.warning("%s: %s; items not started are left for a retry", operation, why)

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
        final = [o for o in outcomes if o is not None]
        return self._summarize(operation, total, final, counts, started, breaker)

    def _attempt(
        self,
        operation: str,
        item: T,
        fn: Callable[[T], ItemResult[Any]],
        key: Callable[[T], str],
        breaker: CircuitBreaker,
    ) -> ItemOutcome:
        """One item's outcome, after another pass when its first failure was transient.

        Runs in a worker thread, which starts with an empty context: the item's retry recorder and its
        ``bulk_item`` mark (retries at DEBUG) are set here, not in :meth:`run`.
        """
        recorder = RetryRecorder()
        outcome: ItemOutcome | None = None
        label = f"{operation} {key(item)}"
        for attempt in range(1, self.item_attempts + 1):
            with recording_retries(recorder), guarded_by(breaker), bulk_item(label):
                try:
                    res = fn(item)
                    outcome = ItemOutcome(key=key(item), status=res.status, result=res.result)
                    break
                except Exception as exc:
                    if isinstance(exc, LmsCircuitOpenError) and outcome is not None:
                        break  # keep the first pass's own reason: this pass was refused by the circuit
                    outcome = ItemOutcome(key=key(item), status=ItemStatus.FAILED, error=_item_error(exc))
                    if isinstance(exc, LmsCircuitOpenError) and not recorder.requests:
                        outcome.status, outcome.error = ItemStatus.NOT_ATTEMPTED, None  # nothing was sent for it
                    if isinstance(exc, LmsError) and exc.opened_circuit:
                        outcome.error = f"{outcome.error}{_OPENER}"
                    if attempt < self.item_attempts and not breaker.is_open and _worth_another_pass(exc):
                        recorder.record("item")
                        continue
                    break
        assert outcome is not None
        outcome.retries = dict(recorder.reasons)
        return outcome

    def _summarize(
        self,
        operation: str,
        total: int,
        final: list[ItemOutcome],
        counts: dict[ItemStatus, int],
        started: float,
        breaker: CircuitBreaker,
    ) -> BulkSummary:
        """The run's summary, logged in one line with its retries, then one warning per failed item."""
        retries: dict[str, int] = {}
        not_attempted = counts[ItemStatus.NOT_ATTEMPTED]
        for o in final:
            for reason, n in o.retries.items():
                retries[reason] = retries.get(reason, 0) + n
            if o.error and o.error.endswith(_OPENER):
                o.error += f": {not_attempted} {_OPENED_MARK}"
        trip = breaker.trip_info
        summary = BulkSummary(
            operation=operation,
            total=total,
            done=counts[ItemStatus.DONE],
            already_done=counts[ItemStatus.ALREADY_DONE],
            failed=counts[ItemStatus.FAILED],
            retries=retries,
            retried_items=sum(1 for o in final if o.retries),
            duration_seconds=round(time.monotonic() - started, 3),
            items=final,
            not_attempted=not_attempted,
            circuit=trip.describe() if trip is not None else None,
        )
        self.log.info("%s", summary.describe())
        # Every failed item, not the first few: the retries that healed are in the summary line, so these
        # warnings are the log's list of what a retry of the task must redo.
        for failure in summary.failures():
            self.log.warning("%s failed for %s: %s", operation, failure.key, failure.error)
        return summary

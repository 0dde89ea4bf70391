"""What every generic LMS operator shares: hook resolution, bulk runs, and honest outcomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from airflow_provider_lms.hooks.base import LmsHook
from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.http.bulk import BulkRunner, BulkSummary
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.models.inputs import NormalizedIds, check_number, check_text, normalize_ids, shown
from airflow_provider_lms.models.results import ItemResult

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LmsBulkOperator"]


class LmsBulkOperator(BaseOperator):
    """Base of the operators that apply one idempotent action to many items.

    Every item's outcome is recorded; the summary is returned (XCom ``return_value``) even when items
    fail, after which the task fails if ``fail_on_item_error`` is set. A retry of the task redoes
    only the items that are not done, because each action looks before it writes.

    :param lms_conn_id: the connection of the platform (its type picks the platform).
    :param concurrency: how many items run at once (default 8).
    :param fail_on_item_error: fail the task when any item failed (default True).
    :param progress_interval: seconds between progress lines in the task log (default 10).
    """

    capability: str = ""
    operation: str = ""
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        lms_conn_id: str,
        concurrency: int = 8,
        fail_on_item_error: bool = True,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lms_conn_id = lms_conn_id
        self.concurrency = concurrency
        self.fail_on_item_error = fail_on_item_error
        self.progress_interval = progress_interval
        #: Inputs merged into another during this run's checks (returned as ``merged``).
        self.merged: dict[str, str] = {}

    def resolve_hook(self) -> LmsHook:
        """The hook for ``lms_conn_id``; operators for one platform narrow it (and refuse other platforms)."""
        return get_lms_hook(self.lms_conn_id)

    @cached_property
    def hook(self) -> LmsHook:
        """The platform hook chosen by the connection's type."""
        return self.resolve_hook()

    def prepare_hook(self) -> LmsHook:
        """Check the concurrency, resolve the hook, check the capability and read the connection.

        No request is sent by this; every bulk operator calls it first in ``execute``.
        """
        if (
            not isinstance(self.concurrency, int)
            or isinstance(self.concurrency, bool)
            or not 1 <= self.concurrency <= 256
        ):
            raise LmsInputError("concurrency", f"must be an integer from 1 to 256, got {shown(self.concurrency)}")
        check_number("progress_interval", self.progress_interval, minimum=0.1, maximum=86400)
        if not isinstance(self.fail_on_item_error, bool):
            raise LmsInputError("fail_on_item_error", f"must be true or false, got {shown(self.fail_on_item_error)}")
        self.merged = {}
        hook = self.hook
        # Platform-specific operators have no capability name: resolve_hook() has already refused other platforms.
        if self.capability:
            hook.require(self.capability)
        # Read the connection here, in the task's own thread, before the bulk runner starts its threads:
        # in a real worker that read goes through the task supervisor, which is safest from one thread.
        # Builds the client only; no request is sent.
        hook.get_conn()
        return hook

    def parse_learners(self, hook: LmsHook, values: Any, field: str = "learner_ids") -> list[str]:
        """A non-empty list of learner ids, each normalised by the platform's rule, then de-duplicated."""
        return self.parse_ids(field, values, hook.parse_learner_id)

    def parse_ids(self, field: str, values: Any, parse: Callable[[str, Any], str]) -> list[str]:
        """A non-empty list of ids checked by ``parse`` and de-duplicated; merged inputs go to ``merged``."""
        normalized: NormalizedIds = normalize_ids(field, values, parse)
        self.merged.update(normalized.merged)
        return normalized.ids

    def checked_options(self, hook: LmsHook, value: Any, **extra: Any) -> dict[str, Any]:
        """``platform_options`` (plus ``extra``) validated by the platform before any request."""
        if value is None:
            options: dict[str, Any] = {}
        elif isinstance(value, dict):
            options = dict(value)
            for key in options:
                check_text("platform_options key", key, max_length=100)
        else:
            raise LmsInputError("platform_options", f"must be a mapping, got {type(value).__name__}")
        options.update({k: v for k, v in extra.items() if v is not None})
        return hook.validate_options(self.capability, options)

    def run_bulk(
        self,
        items: Sequence[Any],
        fn: Callable[[Any], ItemResult[Any]],
        key: Callable[[Any], str],
    ) -> BulkSummary:
        """Run ``fn`` over ``items`` with this operator's concurrency and the task logger."""
        runner = BulkRunner(concurrency=self.concurrency, progress_interval=self.progress_interval, logger=self.log)
        try:
            return runner.run(self.operation, items, fn, key)
        finally:
            self.hook.close()

    def finish(self, context: Context, summary: BulkSummary, **extra_xcoms: Any) -> dict[str, Any]:
        """Push the summary and extra keys, then fail the task if items failed (when asked to)."""
        result = summary.to_xcom()
        result["merged"] = dict(self.merged)
        if self.merged:
            self.log.info("merged duplicate inputs (after normalising): %s", self.merged)
        ti = context["ti"]
        for key, value in extra_xcoms.items():
            ti.xcom_push(key=key, value=value)
        # Items never tried (the circuit opened: platform down, key revoked) fail the task even when item
        # errors may be carried on past, because only a retry of the task will ever try them.
        if (summary.failed and self.fail_on_item_error) or summary.not_attempted:
            ti.xcom_push(key="summary", value=result)
            failures = summary.failures()
            first = f" (first: {failures[0].key}: {failures[0].error})" if failures else ""
            untried = f", {summary.not_attempted} not attempted" if summary.not_attempted else ""
            raise AirflowException(
                f"{summary.failed} of {summary.total} items failed{untried}{first}. "
                "Every outcome is in the XCom 'summary'; a retry redoes only the items not done."
            )
        return result

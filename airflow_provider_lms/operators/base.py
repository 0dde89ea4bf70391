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
from airflow_provider_lms.links import LmsPageLink, page_url
from airflow_provider_lms.models.inputs import NormalizedIds, check_number, check_text, normalize_ids, shown
from airflow_provider_lms.models.results import ItemResult
from airflow_provider_lms.outcomes import task_file_path, write_outcomes

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
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
    :param xcom_items_limit: the most item outcomes the XCom summary carries (default 1,000). A larger run
        writes every outcome to ``outcomes_path`` and keeps only the counts and the failures in XCom;
        :func:`airflow_provider_lms.outcomes.item_outcomes` reads either form.
    :param outcomes_path: where a large run's outcomes go (templated; a path or an object-store URL such as
        ``s3://bucket/lms/{{ run_id }}/{{ ti.task_id }}.jsonl``). Default: a file under
        ``$AIRFLOW_HOME/lms_outcomes/``, which only tasks on the same machine can read: on several
        workers, give an object-store URL.
    """

    capability: str = ""
    operation: str = ""
    ui_color = "#e8f1fb"
    #: A button to the course's page on the platform (when the connection has ``web_url``).
    operator_extra_links = (LmsPageLink(),)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every bulk operator templates ``outcomes_path``, whatever its own template fields are.
        super().__init_subclass__(**kwargs)
        if "outcomes_path" not in cls.template_fields:
            cls.template_fields = (*cls.template_fields, "outcomes_path")

    def __init__(
        self,
        *,
        lms_conn_id: str,
        concurrency: int = 8,
        fail_on_item_error: bool = True,
        progress_interval: float = 10.0,
        xcom_items_limit: int = 1000,
        outcomes_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.xcom_items_limit = xcom_items_limit
        self.outcomes_path = outcomes_path
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
        if (
            not isinstance(self.xcom_items_limit, int)
            or isinstance(self.xcom_items_limit, bool)
            or not 0 <= self.xcom_items_limit <= 100_000
        ):
            raise LmsInputError(
                "xcom_items_limit", f"must be an integer from 0 to 100000, got {shown(self.xcom_items_limit)}"
            )
        if self.outcomes_path is not None:
            check_text("outcomes_path", self.outcomes_path, max_length=2000)
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

    def lms_page_url(self) -> str | None:
        """The platform page of this task's course, for the "LMS page" link; None for operators without one."""
        course = getattr(self, "course_id", None)
        if course in (None, ""):
            return None
        return page_url(self.hook, "course", course_id=self.hook.parse_course_id("course_id", course))

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
        if len(result["items"]) > self.xcom_items_limit:
            result = self._outcomes_to_file(context, result)
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
            where = f"the file {result['outcomes_path']}" if "outcomes_path" in result else "the XCom 'summary'"
            raise AirflowException(
                f"{summary.failed} of {summary.total} items failed{untried}{first}. "
                f"Every outcome is in {where}; a retry redoes only the items not done."
            )
        return result

    def _outcomes_to_file(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        """Move the items' outcomes to a file; keep the counts and (up to the limit) the failures in XCom."""
        # A 5,000-item summary is about 700 KB of XCom, which every downstream read pulls through the
        # metadata database; the file holds it all instead, and the summary names it.
        path = self.outcomes_path or self._default_outcomes_path(context)
        items = result["items"]
        write_outcomes(path, items)
        unfinished = [i for i in items if i["status"] in ("failed", "not_attempted")]
        self.log.info("%d item outcomes written to %s (XCom keeps the counts and the failures)", len(items), path)
        return {
            **result,
            "items": unfinished[: self.xcom_items_limit],
            "items_in_xcom": "failed and not attempted only"
            + (", truncated" if len(unfinished) > self.xcom_items_limit else ""),
            "outcomes_path": path,
        }

    def _default_outcomes_path(self, context: Context) -> str:
        return task_file_path(context["ti"], "lms_outcomes", self.task_id)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """The OpenLineage inputs and outputs of this run: platform datasets named by connection and ids.

        Called by Airflow's OpenLineage provider (when it is installed and configured) after the task ends;
        namespace ``lms://<platform>/<host of the base URL>``, names such as ``course/<course_id>``,
        ``program/<program_id>``, ``learners``, ``members`` (the whole scheme, our own convention, is in
        :mod:`airflow_provider_lms.lineage`). No credential is ever part of it.

        :param task_instance: the finished task instance (unused: the rendered operator has the ids).
        """
        from airflow_provider_lms.lineage import operator_lineage

        return operator_lineage(self)

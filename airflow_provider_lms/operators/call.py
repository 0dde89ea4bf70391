"""``LmsCallOperator``: one call of a platform's generic API, for the operations no typed operator covers.

The connection's type picks the platform and so what ``operation`` means:

==========  ======================================  =====================================================
platform    ``operation``                           arguments
==========  ======================================  =====================================================
Eduframe    an ``operationId`` of the OpenAPI doc   ``path``, ``query``, ``body`` (checked against the
            (``get_users``, ``approve_order_by_id``)  document before any request; lists follow ``Link``)
Pynter      a SOAP method (``GetCatalog``)          ``parameters`` (in order)
Lära        ``<module>/<method>`` (``cycle/getlist``)  ``body``
Pluvo       a GraphQL document                      ``variables``, ``operation_name``
aNewSpring  refused: the hook has no generic call   -
==========  ======================================  =====================================================

The answer is returned as JSON (XCom ``return_value``). A list answer larger than ``max_xcom_items`` items or
``max_xcom_bytes`` bytes of JSON goes to a JSON lines file instead (one item per line) and the XCom holds a
small summary naming the file and the count; an Eduframe list is streamed there page by page, so memory stays
flat however long the list is. A list wrapped in single keys (SOAP's ``{"Planning": [...]}``, GraphQL's
``{"users": {"edges": [...]}}``) counts as a list too; the summary's ``list_at`` names the keys dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsInputError
from airflow_provider_lms.models.inputs import check_text, shown
from airflow_provider_lms.outcomes import task_file_path, write_outcomes

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_lms.hooks.base import LmsHook
    from airflow_provider_lms.hooks.eduframe import EduframeHook

__all__ = ["DEFAULT_MAX_XCOM_BYTES", "DEFAULT_MAX_XCOM_ITEMS", "LmsCallOperator", "read_call_result"]

DEFAULT_MAX_XCOM_ITEMS = 1000
#: 512 KB of JSON: far below the metadata database's XCom limits, and every downstream read pulls it through.
DEFAULT_MAX_XCOM_BYTES = 512 * 1024

#: Which arguments each platform's generic call takes; any other given is a mistake, refused by name.
_ARGUMENTS: dict[str, frozenset[str]] = {
    "eduframe": frozenset({"path", "query", "body"}),
    "pynter": frozenset({"parameters"}),
    "lara": frozenset({"body"}),
    "pluvo": frozenset({"variables", "operation_name"}),
}


def _json_safe(value: Any) -> Any:
    # SOAP answers may carry values json cannot write (Decimal, datetime): as text, what XCom stores anyway.
    return json.loads(json.dumps(value, default=str))


def _encoded(item: Any) -> str:
    return json.dumps(item, separators=(",", ":"), default=str)


def _find_list(answer: Any) -> tuple[str, list[Any] | None]:
    """The list an answer is, or holds under single keys only (``{"Planning": [...]}``, ``{"a": {"edges": [...]}}``).

    Such wrappers are how SOAP and GraphQL answer a list; an answer with several keys has no one list to page out.
    """
    keys: list[str] = []
    while isinstance(answer, Mapping) and len(answer) == 1:
        key, answer = next(iter(answer.items()))
        keys.append(str(key))
    return (".".join(keys), answer) if isinstance(answer, list) else ("", None)


def read_call_result(result: Mapping[str, Any]) -> Iterator[Any]:
    """Yield the items of an ``LmsCallOperator`` list result, whether XCom holds them or names a file.

    :param result: the operator's XCom ``return_value``.
    """
    if not isinstance(result, Mapping) or "output_path" not in result:
        _, items = _find_list(result)
        yield from items or []
        return
    from airflow.sdk import ObjectStoragePath

    with ObjectStoragePath(result["output_path"]).open("r", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


class LmsCallOperator(BaseOperator):
    """Call one operation of the platform's generic API and return its JSON answer.

    :param lms_conn_id: the connection; its type picks the platform (Eduframe, Pynter, Lära or Pluvo).
    :param operation: Eduframe: the ``operationId``; Pynter: the SOAP method; Lära: ``<module>/<method>``;
        Pluvo: the GraphQL document (templated).
    :param path: Eduframe's path parameters, e.g. ``{"id": "{{ params.order_id }}"}`` (templated).
    :param query: Eduframe's query parameters; an array parameter takes a list (templated).
    :param body: the JSON body: Eduframe's request body or Lära's (templated). Templates render to text
        unless the DAG sets ``render_template_as_native_obj=True``; Eduframe's body types are checked exactly.
    :param parameters: Pynter's method parameters, in order (templated).
    :param variables: Pluvo's GraphQL variables (templated).
    :param operation_name: Pluvo: which operation of a document with several.
    :param idempotent: whether a lost answer may be resent; None: the platform hook's rule (Eduframe: GET,
        PUT and DELETE yes, POST and PATCH no; Pynter: its read methods; Pluvo: queries; Lära: yes).
    :param max_xcom_items: a list answer with more items goes to ``output_path`` (default 1,000).
    :param max_xcom_bytes: a list answer with more bytes of JSON goes to ``output_path`` (default 512 KB).
    :param output_path: where a large list goes, as JSON lines (templated; a path or an object-store URL such as
        ``s3://bucket/lms/{{ run_id }}/{{ ti.task_id }}.jsonl``). Default: a file under
        ``$AIRFLOW_HOME/lms_results/<dag>/<run>/``, which only tasks on the same machine can read.
    """

    template_fields = (
        "lms_conn_id",
        "operation",
        "path",
        "query",
        "body",
        "parameters",
        "variables",
        "operation_name",
        "output_path",
    )
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        lms_conn_id: str,
        operation: str,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        parameters: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        idempotent: bool | None = None,
        max_xcom_items: int = DEFAULT_MAX_XCOM_ITEMS,
        max_xcom_bytes: int = DEFAULT_MAX_XCOM_BYTES,
        output_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.lms_conn_id = lms_conn_id
        self.operation = operation
        self.path = path
        self.query = query
        self.body = body
        self.parameters = parameters
        self.variables = variables
        self.operation_name = operation_name
        self.idempotent = idempotent
        self.max_xcom_items = max_xcom_items
        self.max_xcom_bytes = max_xcom_bytes
        self.output_path = output_path

    # -- checks -------------------------------------------------------------------------------------------
    def _check_settings(self) -> None:
        for name, value, top in (
            ("max_xcom_items", self.max_xcom_items, 1_000_000),
            ("max_xcom_bytes", self.max_xcom_bytes, 64 * 1024 * 1024),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise LmsInputError(name, f"must be an integer from 0 to {top}, got {shown(value)}")
        if self.idempotent is not None and not isinstance(self.idempotent, bool):
            raise LmsInputError("idempotent", f"must be true, false or None, got {shown(self.idempotent)}")
        if self.output_path is not None:
            check_text("output_path", self.output_path, max_length=2000)

    def _check_arguments(self, hook: LmsHook) -> None:
        allowed = _ARGUMENTS.get(hook.conn_type, frozenset())
        given = {
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "parameters": self.parameters,
            "variables": self.variables,
            "operation_name": self.operation_name,
        }
        for name, value in given.items():
            if value is not None and name not in allowed:
                takes = ", ".join(sorted(allowed)) or "nothing"
                raise LmsInputError(name, f"is not an argument of {hook.platform}'s generic call (it takes: {takes})")
        for name in ("path", "query", "parameters", "variables"):
            value = given[name]
            if value is not None and not isinstance(value, Mapping):
                raise LmsInputError(name, f"must be a mapping, got {type(value).__name__}")

    # -- running --------------------------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        self._check_settings()
        # The platform hooks are imported when the task runs, not when a DAG file imports this operator: they
        # bring GraphQL, SOAP and four platforms' models, which parsing need not pay for.
        from airflow_provider_lms.hooks.eduframe import EduframeHook
        from airflow_provider_lms.hooks.lara import LaraHook
        from airflow_provider_lms.hooks.pluvo_graphql import PluvoGraphQLHook
        from airflow_provider_lms.hooks.pynter import PynterHook

        hook = get_lms_hook(self.lms_conn_id)
        if not isinstance(hook, EduframeHook | PynterHook | LaraHook | PluvoGraphQLHook):
            raise LmsCapabilityError(
                f"{hook.platform} has no generic call in this provider (connection {self.lms_conn_id!r}); "
                "LmsCallOperator works with Eduframe, Pynter, Lära and Pluvo connections"
            )
        self._check_arguments(hook)
        try:
            if isinstance(hook, EduframeHook):
                return self._eduframe(hook, context)
            answer = self._other(hook)
        finally:
            hook.close()
        at, items = _find_list(answer)
        if items is not None:
            return self._list_result(context, hook, iter([items]), whole=answer, list_at=at)
        self.log.info("%s %s answered", hook.platform, self._label())
        return _json_safe(answer)

    def _label(self) -> str:
        # Pluvo's operation is a whole GraphQL document: the log shows its first line only.
        first = str(self.operation).strip().splitlines()[0] if str(self.operation).strip() else ""
        return first[:80]

    def _eduframe(self, hook: EduframeHook, context: Context) -> Any:
        operation = hook.eduframe_operation(self.operation)
        if operation.returns_list:
            if self.body is not None:
                raise LmsInputError("body", f"{operation.operation_id} ({operation.method}) takes no body")
            pages = hook.iter_call_pages(self.operation, path=self.path, query=self.query)
            return self._list_result(context, hook, pages)
        answer = hook.call(self.operation, path=self.path, query=self.query, body=self.body, idempotent=self.idempotent)
        self.log.info("Eduframe %s answered", operation.operation_id)
        return _json_safe(answer)

    def _other(self, hook: LmsHook) -> Any:
        from airflow_provider_lms.hooks.lara import LaraHook
        from airflow_provider_lms.hooks.pluvo_graphql import PluvoGraphQLHook
        from airflow_provider_lms.hooks.pynter import PynterHook

        if isinstance(hook, PynterHook):
            method = check_text("operation", self.operation, max_length=200)
            params = dict(self.parameters or {})
            for clash in ("method", "idempotent"):
                if clash in params:
                    raise LmsInputError(f"parameters.{clash}", "cannot be passed through call(); use the hook")
            return hook.call(method, idempotent=self.idempotent, **params)
        if isinstance(hook, LaraHook):
            method = check_text("operation", self.operation, max_length=200)
            if self.body is not None and not isinstance(self.body, Mapping):
                raise LmsInputError("body", f"must be a mapping, got {type(self.body).__name__}")
            if self.idempotent is None:
                return hook.call(method, self.body)
            return hook.call(method, self.body, idempotent=self.idempotent)
        if isinstance(hook, PluvoGraphQLHook):
            document = check_text("operation", self.operation, max_length=100_000, multiline=True)
            return hook.query(document, self.variables, operation_name=self.operation_name)
        raise AssertionError(f"unreachable: {type(hook).__name__}")  # pragma: no cover - checked in execute

    def _list_result(
        self,
        context: Context,
        hook: LmsHook,
        pages: Iterable[list[Any]],
        *,
        whole: Any = None,
        list_at: str = "",
    ) -> Any:
        """The answer in XCom while small; past either limit, every item to a JSON lines file and a summary.

        :param whole: the whole answer the list came from (None: the list is the answer).
        :param list_at: where in ``whole`` the list sits (``"Planning"``, ``"paginatedUsers.edges"``).
        """
        held: list[Any] = []
        size = 2  # the brackets
        page_iter = iter(pages)
        for page in page_iter:
            for item in page:
                held.append(item)
                size += len(_encoded(item)) + 1
            if len(held) > self.max_xcom_items or size > self.max_xcom_bytes:
                return self._to_file(context, hook, held, page_iter, list_at)
        self.log.info("%s %s answered %d items", hook.platform, self._label(), len(held))
        return _json_safe(held if whole is None else whole)

    def _to_file(
        self, context: Context, hook: LmsHook, held: list[Any], rest: Iterator[list[Any]], list_at: str = ""
    ) -> dict[str, Any]:
        path = self.output_path or self._default_path(context)

        def items() -> Iterator[Any]:
            yield from (_json_safe(item) for item in held)
            held.clear()  # the first pages need not stay in memory while the rest streams in
            for page in rest:
                yield from (_json_safe(item) for item in page)

        count = write_outcomes(path, items())
        self.log.info("%s %s: %d items written to %s (too large for XCom)", hook.platform, self._label(), count, path)
        summary = {
            "platform": hook.platform,
            "operation": self._label(),
            "count": count,
            "output_path": path,
            "format": "jsonl",
        }
        if list_at:
            summary["list_at"] = list_at  # the answer's wrapper keys, dropped in the file
        return summary

    def _default_path(self, context: Context) -> str:
        # Beside the bulk operators' lms_outcomes/ (see task_file_path for why there).
        return task_file_path(context["ti"], "lms_results", self.task_id)

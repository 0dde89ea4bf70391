"""Every documented Eduframe operation, checked before it is sent, and typed methods for the admin ones.

:class:`EduframeAdminMixin` is one of :class:`~airflow_provider_lms.hooks.eduframe.EduframeHook`'s bases. Its
:meth:`~EduframeAdminMixin.call` reaches any of the 183 operations of the bundled ``eduframe-openapi-v1.json``
by ``operationId``; :mod:`airflow_provider_lms.hooks.eduframe_openapi` checks the call against the document
first, so a typo, a missing or unknown parameter, a wrong type or an unknown enum value is an
:class:`LmsInputError` and no request is sent. The typed methods below are built on it: orders (approve,
deny, cancel), webhooks (update, delete, notifications), meetings and attendance, credit categories.

Replaying failed webhook notifications: the document publishes how to *list* them
(``GET /webhooks/{webhook_id}/notifications/failed``) but no operation that re-sends one, so this module has
none either. :meth:`~EduframeAdminMixin.list_failed_webhook_notifications` returns each failed notification
with its ``data`` (the event body), which a DAG can hand to its own processing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import httpx

from airflow_provider_lms.hooks.eduframe_openapi import Operation, PreparedCall, eduframe_operations
from airflow_provider_lms.http.errors import LmsInputError, LmsNotFoundError, LmsValidationError
from airflow_provider_lms.models.eduframe_admin import (
    AttendanceState,
    EduframeAttendance,
    EduframeCreditCategory,
    EduframeFailedWebhookNotification,
    EduframeMeeting,
    EduframeOrderRecord,
    EduframeWebhookNotification,
)
from airflow_provider_lms.models.results import ItemResult, ItemStatus

if TYPE_CHECKING:
    from airflow_provider_lms.http.client import LmsHttpClient

__all__ = ["IDEMPOTENT_OPERATIONS", "LIST_PER_PAGE", "EduframeAdminMixin"]

#: ``per_page`` sent to a paged list operation unless the caller gives one: the documented maximum.
LIST_PER_PAGE = 100
#: POST operations that may be resent after a lost answer, because repeating them changes nothing.
#: ``POST /attendances/upsert`` sets one attendance to absolute values ("upsert" in its path and summary).
IDEMPOTENT_OPERATIONS = frozenset({"set_attendance"})

M = TypeVar("M")


def _answer(response: httpx.Response) -> Any:
    """The JSON answer, or None for an empty one (``204 No Content``)."""
    if response.status_code == 204 or not response.content.strip():
        return None
    return response.json()


def _renamed(names: Mapping[str, str], exc: LmsInputError) -> LmsInputError:
    """The same error under the typed method's argument name (``order_id`` rather than ``path.id``)."""
    new = names.get(exc.field)
    if new is None:
        return exc
    message = str(exc).removeprefix(f"invalid {exc.field}: ")
    return LmsInputError(new, message)


def _when(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            # A naive moment would be read in the tenant's time zone by some, in UTC by others.
            raise LmsInputError("start/end", f"needs a time zone: {value.isoformat()}")
        return value.isoformat()
    return value


class EduframeAdminMixin:
    """``call()`` for every documented operation, and the typed admin methods. Mixed into ``EduframeHook``."""

    platform: ClassVar[str]

    if TYPE_CHECKING:

        @property
        def client(self) -> LmsHttpClient: ...

    # -- the generic call -----------------------------------------------------------------------------------
    @staticmethod
    def eduframe_operation(operation_id: str) -> Operation:
        """The document's operation for ``operation_id`` (an unknown one names the closest)."""
        return eduframe_operations().operation(operation_id)

    @staticmethod
    def prepare_call(
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> PreparedCall:
        """Check a call against the OpenAPI document and return what would be sent; sends nothing."""
        prepared = eduframe_operations().prepare(operation_id, path=path, query=query, body=body)
        op = prepared.operation
        if (
            op.returns_list
            and "per_page" in op.query_parameters
            and not any(n == "per_page" for n, _ in prepared.query)
        ):
            # The fewest requests per record; the document's own default is 25.
            prepared.query.append(("per_page", str(LIST_PER_PAGE)))
        return prepared

    def call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Call any documented Eduframe operation by its ``operationId``; checked before anything is sent.

        A list operation (a ``GET`` answering a JSON array) is followed through its ``Link`` pages and all
        items are returned (use :meth:`iter_call` to read them lazily); any other returns the JSON answer,
        or None for ``204 No Content``.

        :param operation_id: e.g. ``"get_users"``, ``"approve_order_by_id"`` (see the document's operationIds).
        :param path: the path parameters, e.g. ``{"id": 12}``.
        :param query: the query parameters; an array parameter takes a list. A paged list sends
            ``per_page=100`` unless given.
        :param body: the JSON body of a ``POST``/``PUT``/``PATCH``.
        :param idempotent: whether a lost answer may be resent. Default: the client's rule (``GET``, ``PUT``
            and ``DELETE`` yes, ``POST`` and ``PATCH`` no), plus the upserts of :data:`IDEMPOTENT_OPERATIONS`.
        :raises LmsInputError: the call does not match the document (naming ``path.x``, ``query.x`` or
            ``body.x``); nothing was sent.
        """
        prepared = self.prepare_call(operation_id, path=path, query=query, body=body)
        if prepared.operation.returns_list:
            return [item for page in self._pages(prepared) for item in page]
        return self._send(prepared, idempotent)

    def iter_call(
        self,
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Iterator[Any]:
        """The items of a list operation, one page in memory at a time (checked before the first request)."""
        prepared = self.prepare_call(operation_id, path=path, query=query)
        if not prepared.operation.returns_list:
            raise LmsInputError("operation", f"{operation_id} does not answer a list; use call()")
        return (item for page in self._pages(prepared) for item in page)

    def iter_call_pages(
        self,
        operation_id: str,
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Iterator[list[Any]]:
        """The pages of a list operation as they arrive (checked before the first request)."""
        prepared = self.prepare_call(operation_id, path=path, query=query)
        if not prepared.operation.returns_list:
            raise LmsInputError("operation", f"{operation_id} does not answer a list; use call()")
        return self._pages(prepared)

    def _pages(self, prepared: PreparedCall) -> Iterator[list[Any]]:
        # The client follows Link: rel="next" as given (it carries the cursor and the filters) and stays on
        # the configured host.
        return self.client.iter_link_pages(prepared.url_path.lstrip("/"), list(prepared.query) or None)

    def _send(self, prepared: PreparedCall, idempotent: bool | None) -> Any:
        op = prepared.operation
        if idempotent is None and op.operation_id in IDEMPOTENT_OPERATIONS:
            idempotent = True
        return self.client.request(
            op.method,
            prepared.url_path.lstrip("/"),
            params=list(prepared.query) or None,
            json=prepared.body,
            idempotent=idempotent,
            parse=_answer,
        )

    def _typed(
        self,
        operation_id: str,
        names: Mapping[str, str],
        *,
        path: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """``call()`` whose input errors name the typed method's arguments."""
        try:
            prepared = self.prepare_call(operation_id, path=path, query=query, body=body)
        except LmsInputError as exc:
            raise _renamed(names, exc) from None
        if prepared.operation.returns_list:
            return [item for page in self._pages(prepared) for item in page]
        return self._send(prepared, None)

    def _models(self, model: Callable[[Any], M], records: Any) -> list[M]:
        return [model(record) for record in records or []]

    # -- orders ------------------------------------------------------------------------------------------
    def get_order_record(self, order_id: int | str) -> EduframeOrderRecord:
        """``GET /orders/{id}``: the order with its status (``requested`` until approved or denied)."""
        answer = self._typed("get_order_by_id", {"path.id": "order_id"}, path={"id": order_id})
        return EduframeOrderRecord.model_validate(answer)

    def list_order_records(
        self, *, creator_id: int | str | None = None, created_at_after: datetime | str | None = None
    ) -> list[EduframeOrderRecord]:
        """``GET /orders``, every page (the document has no status filter: filter the records)."""
        query = {"creator_id": creator_id, "created_at_after": _when(created_at_after)}
        names = {"query.creator_id": "creator_id", "query.created_at_after": "created_at_after"}
        return self._models(EduframeOrderRecord.model_validate, self._typed("get_orders", names, query=query))

    def _order_change(
        self,
        order_id: int | str,
        *,
        operation_id: str,
        done: str,
        allowed_from: frozenset[str],
        verb: str,
    ) -> ItemResult[Any]:
        """Look at the order, then change it only if it is not in the target status already."""
        order = self.get_order_record(order_id)
        result = {"order_id": str(order.id), "status": order.status}
        if order.status == done:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)
        if order.status not in allowed_from:
            raise LmsValidationError(
                f"order {order.id} is {order.status}: only a {' or '.join(sorted(allowed_from))} order can be {verb}",
                platform=self.platform,
            )
        answer = self.call(operation_id, path={"id": order.id})
        # deny answers 204 without a body; approve and cancel answer the order.
        status = answer.get("status", done) if isinstance(answer, dict) else done
        return ItemResult(result={"order_id": str(order.id), "status": status})

    def approve_order(self, order_id: int | str) -> ItemResult[Any]:
        """Approve an order placed with ``approve=false`` (``PUT /orders/{id}/approve``), unless it is active.

        :param order_id: the order.
        :raises LmsValidationError: the order was denied or canceled (nothing is sent).
        """
        return self._order_change(
            order_id,
            operation_id="approve_order_by_id",
            done="active",
            allowed_from=frozenset({"requested"}),
            verb="approved",
        )

    def deny_order(self, order_id: int | str) -> ItemResult[Any]:
        """Deny a requested order (``PUT /orders/{id}/deny``), unless it is denied already.

        :param order_id: the order.
        :raises LmsValidationError: the order is active (approve happened: cancel it instead) or canceled.
        """
        return self._order_change(
            order_id,
            operation_id="deny_order_by_id",
            done="denied",
            allowed_from=frozenset({"requested"}),
            verb="denied",
        )

    def cancel_order(self, order_id: int | str) -> ItemResult[Any]:
        """Cancel an order (``PUT /orders/{id}/cancel``), unless it is canceled already.

        :param order_id: the order.
        :raises LmsValidationError: the order was denied (a denied order is final).
        """
        # ASSUMPTION: the document does not say whether a denied order can be canceled; it is treated as
        # final, so a re-run never turns a denial into a cancellation.
        return self._order_change(
            order_id,
            operation_id="cancel_order_by_id",
            done="canceled",
            allowed_from=frozenset({"requested", "active"}),
            verb="canceled",
        )

    # -- webhooks ----------------------------------------------------------------------------------------
    def get_webhook_record(self, webhook_id: str) -> dict[str, Any]:
        """``GET /webhooks/{id}``: the registration as Eduframe answers it."""
        answer = self._typed("get_webhook_by_id", {"path.id": "webhook_id"}, path={"id": webhook_id})
        return dict(answer or {})

    def update_webhook(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        active: bool | None = None,
        events: list[str] | None = None,
    ) -> ItemResult[Any]:
        """``PATCH /webhooks/{id}`` with the fields that differ; nothing is sent when none do.

        :param webhook_id: the webhook (a string id).
        :param url: the new URL.
        :param active: switch deliveries on or off.
        :param events: the new list of events (``WebhookEvent`` values).
        """
        given: dict[str, Any] = {"url": url, "active": active, "events": events}
        wanted = {k: v for k, v in given.items() if v is not None}
        if not wanted:
            raise LmsInputError("update_webhook", "give at least one of url, active, events")
        names = {"path.id": "webhook_id", **{f"body.{k}": k for k in wanted}}
        names.update({f"body.events[{i}]": f"events[{i}]" for i in range(len(events or []))})
        try:  # checked before the first request, the look included
            self.prepare_call("update_webhook_by_id", path={"id": webhook_id}, body=wanted)
        except LmsInputError as exc:
            raise _renamed(names, exc) from None
        current = self.get_webhook_record(webhook_id)
        changes = {k: v for k, v in wanted.items() if current.get(k) != v}
        if "events" in changes and sorted(current.get("events") or []) == sorted(changes["events"]):
            del changes["events"]  # the same events in another order: nothing to change
        if not changes:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result={"webhook_id": webhook_id})
        # A PATCH of absolute values: sending it twice leaves the same webhook, so it may be resent.
        self.call("update_webhook_by_id", path={"id": webhook_id}, body=changes, idempotent=True)
        return ItemResult(result={"webhook_id": webhook_id, "changed": sorted(changes)})

    def delete_webhook(self, webhook_id: str) -> ItemResult[Any]:
        """``DELETE /webhooks/{id}``; a webhook that is gone already is ``already_done``."""
        try:
            self.get_webhook_record(webhook_id)
        except LmsNotFoundError:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result={"webhook_id": webhook_id})
        try:
            self.call("delete_webhook_by_id", path={"id": webhook_id})
        except LmsNotFoundError:
            # A retried DELETE whose first answer was lost: the first one did it.
            return ItemResult(status=ItemStatus.ALREADY_DONE, result={"webhook_id": webhook_id})
        return ItemResult(result={"webhook_id": webhook_id})

    def list_webhook_notifications(self, webhook_id: str) -> list[EduframeWebhookNotification]:
        """``GET /webhooks/{webhook_id}/notifications``: the webhook's notifications with their send attempts."""
        names = {"path.webhook_id": "webhook_id"}
        answer = self._typed("get_webhook_notifications_by_webhook_id", names, path={"webhook_id": webhook_id})
        return self._models(EduframeWebhookNotification.model_validate, answer)

    def list_failed_webhook_notifications(
        self, webhook_id: str, *, start: datetime | str | None = None, end: datetime | str | None = None
    ) -> list[EduframeFailedWebhookNotification]:
        """``GET /webhooks/{webhook_id}/notifications/failed`` (Beta): the notifications Eduframe gave up on.

        The document publishes no operation that re-sends them; hand each one's ``data`` (the event body) to
        the DAG's own processing instead.

        :param webhook_id: the webhook.
        :param start: only those created from this moment (with a time zone).
        :param end: only those created until this moment.
        """
        names = {"path.webhook_id": "webhook_id", "query.start": "start", "query.end": "end"}
        answer = self._typed(
            "get_webhook_notifications_failed",
            names,
            path={"webhook_id": webhook_id},
            query={"start": _when(start), "end": _when(end)},
        )
        return self._models(EduframeFailedWebhookNotification.model_validate, answer)

    # -- meetings and attendance ---------------------------------------------------------------------------
    def list_meetings(
        self,
        *,
        planned_course_id: int | str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
    ) -> list[EduframeMeeting]:
        """``GET /meetings``, every page, optionally of one planned course and within a time window."""
        names = {"query.planned_course_id": "planned_course_id", "query.start": "start", "query.end": "end"}
        query = {"planned_course_id": planned_course_id, "start": _when(start), "end": _when(end)}
        return self._models(EduframeMeeting.model_validate, self._typed("get_meetings", names, query=query))

    def get_meeting(self, meeting_id: int | str) -> EduframeMeeting:
        """``GET /meetings/{id}``."""
        answer = self._typed("get_meeting_by_id", {"path.id": "meeting_id"}, path={"id": meeting_id})
        return EduframeMeeting.model_validate(answer)

    def list_planned_course_meetings(
        self, planned_course_id: int | str, *, sort: list[str] | None = None
    ) -> list[EduframeMeeting]:
        """``GET /planned_courses/{planned_course_id}/meetings``, e.g. ``sort=["start_date_time:asc"]``."""
        names = {"path.planned_course_id": "planned_course_id", "query.sort": "sort"}
        answer = self._typed(
            "get_meetings_by_planned_course_id",
            names,
            path={"planned_course_id": str(planned_course_id)},
            query={"sort": sort},
        )
        return self._models(EduframeMeeting.model_validate, answer)

    def list_attendances(self, *, meeting_id: int | str | None = None) -> list[EduframeAttendance]:
        """``GET /attendances``, every page, optionally of one meeting."""
        answer = self._typed("get_attendances", {"query.meeting_id": "meeting_id"}, query={"meeting_id": meeting_id})
        return self._models(EduframeAttendance.model_validate, answer)

    def set_attendance(
        self, meeting_id: int, enrollment_id: int, state: AttendanceState, *, comment: str | None = None
    ) -> ItemResult[Any]:
        """Record attendance (``POST /attendances/upsert``) unless the meeting's record says so already.

        :param meeting_id: the meeting.
        :param enrollment_id: the learner's enrollment in the meeting's planned course.
        :param state: ``attended``, ``absent``, ``absent_with_leave``, ``late`` or ``blanco``.
        :param comment: an optional note.
        """
        body: dict[str, Any] = {"meeting_id": meeting_id, "enrollment_id": enrollment_id, "state": state}
        if comment is not None:
            body["comment"] = comment
        names = {f"body.{k}": k for k in body}
        try:
            self.prepare_call("set_attendance", body=body)
        except LmsInputError as exc:
            raise _renamed(names, exc) from None
        for record in self.list_attendances(meeting_id=meeting_id):
            if record.enrollment_id == enrollment_id:
                if record.state == state and (comment is None or record.comment == comment):
                    return ItemResult(status=ItemStatus.ALREADY_DONE, result={"attendance_id": str(record.id)})
                break
        answer = self.call("set_attendance", body=body)
        return ItemResult(result={"attendance_id": str(EduframeAttendance.model_validate(answer).id)})

    # -- credit categories ---------------------------------------------------------------------------------
    def list_credit_categories(self) -> list[EduframeCreditCategory]:
        """``GET /credit_categories``, every page, with each category's credit types."""
        return self._models(EduframeCreditCategory.model_validate, self._typed("get_credit_categories", {}))

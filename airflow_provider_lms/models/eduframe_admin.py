"""Eduframe's administrative records (orders, meetings, attendance, credit categories, webhook notifications).

Shapes as ``eduframe-openapi-v1.json`` gives them (``OrderWithIncludes``, ``MeetingWithIncludes``,
``Attendance``, ``CreditCategoryWithIncludes``, ``WebhookNotificationWithIncludes``,
``WebhookNotificationFailed``). Like the other Eduframe models they keep fields we do not read (Eduframe adds
fields over time) and are strict on the ones the flows decide on: ids and statuses.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "AttendanceState",
    "EduframeAttendance",
    "EduframeCreditCategory",
    "EduframeCreditType",
    "EduframeFailedWebhookNotification",
    "EduframeMeeting",
    "EduframeOrderRecord",
    "EduframeWebhookNotification",
    "OrderStatus",
]

#: ``OrderStatus``: an order placed with ``approve=false`` is ``requested`` until approved or denied.
OrderStatus = Literal["active", "canceled", "denied", "requested"]
#: ``AttendanceState``.
AttendanceState = Literal["absent", "absent_with_leave", "attended", "blanco", "late"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class EduframeOrderRecord(_Record):
    """An order with its status (``OrderWithIncludes``)."""

    id: int
    status: OrderStatus
    number: int | None = None
    catalog_variant_id: int | None = None
    creator_id: int | None = None
    account_id: int | None = None
    number_of_students: int | None = None


class EduframeMeeting(_Record):
    """One meeting (session) of a planned course (``MeetingWithIncludes``)."""

    id: int
    planned_course_id: int
    name: str | None = None
    start_date_time: str
    end_date_time: str
    meeting_location_id: int | None = None
    planning_meeting_location_ids: list[int] = []
    planning_attendees: list[dict[str, Any]] = []


class EduframeAttendance(_Record):
    """A learner's attendance of a meeting (``Attendance``): by enrollment, not by user."""

    id: int
    meeting_id: int
    enrollment_id: int
    state: AttendanceState
    comment: str | None = None


class EduframeCreditType(_Record):
    """A credit type within a category (``CreditType``)."""

    id: int
    name: str


class EduframeCreditCategory(_Record):
    """A credit category with its types (``CreditCategoryWithIncludes``)."""

    id: int
    name: str
    types: list[EduframeCreditType] = []


class EduframeWebhookNotification(_Record):
    """One notification of a webhook with its send attempts (``WebhookNotificationWithIncludes``)."""

    id: str
    event_id: str
    status: Literal["pending", "retry", "succeeded", "failed"]
    data: dict[str, Any] = {}
    send_attempts: list[dict[str, Any]] = []


class EduframeFailedWebhookNotification(_Record):
    """A notification Eduframe gave up delivering (``WebhookNotificationFailed``)."""

    id: str
    event_id: str
    webhook_id: str
    status: Literal["failed"]
    data: dict[str, Any] = {}
    created_at: str

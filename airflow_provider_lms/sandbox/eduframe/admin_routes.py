"""Eduframe's admin operations in the sandbox: order approval, meetings, attendance, credit categories and
webhook notifications, as ``eduframe-openapi-v1.json`` documents them.

The routes hang into the Eduframe router through :func:`with_admin_routes` (one line in ``__init__.py``) and
pass the same guard as every other Eduframe route (Bearer key, rate limit, auto-progress). Their data lives
in an :class:`AdminState` beside the platform's state and is reseeded whenever that state is reset.

Seeded with every reset (dates relative to the planned courses' start dates, UTC):

=====================  ====  ====================================================================
record                 id    details
=====================  ====  ====================================================================
meeting                1-2   planned course 1, its two days, 09:00-17:00
meeting                3     planned course 2, its day, 09:00-13:00
credit category        1     "Accreditation points" (types 1 "CPD points", 2 "Ethics points")
credit category        2     "Continuing education" (type 3 "Hours")
=====================  ====  ====================================================================

Attendance records are made by ``POST /attendances/upsert`` (the seed has no enrollments to attend), and
webhook notifications by the control route ``POST /_sandbox/eduframe/webhooks/{webhook_id}/notifications``
(the Eduframe double does not deliver webhooks itself).
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox._common import CONTROL_PREFIX, iso_timestamp
from airflow_provider_lms.sandbox.eduframe import views
from airflow_provider_lms.sandbox.eduframe.errors import EduframeError, bad_request, invalid, not_found
from airflow_provider_lms.sandbox.eduframe.pagination import paginate
from airflow_provider_lms.sandbox.eduframe.params import datetime_param, int_param, list_param
from airflow_provider_lms.sandbox.eduframe.records import EfOrder
from airflow_provider_lms.sandbox.eduframe.routes import EDUFRAME_PREFIX, EduframeResponses
from airflow_provider_lms.sandbox.eduframe.rules import set_enrollment_status
from airflow_provider_lms.sandbox.eduframe.state import EduframeState
from airflow_provider_lms.sandbox.routing import Route, build_router

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["ADMIN_ROUTES", "AdminState", "admin_state", "create_admin_router", "with_admin_routes"]

AttendanceState = Literal["absent", "absent_with_leave", "attended", "blanco", "late"]
NotificationStatus = Literal["pending", "retry", "succeeded", "failed"]

#: The admin endpoints (paths as in the OpenAPI document).
ADMIN_ROUTES: tuple[Route, ...] = (
    Route("PUT", "/orders/{order_id}/approve", "approve_order"),
    Route("PUT", "/orders/{order_id}/deny", "deny_order", status_code=204),
    Route("PUT", "/orders/{order_id}/cancel", "cancel_order"),
    Route("GET", "/meetings", "list_meetings"),
    Route("GET", "/meetings/{meeting_id}", "get_meeting"),
    Route("GET", "/planned_courses/{planned_course_id}/meetings", "list_planned_course_meetings"),
    Route("GET", "/attendances", "list_attendances"),
    Route("POST", "/attendances/upsert", "upsert_attendance"),
    Route("GET", "/credit_categories", "list_credit_categories"),
    Route("GET", "/webhooks/{webhook_id}/notifications", "list_notifications"),
    Route("GET", "/webhooks/{webhook_id}/notifications/failed", "list_failed_notifications"),
)


# -- records ------------------------------------------------------------------------------------------------


@dataclass
class Meeting:
    """A meeting of a planned course (``Meeting``)."""

    id: int
    planned_course_id: int
    name: str
    start: datetime
    end: datetime
    created_at: datetime


@dataclass
class Attendance:
    """One enrollment's attendance of one meeting (``Attendance``)."""

    id: int
    meeting_id: int
    enrollment_id: int
    state: AttendanceState
    comment: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class Notification:
    """A notification of a webhook (``WebhookNotificationWithIncludes``); ``seq`` orders them for paging."""

    id: str
    seq: int
    webhook_id: str
    event_id: str
    event: str
    data: dict[str, Any]
    status: NotificationStatus
    attempts: list[dict[str, Any]]
    created_at: datetime


@dataclass
class AdminState:
    """The admin tables of one Eduframe state; rebuilt (reseeded) when that state is reset."""

    generation: object
    meetings: dict[int, Meeting] = field(default_factory=dict)
    attendances: dict[int, Attendance] = field(default_factory=dict)
    credit_categories: list[tuple[int, str, list[tuple[int, str]]]] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    last_ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        """The next id of ``table`` (from 1 after every reset)."""
        self.last_ids[table] = self.last_ids.get(table, 0) + 1
        return self.last_ids[table]


_STATES: weakref.WeakKeyDictionary[EduframeState, AdminState] = weakref.WeakKeyDictionary()


def _seed(ef: EduframeState) -> AdminState:
    admin = AdminState(generation=ef.users)
    now = ef.clock()
    for pc_id, days, hours in ((1, 2, 8), (2, 1, 4)):
        pc = ef.planned_courses.get(pc_id)
        if pc is None or pc.start_date is None:  # pragma: no cover - the demo seed has both
            continue
        for day in range(days):
            start = datetime.combine(pc.start_date + timedelta(days=day), time(9), tzinfo=timezone.utc)
            meeting_id = admin.next_id("meetings")
            admin.meetings[meeting_id] = Meeting(
                meeting_id, pc_id, f"Day {day + 1}", start, start + timedelta(hours=hours), now
            )
    admin.credit_categories = [
        (1, "Accreditation points", [(1, "CPD points"), (2, "Ethics points")]),
        (2, "Continuing education", [(3, "Hours")]),
    ]
    return admin


def admin_state(ef: EduframeState) -> AdminState:
    """The admin tables of ``ef``, seeded on first use and again after every ``ef.reset()``."""
    admin = _STATES.get(ef)
    # reset() builds new tables; the users dict standing for them tells a reset state from the one seeded.
    if admin is None or admin.generation is not ef.users:
        admin = _STATES[ef] = _seed(ef)
    return admin


# -- views --------------------------------------------------------------------------------------------------


def _meeting_json(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "planned_course_id": m.planned_course_id,
        "start_date_time": iso_timestamp(m.start),
        "end_date_time": iso_timestamp(m.end),
        "description": None,
        "description_dashboard": None,
        "meeting_location_id": None,
        "planning_meeting_location_ids": [],
        "planning_attendees": [],
        "planning_materials": [],
        "updated_at": iso_timestamp(m.created_at),
        "created_at": iso_timestamp(m.created_at),
    }


def _attendance_json(a: Attendance) -> dict[str, Any]:
    return {
        "id": a.id,
        "meeting_id": a.meeting_id,
        "enrollment_id": a.enrollment_id,
        "state": a.state,
        "comment": a.comment,
        "updated_at": iso_timestamp(a.updated_at),
        "created_at": iso_timestamp(a.created_at),
    }


def _notification_json(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "event_id": n.event_id, "data": n.data, "status": n.status, "send_attempts": n.attempts}


def _failed_json(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "event_id": n.event_id,
        "webhook_id": n.webhook_id,
        "data": n.data,
        "status": "failed",
        "created_at": iso_timestamp(n.created_at),
    }


# -- bodies -------------------------------------------------------------------------------------------------


class AttendanceUpsert(BaseModel):
    """``POST /attendances/upsert`` body (unknown fields are ignored, as elsewhere in the double)."""

    model_config = ConfigDict(extra="ignore")

    meeting_id: int
    enrollment_id: int
    state: AttendanceState | None = None
    comment: str | None = None


class NotificationsSeed(BaseModel):
    """Control body: notifications to add to a webhook, as if Eduframe had tried to deliver an event."""

    event: str = "enrollment.updated"
    status: NotificationStatus = "failed"
    count: int = Field(default=1, ge=1, le=10_000)
    data: dict[str, Any] | None = None


# -- the endpoints ------------------------------------------------------------------------------------------


class EduframeAdminResponses:
    """One method per route of :data:`ADMIN_ROUTES`.

    :param ef: the Eduframe state (orders, enrollments, planned courses, webhooks).
    """

    def __init__(self, ef: EduframeState) -> None:
        self.ef = ef

    @property
    def admin(self) -> AdminState:
        """This state's admin tables."""
        return admin_state(self.ef)

    # -- orders ---------------------------------------------------------------------------------------
    def _end_order(self, order: EfOrder) -> None:
        """A denied or canceled order takes its enrollments with it."""
        # ASSUMPTION: the document does not say what denying or canceling does to the order's enrollments;
        # they are canceled (completed ones stay: a finished course cannot be undone).
        for enrollment in list(self.ef.enrollments.values()):
            if enrollment.order_id == order.id and enrollment.status not in ("canceled", "completed"):
                set_enrollment_status(self.ef, enrollment.id, "canceled")
        for pe in self.ef.program_enrollments.values():
            if pe.order_id == order.id and pe.state != "canceled":
                pe.state = "canceled"
                pe.updated_at = self.ef.clock()

    async def approve_order(self, order_id: int) -> JSONResponse:
        order = self.ef.order(order_id)
        # ASSUMPTION: approving an active order again answers it unchanged (a PUT); a denied or canceled one is 422.
        if order.status in ("denied", "canceled"):
            raise invalid({"status": [f"cannot approve a {order.status} order"]})
        if order.status == "requested":
            order.status = "active"
            order.updated_at = self.ef.clock()
        return JSONResponse(views.order_json(order))

    async def deny_order(self, order_id: int) -> Response:
        order = self.ef.order(order_id)
        # ASSUMPTION: only a requested order can be denied (an approved one is canceled instead); denying
        # twice is harmless.
        if order.status in ("active", "canceled"):
            raise invalid({"status": [f"cannot deny an order that is {order.status}"]})
        if order.status == "requested":
            order.status = "denied"
            order.updated_at = self.ef.clock()
            self._end_order(order)
        return Response(status_code=204)

    async def cancel_order(self, order_id: int) -> JSONResponse:
        order = self.ef.order(order_id)
        # ASSUMPTION: a denied order is final (422); canceling twice is harmless.
        if order.status == "denied":
            raise invalid({"status": ["cannot cancel a denied order"]})
        if order.status != "canceled":
            order.status = "canceled"
            order.updated_at = self.ef.clock()
            self._end_order(order)
        return JSONResponse(views.order_json(order))

    # -- meetings -------------------------------------------------------------------------------------
    def _meetings_in(self, request: Request, planned_course_id: int | None) -> list[Meeting]:
        tz = self.ef.clock().tzinfo
        start, end = datetime_param(request, "start", tz), datetime_param(request, "end", tz)
        # ASSUMPTION: start/end select the meetings that overlap the window.
        return [
            m
            for m in sorted(self.admin.meetings.values(), key=lambda m: m.id)
            if (planned_course_id is None or m.planned_course_id == planned_course_id)
            and (start is None or m.end >= start)
            and (end is None or m.start <= end)
        ]

    async def list_meetings(self, request: Request) -> JSONResponse:
        found = self._meetings_in(request, int_param(request, "planned_course_id"))
        window, headers = paginate(request, found, lambda m: m.id)
        return JSONResponse([_meeting_json(m) for m in window], headers=headers)

    async def get_meeting(self, meeting_id: int) -> JSONResponse:
        meeting = self.admin.meetings.get(meeting_id)
        if meeting is None:
            raise not_found("Planning::Meeting", meeting_id)
        return JSONResponse(_meeting_json(meeting))

    _SORTS: dict[str, Callable[[Meeting], Any]] = {
        "start_date_time": lambda m: m.start,
        "name": lambda m: m.name,
    }

    async def list_planned_course_meetings(self, request: Request, planned_course_id: str) -> JSONResponse:
        if not planned_course_id.isdigit():
            raise not_found("PlannedCourse", planned_course_id)
        pc = self.ef.planned_course(int(planned_course_id))
        meetings = [m for m in sorted(self.admin.meetings.values(), key=lambda m: m.id) if m.planned_course_id == pc.id]
        # The document gives this list no cursor: the whole list in one answer, sorted as asked.
        for sort in reversed(list_param(request, "sort")):
            name, _, direction = sort.partition(":")
            if name not in self._SORTS or direction not in ("asc", "desc"):
                raise bad_request("sort", "must be start_date_time or name, with :asc or :desc")
            meetings.sort(key=self._SORTS[name], reverse=direction == "desc")
        return JSONResponse([_meeting_json(m) for m in meetings])

    # -- attendance -----------------------------------------------------------------------------------
    async def list_attendances(self, request: Request) -> JSONResponse:
        meeting_id = int_param(request, "meeting_id")
        found = [
            a
            for a in sorted(self.admin.attendances.values(), key=lambda a: a.id)
            if meeting_id is None or a.meeting_id == meeting_id
        ]
        window, headers = paginate(request, found, lambda a: a.id)
        return JSONResponse([_attendance_json(a) for a in window], headers=headers)

    async def upsert_attendance(self, body: AttendanceUpsert) -> JSONResponse:
        admin = self.admin
        meeting = admin.meetings.get(body.meeting_id)
        errors: dict[str, list[str]] = {}
        if meeting is None:
            errors["meeting_id"] = ["must exist"]
        enrollment = self.ef.enrollments.get(body.enrollment_id)
        if enrollment is None:
            errors["enrollment_id"] = ["must exist"]
        elif meeting is not None and enrollment.planned_course_id != meeting.planned_course_id:
            errors["enrollment_id"] = ["is not an enrollment of the meeting's planned course"]
        if errors:
            raise invalid(errors)
        now = self.ef.clock()
        existing = next(
            (
                a
                for a in admin.attendances.values()
                if a.meeting_id == body.meeting_id and a.enrollment_id == body.enrollment_id
            ),
            None,
        )
        sent = body.model_fields_set
        if existing is None:
            # ASSUMPTION: a new record without a state is "blanco" (nothing recorded yet).
            existing = Attendance(
                admin.next_id("attendances"),
                body.meeting_id,
                body.enrollment_id,
                body.state or "blanco",
                body.comment,
                now,
                now,
            )
            admin.attendances[existing.id] = existing
        else:
            if body.state is not None:
                existing.state = body.state
            if "comment" in sent:
                existing.comment = body.comment
            existing.updated_at = now
        return JSONResponse(_attendance_json(existing))

    # -- credit categories ----------------------------------------------------------------------------
    async def list_credit_categories(self, request: Request) -> JSONResponse:
        categories = self.admin.credit_categories
        window, headers = paginate(request, categories, lambda c: c[0])
        body = [
            {"id": cid, "name": name, "types": [{"id": t, "name": n} for t, n in types]} for cid, name, types in window
        ]
        return JSONResponse(body, headers=headers)

    # -- webhook notifications ------------------------------------------------------------------------
    def _notifications(self, webhook_id: str) -> list[Notification]:
        self.ef.webhook(webhook_id)  # 404 for an unknown webhook
        return [n for n in self.admin.notifications if n.webhook_id == webhook_id]

    async def list_notifications(self, webhook_id: str) -> JSONResponse:
        # The document gives this list no cursor or per_page: all of them in one answer.
        return JSONResponse([_notification_json(n) for n in self._notifications(webhook_id)])

    async def list_failed_notifications(self, request: Request, webhook_id: str) -> JSONResponse:
        tz = self.ef.clock().tzinfo
        start, end = datetime_param(request, "start", tz), datetime_param(request, "end", tz)
        failed = [
            n
            for n in self._notifications(webhook_id)
            if n.status == "failed"
            and (start is None or n.created_at >= start)
            and (end is None or n.created_at <= end)
        ]
        window, headers = paginate(request, failed, lambda n: n.seq)
        return JSONResponse([_failed_json(n) for n in window], headers=headers)

    # -- control --------------------------------------------------------------------------------------
    def seed_notifications(self, webhook_id: str, body: NotificationsSeed) -> list[str]:
        """Add ``body.count`` notifications of ``body.event`` to the webhook; return their ids."""
        webhook = self.ef.webhook(webhook_id)
        admin = self.admin
        now = self.ef.clock()
        made = []
        for _ in range(body.count):
            seq = admin.next_id("notifications")
            event_id = str(uuid.UUID(int=seq))
            data = body.data or {
                "tenant_id": "sandbox",
                "educator": "sandbox-academy",
                "event": body.event,
                "event_data": {"id": seq},
            }
            # Failed deliveries record the receiver's answers: five attempts, the retries Eduframe makes.
            tries = 5 if body.status == "failed" else (1 if body.status != "pending" else 0)
            status_code = 200 if body.status == "succeeded" else 500
            attempts = [
                {
                    "response": "OK" if status_code == 200 else "Internal Server Error",
                    "status_code": status_code,
                    "created_at": iso_timestamp(now),
                }
                for _ in range(tries)
            ]
            note = Notification(
                id=str(uuid.UUID(int=2**64 + seq)),
                seq=seq,
                webhook_id=webhook.id,
                event_id=event_id,
                event=body.event,
                data=data,
                status=body.status,
                attempts=attempts,
                created_at=now,
            )
            admin.notifications.append(note)
            made.append(note.id)
        return made


def create_admin_router(sandbox_state: SandboxState) -> APIRouter:
    """The admin routes (under ``/eduframe/api/v1``) and their control route (under ``/_sandbox``).

    :param sandbox_state: the shared sandbox state.
    """
    ef = sandbox_state.platform("eduframe")
    responses = EduframeAdminResponses(ef)
    guard = EduframeResponses(ef).guard
    router = APIRouter()
    router.include_router(
        build_router(ADMIN_ROUTES, responses, prefix=EDUFRAME_PREFIX, tags=["eduframe"], dependencies=[Depends(guard)])
    )

    @router.post(f"{CONTROL_PREFIX}/eduframe/webhooks/{{webhook_id}}/notifications", tags=["sandbox control: eduframe"])
    async def seed_webhook_notifications(webhook_id: str, body: NotificationsSeed | None = None) -> dict[str, Any]:
        try:
            ids = responses.seed_notifications(webhook_id, body or NotificationsSeed())
        except EduframeError as exc:
            return JSONResponse({"detail": exc.message}, status_code=exc.status)  # type: ignore[return-value]
        return {"webhook_id": webhook_id, "notification_ids": ids}

    return router


def with_admin_routes(factory: Callable[[SandboxState], APIRouter]) -> Callable[[SandboxState], APIRouter]:
    """Wrap the Eduframe router factory so that its router also serves :data:`ADMIN_ROUTES`."""

    def build(sandbox_state: SandboxState) -> APIRouter:
        router = APIRouter()
        router.include_router(factory(sandbox_state))
        router.include_router(create_admin_router(sandbox_state))
        return router

    return build

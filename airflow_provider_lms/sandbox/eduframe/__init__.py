"""The Eduframe double: an in-memory Eduframe REST API v1 under ``/eduframe/api/v1``.

Paths, methods, parameters and response bodies follow the public OpenAPI document
(``eduframe-openapi-v1.json``); behaviour the documents leave open is marked ``# ASSUMPTION:``.

Auth is ``Authorization: Bearer <key>`` (default key ``sandbox-eduframe-key``); every error answers
``{"errors": {...}, "code": <status>, "message": "..."}``; lists are cursor-paginated with a ``Link``
header; each token may make 500 requests per 300 s (sliding window) before it gets 429 + ``Retry-After``.

Seeded demo data (identical after every reset; dates are relative to the reset day, UTC):

=========================  ====  =============================================================
record                     id    details
=========================  ====  =============================================================
educator                   1     "Sandbox Academy" (``GET /educators/current``)
user (admin)               1     admin@sandbox.example, order creator and grader
users (learners)           2-6   anna.devries@, bram.jansen@, chloe.bakker@, daan.visser@,
                                 eva.smit@ (all ``@sandbox.example``)
course                     1     "Workplace Safety"
course                     2     "First Aid at Work"
planned course             1     course 1, FixedPlannedCourse, starts in 14 days, 2 days, max 20
planned course             2     course 2, FixedPlannedCourse, starts in 30 days, 1 day, max 12
planned course             3     course 2, FlexiblePlannedCourse, started 7 days ago, 60 days, active
catalog variant            1     PlannedCourse 1 (product 1)
catalog variant            2     PlannedCourse 2 (product 2)
catalog variant            3     PlannedCourse 3 (product 2)
program                    1     "Certified Safety Officer"
program edition            1     program 1, contains planned course 1
catalog variant            4     Program::Edition 1 (product 3)
certificate template       1     "Certified Safety Officer certificate"
credits                    1-3   learner 2: 2.0 and 1.5; learner 3: 4.0 (course 1)
=========================  ====  =============================================================

No enrollments, orders, grades, program enrollments or webhooks are seeded: learners start
un-enrolled, so a DAG has to look them up and order. Ids count up per table: new users start at 7,
the first order, enrollment, program enrollment and grade created after a reset each get id 1.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from airflow_provider_lms.sandbox._common import PlatformMount, SandboxHTTPError, iso_date, iso_timestamp, utc_now

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState

EDUFRAME_PREFIX = "/eduframe/api/v1"
EDUFRAME_SANDBOX_API_KEY = "sandbox-eduframe-key"
#: FACTS.md: 500 requests per 5 minutes per token.
DEFAULT_RATE_LIMIT_REQUESTS = 500
DEFAULT_RATE_LIMIT_SECONDS = 300.0
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100

EnrollmentStatus = Literal["confirmed", "active", "canceled", "completed"]
GraduationState = Literal["awaiting_judgement", "failed", "passed"]
Locale = Literal["de", "en", "en-GB", "en-US", "es", "is", "nl"]

GRADEABLE_ENROLLMENT = "Enrollment"
GRADEABLE_PROGRAM_ENROLLMENT = "Program::Enrollment"
# ASSUMPTION: the spec only says gradeable_type is e.g. "Enrollment" ("enrollment / ..."); these spellings
# are accepted and normalised to the two model names the sandbox can grade.
_GRADEABLE_ALIASES = {
    "enrollment": GRADEABLE_ENROLLMENT,
    "program::enrollment": GRADEABLE_PROGRAM_ENROLLMENT,
    "programenrollment": GRADEABLE_PROGRAM_ENROLLMENT,
    "program_enrollment": GRADEABLE_PROGRAM_ENROLLMENT,
}
_VARIANTABLE_TYPE_FILTER = {"planned_course": "PlannedCourse", "program_edition": "Program::Edition"}

# The WebhookEvent enum of the OpenAPI document, grouped by resource.
_CRUD = ("created", "deleted", "updated")
_WEBHOOK_EVENT_ACTIONS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "account",
            "catalog_variant",
            "category",
            "course",
            "course_location",
            "course_variant",
            "custom_field_option",
            "custom_record",
            "educator",
            "enrollment",
            "invoice",
            "invoice_vat",
            "label",
            "lead",
            "meeting_location",
            "payment",
            "product",
            "program",
            "program_edition",
            "teacher",
            "teacher_role",
        ),
        _CRUD,
    ),
    "meeting": (*_CRUD, "teacher_attendees_changed"),
    "planning_event": (*_CRUD, "teacher_attendees_changed"),
    "planned_course": (*_CRUD, "canceled", "teacher_attendees_changed"),
    "order": (*_CRUD, "approved", "canceled", "denied"),
    "program_enrollment": ("cancel", "created", "graduation_revoked", "pass", "updated"),
    "user": (*_CRUD, "merged"),
}
WEBHOOK_EVENTS = frozenset(
    f"{resource}.{action}" for resource, actions in _WEBHOOK_EVENT_ACTIONS.items() for action in actions
)

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EduframeSeed:
    """Ids of the seeded demo data; identical after every reset (see the module docstring)."""

    EDUCATOR_ID = 1
    ADMIN_USER_ID = 1
    ADMIN_EMAIL = "admin@sandbox.example"
    LEARNER_IDS = (2, 3, 4, 5, 6)
    LEARNER_EMAILS = (
        "anna.devries@sandbox.example",
        "bram.jansen@sandbox.example",
        "chloe.bakker@sandbox.example",
        "daan.visser@sandbox.example",
        "eva.smit@sandbox.example",
    )
    WORKPLACE_SAFETY_COURSE_ID = 1
    FIRST_AID_COURSE_ID = 2
    WORKPLACE_SAFETY_PLANNED_COURSE_ID = 1
    FIRST_AID_PLANNED_COURSE_ID = 2
    FIRST_AID_FLEXIBLE_PLANNED_COURSE_ID = 3
    WORKPLACE_SAFETY_VARIANT_ID = 1
    FIRST_AID_VARIANT_ID = 2
    FIRST_AID_FLEXIBLE_VARIANT_ID = 3
    PROGRAM_ID = 1
    PROGRAM_EDITION_ID = 1
    PROGRAM_VARIANT_ID = 4
    CERTIFICATE_TEMPLATE_ID = 1
    CREDIT_IDS = (1, 2, 3)


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


def render_error(
    status: int,
    message: str,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Eduframe's error body: ``{"errors": {...}, "code": <status>, "message": "..."}``."""
    return JSONResponse(
        {"errors": errors or {}, "code": status, "message": message},
        status_code=status,
        headers=headers,
    )


class EduframeError(SandboxHTTPError):
    """An error answered in Eduframe's format.

    :param status: HTTP status code.
    :param message: Human-readable message.
    :param errors: Field errors, ``{field: ["message", ...]}`` (422 validation errors).
    :param headers: Extra headers, e.g. ``Retry-After`` on 429.
    """

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers)
        self.errors = errors or {}

    def to_response(self) -> Response:
        """Render as Eduframe's JSON error body."""
        return render_error(self.status, self.message, self.errors, self.headers)


def _not_found(kind: str, record_id: object) -> EduframeError:
    return EduframeError(404, f"Couldn't find {kind} with 'id'={record_id}")


def _invalid(errors: dict[str, list[str]]) -> EduframeError:
    return EduframeError(422, "Validation failed", errors)


def _bad_request(name: str, problem: str = "is invalid") -> EduframeError:
    return EduframeError(400, f"Bad Request: parameter {name} {problem}", {name: [problem]})


def render_validation_error(exc: RequestValidationError) -> Response:
    """Map FastAPI's validation error onto Eduframe's answers.

    A malformed path id is a 404 (no such record), a bad query parameter or unparsable JSON a 400, and a
    body that parses but breaks the schema a 422 with ``errors`` keyed by field name.
    """
    errors: dict[str, list[str]] = {}
    status = 422
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        where = loc[0] if loc else "body"
        if where == "path":
            return render_error(404, "Not Found")
        kind = err.get("type", "")
        if where in ("query", "header") or kind == "json_invalid" or (where == "body" and len(loc) == 1):
            status = 400
        # A JSON syntax error's loc holds a character offset, not a field.
        name = str(loc[1]) if len(loc) > 1 and kind != "json_invalid" else "base"
        message = "can't be blank" if kind == "missing" else str(err.get("msg", "is invalid"))
        errors.setdefault(name, []).append(message)
    return render_error(status, "Validation failed" if status == 422 else "Bad Request", errors)


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


@dataclass
class EfUser:
    """A user (learner, admin); see ``UserWithIncludes``."""

    id: int
    first_name: str
    middle_name: str | None
    last_name: str
    email: str
    roles: list[str]
    created_at: datetime
    updated_at: datetime
    locale: str | None = "en"
    wants_newsletter: bool = False
    employee_number: str | None = None
    student_number: str | None = None
    notes_user: str | None = None
    label_ids: list[int] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    address: dict[str, Any] | None = None


@dataclass
class EfCourse:
    """A course (only its name is kept: the sandbox serves no ``/courses`` endpoint)."""

    id: int
    name: str


@dataclass
class EfPlannedCourse:
    """A planned course (a run of a course); see ``PlannedCourseWithIncludes``."""

    id: int
    course_id: int
    type: Literal["FixedPlannedCourse", "FlexiblePlannedCourse"]
    status: Literal["planned", "active", "completed", "canceled"]
    start_date: date
    end_date: date | None
    duration_in_days: int | None
    min_participants: int | None
    max_participants: int | None
    cost_scheme: Literal["free", "order", "student", "tbd"]
    cost: str | None
    created_at: datetime
    updated_at: datetime
    is_published: bool = True
    availability_state: Literal["open", "closed"] = "open"
    course_variant_id: int | None = None
    course_location_id: int | None = None


@dataclass
class EfVariant:
    """A catalog variant: the thing an order buys; see ``VariantWithIncludes``."""

    id: int
    product_id: int
    name: str
    variantable_type: Literal["PlannedCourse", "Program::Edition"]
    variantable_id: int
    cost_scheme: Literal["free", "order", "student", "tbd"]
    cost: str | None
    created_at: datetime
    updated_at: datetime
    sku: str | None = None
    is_published: bool = True


@dataclass
class EfEdition:
    """A program edition and the planned courses it contains."""

    id: int
    program_id: int
    name: str
    planned_course_ids: list[int]


@dataclass
class EfOrder:
    """An order; ``items`` are ``(order item id, student id)``; see ``OrderWithIncludes``."""

    id: int
    number: int
    catalog_variant_id: int
    creator_id: int
    account_id: int
    items: list[tuple[int, int]]
    status: Literal["active", "canceled", "denied", "requested"]
    cost_scheme: str
    cost: str | None
    created_at: datetime
    updated_at: datetime
    label_ids: list[int] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    payment_method_id: int | None = None
    payment_option_id: int | None = None
    referral_id: int | None = None

    @property
    def student_ids(self) -> list[int]:
        """The students, in the order given."""
        return [student_id for _, student_id in self.items]


@dataclass
class EfGrade:
    """A grade on an enrollment or program enrollment; ``score`` is kept as a number."""

    id: int
    grader_id: int
    grade: str | None
    score: float | None
    gradeable_type: str
    gradeable_id: int
    comment: str | None
    created_at: datetime
    updated_at: datetime


@dataclass
class EfEnrollment:
    """A learner's enrollment in a planned course; see ``EnrollmentWithIncludes``."""

    id: int
    student_id: int
    planned_course_id: int
    order_id: int | None
    start_date: date
    end_date: date | None
    status: EnrollmentStatus
    graduation_state: GraduationState
    created_at: datetime
    updated_at: datetime
    grade_id: int | None = None


@dataclass
class EfProgramEnrollment:
    """A learner's enrollment in a program edition; the certificate fields are sandbox-only."""

    id: int
    student_id: int
    edition_id: int
    personal_program_id: int
    order_id: int | None
    state: Literal["confirmed", "canceled"]
    graduation_state: GraduationState
    graduation_date: date | None
    created_at: datetime
    updated_at: datetime
    certificate_awarded: bool = False
    certificate_template_id: int | None = None
    grade_id: int | None = None
    label_ids: list[int] = field(default_factory=list)


@dataclass
class EfCredit:
    """Awarded credits (continuing-education points)."""

    id: int
    student_id: int
    credits: float
    description: str | None
    course_id: int | None
    enrollment_id: int | None
    created_at: datetime


@dataclass
class EfWebhook:
    """A webhook registration (ids are strings per the spec); ``seq`` orders them for pagination."""

    id: str
    seq: int
    url: str
    active: bool
    events: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass
class AutoProgress:
    """Completes every open enrollment once it is ``complete_after_seconds`` old.

    :param complete_after_seconds: Age (by the sandbox clock) at which an enrollment completes.
    :param graduation_state: Graduation state it completes with.
    """

    complete_after_seconds: float
    graduation_state: GraduationState = "passed"


class SlidingWindowRateLimiter:
    """Per-key sliding-window limit: at most ``max_requests`` in any ``per_seconds`` window.

    :param max_requests: Requests allowed per window.
    :param per_seconds: Window length in seconds.
    :param monotonic: Time source (real time, not the sandbox clock: limits are about wall time).
    """

    def __init__(self, max_requests: int, per_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._monotonic = monotonic
        self._hits: dict[str, deque[float]] = {}

    def configure(self, max_requests: int, per_seconds: float) -> None:
        """Change the limit and forget past requests, so the new limit starts from a clean window."""
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._hits.clear()

    def hit(self, key: str) -> int | None:
        """Record a request; return ``None`` if allowed, else the whole seconds to wait (>= 1)."""
        now = self._monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.per_seconds:
            hits.popleft()
        if len(hits) >= self.max_requests:
            # ASSUMPTION: rejected requests do not count against the window (only served ones do).
            return max(1, math.ceil(hits[0] + self.per_seconds - now))
        hits.append(now)
        return None


# --------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------


def _score_text(score: float | None) -> str | None:
    """Eduframe returns scores as decimal strings ("8.5")."""
    if score is None:
        return None
    text = repr(float(score))
    return text if "e" not in text else format(Decimal(text), "f")


class EduframeState:
    """All Eduframe data and settings of one sandbox, in memory (dicts keyed by integer id).

    :param clock: The sandbox clock (timestamps, dates, auto-progress ages).
    :param api_keys: Accepted Bearer keys; restored by every ``reset()``.
    :param rate_limit_requests: Requests per window per token.
    :param rate_limit_seconds: Window length in seconds.
    """

    def __init__(
        self,
        clock: Callable[[], datetime] = utc_now,
        api_keys: Iterable[str] = (EDUFRAME_SANDBOX_API_KEY,),
        rate_limit_requests: int = DEFAULT_RATE_LIMIT_REQUESTS,
        rate_limit_seconds: float = DEFAULT_RATE_LIMIT_SECONDS,
    ) -> None:
        self.clock = clock
        self._default_api_keys = frozenset(api_keys)
        self._default_rate_limit = (rate_limit_requests, rate_limit_seconds)
        self.limiter = SlidingWindowRateLimiter(rate_limit_requests, rate_limit_seconds)
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Drop everything and reseed the demo data; settings go back to their defaults."""
        self.api_keys: set[str] = set(self._default_api_keys)
        self.limiter.configure(*self._default_rate_limit)
        self.auto_progress: AutoProgress | None = None
        #: The user whose key the sandbox pretends to be: graders and default order creator.
        self.api_user_id = EduframeSeed.ADMIN_USER_ID
        # ASSUMPTION: the real API's answer to a second grade on the same gradeable is not documented;
        # the sandbox rejects it with 422 so clients must look before they grade ("replace" overwrites).
        self.duplicate_grades: Literal["reject", "replace"] = "reject"
        self.users: dict[int, EfUser] = {}
        self.courses: dict[int, EfCourse] = {}
        self.planned_courses: dict[int, EfPlannedCourse] = {}
        self.variants: dict[int, EfVariant] = {}
        self.programs: dict[int, str] = {}
        self.editions: dict[int, EfEdition] = {}
        self.certificate_templates: dict[int, str] = {}
        self.enrollments: dict[int, EfEnrollment] = {}
        # Enrollment ids per student, ascending: the hook looks up (student, course) before every order,
        # and a scan of every enrollment per request made large benchmarks measure the sandbox, not the client.
        self.enrollment_ids_by_student: dict[int, list[int]] = {}
        # The same per planned course: paging through a course's enrollments reads one page per request.
        self.enrollment_ids_by_course: dict[int, list[int]] = {}
        self.program_enrollments: dict[int, EfProgramEnrollment] = {}
        self.orders: dict[int, EfOrder] = {}
        self.grades: dict[int, EfGrade] = {}
        self.credits: dict[int, EfCredit] = {}
        self.webhooks: dict[str, EfWebhook] = {}
        self.personal_accounts: dict[int, int] = {}
        self._last_ids: dict[str, int] = {}
        self._seed()

    def _next_id(self, table: str) -> int:
        self._last_ids[table] = self._last_ids.get(table, 0) + 1
        return self._last_ids[table]

    def _seed(self) -> None:
        now = self.clock()
        today = now.date()
        seeded_at = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)

        people = [
            ("Ada", None, "Admin", EduframeSeed.ADMIN_EMAIL, ["admin"]),
            ("Anna", "de", "Vries", EduframeSeed.LEARNER_EMAILS[0], ["student"]),
            ("Bram", None, "Jansen", EduframeSeed.LEARNER_EMAILS[1], ["student"]),
            ("Chloé", None, "Bakker", EduframeSeed.LEARNER_EMAILS[2], ["student"]),
            ("Daan", None, "Visser", EduframeSeed.LEARNER_EMAILS[3], ["student"]),
            ("Eva", None, "Smit", EduframeSeed.LEARNER_EMAILS[4], ["student"]),
        ]
        for first, middle, last, email, roles in people:
            user_id = self._next_id("users")
            self.users[user_id] = EfUser(
                id=user_id,
                first_name=first,
                middle_name=middle,
                last_name=last,
                email=email,
                roles=list(roles),
                created_at=seeded_at,
                updated_at=seeded_at,
                student_number=f"S{1000 + user_id}" if "student" in roles else None,
            )

        for name in ("Workplace Safety", "First Aid at Work"):
            course_id = self._next_id("courses")
            self.courses[course_id] = EfCourse(course_id, name)

        self._add_planned_course(
            course_id=1,
            type_="FixedPlannedCourse",
            status="planned",
            start=today + timedelta(days=14),
            end=today + timedelta(days=15),
            duration=2,
            max_participants=20,
            cost_scheme="order",
            cost="495.00",
            at=seeded_at,
        )
        self._add_planned_course(
            course_id=2,
            type_="FixedPlannedCourse",
            status="planned",
            start=today + timedelta(days=30),
            end=today + timedelta(days=30),
            duration=1,
            max_participants=12,
            cost_scheme="student",
            cost="250.00",
            at=seeded_at,
        )
        self._add_planned_course(
            course_id=2,
            type_="FlexiblePlannedCourse",
            status="active",
            start=today - timedelta(days=7),
            end=None,
            duration=60,
            max_participants=None,
            cost_scheme="free",
            cost=None,
            at=seeded_at,
        )
        for pc_id, product_id in ((1, 1), (2, 2), (3, 2)):
            pc = self.planned_courses[pc_id]
            self._add_variant(
                product_id=product_id,
                # Names without dates, so they are identical after every reset.
                name=self.courses[pc.course_id].name + (" (flexible)" if pc.type == "FlexiblePlannedCourse" else ""),
                variantable_type="PlannedCourse",
                variantable_id=pc_id,
                cost_scheme=pc.cost_scheme,
                cost=pc.cost,
                at=seeded_at,
            )

        self.programs[1] = "Certified Safety Officer"
        self.editions[1] = EfEdition(
            id=1, program_id=1, name="Certified Safety Officer (sandbox edition)", planned_course_ids=[1]
        )
        self._last_ids["editions"] = 1
        self._add_variant(
            product_id=3,
            name="Certified Safety Officer (sandbox edition)",
            variantable_type="Program::Edition",
            variantable_id=1,
            cost_scheme="order",
            cost="1250.00",
            at=seeded_at,
        )
        self.certificate_templates[1] = "Certified Safety Officer certificate"

        seeded_credits: list[tuple[int, float, str, int | None]] = [
            (2, 2.0, "First Aid refresher (external provider)", None),
            (2, 1.5, "Toolbox meeting: working at height", None),
            (3, 4.0, "Workplace Safety (previous edition)", 1),
        ]
        for student_id, credits, description, credit_course_id in seeded_credits:
            credit_id = self._next_id("credits")
            self.credits[credit_id] = EfCredit(
                credit_id, student_id, credits, description, credit_course_id, None, seeded_at
            )

    def _add_planned_course(
        self,
        *,
        course_id: int,
        type_: Literal["FixedPlannedCourse", "FlexiblePlannedCourse"],
        status: Literal["planned", "active", "completed", "canceled"],
        start: date,
        end: date | None,
        duration: int,
        max_participants: int | None,
        cost_scheme: Literal["free", "order", "student", "tbd"],
        cost: str | None,
        at: datetime,
    ) -> None:
        pc_id = self._next_id("planned_courses")
        self.planned_courses[pc_id] = EfPlannedCourse(
            id=pc_id,
            course_id=course_id,
            type=type_,
            status=status,
            start_date=start,
            end_date=end,
            duration_in_days=duration,
            min_participants=4 if max_participants else None,
            max_participants=max_participants,
            cost_scheme=cost_scheme,
            cost=cost,
            created_at=at,
            updated_at=at,
        )

    def _add_variant(
        self,
        *,
        product_id: int,
        name: str,
        variantable_type: Literal["PlannedCourse", "Program::Edition"],
        variantable_id: int,
        cost_scheme: Literal["free", "order", "student", "tbd"],
        cost: str | None,
        at: datetime,
    ) -> None:
        variant_id = self._next_id("variants")
        self.variants[variant_id] = EfVariant(
            id=variant_id,
            product_id=product_id,
            name=name,
            variantable_type=variantable_type,
            variantable_id=variantable_id,
            cost_scheme=cost_scheme,
            cost=cost,
            created_at=at,
            updated_at=at,
            sku=f"SBX-{variant_id:04d}",
        )

    # -- lookups -----------------------------------------------------------------------------------

    def user(self, user_id: int) -> EfUser:
        """The user or a 404."""
        if user_id not in self.users:
            raise _not_found("User", user_id)
        return self.users[user_id]

    def user_by_email(self, email: str) -> EfUser | None:
        """Exact, case-insensitive e-mail match."""
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def enrollment(self, enrollment_id: int) -> EfEnrollment:
        """The enrollment or a 404."""
        if enrollment_id not in self.enrollments:
            raise _not_found("Enrollment", enrollment_id)
        return self.enrollments[enrollment_id]

    def seed_enrollments(self, count: int, planned_course_id: int, student_ids: Sequence[int]) -> list[int]:
        """Add ``count`` confirmed enrollments at once (control API, for benchmarks); return their ids.

        Learners take turns from ``student_ids``; no orders are placed, because a benchmark that pages
        through or waits on enrollments does not care how they came to be.
        """
        pc = self.planned_courses.get(planned_course_id)
        if pc is None:
            raise _not_found("PlannedCourse", planned_course_id)
        now = self.clock()
        ids: list[int] = []
        for i in range(count):
            enrollment_id = self._next_id("enrollments")
            self.enrollments[enrollment_id] = seeded = EfEnrollment(
                id=enrollment_id,
                student_id=student_ids[i % len(student_ids)],
                planned_course_id=pc.id,
                order_id=None,
                start_date=pc.start_date,
                end_date=pc.end_date,
                status="confirmed",
                graduation_state="awaiting_judgement",
                created_at=now,
                updated_at=now,
            )
            self.enrollment_ids_by_student.setdefault(seeded.student_id, []).append(enrollment_id)
            self.enrollment_ids_by_course.setdefault(seeded.planned_course_id, []).append(enrollment_id)
            ids.append(enrollment_id)
        return ids

    def program_enrollment(self, enrollment_id: int) -> EfProgramEnrollment:
        """The program enrollment or a 404."""
        if enrollment_id not in self.program_enrollments:
            raise _not_found("Program::Enrollment", enrollment_id)
        return self.program_enrollments[enrollment_id]

    # -- time-driven changes -----------------------------------------------------------------------

    def apply_auto_progress(self) -> None:
        """Complete every open enrollment old enough (evaluated lazily, on each request)."""
        rule = self.auto_progress
        if rule is None:
            return
        now = self.clock()
        age = timedelta(seconds=rule.complete_after_seconds)
        for enrollment in self.enrollments.values():
            if enrollment.status in ("confirmed", "active") and now - enrollment.created_at >= age:
                enrollment.status = "completed"
                enrollment.graduation_state = rule.graduation_state
                # The moment it became old enough, so timestamps do not depend on when someone looked.
                enrollment.updated_at = max(enrollment.updated_at, enrollment.created_at + age)

    def set_enrollment_status(
        self, enrollment_id: int, status: EnrollmentStatus, graduation_state: GraduationState | None = None
    ) -> EfEnrollment:
        """Move an enrollment along (control API: a learner starts or finishes)."""
        enrollment = self.enrollment(enrollment_id)
        enrollment.status = status
        if graduation_state is not None:
            enrollment.graduation_state = graduation_state
        enrollment.updated_at = self.clock()
        return enrollment

    # -- summaries ---------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """A compact view for test assertions (``GET /_sandbox/eduframe/state``)."""
        self.apply_auto_progress()

        def grade_summary(grade_id: int | None) -> dict[str, Any] | None:
            grade = self.grades.get(grade_id) if grade_id is not None else None
            return None if grade is None else {"score": _score_text(grade.score), "grade": grade.grade}

        return {
            "users": [{"id": u.id, "email": u.email} for u in self.users.values()],
            "enrollments": [
                {
                    "id": e.id,
                    "student_id": e.student_id,
                    "planned_course_id": e.planned_course_id,
                    "order_id": e.order_id,
                    "status": e.status,
                    "graduation_state": e.graduation_state,
                    "grade": grade_summary(e.grade_id),
                }
                for e in self.enrollments.values()
            ],
            "orders": [
                {
                    "id": o.id,
                    "catalog_variant_id": o.catalog_variant_id,
                    "student_ids": o.student_ids,
                    "status": o.status,
                }
                for o in self.orders.values()
            ],
            "program_enrollments": [
                {
                    "id": p.id,
                    "student_id": p.student_id,
                    "edition_id": p.edition_id,
                    "state": p.state,
                    "graduation_state": p.graduation_state,
                    "graduation_date": iso_date(p.graduation_date),
                    "certificate_awarded": p.certificate_awarded,
                    "certificate_template_id": p.certificate_template_id,
                    "grade": grade_summary(p.grade_id),
                }
                for p in self.program_enrollments.values()
            ],
            "grades": [
                {
                    "id": g.id,
                    "gradeable_type": g.gradeable_type,
                    "gradeable_id": g.gradeable_id,
                    "score": _score_text(g.score),
                    "grade": g.grade,
                }
                for g in self.grades.values()
            ],
            "webhooks": [{"id": w.id, "url": w.url, "events": list(w.events)} for w in self.webhooks.values()],
            "auto_progress": None
            if self.auto_progress is None
            else {
                "complete_after_seconds": self.auto_progress.complete_after_seconds,
                "graduation_state": self.auto_progress.graduation_state,
            },
            "rate_limit": {"max_requests": self.limiter.max_requests, "per_seconds": self.limiter.per_seconds},
        }

    # -- serialisation (every property the OpenAPI schema lists) -----------------------------------

    def educator_json(self) -> dict[str, Any]:
        """``EducatorWithIncludes``."""
        return {
            "id": EduframeSeed.EDUCATOR_ID,
            "slug": "sandbox-academy",
            "name": "Sandbox Academy",
            "standard_planning_text": None,
            "default_invoice_vat_multiplier": "1.21",
            "phone": "+31 20 000 0000",
            "website_url": "https://academy.sandbox.example",
            "signup_default_account_type": "personal",
            "signup_contact_info": None,
            "currency": "EUR",
            "country": "NL",
            "email": "office@sandbox.example",
            "time_zone": "Europe/Amsterdam",
            "locale": "en",
            "terms_url": "https://academy.sandbox.example/terms",
            "invoice_address": {
                "addressee": "Sandbox Academy",
                "address": "Voorbeeldstraat 1",
                "address_line2": None,
                "postal_code": "1234 AB",
                "city": "Amsterdam",
                "country": "NL",
                "state_province": None,
            },
        }

    def user_json(self, user: EfUser) -> dict[str, Any]:
        """``UserWithIncludes``."""
        return {
            "id": user.id,
            "first_name": user.first_name,
            "middle_name": user.middle_name,
            "last_name": user.last_name,
            "email": user.email,
            "avatar_url": "/avatars/original/missing.png",
            "roles": list(user.roles),
            "notes_user": user.notes_user,
            "description": None,
            "label_ids": list(user.label_ids),
            "employee_number": user.employee_number,
            "student_number": user.student_number,
            "teacher_headline": None,
            "teacher_description": None,
            "locale": user.locale,
            "wants_newsletter": user.wants_newsletter,
            "slug": re.sub(r"[^a-z0-9]+", "-", f"{user.first_name} {user.last_name} {user.id}".lower()).strip("-"),
            "teacher_enrollments_count": 0,
            "updated_at": iso_timestamp(user.updated_at),
            "created_at": iso_timestamp(user.created_at),
            "address": dict(user.address) if user.address is not None else None,
            "custom": dict(user.custom),
        }

    def _participants(self, planned_course_id: int) -> int:
        """Enrollments in a planned course that are not canceled (confirmed, active or completed)."""
        return sum(
            1 for e in self.enrollments.values() if e.planned_course_id == planned_course_id and e.status != "canceled"
        )

    def _places_left(self, pc: EfPlannedCourse) -> int | None:
        if pc.max_participants is None:
            return None
        return max(0, pc.max_participants - self._participants(pc.id))

    def planned_course_json(self, pc: EfPlannedCourse) -> dict[str, Any]:
        """``PlannedCourseWithIncludes``."""
        current = self._participants(pc.id)
        places = self._places_left(pc)
        return {
            "id": pc.id,
            "status": pc.status,
            "duration_in_days": pc.duration_in_days,
            "availability_state": pc.availability_state,
            "payable": pc.cost_scheme in ("student", "order"),
            "current_participants": current,
            # Every enrollment status but canceled is confirmed, active or completed.
            "confirmed_active_and_completed_enrollments_count": current,
            "requested_enrollments_count": 0,
            "available_places": places is None or places > 0,
            "canvas_link": None,
            "currency": "EUR",
            "cost_multiplier": "1.21",
            "is_published": pc.is_published,
            "course_id": pc.course_id,
            "type": pc.type,
            "start_date": pc.start_date.isoformat(),
            "end_date": iso_date(pc.end_date),
            "min_participants": pc.min_participants,
            "max_participants": pc.max_participants,
            "cost_scheme": pc.cost_scheme,
            "cost": pc.cost,
            "course_variant_id": pc.course_variant_id,
            "course_location_id": pc.course_location_id,
            "updated_at": iso_timestamp(pc.updated_at),
            "created_at": iso_timestamp(pc.created_at),
        }

    def variant_json(self, variant: EfVariant) -> dict[str, Any]:
        """``VariantWithIncludes``."""
        places: int | None = None
        if variant.variantable_type == "PlannedCourse" and variant.variantable_id in self.planned_courses:
            places = self._places_left(self.planned_courses[variant.variantable_id])
        # ASSUMPTION: an unlimited variant reports 999 places (the schema requires an integer).
        places_count = 999 if places is None else places
        availability = (
            "not_available" if places_count == 0 else ("limited_availability" if places_count <= 5 else "available")
        )
        return {
            "id": variant.id,
            "product_id": variant.product_id,
            "name": variant.name,
            "sku": variant.sku,
            "cost_scheme": variant.cost_scheme,
            "cost": variant.cost,
            "currency": "EUR",
            "variantable_type": variant.variantable_type,
            "variantable_id": variant.variantable_id,
            "availability": availability,
            "available_places": places_count,
            "is_published": variant.is_published,
            "show_on_website": variant.is_published,
            "updated_at": iso_timestamp(variant.updated_at),
            "created_at": iso_timestamp(variant.created_at),
            "custom": {},
            "custom_associations": [],
        }

    def grade_json(self, grade: EfGrade) -> dict[str, Any]:
        """``Grade`` (score as a string, as the real API returns it)."""
        score = _score_text(grade.score)
        return {
            "id": grade.id,
            "grader_id": grade.grader_id,
            "result": grade.grade if grade.grade is not None else (score or ""),
            "grade": grade.grade,
            "score": score,
            "gradeable_id": grade.gradeable_id,
            "gradeable_type": grade.gradeable_type,
            "comment": grade.comment,
            "updated_at": iso_timestamp(grade.updated_at),
            "created_at": iso_timestamp(grade.created_at),
        }

    def _embedded_grade(self, grade_id: int | None) -> dict[str, Any] | None:
        grade = self.grades.get(grade_id) if grade_id is not None else None
        return self.grade_json(grade) if grade is not None else None

    def enrollment_json(self, e: EfEnrollment) -> dict[str, Any]:
        """``EnrollmentWithIncludes``."""
        return {
            "id": e.id,
            "student_id": e.student_id,
            "planned_course_id": e.planned_course_id,
            "order_id": e.order_id,
            "start_date": e.start_date.isoformat(),
            "end_date": iso_date(e.end_date),
            "status": e.status,
            "graduation_state": e.graduation_state,
            "updated_at": iso_timestamp(e.updated_at),
            "created_at": iso_timestamp(e.created_at),
            "grade": self._embedded_grade(e.grade_id),
        }

    def program_enrollment_json(self, p: EfProgramEnrollment) -> dict[str, Any]:
        """``ProgramEnrollmentWithIncludes``."""
        return {
            "id": p.id,
            "student_id": p.student_id,
            "edition_id": p.edition_id,
            "personal_program_id": p.personal_program_id,
            "label_ids": list(p.label_ids),
            "order_id": p.order_id,
            "state": p.state,
            "graduation_state": p.graduation_state,
            "graduation_date": iso_date(p.graduation_date),
            "grade": self._embedded_grade(p.grade_id),
        }

    def order_json(self, order: EfOrder) -> dict[str, Any]:
        """``OrderWithIncludes``."""
        excl: str | None = None
        incl: str | None = None
        if order.cost is not None:
            total = Decimal(order.cost) * (len(order.items) if order.cost_scheme == "student" else 1)
            excl = f"{total:.2f}"
            incl = f"{total * Decimal('1.21'):.2f}"
        return {
            "id": order.id,
            "number": order.number,
            "status": order.status,
            "number_of_students": len(order.items),
            "origin": "api",
            "customer_comment": None,
            "total_cost_excl": excl,
            "total_cost_incl": incl,
            "cost": order.cost,
            "cost_scheme": order.cost_scheme,
            "catalog_variant_id": order.catalog_variant_id,
            "creator_id": order.creator_id,
            "account_id": order.account_id,
            "payment_method_id": order.payment_method_id,
            "payment_option_id": order.payment_option_id,
            "label_ids": list(order.label_ids),
            "discount_code": None,
            "total_discount": None,
            "referral_id": order.referral_id,
            "updated_at": iso_timestamp(order.updated_at),
            "created_at": iso_timestamp(order.created_at),
            "custom": dict(order.custom),
            "order_items": [
                {
                    "id": item_id,
                    "order_id": order.id,
                    "student_id": student_id,
                    "updated_at": iso_timestamp(order.updated_at),
                    "created_at": iso_timestamp(order.created_at),
                }
                for item_id, student_id in order.items
            ],
        }

    def credit_json(self, c: EfCredit) -> dict[str, Any]:
        """``Credit``."""
        return {
            "id": c.id,
            "student_id": c.student_id,
            "credits": c.credits,
            "description": c.description,
            "course_id": c.course_id,
            "enrollment_id": c.enrollment_id,
            "created_at": iso_timestamp(c.created_at),
        }

    def webhook_json(self, w: EfWebhook) -> dict[str, Any]:
        """``Webhook``."""
        return {
            "id": w.id,
            "url": w.url,
            "active": w.active,
            "events": list(w.events),
            "created_at": iso_timestamp(w.created_at),
            "updated_at": iso_timestamp(w.updated_at),
        }

    # -- writes ------------------------------------------------------------------------------------

    def _check_email(self, email: str, errors: dict[str, list[str]], exclude_id: int | None = None) -> None:
        if not _EMAIL_RE.match(email):
            errors.setdefault("email", []).append("is invalid")
            return
        existing = self.user_by_email(email)
        if existing is not None and existing.id != exclude_id:
            errors.setdefault("email", []).append("has already been taken")

    def create_user(self, body: UserCreate) -> EfUser:
        """``POST /users``: e-mail must be valid and unique (case-insensitive)."""
        errors: dict[str, list[str]] = {}
        for name in ("first_name", "last_name"):
            if not getattr(body, name).strip():
                errors[name] = ["can't be blank"]
        self._check_email(body.email, errors)
        if errors:
            raise _invalid(errors)
        now = self.clock()
        user_id = self._next_id("users")
        user = EfUser(
            id=user_id,
            first_name=body.first_name,
            middle_name=body.middle_name,
            last_name=body.last_name,
            email=body.email.strip(),
            # ASSUMPTION: a user created through the API is a learner, so it gets the "student" role.
            roles=["student"],
            created_at=now,
            updated_at=now,
            locale=body.locale or "en",
            wants_newsletter=bool(body.wants_newsletter),
            label_ids=list(body.label_ids or []),
            custom=dict(body.custom or {}),
            address=_address(body.address_attributes),
        )
        self.users[user_id] = user
        return user

    def update_user(self, user: EfUser, body: UserPatch) -> EfUser:
        """``PATCH /users/{id}``: only the fields sent change."""
        sent = body.model_fields_set
        errors: dict[str, list[str]] = {}
        if "email" in sent and body.email is not None:
            self._check_email(body.email, errors, exclude_id=user.id)
        for name in ("first_name", "last_name"):
            if name in sent and not (getattr(body, name) or "").strip():
                errors[name] = ["can't be blank"]
        if errors:
            raise _invalid(errors)
        for name in ("first_name", "middle_name", "last_name", "email", "locale", "wants_newsletter"):
            if name in sent:
                setattr(user, name, getattr(body, name))
        if "label_ids" in sent:
            user.label_ids = list(body.label_ids or [])
        if "custom" in sent:
            user.custom = {**user.custom, **(body.custom or {})}
        if "address_attributes" in sent:
            user.address = _address(body.address_attributes, base=user.address)
        user.updated_at = self.clock()
        return user

    def _enroll(self, student_id: int, pc: EfPlannedCourse, order_id: int, now: datetime) -> EfEnrollment:
        if pc.type == "FixedPlannedCourse":
            start, end = pc.start_date, pc.end_date
        else:
            # A flexible course runs per learner, from the day of enrollment.
            start = now.date()
            end = start + timedelta(days=pc.duration_in_days or 0) if pc.duration_in_days else None
        enrollment_id = self._next_id("enrollments")
        enrollment = EfEnrollment(
            id=enrollment_id,
            student_id=student_id,
            planned_course_id=pc.id,
            order_id=order_id,
            start_date=start,
            end_date=end,
            # ASSUMPTION: enrollments from an order start "confirmed" whether or not the order was
            # approved (the API documents no requested/pending enrollment status).
            status="confirmed",
            graduation_state="awaiting_judgement",
            created_at=now,
            updated_at=now,
        )
        self.enrollments[enrollment_id] = enrollment
        self.enrollment_ids_by_student.setdefault(enrollment.student_id, []).append(enrollment_id)
        self.enrollment_ids_by_course.setdefault(enrollment.planned_course_id, []).append(enrollment_id)
        return enrollment

    def create_order(self, body: OrderCreate) -> EfOrder:
        """``POST /orders``: enrolls each student.

        An order for a planned course never checks for an existing enrollment (the API documents no such
        check, which is why a client must look before it orders); a program order creates a program
        enrollment per student every time.
        """
        errors: dict[str, list[str]] = {}
        variant = self.variants.get(body.catalog_variant_id)
        if variant is None:
            errors["catalog_variant_id"] = ["must exist"]
        if body.creator_id not in self.users:
            errors["creator_id"] = ["must exist"]
        student_ids = list(body.student_ids or [])
        if not student_ids:
            errors["student_ids"] = ["can't be blank"]
        unknown = [s for s in student_ids if s not in self.users]
        if unknown:
            errors["student_ids"] = [f"contains unknown user ids: {', '.join(map(str, unknown))}"]
        if variant is not None and variant.variantable_type == "Program::Edition":
            if variant.variantable_id not in self.editions:  # pragma: no cover - seeds are consistent
                errors["catalog_variant_id"] = ["has no program edition"]
        elif variant is not None and variant.variantable_id not in self.planned_courses:  # pragma: no cover
            errors["catalog_variant_id"] = ["has no planned course"]
        if errors:
            raise _invalid(errors)
        assert variant is not None

        now = self.clock()
        order_id = self._next_id("orders")
        account_id = body.account_id or self._personal_account(student_ids[0])
        items = [(self._next_id("order_items"), student_id) for student_id in student_ids]
        order = EfOrder(
            id=order_id,
            number=1000 + order_id,
            catalog_variant_id=variant.id,
            creator_id=body.creator_id,
            account_id=account_id,
            items=items,
            # ASSUMPTION: an approved order is "active", one left unapproved (the default) "requested".
            status="active" if body.approve else "requested",
            cost_scheme=body.cost_scheme or variant.cost_scheme,
            cost=body.cost if body.cost is not None else variant.cost,
            created_at=now,
            updated_at=now,
            label_ids=list(body.label_ids or []),
            custom=dict(body.custom or {}),
            payment_method_id=body.payment_method_id,
            payment_option_id=body.payment_option_id,
            referral_id=body.referral_id,
        )
        self.orders[order_id] = order

        if variant.variantable_type == "PlannedCourse":
            pc = self.planned_courses[variant.variantable_id]
            for student_id in student_ids:
                self._enroll(student_id, pc, order_id, now)
        else:
            edition = self.editions[variant.variantable_id]
            for student_id in student_ids:
                pe_id = self._next_id("program_enrollments")
                self.program_enrollments[pe_id] = EfProgramEnrollment(
                    id=pe_id,
                    student_id=student_id,
                    edition_id=edition.id,
                    personal_program_id=self._next_id("personal_programs"),
                    order_id=order_id,
                    state="confirmed",
                    graduation_state="awaiting_judgement",
                    graduation_date=None,
                    created_at=now,
                    updated_at=now,
                )
                for pc_id in edition.planned_course_ids:
                    # ASSUMPTION: a program order enrolls the learner in the edition's planned courses only
                    # where they are not enrolled yet (a course order of their own stays the enrollment).
                    if not self._has_live_enrollment(student_id, pc_id):
                        self._enroll(student_id, self.planned_courses[pc_id], order_id, now)
        for student_id in student_ids:
            if "student" not in self.users[student_id].roles:
                self.users[student_id].roles.append("student")
        return order

    def _has_live_enrollment(self, student_id: int, planned_course_id: int) -> bool:
        return any(
            e.student_id == student_id and e.planned_course_id == planned_course_id and e.status != "canceled"
            for e in self.enrollments.values()
        )

    def _personal_account(self, user_id: int) -> int:
        # ASSUMPTION: without account_id the order goes to the first student's personal account,
        # created on first use with ids counting up.
        if user_id not in self.personal_accounts:
            self.personal_accounts[user_id] = self._next_id("accounts")
        return self.personal_accounts[user_id]

    def _gradeable(self, gradeable_type: str, gradeable_id: int) -> EfEnrollment | EfProgramEnrollment:
        if gradeable_type == GRADEABLE_ENROLLMENT and gradeable_id in self.enrollments:
            return self.enrollments[gradeable_id]
        if gradeable_type == GRADEABLE_PROGRAM_ENROLLMENT and gradeable_id in self.program_enrollments:
            return self.program_enrollments[gradeable_id]
        raise _invalid({"gradeable_id": ["must exist"]})

    def create_grade(self, body: GradeCreate) -> EfGrade:
        """``POST /grades``: grade an enrollment (its embedded ``grade`` is set)."""
        gradeable_type = _GRADEABLE_ALIASES.get(body.gradeable_type.strip().lower())
        if gradeable_type is None:
            raise _invalid({"gradeable_type": ["is not included in the list"]})
        if body.grade is None and body.score is None:
            raise _invalid({"base": ["at least one of grade and score is required"]})
        target = self._gradeable(gradeable_type, body.gradeable_id)
        if target.grade_id is not None:
            if self.duplicate_grades == "reject":
                raise _invalid({"gradeable_id": ["has already been graded"]})
            self.grades.pop(target.grade_id, None)
        now = self.clock()
        grade_id = self._next_id("grades")
        grade = EfGrade(
            id=grade_id,
            grader_id=self.api_user_id,
            grade=body.grade,
            score=body.score,
            gradeable_type=gradeable_type,
            gradeable_id=body.gradeable_id,
            comment=body.comment,
            created_at=now,
            updated_at=now,
        )
        self.grades[grade_id] = grade
        target.grade_id = grade_id
        target.updated_at = now
        return grade

    def update_grade(self, grade_id: int, body: GradePatch) -> EfGrade:
        """``PATCH /grades/{id}``: grade, score and comment can change."""
        grade = self.grade(grade_id)
        sent = body.model_fields_set
        new_grade = body.grade if "grade" in sent else grade.grade
        new_score = body.score if "score" in sent else grade.score
        if new_grade is None and new_score is None:
            raise _invalid({"base": ["at least one of grade and score is required"]})
        grade.grade, grade.score = new_grade, new_score
        if "comment" in sent:
            grade.comment = body.comment
        grade.updated_at = self.clock()
        return grade

    def grade(self, grade_id: int) -> EfGrade:
        """The grade or a 404."""
        if grade_id not in self.grades:
            raise _not_found("Grade", grade_id)
        return self.grades[grade_id]

    def delete_grade(self, grade_id: int) -> None:
        """``DELETE /grades/{id}``: the gradeable's embedded grade goes back to null."""
        grade = self.grade(grade_id)
        del self.grades[grade_id]
        owners: Sequence[EfEnrollment | EfProgramEnrollment] = [
            *self.enrollments.values(),
            *self.program_enrollments.values(),
        ]
        for owner in owners:
            if owner.grade_id == grade.id:
                owner.grade_id = None

    def award_certificate(self, pe: EfProgramEnrollment, template_id: int) -> EfProgramEnrollment:
        """``PUT /program/enrollments/{id}/award_certificate``."""
        if template_id not in self.certificate_templates:
            raise _invalid({"certificate_template_id": ["must exist"]})
        if pe.state == "canceled":
            raise _invalid({"state": ["is canceled"]})
        now = self.clock()
        # ASSUMPTION: awarding marks the program enrollment passed with today's graduation date; awarding
        # again is harmless (200, the first graduation date is kept).
        pe.graduation_state = "passed"
        if pe.graduation_date is None or not pe.certificate_awarded:
            pe.graduation_date = now.date()
        pe.certificate_awarded = True
        pe.certificate_template_id = template_id
        pe.updated_at = now
        return pe

    def delete_certificate(self, pe: EfProgramEnrollment) -> EfProgramEnrollment:
        """``POST /program/enrollments/{id}/delete_certificate``."""
        # ASSUMPTION: deleting the certificate revokes the graduation (the API has a
        # program_enrollment.graduation_revoked event): back to awaiting_judgement, no graduation date.
        pe.certificate_awarded = False
        pe.certificate_template_id = None
        pe.graduation_state = "awaiting_judgement"
        pe.graduation_date = None
        pe.updated_at = self.clock()
        return pe

    def create_webhook(self, body: WebhookCreate) -> EfWebhook:
        """``POST /webhooks`` (registration only: the sandbox does not deliver webhooks)."""
        _check_webhook(body.url, body.events)
        now = self.clock()
        seq = self._next_id("webhooks")
        # Deterministic, UUID-shaped ids: the spec types webhook ids as strings.
        webhook_id = f"00000000-0000-4000-8000-{seq:012d}"
        webhook = EfWebhook(
            id=webhook_id,
            seq=seq,
            url=body.url,
            active=body.active if body.active is not None else True,
            events=list(body.events or []),
            created_at=now,
            updated_at=now,
        )
        self.webhooks[webhook_id] = webhook
        return webhook

    def webhook(self, webhook_id: str) -> EfWebhook:
        """The webhook or a 404."""
        if webhook_id not in self.webhooks:
            raise _not_found("Webhook", webhook_id)
        return self.webhooks[webhook_id]


def _check_webhook(url: str | None, events: list[str] | None) -> None:
    errors: dict[str, list[str]] = {}
    if url is not None and not re.match(r"^https?://[^\s/]+", url):
        errors["url"] = ["is invalid"]
    bad = [e for e in events or [] if e not in WEBHOOK_EVENTS]
    if bad:
        errors["events"] = [f"contains unknown events: {', '.join(bad)}"]
    if errors:
        raise _invalid(errors)


def _address(payload: dict[str, Any] | None, base: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Turn ``address_attributes`` into an ``Address`` object (all properties present)."""
    if payload is None:
        return base
    merged = {**(base or {}), **payload}
    return {
        "addressee": merged.get("addressee"),
        "address": str(merged.get("address") or ""),
        "address_line2": merged.get("address_line2"),
        "postal_code": str(merged.get("postal_code") or ""),
        "city": str(merged.get("city") or ""),
        "country": str(merged.get("country") or "NL"),
        "state_province": merged.get("state_province"),
    }


# --------------------------------------------------------------------------------------------------
# Request bodies (unknown fields are ignored, as a Rails API does)
# --------------------------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class UserCreate(_Body):
    """``POST /users`` body."""

    email: str
    first_name: str
    last_name: str
    middle_name: str | None = None
    locale: Locale | None = None
    wants_newsletter: bool | None = None
    with_authentication: bool | None = None
    custom: dict[str, Any] | None = None
    address_attributes: dict[str, Any] | None = None
    invoice_address_attributes: dict[str, Any] | None = None
    label_ids: list[int] | None = None


class UserPatch(_Body):
    """``PATCH /users/{id}`` body."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    locale: Locale | None = None
    wants_newsletter: bool | None = None
    custom: dict[str, Any] | None = None
    address_attributes: dict[str, Any] | None = None
    invoice_address_attributes: dict[str, Any] | None = None
    label_ids: list[int] | None = None


class PlannedCoursePatch(_Body):
    """``PATCH /planned_courses/{id}`` body (``PlannedCoursePatchPayload``)."""

    is_published: bool | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_participants: int | None = None
    max_participants: int | None = None
    cost_scheme: Literal["student", "order", "tbd", "free"] | None = None
    cost: float | None = None
    course_variant_id: int | None = None
    course_location_id: int | None = None
    duration: float | None = None


class EnrollmentPatch(_Body):
    """``PATCH /enrollments/{id}`` body."""

    end_date: date | None = None


class OrderCreate(_Body):
    """``POST /orders`` body."""

    catalog_variant_id: int
    creator_id: int
    student_ids: list[int] | None = None
    approve: bool | None = None
    cost_scheme: Literal["student", "order", "tbd", "free"] | None = None
    cost: str | None = None
    account_id: int | None = None
    planned_course_id: int | None = None
    payment_method_id: int | None = None
    payment_option_id: int | None = None
    custom: dict[str, Any] | None = None
    label_ids: list[int] | None = None
    referral_id: int | None = None


class GradeCreate(_Body):
    """``POST /grades`` body: ``grade`` and ``score`` are required but nullable."""

    grade: str | None
    score: float | None
    gradeable_id: int
    gradeable_type: str
    comment: str | None = None


class GradePatch(_Body):
    """``PATCH /grades/{id}`` body."""

    grade: str | None = None
    score: float | None = None
    comment: str | None = None
    gradeable_id: int | None = None
    gradeable_type: str | None = None
    enrollment_id: int | None = None


class AwardCertificate(_Body):
    """``PUT /program/enrollments/{id}/award_certificate`` body."""

    certificate_template_id: int


class WebhookCreate(_Body):
    """``POST /webhooks`` body."""

    url: str
    active: bool | None = None
    events: list[str] | None = None


class WebhookPatch(_Body):
    """``PATCH /webhooks/{id}`` body."""

    url: str | None = None
    active: bool | None = None
    events: list[str] | None = None


# --------------------------------------------------------------------------------------------------
# Query parameters and pagination
# --------------------------------------------------------------------------------------------------

T = TypeVar("T")


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise _bad_request(name, "is not an integer") from None


def _list_param(request: Request, name: str) -> list[str]:
    """Array filters: ``status=a&status=b`` (the spec's form/explode) and Rails' ``status[]=a``."""
    values = request.query_params.getlist(name) + request.query_params.getlist(f"{name}[]")
    return [v for v in values if v != ""]


def _int_list_param(request: Request, name: str) -> list[int]:
    try:
        return [int(v) for v in _list_param(request, name)]
    except ValueError:
        raise _bad_request(name, "is not an integer") from None


def _enum_list_param(request: Request, name: str, allowed: Iterable[str]) -> list[str]:
    values = _list_param(request, name)
    allowed_set = set(allowed)
    if any(v not in allowed_set for v in values):
        raise _bad_request(name, f"must be one of {', '.join(sorted(allowed_set))}")
    return values


def _bool_param(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    # The API documents true/false/1/0 for every boolean parameter.
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _bad_request(name, "is not a boolean")


def _date_param(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise _bad_request(name, "is not a date") from None


def _encode_cursor(payload: dict[str, int]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if (
            isinstance(payload, dict)
            and len(payload) == 1
            and next(iter(payload)) in ("after", "before")
            and isinstance(next(iter(payload.values())), int)
        ):
            return payload
    except (ValueError, binascii.Error):
        pass
    raise _bad_request("cursor")


def _page_url(request: Request, cursor: str) -> str:
    """The request's own absolute URL with ``cursor`` swapped; ``page`` goes, other params stay."""
    pairs = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k not in ("cursor", "page")]
    pairs.append(("cursor", cursor))
    return str(request.url.replace(query=urlencode(pairs)))


def _per_page(request: Request) -> int:
    per_page = _int_param(request, "per_page")
    if per_page is None:
        per_page = DEFAULT_PER_PAGE
    if per_page < 1:
        raise _bad_request("per_page", "must be greater than or equal to 1")
    # ASSUMPTION: per_page above the documented maximum of 100 is clamped to 100, not rejected.
    return min(per_page, MAX_PER_PAGE)


def _links(request: Request, next_after: int | None, prev_before: int | None) -> dict[str, str]:
    links: list[str] = []
    if next_after is not None:
        links.append(f'<{_page_url(request, _encode_cursor({"after": next_after}))}>; rel="next"')
    if prev_before is not None:
        links.append(f'<{_page_url(request, _encode_cursor({"before": prev_before}))}>; rel="prev"')
    return {"Link": ", ".join(links)} if links else {}


def paginate(request: Request, items: Sequence[T], key: Callable[[T], int]) -> tuple[list[T], dict[str, str]]:
    """Cut one page out of ``items`` (sorted by ``key`` ascending) and build its ``Link`` header.

    The cursor is the base64url-encoded last (or, for ``prev``, first) key seen, so a page boundary does
    not shift when records are appended while a client pages through.
    """
    per_page = _per_page(request)

    keys = [key(item) for item in items]
    cursor = request.query_params.get("cursor")
    if cursor:
        position = _decode_cursor(cursor)
        if "after" in position:
            start = bisect.bisect_right(keys, position["after"])  # keys are sorted: O(log n) per page
            end = min(start + per_page, len(keys))
        else:
            end = bisect.bisect_left(keys, position["before"])
            start = max(0, end - per_page)
    else:
        # ``page`` is deprecated but still accepted: plain offset paging.
        page = _int_param(request, "page") or 1
        if page < 1:
            raise _bad_request("page", "must be greater than or equal to 1")
        start = min((page - 1) * per_page, len(keys))
        end = min(start + per_page, len(keys))

    window = list(items[start:end])
    next_after = keys[end - 1] if end < len(keys) and window else None
    prev_before = (keys[start] if start < len(keys) else keys[-1] + 1) if start > 0 else None
    return window, _links(request, next_after, prev_before)


def paginate_ids(
    request: Request, ids: Sequence[int], lookup: Callable[[int], T | None]
) -> tuple[list[T], dict[str, str]] | None:
    """:func:`paginate` over ``[lookup(i) for i in ids]`` without the ``None`` results, built lazily.

    ``ids`` are ascending and are the records' keys. Only the records of the page (and the nearest match on
    either side, for the links) are looked up, so paging through n records costs O(n) in all instead of
    O(n) per page. Returns None for a deprecated ``page`` beyond the first (the caller falls back to
    :func:`paginate`, which counts offsets).
    """
    per_page = _per_page(request)

    def any_match(index: int, step: int) -> int | None:
        """The key of the nearest match at ``index``, ``index + step``, ... within ``ids``, or None."""
        while 0 <= index < len(ids):
            if lookup(ids[index]) is not None:
                return ids[index]
            index += step
        return None

    window: list[T] = []
    keys: list[int] = []
    cursor = request.query_params.get("cursor")
    position = _decode_cursor(cursor) if cursor else None
    if position is not None and "before" in position:
        # The last per_page matches before the cursor (ascending); ids[index + 1:end] have been looked at.
        end = bisect.bisect_left(ids, position["before"])
        index = end - 1
        while index >= 0 and len(window) < per_page:
            record = lookup(ids[index])
            if record is not None:
                window.append(record)
                keys.append(ids[index])
            index -= 1
        window.reverse()
        keys.reverse()
        next_after = keys[-1] if window and any_match(end, 1) is not None else None
        prev_before = keys[0] if window and any_match(index, -1) is not None else None
        return window, _links(request, next_after, prev_before)

    if position is None:
        # ``page`` is deprecated but still accepted: plain offset paging (only page 1 is cheap here).
        page = _int_param(request, "page") or 1
        if page < 1:
            raise _bad_request("page", "must be greater than or equal to 1")
        if page > 1:
            return None
        start = 0
    else:
        start = bisect.bisect_right(ids, position["after"])
    index = start
    while index < len(ids) and len(window) < per_page:
        record = lookup(ids[index])
        if record is not None:
            window.append(record)
            keys.append(ids[index])
        index += 1
    next_after = keys[-1] if window and any_match(index, 1) is not None else None
    prev_before = None
    last_before = any_match(start - 1, -1)
    if last_before is not None:
        prev_before = keys[0] if window else last_before + 1
    return window, _links(request, next_after, prev_before)


def _list_response(
    request: Request, records: Sequence[T], render: Callable[[T], dict[str, Any]], key: Callable[[T], int]
) -> JSONResponse:
    window, headers = paginate(request, records, key)
    return JSONResponse([render(r) for r in window], headers=headers)


def _by_id(record: Any) -> int:
    return int(record.id)


# --------------------------------------------------------------------------------------------------
# Router
# --------------------------------------------------------------------------------------------------


def create_eduframe_router(state: SandboxState) -> APIRouter:
    """Build the Eduframe router (mounted at ``/eduframe/api/v1``) over ``state.eduframe``.

    :param state: The shared sandbox state.
    """
    ef: EduframeState = state.platform("eduframe")

    async def guard(request: Request) -> None:
        """Bearer auth, then the per-token rate limit, then time-driven changes."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise EduframeError(401, "Unauthorized: send Authorization: Bearer <api key>")
        if token not in ef.api_keys:
            raise EduframeError(401, "Unauthorized: invalid API key")
        wait = ef.limiter.hit(token)
        if wait is not None:
            raise EduframeError(
                429,
                f"Too Many Requests: limit is {ef.limiter.max_requests} requests per "
                f"{ef.limiter.per_seconds:g} seconds",
                headers={"Retry-After": str(wait)},
            )
        ef.apply_auto_progress()

    router = APIRouter(prefix=EDUFRAME_PREFIX, dependencies=[Depends(guard)], tags=["eduframe"])

    # -- educator ----------------------------------------------------------------------------------

    @router.get("/educators/current")
    async def get_current_educator() -> JSONResponse:
        return JSONResponse(ef.educator_json())

    # -- users -------------------------------------------------------------------------------------

    @router.get("/users")
    async def get_users(request: Request) -> JSONResponse:
        users: Iterable[EfUser] = ef.users.values()
        email = request.query_params.get("email")
        if email:
            users = [u for u in users if u.email.lower() == email.strip().lower()]
        role = request.query_params.get("role")
        if role:
            users = [u for u in users if role in u.roles]
        # ASSUMPTION: ``sort`` is accepted but lists always come id-ascending (cursor stability).
        return _list_response(request, sorted(users, key=_by_id), ef.user_json, _by_id)

    @router.post("/users", status_code=201)
    async def create_user(body: UserCreate) -> JSONResponse:
        return JSONResponse(ef.user_json(ef.create_user(body)), status_code=201)

    @router.get("/users/{user_id}")
    async def get_user(user_id: int) -> JSONResponse:
        return JSONResponse(ef.user_json(ef.user(user_id)))

    @router.patch("/users/{user_id}")
    async def update_user(user_id: int, body: UserPatch) -> JSONResponse:
        return JSONResponse(ef.user_json(ef.update_user(ef.user(user_id), body)))

    # -- planned courses ---------------------------------------------------------------------------

    @router.get("/planned_courses")
    async def get_planned_courses(request: Request) -> JSONResponse:
        course_ids = _int_list_param(request, "course_id")
        statuses = _enum_list_param(request, "status", ("planned", "active", "completed", "canceled"))
        type_ = request.query_params.get("type")
        start_from = _date_param(request, "start_date_from")
        start_until = _date_param(request, "start_date_until")
        availability = request.query_params.get("availability_state")
        found = [
            pc
            for pc in ef.planned_courses.values()
            if (not course_ids or pc.course_id in course_ids)
            and (not statuses or pc.status in statuses)
            and (not type_ or pc.type == type_)
            and (start_from is None or pc.start_date >= start_from)
            and (start_until is None or pc.start_date <= start_until)
            and (not availability or pc.availability_state == availability)
        ]
        return _list_response(request, sorted(found, key=_by_id), ef.planned_course_json, _by_id)

    @router.get("/planned_courses/{planned_course_id}")
    async def get_planned_course(planned_course_id: int) -> JSONResponse:
        return JSONResponse(ef.planned_course_json(_planned_course(planned_course_id)))

    @router.patch("/planned_courses/{planned_course_id}")
    async def update_planned_course(planned_course_id: int, body: PlannedCoursePatch) -> JSONResponse:
        pc = _planned_course(planned_course_id)
        sent = body.model_fields_set
        for name in (
            "is_published",
            "min_participants",
            "max_participants",
            "course_variant_id",
            "course_location_id",
            "end_date",
        ):
            if name in sent:
                setattr(pc, name, getattr(body, name))
        if "start_date" in sent and body.start_date is not None:
            pc.start_date = body.start_date
        if "cost_scheme" in sent and body.cost_scheme is not None:
            pc.cost_scheme = body.cost_scheme
        if "cost" in sent:
            pc.cost = None if body.cost is None else f"{body.cost:.2f}"
        if "duration" in sent and body.duration is not None:
            pc.duration_in_days = round(body.duration)
        pc.updated_at = ef.clock()
        return JSONResponse(ef.planned_course_json(pc))

    def _planned_course(planned_course_id: int) -> EfPlannedCourse:
        if planned_course_id not in ef.planned_courses:
            raise _not_found("PlannedCourse", planned_course_id)
        return ef.planned_courses[planned_course_id]

    # -- catalog variants --------------------------------------------------------------------------

    @router.get("/catalog/variants")
    async def get_catalog_variants(request: Request) -> JSONResponse:
        variantable_id = _int_param(request, "variantable_id")
        product_id = _int_param(request, "product_id")
        type_filter = request.query_params.get("variantable_type")
        if type_filter and type_filter not in _VARIANTABLE_TYPE_FILTER:
            raise _bad_request("variantable_type", "must be one of planned_course, program_edition")
        wanted_type = _VARIANTABLE_TYPE_FILTER.get(type_filter or "")
        found = [
            v
            for v in ef.variants.values()
            if (variantable_id is None or v.variantable_id == variantable_id)
            and (product_id is None or v.product_id == product_id)
            and (wanted_type is None or v.variantable_type == wanted_type)
        ]
        return _list_response(request, sorted(found, key=_by_id), ef.variant_json, _by_id)

    @router.get("/catalog/variants/{variant_id}")
    async def get_catalog_variant(variant_id: int) -> JSONResponse:
        if variant_id not in ef.variants:
            raise _not_found("Catalog::Variant", variant_id)
        return JSONResponse(ef.variant_json(ef.variants[variant_id]))

    # -- enrollments -------------------------------------------------------------------------------

    @router.get("/enrollments")
    async def get_enrollments(request: Request) -> JSONResponse:
        student_id = _int_param(request, "student_id")
        planned_course_id = _int_param(request, "planned_course_id")
        statuses = _enum_list_param(request, "status", ("confirmed", "active", "canceled", "completed"))
        with_canceled = _bool_param(request, "with_canceled", default=True)

        def matching(enrollment_id: int) -> EfEnrollment | None:
            e = ef.enrollments[enrollment_id]
            wanted = (
                (student_id is None or e.student_id == student_id)
                and (planned_course_id is None or e.planned_course_id == planned_course_id)
                and (not statuses or e.status in statuses)
                and (with_canceled or e.status != "canceled")
            )
            return e if wanted else None

        # An index narrows the candidates to one learner's or one course's enrollments (ids ascending).
        ids: Sequence[int] | None = None
        if student_id is not None:
            ids = ef.enrollment_ids_by_student.get(student_id, [])
        elif planned_course_id is not None:
            ids = ef.enrollment_ids_by_course.get(planned_course_id, [])
        page = paginate_ids(request, ids, matching) if ids is not None else None
        if page is not None:
            window, headers = page
            return JSONResponse([ef.enrollment_json(e) for e in window], headers=headers)
        candidates = ef.enrollments.values() if ids is None else [ef.enrollments[i] for i in ids]
        found = [e for e in candidates if matching(e.id) is not None]
        return _list_response(request, sorted(found, key=_by_id), ef.enrollment_json, _by_id)

    @router.get("/enrollments/{enrollment_id}")
    async def get_enrollment(enrollment_id: int) -> JSONResponse:
        return JSONResponse(ef.enrollment_json(ef.enrollment(enrollment_id)))

    @router.patch("/enrollments/{enrollment_id}")
    async def update_enrollment(enrollment_id: int, body: EnrollmentPatch) -> JSONResponse:
        enrollment = ef.enrollment(enrollment_id)
        if "end_date" in body.model_fields_set:
            if body.end_date is not None and body.end_date < enrollment.start_date:
                raise _invalid({"end_date": ["must be on or after the start date"]})
            enrollment.end_date = body.end_date
            enrollment.updated_at = ef.clock()
        return JSONResponse(ef.enrollment_json(enrollment))

    @router.put("/enrollments/{enrollment_id}/cancel")
    async def cancel_enrollment(enrollment_id: int) -> JSONResponse:
        enrollment = ef.enrollment(enrollment_id)
        # ASSUMPTION: canceling twice is harmless (200, unchanged); a completed enrollment cannot be
        # canceled (422).
        if enrollment.status == "completed":
            raise _invalid({"status": ["cannot cancel a completed enrollment"]})
        if enrollment.status != "canceled":
            ef.set_enrollment_status(enrollment_id, "canceled")
        return JSONResponse(ef.enrollment_json(enrollment))

    # -- orders ------------------------------------------------------------------------------------

    @router.get("/orders")
    async def get_orders(request: Request) -> JSONResponse:
        creator_id = _int_param(request, "creator_id")
        after_raw = request.query_params.get("created_at_after")
        after: datetime | None = None
        if after_raw:
            try:
                after = datetime.fromisoformat(after_raw.replace("Z", "+00:00"))
            except ValueError:
                raise _bad_request("created_at_after", "is not a date-time") from None
            if after.tzinfo is None:
                after = after.replace(tzinfo=ef.clock().tzinfo)
        found = [
            o
            for o in ef.orders.values()
            if (creator_id is None or o.creator_id == creator_id) and (after is None or o.created_at > after)
        ]
        return _list_response(request, sorted(found, key=_by_id), ef.order_json, _by_id)

    @router.post("/orders", status_code=201)
    async def create_order(body: OrderCreate) -> JSONResponse:
        return JSONResponse(ef.order_json(ef.create_order(body)), status_code=201)

    @router.get("/orders/{order_id}")
    async def get_order(order_id: int) -> JSONResponse:
        if order_id not in ef.orders:
            raise _not_found("Order", order_id)
        return JSONResponse(ef.order_json(ef.orders[order_id]))

    # -- grades ------------------------------------------------------------------------------------

    @router.post("/grades", status_code=201)
    async def create_grade(body: GradeCreate) -> JSONResponse:
        return JSONResponse(ef.grade_json(ef.create_grade(body)), status_code=201)

    @router.get("/grades/{grade_id}")
    async def get_grade(grade_id: int) -> JSONResponse:
        return JSONResponse(ef.grade_json(ef.grade(grade_id)))

    @router.patch("/grades/{grade_id}")
    async def update_grade(grade_id: int, body: GradePatch) -> JSONResponse:
        return JSONResponse(ef.grade_json(ef.update_grade(grade_id, body)))

    @router.delete("/grades/{grade_id}", status_code=204)
    async def delete_grade(grade_id: int) -> Response:
        ef.delete_grade(grade_id)
        return Response(status_code=204)

    # -- program enrollments -----------------------------------------------------------------------

    @router.get("/program/enrollments")
    async def get_program_enrollments(request: Request) -> JSONResponse:
        student_id = _int_param(request, "student_id")
        edition_id = _int_param(request, "edition_id")
        found = [
            p
            for p in ef.program_enrollments.values()
            if (student_id is None or p.student_id == student_id) and (edition_id is None or p.edition_id == edition_id)
        ]
        return _list_response(request, sorted(found, key=_by_id), ef.program_enrollment_json, _by_id)

    @router.get("/program/enrollments/{enrollment_id}")
    async def get_program_enrollment(enrollment_id: int) -> JSONResponse:
        return JSONResponse(ef.program_enrollment_json(ef.program_enrollment(enrollment_id)))

    @router.put("/program/enrollments/{enrollment_id}/award_certificate")
    async def award_certificate(enrollment_id: int, body: AwardCertificate) -> JSONResponse:
        pe = ef.award_certificate(ef.program_enrollment(enrollment_id), body.certificate_template_id)
        return JSONResponse(ef.program_enrollment_json(pe))

    @router.post("/program/enrollments/{enrollment_id}/delete_certificate")
    async def delete_certificate(enrollment_id: int) -> JSONResponse:
        pe = ef.delete_certificate(ef.program_enrollment(enrollment_id))
        return JSONResponse(ef.program_enrollment_json(pe))

    @router.put("/program/enrollments/{enrollment_id}/cancel")
    async def cancel_program_enrollment(enrollment_id: int) -> JSONResponse:
        pe = ef.program_enrollment(enrollment_id)
        if pe.state != "canceled":
            pe.state = "canceled"
            pe.updated_at = ef.clock()
        return JSONResponse(ef.program_enrollment_json(pe))

    # -- credits -----------------------------------------------------------------------------------

    @router.get("/credits")
    async def get_credits(request: Request) -> JSONResponse:
        student_id = _int_param(request, "student_id")
        found = [c for c in ef.credits.values() if student_id is None or c.student_id == student_id]
        return _list_response(request, sorted(found, key=_by_id), ef.credit_json, _by_id)

    # -- webhooks ----------------------------------------------------------------------------------

    def _webhook_seq(webhook: EfWebhook) -> int:
        return webhook.seq

    @router.get("/webhooks")
    async def get_webhooks(request: Request) -> JSONResponse:
        found = sorted(ef.webhooks.values(), key=_webhook_seq)
        return _list_response(request, found, ef.webhook_json, _webhook_seq)

    @router.post("/webhooks", status_code=201)
    async def create_webhook(body: WebhookCreate) -> JSONResponse:
        return JSONResponse(ef.webhook_json(ef.create_webhook(body)), status_code=201)

    @router.get("/webhooks/{webhook_id}")
    async def get_webhook(webhook_id: str) -> JSONResponse:
        return JSONResponse(ef.webhook_json(ef.webhook(webhook_id)))

    @router.patch("/webhooks/{webhook_id}")
    async def update_webhook(webhook_id: str, body: WebhookPatch) -> JSONResponse:
        webhook = ef.webhook(webhook_id)
        sent = body.model_fields_set
        _check_webhook(body.url if "url" in sent else None, body.events if "events" in sent else None)
        if "url" in sent and body.url is not None:
            webhook.url = body.url
        if "active" in sent and body.active is not None:
            webhook.active = body.active
        if "events" in sent:
            webhook.events = list(body.events or [])
        webhook.updated_at = ef.clock()
        return JSONResponse(ef.webhook_json(webhook))

    @router.delete("/webhooks/{webhook_id}")
    async def delete_webhook(webhook_id: str) -> JSONResponse:
        webhook = ef.webhook(webhook_id)
        del ef.webhooks[webhook_id]
        return JSONResponse(ef.webhook_json(webhook))

    return router


class RateLimitBody(BaseModel):
    """``PUT /_sandbox/eduframe/rate_limit``."""

    model_config = ConfigDict(extra="forbid")

    max_requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)


class CompleteBody(BaseModel):
    """``POST /_sandbox/eduframe/enrollments/{id}/complete``."""

    model_config = ConfigDict(extra="forbid")

    graduation_state: Literal["passed", "failed", "awaiting_judgement"] = "passed"


class AutoProgressBody(BaseModel):
    """``PUT /_sandbox/eduframe/auto_progress``; ``complete_after_seconds: null`` switches it off."""

    model_config = ConfigDict(extra="forbid")

    complete_after_seconds: float | None = Field(default=None, ge=0)
    graduation_state: Literal["passed", "failed", "awaiting_judgement"] = "passed"


class SeedEnrollmentsBody(BaseModel):
    """``POST /_sandbox/eduframe/seed_enrollments`` (benchmarks: many enrollments without many orders)."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=2_000_000)
    planned_course_id: int = EduframeSeed.FIRST_AID_FLEXIBLE_PLANNED_COURSE_ID
    student_ids: list[int] = Field(default_factory=lambda: list(EduframeSeed.LEARNER_IDS), min_length=1)


def create_eduframe_control_router(state: SandboxState) -> APIRouter:
    """Eduframe's control routes, mounted under ``/_sandbox``: rate limit, completions, auto-progress, seeds.

    :param state: The shared sandbox state.
    """
    router = APIRouter(tags=["sandbox control: eduframe"])
    ef: EduframeState = state.platform("eduframe")

    @router.get("/eduframe/state")
    async def eduframe_state() -> dict[str, Any]:
        return ef.summary()

    @router.get("/eduframe/rate_limit")
    async def get_rate_limit() -> dict[str, Any]:
        return {"max_requests": ef.limiter.max_requests, "per_seconds": ef.limiter.per_seconds}

    @router.put("/eduframe/rate_limit")
    async def put_rate_limit(body: RateLimitBody) -> dict[str, Any]:
        ef.limiter.configure(body.max_requests, body.per_seconds)
        return {"max_requests": ef.limiter.max_requests, "per_seconds": ef.limiter.per_seconds}

    @router.post("/eduframe/enrollments/{enrollment_id}/complete")
    async def complete_enrollment(enrollment_id: int, body: CompleteBody | None = None) -> JSONResponse:
        graduation_state = body.graduation_state if body is not None else "passed"
        enrollment = ef.set_enrollment_status(enrollment_id, "completed", graduation_state)
        return JSONResponse(ef.enrollment_json(enrollment))

    @router.post("/eduframe/enrollments/{enrollment_id}/start")
    async def start_enrollment(enrollment_id: int) -> JSONResponse:
        enrollment = ef.set_enrollment_status(enrollment_id, "active")
        return JSONResponse(ef.enrollment_json(enrollment))

    @router.post("/eduframe/seed_enrollments")
    async def seed_enrollments(body: SeedEnrollmentsBody) -> dict[str, Any]:
        ids = ef.seed_enrollments(body.count, body.planned_course_id, body.student_ids)
        return {"count": len(ids), "first_id": ids[0], "last_id": ids[-1]}

    @router.get("/eduframe/auto_progress")
    async def get_auto_progress() -> dict[str, Any]:
        rule = ef.auto_progress
        if rule is None:
            return {"complete_after_seconds": None, "graduation_state": "passed"}
        return {"complete_after_seconds": rule.complete_after_seconds, "graduation_state": rule.graduation_state}

    @router.put("/eduframe/auto_progress")
    async def put_auto_progress(body: AutoProgressBody) -> dict[str, Any]:
        if body.complete_after_seconds is None:
            ef.auto_progress = None
        else:
            ef.auto_progress = AutoProgress(body.complete_after_seconds, body.graduation_state)
            ef.apply_auto_progress()
        return body.model_dump()

    return router


def eduframe_error_renderer(status: int, message: str) -> Response:
    """``ErrorRenderer`` for the app's 404/405 handlers and the fault middleware."""
    return render_error(status, message)


def _eduframe_connection(sandbox_url: str) -> dict[str, Any]:
    return {
        "conn_type": "eduframe",
        "password": EDUFRAME_SANDBOX_API_KEY,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{EDUFRAME_PREFIX}"},
    }


MOUNT = PlatformMount(
    name="eduframe",
    prefix=EDUFRAME_PREFIX,
    router_factory=create_eduframe_router,
    render_error=eduframe_error_renderer,
    render_validation_error=render_validation_error,
    state_factory=lambda clock: EduframeState(clock=clock),
    control_router_factory=create_eduframe_control_router,
    connection_factory=_eduframe_connection,
    conn_id="eduframe_default",
)

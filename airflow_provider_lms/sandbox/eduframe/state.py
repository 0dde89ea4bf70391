"""The Eduframe double's state: its tables, id counters and indexes, lookups, list queries, auto-progress.

Plain Python over the records of ``records.py``: no requests, no responses. What each write does lives in
``rules.py`` (this module would pass 700 lines with it). A lookup of an unknown id raises an
:class:`~airflow_provider_lms.sandbox.eduframe.errors.EduframeError` 404, which the app renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from airflow_provider_lms.sandbox._common import utc_now
from airflow_provider_lms.sandbox.eduframe.errors import not_found
from airflow_provider_lms.sandbox.eduframe.ratelimit import (
    DEFAULT_RATE_LIMIT_REQUESTS,
    DEFAULT_RATE_LIMIT_SECONDS,
    SlidingWindowRateLimiter,
)
from airflow_provider_lms.sandbox.eduframe.records import (
    AutoProgress,
    EfCourse,
    EfCredit,
    EfEdition,
    EfEnrollment,
    EfGrade,
    EfOrder,
    EfPlannedCourse,
    EfProgramEnrollment,
    EfUser,
    EfVariant,
    EfWebhook,
    VariantableType,
)
from airflow_provider_lms.sandbox.eduframe.seed import EDUFRAME_SANDBOX_API_KEY, EduframeSeed, seed_demo_data

__all__ = ["EduframeState", "EnrollmentFilter"]


@dataclass(frozen=True)
class EnrollmentFilter:
    """The filters of ``GET /enrollments``.

    :param student_id: Only this learner's enrollments.
    :param planned_course_id: Only this planned course's enrollments.
    :param statuses: Only these statuses (empty: all).
    :param with_canceled: Whether canceled enrollments are listed.
    """

    student_id: int | None = None
    planned_course_id: int | None = None
    statuses: Sequence[str] = ()
    with_canceled: bool = True

    def matches(self, e: EfEnrollment) -> bool:
        """Whether ``e`` passes every filter."""
        return (
            (self.student_id is None or e.student_id == self.student_id)
            and (self.planned_course_id is None or e.planned_course_id == self.planned_course_id)
            and (not self.statuses or e.status in self.statuses)
            and (self.with_canceled or e.status != "canceled")
        )


def _by_id(record: Any) -> int:
    return int(record.id)


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
        seed_demo_data(self)

    def next_id(self, table: str) -> int:
        """The next id of ``table`` (ids count up per table from 1 after every reset)."""
        self._last_ids[table] = self._last_ids.get(table, 0) + 1
        return self._last_ids[table]

    def add_students(self, count: int, *, first_name: str = "Learner") -> list[int]:
        """Store ``count`` learners at once, without a request, and return their ids (setup for large runs).

        Each has the student role, the last name ``<n>`` (its place in this call) and the address
        ``learner<id>@sandbox.example``, unique in the state.
        """
        now = self.clock()
        ids = []
        for n in range(count):
            user_id = self.next_id("users")
            self.users[user_id] = EfUser(
                id=user_id,
                first_name=first_name,
                middle_name=None,
                last_name=str(n),
                email=f"learner{user_id}@sandbox.example",
                roles=["student"],
                created_at=now,
                updated_at=now,
            )
            ids.append(user_id)
        return ids

    # -- lookups (a 404 for an unknown id) ----------------------------------------------------------

    def user(self, user_id: int) -> EfUser:
        """The user or a 404."""
        if user_id not in self.users:
            raise not_found("User", user_id)
        return self.users[user_id]

    def user_by_email(self, email: str) -> EfUser | None:
        """Exact, case-insensitive e-mail match."""
        wanted = email.strip().lower()
        return next((u for u in self.users.values() if u.email.lower() == wanted), None)

    def planned_course(self, planned_course_id: int) -> EfPlannedCourse:
        """The planned course or a 404."""
        if planned_course_id not in self.planned_courses:
            raise not_found("PlannedCourse", planned_course_id)
        return self.planned_courses[planned_course_id]

    def variant(self, variant_id: int) -> EfVariant:
        """The catalog variant or a 404."""
        if variant_id not in self.variants:
            raise not_found("Catalog::Variant", variant_id)
        return self.variants[variant_id]

    def enrollment(self, enrollment_id: int) -> EfEnrollment:
        """The enrollment or a 404."""
        if enrollment_id not in self.enrollments:
            raise not_found("Enrollment", enrollment_id)
        return self.enrollments[enrollment_id]

    def program_enrollment(self, enrollment_id: int) -> EfProgramEnrollment:
        """The program enrollment or a 404."""
        if enrollment_id not in self.program_enrollments:
            raise not_found("Program::Enrollment", enrollment_id)
        return self.program_enrollments[enrollment_id]

    def order(self, order_id: int) -> EfOrder:
        """The order or a 404."""
        if order_id not in self.orders:
            raise not_found("Order", order_id)
        return self.orders[order_id]

    def grade(self, grade_id: int) -> EfGrade:
        """The grade or a 404."""
        if grade_id not in self.grades:
            raise not_found("Grade", grade_id)
        return self.grades[grade_id]

    def webhook(self, webhook_id: str) -> EfWebhook:
        """The webhook or a 404."""
        if webhook_id not in self.webhooks:
            raise not_found("Webhook", webhook_id)
        return self.webhooks[webhook_id]

    # -- list queries (id-ascending, the order lists are paged in) ----------------------------------

    def find_users(self, email: str | None = None, role: str | None = None) -> list[EfUser]:
        """Users with this e-mail (case-insensitive) and role; ``None``/empty: any."""
        users: Iterable[EfUser] = self.users.values()
        if email:
            users = [u for u in users if u.email.lower() == email.strip().lower()]
        if role:
            users = [u for u in users if role in u.roles]
        return sorted(users, key=_by_id)

    def find_planned_courses(
        self,
        course_ids: Sequence[int] = (),
        statuses: Sequence[str] = (),
        type_: str | None = None,
        start_from: date | None = None,
        start_until: date | None = None,
        availability: str | None = None,
    ) -> list[EfPlannedCourse]:
        """Planned courses passing every filter given (empty/``None``: no filter)."""
        found = [
            pc
            for pc in self.planned_courses.values()
            if (not course_ids or pc.course_id in course_ids)
            and (not statuses or pc.status in statuses)
            and (not type_ or pc.type == type_)
            and (start_from is None or pc.start_date >= start_from)
            and (start_until is None or pc.start_date <= start_until)
            and (not availability or pc.availability_state == availability)
        ]
        return sorted(found, key=_by_id)

    def find_variants(
        self,
        variantable_id: int | None = None,
        product_id: int | None = None,
        variantable_type: VariantableType | None = None,
    ) -> list[EfVariant]:
        """Catalog variants passing every filter given."""
        found = [
            v
            for v in self.variants.values()
            if (variantable_id is None or v.variantable_id == variantable_id)
            and (product_id is None or v.product_id == product_id)
            and (variantable_type is None or v.variantable_type == variantable_type)
        ]
        return sorted(found, key=_by_id)

    def indexed_enrollment_ids(self, flt: EnrollmentFilter) -> Sequence[int] | None:
        """The ascending ids an index narrows ``flt`` to (one learner's or one course's), or None (no index)."""
        if flt.student_id is not None:
            return self.enrollment_ids_by_student.get(flt.student_id, [])
        if flt.planned_course_id is not None:
            return self.enrollment_ids_by_course.get(flt.planned_course_id, [])
        return None

    def matching_enrollment(self, flt: EnrollmentFilter, enrollment_id: int) -> EfEnrollment | None:
        """The enrollment if it passes ``flt``, else None (the lookup :func:`paginate_ids` takes)."""
        e = self.enrollments[enrollment_id]
        return e if flt.matches(e) else None

    def find_enrollments(self, flt: EnrollmentFilter) -> list[EfEnrollment]:
        """Every enrollment passing ``flt`` (through an index where one applies)."""
        ids = self.indexed_enrollment_ids(flt)
        candidates = self.enrollments.values() if ids is None else [self.enrollments[i] for i in ids]
        return sorted((e for e in candidates if flt.matches(e)), key=_by_id)

    def find_orders(self, creator_id: int | None = None, created_after: datetime | None = None) -> list[EfOrder]:
        """Orders by this creator, created after this moment."""
        found = [
            o
            for o in self.orders.values()
            if (creator_id is None or o.creator_id == creator_id)
            and (created_after is None or o.created_at > created_after)
        ]
        return sorted(found, key=_by_id)

    def find_program_enrollments(
        self, student_id: int | None = None, edition_id: int | None = None
    ) -> list[EfProgramEnrollment]:
        """Program enrollments of this learner in this edition."""
        found = [
            p
            for p in self.program_enrollments.values()
            if (student_id is None or p.student_id == student_id) and (edition_id is None or p.edition_id == edition_id)
        ]
        return sorted(found, key=_by_id)

    def find_credits(self, student_id: int | None = None) -> list[EfCredit]:
        """Credits of this learner."""
        return sorted(
            (c for c in self.credits.values() if student_id is None or c.student_id == student_id), key=_by_id
        )

    def webhooks_in_order(self) -> list[EfWebhook]:
        """Every webhook in registration order (``seq``: their ids are strings)."""
        return sorted(self.webhooks.values(), key=lambda w: w.seq)

    def participants(self, planned_course_id: int) -> int:
        """Enrollments in a planned course that are not canceled (confirmed, active or completed)."""
        ids = self.enrollment_ids_by_course.get(planned_course_id, ())
        return sum(1 for i in ids if self.enrollments[i].status != "canceled")

    def places_left(self, pc: EfPlannedCourse) -> int | None:
        """Free places in a planned course; ``None`` when it has no maximum."""
        if pc.max_participants is None:
            return None
        return max(0, pc.max_participants - self.participants(pc.id))

    def embedded_grade(self, grade_id: int | None) -> EfGrade | None:
        """The grade an enrollment points at, if any."""
        return self.grades.get(grade_id) if grade_id is not None else None

    # -- time-driven changes and the enrollment index ---------------------------------------------

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

    def add_enrollment(
        self,
        student_id: int,
        pc: EfPlannedCourse,
        order_id: int | None,
        start: date,
        end: date | None,
        now: datetime,
    ) -> EfEnrollment:
        """Store a new confirmed enrollment (awaiting judgement) and index it by learner and by course."""
        enrollment_id = self.next_id("enrollments")
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
        self.enrollment_ids_by_student.setdefault(student_id, []).append(enrollment_id)
        self.enrollment_ids_by_course.setdefault(pc.id, []).append(enrollment_id)
        return enrollment

    def has_live_enrollment(self, student_id: int, planned_course_id: int) -> bool:
        """Whether the learner has an enrollment in the planned course that is not canceled."""
        return any(
            self.enrollments[i].planned_course_id == planned_course_id and self.enrollments[i].status != "canceled"
            for i in self.enrollment_ids_by_student.get(student_id, ())
        )

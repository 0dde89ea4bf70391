"""The records the Eduframe double stores (one dataclass per table) and the enums they use; no HTTP here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

__all__ = [
    "GRADEABLE_ENROLLMENT",
    "GRADEABLE_PROGRAM_ENROLLMENT",
    "WEBHOOK_EVENTS",
    "AutoProgress",
    "CostScheme",
    "EfCourse",
    "EfCredit",
    "EfEdition",
    "EfEnrollment",
    "EfGrade",
    "EfOrder",
    "EfPlannedCourse",
    "EfProgramEnrollment",
    "EfUser",
    "EfVariant",
    "EfWebhook",
    "EnrollmentStatus",
    "GraduationState",
    "Locale",
    "PlannedCourseStatus",
    "PlannedCourseType",
    "VariantableType",
]

EnrollmentStatus = Literal["confirmed", "active", "canceled", "completed"]
GraduationState = Literal["awaiting_judgement", "failed", "passed"]
Locale = Literal["de", "en", "en-GB", "en-US", "es", "is", "nl"]
PlannedCourseType = Literal["FixedPlannedCourse", "FlexiblePlannedCourse"]
PlannedCourseStatus = Literal["planned", "active", "completed", "canceled"]
CostScheme = Literal["free", "order", "student", "tbd"]
VariantableType = Literal["PlannedCourse", "Program::Edition"]

GRADEABLE_ENROLLMENT = "Enrollment"
GRADEABLE_PROGRAM_ENROLLMENT = "Program::Enrollment"

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


@dataclass
class EfUser:
    """A user (learner, admin); see ``UserWithIncludes``.

    :param id: User id (seeded 1-6, new users from 7).
    :param roles: ``"admin"``, ``"student"``, ...; an order adds ``"student"`` to each learner.
    :param custom: Custom field values, merged on PATCH.
    :param address: The ``Address`` object built from ``address_attributes`` (``None``: none given).
    :param times_updated: How many ``PATCH /users/{id}`` calls it received (sandbox-only).
    """

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
    times_updated: int = 0


@dataclass
class EfCourse:
    """A course (only its name is kept: the sandbox serves no ``/courses`` endpoint).

    :param id: Course id.
    :param name: Course name; the seeded variants are named after it.
    """

    id: int
    name: str


@dataclass
class EfPlannedCourse:
    """A planned course (a run of a course); see ``PlannedCourseWithIncludes``.

    :param course_id: The course it runs.
    :param type: Fixed (one start date for all) or flexible (each learner starts on enrolling).
    :param end_date: Last day; ``None`` for a flexible course.
    :param max_participants: Places; ``None``: unlimited.
    :param cost: Decimal string, e.g. ``"495.00"``; ``None`` when free.
    """

    id: int
    course_id: int
    type: PlannedCourseType
    status: PlannedCourseStatus
    start_date: date
    end_date: date | None
    duration_in_days: int | None
    min_participants: int | None
    max_participants: int | None
    cost_scheme: CostScheme
    cost: str | None
    created_at: datetime
    updated_at: datetime
    is_published: bool = True
    availability_state: Literal["open", "closed"] = "open"
    course_variant_id: int | None = None
    course_location_id: int | None = None


@dataclass
class EfVariant:
    """A catalog variant: the thing an order buys; see ``VariantWithIncludes``.

    :param product_id: The catalog product it belongs to.
    :param variantable_type: What an order for it enrolls in: a planned course or a program edition.
    :param variantable_id: The id of that planned course or program edition.
    """

    id: int
    product_id: int
    name: str
    variantable_type: VariantableType
    variantable_id: int
    cost_scheme: CostScheme
    cost: str | None
    created_at: datetime
    updated_at: datetime
    sku: str | None = None
    is_published: bool = True


@dataclass
class EfEdition:
    """A program edition and the planned courses it contains.

    :param program_id: The program it is an edition of.
    :param planned_course_ids: The planned courses a program order enrolls each learner in.
    """

    id: int
    program_id: int
    name: str
    planned_course_ids: list[int]


@dataclass
class EfOrder:
    """An order; see ``OrderWithIncludes``.

    :param number: Order number shown to people (``1000 + id``).
    :param items: ``(order item id, student id)`` per learner, in the order given.
    :param status: ``"active"`` when approved on creation, else ``"requested"``.
    :param cost: Cost per order or per student (``cost_scheme``), as a decimal string.
    """

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
    """A grade on an enrollment or program enrollment; ``score`` is kept as a number.

    :param grader_id: The user whose key graded (the sandbox's API user).
    :param grade: Grade text, e.g. ``"pass"``; at least one of ``grade`` and ``score`` is set.
    :param gradeable_type: ``"Enrollment"`` or ``"Program::Enrollment"``.
    :param gradeable_id: The id of that enrollment or program enrollment.
    """

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
    """A learner's enrollment in a planned course; see ``EnrollmentWithIncludes``.

    :param order_id: The order that made it; ``None`` for enrollments seeded through the control API.
    :param status: confirmed, active, canceled or completed.
    :param grade_id: Its grade, embedded in the JSON; ``None``: not graded.
    :param times_canceled: How often ``PUT /enrollments/{id}/cancel`` changed it (sandbox-only: a test's
        "canceled once").
    """

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
    times_canceled: int = 0


@dataclass
class EfProgramEnrollment:
    """A learner's enrollment in a program edition; the certificate fields are sandbox-only.

    :param personal_program_id: The learner's personal program (one per program enrollment).
    :param graduation_date: Set when a certificate is awarded, cleared when it is deleted.
    :param certificate_awarded: Whether a certificate was awarded (not in the API's JSON).
    :param certificate_template_id: The template it was awarded with (not in the API's JSON).
    :param certificates_deleted: How many certificates ``delete_certificate`` removed (not in the API's JSON).
    """

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
    certificates_deleted: int = 0
    grade_id: int | None = None
    label_ids: list[int] = field(default_factory=list)


@dataclass
class EfCredit:
    """Awarded credits (continuing-education points).

    :param credits: Points awarded.
    :param course_id: The course they were earned in, if any.
    :param enrollment_id: The enrollment they were earned in, if any.
    """

    id: int
    student_id: int
    credits: float
    description: str | None
    course_id: int | None
    enrollment_id: int | None
    created_at: datetime


@dataclass
class EfWebhook:
    """A webhook registration (ids are strings per the spec).

    :param id: UUID-shaped id.
    :param seq: Registration number: orders webhooks for pagination, as their ids are strings.
    :param events: Subscribed events, from :data:`WEBHOOK_EVENTS`.
    """

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

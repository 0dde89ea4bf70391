"""What each write does to an :class:`~airflow_provider_lms.sandbox.eduframe.state.EduframeState`.

One function per action (``POST /orders``, ``PATCH /grades/{id}``, a control-API completion, ...): plain
Python over the state's records, raising :class:`~airflow_provider_lms.sandbox.eduframe.errors.EduframeError`
(404 for an unknown id, 422 with field errors) where Eduframe refuses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_lms.sandbox.eduframe.bodies import (
    EnrollmentPatch,
    GradeCreate,
    GradePatch,
    OrderCreate,
    PlannedCoursePatch,
    UserCreate,
    UserPatch,
    WebhookCreate,
    WebhookPatch,
)
from airflow_provider_lms.sandbox.eduframe.errors import invalid
from airflow_provider_lms.sandbox.eduframe.records import (
    GRADEABLE_ENROLLMENT,
    GRADEABLE_PROGRAM_ENROLLMENT,
    WEBHOOK_EVENTS,
    AutoProgress,
    EfEnrollment,
    EfGrade,
    EfOrder,
    EfPlannedCourse,
    EfProgramEnrollment,
    EfUser,
    EfVariant,
    EfWebhook,
    EnrollmentStatus,
    GraduationState,
)
from airflow_provider_lms.sandbox.eduframe.state import EduframeState

__all__ = [
    "award_certificate",
    "cancel_enrollment",
    "cancel_program_enrollment",
    "create_grade",
    "create_order",
    "create_user",
    "create_webhook",
    "delete_certificate",
    "delete_grade",
    "delete_webhook",
    "seed_enrollments",
    "set_auto_progress",
    "set_enrollment_status",
    "update_enrollment",
    "update_grade",
    "update_planned_course",
    "update_user",
    "update_webhook",
]

# ASSUMPTION: the spec only says gradeable_type is e.g. "Enrollment" ("enrollment / ..."); these spellings
# are accepted and normalised to the two model names the sandbox can grade.
_GRADEABLE_ALIASES = {
    "enrollment": GRADEABLE_ENROLLMENT,
    "program::enrollment": GRADEABLE_PROGRAM_ENROLLMENT,
    "programenrollment": GRADEABLE_PROGRAM_ENROLLMENT,
    "program_enrollment": GRADEABLE_PROGRAM_ENROLLMENT,
}

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: Fields of a planned-course PATCH that are copied as sent (``null`` included).
_PLANNED_COURSE_PLAIN_FIELDS = (
    "is_published",
    "min_participants",
    "max_participants",
    "course_variant_id",
    "course_location_id",
    "end_date",
)


# -- control API ------------------------------------------------------------------------------------


def set_auto_progress(
    ef: EduframeState, complete_after_seconds: float | None, graduation_state: GraduationState
) -> None:
    """Switch auto-progress on (applied at once) or, with ``None``, off."""
    if complete_after_seconds is None:
        ef.auto_progress = None
        return
    ef.auto_progress = AutoProgress(complete_after_seconds, graduation_state)
    ef.apply_auto_progress()


def set_enrollment_status(
    ef: EduframeState, enrollment_id: int, status: EnrollmentStatus, graduation_state: GraduationState | None = None
) -> EfEnrollment:
    """Move an enrollment along (control API: a learner starts or finishes)."""
    enrollment = ef.enrollment(enrollment_id)
    enrollment.status = status
    if graduation_state is not None:
        enrollment.graduation_state = graduation_state
    enrollment.updated_at = ef.clock()
    return enrollment


def seed_enrollments(ef: EduframeState, count: int, planned_course_id: int, student_ids: Sequence[int]) -> list[int]:
    """Add ``count`` confirmed enrollments at once (control API, for benchmarks); return their ids.

    Learners take turns from ``student_ids``; no orders are placed, because a benchmark that pages
    through or waits on enrollments does not care how they came to be.
    """
    pc = ef.planned_course(planned_course_id)
    now = ef.clock()
    turns = len(student_ids)
    return [
        ef.add_enrollment(student_ids[i % turns], pc, None, pc.start_date, pc.end_date, now).id for i in range(count)
    ]


# -- users ------------------------------------------------------------------------------------------


def _check_email(ef: EduframeState, email: str, errors: dict[str, list[str]], exclude_id: int | None = None) -> None:
    if not _EMAIL_RE.match(email):
        errors.setdefault("email", []).append("is invalid")
        return
    existing = ef.user_by_email(email)
    if existing is not None and existing.id != exclude_id:
        errors.setdefault("email", []).append("has already been taken")


def create_user(ef: EduframeState, body: UserCreate) -> EfUser:
    """``POST /users``: e-mail must be valid and unique (case-insensitive)."""
    errors: dict[str, list[str]] = {}
    for name in ("first_name", "last_name"):
        if not getattr(body, name).strip():
            errors[name] = ["can't be blank"]
    _check_email(ef, body.email, errors)
    if errors:
        raise invalid(errors)
    now = ef.clock()
    user_id = ef.next_id("users")
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
    ef.users[user_id] = user
    return user


def update_user(ef: EduframeState, user_id: int, body: UserPatch) -> EfUser:
    """``PATCH /users/{id}``: only the fields sent change."""
    user = ef.user(user_id)
    sent = body.model_fields_set
    errors: dict[str, list[str]] = {}
    if "email" in sent and body.email is not None:
        _check_email(ef, body.email, errors, exclude_id=user.id)
    for name in ("first_name", "last_name"):
        if name in sent and not (getattr(body, name) or "").strip():
            errors[name] = ["can't be blank"]
    if errors:
        raise invalid(errors)
    for name in ("first_name", "middle_name", "last_name", "email", "locale", "wants_newsletter"):
        if name in sent:
            setattr(user, name, getattr(body, name))
    if "label_ids" in sent:
        user.label_ids = list(body.label_ids or [])
    if "custom" in sent:
        user.custom = {**user.custom, **(body.custom or {})}
    if "address_attributes" in sent:
        user.address = _address(body.address_attributes, base=user.address)
    user.updated_at = ef.clock()
    user.times_updated += 1
    return user


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


# -- planned courses and enrollments ----------------------------------------------------------------


def update_planned_course(ef: EduframeState, planned_course_id: int, body: PlannedCoursePatch) -> EfPlannedCourse:
    """``PATCH /planned_courses/{id}``: only the fields sent change; ``cost`` is kept as a decimal string."""
    pc = ef.planned_course(planned_course_id)
    sent = body.model_fields_set
    for name in _PLANNED_COURSE_PLAIN_FIELDS:
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
    return pc


def update_enrollment(ef: EduframeState, enrollment_id: int, body: EnrollmentPatch) -> EfEnrollment:
    """``PATCH /enrollments/{id}``: only ``end_date`` changes, never before the start date."""
    enrollment = ef.enrollment(enrollment_id)
    if "end_date" in body.model_fields_set:
        if body.end_date is not None and body.end_date < enrollment.start_date:
            raise invalid({"end_date": ["must be on or after the start date"]})
        enrollment.end_date = body.end_date
        enrollment.updated_at = ef.clock()
    return enrollment


def cancel_enrollment(ef: EduframeState, enrollment_id: int) -> EfEnrollment:
    """``PUT /enrollments/{id}/cancel``."""
    enrollment = ef.enrollment(enrollment_id)
    # ASSUMPTION: canceling twice is harmless (200, unchanged); a completed enrollment cannot be
    # canceled (422).
    if enrollment.status == "completed":
        raise invalid({"status": ["cannot cancel a completed enrollment"]})
    if enrollment.status != "canceled":
        set_enrollment_status(ef, enrollment_id, "canceled")
        enrollment.times_canceled += 1
    return enrollment


# -- orders -----------------------------------------------------------------------------------------


def _check_order(ef: EduframeState, body: OrderCreate) -> EfVariant:
    """The variant the order buys, or a 422 naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    variant = ef.variants.get(body.catalog_variant_id)
    if variant is None:
        errors["catalog_variant_id"] = ["must exist"]
    if body.creator_id not in ef.users:
        errors["creator_id"] = ["must exist"]
    student_ids = list(body.student_ids or [])
    if not student_ids:
        errors["student_ids"] = ["can't be blank"]
    unknown = [s for s in student_ids if s not in ef.users]
    if unknown:
        errors["student_ids"] = [f"contains unknown user ids: {', '.join(map(str, unknown))}"]
    if variant is not None and variant.variantable_type == "Program::Edition":
        if variant.variantable_id not in ef.editions:  # pragma: no cover - seeds are consistent
            errors["catalog_variant_id"] = ["has no program edition"]
    elif variant is not None and variant.variantable_id not in ef.planned_courses:  # pragma: no cover
        errors["catalog_variant_id"] = ["has no planned course"]
    if errors:
        raise invalid(errors)
    assert variant is not None
    return variant


def create_order(ef: EduframeState, body: OrderCreate) -> EfOrder:
    """``POST /orders``: enrolls each student.

    An order for a planned course never checks for an existing enrollment (the API documents no such
    check, which is why a client must look before it orders); a program order creates a program
    enrollment per student every time.
    """
    variant = _check_order(ef, body)
    student_ids = list(body.student_ids or [])
    now = ef.clock()
    order_id = ef.next_id("orders")
    account_id = body.account_id or _personal_account(ef, student_ids[0])
    items = [(ef.next_id("order_items"), student_id) for student_id in student_ids]
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
    ef.orders[order_id] = order
    for student_id in student_ids:
        if variant.variantable_type == "PlannedCourse":
            _enroll(ef, student_id, ef.planned_courses[variant.variantable_id], order_id, now)
        else:
            _enroll_in_program(ef, student_id, variant.variantable_id, order_id, now)
    for student_id in student_ids:
        if "student" not in ef.users[student_id].roles:
            ef.users[student_id].roles.append("student")
    return order


def _enroll(ef: EduframeState, student_id: int, pc: EfPlannedCourse, order_id: int, now: datetime) -> EfEnrollment:
    if pc.type == "FixedPlannedCourse":
        start, end = pc.start_date, pc.end_date
    else:
        # A flexible course runs per learner, from the day of enrollment.
        start = now.date()
        end = start + timedelta(days=pc.duration_in_days or 0) if pc.duration_in_days else None
    return ef.add_enrollment(student_id, pc, order_id, start, end, now)


def _enroll_in_program(ef: EduframeState, student_id: int, edition_id: int, order_id: int, now: datetime) -> None:
    edition = ef.editions[edition_id]
    pe_id = ef.next_id("program_enrollments")
    ef.program_enrollments[pe_id] = EfProgramEnrollment(
        id=pe_id,
        student_id=student_id,
        edition_id=edition.id,
        personal_program_id=ef.next_id("personal_programs"),
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
        if not ef.has_live_enrollment(student_id, pc_id):
            _enroll(ef, student_id, ef.planned_courses[pc_id], order_id, now)


def _personal_account(ef: EduframeState, user_id: int) -> int:
    # ASSUMPTION: without account_id the order goes to the first student's personal account,
    # created on first use with ids counting up.
    if user_id not in ef.personal_accounts:
        ef.personal_accounts[user_id] = ef.next_id("accounts")
    return ef.personal_accounts[user_id]


# -- grades -----------------------------------------------------------------------------------------


def _gradeable(ef: EduframeState, gradeable_type: str, gradeable_id: int) -> EfEnrollment | EfProgramEnrollment:
    if gradeable_type == GRADEABLE_ENROLLMENT and gradeable_id in ef.enrollments:
        return ef.enrollments[gradeable_id]
    if gradeable_type == GRADEABLE_PROGRAM_ENROLLMENT and gradeable_id in ef.program_enrollments:
        return ef.program_enrollments[gradeable_id]
    raise invalid({"gradeable_id": ["must exist"]})


def create_grade(ef: EduframeState, body: GradeCreate) -> EfGrade:
    """``POST /grades``: grade an enrollment (its embedded ``grade`` is set)."""
    gradeable_type = _GRADEABLE_ALIASES.get(body.gradeable_type.strip().lower())
    if gradeable_type is None:
        raise invalid({"gradeable_type": ["is not included in the list"]})
    if body.grade is None and body.score is None:
        raise invalid({"base": ["at least one of grade and score is required"]})
    target = _gradeable(ef, gradeable_type, body.gradeable_id)
    if target.grade_id is not None:
        if ef.duplicate_grades == "reject":
            raise invalid({"gradeable_id": ["has already been graded"]})
        ef.grades.pop(target.grade_id, None)
    now = ef.clock()
    grade_id = ef.next_id("grades")
    grade = EfGrade(
        id=grade_id,
        grader_id=ef.api_user_id,
        grade=body.grade,
        score=body.score,
        gradeable_type=gradeable_type,
        gradeable_id=body.gradeable_id,
        comment=body.comment,
        created_at=now,
        updated_at=now,
    )
    ef.grades[grade_id] = grade
    target.grade_id = grade_id
    target.updated_at = now
    return grade


def update_grade(ef: EduframeState, grade_id: int, body: GradePatch) -> EfGrade:
    """``PATCH /grades/{id}``: grade, score and comment can change."""
    grade = ef.grade(grade_id)
    sent = body.model_fields_set
    new_grade = body.grade if "grade" in sent else grade.grade
    new_score = body.score if "score" in sent else grade.score
    if new_grade is None and new_score is None:
        raise invalid({"base": ["at least one of grade and score is required"]})
    grade.grade, grade.score = new_grade, new_score
    if "comment" in sent:
        grade.comment = body.comment
    grade.updated_at = ef.clock()
    return grade


def delete_grade(ef: EduframeState, grade_id: int) -> None:
    """``DELETE /grades/{id}``: the gradeable's embedded grade goes back to null."""
    grade = ef.grade(grade_id)
    del ef.grades[grade_id]
    owners: Sequence[EfEnrollment | EfProgramEnrollment] = [
        *ef.enrollments.values(),
        *ef.program_enrollments.values(),
    ]
    for owner in owners:
        if owner.grade_id == grade.id:
            owner.grade_id = None


# -- program enrollments ----------------------------------------------------------------------------


def award_certificate(ef: EduframeState, enrollment_id: int, template_id: int) -> EfProgramEnrollment:
    """``PUT /program/enrollments/{id}/award_certificate``."""
    pe = ef.program_enrollment(enrollment_id)
    if template_id not in ef.certificate_templates:
        raise invalid({"certificate_template_id": ["must exist"]})
    if pe.state == "canceled":
        raise invalid({"state": ["is canceled"]})
    now = ef.clock()
    # ASSUMPTION: awarding marks the program enrollment passed with today's graduation date; awarding
    # again is harmless (200, the first graduation date is kept).
    pe.graduation_state = "passed"
    if pe.graduation_date is None or not pe.certificate_awarded:
        pe.graduation_date = now.date()
    pe.certificate_awarded = True
    pe.certificate_template_id = template_id
    pe.updated_at = now
    return pe


def delete_certificate(ef: EduframeState, enrollment_id: int) -> EfProgramEnrollment:
    """``POST /program/enrollments/{id}/delete_certificate``."""
    pe = ef.program_enrollment(enrollment_id)
    # ASSUMPTION: a program enrollment that holds no certificate has none to delete: 422 naming
    # ``certificate`` (the document lists 422 for this operation and does not say when it is given).
    if not pe.certificate_awarded:
        raise invalid({"certificate": ["does not exist"]})
    # ASSUMPTION: deleting the certificate revokes the graduation (the API has a
    # program_enrollment.graduation_revoked event): back to awaiting_judgement, no graduation date.
    pe.certificate_awarded = False
    pe.certificates_deleted += 1
    pe.certificate_template_id = None
    pe.graduation_state = "awaiting_judgement"
    pe.graduation_date = None
    pe.updated_at = ef.clock()
    return pe


def cancel_program_enrollment(ef: EduframeState, enrollment_id: int) -> EfProgramEnrollment:
    """``PUT /program/enrollments/{id}/cancel``: canceling twice changes nothing."""
    pe = ef.program_enrollment(enrollment_id)
    if pe.state != "canceled":
        pe.state = "canceled"
        pe.updated_at = ef.clock()
    return pe


# -- webhooks ---------------------------------------------------------------------------------------


def _check_webhook(url: str | None, events: list[str] | None) -> None:
    errors: dict[str, list[str]] = {}
    if url is not None and not re.match(r"^https?://[^\s/]+", url):
        errors["url"] = ["is invalid"]
    bad = [e for e in events or [] if e not in WEBHOOK_EVENTS]
    if bad:
        errors["events"] = [f"contains unknown events: {', '.join(bad)}"]
    if errors:
        raise invalid(errors)


def create_webhook(ef: EduframeState, body: WebhookCreate) -> EfWebhook:
    """``POST /webhooks`` (registration only: the sandbox does not deliver webhooks)."""
    _check_webhook(body.url, body.events)
    now = ef.clock()
    seq = ef.next_id("webhooks")
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
    ef.webhooks[webhook_id] = webhook
    return webhook


def update_webhook(ef: EduframeState, webhook_id: str, body: WebhookPatch) -> EfWebhook:
    """``PATCH /webhooks/{id}``: only the fields sent change; ``url`` and ``active`` cannot become null."""
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
    return webhook


def delete_webhook(ef: EduframeState, webhook_id: str) -> EfWebhook:
    """``DELETE /webhooks/{id}``: answers the webhook as it was."""
    webhook = ef.webhook(webhook_id)
    del ef.webhooks[webhook_id]
    return webhook

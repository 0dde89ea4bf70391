"""Eduframe's JSON bodies: every property the OpenAPI schema lists, rendered from the stored records.

Views read the state (places left, embedded grades) but never change it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_lms.sandbox._common import iso_date, iso_timestamp
from airflow_provider_lms.sandbox.eduframe.records import (
    AutoProgress,
    EfCredit,
    EfEnrollment,
    EfGrade,
    EfOrder,
    EfPlannedCourse,
    EfProgramEnrollment,
    EfUser,
    EfVariant,
    EfWebhook,
)
from airflow_provider_lms.sandbox.eduframe.seed import EduframeSeed

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.eduframe.ratelimit import SlidingWindowRateLimiter
    from airflow_provider_lms.sandbox.eduframe.state import EduframeState

__all__ = [
    "auto_progress_json",
    "credit_json",
    "educator_json",
    "enrollment_json",
    "grade_json",
    "order_json",
    "planned_course_json",
    "program_enrollment_json",
    "rate_limit_json",
    "score_text",
    "summary_json",
    "user_json",
    "variant_json",
    "webhook_json",
]


def score_text(score: float | None) -> str | None:
    """Eduframe returns scores as decimal strings ("8.5")."""
    if score is None:
        return None
    text = repr(float(score))
    return text if "e" not in text else format(Decimal(text), "f")


def educator_json() -> dict[str, Any]:
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


def user_json(user: EfUser) -> dict[str, Any]:
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


def planned_course_json(ef: EduframeState, pc: EfPlannedCourse) -> dict[str, Any]:
    """``PlannedCourseWithIncludes``."""
    current = ef.participants(pc.id)
    places = ef.places_left(pc)
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


def variant_json(ef: EduframeState, variant: EfVariant) -> dict[str, Any]:
    """``VariantWithIncludes``."""
    places: int | None = None
    if variant.variantable_type == "PlannedCourse" and variant.variantable_id in ef.planned_courses:
        places = ef.places_left(ef.planned_courses[variant.variantable_id])
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


def grade_json(grade: EfGrade) -> dict[str, Any]:
    """``Grade`` (score as a string, as the real API returns it)."""
    score = score_text(grade.score)
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


def enrollment_json(ef: EduframeState, e: EfEnrollment) -> dict[str, Any]:
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
        "grade": _embedded_grade(ef, e.grade_id),
    }


def program_enrollment_json(ef: EduframeState, p: EfProgramEnrollment) -> dict[str, Any]:
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
        "grade": _embedded_grade(ef, p.grade_id),
    }


def order_json(order: EfOrder) -> dict[str, Any]:
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


def credit_json(c: EfCredit) -> dict[str, Any]:
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


def webhook_json(w: EfWebhook) -> dict[str, Any]:
    """``Webhook``."""
    return {
        "id": w.id,
        "url": w.url,
        "active": w.active,
        "events": list(w.events),
        "created_at": iso_timestamp(w.created_at),
        "updated_at": iso_timestamp(w.updated_at),
    }


def _embedded_grade(ef: EduframeState, grade_id: int | None) -> dict[str, Any] | None:
    grade = ef.embedded_grade(grade_id)
    return grade_json(grade) if grade is not None else None


def summary_json(ef: EduframeState) -> dict[str, Any]:
    """A compact view for test assertions (``GET /_sandbox/eduframe/state``)."""

    def grade_summary(grade_id: int | None) -> dict[str, Any] | None:
        grade = ef.embedded_grade(grade_id)
        return None if grade is None else {"score": score_text(grade.score), "grade": grade.grade}

    return {
        "users": [
            {
                "id": u.id,
                "email": u.email,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "times_updated": u.times_updated,
            }
            for u in ef.users.values()
        ],
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
            for e in ef.enrollments.values()
        ],
        "orders": [
            {
                "id": o.id,
                "catalog_variant_id": o.catalog_variant_id,
                "student_ids": o.student_ids,
                "status": o.status,
            }
            for o in ef.orders.values()
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
            for p in ef.program_enrollments.values()
        ],
        "grades": [
            {
                "id": g.id,
                "gradeable_type": g.gradeable_type,
                "gradeable_id": g.gradeable_id,
                "score": score_text(g.score),
                "grade": g.grade,
            }
            for g in ef.grades.values()
        ],
        "webhooks": [{"id": w.id, "url": w.url, "events": list(w.events)} for w in ef.webhooks.values()],
        "auto_progress": None if ef.auto_progress is None else auto_progress_json(ef.auto_progress),
        "rate_limit": rate_limit_json(ef.limiter),
    }


def auto_progress_json(rule: AutoProgress | None) -> dict[str, Any]:
    """The auto-progress rule as the control API shows it (off: ``complete_after_seconds`` is null)."""
    if rule is None:
        return {"complete_after_seconds": None, "graduation_state": "passed"}
    return {"complete_after_seconds": rule.complete_after_seconds, "graduation_state": rule.graduation_state}


def rate_limit_json(limiter: SlidingWindowRateLimiter) -> dict[str, Any]:
    """The rate limit as the control API shows it."""
    return {"max_requests": limiter.max_requests, "per_seconds": limiter.per_seconds}

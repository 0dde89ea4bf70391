"""The request bodies of the Eduframe API (unknown fields are ignored, as a Rails API does).

The state's rules take these models as they are: which fields a PATCH sent (``model_fields_set``) is part
of the rule ("only the fields sent change").
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from airflow_provider_lms.sandbox.eduframe.records import Locale

__all__ = [
    "AwardCertificate",
    "EnrollmentPatch",
    "GradeCreate",
    "GradePatch",
    "OrderCreate",
    "PlannedCoursePatch",
    "UserCreate",
    "UserPatch",
    "WebhookCreate",
    "WebhookPatch",
]


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

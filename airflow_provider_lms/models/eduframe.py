"""Eduframe records, as the OpenAPI document (eduframe-openapi-v1.json) describes them.

The models accept fields we do not use (Eduframe adds fields over time) and are strict on the ones
the flows rely on: ids, statuses and graduation states.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.models.inputs import shown
from airflow_provider_lms.models.state import EnrollmentState, NormalizedEnrollment

__all__ = [
    "EduframeCatalogVariant",
    "EduframeCredit",
    "EduframeEducator",
    "EduframeEnrollment",
    "EduframeGrade",
    "EduframeOrder",
    "EduframePlannedCourse",
    "EduframeProgramEnrollment",
    "EduframeUser",
    "EduframeWebhook",
    "EnrollmentStatus",
    "GraduationState",
    "eduframe_id",
]

EnrollmentStatus = Literal["confirmed", "active", "canceled", "completed"]
GraduationState = Literal["awaiting_judgement", "failed", "passed"]


def eduframe_id(field: str, value: Any) -> int:
    """Eduframe ids are positive integers; anything else is a typo in the DAG."""
    # Shown cut short and without str() (a 5,000-digit int cannot be printed): it must not fill the task log.
    bad = f"must be a positive integer Eduframe id, got {shown(value)}"
    if isinstance(value, bool):
        raise LmsInputError(field, bad)
    text = value.strip() if isinstance(value, str) else ""
    if isinstance(value, int):
        if value.bit_length() > 63:
            raise LmsInputError(field, bad)
        number = value
    # ASCII digits only: str.isdigit() also accepts Arabic-Indic and full-width digits, which int() silently turns into
    # another learner's id 123. At most 19 digits (the largest 64-bit id), which also keeps int() from
    # raising on huge strings.
    elif text.isascii() and text.isdigit() and len(text) <= 19:
        number = int(text)
    else:
        raise LmsInputError(field, bad)
    if number < 1 or number > 2**63 - 1:
        raise LmsInputError(field, bad)
    return number


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class EduframeEducator(_Record):
    """The educator (tenant) the API key belongs to."""

    id: int
    name: str | None = None
    slug: str | None = None


class EduframeUser(_Record):
    """A user (learner, teacher or staff)."""

    id: int
    email: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None


class EduframePlannedCourse(_Record):
    """A planned course: one run of a course with dates."""

    id: int
    course_id: int
    status: Literal["planned", "active", "completed", "canceled"]
    start_date: str | None = None
    end_date: str | None = None


class EduframeCatalogVariant(_Record):
    """A sellable variant of a planned course or program edition; orders are placed on it."""

    id: int
    variantable_type: str
    variantable_id: int
    name: str | None = None


class EduframeGrade(_Record):
    """A grade on an enrollment. Eduframe returns ``score`` as a string."""

    id: int
    grade: str | None = None
    score: str | None = None
    gradeable_id: int | None = None
    gradeable_type: str | None = None
    comment: str | None = None

    @property
    def score_value(self) -> float | None:
        """The score as a number."""
        try:
            return None if self.score in (None, "") else float(str(self.score))
        except ValueError:
            return None


class EduframeEnrollment(_Record):
    """A learner's enrollment in a planned course."""

    id: int
    student_id: int
    planned_course_id: int
    order_id: int | None = None
    status: EnrollmentStatus
    graduation_state: GraduationState | None = None
    start_date: str | None = None
    end_date: str | None = None
    updated_at: str | None = None
    grade: EduframeGrade | None = None

    def normalized(self) -> NormalizedEnrollment:
        """This enrollment in the platform-neutral form."""
        if self.status == "canceled":
            state = EnrollmentState.CANCELED
        elif self.status == "completed":
            state = {
                "passed": EnrollmentState.PASSED,
                "failed": EnrollmentState.FAILED,
            }.get(self.graduation_state or "", EnrollmentState.COMPLETED)
        elif self.status == "active":
            state = EnrollmentState.IN_PROGRESS
        else:
            state = EnrollmentState.ENROLLED
        return NormalizedEnrollment(
            platform="Eduframe",
            state=state,
            enrollment_id=str(self.id),
            learner_id=str(self.student_id),
            course_id=str(self.planned_course_id),
            completed_at=self.updated_at if state.is_finished else None,
            raw=self.model_dump(mode="json"),
        )


class EduframeOrder(_Record):
    """An order: how Eduframe enrolls learners."""

    id: int
    status: str | None = None
    catalog_variant_id: int | None = None
    creator_id: int | None = None


class EduframeProgramEnrollment(_Record):
    """A learner's enrollment in a program edition; certificates are awarded on it."""

    id: int
    student_id: int
    edition_id: int
    state: Literal["confirmed", "canceled"]
    graduation_state: GraduationState | None = None
    graduation_date: str | None = None

    @property
    def certified(self) -> bool:
        """Whether a certificate has been awarded.

        ASSUMPTION: the OpenAPI document does not say which field award_certificate changes; a
        graduation date together with the ``passed`` state is taken as "certificate awarded".
        """
        return self.graduation_state == "passed" and bool(self.graduation_date)


class EduframeCredit(_Record):
    """Credits (e.g. continuing-education points) a learner earned."""

    id: int
    student_id: int
    credits: float
    description: str | None = None
    course_id: int | None = None
    enrollment_id: int | None = None


class EduframeWebhook(_Record):
    """A webhook subscription."""

    id: str
    url: str | None = None
    active: bool | None = None
    events: list[Any] = []

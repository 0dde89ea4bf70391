"""The Eduframe demo data (see the package docstring's table), as data plus one loop per table.

Every reset seeds the same records with the same ids; dates are relative to the reset day (UTC) and the
seeded timestamps are the reset moment minus 30 days, on the hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from airflow_provider_lms.sandbox.eduframe.records import (
    CostScheme,
    EfCourse,
    EfCredit,
    EfEdition,
    EfPlannedCourse,
    EfUser,
    EfVariant,
    PlannedCourseStatus,
    PlannedCourseType,
    VariantableType,
)

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.eduframe.state import EduframeState

__all__ = ["EDUFRAME_SANDBOX_API_KEY", "EduframeSeed", "seed_demo_data"]

EDUFRAME_SANDBOX_API_KEY = "sandbox-eduframe-key"


class EduframeSeed:
    """Ids of the seeded demo data; identical after every reset (see the package docstring)."""

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


#: (first name, middle name, last name, e-mail, roles); ids 1-6 in this order.
_PEOPLE: tuple[tuple[str, str | None, str, str, tuple[str, ...]], ...] = (
    ("Ada", None, "Admin", EduframeSeed.ADMIN_EMAIL, ("admin",)),
    ("Anna", "de", "Vries", EduframeSeed.LEARNER_EMAILS[0], ("student",)),
    ("Bram", None, "Jansen", EduframeSeed.LEARNER_EMAILS[1], ("student",)),
    ("Chloé", None, "Bakker", EduframeSeed.LEARNER_EMAILS[2], ("student",)),
    ("Daan", None, "Visser", EduframeSeed.LEARNER_EMAILS[3], ("student",)),
    ("Eva", None, "Smit", EduframeSeed.LEARNER_EMAILS[4], ("student",)),
)

_COURSES = ("Workplace Safety", "First Aid at Work")


@dataclass(frozen=True)
class _PlannedCourseSeed:
    """One seeded planned course; start and end are days from the reset day."""

    course_id: int
    type: PlannedCourseType
    status: PlannedCourseStatus
    start_in_days: int
    end_in_days: int | None
    duration: int
    max_participants: int | None
    cost_scheme: CostScheme
    cost: str | None


_PLANNED_COURSES = (
    _PlannedCourseSeed(1, "FixedPlannedCourse", "planned", 14, 15, 2, 20, "order", "495.00"),
    _PlannedCourseSeed(2, "FixedPlannedCourse", "planned", 30, 30, 1, 12, "student", "250.00"),
    _PlannedCourseSeed(2, "FlexiblePlannedCourse", "active", -7, None, 60, None, "free", None),
)

#: (planned course id, product id) of the planned-course variants 1-3.
_PLANNED_COURSE_VARIANTS = ((1, 1), (2, 2), (3, 2))

_PROGRAM_NAME = "Certified Safety Officer"
_EDITION_NAME = "Certified Safety Officer (sandbox edition)"
_PROGRAM_PRODUCT_ID = 3
_PROGRAM_COST = "1250.00"
_CERTIFICATE_TEMPLATE_NAME = "Certified Safety Officer certificate"

#: (student id, credits, description, course id).
_CREDITS: tuple[tuple[int, float, str, int | None], ...] = (
    (2, 2.0, "First Aid refresher (external provider)", None),
    (2, 1.5, "Toolbox meeting: working at height", None),
    (3, 4.0, "Workplace Safety (previous edition)", 1),
)


def seed_demo_data(state: EduframeState) -> None:
    """Fill a freshly reset ``state`` with the demo data; ids come from its counters, so they are 1, 2, ..."""
    now = state.clock()
    today = now.date()
    seeded_at = (now - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)

    for first, middle, last, email, roles in _PEOPLE:
        user_id = state.next_id("users")
        state.users[user_id] = EfUser(
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
    for name in _COURSES:
        course_id = state.next_id("courses")
        state.courses[course_id] = EfCourse(course_id, name)
    for spec in _PLANNED_COURSES:
        _add_planned_course(state, spec, today, seeded_at)
    for pc_id, product_id in _PLANNED_COURSE_VARIANTS:
        pc = state.planned_courses[pc_id]
        # Names without dates, so they are identical after every reset.
        name = state.courses[pc.course_id].name + (" (flexible)" if pc.type == "FlexiblePlannedCourse" else "")
        _add_variant(state, product_id, name, "PlannedCourse", pc_id, pc.cost_scheme, pc.cost, seeded_at)
    _seed_program(state, seeded_at)
    for student_id, credits, description, credit_course_id in _CREDITS:
        credit_id = state.next_id("credits")
        state.credits[credit_id] = EfCredit(
            credit_id, student_id, credits, description, credit_course_id, None, seeded_at
        )


def _seed_program(state: EduframeState, seeded_at: datetime) -> None:
    """The program, its one edition (with planned course 1), its variant and its certificate template."""
    state.programs[EduframeSeed.PROGRAM_ID] = _PROGRAM_NAME
    edition_id = state.next_id("editions")
    state.editions[edition_id] = EfEdition(
        id=edition_id,
        program_id=EduframeSeed.PROGRAM_ID,
        name=_EDITION_NAME,
        planned_course_ids=[EduframeSeed.WORKPLACE_SAFETY_PLANNED_COURSE_ID],
    )
    _add_variant(
        state, _PROGRAM_PRODUCT_ID, _EDITION_NAME, "Program::Edition", edition_id, "order", _PROGRAM_COST, seeded_at
    )
    state.certificate_templates[EduframeSeed.CERTIFICATE_TEMPLATE_ID] = _CERTIFICATE_TEMPLATE_NAME


def _add_planned_course(state: EduframeState, spec: _PlannedCourseSeed, today: date, at: datetime) -> None:
    pc_id = state.next_id("planned_courses")
    state.planned_courses[pc_id] = EfPlannedCourse(
        id=pc_id,
        course_id=spec.course_id,
        type=spec.type,
        status=spec.status,
        start_date=today + timedelta(days=spec.start_in_days),
        end_date=None if spec.end_in_days is None else today + timedelta(days=spec.end_in_days),
        duration_in_days=spec.duration,
        min_participants=4 if spec.max_participants else None,
        max_participants=spec.max_participants,
        cost_scheme=spec.cost_scheme,
        cost=spec.cost,
        created_at=at,
        updated_at=at,
    )


def _add_variant(
    state: EduframeState,
    product_id: int,
    name: str,
    variantable_type: VariantableType,
    variantable_id: int,
    cost_scheme: CostScheme,
    cost: str | None,
    at: datetime,
) -> None:
    variant_id = state.next_id("variants")
    state.variants[variant_id] = EfVariant(
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

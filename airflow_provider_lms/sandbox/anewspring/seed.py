"""The aNewSpring demo data (the seed table is in the package docstring), identical after every reset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_lms.sandbox.anewspring.records import AnsCourse, AnsPartDef, stable_uid

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.anewspring.state import ANewSpringSandboxState

__all__ = ["ANEWSPRING_SANDBOX_API_KEY", "ANewSpringSeed", "seed"]

#: The API key the seeded double accepts (``X-API-Key`` or ``_key``).
ANEWSPRING_SANDBOX_API_KEY = "sandbox-anewspring-key"


class ANewSpringSeed:
    """Ids of the seeded demo data (see the package docstring)."""

    LEARNER_IDS = ("learner-001", "learner-002", "learner-003", "learner-004", "learner-005")
    LEARNER_NAMES = ("Anna de Vries", "Bram Jansen", "Chloé Bakker", "Daan Visser", "Eva Smit")
    SAFETY_COURSE_ID = "VEILIG-2026"
    FIRST_AID_COURSE_ID = "EHBO-2026"
    SAFETY_EXAM_ACTIVITY_ID = "EXAMEN-PRAKTIJK"
    SAFETY_CERTIFICATE_ACTIVITY_ID = "CERT-VEILIG"
    FIRST_AID_WEBINAR_ACTIVITY_ID = "WEBINAR-EHBO"
    GROUPS = {
        "COHORT-2026-A": ("learner-001", "learner-002", "learner-003"),
        "COHORT-2026-B": ("learner-004", "learner-005"),
    }


_PartSpec = tuple[str | None, str, str, str, str]  # external id, name, block, type, subType

#: (number, id, name, activities): the number makes the activities' ``partId`` (number * 100 + position).
_COURSES: tuple[tuple[int, str, str, tuple[_PartSpec, ...]], ...] = (
    (
        1,
        ANewSpringSeed.SAFETY_COURSE_ID,
        "Veilig werken 2026",
        (
            ("LES-INTRO", "Introductie veilig werken", "Blok 1", "Lesson", "Lesson"),
            ("TOETS-KENNIS", "Kennistoets veiligheid", "Blok 1", "Assessment", "Assessment"),
            ("EXAMEN-PRAKTIJK", "Praktijkexamen", "Blok 2", "External", "External"),
            (None, "Evaluatie", "Blok 2", "Evaluation", "Inquiry"),
            ("CERT-VEILIG", "Certificaat Veilig werken", "Blok 3", "Certificate", "Certificate"),
        ),
    ),
    (
        2,
        ANewSpringSeed.FIRST_AID_COURSE_ID,
        "EHBO basis 2026",
        (
            ("DOC-EHBO", "EHBO naslag", "Blok 1", "Lesson", "Documentation"),
            ("WEBINAR-EHBO", "Webinar reanimatie", "Blok 1", "External", "Webinar"),
            ("CERT-EHBO", "Certificaat EHBO", "Blok 2", "Certificate", "Certificate"),
        ),
    ),
)
_RESELLER = "SANDBOX-ACADEMY"


def _course_parts(number: int, specs: tuple[_PartSpec, ...]) -> tuple[AnsPartDef, ...]:
    return tuple(
        AnsPartDef(
            id=ext_id,
            uid=stable_uid("part", f"{number}:{name}"),
            part_id=number * 100 + position,
            name=name,
            block_name=block,
            type=type_,
            sub_type=sub_type,
        )
        for position, (ext_id, name, block, type_, sub_type) in enumerate(specs, start=1)
    )


def seed(state: ANewSpringSandboxState) -> None:
    """Fill a freshly emptied state with the demo learners, courses and groups."""
    for user_id, name in zip(ANewSpringSeed.LEARNER_IDS, ANewSpringSeed.LEARNER_NAMES, strict=True):
        first, *rest = name.split(" ")
        middle, last = (" ".join(rest[:-1]), rest[-1]) if rest else ("", "")
        fields = {"firstName": first, "lastName": last, "email": f"{user_id}@sandbox.example"}
        if middle:
            fields["middleName"] = middle  # "Anna de Vries": the "de" is aNewSpring's middleName
        state.add_user(user_id, name, fields=fields)
    for number, course_id, name, parts in _COURSES:
        course = AnsCourse(
            id=course_id,
            uid=stable_uid("course", course_id),
            name=name,
            reseller=_RESELLER,
            parts=_course_parts(number, parts),
        )
        state.courses[course.id] = course
        state.courses_by_uid[course.uid] = course
    for group_id, members in ANewSpringSeed.GROUPS.items():
        state.set_group(group_id, members)

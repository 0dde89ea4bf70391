"""One normalized enrollment state for every platform, with the platform's own record kept beside it."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pendulum
from pydantic import BaseModel, Field

__all__ = ["TERMINAL_FAILURE_STATES", "EnrollmentState", "NormalizedEnrollment", "completion_verdict"]


class EnrollmentState(str, Enum):
    """Where a learner stands in a course, in words that mean the same on every platform.

    ``completed`` means finished with no judgement (yet); ``passed`` and ``failed`` are finished and
    judged; ``canceled`` and ``expired`` can never complete.
    """

    NOT_ENROLLED = "not_enrolled"
    ENROLLED = "enrolled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PASSED = "passed"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def is_finished(self) -> bool:
        """The learner finished the course (judged or not)."""
        return self in (EnrollmentState.COMPLETED, EnrollmentState.PASSED, EnrollmentState.FAILED)


#: States from which an enrollment can never become completed: waiting on them is pointless.
TERMINAL_FAILURE_STATES = frozenset({EnrollmentState.CANCELED, EnrollmentState.EXPIRED, EnrollmentState.NOT_ENROLLED})


class NormalizedEnrollment(BaseModel):
    """An enrollment as every platform's hook reports it.

    :param platform: the platform's name.
    :param state: the normalized state.
    :param enrollment_id: the platform's enrollment id, when it has one.
    :param learner_id: the learner's id on the platform.
    :param course_id: the course's id on the platform.
    :param completed_at: when the learner completed, ISO 8601, when known.
    :param certified: whether the learner holds the course's certificate, where the platform says.
    :param raw: the platform's own record, unchanged.
    """

    platform: str
    state: EnrollmentState
    enrollment_id: str | None = None
    learner_id: str | None = None
    course_id: str | None = None
    completed_at: str | None = None
    certified: bool | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


def completion_verdict(
    enrollment: NormalizedEnrollment, *, require_passed: bool = False, completed_since: str | None = None
) -> tuple[str, str]:
    """Decide whether a wait for completion is over: ``("done" | "wait" | "fail", reason)``.

    Shared by the sensor's poke and the deferrable trigger, so both modes agree.

    :param completed_since: ISO 8601 date or time; a completion before it does not count (periodic
        re-certification: the last result must be newer than this).
    """
    state = enrollment.state
    if completed_since and state.is_finished:
        # Second precision: platforms such as Pynter store whole seconds, so a completion in the same second
        # as a cut-off with microseconds must still count.
        since = pendulum.parse(completed_since).replace(microsecond=0)  # type: ignore[union-attr,call-arg]
        done_at = pendulum.parse(enrollment.completed_at) if enrollment.completed_at else None
        if done_at is None or done_at < since:  # type: ignore[operator]
            when = enrollment.completed_at or "at an unknown time"
            return "wait", (
                f"enrollment {enrollment.enrollment_id or '?'} (learner {enrollment.learner_id}, course "
                f"{enrollment.course_id}) was completed {when}, before {completed_since}; waiting for a new completion"
            )
    who = (
        f"enrollment {enrollment.enrollment_id or '?'} (learner {enrollment.learner_id}, course {enrollment.course_id})"
    )
    if state in TERMINAL_FAILURE_STATES:
        return "fail", f"{who} is {state.value}; it can never complete"
    if require_passed:
        if state is EnrollmentState.PASSED:
            return "done", f"{who} passed"
        if state is EnrollmentState.FAILED:
            return "fail", f"{who} completed but did not pass"
        return "wait", f"{who} is {state.value}; waiting for a pass"
    if state.is_finished:
        return "done", f"{who} is {state.value}"
    return "wait", f"{who} is {state.value}; waiting for completion"

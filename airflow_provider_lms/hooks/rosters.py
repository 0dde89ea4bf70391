"""Course rosters: the state of every waited-on learner of a course from one list read, for shared waits.

A triggerer that runs 1,000 completion waits on 10 courses should not send 1,000 requests per poll. Where a
platform lists a course's enrollments in one (paged) call, the waits of one course share that read
(:mod:`airflow_provider_lms.triggers.shared_poll`). A hook with such a call has two methods, from the mixins
here (each is one of the platform hook's bases):

* ``roster_entry(ref)``: which course roster answers for ``ref``, and the key its state has there, or None
  when the roster cannot answer (no course in the ref, for example): the wait then polls on its own;
* ``aget_course_states(course_id, keys)``: one read of the course's roster, as ``{key: NormalizedEnrollment}``
  for the keys asked for that are on it. A key that is missing is read on its own, once per poll, with
  ``aget_enrollment_state`` (whose answer for a learner with no enrollment is ``not_enrolled``, ending the wait).

The rosters: Eduframe ``GET /enrollments?planned_course_id=`` (Link-header pages of 100); aNewSpring
``getStudentSubscriptions/{courseID}`` (one answer, no pagination; it carries no completion, see
:class:`ANewSpringRosterMixin`); Pluvo ``portfolioReport(relatedObjectIds:)`` (pages of 50). Pynter has no
roster with results (``GetPersonsOnLearningModules`` lists who may take a module, not how far they are) and
Lära's waits are not on enrollments: their waits poll on their own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import httpx

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.http.errors import LmsNotFoundError, LmsTransportError
from airflow_provider_lms.models.eduframe import EduframeEnrollment
from airflow_provider_lms.models.eduframe import eduframe_id as _eduframe_id
from airflow_provider_lms.models.inputs import validate_id
from airflow_provider_lms.models.state import NormalizedEnrollment

if TYPE_CHECKING:
    from airflow_provider_lms.http.client import LmsHttpClient
    from airflow_provider_lms.models.pluvo import PluvoPortfolioReportItem, PluvoUser

__all__ = [
    "ANEWSPRING_CONFIRM_SECONDS",
    "ANewSpringRosterMixin",
    "CourseRosters",
    "EduframeRosterMixin",
    "PluvoRosterMixin",
    "roster_entry",
]


@runtime_checkable
class CourseRosters(Protocol):
    """A hook whose platform lists a course's enrollments in one call (see the module docstring)."""

    def roster_entry(self, ref: EnrollmentRef) -> tuple[str, str] | None:
        """``(course id, key)`` of ``ref`` on its course's roster, or None: poll ``ref`` on its own."""

    async def aget_course_states(self, course_id: str, keys: Collection[str]) -> dict[str, NormalizedEnrollment]:
        """One read of the course's roster: the states of the ``keys`` on it."""


def roster_entry(hook: Any, ref: EnrollmentRef) -> tuple[str, str] | None:
    """Where ``ref``'s state is on a course roster of ``hook``'s platform; None when it must be polled alone."""
    if isinstance(hook, CourseRosters):
        return hook.roster_entry(ref)
    return None


def _json(response: httpx.Response) -> Any:
    return response.json()


# -- Eduframe ------------------------------------------------------------------------------------------------
class EduframeRosterMixin:
    """``GET /enrollments?planned_course_id=``: a planned course's enrollments, canceled ones included.

    Keys: ``enrollment:<id>`` for a ref with an enrollment id (and a course), ``learner:<id>`` for a learner
    and a course. A learner's state is the one the per-enrollment read gives: their first enrollment in the
    course that is not canceled, else their last canceled one.
    """

    if TYPE_CHECKING:

        async def aget_conn(self) -> LmsHttpClient: ...

        @staticmethod
        def _enrollment_params(
            student_id: int | str | None,
            planned_course_id: int | str | None,
            status: str | list[str] | None,
            with_canceled: bool | None,
        ) -> list[tuple[str, Any]]: ...

    def roster_entry(self, ref: EnrollmentRef) -> tuple[str, str] | None:
        """The planned course's roster answers for any ref that names the planned course."""
        if ref.course_id is None:
            return None
        course = str(_eduframe_id("course_id", ref.course_id))
        if ref.enrollment_id is not None:
            return course, f"enrollment:{_eduframe_id('enrollment_id', ref.enrollment_id)}"
        return course, f"learner:{_eduframe_id('learner_id', ref.learner_id)}"

    async def aget_course_states(self, course_id: str, keys: Collection[str]) -> dict[str, NormalizedEnrollment]:
        """The states of ``keys`` from one paged read of the planned course's enrollments."""
        client = await self.aget_conn()
        params = self._enrollment_params(None, course_id, None, None)
        states: dict[str, NormalizedEnrollment] = {}
        settled: set[str] = set()  # learners whose enrollment that is not canceled was found
        async for record in client.aiter_link_items("/enrollments", params):
            # Only the records waited on are validated and normalized: that is most of a poll's CPU.
            by_id = f"enrollment:{record.get('id')}" if isinstance(record, dict) else ""
            by_learner = f"learner:{record.get('student_id')}" if isinstance(record, dict) else ""
            wants_id = by_id in keys
            wants_learner = by_learner in keys and by_learner not in settled
            if not (wants_id or wants_learner):
                continue
            enrollment = EduframeEnrollment.model_validate(record)
            state = enrollment.normalized()
            if wants_id:
                states[by_id] = state
            if wants_learner:
                states[by_learner] = state  # a canceled one stands until one that is not turns up
                if enrollment.status != "canceled":
                    settled.add(by_learner)
        return states


# -- aNewSpring ----------------------------------------------------------------------------------------------
# ASSUMPTION: every change to a learner's results (an activity completed, the course completed, a certificate
# passed) changes one of the roster's figures (progress, knowledge intake, objectives progress, the flags),
# as the document's definitions of them imply. As a safety net each waited-on learner's results are read at
# least this often anyway; an hour, so that 1,000 waits add about one read per 3.6 s.
ANEWSPRING_CONFIRM_SECONDS = 3600.0
#: At most this many getResults reads at once in one roster poll (learners whose figures changed).
_ANEWSPRING_READS = 8


@dataclass
class _Seen:
    figures: str
    state: NormalizedEnrollment
    read_at: float


class ANewSpringRosterMixin:
    """``getStudentSubscriptions/{courseID}`` (with its figures), then ``getResults`` for learners that changed.

    The roster names every subscribed learner with their figures (progress ``11/16``, knowledge intake,
    objectives progress, active, expired, finished) but says nothing of completion or a pass, which only
    ``getResults/{userID}/{courseID}`` tells. So one roster read per poll decides whom to read: a learner seen
    for the first time, whose figures changed since the last poll, or whose results were last read
    :data:`ANEWSPRING_CONFIRM_SECONDS` ago. The others keep the state read before. Keys: the learner's id.
    A course the roster does not know (404) leaves every learner to a read of their own.
    """

    if TYPE_CHECKING:
        platform: ClassVar[str]

        async def aget_conn(self) -> LmsHttpClient: ...

        def _path(self, function: str, *ids: tuple[str, Any]) -> tuple[str, dict[str, str]]: ...

        async def aget_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment: ...

    def roster_entry(self, ref: EnrollmentRef) -> tuple[str, str] | None:
        """Refs by learner and course (the only form aNewSpring's waits take) are on the course's roster."""
        if ref.learner_id is None or ref.course_id is None:
            return None
        return validate_id("course_id", ref.course_id), validate_id("learner_id", ref.learner_id)

    def _roster_memory(self, course_id: str) -> dict[str, _Seen]:
        # Kept on the hook, which the triggerer shares per connection and closes when its last wait ends.
        memory: dict[str, dict[str, _Seen]] | None = getattr(self, "_roster_seen", None)
        if memory is None:
            memory = {}
            self._roster_seen = memory
        return memory.setdefault(course_id, {})

    async def aget_course_states(self, course_id: str, keys: Collection[str]) -> dict[str, NormalizedEnrollment]:
        """The states of the learners ``keys`` from the course's roster and the results of those that changed."""
        client = await self.aget_conn()
        path, params = self._path("getStudentSubscriptions", ("course_id", course_id))
        # ASSUMPTION: skipStats=false returns the figures (the public client's default is true, the server's
        # is not published); the figures are what tells a learner's progress changed.
        params["skipStats"] = "false"
        try:
            body = await client.arequest("GET", path, params=params, parse=_json)
        except LmsNotFoundError:
            return {}
        students = body.get("students") if isinstance(body, dict) else None
        if not isinstance(students, list):
            raise LmsTransportError(
                "malformed getStudentSubscriptions answer", platform=self.platform, path="/getStudentSubscriptions"
            )
        seen = self._roster_memory(course_id)
        now = time.monotonic()
        states: dict[str, NormalizedEnrollment] = {}
        stale: list[tuple[str, str]] = []
        for student in students:
            learner = student.get("id") if isinstance(student, dict) else None
            if not isinstance(learner, str) or learner not in keys:
                continue
            figures = repr(sorted(student.items()))
            before = seen.get(learner)
            if before is not None and before.figures == figures and now - before.read_at < ANEWSPRING_CONFIRM_SECONDS:
                states[learner] = before.state
            else:
                stale.append((learner, figures))
        gate = asyncio.Semaphore(_ANEWSPRING_READS)

        async def read(learner: str, figures: str) -> None:
            async with gate:
                state = await self.aget_enrollment_state(EnrollmentRef(learner_id=learner, course_id=course_id))
            seen[learner] = _Seen(figures, state, time.monotonic())
            states[learner] = state

        await asyncio.gather(*(read(learner, figures) for learner, figures in stale))
        for learner in [k for k in seen if k not in keys]:  # learners no longer waited on are forgotten
            del seen[learner]
        return states


# -- Pluvo ---------------------------------------------------------------------------------------------------
class PluvoRosterMixin:
    """``portfolioReport(relatedObjectIds: [training])``: every learner's progress in the training, paged.

    A learner waited on but not in the report is looked for among the training's participants
    (``paginatedUsers(trainingIds:)``, paged, read only then): found, they are ``enrolled`` (nothing done yet),
    as the per-learner read says. Keys: the learner's UUID.
    """

    if TYPE_CHECKING:

        def _pair(self, ref: EnrollmentRef) -> tuple[str, str]: ...

        @staticmethod
        def _row_matches(row: PluvoPortfolioReportItem, learner: str, training: str) -> bool: ...

        def _normalized(self, row: PluvoPortfolioReportItem, learner: str, training: str) -> NormalizedEnrollment: ...

        def _enrolled(self, learner: str, training: str) -> NormalizedEnrollment: ...

        def aportfolio_report(
            self, *, user_ids: Any = None, training_ids: Any = None
        ) -> AsyncIterator[PluvoPortfolioReportItem]: ...

        def alist_users(self, **filters: Any) -> AsyncIterator[PluvoUser]: ...

    def roster_entry(self, ref: EnrollmentRef) -> tuple[str, str] | None:
        """Refs by learner and training are on the training's report."""
        if ref.learner_id is None or ref.course_id is None:
            return None
        learner, training = self._pair(ref)
        return training, learner

    async def aget_course_states(self, course_id: str, keys: Collection[str]) -> dict[str, NormalizedEnrollment]:
        """The states of the learners ``keys`` from one paged read of the training's report."""
        states: dict[str, NormalizedEnrollment] = {}
        async for row in self.aportfolio_report(training_ids=[course_id]):
            learner = row.user.id.lower()
            if learner in keys and learner not in states and self._row_matches(row, learner, course_id):
                states[learner] = self._normalized(row, learner, course_id)
        absent = {k for k in keys if k not in states}
        if absent:
            async for member in self.alist_users(training_ids=[course_id]):
                if member.id.lower() in absent:
                    states[member.id.lower()] = self._enrolled(member.id.lower(), course_id)
        return states

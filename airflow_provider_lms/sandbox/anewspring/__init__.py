"""The aNewSpring double: the subscription and results API under ``/anewspring/api``.

It follows ``anewspring-api.nl.txt`` and FACTS.md: the same function paths in both address forms (external
ids in the path, UIDs in the query), ``X-API-Key`` (or ``_key``), form-encoded POST bodies with repeated
parameters for arrays, 200 with an empty body for a successful POST, errors as plain text unless
``_formatErrors=true``, 404 for an unknown user, course, group or activity or a missing subscription, and
409 for a duplicate subscription. Details the documents leave open are marked ``# ASSUMPTION:``.

Paths are routed on the raw (still percent-encoded) path, one segment per id, so an id holding ``/``,
``..``, ``?``, ``#``, ``%``, spaces or any Unicode arrives whole, at the endpoint it was sent to.

Seeded demo data (identical after every reset):

=================  ====================================================================================
users (learners)   ``learner-001`` .. ``learner-005``: Anna de Vries, Bram Jansen, Chloé Bakker,
                   Daan Visser, Eva Smit
course             ``VEILIG-2026`` "Veilig werken 2026": Les ``LES-INTRO``, Toets ``TOETS-KENNIS``,
                   Externe activiteit ``EXAMEN-PRAKTIJK`` (the exam scored through the API),
                   Vragenlijst (no external id), Certificaat ``CERT-VEILIG``
course             ``EHBO-2026`` "EHBO basis 2026": Documentatie ``DOC-EHBO``, Webinar ``WEBINAR-EHBO``,
                   Certificaat ``CERT-EHBO``
groups             ``COHORT-2026-A`` (learner-001..003), ``COHORT-2026-B`` (learner-004, learner-005)
=================  ====================================================================================

No subscriptions are seeded. A subscription's results move forward when told (``POST
/_sandbox/anewspring/advance``: activity scored, then course completed, then Certificate part passed) or by
themselves (``PUT /_sandbox/anewspring/auto_progress``: N seconds after its external activity was scored,
the course completes, and the certificate passes when every judged activity passed).
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, quote, unquote

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, PlainTextResponse, Response

from airflow_provider_lms.sandbox._common import PlatformMount

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = [
    "ANEWSPRING_PREFIX",
    "ANEWSPRING_SANDBOX_API_KEY",
    "MOUNT",
    "ANewSpringSandboxState",
    "ANewSpringSeed",
]

ANEWSPRING_PREFIX = "/anewspring/api"
ANEWSPRING_SANDBOX_API_KEY = "sandbox-anewspring-key"
_RAW_PREFIX = ANEWSPRING_PREFIX.encode()
_UID_NAMESPACE = uuid.UUID("5b0e8f3a-4c1d-4e2b-9a7f-2d6c8e1f0a11")

# ASSUMPTION: the pass mark of an external activity scored without ``passed`` (the document names none).
DEFAULT_PASS_MARK = 55.0
# ASSUMPTION: the score an external activity gets when the sandbox is told to advance a learner who was
# never scored through the API.
DEFAULT_ADVANCE_SCORE = 80.0
# ASSUMPTION: the form fields of updateSubscription and scoreExternalActivity (the document does not name them;
# the hook's defaults are the same and can be overridden per call). Subscribe accepts the same date fields.
UPDATE_FIELDS = frozenset({"startDate", "expireDate", "expired"})
SCORE_FIELDS = frozenset({"score", "passed", "comment"})
SUBSCRIBE_FIELDS = frozenset({"startDate", "expireDate", "notify"})

Stage = Literal["activity_scored", "course_completed", "certificate_passed"]
STAGES: tuple[Stage, ...] = ("activity_scored", "course_completed", "certificate_passed")


class ANewSpringSeed:
    """Ids of the seeded demo data (see the module docstring)."""

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


def stable_uid(kind: str, external_id: str) -> str:
    """A UID derived from the external id, so that UIDs are the same after every reset."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{kind}:{external_id}"))


# --------------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------------


@dataclass
class AnsUser:
    id: str
    uid: str
    name: str


@dataclass(frozen=True)
class AnsPartDef:
    id: str | None
    uid: str
    part_id: int
    name: str
    block_name: str
    type: str
    sub_type: str


@dataclass
class AnsCourse:
    id: str
    uid: str
    name: str
    reseller: str
    parts: tuple[AnsPartDef, ...]
    pass_mark: float = DEFAULT_PASS_MARK

    def part(self, activity_id: str) -> AnsPartDef | None:
        return next((p for p in self.parts if p.id == activity_id), None)


@dataclass
class AnsPartResult:
    completed: bool = False
    passed: bool | None = False
    score: float | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    comment: str | None = None


@dataclass
class AnsSubscription:
    user_id: str
    course_id: str
    subscribed_at: datetime
    start_date: date
    started_at: datetime | None = None
    expire_date: date | None = None
    expired_flag: bool = False
    unsubscribed: bool = False
    completed_at: datetime | None = None
    scored_at: datetime | None = None
    results: dict[int, AnsPartResult] = field(default_factory=dict)
    #: Every scoreExternalActivity that reached this subscription, also the ones that changed nothing.
    score_posts: int = 0
    times_subscribed: int = 1


def _course_parts(prefix: int, specs: Iterable[tuple[str | None, str, str, str, str]]) -> tuple[AnsPartDef, ...]:
    parts = []
    for n, (ext_id, name, block, type_, sub_type) in enumerate(specs, start=1):
        parts.append(
            AnsPartDef(
                id=ext_id,
                uid=stable_uid("part", f"{prefix}:{name}"),
                part_id=prefix * 100 + n,
                name=name,
                block_name=block,
                type=type_,
                sub_type=sub_type,
            )
        )
    return tuple(parts)


def _seed_courses() -> dict[str, AnsCourse]:
    safety = AnsCourse(
        id=ANewSpringSeed.SAFETY_COURSE_ID,
        uid=stable_uid("course", ANewSpringSeed.SAFETY_COURSE_ID),
        name="Veilig werken 2026",
        reseller="SANDBOX-ACADEMY",
        parts=_course_parts(
            1,
            [
                ("LES-INTRO", "Introductie veilig werken", "Blok 1", "Lesson", "Lesson"),
                ("TOETS-KENNIS", "Kennistoets veiligheid", "Blok 1", "Assessment", "Assessment"),
                ("EXAMEN-PRAKTIJK", "Praktijkexamen", "Blok 2", "External", "External"),
                (None, "Evaluatie", "Blok 2", "Evaluation", "Inquiry"),
                ("CERT-VEILIG", "Certificaat Veilig werken", "Blok 3", "Certificate", "Certificate"),
            ],
        ),
    )
    first_aid = AnsCourse(
        id=ANewSpringSeed.FIRST_AID_COURSE_ID,
        uid=stable_uid("course", ANewSpringSeed.FIRST_AID_COURSE_ID),
        name="EHBO basis 2026",
        reseller="SANDBOX-ACADEMY",
        parts=_course_parts(
            2,
            [
                ("DOC-EHBO", "EHBO naslag", "Blok 1", "Lesson", "Documentation"),
                ("WEBINAR-EHBO", "Webinar reanimatie", "Blok 1", "External", "Webinar"),
                ("CERT-EHBO", "Certificaat EHBO", "Blok 2", "Certificate", "Certificate"),
            ],
        ),
    )
    return {safety.id: safety, first_aid.id: first_aid}


class ANewSpringSandboxState:
    """Everything the aNewSpring double remembers.

    :param clock: the sandbox clock.
    :param api_keys: the keys accepted in ``X-API-Key`` (or ``_key``).
    """

    def __init__(self, clock: Callable[[], datetime], api_keys: Iterable[str] = (ANEWSPRING_SANDBOX_API_KEY,)) -> None:
        self.clock = clock
        self.api_keys = set(api_keys)
        self.reset()

    def reset(self) -> None:
        """Back to the seeded demo data."""
        self.users: dict[str, AnsUser] = {}
        self.users_by_uid: dict[str, AnsUser] = {}
        for user_id, name in zip(ANewSpringSeed.LEARNER_IDS, ANewSpringSeed.LEARNER_NAMES, strict=True):
            self.add_user(user_id, name)
        self.courses: dict[str, AnsCourse] = {}
        self.courses_by_uid: dict[str, AnsCourse] = {}
        for course in _seed_courses().values():
            self.courses[course.id] = course
            self.courses_by_uid[course.uid] = course
        self.groups: dict[str, list[str]] = {g: list(m) for g, m in ANewSpringSeed.GROUPS.items()}
        self.subscriptions: dict[tuple[str, str], AnsSubscription] = {}
        self.by_user: dict[str, list[str]] = {}
        #: ``None`` = off; else seconds after an external activity's score until the course completes.
        self.auto_progress_seconds: float | None = None
        #: What the API handler received per call (decoded ids, raw path): for the id-encoding tests.
        self.calls: deque[dict[str, Any]] = deque(maxlen=20000)

    # -- data set-up (control API) ----------------------------------------------------------------------
    def add_user(self, user_id: str, name: str | None = None, uid: str | None = None) -> AnsUser:
        """Create a learner (or return the existing one with this external id)."""
        if user_id in self.users:
            return self.users[user_id]
        user = AnsUser(id=user_id, uid=uid or stable_uid("user", user_id), name=name or user_id)
        self.users[user_id] = user
        self.users_by_uid[user.uid] = user
        return user

    def add_course(
        self, course_id: str, *, template: str, name: str | None = None, uid: str | None = None
    ) -> AnsCourse:
        """Create a course run with the activities of an existing course (or return the existing one)."""
        if course_id in self.courses:
            return self.courses[course_id]
        base = self.courses[template]
        course = AnsCourse(
            id=course_id,
            uid=uid or stable_uid("course", course_id),
            name=name or course_id,
            reseller=base.reseller,
            parts=base.parts,  # activity uids are per template: the same in every run (document)
            pass_mark=base.pass_mark,
        )
        self.courses[course_id] = course
        self.courses_by_uid[course.uid] = course
        return course

    # -- time-driven changes ------------------------------------------------------------------------------
    def apply_auto_progress(self) -> None:
        """Complete the courses whose external activity was scored long enough ago."""
        if self.auto_progress_seconds is None:
            return
        now = self.clock()
        due = timedelta(seconds=self.auto_progress_seconds)
        for sub in self.subscriptions.values():
            waiting = sub.scored_at is not None and sub.completed_at is None and not sub.unsubscribed
            if waiting and sub.scored_at is not None and now - sub.scored_at >= due:
                self.complete_course(sub)
                if all(self._judged_passed(self.courses[sub.course_id], sub)):
                    self.pass_certificate(sub)

    # -- subscription rules ---------------------------------------------------------------------------------
    def is_expired(self, sub: AnsSubscription) -> bool:
        return sub.expired_flag or (sub.expire_date is not None and self.clock().date() > sub.expire_date)

    def is_subscribed(self, sub: AnsSubscription | None) -> bool:
        # ASSUMPTION: isSubscribed is true for an expired subscription (it still exists; the learner can see
        # the statistics) and false after a manual unsubscription.
        return sub is not None and not sub.unsubscribed

    def subscribe(self, user: AnsUser, course: AnsCourse, start: date | None, expire: date | None) -> bool:
        """Subscribe; False when already subscribed (the API answers 409)."""
        key = (user.id, course.id)
        existing = self.subscriptions.get(key)
        if self.is_subscribed(existing):
            return False
        now = self.clock()
        sub = AnsSubscription(
            user_id=user.id,
            course_id=course.id,
            subscribed_at=now,
            start_date=start or now.date(),
            expire_date=expire,
            times_subscribed=(existing.times_subscribed + 1) if existing else 1,
        )
        # ASSUMPTION: subscribing again after an unsubscription starts a fresh subscription.
        self.subscriptions[key] = sub
        courses = self.by_user.setdefault(user.id, [])
        if course.id not in courses:
            courses.append(course.id)
        return True

    def _result(self, sub: AnsSubscription, part: AnsPartDef) -> AnsPartResult:
        return sub.results.setdefault(part.part_id, AnsPartResult(passed=None if part.type == "Evaluation" else False))

    def _start(self, sub: AnsSubscription, moment: datetime) -> None:
        if sub.started_at is None:
            sub.started_at = moment

    def score(
        self, sub: AnsSubscription, part: AnsPartDef, score: float | None, passed: bool | None, comment: str | None
    ) -> None:
        """Register an external activity's score (one attempt, ``attemptNr`` -1, as for any non-assessment)."""
        course = self.courses[sub.course_id]
        now = self.clock()
        sub.score_posts += 1
        result = self._result(sub, part)
        new_score = score if score is not None else result.score
        new_passed = passed if passed is not None else (new_score is not None and new_score >= course.pass_mark)
        if (
            result.completed
            and result.score == new_score
            and result.passed == new_passed
            and result.comment == (comment or result.comment)
        ):
            return  # the same result again: nothing changes, not even the dates
        self._start(sub, now)
        result.completed = True
        result.score = new_score
        result.passed = new_passed
        result.comment = comment or result.comment
        result.started_at = result.started_at or now
        result.completed_at = now
        result.attempts = [_attempt(-1, result.started_at, now, new_passed, _pct(new_score), None)]
        sub.scored_at = now

    def complete_course(self, sub: AnsSubscription) -> None:
        """The learner finishes every other activity: lessons, the assessment (two attempts), evaluations."""
        course = self.courses[sub.course_id]
        now = self.clock()
        self._start(sub, now - timedelta(hours=2))
        for part in course.parts:
            result = self._result(sub, part)
            if part.type == "Certificate" or result.completed:
                continue
            began = now - timedelta(minutes=30)
            result.completed, result.started_at, result.completed_at = True, began, now
            if part.type == "External":
                self.score(sub, part, DEFAULT_ADVANCE_SCORE, None, None)
            elif part.type == "Assessment":
                result.score, result.passed = 67.0, True
                result.attempts = [
                    _attempt(1, began, began + timedelta(minutes=5), False, "40%", "3/3", terms=_terms(0)),
                    _attempt(2, began + timedelta(minutes=10), now, True, "67%", "3/3", terms=_terms(2)),
                ]
            elif part.type == "Evaluation":
                result.passed, result.score = None, None
                result.attempts = [_attempt(-1, began, now, None, None, "4/4")]
            else:  # Lesson: no pass mark, so passed stays false (document)
                result.passed = False
                result.attempts = [_attempt(-1, began, now, False, None, "5/5")]
        sub.completed_at = now

    def pass_certificate(self, sub: AnsSubscription) -> None:
        """The Certificate activities are passed."""
        course = self.courses[sub.course_id]
        now = self.clock()
        for part in course.parts:
            if part.type == "Certificate":
                result = self._result(sub, part)
                result.completed, result.passed, result.started_at, result.completed_at = True, True, now, now
                result.attempts = [_attempt(-1, now, now, True, None, None)]

    def advance(self, sub: AnsSubscription, to: Stage | None) -> str:
        """Move a learner's results to ``to`` (or to the next stage), doing the stages before it too."""
        current = self.stage(sub)
        target = to or (
            STAGES[min(STAGES.index(current) + 1, len(STAGES) - 1)] if current != "subscribed" else STAGES[0]
        )
        course = self.courses[sub.course_id]
        if sub.scored_at is None:
            for part in course.parts:
                if part.type == "External" and not self._result(sub, part).completed:
                    self.score(sub, part, DEFAULT_ADVANCE_SCORE, None, None)
            self._start(sub, self.clock())
        if target in ("course_completed", "certificate_passed") and sub.completed_at is None:
            self.complete_course(sub)
        if target == "certificate_passed":
            self.pass_certificate(sub)
        return self.stage(sub)

    def stage(self, sub: AnsSubscription) -> str:
        course = self.courses[sub.course_id]
        certificates = [self._result(sub, p) for p in course.parts if p.type == "Certificate"]
        if certificates and all(r.passed for r in certificates):
            return "certificate_passed"
        if sub.completed_at is not None:
            return "course_completed"
        if sub.scored_at is not None:
            return "activity_scored"
        return "subscribed"

    def _judged_passed(self, course: AnsCourse, sub: AnsSubscription) -> Iterable[bool]:
        for part in course.parts:
            if part.type in ("Assessment", "Assignment", "External", "Scorm", "SkillAssignment"):
                yield bool(self._result(sub, part).passed)

    # -- JSON ------------------------------------------------------------------------------------------------
    def _progress(self, sub: AnsSubscription, course: AnsCourse) -> str:
        done = sum(1 for p in course.parts if self._result(sub, p).completed)
        return f"{done}/{len(course.parts)}"

    def subscription_json(self, sub: AnsSubscription, *, skip_stats: bool = False) -> dict[str, Any]:
        """A ``getSubscriptions`` course entry (without the statistics when ``skip_stats``)."""
        course = self.courses[sub.course_id]
        expired = self.is_expired(sub)
        started = sub.started_at is not None
        start_moment = sub.started_at or datetime.combine(sub.start_date, datetime.min.time(), tzinfo=timezone.utc)
        record: dict[str, Any] = {
            "active": started,
            "expired": expired,
            "finished": expired or sub.unsubscribed,
            "id": course.id,
            "name": course.name,
            "reseller": course.reseller,
            "startDate": sub.start_date.isoformat(),
            "startDateTime": _ts(start_moment),
            "subscribeDate": sub.subscribed_at.date().isoformat(),
            "subscribeDateTime": _ts(sub.subscribed_at),
            "uid": course.uid,
        }
        if not skip_stats:
            completed = sub.completed_at is not None
            record.update(
                {
                    "efficiency": 0.5 if started else 0.0,
                    "knowledgeIntake": 0.7 if completed else (0.2 if started else 0.0),
                    "objectivesProgress": 1.0 if completed else (0.375 if started else 0.0),
                    "progress": self._progress(sub, course),
                }
            )
        return dict(sorted(record.items()))

    def part_json(self, sub: AnsSubscription, part: AnsPartDef) -> dict[str, Any]:
        """One entry of ``parts`` (also the answer of ``getResults/{user}/{course}/{activity}``)."""
        result = self._result(sub, part)
        evaluation = part.type == "Evaluation"
        return {
            "attempts": [dict(a) for a in result.attempts],
            "blockName": part.block_name,
            "completeDate": result.completed_at.date().isoformat() if result.completed_at else None,
            "completeDateTime": _ts(result.completed_at),
            "completed": result.completed,
            "id": part.id,
            "name": part.name,
            "partId": part.part_id,
            "passed": None if evaluation else bool(result.passed),
            "score": None if evaluation else _pct(result.score),
            "subType": part.sub_type,
            "type": part.type,
            "uid": part.uid,
        }

    def results_json(self, sub: AnsSubscription) -> dict[str, Any]:
        """A ``getResults/{user}/{course}`` answer."""
        course = self.courses[sub.course_id]
        record = self.subscription_json(sub)
        grade_part = next((p for p in course.parts if p.type == "External"), None)
        grade_result = self._result(sub, grade_part) if grade_part else None
        graded = grade_result is not None and grade_result.completed
        completed = sub.completed_at is not None
        record.update(
            {
                "completeDate": sub.completed_at.date().isoformat() if sub.completed_at else None,
                "completeDateTime": _ts(sub.completed_at),
                "completed": completed,
                # ASSUMPTION: the sandbox's templates base the course grade on the external activity.
                "grade": _pct(grade_result.score) if graded and grade_result else None,
                "gradeDate": grade_result.completed_at.date().isoformat()
                if graded and grade_result and grade_result.completed_at
                else None,
                "gradeDateTime": _ts(grade_result.completed_at) if graded and grade_result else None,
                "lastTrainingCompletedDate": None,
                "lastTrainingCompletedDateTime": None,
                "objectives": [
                    {
                        "knowledgeIntake": 0.5 if completed else 0.0,
                        "name": "Veiligheidsregels kennen",
                        "target": 0.8,
                        "value": 0.9 if completed else (0.3 if sub.started_at else 0.0),
                    }
                ],
                "parts": [self.part_json(sub, p) for p in course.parts],
            }
        )
        return dict(sorted(record.items()))

    def summary(self) -> dict[str, Any]:
        """The whole state as JSON, for ``GET /_sandbox/anewspring/state``."""
        subs = []
        for sub in self.subscriptions.values():
            course = self.courses[sub.course_id]
            scores = {
                p.id or str(p.part_id): self._result(sub, p).score
                for p in course.parts
                if p.type == "External" and self._result(sub, p).completed
            }
            subs.append(
                {
                    "user_id": sub.user_id,
                    "course_id": sub.course_id,
                    "subscribed": self.is_subscribed(sub),
                    "times_subscribed": sub.times_subscribed,
                    "subscribe_date_time": _ts(sub.subscribed_at),
                    "start_date": sub.start_date.isoformat(),
                    "expire_date": sub.expire_date.isoformat() if sub.expire_date else None,
                    "expired": self.is_expired(sub),
                    "unsubscribed": sub.unsubscribed,
                    "stage": self.stage(sub),
                    "completed": sub.completed_at is not None,
                    "external_scores": scores,
                    "score_posts": sub.score_posts,
                }
            )
        return {
            "users": len(self.users),
            "courses": sorted(self.courses),
            "groups": {g: list(m) for g, m in self.groups.items()},
            "auto_progress_seconds": self.auto_progress_seconds,
            "subscriptions": subs,
        }


def _ts(moment: datetime | None) -> str | None:
    """``2020-02-13T16:23:55Z``, the document's UTC form."""
    return None if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pct(score: float | None) -> str | None:
    # The document shows whole percentages ("67%").
    return None if score is None else f"{round(score)}%"


def _terms(score: int) -> list[dict[str, Any]]:
    return [
        {"maxScore": 1, "name": f"Examenterm {n}", "score": 1 if n <= score else 0, "threshold": 0} for n in (1, 2, 3)
    ]


def _attempt(
    nr: int,
    started: datetime | None,
    completed: datetime | None,
    passed: bool | None,
    score: str | None,
    progress: str | None,
    *,
    terms: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "attemptNr": nr,
        "completeDate": completed.date().isoformat() if completed else None,
        "completeDateTime": _ts(completed),
        "completed": completed is not None,
        "criteria": [],
        "passed": passed,
        "progress": progress,
        "score": score,
        "startDate": started.date().isoformat() if started else None,
        "startDateTime": _ts(started),
        "terms": terms or [],
    }


# --------------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------------


class ANewSpringError(Exception):
    """An error answer: plain text, or formatted JSON when the caller asked with ``_formatErrors``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def render_error(status: int, message: str, *, formatted: bool = False) -> Response:
    """Plain text by default (FACTS.md); with ``_formatErrors=true`` a JSON object.

    # ASSUMPTION: the formatted body is ``{"code": <status>, "error": "<reason>", "message": "..."}``; the
    # document does not show it.
    """
    if formatted:
        body = {"code": status, "error": _REASONS.get(status, "Error"), "message": message}
        return JSONResponse(body, status_code=status)
    return PlainTextResponse(message, status_code=status)


def _plain_error(status: int, message: str) -> Response:
    return render_error(status, message)


#: function -> (HTTP method, allowed numbers of path ids)
_FUNCTIONS: dict[str, tuple[str, tuple[int, ...]]] = {
    "isSubscribed": ("GET", (2,)),
    "getSubscriptions": ("GET", (1,)),
    "getResults": ("GET", (1, 2, 3)),
    "subscribe": ("POST", (2,)),
    "subscribeGroups": ("POST", (1,)),
    "updateSubscription": ("POST", (2,)),
    # The document writes the UID form of updateSubscription as /updateSubscriptions: accepted too.
    "updateSubscriptions": ("POST", ()),
    "unsubscribe": ("POST", (2,)),
    "scoreExternalActivity": ("POST", (3,)),
}


@dataclass
class _Call:
    function: str
    method: str
    raw_path: str
    by: Literal["id", "uid"]
    user: str | None = None
    course: str | None = None
    activity: str | None = None
    form: dict[str, list[str]] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else None


def _multi(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def _split_raw_path(request: Request) -> list[str]:
    """The path's segments after the prefix, each percent-decoded on its own (so ``%2F`` stays inside)."""
    raw = request.scope.get("raw_path")
    if not raw:
        raw = quote(request.scope.get("path", "")).encode()
    raw = raw.split(b"?", 1)[0]
    if not raw.startswith(_RAW_PREFIX + b"/"):
        raise ANewSpringError(404, "Not Found")
    try:
        text = raw[len(_RAW_PREFIX) + 1 :].decode("ascii")
        return [unquote(seg, encoding="utf-8", errors="strict") for seg in text.split("/")]
    except UnicodeDecodeError:
        raise ANewSpringError(400, "Bad Request: the path is not valid UTF-8") from None


def _bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ANewSpringError(400, f"Bad Request: {name} must be true or false, got {value!r}")


def _date(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ANewSpringError(400, f"Bad Request: {name} must be a date (yyyy-MM-dd), got {value!r}") from None


def create_anewspring_router(state: SandboxState) -> APIRouter:
    """Build the aNewSpring router (mounted at ``/anewspring/api``) over ``state.anewspring``.

    :param state: The shared sandbox state.
    """
    ans: ANewSpringSandboxState = state.anewspring
    router = APIRouter(prefix=ANEWSPRING_PREFIX, tags=["anewspring"])

    async def parse_call(request: Request) -> _Call:
        segments = _split_raw_path(request)
        function, ids = segments[0], segments[1:]
        query = _multi(parse_qsl(request.url.query, keep_blank_values=True))
        form: dict[str, list[str]] = {}
        body = await request.body()
        if request.method == "POST" and body:
            media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media != "application/x-www-form-urlencoded":
                raise ANewSpringError(
                    415, f"Unsupported Media Type: send application/x-www-form-urlencoded, not {media!r}"
                )
            form = _multi(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        spec = _FUNCTIONS.get(function)
        if spec is None or (ids and len(ids) not in spec[1]) or any(i == "" for i in ids):
            raise ANewSpringError(404, "Not Found")
        if request.method != spec[0]:
            raise ANewSpringError(405, f"Method Not Allowed: {function} takes {spec[0]}")
        raw_path = (request.scope.get("raw_path") or b"").decode("ascii", "replace")
        call = _Call(function=function, method=request.method, raw_path=raw_path, by="id" if ids else "uid")
        call.form, call.query = form, query
        if ids:
            names = {"subscribeGroups": ["course"]}.get(function, ["user", "course", "activity"])
            for name, value in zip(names, ids, strict=False):
                setattr(call, name, value)
        else:
            call.user, call.course = call.first("userUID"), call.first("courseUID")
            call.activity = call.first("activityID")
        return call

    def check_key(request: Request, call: _Call) -> None:
        key = request.headers.get("x-api-key") or call.first("_key")
        if not key:
            raise ANewSpringError(401, "Unauthorized: send the API key in the X-API-Key header")
        if key not in ans.api_keys:
            raise ANewSpringError(401, "Unauthorized: invalid API key")

    def user_of(call: _Call) -> tuple[str, Any]:
        if call.user is None:
            raise ANewSpringError(404, "Not Found: give userUID")
        user = ans.users.get(call.user) if call.by == "id" else ans.users_by_uid.get(call.user)
        if user is None:
            raise ANewSpringError(404, f"Not Found: no user with {'ID' if call.by == 'id' else 'UID'} {call.user!r}")
        return user.id, user

    def course_of(call: _Call) -> AnsCourse:
        if call.course is None:
            raise ANewSpringError(404, "Not Found: give courseUID")
        course = ans.courses.get(call.course) if call.by == "id" else ans.courses_by_uid.get(call.course)
        if course is None:
            raise ANewSpringError(
                404, f"Not Found: no course with {'ID' if call.by == 'id' else 'UID'} {call.course!r}"
            )
        return course

    def subscription_of(call: _Call) -> AnsSubscription:
        user_id, _ = user_of(call)
        course = course_of(call)
        sub = ans.subscriptions.get((user_id, course.id))
        if not ans.is_subscribed(sub):
            raise ANewSpringError(404, f"Not Found: user {user_id!r} is not subscribed to course {course.id!r}")
        assert sub is not None
        return sub

    def check_fields(call: _Call, allowed: frozenset[str]) -> None:
        unknown = sorted(k for k in call.form if not k.startswith("_") and k not in allowed)
        if unknown:
            # ASSUMPTION: unknown form fields are rejected, so that a misnamed field cannot pass silently.
            raise ANewSpringError(400, f"Bad Request: unknown parameter(s) {', '.join(unknown)}")

    def ok(call: _Call) -> Response:
        if _bool("_returnSuccessMessage", call.first("_returnSuccessMessage")):
            # ASSUMPTION: the success message's shape is not documented.
            return JSONResponse({"message": "OK"})
        return Response(status_code=200)

    def handle(call: _Call) -> Response:
        f = call.function
        if f == "isSubscribed":
            user_id, _ = user_of(call)
            course = course_of(call)
            return JSONResponse({"result": ans.is_subscribed(ans.subscriptions.get((user_id, course.id)))})
        if f == "getSubscriptions":
            user_id, _ = user_of(call)
            skip = bool(_bool("skipStats", call.first("skipStats")))
            subs = [ans.subscriptions[(user_id, c)] for c in ans.by_user.get(user_id, [])]
            return JSONResponse({"courses": [ans.subscription_json(s, skip_stats=skip) for s in subs]})
        if f == "getResults":
            if call.course is None:
                user_id, _ = user_of(call)
                subs = [ans.subscriptions[(user_id, c)] for c in ans.by_user.get(user_id, [])]
                # ASSUMPTION: unsubscribed courses are left out of the results.
                return JSONResponse({"courses": [ans.results_json(s) for s in subs if not s.unsubscribed]})
            sub = subscription_of(call)
            if call.activity is None:
                return JSONResponse(ans.results_json(sub))
            part = ans.courses[sub.course_id].part(call.activity)
            if part is None:
                raise ANewSpringError(404, f"Not Found: no activity with ID {call.activity!r} in the course")
            return JSONResponse(ans.part_json(sub, part))
        if f == "subscribe" and call.by == "uid" and call.user is None and "groupID" in call.form:
            f = "subscribeGroups"  # the document's spelling of subscribeGroups' UID form
        if f == "subscribe":
            check_fields(call, SUBSCRIBE_FIELDS)
            _, user = user_of(call)
            course = course_of(call)
            start = _date("startDate", call.first("startDate"))
            expire = _date("expireDate", call.first("expireDate"))
            if not ans.subscribe(user, course, start, expire):
                raise ANewSpringError(409, f"Conflict: user {user.id!r} is already subscribed to course {course.id!r}")
            return ok(call)
        if f == "subscribeGroups":
            check_fields(call, SUBSCRIBE_FIELDS | {"groupID"})
            course = course_of(call)
            group_ids = call.form.get("groupID") or call.query.get("groupID") or []
            if not group_ids:
                raise ANewSpringError(400, "Bad Request: give at least one groupID")
            missing = [g for g in group_ids if g not in ans.groups]
            if missing:
                raise ANewSpringError(404, f"Not Found: no group with ID {missing[0]!r}")
            start = _date("startDate", call.first("startDate"))
            expire = _date("expireDate", call.first("expireDate"))
            for group in group_ids:
                for member in ans.groups[group]:
                    # ASSUMPTION: members already subscribed are skipped (no 409 for a group).
                    ans.subscribe(ans.users[member], course, start, expire)
            return ok(call)
        if f in ("updateSubscription", "updateSubscriptions"):
            check_fields(call, UPDATE_FIELDS)
            sub = subscription_of(call)
            start = _date("startDate", call.first("startDate"))
            expire = _date("expireDate", call.first("expireDate"))
            expired = _bool("expired", call.first("expired"))
            if start is None and expire is None and expired is None:
                raise ANewSpringError(400, "Bad Request: give startDate, expireDate or expired")
            if start is not None:
                sub.start_date = start
            if expire is not None:
                sub.expire_date = expire
            if expired is not None:
                sub.expired_flag = expired
            return ok(call)
        if f == "unsubscribe":
            sub = subscription_of(call)
            sub.unsubscribed = True
            return ok(call)
        if f == "scoreExternalActivity":
            check_fields(call, SCORE_FIELDS)
            sub = subscription_of(call)
            if call.activity is None:
                raise ANewSpringError(404, "Not Found: give activityID")
            part = ans.courses[sub.course_id].part(call.activity)
            if part is None:
                raise ANewSpringError(404, f"Not Found: no activity with ID {call.activity!r} in the course")
            if part.type != "External":
                # ASSUMPTION: scoring another kind of activity is a bad request.
                raise ANewSpringError(
                    400, f"Bad Request: activity {part.id!r} is a {part.type}, not an external activity"
                )
            if ans.is_expired(sub):
                # ASSUMPTION: after expiry a learner can do no more activities (document), so no score either.
                raise ANewSpringError(409, "Conflict: the subscription has expired")
            raw_score = call.first("score")
            score: float | None = None
            if raw_score not in (None, ""):
                try:
                    score = float(str(raw_score).rstrip("%").replace(",", "."))
                except ValueError:
                    raise ANewSpringError(400, f"Bad Request: score must be a number, got {raw_score!r}") from None
                if not 0 <= score <= 100:
                    raise ANewSpringError(400, f"Bad Request: score must be from 0 to 100, got {raw_score!r}")
            passed = _bool("passed", call.first("passed"))
            if score is None and passed is None:
                raise ANewSpringError(400, "Bad Request: give score or passed")
            ans.score(sub, part, score, passed, call.first("comment"))
            return ok(call)
        raise ANewSpringError(404, "Not Found")  # pragma: no cover - every function is handled above

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def api(request: Request) -> Response:
        formatted = False
        try:
            call = await parse_call(request)
            formatted = bool(_bool("_formatErrors", call.first("_formatErrors")))
            check_key(request, call)
            ans.apply_auto_progress()
            ans.calls.append(
                {
                    "function": call.function,
                    "method": call.method,
                    "raw_path": call.raw_path,
                    "address_by": call.by,
                    "user": call.user,
                    "course": call.course,
                    "activity": call.activity,
                    "form": {k: v for k, v in call.form.items() if k != "_key"},
                }
            )
            return handle(call)
        except ANewSpringError as exc:
            if not formatted:
                query = dict(parse_qsl(request.url.query))
                formatted = query.get("_formatErrors", "").lower() == "true"
            return render_error(exc.status, exc.message, formatted=formatted)

    return router


# --------------------------------------------------------------------------------------------------
# Control API (/_sandbox/anewspring/...)
# --------------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserBody(_Strict):
    id: str = Field(min_length=1)
    name: str | None = None
    uid: str | None = None


class UsersBody(_Strict):
    """``POST /_sandbox/anewspring/users``: create learners (existing ids are left alone)."""

    users: list[UserBody]


class CourseBody(_Strict):
    """``POST /_sandbox/anewspring/courses``: a course run with the activities of ``template``."""

    id: str = Field(min_length=1)
    template: str = ANewSpringSeed.SAFETY_COURSE_ID
    name: str | None = None
    uid: str | None = None


class GroupBody(_Strict):
    """``POST /_sandbox/anewspring/groups``: create or replace a learner group."""

    id: str = Field(min_length=1)
    members: list[str]


class AdvanceBody(_Strict):
    """``POST /_sandbox/anewspring/advance``: move a learner's results forward (ids in the body, unencoded)."""

    user_id: str
    course_id: str
    to: Stage | None = None


class AutoProgressBody(_Strict):
    """``PUT /_sandbox/anewspring/auto_progress``; ``complete_after_seconds: null`` switches it off."""

    complete_after_seconds: float | None = Field(default=None, ge=0)


def create_anewspring_control_router(state: SandboxState) -> APIRouter:
    """Routes under ``/_sandbox/anewspring`` to set up data and move results forward.

    :param state: The shared sandbox state.
    """
    router = APIRouter(prefix="/anewspring", tags=["sandbox control"])

    def ans() -> ANewSpringSandboxState:
        return state.anewspring  # type: ignore[no-any-return,unused-ignore]

    @router.get("/state")
    async def get_state() -> dict[str, Any]:
        return ans().summary()

    @router.get("/calls")
    async def get_calls() -> list[dict[str, Any]]:
        return list(ans().calls)

    @router.post("/users")
    async def add_users(body: UsersBody) -> dict[str, Any]:
        made = [ans().add_user(u.id, u.name, u.uid) for u in body.users]
        return {"users": [{"id": u.id, "uid": u.uid, "name": u.name} for u in made]}

    @router.post("/courses")
    async def add_course(body: CourseBody) -> JSONResponse:
        if body.template not in ans().courses:
            return JSONResponse({"detail": f"no course {body.template!r} to copy"}, status_code=404)
        course = ans().add_course(body.id, template=body.template, name=body.name, uid=body.uid)
        return JSONResponse({"id": course.id, "uid": course.uid, "name": course.name})

    @router.post("/groups")
    async def add_group(body: GroupBody) -> JSONResponse:
        unknown = [m for m in body.members if m not in ans().users]
        if unknown:
            return JSONResponse({"detail": f"unknown users {unknown}"}, status_code=404)
        ans().groups[body.id] = list(body.members)
        return JSONResponse({"id": body.id, "members": body.members})

    @router.post("/advance")
    async def advance(body: AdvanceBody) -> JSONResponse:
        sub = ans().subscriptions.get((body.user_id, body.course_id))
        if sub is None or sub.unsubscribed:
            return JSONResponse({"detail": "not subscribed"}, status_code=404)
        stage = ans().advance(sub, body.to)
        return JSONResponse({"stage": stage, "results": ans().results_json(sub)})

    @router.put("/auto_progress")
    async def put_auto_progress(body: AutoProgressBody) -> dict[str, Any]:
        ans().auto_progress_seconds = body.complete_after_seconds
        ans().apply_auto_progress()
        return body.model_dump()

    return router


def _anewspring_connection(sandbox_url: str) -> dict[str, Any]:
    return {
        "conn_type": "anewspring",
        "password": ANEWSPRING_SANDBOX_API_KEY,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{ANEWSPRING_PREFIX}"},
    }


MOUNT = PlatformMount(
    name="anewspring",
    prefix=ANEWSPRING_PREFIX,
    router_factory=create_anewspring_router,
    render_error=_plain_error,
    state_factory=lambda clock: ANewSpringSandboxState(clock),
    control_router_factory=create_anewspring_control_router,
    connection_factory=_anewspring_connection,
    conn_id="anewspring_default",
)

"""aNewSpring records: subscriptions, results, users and course rosters.

Subscriptions and results as ``anewspring-api.nl.txt`` describes them; users (``getUser``), group members
(``getGroupUsers``) and the course roster (``getStudentSubscriptions``) with the fields the public PHP client
``telartis/anewspring`` lists for them (its doc-comments paraphrase aNewSpring's ``/apidocs``).

Field names follow the API's camelCase (``completeDateTime``); the models expose snake_case attributes and
accept both spellings. Scores (``"67%"``) and progress (``"11/16"``) arrive as text: the raw text is kept
in its field and the parsed number sits beside it (``score_percent``, ``progress_done``/``progress_total``),
so a report can show either. Unknown fields are kept (``extra="allow"``): an environment may send more.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field, field_validator

from airflow_provider_lms.models.state import EnrollmentState, NormalizedEnrollment

__all__ = [
    "ACTIVITY_TYPES",
    "JUDGED_ACTIVITY_TYPES",
    "ANewSpringAttempt",
    "ANewSpringCourseResult",
    "ANewSpringCriterion",
    "ANewSpringExamTerm",
    "ANewSpringObjective",
    "ANewSpringPart",
    "ANewSpringStudentSubscription",
    "ANewSpringSubscription",
    "ANewSpringUser",
    "ANewSpringUserSummary",
    "activity_label",
    "parse_percent",
    "parse_progress",
]

#: Activity type -> subtype -> the name in aNewSpring's (Dutch) interface, from the document's list.
ACTIVITY_TYPES: dict[str, dict[str, str]] = {
    "Assessment": {
        "Assessment": "Toets",
        "RandomAssessment": "Proefexamen",
        "FingerPrintAssessment": "Nulmeting/instaptoets",
    },
    "Assignment": {"Assignment": "Opdracht"},
    "Certificate": {"Certificate": "Certificaat"},
    "Evaluation": {"Inquiry": "Vragenlijst", "Scan": "Assessment", "360-degrees": "360° feedback"},
    "External": {
        "External": "Externe activiteit",
        "Webinar": "Webinar",
        "LTI-1p0": "Externe activiteit met LTI",
        "LTI-2p0": "Externe activiteit met LTI",
    },
    "Lesson": {"Lesson": "Les", "Documentation": "Documentatie"},
    "Scorm": {"Scorm": "SCORM"},
    "SkillAssignment": {"SkillAssignment": "Inleveropdracht", "VideoSkillAssignment": "Video-inleveropdracht"},
}

#: Types whose ``passed`` is a judgement. The document: a Lesson's ``passed`` is always false (no pass mark)
#: and an Evaluation's is always null, so neither says anything about passing the course.
JUDGED_ACTIVITY_TYPES = frozenset({"Assessment", "Assignment", "External", "Scorm", "SkillAssignment"})

_PERCENT = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*%?\s*$")
_PROGRESS = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_percent(value: Any) -> float | None:
    """``"67%"`` -> 67.0 (also ``"67,5%"`` and plain numbers); None or unreadable text -> None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _PERCENT.match(str(value))
    return float(match.group(1).replace(",", ".")) if match else None


def parse_progress(value: Any) -> tuple[int, int] | None:
    """``"11/16"`` -> (11, 16): 11 of the 16 available activities (or questions) done; else None."""
    if not isinstance(value, str):
        return None
    match = _PROGRESS.match(value)
    return (int(match.group(1)), int(match.group(2))) if match else None


def activity_label(type_: str | None, sub_type: str | None) -> str | None:
    """The interface name of an activity type/subtype pair (``("External", "Webinar")`` -> ``"Webinar"``)."""
    return ACTIVITY_TYPES.get(type_ or "", {}).get(sub_type or "")


def _alias(name: str, camel: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(camel, name), serialization_alias=camel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _Scored(_Model):
    """Shared by records with a textual ``score`` and ``progress``."""

    score: str | None = None
    progress: str | None = None

    @field_validator("score", "progress", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # Criteria and terms send numbers; the text fields are kept as text either way.
        return None if value is None else str(value) if isinstance(value, int | float) else value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def score_percent(self) -> float | None:
        """``score`` as a number (``"67%"`` -> 67.0)."""
        return parse_percent(self.score)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progress_done(self) -> int | None:
        """The first number of ``progress`` (``"11/16"`` -> 11)."""
        parsed = parse_progress(self.progress)
        return parsed[0] if parsed else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progress_total(self) -> int | None:
        """The second number of ``progress`` (``"11/16"`` -> 16)."""
        parsed = parse_progress(self.progress)
        return parsed[1] if parsed else None


class ANewSpringCriterion(_Model):
    """A criterion an assessed attempt was judged on.

    :param id: the criterion's id.
    :param name: its name.
    :param max_score: the highest possible score.
    :param score: the score given.
    """

    id: str | None = None
    name: str | None = None
    max_score: float | None = _alias("max_score", "maxScore")
    score: float | None = None


class ANewSpringExamTerm(_Model):
    """The result on one exam term of an assessment attempt.

    :param name: the term's name.
    :param max_score: the highest possible score.
    :param score: the score.
    :param threshold: the term's threshold.
    """

    name: str | None = None
    max_score: float | None = _alias("max_score", "maxScore")
    score: float | None = None
    threshold: float | None = None


class ANewSpringObjective(_Model):
    """A learning objective (leerdoel) of the course.

    :param name: its name.
    :param knowledge_intake: 0..1, the intake of its MemoTrain questions.
    :param target: the target value.
    :param value: the learner's current value.
    """

    name: str | None = None
    knowledge_intake: float | None = _alias("knowledge_intake", "knowledgeIntake")
    target: float | None = None
    value: float | None = None


class ANewSpringAttempt(_Scored):
    """One attempt at an activity; only assessments have more than one (``attempt_nr`` -1 otherwise).

    :param attempt_nr: the attempt number, -1 when multiple attempts are not allowed.
    :param completed: whether the attempt was completed.
    :param passed: whether the attempt passed.
    :param score: the score as sent (``"67%"``); ``score_percent`` is the number.
    :param progress: e.g. ``"3/3"`` questions or content parts done, or None when the activity has none.
    :param criteria: criteria the attempt was judged on.
    :param terms: exam term results (assessments only).
    """

    attempt_nr: int | None = _alias("attempt_nr", "attemptNr")
    completed: bool | None = None
    passed: bool | None = None
    start_date: str | None = _alias("start_date", "startDate")
    start_date_time: str | None = _alias("start_date_time", "startDateTime")
    complete_date: str | None = _alias("complete_date", "completeDate")
    complete_date_time: str | None = _alias("complete_date_time", "completeDateTime")
    criteria: list[ANewSpringCriterion] = Field(default_factory=list)
    terms: list[ANewSpringExamTerm] = Field(default_factory=list)


class ANewSpringPart(_Scored):
    """An activity (part) of a course with the learner's result.

    :param id: the activity's external id (None when it has none).
    :param uid: unique per template: the same activity in another course run has the same uid.
    :param part_id: aNewSpring's internal id.
    :param name: the activity's name.
    :param block_name: the block it sits in.
    :param type: e.g. ``"Assessment"``, ``"External"``, ``"Certificate"`` (see :data:`ACTIVITY_TYPES`).
    :param sub_type: the finer type, e.g. ``"RandomAssessment"``, ``"Webinar"``.
    :param completed: whether the learner completed it.
    :param passed: whether the learner passed it (always false for activities without a pass mark,
        always None for evaluations).
    :param score: the score as sent (None for evaluations); ``score_percent`` is the number.
    :param attempts: the attempts.
    """

    id: str | None = None
    uid: str | None = None
    part_id: int | None = _alias("part_id", "partId")
    name: str | None = None
    block_name: str | None = _alias("block_name", "blockName")
    type: str | None = None
    sub_type: str | None = _alias("sub_type", "subType")
    completed: bool | None = None
    passed: bool | None = None
    complete_date: str | None = _alias("complete_date", "completeDate")
    complete_date_time: str | None = _alias("complete_date_time", "completeDateTime")
    attempts: list[ANewSpringAttempt] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str | None:
        """The activity type's name in the interface (``"Toets"``, ``"Certificaat"``...)."""
        return activity_label(self.type, self.sub_type)

    @property
    def is_certificate(self) -> bool:
        """A Certificate activity: passing it means the learner is certified."""
        return self.type == "Certificate"

    @property
    def is_external(self) -> bool:
        """An external activity: the kind whose score can be registered through the API."""
        return self.type == "External"


class _SubscriptionStats(_Scored):
    id: str | None = None
    uid: str | None = None
    name: str | None = None
    reseller: str | None = None
    active: bool | None = None
    expired: bool | None = None
    finished: bool | None = None
    efficiency: float | None = None
    knowledge_intake: float | None = _alias("knowledge_intake", "knowledgeIntake")
    objectives_progress: float | None = _alias("objectives_progress", "objectivesProgress")
    start_date: str | None = _alias("start_date", "startDate")
    start_date_time: str | None = _alias("start_date_time", "startDateTime")
    subscribe_date: str | None = _alias("subscribe_date", "subscribeDate")
    subscribe_date_time: str | None = _alias("subscribe_date_time", "subscribeDateTime")

    @property
    def unsubscribed(self) -> bool:
        """Finished but not expired: the document's only other reason is a manual unsubscription."""
        return bool(self.finished) and not self.expired


class ANewSpringSubscription(_SubscriptionStats):
    """One subscription (inschrijving) of a learner, from ``getSubscriptions``.

    :param id: the course's external id.
    :param uid: the course's uid.
    :param name: the course's name.
    :param active: false until the learner starts the course.
    :param expired: the subscription has expired.
    :param finished: expired, or the learner was unsubscribed.
    :param progress: e.g. ``"11/16"`` activities done (None with ``skipStats``).
    :param start_date: when the learner may start (``start_date_time`` in UTC).
    :param subscribe_date: when the learner was subscribed.
    """


class ANewSpringCourseResult(_SubscriptionStats):
    """A learner's results in one course, from ``getResults``.

    :param completed: the course is completed (``complete_date``/``complete_date_time``).
    :param grade: the score on the activity the template bases the course grade on (``"67%"``);
        ``grade_percent`` is the number.
    :param parts: the activities with their results.
    :param objectives: the learning objectives.
    """

    completed: bool | None = None
    complete_date: str | None = _alias("complete_date", "completeDate")
    complete_date_time: str | None = _alias("complete_date_time", "completeDateTime")
    grade: str | None = None
    grade_date: str | None = _alias("grade_date", "gradeDate")
    grade_date_time: str | None = _alias("grade_date_time", "gradeDateTime")
    last_training_completed_date: str | None = _alias("last_training_completed_date", "lastTrainingCompletedDate")
    last_training_completed_date_time: str | None = _alias(
        "last_training_completed_date_time", "lastTrainingCompletedDateTime"
    )
    objectives: list[ANewSpringObjective] = Field(default_factory=list)
    parts: list[ANewSpringPart] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def grade_percent(self) -> float | None:
        """``grade`` as a number."""
        return parse_percent(self.grade)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def certified(self) -> bool:
        """A Certificate activity of the course is passed."""
        return any(p.is_certificate and p.passed for p in self.parts)

    def part(self, activity_id: str) -> ANewSpringPart | None:
        """The activity with this external id, or None."""
        return next((p for p in self.parts if p.id == activity_id), None)

    def state(self) -> EnrollmentState:
        """The normalized state, from the document's meaning of the flags.

        * ``completed`` first: a course completed before its subscription expired stays completed.
          Then passed when a Certificate part is passed; with no Certificate part, passed when every
          judged activity is passed, failed when a completed judged activity is not; else completed.
        * ``expired`` -> expired; ``finished`` without ``expired`` (manually unsubscribed) -> canceled.
        * ``active`` (the learner started) -> in_progress; otherwise enrolled.
        """
        if self.completed:
            certificates = [p for p in self.parts if p.is_certificate]
            if certificates:
                return EnrollmentState.PASSED if self.certified else EnrollmentState.COMPLETED
            judged = [p for p in self.parts if p.type in JUDGED_ACTIVITY_TYPES]
            if judged and all(p.passed for p in judged):
                return EnrollmentState.PASSED
            if any(p.completed and p.passed is False for p in judged):
                return EnrollmentState.FAILED
            return EnrollmentState.COMPLETED
        if self.expired:
            return EnrollmentState.EXPIRED
        if self.finished:
            return EnrollmentState.CANCELED
        return EnrollmentState.IN_PROGRESS if self.active else EnrollmentState.ENROLLED

    def normalized(self, learner_id: str | None = None) -> NormalizedEnrollment:
        """This result as the provider's one normalized enrollment (the API record in ``raw``)."""
        return NormalizedEnrollment(
            platform="aNewSpring",
            state=self.state(),
            enrollment_id=None,
            learner_id=learner_id,
            course_id=self.id,
            completed_at=self.complete_date_time or self.complete_date,
            certified=self.certified,
            raw=self.model_dump(mode="json", by_alias=True, exclude_computed_fields=True)
            if _EXCLUDE_COMPUTED
            else self.model_dump(mode="json", by_alias=True),
        )


class ANewSpringStudentSubscription(_SubscriptionStats):
    """One learner on a course's roster, from ``getStudentSubscriptions/{courseID}``.

    The same subscription figures as :class:`ANewSpringSubscription`, but ``id``/``uid``/``name`` are the
    learner's. The public client spells the objectives figure ``objectiveProgress``; the document's
    ``getSubscriptions`` example ``objectivesProgress``: both are read.

    :param id: the learner's external id.
    :param uid: the learner's UID.
    :param name: the learner's name.
    :param active: false until the learner starts the course.
    :param expired: the subscription has expired.
    :param finished: expired, or the learner was unsubscribed.
    """

    objectives_progress: float | None = Field(
        default=None,
        validation_alias=AliasChoices("objectivesProgress", "objectiveProgress", "objectives_progress"),
        serialization_alias="objectivesProgress",
    )

    @property
    def live(self) -> bool:
        """Subscribed now: on the roster and not unsubscribed by hand (an expired subscription still exists)."""
        return not self.unsubscribed


class ANewSpringUserSummary(_Model):
    """A user as ``getGroupUsers`` (and ``getUsers``) list them.

    :param id: the external id.
    :param uid: the UID.
    :param name: the display name.
    :param login: the login name.
    :param email: the e-mail address.
    :param active: whether the account is active.
    """

    id: str | None = None
    uid: str | None = None
    name: str | None = None
    login: str | None = None
    email: str | None = None
    active: bool | None = None


class ANewSpringUser(ANewSpringUserSummary):
    """A user from ``getUser/{userID}`` (the fields the public client lists; more are kept as extra).

    :param first_name: ``firstName``.
    :param middle_name: ``middleName`` (a Dutch "tussenvoegsel" such as "de").
    :param last_name: ``lastName``.
    :param roles: the user's roles (``student``, ``teacher``, ``mentor``, ...).
    """

    first_name: str | None = _alias("first_name", "firstName")
    middle_name: str | None = _alias("middle_name", "middleName")
    last_name: str | None = _alias("last_name", "lastName")
    roles: list[str] = Field(default_factory=list)

    @field_validator("roles", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        # ASSUMPTION: roles arrive as a list of names; a single name or null is read too.
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [r.get("name", r.get("role")) if isinstance(r, dict) else r for r in value]
        return value

    @property
    def family_name(self) -> str:
        """``middleName lastName`` as one family name ("de Vries"), the way one HR field holds it."""
        return " ".join(p for p in (self.middle_name, self.last_name) if p)


# pydantic >= 2.12 can leave computed fields out of a dump; older versions cannot (raw then carries them too).
_EXCLUDE_COMPUTED = "exclude_computed_fields" in BaseModel.model_dump.__code__.co_varnames

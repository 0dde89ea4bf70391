"""The records the aNewSpring double stores: learners, courses with their activities, subscriptions, results.

Plain data, no HTTP: ``state.py`` changes them, ``views.py`` renders them as the document's JSON.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

_UID_NAMESPACE = uuid.UUID("5b0e8f3a-4c1d-4e2b-9a7f-2d6c8e1f0a11")

# ASSUMPTION: the pass mark of an external activity scored without ``passed`` (the document names none).
DEFAULT_PASS_MARK = 55.0

Stage = Literal["activity_scored", "course_completed", "certificate_passed"]
STAGES: tuple[Stage, ...] = ("activity_scored", "course_completed", "certificate_passed")

#: How a call addresses its records: external ids in the path, or UIDs in the query.
AddressForm = Literal["id", "uid"]


def stable_uid(kind: str, external_id: str) -> str:
    """A UID derived from the external id, so that UIDs are the same after every reset."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{kind}:{external_id}"))


@dataclass
class AnsUser:
    """A user (learner, instructor, observer...).

    :param id: External id (the path form).
    :param uid: aNewSpring's UID (the query form).
    :param name: Display name.
    :param login: Login name (unique).
    :param fields: The other ``addOrUpdateUser`` fields as last sent (``firstName``, ``email``, ...).
    :param roles: The user's roles (``student``, ``teacher``, ``mentor``, ...).
    :param archived: An archived user cannot be updated (409).
    :param writes: ``addOrUpdateUser`` calls that changed this user (creating it included).
    :param created_by_api: Created through ``addOrUpdateUser`` (not seeded or set up by the control API).
    """

    id: str
    uid: str
    name: str
    login: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    roles: set[str] = field(default_factory=lambda: {"student"})
    archived: bool = False
    writes: int = 0
    created_by_api: bool = False

    def display_name(self) -> str:
        """``firstName middleName lastName`` when known, else the name given at set-up."""
        parts = [self.fields.get(k, "") for k in ("firstName", "middleName", "lastName")]
        joined = " ".join(p for p in parts if p)
        return joined or self.name


#: The group types (support article 70416) and the role a member of each needs.
GROUP_TYPE_ROLES = {"student": "student", "teacher": "teacher", "mentor": "mentor"}


@dataclass(frozen=True)
class AnsPartDef:
    """One activity of a course template.

    :param id: External id, or ``None`` for an activity without one.
    :param uid: The activity's UID (per template: the same in every run of it).
    :param part_id: aNewSpring's numeric ``partId``.
    :param name: Activity name.
    :param block_name: Name of the block it sits in.
    :param type: ``Lesson``, ``Assessment``, ``External``, ``Evaluation``, ``Certificate``, ...
    :param sub_type: The document's ``subType``.
    """

    id: str | None
    uid: str
    part_id: int
    name: str
    block_name: str
    type: str
    sub_type: str


@dataclass
class AnsCourse:
    """A course (run) with its activities.

    :param id: External id.
    :param uid: The course's UID.
    :param name: Course name.
    :param reseller: The document's ``reseller``.
    :param parts: The activities, in course order.
    :param pass_mark: Score from which an external activity scored without ``passed`` passes.
    """

    id: str
    uid: str
    name: str
    reseller: str
    parts: tuple[AnsPartDef, ...]
    pass_mark: float = DEFAULT_PASS_MARK

    def part(self, activity_id: str) -> AnsPartDef | None:
        """The activity with this external id, if the course has one."""
        return next((p for p in self.parts if p.id == activity_id), None)


@dataclass(frozen=True)
class AnsAttempt:
    """One attempt at an activity.

    :param nr: ``attemptNr`` (-1 for an activity that is not an assessment).
    :param started: When the attempt began.
    :param completed: When it was completed (``None``: not completed).
    :param passed: Whether it passed (``None`` for an evaluation).
    :param score: The score in percent, if any.
    :param progress: The document's ``progress`` (``"3/3"``), if any.
    :param terms_scored: For an exam with terms: how many of its three terms were scored; ``None``: no terms.
    """

    nr: int
    started: datetime | None
    completed: datetime | None
    passed: bool | None
    score: float | None
    progress: str | None
    terms_scored: int | None = None


@dataclass
class AnsPartResult:
    """A learner's result for one activity."""

    completed: bool = False
    passed: bool | None = False
    score: float | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    attempts: list[AnsAttempt] = field(default_factory=list)
    comment: str | None = None


@dataclass
class AnsSubscription:
    """A learner's subscription to a course, with the results per ``partId``."""

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

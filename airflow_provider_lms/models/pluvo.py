"""Pluvo records: the webhook events (pluvo-webhooks.txt plus the events FACTS.md lists) and the GraphQL API's.

The GraphQL models (section at the end) carry the fields the hook's documents select
(``hooks/pluvo_documents.py``), by Pluvo's published names as aliases; the per-item lists of Pluvo's bulk
mutations (``addedIds``, ``alreadyAddedIds``, ``failedIds``, ``idsLinkedViaObject``...) read ``null`` as empty.

Every model accepts fields it does not name (Pluvo adds fields over time, and the documented examples
show ``extraFields`` with tenant-specific keys) and is strict on the fields the flows rely on: the event
name, the record ids, the user and the training of a finished training, the course or LTI tool of a
finished course, the assignment's score and state.

Bodies the document does not show (``EVENT_CERTIFICATE_ACHIEVED`` and the three ``OFFER_EVENT_*`` events
are only named in FACTS.md) are modelled on their closest documented relative and are lenient beyond
``id``, ``event`` and ``user``: an assumption listed in the README.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, TypeAdapter, model_validator

__all__ = [
    "PLUVO_EVENT_NAMES",
    "AbsoluteDateCondition",
    "AssignmentGradeUpdateEvent",
    "CertificateAchievedEvent",
    "CourseClearedCondition",
    "CourseFinishedEvent",
    "GroupEvent",
    "ModuleGroupEvent",
    "OfferEventEnrollmentEvent",
    "OtherCondition",
    "PluvoBulkAction",
    "PluvoCertificate",
    "PluvoDuration",
    "PluvoEnrollment",
    "PluvoEvent",
    "PluvoGeneratedCertificates",
    "PluvoGroup",
    "PluvoGroupMembership",
    "PluvoGroupRemoval",
    "PluvoOffer",
    "PluvoOfferEvent",
    "PluvoOfferEventDate",
    "PluvoOfferEventEnrollment",
    "PluvoPageInfo",
    "PluvoPortfolioItem",
    "PluvoPortfolioReportItem",
    "PluvoTraining",
    "PluvoTrainingEnrollment",
    "PluvoTrainingRemoval",
    "PluvoUser",
    "PluvoUserSync",
    "PortfolioItemEvent",
    "RelativeDateCondition",
    "TrainingEvent",
    "TrainingFinishedEvent",
    "UnknownPluvoEvent",
    "UserEvent",
    "parse_pluvo_event",
]

#: What an event name must look like to become part of an asset URI (``lms://pluvo/<EVENT>``).
EVENT_NAME_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# -- records embedded in events ------------------------------------------------------------------------------
class PluvoUser(_Record):
    """A Pluvo user as webhooks embed it ("See user request body")."""

    id: str
    ref: str | None = None
    name: str | None = None
    email: str | None = None
    is_active: bool | None = Field(default=None, alias="isActive")
    archived: bool | None = None
    roles: list[str] | None = None
    afas_person_id: str | int | None = None
    afas_employee_id: str | int | None = None
    extra_fields: dict[str, Any] | None = Field(default=None, alias="extraFields")


class PluvoTraining(_Record):
    """A Pluvo training as webhooks embed it ("See training request body")."""

    id: str
    ref: str | None = None
    title: str | None = None
    subtitle: str | None = None
    introduction: str | None = None
    start_date: date | datetime | None = Field(default=None, alias="startDate")
    end_date: date | datetime | None = Field(default=None, alias="endDate")
    is_active: bool | None = Field(default=None, alias="isActive")
    archived: bool | None = None
    extra_fields: dict[str, Any] | None = Field(default=None, alias="extraFields")


class PluvoGroup(_Record):
    """A Pluvo group."""

    id: str
    ref: str | None = None
    name: str | None = None
    enable_chat: bool | None = Field(default=None, alias="enableChat")
    user_count: int | None = Field(default=None, alias="userCount")


class PluvoDuration(_Record):
    """A Python ``timedelta`` as Pluvo serializes it: days, seconds, microseconds."""

    days: int = 0
    seconds: int = 0
    microseconds: int = 0


# -- module-group conditions: three documented types, anything else kept as-is ----------------------------
class AbsoluteDateCondition(_Record):
    """Unlocks at a fixed date."""

    type: Literal["AbsoluteDateCondition"]
    date: datetime
    comparison: str | None = None


class RelativeDateCondition(_Record):
    """Unlocks an offset after a reference moment (``comparison``, e.g. ``START``)."""

    type: Literal["RelativeDateCondition"]
    offset: PluvoDuration
    comparison: str | None = None


class PluvoCourseRef(_Record):
    """A course as conditions and course-finished events reference it (id is an int in conditions)."""

    id: str | int
    title: str | None = None
    version: int | None = None


class CourseClearedCondition(_Record):
    """Unlocks once a course is cleared with at least ``scoreThreshold``."""

    type: Literal["CourseClearedCondition"]
    course: PluvoCourseRef
    pre_delay: PluvoDuration | None = Field(default=None, alias="preDelay")
    score_threshold: float | None = Field(default=None, alias="scoreThreshold")
    course_comparison: str | None = Field(default=None, alias="courseComparison")


class OtherCondition(_Record):
    """A condition type the document does not describe; kept so that a new type never fails an event."""

    type: str


def _condition_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in ("AbsoluteDateCondition", "RelativeDateCondition", "CourseClearedCondition") else "other"


Condition = Annotated[
    Annotated[AbsoluteDateCondition, Tag("AbsoluteDateCondition")]
    | Annotated[RelativeDateCondition, Tag("RelativeDateCondition")]
    | Annotated[CourseClearedCondition, Tag("CourseClearedCondition")]
    | Annotated[OtherCondition, Tag("other")],
    Discriminator(_condition_tag),
]


# -- events ----------------------------------------------------------------------------------------------------
class _Event(_Record):
    id: str
    event: str
    sent_date: datetime | None = Field(default=None, alias="sentDate")


class TrainingEvent(_Event, PluvoTraining):
    """``TRAINING_CREATED``, ``TRAINING_UPDATED``, ``TRAINING_DELETED``: the training itself."""

    event: Literal["TRAINING_CREATED", "TRAINING_UPDATED", "TRAINING_DELETED"]


class UserEvent(_Event, PluvoUser):
    """``USER_CREATED``, ``USER_UPDATED``, ``USER_DELETED``: the user itself."""

    event: Literal["USER_CREATED", "USER_UPDATED", "USER_DELETED"]


class GroupEvent(_Event, PluvoGroup):
    """``GROUP_CREATED``, ``GROUP_UPDATED``, ``GROUP_DELETED``: the group itself."""

    event: Literal["GROUP_CREATED", "GROUP_UPDATED", "GROUP_DELETED"]


class ModuleGroupEvent(_Event):
    """A module group's event for one user: ``EVENT_CONDITIONS_FULFILLED`` or ``EVENT_FILE_UPLOADED``.

    ``file`` is set for ``EVENT_FILE_UPLOADED``.
    """

    event: Literal["EVENT_CONDITIONS_FULFILLED", "EVENT_FILE_UPLOADED"]
    ref: str | None = None
    training: PluvoTraining
    user: PluvoUser
    conditions: list[Condition] = Field(default_factory=list)
    file: str | None = None


class CertificateAchievedEvent(_Event):
    """``EVENT_CERTIFICATE_ACHIEVED`` (named in FACTS.md, body undocumented).

    Assumed to be shaped like the other module-group (``EVENT_*``) events: the user is required, the
    training and the certificate's file are kept when present.
    """

    event: Literal["EVENT_CERTIFICATE_ACHIEVED"]
    ref: str | None = None
    user: PluvoUser
    training: PluvoTraining | None = None
    file: str | None = None


class PortfolioItemEvent(_Event):
    """``PORTFOLIO_ITEM_CREATED``, ``..._UPDATED``, ``..._DELETED``: an achievement in a user's portfolio."""

    event: Literal["PORTFOLIO_ITEM_CREATED", "PORTFOLIO_ITEM_UPDATED", "PORTFOLIO_ITEM_DELETED"]
    user: PluvoUser
    title: str | None = None
    description: str | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    files: list[str] = Field(default_factory=list)


class PluvoLtiRef(_Record):
    """The LTI tool of a finished LTI course."""

    id: str
    title: str | None = None
    url: str | None = None


class CourseFinishedEvent(_Event):
    """``COURSE_FINISHED`` for a Pluvo course (``type`` COURSE, ``course`` set) or an LTI tool (``lti`` set)."""

    event: Literal["COURSE_FINISHED"]
    type: Literal["COURSE", "LTI"]
    score: float | None = None
    time_spent: PluvoDuration | None = None
    user: PluvoUser
    course: PluvoCourseRef | None = None
    lti: PluvoLtiRef | None = None

    @model_validator(mode="after")
    def _target_matches_type(self) -> CourseFinishedEvent:
        if self.type == "COURSE" and self.course is None:
            raise ValueError("a COURSE_FINISHED event of type COURSE needs 'course'")
        if self.type == "LTI" and self.lti is None:
            raise ValueError("a COURSE_FINISHED event of type LTI needs 'lti'")
        return self


class TrainingFinishedEvent(_Event):
    """``TRAINING_FINISHED``: a user finished a training (the event the example DAG is scheduled on)."""

    event: Literal["TRAINING_FINISHED"]
    score: float | None = None
    start_date: datetime | None = None
    user: PluvoUser
    training: PluvoTraining


class PluvoModuleGroupRef(_Record):
    """The module group ("event") an assignment belongs to."""

    id: str
    ref: str | None = None
    training: PluvoTraining | None = None
    conditions: list[Condition] = Field(default_factory=list)


class PluvoAssignment(_Record):
    """An assignment as the grade-update event embeds it."""

    id: str
    event: PluvoModuleGroupRef | None = None
    assignment_type: Literal["participant", "collective"] | None = None
    score_type: Literal["numeral", "fulfilled", "none"] | None = None
    weight: float | None = None


class AssignmentGradeUpdateEvent(_Event):
    """``ASSIGNMENT_GRADE_UPDATE``: a user's assignment was graded (``score`` from 0 to 1)."""

    event: Literal["ASSIGNMENT_GRADE_UPDATE"]
    score: float | None = Field(default=None, ge=0, le=1)
    fulfilled: bool | None = None
    state: Literal["open", "closed"]
    user: PluvoUser
    assignment: PluvoAssignment


class OfferEventEnrollmentEvent(_Event):
    """``OFFER_EVENT_ENROLLED``, ``OFFER_EVENT_ENROLLMENT_STATUS_UPDATED``, ``OFFER_EVENT_UNENROLLED``.

    Named in FACTS.md without a body; assumed to carry the user like every other per-user event. Whatever
    else Pluvo sends (the offer, the status) is kept as extra fields.
    """

    event: Literal["OFFER_EVENT_ENROLLED", "OFFER_EVENT_ENROLLMENT_STATUS_UPDATED", "OFFER_EVENT_UNENROLLED"]
    user: PluvoUser
    status: str | None = None


class UnknownPluvoEvent(_Event):
    """An event name this version does not know: kept whole, so that a new Pluvo event still reaches a DAG."""

    id: str | None = None  # type: ignore[assignment]


_KNOWN: dict[str, type[_Event]] = {}
for _cls in (
    TrainingEvent,
    UserEvent,
    GroupEvent,
    ModuleGroupEvent,
    CertificateAchievedEvent,
    PortfolioItemEvent,
    CourseFinishedEvent,
    TrainingFinishedEvent,
    AssignmentGradeUpdateEvent,
    OfferEventEnrollmentEvent,
):
    for _name in _cls.model_fields["event"].annotation.__args__:  # type: ignore[union-attr]
        _KNOWN[_name] = _cls

#: Every event name the document and FACTS.md list.
PLUVO_EVENT_NAMES: frozenset[str] = frozenset(_KNOWN)


def _event_tag(value: Any) -> str:
    name = value.get("event") if isinstance(value, dict) else getattr(value, "event", None)
    return _KNOWN[name].__name__ if name in _KNOWN else "unknown"


PluvoEvent = Annotated[
    Annotated[TrainingEvent, Tag("TrainingEvent")]
    | Annotated[UserEvent, Tag("UserEvent")]
    | Annotated[GroupEvent, Tag("GroupEvent")]
    | Annotated[ModuleGroupEvent, Tag("ModuleGroupEvent")]
    | Annotated[CertificateAchievedEvent, Tag("CertificateAchievedEvent")]
    | Annotated[PortfolioItemEvent, Tag("PortfolioItemEvent")]
    | Annotated[CourseFinishedEvent, Tag("CourseFinishedEvent")]
    | Annotated[TrainingFinishedEvent, Tag("TrainingFinishedEvent")]
    | Annotated[AssignmentGradeUpdateEvent, Tag("AssignmentGradeUpdateEvent")]
    | Annotated[OfferEventEnrollmentEvent, Tag("OfferEventEnrollmentEvent")]
    | Annotated[UnknownPluvoEvent, Tag("unknown")],
    Discriminator(_event_tag),
]

_EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(PluvoEvent)


def parse_pluvo_event(payload: Any) -> _Event:
    """Validate a webhook body as the Pluvo event its ``event`` field names.

    :raises pydantic.ValidationError: the body is not an object, the event name is not an upper-case
        identifier, or a field the event's model requires is missing or of the wrong type.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str):
        raise ValueError("a Pluvo event must be a JSON object with an 'event' name")
    if not EVENT_NAME_PATTERN.match(payload["event"]):
        raise ValueError("the Pluvo event name must be an upper-case identifier")
    return _EVENT_ADAPTER.validate_python(payload)


# -- GraphQL --------------------------------------------------------------------------------------------------
class PluvoPageInfo(_Record):
    """Relay ``pageInfo``."""

    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: str | None = Field(default=None, alias="endCursor")


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


#: A list in a bulk mutation's answer: Pluvo may send ``null`` for "none".
IdList = Annotated[list[str], BeforeValidator(_none_as_empty)]


class PluvoUserSync(_Record):
    """``updateOrCreateUser``'s answer: the user, and whether Pluvo created it (``created``)."""

    user: PluvoUser
    created: bool = False


class PluvoGroupMembership(_Record):
    """``addUsersToGroup``'s answer (group-user-manager-2): users already in the group are ``alreadyAddedIds``."""

    added_ids: IdList = Field(default_factory=list, alias="addedIds")
    already_added_ids: IdList = Field(default_factory=list, alias="alreadyAddedIds")
    failed_ids: IdList = Field(default_factory=list, alias="failedIds")


class PluvoGroupRemoval(_Record):
    """``removeUsersFromGroup``'s answer."""

    removed_ids: IdList = Field(default_factory=list, alias="removedIds")
    already_removed_ids: IdList = Field(default_factory=list, alias="alreadyRemovedIds")
    failed_ids: IdList = Field(default_factory=list, alias="failedIds")


class PluvoTrainingEnrollment(_Record):
    """``addUsersToTraining``'s answer (training-participants), by id and by ref."""

    added_ids: IdList = Field(default_factory=list, alias="addedIds")
    added_refs: IdList = Field(default_factory=list, alias="addedRefs")
    already_added_ids: IdList = Field(default_factory=list, alias="alreadyAddedIds")
    already_added_refs: IdList = Field(default_factory=list, alias="alreadyAddedRefs")
    failed_ids: IdList = Field(default_factory=list, alias="failedIds")
    failed_refs: IdList = Field(default_factory=list, alias="failedRefs")


class PluvoTrainingRemoval(_Record):
    """``removeUsersFromTraining``'s answer.

    Users who reach the training through a group or an offer-event enrollment cannot be removed here:
    Pluvo lists them in ``idsLinkedViaObject`` / ``refsLinkedViaObject``.
    """

    removed_ids: IdList = Field(default_factory=list, alias="removedIds")
    removed_refs: IdList = Field(default_factory=list, alias="removedRefs")
    already_removed_ids: IdList = Field(default_factory=list, alias="alreadyRemovedIds")
    already_removed_refs: IdList = Field(default_factory=list, alias="alreadyRemovedRefs")
    ids_linked_via_object: IdList = Field(default_factory=list, alias="idsLinkedViaObject")
    refs_linked_via_object: IdList = Field(default_factory=list, alias="refsLinkedViaObject")
    failed_ids: IdList = Field(default_factory=list, alias="failedIds")
    failed_refs: IdList = Field(default_factory=list, alias="failedRefs")


class PluvoOfferEventDate(_Record):
    """One date of an offer event (``dates { id startDate endDate }``)."""

    id: str
    start_date: datetime | None = Field(default=None, alias="startDate")
    end_date: datetime | None = Field(default=None, alias="endDate")


class PluvoOfferEvent(_Record):
    """An offer event (offerevent-date-2): what learners enroll in."""

    id: str
    ref: str | None = None
    title: str | None = None
    type: str | None = None
    max_subscriptions: int | None = Field(default=None, alias="maxSubscriptions")
    enrolled_count: int | None = Field(default=None, alias="enrolledCount")
    spots_available: int | None = Field(default=None, alias="spotsAvailable")
    cancelled: bool | None = None
    dates: Annotated[list[PluvoOfferEventDate], BeforeValidator(_none_as_empty)] = Field(default_factory=list)
    access_trainings: Annotated[list[PluvoTraining], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list, alias="accessTrainings"
    )


class PluvoOffer(_Record):
    """An offer (older offer page) and its events."""

    id: str
    ref: str | None = None
    title: str | None = None
    description: str | None = None
    is_active: bool | None = Field(default=None, alias="isActive")
    offer_events: Annotated[list[PluvoOfferEvent], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list, alias="offerEvents"
    )


class PluvoOfferEventEnrollment(_Record):
    """One enrollment ``createOfferEventEnrollments`` answers with (common-recipes: ``id user { ref } status``)."""

    id: str
    user: PluvoUser | None = None
    status: str | None = None


class PluvoEnrollment(_Record):
    """An enrollment as ``enrollments(userId:)`` lists it (older enrollments page)."""

    id: str
    offer_event_id: str | None = Field(default=None, alias="offerEventId")
    status: str | None = None
    enrolled_at: datetime | None = Field(default=None, alias="enrolledAt")


class PluvoPortfolioReportItem(_Record):
    """One ``portfolioReport`` row: a learner's progress in a training (common-recipes).

    ``progress`` and ``score`` may be null; their scale is unpublished (webhook scores run 0..1).
    """

    user: PluvoUser
    title: str | None = None
    progress: float | None = None
    score: float | None = None
    completion_date: datetime | None = Field(default=None, alias="completionDate")
    time_spent: PluvoDuration | None = Field(default=None, alias="timeSpent")
    related_object_id: str | None = Field(default=None, alias="relatedObjectId")


class PluvoCertificate(_Record):
    """A certificate template (``certificates``, certificate-2): not an awarded certificate."""

    id: str
    name: str | None = None
    title: str | None = None


class PluvoBulkAction(_Record):
    """``BulkAction``: which ids succeeded and which failed."""

    succeeded_ids: IdList = Field(default_factory=list, alias="succeededIds")
    failed_ids: IdList = Field(default_factory=list, alias="failedIds")


class PluvoGeneratedCertificates(_Record):
    """``generateCertificate``'s answer."""

    bulk_generate: PluvoBulkAction = Field(default_factory=PluvoBulkAction, alias="bulkGenerate")


class PluvoPortfolioItem(_Record):
    """An item of a user's portfolio (older portfolioitems page): awarded certificates appear as these."""

    id: str
    title: str | None = None
    description: str | None = None
    start_date: datetime | None = Field(default=None, alias="startDate")
    end_date: datetime | None = Field(default=None, alias="endDate")
    files: IdList = Field(default_factory=list)
    created_at: datetime | None = Field(default=None, alias="createdAt")

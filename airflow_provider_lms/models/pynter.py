"""Pynter records, after the data model in pynter-api.nl.txt, and its normalized enrollment state.

Pynter's result model: a finished course is a *result* (``FinishedModule``: person, module, finish
date). One course can have several results over time, because some courses must be repeated
periodically (re-certification); the **latest** result is the current status. :func:`latest_result`
picks it and :func:`normalize_pynter` turns it into the provider's one enrollment state, with
``completed_at`` = the latest result's finish date, so ``EnrollmentCompletedSensor(completed_since=...)``
can wait for a *new* result.

The document names tables and a few columns (``PersonId``, ``ModuleId``, ``FinishDate``, ``Status``) but
not the answer fields of the API methods. ASSUMPTION: answers carry PascalCase fields named after those
columns (``Id``, ``PersonId``, ``ExternalId``, ``ModuleId``, ``FinishDate``...). The models accept unknown
fields, so a customer's extra columns are kept (``model_extra``), and empty strings read as ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pendulum
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from airflow_provider_lms.models.state import EnrollmentState, NormalizedEnrollment

#: Characters XML 1.0 cannot carry (as refused by ``soap.escape_text``).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

__all__ = [
    "PERSON_BOOLEAN_FIELDS",
    "PERSON_DATETIME_FIELDS",
    "PERSON_FIELDS",
    "PERSON_READ_ONLY_FIELDS",
    "PYNTER_TZ",
    "PynterCertificate",
    "PynterClass",
    "PynterCourseDate",
    "PynterCourseOverview",
    "PynterEmployee",
    "PynterEticket",
    "PynterMandatoryPlanning",
    "PynterPerson",
    "PynterProgress",
    "PynterResult",
    "PynterStartedCourse",
    "PynterTraining",
    "latest_result",
    "normalize_pynter",
    "person_differs",
    "person_for_write",
]

#: ASSUMPTION: Pynter's zone-less dateTimes are Dutch local time.
PYNTER_TZ = "Europe/Amsterdam"


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_none(cls, data: Any) -> Any:
        # ASMX writes an empty element for a missing value; "" is not a date or a number.
        if isinstance(data, dict):
            return {k: (None if v == "" else v) for k, v in data.items()}
        return data


def _local_iso(value: datetime | date | None) -> str | None:
    """A Pynter (zone-less, local) time as ISO 8601 with its offset."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        return pendulum.instance(value, tz=PYNTER_TZ).isoformat()
    return pendulum.instance(value).isoformat()


class PynterResult(_Record):
    """One result (``FinishedModule``): a person finished a course on a date.

    :param Id: the result's id.
    :param PersonId: Pynter's person id.
    :param ExternalId: the person's external id (employee number), when the answer carries it.
    :param ModuleId: the course (``LearningModule``) id.
    :param ModuleCode: the course code, when present.
    :param ModuleName: the course name, when present.
    :param FinishDate: when the course was finished.
    :param ValidUntil: until when the result counts (periodic courses), when present.
    :param Passed: ASSUMPTION: a result means passed unless the answer says ``Passed=false``.
    """

    Id: int | None = None
    PersonId: int | None = None
    ExternalId: str | None = None
    ModuleId: int
    ModuleCode: str | None = None
    ModuleName: str | None = None
    FinishDate: datetime
    ValidUntil: datetime | None = None
    Passed: bool | None = None

    @property
    def finished_at(self) -> str:
        """``FinishDate`` as ISO 8601 with Pynter's offset."""
        return _local_iso(self.FinishDate) or ""


class PynterStartedCourse(_Record):
    """A course a person started but has not finished (``StartedCourses``)."""

    PersonId: int | None = None
    ExternalId: str | None = None
    ModuleId: int
    ModuleName: str | None = None
    StartDate: datetime | None = None
    Progress: int | None = None


class PynterCourseOverview(_Record):
    """One course in a person's overview (``CoursesOverview``), with progress."""

    PersonId: int | None = None
    ExternalId: str | None = None
    ModuleId: int
    ModuleName: str | None = None
    Progress: int | None = None
    Status: str | None = None


class PynterCourseDate(_Record):
    """A registration for a course with meetings (type B), with its status (``CourseDatesWithStatus``)."""

    Id: int | None = None
    PersonId: int | None = None
    ExternalId: str | None = None
    ModuleId: int | None = None
    ClassId: int | None = None
    Date: datetime | None = None
    Status: str | None = None


class PynterCertificate(_Record):
    """A certificate of a self-added course (``GetPersonCertificates``)."""

    Id: int | None = None
    Name: str | None = None
    IssueDate: datetime | None = None
    ExpirationDate: datetime | None = None


class PynterTraining(_Record):
    """A diploma or certificate earned outside Pynter (``GetPersonTraining``)."""

    Id: int | None = None
    Name: str | None = None
    Institution: str | None = None
    Date: datetime | None = None
    ExpirationDate: datetime | None = None


class PynterProgress(_Record):
    """Progress on one step (``LearningTask``) of a course (``GetPersonProgress``)."""

    ModuleId: int | None = None
    TaskId: int | None = None
    TaskName: str | None = None
    Status: str | None = None


class PynterMandatoryPlanning(_Record):
    """One mandatory course (type B) and a person's status in it (``GetMandatoryPlanning``).

    :param ValidityMonths: how long a result counts (re-certification period), when the course repeats.
    :param LastFinishDate: the person's latest result, if any.
    """

    PersonId: int | None = None
    ExternalId: str | None = None
    ModuleId: int
    ModuleCode: str | None = None
    ModuleName: str | None = None
    ValidityMonths: int | None = None
    LastFinishDate: datetime | None = None
    ValidUntil: datetime | None = None
    Status: str | None = None

    def expires_at(self) -> datetime | None:
        """When the latest result stops counting: our own computation from the finish date and validity."""
        if self.LastFinishDate is None or not self.ValidityMonths:
            return None
        return pendulum.instance(self.LastFinishDate).add(months=self.ValidityMonths).naive()

    def is_overdue(self, on: datetime) -> bool:
        """No result at all, or the latest result is older than its validity on ``on`` (naive, local)."""
        if self.LastFinishDate is None:
            return True
        expires = self.expires_at()
        return expires is not None and expires <= on


class PynterPerson(_Record):
    """A person (``GetPersonByExternalId``); fields the answer has beyond these are kept (``model_extra``)."""

    Id: int | None = None
    ExternalIdentifier: str | None = None
    FirstName: str | None = None
    Insertion: str | None = None
    FamilyName: str | None = None
    Email: str | None = None
    Blocked: bool | None = None
    AccountLevel: str | None = None


#: The fields of ``personCreate`` / ``personUpdate``, in docs.pynter.nl's order ("Gebruikers aanmaken"), then the
#: two the HelloID connector also sends (pynter-params.md section 2).
PERSON_FIELDS: tuple[str, ...] = (
    "ExternalIdentifier", "FirstName", "Insertion", "FamilyName", "Email", "AccountLevel", "IsManager",
    "FunctionName", "DivisionName", "CostCentre", "PhoneNumber", "ContractStartTime", "ContractEndTime",
    "ManagerExternalIdentifier", "Blocked",
)  # fmt: skip
#: Person fields sent as ``xsi:type="xsd:boolean"`` and ``xsd:dateTime``: a read gives them back as text.
PERSON_BOOLEAN_FIELDS = frozenset({"IsManager", "Blocked"})
PERSON_DATETIME_FIELDS = frozenset({"ContractStartTime", "ContractEndTime"})
#: Fields a read returns that are not part of the record written back: the Pynter id travels as its own
#: ``pynterPersonId`` parameter.
PERSON_READ_ONLY_FIELDS = frozenset({"Id", "PynterId"})


def _wire_value(name: str, value: Any) -> Any:
    """A person field as read (text) turned back into what the envelope types: booleans and dateTimes."""
    if name in PERSON_BOOLEAN_FIELDS and isinstance(value, str):
        flag = value.strip().lower()
        if flag in ("true", "false"):
            return flag == "true"
    if name in PERSON_DATETIME_FIELDS and isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()[:19])
        except ValueError:
            return value
    return value


def person_for_write(
    current: dict[str, Any], changes: dict[str, Any], *, allowed: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The whole record to send with ``UpdatePerson``: what Pynter holds, with ``changes`` laid over it.

    ``UpdatePerson`` replaces the whole record (pynter-params.md: a field left out may be reset, e.g.
    ``AccountLevel`` falls back to "User"), so every field the read returned is sent back, typed again
    (booleans, dateTimes), except the read-only id. Empty values are left out, as the HelloID connector
    does. Known fields come first in docs.pynter.nl's order; ASSUMPTION: further fields the tenant returns
    follow in the order read (the server ignores elements it does not know, pynter-params.md section 2).
    With ``allowed`` (the record type's fields from the tenant's WSDL) only those are sent, in that order.
    """
    merged: dict[str, Any] = {}
    for name, value in {**current, **changes}.items():
        if name in PERSON_READ_ONLY_FIELDS or value is None or value == "" or isinstance(value, dict | list):
            continue
        merged[name] = _wire_value(name, value)
    order = allowed if allowed is not None else PERSON_FIELDS
    record = {name: merged[name] for name in order if name in merged}
    if allowed is None:
        record.update({k: v for k, v in merged.items() if k not in record})
    return record


def _same(name: str, have: Any, want: Any) -> bool:
    have = _wire_value(name, have)
    if isinstance(want, bool) or isinstance(have, bool):
        return str(have).lower() == str(want).lower()
    if isinstance(want, datetime) or isinstance(have, datetime):

        def text(v: Any) -> str:
            return v.strftime("%Y-%m-%dT%H:%M:%S") if isinstance(v, datetime) else str(v or "")[:19]

        return text(have) == text(want)
    if name == "Email":
        # E-mail addresses compare without case: a case-only difference is not worth rewriting the record.
        return str(have or "").lower() == str(want or "").lower()
    return (have or None) == (want or None)


def person_differs(current: dict[str, Any], changes: dict[str, Any]) -> bool:
    """Whether writing ``changes`` would change the person as Pynter reports it."""
    return any(not _same(name, current.get(name), value) for name, value in changes.items())


class PynterClass(_Record):
    """A cohort (*lichting*, ``GroupClass``): a group that attends the same meetings of a course."""

    Id: int
    ModuleId: int | None = None
    Name: str | None = None
    StartDate: datetime | None = None
    EndDate: datetime | None = None
    Location: str | None = None
    MaxParticipants: int | None = None


class PynterEticket(_Record):
    """An e-ticket as ``ValidateEticket`` describes it."""

    Hash: str | None = None
    Valid: bool | None = None
    PersonId: int | None = None
    ExternalId: str | None = None
    ClassId: int | None = None
    ModuleId: int | None = None
    Date: datetime | None = None
    Attended: bool | None = None


class PynterEmployee(BaseModel):
    """An employee to create or update with ``UpdateEmployee`` (validated before any request).

    Field names follow the person fields Pynter's public HelloID connector sends; ASSUMPTION: the
    ``UpdateEmployee`` record uses the same (see README). ``external_id`` identifies the employee.

    :param external_id: the employee number (``ExternalIdentifier``).
    :param first_name: given name.
    :param insertion: family-name prefix (*tussenvoegsel*).
    :param family_name: family name.
    :param email: e-mail address.
    :param phone_number: phone number.
    :param function_name: job title.
    :param division_name: department.
    :param cost_centre: cost centre.
    :param manager_external_id: the manager's employee number.
    :param contract_start: contract start (sent as dateTime).
    :param contract_end: contract end.
    :param blocked: whether the account is blocked (sent as boolean).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=100)
    first_name: str = Field(min_length=1, max_length=200)
    insertion: str | None = Field(default=None, max_length=50)
    family_name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    phone_number: str | None = Field(default=None, max_length=50)
    function_name: str | None = Field(default=None, max_length=200)
    division_name: str | None = Field(default=None, max_length=200)
    cost_centre: str | None = Field(default=None, max_length=200)
    manager_external_id: str | None = Field(default=None, max_length=100)
    contract_start: datetime | None = None
    contract_end: datetime | None = None
    blocked: bool | None = None

    @field_validator(
        "external_id",
        "first_name",
        "insertion",
        "family_name",
        "email",
        "phone_number",
        "function_name",
        "division_name",
        "cost_centre",
        "manager_external_id",
    )
    @classmethod
    def _xml_text(cls, value: str | None) -> str | None:
        # Refused here, before the first request (the look-up read), not only when the write's envelope
        # is built: XML 1.0 cannot carry most control characters.
        if value is not None and _NOT_IN_XML.search(value):
            raise ValueError("contains a control character XML cannot carry")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError("is not an e-mail address")
        return value

    _WIRE = {
        "external_id": "ExternalIdentifier",
        "first_name": "FirstName",
        "insertion": "Insertion",
        "family_name": "FamilyName",
        "email": "Email",
        "phone_number": "PhoneNumber",
        "function_name": "FunctionName",
        "division_name": "DivisionName",
        "cost_centre": "CostCentre",
        "manager_external_id": "ManagerExternalIdentifier",
        "contract_start": "ContractStartTime",
        "contract_end": "ContractEndTime",
        "blocked": "Blocked",
    }

    def to_wire(self) -> dict[str, Any]:
        """The record as Pynter's fields, unset values left out (so they are not cleared)."""
        return {self._WIRE[k]: v for k, v in self.model_dump().items() if v is not None}

    def differs_from(self, person: dict[str, Any]) -> bool:
        """Whether writing this record would change the person as Pynter reports it."""
        for wire, value in self.to_wire().items():
            have = person.get(wire)
            if isinstance(value, bool):
                if str(have).lower() != str(value).lower():
                    return True
            elif isinstance(value, datetime):
                if str(have or "")[:19] != value.strftime("%Y-%m-%dT%H:%M:%S"):
                    return True
            elif (have or None) != value:
                return True
        return False


def latest_result(results: Iterable[PynterResult]) -> PynterResult | None:
    """The current result: the latest finish date (ties: the highest id, i.e. registered last)."""
    return max(results, key=lambda r: (r.FinishDate, r.Id or 0), default=None)


def normalize_pynter(
    learner_id: str,
    course_id: str,
    results: list[PynterResult],
    started: PynterStartedCourse | None = None,
    overview: PynterCourseOverview | None = None,
) -> NormalizedEnrollment:
    """One person's standing in one course, as the provider's normalized enrollment.

    The latest result decides: passed (``failed`` only if it says ``Passed=false``), ``completed_at`` =
    its finish date, ``certified`` = still valid. Without a result: ``in_progress`` when the course is
    started, ``enrolled`` when it is in the person's overview, else ``not_enrolled``. ASSUMPTION:
    Pynter has no canceled or expired enrollment state in the documented model; an out-of-date result
    is reported as passed with its old ``completed_at``, so a sensor with ``completed_since`` waits for
    the renewal instead of failing.
    """
    current = latest_result(results)
    raw: dict[str, Any] = {
        "results": [r.model_dump(mode="json") for r in sorted(results, key=lambda r: (r.FinishDate, r.Id or 0))],
        "started": started.model_dump(mode="json") if started else None,
        "overview": overview.model_dump(mode="json") if overview else None,
    }
    enrollment_id = f"{learner_id}:{course_id}"
    if current is not None:
        valid = current.ValidUntil is None or current.ValidUntil > datetime.now()
        return NormalizedEnrollment(
            platform="Pynter",
            state=EnrollmentState.FAILED if current.Passed is False else EnrollmentState.PASSED,
            enrollment_id=enrollment_id,
            learner_id=learner_id,
            course_id=course_id,
            completed_at=current.finished_at,
            certified=current.Passed is not False and valid,
            raw=raw,
        )
    if started is not None:
        state = EnrollmentState.IN_PROGRESS
    elif overview is not None:
        state = EnrollmentState.IN_PROGRESS if (overview.Progress or 0) > 0 else EnrollmentState.ENROLLED
    else:
        state = EnrollmentState.NOT_ENROLLED
    return NormalizedEnrollment(
        platform="Pynter",
        state=state,
        enrollment_id=enrollment_id if state is not EnrollmentState.NOT_ENROLLED else None,
        learner_id=learner_id,
        course_id=course_id,
        raw=raw,
    )

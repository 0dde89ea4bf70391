"""Pynter: SOAP 1.2 (ASP.NET ASMX) at ``<customer URL>/service/apiservice.asmx``.

Every call is a ``POST`` of a SOAP 1.2 envelope (:mod:`airflow_provider_lms.soap`): the method element in
the service namespace (connection extra ``namespace``, default ``http://tempuri.org/``; the SOAP 1.2
``action`` parameter of the Content-Type follows it), the API username and password as its first children,
then the parameters.
Answers carry ``Success``, ``Contents`` and ``Error``, or a SOAP ``Fault``; both become the core's typed
errors here. Because every call is a POST, the HTTP core would never retry one on its own: each method
below says whether it is a read (``idempotent=True``, with the reason) or a write (never resent blindly;
look-then-write where a read exists).

What the document (pynter-api.nl.txt) does not give: the **parameter names** of the methods (each
customer's WSDL at ``apiservice.asmx?WSDL`` has them). The names used here are ASSUMPTIONS, listed in
:data:`ASSUMED_PARAMS`, and stay the offline default. A connection can rename them with the extra
``param_names`` (``{"Qualifications": {"externalId": "identifier"}}``), or set ``"param_names": "wsdl"``:
then the hook reads the tenant's WSDL once (hardened parser), sends each method's parameters under the
WSDL's names and in its order, takes the WSDL's ``targetNamespace`` unless ``namespace`` is set, and refuses
a parameter the WSDL does not list before sending. Every typed method takes ``extra_params``, and
:meth:`PynterHook.call` sends any method with any parameters (their values checked first).

Persons (``ensure_learners``): ``GetPersonByExternalId``, then ``CreatePerson`` or ``UpdatePerson``.
``UpdatePerson`` replaces the whole record, so the hook reads, merges and writes back every field (never
blanking one the caller does not give); identical data sends nothing. Blocking a person (``Blocked``) is how
Pynter disables an account: :meth:`PynterHook.set_person_blocked`.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from typing import Any, ClassVar

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.capabilities import register_platform
from airflow_provider_lms.hooks.pynter_persons import PynterPersonsHook
from airflow_provider_lms.hooks.pynter_soap import (
    _EXTERNAL_ID_MAX,
    ASSUMED_PARAMS,
    MAX_TEXT,
    READ_METHODS,
    WRITE_METHODS,
    PynterConnection,
    _external_id,
    _models,
    _pynter_id,
    _pynter_int,
    _when,
    _window,
    parse_pynter_error,
    wsdl_names,
)
from airflow_provider_lms.http.errors import (
    LmsInputError,
    LmsNotFoundError,
    LmsValidationError,
)
from airflow_provider_lms.http.once import create_once
from airflow_provider_lms.models.connection import LmsConnection
from airflow_provider_lms.models.inputs import (
    check_text,
    validate_id,
)
from airflow_provider_lms.models.pynter import (
    PynterCertificate,
    PynterClass,
    PynterCourseDate,
    PynterCourseOverview,
    PynterEmployee,
    PynterEticket,
    PynterMandatoryPlanning,
    PynterPerson,
    PynterProgress,
    PynterResult,
    PynterStartedCourse,
    PynterTraining,
    normalize_pynter,
)
from airflow_provider_lms.models.results import ItemResult, ItemStatus
from airflow_provider_lms.models.state import NormalizedEnrollment

__all__ = [
    "ASSUMED_PARAMS",
    "MAX_TEXT",
    "READ_METHODS",
    "WRITE_METHODS",
    "PynterConnection",
    "PynterHook",
    "parse_pynter_error",
    "wsdl_names",
]

#: The id test_connection looks up: "Person not found." proves the credentials were accepted.
_PROBE_EXTERNAL_ID = "airflow-connection-test"


@register_platform
class PynterHook(PynterPersonsHook):
    """Pynter: SOAP 1.2 at ``<customer URL>/service/apiservice.asmx``; credentials travel in the body.

    Connection: ``base_url`` is the customer URL (``https://<customer>.pynter.nl``, acceptance
    ``https://<customer>.acc.pynter.nl``), login = API username, password = API password. Optional extras:
    ``param_names`` (renames of the assumed parameter names per method, see :data:`ASSUMED_PARAMS`, or
    ``"wsdl"`` to read them from the tenant's WSDL, once per hook) and ``namespace`` (the service namespace).

    Ids: ``learner_id`` is the person's external id (employee number, as ``GetPersonByExternalId``
    takes it), ``course_id`` a course (``LearningModule``) id; an ``enrollment_id`` is
    ``"<external id>:<module id>"``.

    :param lms_conn_id: the Airflow connection id (type ``pynter``).
    """

    conn_type = "pynter"
    hook_name = "Pynter"
    default_conn_name = "pynter_default"
    platform: ClassVar[str] = "Pynter"
    capabilities: ClassVar[frozenset[str]] = frozenset({"enrollment_status", "ensure_learners"})
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/soap+xml"}

    connection_model: ClassVar[type[LmsConnection]] = PynterConnection

    # -- connection -----------------------------------------------------------------------------------------
    def check_connection(self) -> str:
        # "Person not found." means the credentials were accepted: only the probe person is missing.
        with contextlib.suppress(LmsNotFoundError):
            self.get_person(_PROBE_EXTERNAL_ID)
        return "Connected to Pynter: the API username and password were accepted"

    # -- id rules ------------------------------------------------------------------------------------------------
    def parse_learner_id(self, field: str, value: Any) -> str:
        return _external_id(field, value)

    def parse_course_id(self, field: str, value: Any) -> str:
        return str(_pynter_id(field, value))

    def parse_enrollment_id(self, field: str, value: Any) -> str:
        text = validate_id(field, value, max_length=_EXTERNAL_ID_MAX + 12)
        learner, sep, course = text.rpartition(":")
        if not sep or not learner:
            raise LmsInputError(field, f'must be "<external id>:<module id>", got {value!r}')
        self.parse_learner_id(field, learner)
        _pynter_id(field, course)
        return text

    # -- completions and qualifications (reads) -------------------------------------------------------------
    def completed_courses(
        self, start: datetime | date, end: datetime | date, **extra_params: Any
    ) -> list[PynterResult]:
        """``CompletedCourses``: every result (including course blocks) finished between two moments."""
        start, end = _window(start, end)
        return _models(PynterResult, self.call("CompletedCourses", startDate=start, endDate=end, **extra_params))

    def get_all_finished_modules(self, since: datetime | date | None = None, **extra_params: Any) -> list[PynterResult]:
        """``GetAllFinishedModules``: all finished courses (every result, so several per course over time)."""
        params = ({"startDate": _when("since", since)} if since is not None else {}) | extra_params
        return _models(PynterResult, self.call("GetAllFinishedModules", **params))

    def qualifications(self, external_id: str, **extra_params: Any) -> list[PynterResult]:
        """``Qualifications``: one person's finished courses (every result)."""
        return _models(
            PynterResult,
            self.call("Qualifications", externalId=_external_id("external_id", external_id), **extra_params),
        )

    def qualifications_by_codes(self, external_id: str, codes: list[str], **extra_params: Any) -> list[PynterResult]:
        """``QualificationsByCodes``: one person's results for the given course codes."""
        return _models(
            PynterResult,
            self.call(
                "QualificationsByCodes",
                externalId=_external_id("external_id", external_id),
                codes=[check_text(f"codes[{i}]", c, max_length=100) for i, c in enumerate(codes)],
                **extra_params,
            ),
        )

    def started_courses(self, external_id: str, **extra_params: Any) -> list[PynterStartedCourse]:
        """``StartedCourses``: courses the person started but has not finished."""
        return _models(
            PynterStartedCourse,
            self.call("StartedCourses", externalId=_external_id("external_id", external_id), **extra_params),
        )

    def course_dates_with_status(
        self, start: datetime | date, end: datetime | date, **extra_params: Any
    ) -> list[PynterCourseDate]:
        """``CourseDatesWithStatus``: registrations for courses with meetings (type B), with status."""
        start, end = _window(start, end)
        contents = self.call("CourseDatesWithStatus", startDate=start, endDate=end, **extra_params)
        return _models(PynterCourseDate, contents)

    def courses_overview(self, external_id: str, **extra_params: Any) -> list[PynterCourseOverview]:
        """``CoursesOverview``: the person's courses with progress."""
        return _models(
            PynterCourseOverview,
            self.call("CoursesOverview", externalId=_external_id("external_id", external_id), **extra_params),
        )

    # -- per person (reads) --------------------------------------------------------------------------------------
    def get_person_certificates(self, external_id: str, **extra_params: Any) -> list[PynterCertificate]:
        """``GetPersonCertificates``: certificates of the person's self-added courses."""
        return _models(
            PynterCertificate,
            self.call("GetPersonCertificates", externalId=_external_id("external_id", external_id), **extra_params),
        )

    def get_person_training(self, external_id: str, **extra_params: Any) -> list[PynterTraining]:
        """``GetPersonTraining``: diplomas and certificates earned outside Pynter."""
        return _models(
            PynterTraining,
            self.call("GetPersonTraining", externalId=_external_id("external_id", external_id), **extra_params),
        )

    def get_person_progress(self, external_id: str, **extra_params: Any) -> list[PynterProgress]:
        """``GetPersonProgress``: progress per step of each course."""
        return _models(
            PynterProgress,
            self.call("GetPersonProgress", externalId=_external_id("external_id", external_id), **extra_params),
        )

    # -- planning (read) ------------------------------------------------------------------------------------------
    def get_mandatory_planning(
        self, module_id: int | str | None = None, **extra_params: Any
    ) -> list[PynterMandatoryPlanning]:
        """``GetMandatoryPlanning``: mandatory type-B courses and each person's status in them."""
        params = ({"moduleId": _pynter_id("module_id", module_id)} if module_id is not None else {}) | extra_params
        return _models(PynterMandatoryPlanning, self.call("GetMandatoryPlanning", **params))

    def get_classes_for_training(self, module_id: int | str, **extra_params: Any) -> list[PynterClass]:
        """``GetClassesFilteredByTraining``: the cohorts of one course."""
        mid = _pynter_id("module_id", module_id)
        return _models(PynterClass, self.call("GetClassesFilteredByTraining", trainingId=mid, **extra_params))

    def validate_eticket(self, ticket_hash: str, **extra_params: Any) -> PynterEticket:
        """``ValidateEticket``: whether the hash is a valid e-ticket, and what it is for."""
        contents = self.call("ValidateEticket", hash=validate_id("ticket_hash", ticket_hash), **extra_params)
        return PynterEticket.model_validate(contents if isinstance(contents, dict) else {})

    # -- writes ------------------------------------------------------------------------------------------------------
    def update_employee(self, employee: PynterEmployee, **extra_params: Any) -> Any:
        """``UpdateEmployee``: create the employee or update it (a write: not resent blindly).

        Prefer :meth:`upsert_employee`, which looks first and verifies after an ambiguous failure.
        """
        self._check_employee(employee)
        return self.call("UpdateEmployee", employee=employee.to_wire(), **extra_params)

    def insert_class(
        self,
        module_id: int | str,
        name: str,
        start: datetime | date,
        end: datetime | date | None = None,
        *,
        location: str | None = None,
        max_participants: int | None = None,
        **extra_params: Any,
    ) -> int:
        """``InsertClass``: create a cohort; returns its id (a write: prefer :meth:`ensure_class`)."""
        first = _when("start", start)
        record: dict[str, Any] = {
            "ModuleId": _pynter_id("module_id", module_id),
            "Name": check_text("name", name, max_length=200),
            "StartDate": first,
        }
        if end is not None:
            record["EndDate"] = _window(first, end)[1]
        if location is not None:
            record["Location"] = check_text("location", location, max_length=200)
        if max_participants is not None:
            record["MaxParticipants"] = _pynter_int("max_participants", max_participants)
        contents = self.call("InsertClass", groupClass=record, **extra_params)
        # ASSUMPTION: Contents is the new class id (as CreatePerson returns the new person id).
        value = contents.get("Id") if isinstance(contents, dict) else contents
        return _pynter_id("InsertClass answer", value)

    def update_eticket_attendance(self, ticket_hash: str, **extra_params: Any) -> Any:
        """``UpdateEticketAttendance``: mark the ticket holder present (a write)."""
        return self.call("UpdateEticketAttendance", hash=validate_id("ticket_hash", ticket_hash), **extra_params)

    # -- look-then-write operations (bulk items) ----------------------------------------------------------------------
    @staticmethod
    def _check_employee(employee: PynterEmployee) -> None:
        """Refuse a record with text no wire carries (the model itself checks only XML's rule)."""
        if not isinstance(employee, PynterEmployee):
            raise LmsInputError("employee", f"must be a PynterEmployee, got {type(employee).__name__}")
        _external_id("employee.external_id", employee.external_id)
        for name, value in employee.model_dump().items():
            if isinstance(value, str):
                check_text(f"employee.{name}", value, min_length=0, strip=False)

    def upsert_employee(self, employee: PynterEmployee) -> ItemResult[Any]:
        """Create or update an employee; an employee that already matches is left alone.

        ``UpdateEmployee`` is an upsert, but it is still a write: after a lost answer we read the person
        back (``GetPersonByExternalId``) instead of sending it again blindly.
        """
        self._check_employee(employee)
        existing = self.find_person(employee.external_id)
        result = {"external_id": employee.external_id}
        if existing is not None and not employee.differs_from(existing.model_dump()):
            return ItemResult(status=ItemStatus.ALREADY_DONE, result={**result, "person_id": existing.Id})

        def find() -> PynterPerson | None:
            person = self.find_person(employee.external_id)
            return person if person is not None and not employee.differs_from(person.model_dump()) else None

        def write() -> PynterPerson:
            self.update_employee(employee)
            return find() or PynterPerson(ExternalIdentifier=employee.external_id)

        person, _ = create_once(find, write, already_looked=True)
        return ItemResult(result={**result, "person_id": person.Id, "action": "updated" if existing else "created"})

    def ensure_class(
        self,
        module_id: int | str,
        name: str,
        start: datetime | date,
        end: datetime | date | None = None,
        **fields: Any,
    ) -> ItemResult[Any]:
        """A cohort of the course with this name and start, created unless it exists (look-then-write)."""
        mid = _pynter_id("module_id", module_id)
        name = check_text("name", name, max_length=200)
        start = _when("start", start)
        start_key = start.strftime("%Y-%m-%d")

        def find() -> PynterClass | None:
            for cls in self.get_classes_for_training(mid):
                if cls.Name == name and cls.StartDate is not None and cls.StartDate.strftime("%Y-%m-%d") == start_key:
                    return cls
            return None

        def create() -> PynterClass:
            new_id = self.insert_class(mid, name, start, end, **fields)
            return PynterClass(Id=new_id, ModuleId=mid, Name=name)

        cls, created = create_once(find, create)
        return ItemResult(
            status=ItemStatus.DONE if created else ItemStatus.ALREADY_DONE,
            result={"class_id": cls.Id, "module_id": mid, "name": name},
        )

    def record_eticket_attendance(self, ticket_hash: str) -> ItemResult[Any]:
        """Mark an e-ticket's holder present unless already marked; an invalid ticket fails the item."""
        ticket = self.validate_eticket(ticket_hash)
        if ticket.Valid is False:
            raise LmsValidationError(f"e-ticket {ticket_hash!r} is not valid", platform=self.platform)
        result = {"hash": ticket_hash, "external_id": ticket.ExternalId, "class_id": ticket.ClassId}
        if ticket.Attended:
            return ItemResult(status=ItemStatus.ALREADY_DONE, result=result)

        def find() -> PynterEticket | None:
            again = self.validate_eticket(ticket_hash)
            return again if again.Attended else None

        def write() -> PynterEticket:
            self.update_eticket_attendance(ticket_hash)
            return ticket

        create_once(find, write, already_looked=True)
        return ItemResult(result=result)

    # -- the normalized enrollment state ----------------------------------------------------------------------------
    def _pair(self, ref: EnrollmentRef) -> tuple[str, int]:
        if ref.enrollment_id is not None:
            learner, _, course = ref.enrollment_id.rpartition(":")
            return learner, _pynter_id("enrollment_id", course)
        assert ref.learner_id is not None and ref.course_id is not None
        return ref.learner_id, _pynter_id("course_id", ref.course_id)

    def get_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """A person's standing in a course: the latest result decides (see :func:`normalize_pynter`).

        Reads ``Qualifications``; without a result for the course, ``StartedCourses`` and then
        ``CoursesOverview``.
        """
        learner, module = self._pair(ref)
        try:
            results = [r for r in self.qualifications(learner) if r.ModuleId == module]
            if results:
                return normalize_pynter(learner, str(module), results)
            started = next((s for s in self.started_courses(learner) if s.ModuleId == module), None)
            overview = None
            if started is None:
                overview = next((o for o in self.courses_overview(learner) if o.ModuleId == module), None)
        except LmsNotFoundError:
            return self.not_enrolled(learner, str(module))
        return normalize_pynter(learner, str(module), [], started, overview)

    async def aget_enrollment_state(self, ref: EnrollmentRef) -> NormalizedEnrollment:
        """The async twin of :meth:`get_enrollment_state`, used by the deferrable trigger."""
        learner, module = self._pair(ref)
        try:
            contents = await self.acall("Qualifications", externalId=learner)
            results = [r for r in _models(PynterResult, contents) if r.ModuleId == module]
            if results:
                return normalize_pynter(learner, str(module), results)
            contents = await self.acall("StartedCourses", externalId=learner)
            started = next((s for s in _models(PynterStartedCourse, contents) if s.ModuleId == module), None)
            overview = None
            if started is None:
                contents = await self.acall("CoursesOverview", externalId=learner)
                overview = next((o for o in _models(PynterCourseOverview, contents) if o.ModuleId == module), None)
        except LmsNotFoundError:
            return self.not_enrolled(learner, str(module))
        return normalize_pynter(learner, str(module), [], started, overview)

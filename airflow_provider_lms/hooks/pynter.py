"""Pynter: SOAP 1.2 (ASP.NET ASMX) at ``<customer URL>/service/apiservice.asmx``.

Every call is a ``POST`` of a SOAP 1.2 envelope (:mod:`airflow_provider_lms.soap`): the method element in
``http://tempuri.org/``, the API username and password as its first children, then the parameters.
Answers carry ``Success``, ``Contents`` and ``Error``, or a SOAP ``Fault``; both become the core's typed
errors here. Because every call is a POST, the HTTP core would never retry one on its own: each method
below says whether it is a read (``idempotent=True``, with the reason) or a write (never resent blindly;
look-then-write where a read exists).

What the document (pynter-api.nl.txt) does not give: the **parameter names** of the methods (each
customer's WSDL at ``apiservice.asmx?WSDL`` has them). The names used here are ASSUMPTIONS, listed in
:data:`ASSUMED_PARAMS`; a connection can rename them with the extra ``param_names``
(``{"Qualifications": {"externalId": "identifier"}}``), every typed method takes ``extra_params``, and
:meth:`PynterHook.call` sends any method with any parameters.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel

from airflow_provider_lms.hooks.base import EnrollmentRef, LmsHook
from airflow_provider_lms.hooks.capabilities import register_platform
from airflow_provider_lms.http.client import ErrorParser, PlatformError
from airflow_provider_lms.http.errors import (
    LmsAuthenticationError,
    LmsConflictError,
    LmsError,
    LmsInputError,
    LmsNotFoundError,
    LmsServerError,
    LmsValidationError,
)
from airflow_provider_lms.http.once import create_once
from airflow_provider_lms.models.connection import ConnectionFields, LmsConnection
from airflow_provider_lms.models.inputs import check_text, parse_moment, shown, validate_id
from airflow_provider_lms.models.pynter import (
    PYNTER_TZ,
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
from airflow_provider_lms.soap import (
    CONTENT_TYPE,
    SoapAnswer,
    SoapFault,
    as_list,
    build_envelope,
    parse_answer,
    parse_fault,
)

__all__ = ["ASSUMED_PARAMS", "READ_METHODS", "WRITE_METHODS", "PynterConnection", "PynterHook", "parse_pynter_error"]

M = TypeVar("M", bound=BaseModel)

SERVICE_PATH = "service/apiservice.asmx"

#: Methods that only read (safe to retry: a repeated read cannot change anything in Pynter). Names from
#: the document's method list, plus GetPersonByExternalId (FACTS.md).
READ_METHODS = frozenset(
    {
        "AvailableCourses", "CompletedCourses", "CourseDates", "CourseDatesByModules", "CourseDatesWithStatus",
        "CoursesOverview", "GetAllFinishedModules", "GetAllLearningPortfolioContent", "GetAllTalents",
        "GetCanceledPlanning", "GetCatalog", "GetCatalogFull", "GetClass", "GetClasses",
        "GetClassesFilteredByDate", "GetClassesFilteredByTraining", "GetCompanyELearningModules",
        "GetCompanyLearningModules", "GetHistoricAbsences", "GetInterviewCycles", "GetMandatoryPlanning",
        "GetPaginatedLearningPortfolioContent", "GetPersonAgenda", "GetPersonCertificates",
        "GetPersonFinishedELearning", "GetPersonPassport", "GetPersonPhoto", "GetPersonProgress",
        "GetPersonsOnLearningModules", "GetPersonTalents", "GetPersonTraining", "GetPersonWorkExperience",
        "GetPlanning", "GetROGResults", "GetTrainingsInSelectableThemeProfiles", "HealthCheck",
        "Qualifications", "QualificationsByCodes", "StartedCourses", "ValidateEticket",
        "GetPersonByExternalId",
    }
)  # fmt: skip

#: Methods that change Pynter: never resent blindly after an ambiguous failure.
WRITE_METHODS = frozenset(
    {
        "ConnectorError", "ConnectorStatusUpdatePlanning", "CreateFolder", "DeleteFolder", "InsertClass",
        "UpdateBIG", "UpdateCatalogus", "UpdateEmployee", "UpdateEticketAttendance", "UpdateLocation",
        "UpdateLocationAndDivision", "UpdatePersonManager", "UpdateStudy", "UpdateWindowsUsername",
        "CreatePerson", "UpdatePerson",
    }
)  # fmt: skip

#: ASSUMPTION: the parameter names the typed methods send (not in the document; see the module docstring).
ASSUMED_PARAMS: dict[str, tuple[str, ...]] = {
    "CompletedCourses": ("startDate", "endDate"),
    "GetAllFinishedModules": ("startDate",),
    "Qualifications": ("externalId",),
    "QualificationsByCodes": ("externalId", "codes"),
    "StartedCourses": ("externalId",),
    "CourseDatesWithStatus": ("startDate", "endDate"),
    "CoursesOverview": ("externalId",),
    "GetPersonCertificates": ("externalId",),
    "GetPersonTraining": ("externalId",),
    "GetPersonProgress": ("externalId",),
    "GetMandatoryPlanning": ("moduleId",),
    "UpdateEmployee": ("employee",),
    "InsertClass": ("groupClass",),
    "GetClassesFilteredByTraining": ("trainingId",),
    "UpdateEticketAttendance": ("hash",),
    "ValidateEticket": ("hash",),
    "GetPersonByExternalId": ("externalId",),  # FACTS.md: documented by the HelloID connector
}

#: The id test_connection looks up: "Person not found." proves the credentials were accepted.
_PROBE_EXTERNAL_ID = "airflow-connection-test"

_AUTH_WORDS = ("credential", "password", "username", "authenticat", "not authorized", "unauthori", "login")
_CONFLICT_WORDS = ("already exists", "duplicate", "already")


def _classify(message: str | None, default: type[LmsError]) -> type[LmsError]:
    """The typed error for a Pynter error text. ASSUMPTION: Pynter's texts are English sentences such as
    the documented ``Person not found.``; other wordings fall back to ``default``."""
    text = (message or "").lower()
    if "not found" in text:
        return LmsNotFoundError
    if any(w in text for w in _AUTH_WORDS):
        return LmsAuthenticationError
    if any(w in text for w in _CONFLICT_WORDS):
        return LmsConflictError
    return default


def parse_pynter_error(response: httpx.Response) -> PlatformError:
    """Read a SOAP fault out of an error answer (HTTP 4xx/5xx), with the hardened parser."""
    fault = parse_fault(response.content)
    if fault is None:
        return PlatformError(message=response.text.strip()[:300] or None)
    code, reason = fault
    return PlatformError(message=reason, code=code)


def _pynter_id(field: str, value: Any) -> int:
    """Pynter's record ids (modules, classes, persons) are positive 32-bit integers (.NET ``int``)."""
    bad = f"must be a positive integer Pynter id, got {shown(value)}"
    if isinstance(value, bool):
        raise LmsInputError(field, bad)
    text = value.strip() if isinstance(value, str) else ""
    if isinstance(value, int):
        number = value
    # ASCII digits only (str.isdigit() takes Arabic-Indic digits too), and few enough for int() never to raise.
    elif text.isascii() and text.isdigit() and len(text) <= 10:
        number = int(text)
    else:
        raise LmsInputError(field, bad)
    if not 1 <= number <= 2**31 - 1:
        raise LmsInputError(field, bad)
    return number


#: ASSUMPTION: an external id (employee number) is at most 100 characters, as PynterEmployee.external_id.
_EXTERNAL_ID_MAX = 100


def _external_id(field: str, value: Any) -> str:
    """A person's external id: clean text (or an integer), at most 100 characters, no blanks."""
    return validate_id(field, value, max_length=_EXTERNAL_ID_MAX)


def _when(field: str, value: Any) -> datetime:
    """A moment for a SOAP parameter; naive values stay naive (the envelope reads them in Pynter's zone)."""
    return parse_moment(field, value, naive_tz=None)


def _window(start: Any, end: Any) -> tuple[datetime, datetime]:
    first, last = _when("start", start), _when("end", end)
    if (first.tzinfo is None) == (last.tzinfo is None) and last < first:
        raise LmsInputError("end", f"{last.isoformat()} is before start {first.isoformat()}")
    return first, last


_METHOD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")


def _pynter_int(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        raise LmsInputError(field, f"must be a whole number from 0, got {shown(value)}")
    return value


def _models(model: type[M], contents: Any) -> list[M]:
    return [model.model_validate(row) for row in as_list(contents) if isinstance(row, dict)]


@dataclass(frozen=True, kw_only=True)
class PynterConnection(LmsConnection):
    """A Pynter connection: the API username and password (sent in every SOAP body) and parameter renames.

    :param username: the API username (the login field).
    :param password: the API password; masked in logs, left out of ``repr``.
    :param param_names: per method, our parameter name -> the customer's WSDL name (extra ``param_names``).
    """

    username: str
    password: str = field(repr=False)
    param_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    extra_keys: ClassVar[frozenset[str] | None] = frozenset({"param_names"})

    @classmethod
    def read_options(cls, fields: ConnectionFields) -> dict[str, Any]:
        # Credentials first, then the renames: the order the hook has always checked them in.
        username = fields.required(fields.conn.login, "username (login)")
        # The password travels in the SOAP body, not a header: only what XML cannot carry is refused.
        password = fields.secret(fields.conn.password, "password", in_header=False)
        renames = fields.extras.get("param_names") or {}
        if isinstance(renames, str):
            try:
                renames = json.loads(renames)
            except ValueError:
                raise fields.error("param_names", "is not JSON") from None
        if not isinstance(renames, dict) or not all(isinstance(v, dict) for v in renames.values()):
            raise fields.error("param_names", 'must look like {"Method": {"ourName": "theirName"}}')
        param_names = {str(k): {str(a): str(b) for a, b in v.items()} for k, v in renames.items()}
        for method, names in param_names.items():
            # Both sides become XML element names in the envelope.
            for name in (method, *names, *names.values()):
                if not _METHOD_NAME.fullmatch(name):
                    raise fields.error("param_names", f"{shown(name)} is not an XML element name")
        return {"username": username, "password": password, "param_names": param_names}


@register_platform
class PynterHook(LmsHook[PynterConnection]):
    """Pynter: SOAP 1.2 at ``<customer URL>/service/apiservice.asmx``; credentials travel in the body.

    Connection: ``base_url`` is the customer URL (``https://<customer>.pynter.nl``, acceptance
    ``https://<customer>.acc.pynter.nl``), login = API username, password = API password. Optional extra
    ``param_names``: renames of the assumed parameter names per method (see :data:`ASSUMED_PARAMS`).

    Ids: ``learner_id`` is the person's external id (employee number, as ``GetPersonByExternalId``
    takes it), ``course_id`` a course (``LearningModule``) id; an ``enrollment_id`` is
    ``"<external id>:<module id>"``.

    :param lms_conn_id: the Airflow connection id (type ``pynter``).
    """

    conn_type = "pynter"
    hook_name = "Pynter"
    default_conn_name = "pynter_default"
    platform: ClassVar[str] = "Pynter"
    capabilities: ClassVar[frozenset[str]] = frozenset({"enrollment_status"})
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/soap+xml"}

    connection_model: ClassVar[type[LmsConnection]] = PynterConnection

    # -- connection -----------------------------------------------------------------------------------------
    def error_parser(self) -> ErrorParser:
        return parse_pynter_error

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

    # -- the SOAP exchange -------------------------------------------------------------------------------------
    def _envelope(self, method: str, params: Mapping[str, Any]) -> bytes:
        # The callers built their client first, so this reads no connection (none from the triggerer's loop).
        config = self.connection_config
        renames = config.param_names.get(method, {})
        pairs = [(renames.get(k, k), v) for k, v in params.items()]
        return build_envelope(method, config.username, config.password, pairs, tz=PYNTER_TZ)

    @staticmethod
    def _is_read(method: str, idempotent: bool | None) -> bool:
        if idempotent is not None:
            return idempotent
        # Unknown methods count as writes: a wrong "read" label could repeat a change.
        return method in READ_METHODS

    def _answer_parser(self, method: str) -> Callable[[httpx.Response], SoapAnswer]:
        def parse(response: httpx.Response) -> SoapAnswer:
            # A proxy's or load balancer's HTML error page is a broken answer, not a hostile document: its
            # <!DOCTYPE html> would otherwise be refused as a DTD (never retried). A ValueError makes the
            # core treat it as a malformed answer (retried for reads, looked up again for writes).
            if response.headers.get("content-type", "").lower().startswith("text/html"):
                raise ValueError(f"{method}: the answer is an HTML page, not a SOAP envelope")
            answer = parse_answer(response.content, platform=self.platform, method=method)
            if answer.success is False:
                message = answer.error or "Success=false without an Error text"
                cls = _classify(answer.error, LmsValidationError)
                raise cls(f"{method} failed", code="Success=false", platform_message=message, platform=self.platform)
            return answer

        return parse

    def _reclassify(self, exc: LmsError, method: str) -> LmsError:
        """SOAP faults arrive as HTTP 500 from ASMX whoever is at fault: type them by their fault code."""
        code = str(exc.code or "")
        if isinstance(exc, SoapFault | LmsServerError) and code:
            base: type[LmsError] = LmsServerError if code.endswith("Receiver") else LmsValidationError
            cls = _classify(exc.platform_message, base)
            if cls is not type(exc):
                return cls(
                    f"{method}: SOAP fault",
                    status=exc.status,
                    code=code,
                    platform_message=exc.platform_message,
                    platform=self.platform,
                )
        return exc

    def _request_kwargs(self, method: str, params: Mapping[str, Any], idempotent: bool | None) -> dict[str, Any]:
        # The method and parameter names become XML element names: letters, digits and "_" only.
        if not isinstance(method, str) or not _METHOD_NAME.fullmatch(method):
            raise LmsInputError("method", f"must be a SOAP method name such as GetCatalog, got {shown(method)}")
        for name in params:
            if not isinstance(name, str) or not _METHOD_NAME.fullmatch(name):
                raise LmsInputError(f"{method} parameter", f"{shown(name)} is not an XML element name")
        return {
            "content": self._envelope(method, params),
            "headers": {"Content-Type": CONTENT_TYPE},
            "idempotent": self._is_read(method, idempotent),
            "parse": self._answer_parser(method),
        }

    def call_answer(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> SoapAnswer:
        """Send one method and return the whole parsed answer."""
        client = self.get_conn()
        kwargs = self._request_kwargs(method, params or {}, idempotent)
        try:
            return client.request("POST", SERVICE_PATH, **kwargs)
        except LmsError as exc:
            raise self._reclassify(exc, method) from None

    async def acall_answer(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> SoapAnswer:
        """The async twin of :meth:`call_answer` (triggers)."""
        client = await self.aget_conn()
        kwargs = self._request_kwargs(method, params or {}, idempotent)
        try:
            return await client.arequest("POST", SERVICE_PATH, **kwargs)
        except LmsError as exc:
            raise self._reclassify(exc, method) from None

    def call(self, method: str, *, idempotent: bool | None = None, **params: Any) -> Any:
        """Call any of Pynter's methods with the parameters given, in order; return ``Contents``.

        The document lists about 57 methods but not their parameters: pass them as the customer's WSDL
        names them. Reads (:data:`READ_METHODS`) are retried after transport errors; anything else is a
        write and is not resent unless you pass ``idempotent=True`` (only when repeating it provably
        changes nothing).

        :param method: the method name, e.g. ``"GetCatalog"``.
        :param idempotent: override the read/write classification.
        """
        answer = self.call_answer(method, params, idempotent=idempotent)
        return answer.contents if answer.contents is not None else answer.result

    async def acall(self, method: str, *, idempotent: bool | None = None, **params: Any) -> Any:
        """The async twin of :meth:`call`."""
        answer = await self.acall_answer(method, params, idempotent=idempotent)
        return answer.contents if answer.contents is not None else answer.result

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
    def get_person(self, external_id: str) -> PynterPerson:
        """``GetPersonByExternalId``; raises :class:`LmsNotFoundError` for ``Person not found.``."""
        contents = self.call("GetPersonByExternalId", externalId=_external_id("external_id", external_id))
        return PynterPerson.model_validate(contents if isinstance(contents, dict) else {})

    def find_person(self, external_id: str) -> PynterPerson | None:
        """The person with this external id, or None."""
        try:
            return self.get_person(external_id)
        except LmsNotFoundError:
            return None

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

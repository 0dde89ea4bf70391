"""The SOAP endpoint ``POST /pynter/service/apiservice.asmx`` and its method table.

One HTTP route answers every method: :meth:`PynterResponses.service` reads the envelope, checks the method
and the credentials, and hands the parameters to the method's action in :data:`METHODS` (method name ->
action). An action reads its parameters, calls one :class:`~.state.PynterState` method and says which row
element the answer's list items get.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from airflow_provider_lms.sandbox.pynter.errors import Failure, Fault, render_fault
from airflow_provider_lms.sandbox.pynter.parsing import parse_call
from airflow_provider_lms.sandbox.pynter.views import answer
from airflow_provider_lms.sandbox.routing import Route, build_router

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.pynter.state import PynterState
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = [
    "DOCUMENTED_METHODS",
    "METHODS",
    "PYNTER_PREFIX",
    "ROUTES",
    "SERVICE_PATH",
    "PynterResponses",
    "create_router",
]

PYNTER_PREFIX = "/pynter"
SERVICE_PATH = f"{PYNTER_PREFIX}/service/apiservice.asmx"

ROUTES: tuple[Route, ...] = (Route("POST", "/service/apiservice.asmx", "service"),)

#: The document's method list (plus the FACTS.md extras): a name outside it is an unknown method.
DOCUMENTED_METHODS = frozenset(
    {
        "AvailableCourses", "CompletedCourses", "ConnectorError", "ConnectorStatusUpdatePlanning", "CourseDates",
        "CourseDatesByModules", "CourseDatesWithStatus", "CoursesOverview", "CreateFolder", "DeleteFolder",
        "GetAllFinishedModules", "GetAllLearningPortfolioContent", "GetAllTalents", "GetCanceledPlanning", "GetCatalog",
        "GetCatalogFull", "GetClass", "GetClasses", "GetClassesFilteredByDate", "GetClassesFilteredByTraining",
        "GetCompanyELearningModules", "GetCompanyLearningModules", "GetHistoricAbsences", "GetInterviewCycles",
        "GetMandatoryPlanning", "GetPaginatedLearningPortfolioContent", "GetPersonAgenda", "GetPersonCertificates",
        "GetPersonFinishedELearning", "GetPersonPassport", "GetPersonPhoto", "GetPersonProgress",
        "GetPersonsOnLearningModules", "GetPersonTalents", "GetPersonTraining", "GetPersonWorkExperience",
        "GetPlanning", "GetROGResults", "GetTrainingsInSelectableThemeProfiles", "HealthCheck", "InsertClass",
        "Qualifications", "QualificationsByCodes", "StartedCourses", "UpdateBIG", "UpdateCatalogus", "UpdateEmployee",
        "UpdateEticketAttendance", "UpdateLocation", "UpdateLocationAndDivision", "UpdatePersonManager", "UpdateStudy",
        "UpdateWindowsUsername", "ValidateEticket", "CreatePerson", "UpdatePerson", "GetPersonByExternalId",
    }
)  # fmt: skip


# -- parameters -------------------------------------------------------------------------------------------------
def _need(params: dict[str, Any], name: str) -> Any:
    if params.get(name) in (None, ""):
        raise Fault(f"Parameter {name} is required.")
    return params[name]


def _int(params: dict[str, Any], name: str) -> int:
    value = _need(params, name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Fault(f"Cannot convert '{value}' of parameter {name} to System.Int32.") from None


def _date_param(params: dict[str, Any], name: str) -> datetime:
    value = _need(params, name)
    if not isinstance(value, datetime):
        raise Fault(f'Parameter {name} must be typed xsi:type="xsd:dateTime".')
    return value


def _record(params: dict[str, Any], name: str) -> dict[str, Any]:
    record = _need(params, name)
    if not isinstance(record, dict):
        raise Fault(f"Parameter {name} must be a record.")
    return record


# -- the actions: (state, parameters) -> (contents, row element name) -------------------------------------------
Action = Callable[["PynterState", dict[str, Any]], tuple[Any, str]]


def _completed(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.results_between(_date_param(p, "startDate"), _date_param(p, "endDate")), "Result"


def _all_finished(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.results_since(p.get("startDate")), "Result"


def _qualifications(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.results_of(_need(p, "externalId")), "Result"


def _qualifications_by_codes(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    ext = _need(p, "externalId")
    codes = p.get("codes") or []
    return st.results_by_codes(ext, codes if isinstance(codes, list) else [codes]), "Result"


def _started(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.started_courses(p.get("externalId")), "Course"


def _course_dates(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.course_dates(_date_param(p, "startDate"), _date_param(p, "endDate")), "CourseDate"


def _overview(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.courses_overview(_need(p, "externalId")), "Course"


def _per_person(table: str, row: str) -> Action:
    def action(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
        return st.per_person(table, _need(p, "externalId")), row

    return action


def _progress(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.person_progress(_need(p, "externalId")), "Progress"


def _mandatory(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    module = p.get("moduleId")
    return st.planning(None if module in (None, "") else int(module)), "Planning"


def _person(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.person(_need(p, "externalId")), "Person"


def _update_employee(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.update_employee(_record(p, "employee")), "Id"


def _classes_for_training(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.classes_of(_int(p, "trainingId")), "Class"


def _insert_class(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    record = _record(p, "groupClass")
    try:
        module = int(record.get("ModuleId") or 0)
    except ValueError:
        raise Fault("Cannot convert ModuleId to System.Int32.") from None
    return st.insert_class(module, record), "Id"


def _validate_eticket(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.validate_eticket(_need(p, "hash")), "Eticket"


def _eticket_attendance(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    st.mark_attended(_need(p, "hash"))
    return None, "Row"


def _health(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return "OK", "Row"


#: The methods the sandbox answers; the other documented ones answer ``Success=false``.
METHODS: dict[str, Action] = {
    "CompletedCourses": _completed,
    "GetAllFinishedModules": _all_finished,
    "Qualifications": _qualifications,
    "QualificationsByCodes": _qualifications_by_codes,
    "StartedCourses": _started,
    "CourseDatesWithStatus": _course_dates,
    "CoursesOverview": _overview,
    "GetPersonCertificates": _per_person("certificates", "Certificate"),
    "GetPersonTraining": _per_person("trainings", "Training"),
    "GetPersonProgress": _progress,
    "GetMandatoryPlanning": _mandatory,
    "GetPersonByExternalId": _person,
    "UpdateEmployee": _update_employee,
    "GetClassesFilteredByTraining": _classes_for_training,
    "InsertClass": _insert_class,
    "ValidateEticket": _validate_eticket,
    "UpdateEticketAttendance": _eticket_attendance,
    "HealthCheck": _health,
}


class PynterResponses:
    """The one SOAP route: parse the envelope, check method and credentials, run the method's action.

    :param pynter: The Pynter state the actions read and change.
    """

    def __init__(self, pynter: PynterState) -> None:
        self.pynter = pynter

    async def service(self, request: Request) -> Response:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/soap+xml":
            # ASMX would read text/xml as SOAP 1.1; this endpoint (like the hook) speaks SOAP 1.2 only.
            return render_fault(415, "Content-Type must be application/soap+xml (SOAP 1.2).", "soap:Sender")
        try:
            call = parse_call(await request.body())
        except Fault as fault:
            return fault.to_response()
        self.pynter.record_call(call.method)
        if call.method not in DOCUMENTED_METHODS:
            return render_fault(500, f"Unknown method {call.method}.", "soap:Sender")
        # ASSUMPTION: Pynter answers bad credentials with Success=false, like its other errors.
        if not self.pynter.credentials_ok(call.username, call.password):
            return answer(call.method, False, error="Invalid username or password.")
        self.pynter.apply_time()
        action = METHODS.get(call.method)
        if action is None:
            return answer(call.method, False, error=f"{call.method} is not available in the sandbox.")
        try:
            contents, row = action(self.pynter, call.params)
        except Failure as failure:
            return answer(call.method, False, error=str(failure))
        except Fault as fault:
            return fault.to_response()
        return answer(call.method, True, contents, row=row)


def create_router(sandbox_state: SandboxState) -> APIRouter:
    """The SOAP endpoint over the sandbox's Pynter state."""
    return build_router(
        ROUTES, PynterResponses(sandbox_state.platform("pynter")), prefix=PYNTER_PREFIX, tags=["pynter"]
    )

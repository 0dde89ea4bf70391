"""The SOAP endpoint ``POST /pynter/service/apiservice.asmx`` and its method table.

One HTTP route answers every method: :meth:`PynterResponses.service` reads the envelope, checks the method
and the credentials, and hands the parameters to the method's action in :data:`METHODS` (method name ->
action). An action reads its parameters, calls one :class:`~.state.PynterState` method and says which row
element the answer's list items get. ``GET ...asmx?WSDL`` answers the service description (:mod:`.wsdl`).

The tenant's service namespace (``PUT /_sandbox/pynter/service``) decides the namespace requests must use
and the SOAP 1.2 ``action`` Content-Type parameter, when sent, must match (ASMX routes by it); renamed
parameters are read under their tenant names only.
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
from airflow_provider_lms.sandbox.pynter.wsdl import SIGNATURES, render_wsdl
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

ROUTES: tuple[Route, ...] = (
    Route("POST", "/service/apiservice.asmx", "service"),
    Route("GET", "/service/apiservice.asmx", "describe"),
)

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
        "GetPersonByPynterId", "GetAllBasicPersonInfo",
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
    # A value that is no number is a fault, as ASMX answers a parameter it cannot convert (never a 500
    # crash of the double itself).
    module = None if p.get("moduleId") in (None, "") else _int(p, "moduleId")
    return st.planning(module), "Planning"


def _person(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.person(_need(p, "externalId")), "Person"


def _person_by_id(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.person_by_id(_int(p, "pynterPersonId")), "Person"


def _create_person(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    # Contents is the new person's id as text (the HelloID connector reads Contents' text as the id).
    return st.create_person(_record(p, "personCreate")), "Id"


def _update_person(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    st.update_person(_int(p, "pynterPersonId"), _record(p, "personUpdate"))
    return None, "Row"


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
    "GetPersonByPynterId": _person_by_id,
    "CreatePerson": _create_person,
    "UpdatePerson": _update_person,
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
        namespace = self.pynter.namespace
        try:
            call = parse_call(await request.body(), namespace)
        except Fault as fault:
            return fault.to_response()
        self.pynter.record_call(call.method)
        if call.method not in DOCUMENTED_METHODS:
            return render_fault(500, f"Unknown method {call.method}.", "soap:Sender")
        action_param = _action_parameter(request.headers.get("content-type", ""))
        expected = f"{namespace}{call.method}" if namespace.endswith("/") else f"{namespace}/{call.method}"
        if action_param is not None and action_param != expected:
            return render_fault(500, f"Server did not recognize the value of HTTP Header SOAPAction: {action_param}.")
        # ASSUMPTION: Pynter answers bad credentials with Success=false, like its other errors.
        if not self.pynter.credentials_ok(call.username, call.password):
            return answer(call.method, False, error="Invalid username or password.", namespace=namespace)
        self.pynter.apply_time()
        action = METHODS.get(call.method)
        if action is None:
            return answer(
                call.method, False, error=f"{call.method} is not available in the sandbox.", namespace=namespace
            )
        renames = self.pynter.param_names.get(call.method, {})
        try:
            contents, row = action(self.pynter, _own_names(call.params, renames))
        except Failure as failure:
            return answer(call.method, False, error=str(failure), namespace=namespace)
        except Fault as fault:
            for ours, theirs in renames.items():
                fault.reason = fault.reason.replace(f"parameter {ours} ", f"parameter {theirs} ")
                fault.reason = fault.reason.replace(f"Parameter {ours} ", f"Parameter {theirs} ")
            return fault.to_response()
        return answer(call.method, True, contents, row=row, namespace=namespace)

    async def describe(self, request: Request) -> Response:
        """``GET ...asmx?WSDL``: the service description; without ``?WSDL``, ASMX's list of operations."""
        location = str(request.url.replace(query=""))
        if any(key.lower() == "wsdl" for key in request.query_params):
            self.pynter.wsdl_reads += 1
            body = render_wsdl(self.pynter.namespace, location, self.pynter.param_names)
            return Response(body, media_type="text/xml; charset=utf-8")
        items = "".join(f"<li>{name}</li>" for name in SIGNATURES)
        page = f"<html><body><h1>ApiService</h1><p>Operations:</p><ul>{items}</ul></body></html>"
        return Response(page, media_type="text/html; charset=utf-8")


def _action_parameter(header: str) -> str | None:
    """The ``action`` parameter of a SOAP 1.2 Content-Type, when there is one."""
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "action":
            return value.strip().strip('"')
    return None


def _own_names(params: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """Parameters under the double's own names: a tenant name is read back; the double's own name of a
    renamed parameter means nothing to this tenant (ignored, as ASMX ignores an unknown element)."""
    theirs = {wire: ours for ours, wire in renames.items()}
    own: dict[str, Any] = {}
    for name, value in params.items():
        if name in theirs:
            own[theirs[name]] = value
        elif name not in renames:
            own[name] = value
    return own


def create_router(sandbox_state: SandboxState) -> APIRouter:
    """The SOAP endpoint over the sandbox's Pynter state."""
    return build_router(
        ROUTES, PynterResponses(sandbox_state.platform("pynter")), prefix=PYNTER_PREFIX, tags=["pynter"]
    )

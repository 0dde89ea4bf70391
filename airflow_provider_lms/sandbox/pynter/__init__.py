"""The Pynter double: a SOAP 1.2 endpoint at ``/pynter/service/apiservice.asmx``.

Same envelope rules as Pynter (FACTS.md): ``POST`` with ``Content-Type: application/soap+xml``, a SOAP 1.2
envelope, the method element in ``http://tempuri.org/`` whose first two children are ``username`` and
``password`` (checked on every call), then the parameters; booleans must be ``xsi:type="xsd:boolean"``
lower case, dateTimes ``yyyy-MM-ddTHH:mm:ss``. Requests are parsed with DTDs refused (the double is as
hardened as the client). Answers are ``<MethodResponse><MethodResult><Success/><Contents/><Error/>``;
malformed requests get a SOAP 1.2 ``Fault`` (``soap:Sender``, HTTP 500 as ASMX answers faults).

ASSUMPTIONS (the document gives neither parameter names nor answer fields): parameter names are those
in ``airflow_provider_lms.hooks.pynter.ASSUMED_PARAMS``; wrong credentials answer ``Success=false`` with
``Invalid username or password.``; answer rows carry PascalCase fields after the data model's columns.

Seeded demo data (dates relative to the reset moment, Dutch local time; credentials
``sandbox-pynter-user`` / ``sandbox-pynter-pass``):

======  ==========================  ========================================================
kind    ids                         details
======  ==========================  ========================================================
module  1 BHV (12 months, mandatory)   first-responder training, repeated yearly
module  2 VCA (120 months, mandatory)  safety certificate
module  3 AVG (no repeat)              privacy e-learning
person  E1001 Anna de Vries (1)     BHV results 26 and 14 months ago (latest expired); VCA 2 y
person  E1002 Farah El Amrani (2)   BHV 3 months ago; VCA 5 y ago
person  E1003 Gijs Mulder (3)       BHV 13 months ago (expired); VCA 11 y ago (expired);
                                    started AVG (40 %)
person  E1004 Sanne Bakker (4)      BHV 1 month ago; never did VCA; AVG in overview (0 %)
class   1                           "BHV herhaling voorjaar", module 1, in 30 days
eticket ET-7F3A-0001, ET-7F3A-0002  E1002 and E1004 for class 1, not attended
======  ==========================  ========================================================

Overdue after a reset: (E1001, BHV), (E1003, BHV), (E1003, VCA); (E1004, VCA) has no result at all.

Moving time: ``PUT /_sandbox/pynter/auto_progress {"complete_after_seconds": 2}`` makes every person who is
overdue for a module finish it that many seconds after a class for that module is inserted
(``InsertClass``): a re-certification cohort that is attended and passed. ``POST /_sandbox/pynter/results``
adds a result directly; ``GET /_sandbox/pynter/state`` shows everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element, ParseError

import pendulum
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from airflow_provider_lms.sandbox._common import PlatformMount
from airflow_provider_lms.soap import SOAP12_NS, TEMPURI_NS, XSD_NS, XSI_NS, escape_text, local_name

if TYPE_CHECKING:
    from airflow_provider_lms.sandbox.state import SandboxState

__all__ = ["MOUNT", "PYNTER_PREFIX", "PYNTER_SANDBOX_PASSWORD", "PYNTER_SANDBOX_USERNAME", "PynterState"]

PYNTER_PREFIX = "/pynter"
SERVICE_PATH = f"{PYNTER_PREFIX}/service/apiservice.asmx"
PYNTER_SANDBOX_USERNAME = "sandbox-pynter-user"
PYNTER_SANDBOX_PASSWORD = "sandbox-pynter-pass"  # noqa: S105 - a sandbox credential, public on purpose
_TZ = "Europe/Amsterdam"
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")

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


class Fault(Exception):
    """Answer with a SOAP 1.2 fault."""

    def __init__(self, reason: str, code: str = "soap:Sender", status: int = 500) -> None:
        super().__init__(reason)
        self.reason, self.code, self.status = reason, code, status


class Failure(Exception):
    """Answer ``Success=false`` with this ``Error`` text."""


# -- XML out ------------------------------------------------------------------------------------------------
def _fmt(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return value.strftime("%Y-%m-%dT00:00:00")


def _xml(name: str, value: Any) -> str:
    if value is None:
        return f'<{name} xsi:nil="true" />'
    if isinstance(value, bool):
        return f"<{name}>{'true' if value else 'false'}</{name}>"
    if isinstance(value, datetime | date):
        return f"<{name}>{_fmt(value)}</{name}>"
    if isinstance(value, dict):
        return f"<{name}>{''.join(_xml(k, v) for k, v in value.items())}</{name}>"
    if isinstance(value, list):
        return "".join(_xml(name, v) for v in value)
    return f"<{name}>{escape_text(str(value))}</{name}>"


def _envelope(inner: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}" xmlns:xsi="{XSI_NS}" xmlns:xsd="{XSD_NS}">'
        f"<soap:Body>{inner}</soap:Body></soap:Envelope>"
    )


def _answer(method: str, success: bool, contents: Any = None, error: str | None = None, row: str = "Row") -> Response:
    if isinstance(contents, list):
        body = "".join(_xml(row, c) for c in contents)
        contents_xml = f"<Contents>{body}</Contents>"
    elif isinstance(contents, dict):
        contents_xml = _xml("Contents", contents)
    elif contents is None:
        contents_xml = "<Contents />"
    else:
        contents_xml = _xml("Contents", contents)
    error_xml = f"<Error>{escape_text(error)}</Error>" if error else "<Error />"
    inner = (
        f'<{method}Response xmlns="{TEMPURI_NS}"><{method}Result>'
        f"<Success>{'true' if success else 'false'}</Success>{contents_xml}{error_xml}"
        f"</{method}Result></{method}Response>"
    )
    return Response(_envelope(inner), media_type="application/soap+xml; charset=utf-8")


def render_fault(status: int, reason: str, code: str = "soap:Receiver") -> Response:
    """A SOAP 1.2 fault answer (also used for injected faults and unknown paths)."""
    inner = (
        f"<soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="en">{escape_text(reason)}</soap:Text></soap:Reason></soap:Fault>'
    )
    return Response(_envelope(inner), status_code=status, media_type="application/soap+xml; charset=utf-8")


def _error_renderer(status: int, message: str) -> Response:
    return render_fault(status, message, "soap:Sender" if status < 500 else "soap:Receiver")


# -- state --------------------------------------------------------------------------------------------------
@dataclass
class AutoProgress:
    """Overdue persons finish a module ``complete_after_seconds`` after a class for it is inserted."""

    complete_after_seconds: float


@dataclass
class PynterState:
    """Everything the Pynter double remembers. Times are naive Dutch local time, like Pynter's."""

    clock: Callable[[], datetime]
    username: str = PYNTER_SANDBOX_USERNAME
    password: str = PYNTER_SANDBOX_PASSWORD
    modules: dict[int, dict[str, Any]] = field(default_factory=dict)
    persons: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)
    overview: list[dict[str, Any]] = field(default_factory=list)
    classes: dict[int, dict[str, Any]] = field(default_factory=dict)
    etickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    certificates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trainings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Method names in arrival order (no parameters: the credentials stay out of it).
    calls: list[str] = field(default_factory=list)
    auto_progress: AutoProgress | None = None
    #: (external id, module id, due moment) completions scheduled by auto-progress.
    pending: list[tuple[str, int, datetime]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reset()

    def now(self) -> datetime:
        """The sandbox clock in Pynter's local time, naive, whole seconds."""
        return pendulum.instance(self.clock()).in_timezone(_TZ).naive().replace(microsecond=0)

    def reset(self) -> None:
        """Back to the seeded data."""
        now = self.now()
        ago = lambda **kw: pendulum.instance(now).subtract(**kw).naive()  # noqa: E731
        self.username, self.password = PYNTER_SANDBOX_USERNAME, PYNTER_SANDBOX_PASSWORD
        self.modules = {
            1: {"Id": 1, "Code": "BHV", "Name": "Bedrijfshulpverlening", "ValidityMonths": 12, "Mandatory": True},
            2: {"Id": 2, "Code": "VCA", "Name": "VCA Basisveiligheid", "ValidityMonths": 120, "Mandatory": True},
            3: {
                "Id": 3,
                "Code": "AVG",
                "Name": "Privacy en AVG (e-learning)",
                "ValidityMonths": None,
                "Mandatory": False,
            },
        }
        people = [
            ("E1001", "Anna", "de", "Vries"),
            ("E1002", "Farah", None, "El Amrani"),
            ("E1003", "Gijs", None, "Mulder"),
            ("E1004", "Sanne", None, "Bakker"),
        ]
        self.persons = {}
        for pid, (ext, first, insertion, family) in enumerate(people, start=1):
            self.persons[ext] = {
                "Id": pid, "ExternalIdentifier": ext, "FirstName": first, "Insertion": insertion,
                "FamilyName": family, "Email": f"{first.lower()}.{family.lower().replace(' ', '')}@sandbox.example",
                "Blocked": False,
            }  # fmt: skip
        self.results = []
        for ext, module, when in [
            ("E1001", 1, ago(months=26)), ("E1001", 1, ago(months=14)), ("E1001", 2, ago(years=2)),
            ("E1002", 1, ago(months=3)), ("E1002", 2, ago(years=5)),
            ("E1003", 1, ago(months=13)), ("E1003", 2, ago(years=11)),
            ("E1004", 1, ago(months=1)),
        ]:  # fmt: skip
            self.add_result(ext, module, when)
        self.started = [{"ExternalId": "E1003", "ModuleId": 3, "StartDate": ago(days=10), "Progress": 40}]
        self.overview = [{"ExternalId": "E1004", "ModuleId": 3, "Progress": 0}]
        self.classes = {
            1: {
                "Id": 1, "ModuleId": 1, "Name": "BHV herhaling voorjaar", "StartDate": ago(days=-30),
                "EndDate": ago(days=-30), "Location": "Utrecht", "MaxParticipants": 12,
            }
        }  # fmt: skip
        self.etickets = {
            h: {"Hash": h, "ExternalId": ext, "ClassId": 1, "ModuleId": 1, "Date": ago(days=-30), "Attended": False}
            for h, ext in (("ET-7F3A-0001", "E1002"), ("ET-7F3A-0002", "E1004"))
        }
        self.certificates = {"E1001": [{"Id": 1, "Name": "EHBO-diploma", "IssueDate": ago(years=1),
                                        "ExpirationDate": ago(years=-1)}]}  # fmt: skip
        self.trainings = {"E1002": [{"Id": 1, "Name": "HBO Verpleegkunde", "Institution": "Hogeschool Utrecht",
                                     "Date": ago(years=8), "ExpirationDate": None}]}  # fmt: skip
        self.calls = []
        self.auto_progress = None
        self.pending = []

    # -- data helpers ---------------------------------------------------------------------------------------
    def person(self, external_id: str) -> dict[str, Any]:
        if external_id not in self.persons:
            raise Failure("Person not found.")
        return self.persons[external_id]

    def add_result(self, external_id: str, module_id: int, when: datetime) -> dict[str, Any]:
        person = self.person(external_id)
        module = self.modules[module_id]
        result = {
            "Id": len(self.results) + 1, "PersonId": person["Id"], "ExternalId": external_id,
            "ModuleId": module_id, "ModuleCode": module["Code"], "ModuleName": module["Name"],
            "FinishDate": when, "Passed": True,
        }  # fmt: skip
        self.results.append(result)
        return result

    def results_of(self, external_id: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r["ExternalId"] == external_id]

    def planning(self) -> list[dict[str, Any]]:
        """Every person x mandatory module, with the latest result and whether it is still valid."""
        rows = []
        now = self.now()
        for module in self.modules.values():
            if not module["Mandatory"]:
                continue
            for person in self.persons.values():
                mine = [r for r in self.results if r["ExternalId"] == person["ExternalIdentifier"]
                        and r["ModuleId"] == module["Id"]]  # fmt: skip
                last = max((r["FinishDate"] for r in mine), default=None)
                valid_until = (
                    pendulum.instance(last).add(months=module["ValidityMonths"]).naive()
                    if last is not None and module["ValidityMonths"]
                    else None
                )
                status = (
                    "Niet behaald"
                    if last is None
                    else ("Verlopen" if valid_until and valid_until <= now else "Behaald")
                )
                rows.append({
                    "PersonId": person["Id"], "ExternalId": person["ExternalIdentifier"], "ModuleId": module["Id"],
                    "ModuleCode": module["Code"], "ModuleName": module["Name"],
                    "ValidityMonths": module["ValidityMonths"], "LastFinishDate": last, "ValidUntil": valid_until,
                    "Status": status,
                })  # fmt: skip
        return rows

    def apply_time(self) -> None:
        """Let scheduled completions happen once their moment has come."""
        now = self.now()
        due = [p for p in self.pending if p[2] <= now]
        self.pending = [p for p in self.pending if p[2] > now]
        for ext, module, when in due:
            self.add_result(ext, module, when)

    def summary(self) -> dict[str, Any]:
        """The whole state as JSON, for tests (``GET /_sandbox/pynter/state``)."""

        def js(value: Any) -> Any:
            if isinstance(value, datetime | date):
                return _fmt(value)
            if isinstance(value, dict):
                return {k: js(v) for k, v in value.items()}
            if isinstance(value, list):
                return [js(v) for v in value]
            return value

        return js({
            "persons": list(self.persons.values()), "results": self.results, "classes": list(self.classes.values()),
            "etickets": list(self.etickets.values()), "calls": self.calls, "planning": self.planning(),
            "pending": [{"external_id": e, "module_id": m, "due": d} for e, m, d in self.pending],
        })  # fmt: skip


# -- request parsing ------------------------------------------------------------------------------------------
def _param_value(el: Element) -> Any:
    """A parameter as Python, enforcing Pynter's typing rules for booleans and dateTimes."""
    xsi_type = el.get(f"{{{XSI_NS}}}type")
    name = local_name(el.tag)
    if el.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    children = list(el)
    if children:
        if all(local_name(c.tag) in ("string", "int") for c in children):
            return [_param_value(c) for c in children]
        return {local_name(c.tag): _param_value(c) for c in children}
    text = el.text or ""
    if xsi_type == "xsd:boolean":
        if text not in ("true", "false"):
            raise Fault(f"Cannot convert '{text}' of parameter {name} to System.Boolean (use lower-case true/false).")
        return text == "true"
    if xsi_type == "xsd:dateTime":
        if not _DATETIME.match(text):
            raise Fault(f"Parameter {name}: '{text}' is not a dateTime in the form yyyy-MM-ddTHH:mm:ss.")
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
    if text in ("true", "false", "True", "False") and xsi_type is None and name in _BOOLEAN_FIELDS:
        raise Fault(f'Parameter {name} must be typed xsi:type="xsd:boolean".')
    return text


_BOOLEAN_FIELDS = frozenset({"Blocked"})


def _parse_request(body: bytes) -> tuple[str, str, str, dict[str, Any]]:
    try:
        root = defused_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise Fault("DTDs and entity declarations are not allowed.") from None
    except ParseError:
        raise Fault("The request is not well-formed XML.") from None
    if local_name(root.tag) == "Envelope" and root.tag != f"{{{SOAP12_NS}}}Envelope":
        raise Fault("Only SOAP 1.2 envelopes are accepted.", code="soap:VersionMismatch")
    if root.tag != f"{{{SOAP12_NS}}}Envelope":
        raise Fault("The request is not a SOAP envelope.")
    soap_body = root.find(f"{{{SOAP12_NS}}}Body")
    method_el = next(iter(soap_body), None) if soap_body is not None else None
    if method_el is None:
        raise Fault("The SOAP Body is empty.")
    if not method_el.tag.startswith(f"{{{TEMPURI_NS}}}"):
        raise Fault(f"The method element must be in namespace {TEMPURI_NS}.")
    method = local_name(method_el.tag)
    children = list(method_el)
    names = [local_name(c.tag) for c in children[:2]]
    if names != ["username", "password"]:
        raise Fault("The first children of the method element must be username and password.")
    username, password = (children[0].text or ""), (children[1].text or "")
    params: dict[str, Any] = {}
    for child in children[2:]:
        if not child.tag.startswith(f"{{{TEMPURI_NS}}}"):
            raise Fault(f"Parameter {local_name(child.tag)} must be in namespace {TEMPURI_NS}.")
        params[local_name(child.tag)] = _param_value(child)
    return method, username, password, params


# -- the methods ----------------------------------------------------------------------------------------------
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


Handler = Callable[[PynterState, dict[str, Any]], tuple[Any, str]]


def _completed(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    start, end = _date_param(p, "startDate"), _date_param(p, "endDate")
    return [r for r in st.results if start <= r["FinishDate"] <= end], "Result"


def _all_finished(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    since = p.get("startDate")
    return [r for r in st.results if since is None or r["FinishDate"] >= since], "Result"


def _qualifications(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    ext = _need(p, "externalId")
    st.person(ext)
    return st.results_of(ext), "Result"


def _qualifications_by_codes(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    ext = _need(p, "externalId")
    st.person(ext)
    codes = p.get("codes") or []
    codes = codes if isinstance(codes, list) else [codes]
    return [r for r in st.results_of(ext) if r["ModuleCode"] in codes], "Result"


def _started(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    ext = p.get("externalId")
    if ext:
        st.person(ext)
    return [s for s in st.started if not ext or s["ExternalId"] == ext], "Course"


def _course_dates(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    start, end = _date_param(p, "startDate"), _date_param(p, "endDate")
    rows: list[dict[str, Any]] = []
    for ticket in st.etickets.values():
        cls = st.classes[ticket["ClassId"]]
        if start <= cls["StartDate"] <= end:
            rows.append({
                "Id": len(rows) + 1, "PersonId": st.persons[ticket["ExternalId"]]["Id"],
                "ExternalId": ticket["ExternalId"], "ModuleId": cls["ModuleId"], "ClassId": cls["Id"],
                "Date": cls["StartDate"], "Status": "Aanwezig" if ticket["Attended"] else "Ingeschreven",
            })  # fmt: skip
    return rows, "CourseDate"


def _overview(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    ext = _need(p, "externalId")
    st.person(ext)
    rows = [
        dict(o, Status="Gestart" if o["Progress"] else "Ingeschreven") for o in st.overview if o["ExternalId"] == ext
    ]
    rows += [dict(s, Status="Gestart") for s in st.started if s["ExternalId"] == ext]
    done = {r["ModuleId"] for r in st.results_of(ext)}
    rows += [{"ExternalId": ext, "ModuleId": m, "Progress": 100, "Status": "Afgerond"} for m in sorted(done)]
    return rows, "Course"


def _per_person(attr: str, row: str) -> Handler:
    def handler(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
        ext = _need(p, "externalId")
        st.person(ext)
        return getattr(st, attr).get(ext, []), row

    return handler


def _progress(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    ext = _need(p, "externalId")
    st.person(ext)
    rows = [{"ModuleId": s["ModuleId"], "TaskId": 1, "TaskName": "E-learning", "Status": "Gestart"}
            for s in st.started if s["ExternalId"] == ext]  # fmt: skip
    rows += [{"ModuleId": r["ModuleId"], "TaskId": 1, "TaskName": "Aanwezigheid", "Status": "Afgerond"}
             for r in st.results_of(ext)]  # fmt: skip
    return rows, "Progress"


def _mandatory(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    module = p.get("moduleId")
    rows = st.planning()
    if module not in (None, ""):
        rows = [r for r in rows if r["ModuleId"] == int(module)]
    return rows, "Planning"


def _person(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return st.person(_need(p, "externalId")), "Person"


def _update_employee(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    record = _need(p, "employee")
    if not isinstance(record, dict):
        raise Fault("Parameter employee must be a record.")
    ext = record.get("ExternalIdentifier")
    if not ext:
        raise Failure("ExternalIdentifier is required.")
    for required in ("FirstName", "FamilyName", "Email"):
        if not record.get(required):
            raise Failure(f"{required} is required.")
    person = st.persons.get(ext)
    if person is None:
        person = {"Id": max((q["Id"] for q in st.persons.values()), default=0) + 1, "ExternalIdentifier": ext}
        st.persons[ext] = person
    for key, value in record.items():
        person[key] = value
    return person["Id"], "Id"


def _classes_for_training(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    module = _int(p, "trainingId")
    return [c for c in st.classes.values() if c["ModuleId"] == module], "Class"


def _insert_class(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    record = _need(p, "groupClass")
    if not isinstance(record, dict):
        raise Fault("Parameter groupClass must be a record.")
    try:
        module = int(record.get("ModuleId") or 0)
    except ValueError:
        raise Fault("Cannot convert ModuleId to System.Int32.") from None
    if module not in st.modules:
        raise Failure("Training not found.")
    if not record.get("Name"):
        raise Failure("Name is required.")
    if not isinstance(record.get("StartDate"), datetime):
        raise Fault('StartDate must be typed xsi:type="xsd:dateTime".')
    new_id = max(st.classes, default=0) + 1
    st.classes[new_id] = {"Id": new_id, "ModuleId": module, **{k: v for k, v in record.items() if k != "ModuleId"}}
    if st.auto_progress is not None:
        due = st.now() + timedelta(seconds=st.auto_progress.complete_after_seconds)
        for row in st.planning():
            if row["ModuleId"] == module and row["Status"] == "Verlopen":
                st.pending.append((row["ExternalId"], module, due))
    return new_id, "Id"


def _eticket(st: PynterState, p: dict[str, Any]) -> dict[str, Any]:
    ticket = st.etickets.get(_need(p, "hash"))
    if ticket is None:
        raise Failure("E-ticket not found.")
    return ticket


def _validate_eticket(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    ticket = _eticket(st, p)
    person = st.persons[ticket["ExternalId"]]
    return dict(ticket, Valid=True, PersonId=person["Id"]), "Eticket"


def _eticket_attendance(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    ticket = _eticket(st, p)
    ticket["Attended"] = True
    return None, "Row"


def _health(st: PynterState, p: dict[str, Any]) -> tuple[Any, str]:
    return "OK", "Row"


HANDLERS: dict[str, Handler] = {
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


def create_pynter_router(state: SandboxState) -> APIRouter:
    """The SOAP endpoint over ``state.pynter``."""
    router = APIRouter(tags=["pynter"])

    @router.post(SERVICE_PATH)
    async def service(request: Request) -> Response:
        st: PynterState = state.pynter
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/soap+xml":
            # ASMX would read text/xml as SOAP 1.1; this endpoint (like the hook) speaks SOAP 1.2 only.
            return render_fault(415, "Content-Type must be application/soap+xml (SOAP 1.2).", "soap:Sender")
        try:
            method, username, password, params = _parse_request(await request.body())
        except Fault as fault:
            return render_fault(fault.status, fault.reason, fault.code)
        st.calls.append(method)
        if method not in DOCUMENTED_METHODS:
            return render_fault(500, f"Unknown method {method}.", "soap:Sender")
        # ASSUMPTION: Pynter answers bad credentials with Success=false, like its other errors.
        if username != st.username or password != st.password:
            return _answer(method, False, error="Invalid username or password.")
        st.apply_time()
        handler = HANDLERS.get(method)
        if handler is None:
            return _answer(method, False, error=f"{method} is not available in the sandbox.")
        try:
            contents, row = handler(st, params)
        except Failure as failure:
            return _answer(method, False, error=str(failure))
        except Fault as fault:
            return render_fault(fault.status, fault.reason, fault.code)
        return _answer(method, True, contents, row=row)

    return router


# -- control ----------------------------------------------------------------------------------------------------
class AutoProgressBody(BaseModel):
    """``PUT /_sandbox/pynter/auto_progress``; ``null`` switches it off."""

    model_config = ConfigDict(extra="forbid")
    complete_after_seconds: float | None = Field(default=None, ge=0)


class ResultBody(BaseModel):
    """``POST /_sandbox/pynter/results``: a person finishes a module (now, unless ``finish_date``)."""

    model_config = ConfigDict(extra="forbid")
    external_id: str
    module_id: int
    finish_date: datetime | None = None


def create_pynter_control_router(state: SandboxState) -> APIRouter:
    """Control routes under ``/_sandbox/pynter``."""
    router = APIRouter(tags=["sandbox control"])

    @router.get("/pynter/state")
    async def pynter_state() -> dict[str, Any]:
        st: PynterState = state.pynter
        st.apply_time()
        return st.summary()

    @router.put("/pynter/auto_progress")
    async def put_auto(body: AutoProgressBody) -> dict[str, Any]:
        st: PynterState = state.pynter
        st.auto_progress = None if body.complete_after_seconds is None else AutoProgress(body.complete_after_seconds)
        return body.model_dump()

    @router.post("/pynter/results")
    async def add_result(body: ResultBody) -> dict[str, Any]:
        st: PynterState = state.pynter
        when = body.finish_date.replace(tzinfo=None, microsecond=0) if body.finish_date else st.now()
        try:
            return {"result_id": st.add_result(body.external_id, body.module_id, when)["Id"]}
        except (Failure, KeyError):
            return {"error": "unknown person or module"}

    return router


def _connection(sandbox_url: str) -> dict[str, Any]:
    return {
        "conn_type": "pynter",
        "login": PYNTER_SANDBOX_USERNAME,
        "password": PYNTER_SANDBOX_PASSWORD,
        "extra": {"base_url": f"{sandbox_url.rstrip('/')}{PYNTER_PREFIX}"},
    }


MOUNT = PlatformMount(
    name="pynter",
    prefix=PYNTER_PREFIX,
    router_factory=create_pynter_router,
    render_error=_error_renderer,
    state_factory=lambda clock: PynterState(clock=clock),
    control_router_factory=create_pynter_control_router,
    connection_factory=_connection,
    conn_id="pynter_default",
)

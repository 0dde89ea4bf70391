"""Pynter's SOAP exchange: the connection, the envelope, the tenant's WSDL and the generic :meth:`call`.

The base of :class:`~airflow_provider_lms.hooks.pynter.PynterHook` (see its module for the platform): every
call is a ``POST`` of a SOAP 1.2 envelope in the service namespace, its values checked first; with
``"param_names": "wsdl"`` the tenant's WSDL (read once per hook, hardened parser) gives the parameter names,
their order and the namespace.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel

from airflow_provider_lms.hooks.base import LmsHook
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
from airflow_provider_lms.models.connection import ConnectionFields, LmsConnection
from airflow_provider_lms.models.inputs import (
    MOMENT_YEARS,
    check_text,
    parse_moment,
    shown,
    validate_id,
)
from airflow_provider_lms.models.pynter import (
    PYNTER_TZ,
)
from airflow_provider_lms.soap import (
    DEFAULT_NAMESPACE,
    SoapAnswer,
    SoapFault,
    WsdlDescription,
    as_list,
    build_envelope,
    check_namespace,
    content_type,
    parse_answer,
    parse_fault,
    parse_wsdl,
)

__all__ = [
    "ASSUMED_PARAMS",
    "MAX_TEXT",
    "READ_METHODS",
    "WRITE_METHODS",
    "PynterConnection",
    "PynterSoapHook",
    "parse_pynter_error",
    "wsdl_names",
]

M = TypeVar("M", bound=BaseModel)

SERVICE_PATH = "service/apiservice.asmx"
#: The tenant's service description (each customer serves one, pynter-params.md; the README links it).
WSDL_PATH = f"{SERVICE_PATH}?WSDL"

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
        "GetPersonByExternalId", "GetPersonByPynterId", "GetAllBasicPersonInfo",
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
    # Not assumptions: the HelloID connector sends these names (pynter-params.md section 2).
    "GetPersonByPynterId": ("pynterPersonId",),
    "CreatePerson": ("personCreate",),
    "UpdatePerson": ("pynterPersonId", "personUpdate"),
}

#: ASSUMPTION: the longest text value :meth:`PynterHook.call` sends (a name, an id, a description); the
#: document gives no limits, and ASMX refuses much larger requests anyway.
MAX_TEXT = 10_000
#: The most items of one array parameter (a list of codes or ids).
MAX_ITEMS = 1_000
_MAX_DEPTH = 8
_INT64 = 2**63 - 1


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


def _check_value(field: str, value: Any, depth: int = 1) -> None:
    """A parameter value :meth:`PynterHook.call` may send: clean text within :data:`MAX_TEXT`, whole
    numbers a .NET ``long`` holds, finite decimals, moments in the usual years, records with element
    names, and arrays of text or whole numbers. Raises :class:`LmsInputError` naming ``field``."""
    if depth > _MAX_DEPTH:
        raise LmsInputError(field, f"is nested deeper than {_MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        # Tab, line feed and carriage return may be part of free text; XML carries them (CR as &#13;).
        check_text(field, value, max_length=MAX_TEXT, min_length=0, multiline=True, strip=False)
    elif isinstance(value, int):
        if not -_INT64 - 1 <= value <= _INT64:
            raise LmsInputError(field, f"{shown(value)} does not fit a 64-bit integer")
    elif isinstance(value, float | Decimal):
        if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            raise LmsInputError(field, f"{value!r} cannot be sent")
    elif isinstance(value, datetime | date):
        if not MOMENT_YEARS[0] <= value.year <= MOMENT_YEARS[1]:
            raise LmsInputError(field, f"{shown(value)} is outside the years {MOMENT_YEARS[0]}-{MOMENT_YEARS[1]}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not _METHOD_NAME.fullmatch(key):
                raise LmsInputError(field, f"has a key that is not an XML element name: {shown(key)}")
            _check_value(f"{field}.{key}", item, depth + 1)
    elif isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            raise LmsInputError(field, f"has {len(value)} items; at most {MAX_ITEMS} are sent")
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise LmsInputError(f"{field}[{i}]", f"array items must be text or whole numbers, got {shown(item)}")
            _check_value(f"{field}[{i}]", item, depth + 1)
    else:
        raise LmsInputError(field, f"cannot be sent in a SOAP envelope: a {type(value).__name__}")


#: Our parameters that are records or arrays (complex types in a WSDL); the others are plain values.
_COMPLEX_PARAMS = frozenset({"employee", "groupClass", "personCreate", "personUpdate", "codes"})


def wsdl_names(
    ours: tuple[str, ...], theirs: tuple[str, ...], complex_theirs: frozenset[str] = frozenset()
) -> dict[str, str]:
    """Our (assumed) parameter names -> the WSDL's: the same name, else the same name in another case,
    else, among the names left of one kind (records and arrays, whose WSDL type is a complex type, or plain
    values), the rest in order when both sides have as many. The kind keeps a record from being sent
    under a number's name when a tenant lists them the other way round (the HelloID connector sends
    ``UpdatePerson``'s two in either order). A name left without a partner is not mapped (and then refused
    before sending, never guessed)."""
    mapping: dict[str, str] = {}
    for name in ours:
        if name in theirs:
            mapping[name] = name
            continue
        folded = [t for t in theirs if t.lower() == name.lower() and t not in mapping.values()]
        if folded:
            mapping[name] = folded[0]
    for kind in (True, False):
        left_ours = [n for n in ours if n not in mapping and (n in _COMPLEX_PARAMS) == kind]
        left_theirs = [t for t in theirs if t not in mapping.values() and (t in complex_theirs) == kind]
        if left_ours and len(left_ours) == len(left_theirs):
            mapping.update(zip(left_ours, left_theirs, strict=True))
    return mapping


def _maybe_id(record: Any) -> int | None:
    """A record's Pynter ``Id`` as a number, when it has a readable one."""
    value = record.get("Id") if isinstance(record, dict) else None
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


def _models(model: type[M], contents: Any) -> list[M]:
    return [model.model_validate(row) for row in as_list(contents) if isinstance(row, dict)]


@dataclass(frozen=True, kw_only=True)
class PynterConnection(LmsConnection):
    """A Pynter connection: the API username and password (sent in every SOAP body) and parameter renames.

    :param username: the API username (the login field).
    :param password: the API password; masked in logs, left out of ``repr``.
    :param param_names: per method, our parameter name -> the customer's WSDL name (extra ``param_names``).
    :param param_source: ``"assumed"`` (the names above, the default) or ``"wsdl"`` (extra
        ``"param_names": "wsdl"``: read from the tenant's WSDL).
    :param namespace: the service namespace (extra ``namespace``); None: the WSDL's ``targetNamespace``
        with ``param_source="wsdl"``, else :data:`~airflow_provider_lms.soap.DEFAULT_NAMESPACE`.
    """

    username: str
    password: str = field(repr=False)
    param_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    param_source: str = "assumed"
    namespace: str | None = None
    extra_keys: ClassVar[frozenset[str] | None] = frozenset({"param_names", "namespace"})

    @classmethod
    def read_options(cls, fields: ConnectionFields) -> dict[str, Any]:
        # Credentials first, then the renames: the order the hook has always checked them in.
        username = fields.required(fields.conn.login, "username (login)")
        # The password travels in the SOAP body, not a header: only what XML cannot carry is refused.
        password = fields.secret(fields.conn.password, "password", in_header=False)
        renames = fields.extras.get("param_names") or {}
        source = "assumed"
        if isinstance(renames, str) and renames.strip().lower() == "wsdl":
            source, renames = "wsdl", {}
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
        namespace = fields.extras.get("namespace") or None  # a blank form field is no setting
        if namespace is not None:
            try:
                namespace = check_namespace(namespace.strip() if isinstance(namespace, str) else namespace)
            except LmsInputError as exc:
                raise fields.error("namespace", exc.message.removeprefix("invalid namespace: ")) from None
        return {
            "username": username,
            "password": password,
            "param_names": param_names,
            "param_source": source,
            "namespace": namespace,
        }


class PynterSoapHook(LmsHook[PynterConnection]):
    """The SOAP exchange of :class:`~airflow_provider_lms.hooks.pynter.PynterHook` (not a platform by itself).

    :param lms_conn_id: the Airflow connection id (type ``pynter``).
    """

    platform: ClassVar[str] = "Pynter"
    default_headers: ClassVar[dict[str, str]] = {"Accept": "application/soap+xml"}
    connection_model: ClassVar[type[LmsConnection]] = PynterConnection

    def __init__(self, lms_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(lms_conn_id, **kwargs)
        # The tenant's WSDL, read once per hook (bulk threads share it) when the connection asks for it.
        self._wsdl: WsdlDescription | None = None
        self._wsdl_lock = threading.Lock()

    # -- connection -----------------------------------------------------------------------------------------
    def error_parser(self) -> ErrorParser:
        return parse_pynter_error

    # -- the WSDL ------------------------------------------------------------------------------------------------
    def _wsdl_parser(self) -> Callable[[httpx.Response], WsdlDescription]:
        def parse(response: httpx.Response) -> WsdlDescription:
            if response.headers.get("content-type", "").lower().startswith("text/html"):
                raise ValueError("the WSDL answer is an HTML page, not a service description")
            # The same hardened parser as every answer: a DTD is refused before anything is expanded.
            return parse_wsdl(response.content)

        return parse

    def wsdl(self) -> WsdlDescription:
        """The tenant's WSDL (``GET apiservice.asmx?WSDL``), read once per hook and kept."""
        if self._wsdl is None:
            client = self.get_conn()
            with self._wsdl_lock:
                if self._wsdl is None:
                    self._wsdl = client.request(
                        "GET", WSDL_PATH, headers={"Accept": "text/xml"}, idempotent=True, parse=self._wsdl_parser()
                    )
        return self._wsdl

    async def awsdl(self) -> WsdlDescription:
        """The async twin of :meth:`wsdl` (shares the same cache)."""
        if self._wsdl is None:
            client = await self.aget_conn()
            self._wsdl = await client.arequest(
                "GET", WSDL_PATH, headers={"Accept": "text/xml"}, idempotent=True, parse=self._wsdl_parser()
            )
        return self._wsdl

    def namespace(self, wsdl: WsdlDescription | None = None) -> str:
        """The service namespace: the connection's ``namespace``, else the WSDL's, else the default."""
        config = self.connection_config
        if config.namespace is not None:
            return config.namespace
        if wsdl is not None and wsdl.target_namespace:
            return check_namespace(wsdl.target_namespace, "WSDL targetNamespace")
        return DEFAULT_NAMESPACE

    def wire_names(self, method: str, wsdl: WsdlDescription | None = None) -> dict[str, str]:
        """Our parameter names of ``method`` -> the names sent: the connection's renames, or the WSDL's."""
        if wsdl is None:
            return dict(self.connection_config.param_names.get(method, {}))
        return wsdl_names(ASSUMED_PARAMS.get(method, ()), wsdl.params(method) or (), wsdl.complex_params(method))

    # -- the SOAP exchange -------------------------------------------------------------------------------------
    def _envelope(self, method: str, params: Mapping[str, Any], wsdl: WsdlDescription | None = None) -> bytes:
        # The callers built their client first, so this reads no connection (none from the triggerer's loop).
        config = self.connection_config
        renames = self.wire_names(method, wsdl)
        pairs = [(renames.get(k, k), v) for k, v in params.items()]
        if wsdl is not None:
            pairs = self._as_wsdl_says(method, pairs, wsdl)
        return build_envelope(
            method, config.username, config.password, pairs, tz=PYNTER_TZ, namespace=self.namespace(wsdl)
        )

    @staticmethod
    def _as_wsdl_says(method: str, pairs: list[tuple[str, Any]], wsdl: WsdlDescription) -> list[tuple[str, Any]]:
        """Parameters in the WSDL's order, records' fields too; a name the WSDL lacks is refused (not guessed)."""
        expected = wsdl.params(method)
        if expected is None:
            raise LmsInputError("method", f"{method} is not a method of the tenant's WSDL")
        ordered = []
        for name, value in pairs:
            if name not in expected:
                listed = ", ".join(expected) or "none"
                raise LmsInputError(
                    f"{method}.{name}", f"is not a parameter of {method} in the tenant's WSDL (it has: {listed})"
                )
            fields = wsdl.record_fields(method, name)
            if isinstance(value, Mapping) and fields is not None:
                for key in value:
                    if key not in fields:
                        raise LmsInputError(f"{method}.{name}.{key}", f"is not a field of {name} in the tenant's WSDL")
                value = {key: value[key] for key in fields if key in value}
            ordered.append((name, value))
        return sorted(ordered, key=lambda pair: expected.index(pair[0]))

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

    @staticmethod
    def _check_call(method: str, params: Mapping[str, Any]) -> None:
        """Names and values of a call, checked before anything is sent (the WSDL read included)."""
        # The method and parameter names become XML element names: letters, digits and "_" only.
        if not isinstance(method, str) or not _METHOD_NAME.fullmatch(method):
            raise LmsInputError("method", f"must be a SOAP method name such as GetCatalog, got {shown(method)}")
        for name, value in params.items():
            if not isinstance(name, str) or not _METHOD_NAME.fullmatch(name):
                raise LmsInputError(f"{method} parameter", f"{shown(name)} is not an XML element name")
            _check_value(f"{method}.{name}", value)

    def _request_kwargs(
        self, method: str, params: Mapping[str, Any], idempotent: bool | None, wsdl: WsdlDescription | None
    ) -> dict[str, Any]:
        return {
            "content": self._envelope(method, params, wsdl),
            "headers": {"Content-Type": content_type(self.namespace(wsdl), method)},
            "idempotent": self._is_read(method, idempotent),
            "parse": self._answer_parser(method),
        }

    def call_answer(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> SoapAnswer:
        """Send one method and return the whole parsed answer."""
        params = params or {}
        self._check_call(method, params)
        client = self.get_conn()
        wsdl = self.wsdl() if self.connection_config.param_source == "wsdl" else None
        kwargs = self._request_kwargs(method, params, idempotent, wsdl)
        try:
            return client.request("POST", SERVICE_PATH, **kwargs)
        except LmsError as exc:
            raise self._reclassify(exc, method) from None

    async def acall_answer(
        self, method: str, params: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> SoapAnswer:
        """The async twin of :meth:`call_answer` (triggers)."""
        params = params or {}
        self._check_call(method, params)
        client = await self.aget_conn()
        config = await self.aconnection_config()
        wsdl = await self.awsdl() if config.param_source == "wsdl" else None
        kwargs = self._request_kwargs(method, params, idempotent, wsdl)
        try:
            return await client.arequest("POST", SERVICE_PATH, **kwargs)
        except LmsError as exc:
            raise self._reclassify(exc, method) from None

    def call(self, method: str, *, idempotent: bool | None = None, **params: Any) -> Any:
        """Call any of Pynter's methods with the parameters given, in order; return ``Contents``.

        The document lists about 57 methods but not their parameters: pass them as the customer's WSDL
        names them. Reads (:data:`READ_METHODS`) are retried after transport errors; anything else is a
        write and is not resent unless you pass ``idempotent=True`` (only when repeating it provably
        changes nothing). Every value is checked before sending (:class:`LmsInputError` naming
        ``Method.param``): text must be free of control characters and lone surrogates and at most
        :data:`MAX_TEXT` characters; whole numbers must fit 64 bits, decimals be finite, moments fall in
        the years 1900-2999; records need element names as keys; arrays hold text or whole numbers.

        :param method: the method name, e.g. ``"GetCatalog"``.
        :param idempotent: override the read/write classification.
        """
        answer = self.call_answer(method, params, idempotent=idempotent)
        return answer.contents if answer.contents is not None else answer.result

    async def acall(self, method: str, *, idempotent: bool | None = None, **params: Any) -> Any:
        """The async twin of :meth:`call`."""
        answer = await self.acall_answer(method, params, idempotent=idempotent)
        return answer.contents if answer.contents is not None else answer.result

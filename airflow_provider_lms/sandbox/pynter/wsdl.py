"""The double's own service description, served at ``apiservice.asmx?WSDL`` as every Pynter tenant serves one.

Written here from the double's own table of the methods it answers (:data:`SIGNATURES`), in the shape ASMX
generates: WSDL 1.1, document/literal "wrapped" (one request element per method, named after it, whose
sequence holds ``username``, ``password`` and then the parameters), a SOAP 1.2 binding. It shares no code
with the client's reader. Parameter names can be renamed per method (``PUT /_sandbox/pynter/service``),
so a test can play a tenant whose names differ from the ones the client assumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.sax.saxutils import quoteattr

__all__ = ["ACCOUNT_LEVELS", "PERSON_RECORD_FIELDS", "SIGNATURES", "render_wsdl"]

_WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_SOAP12_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap12/"
_XS_NS = "http://www.w3.org/2001/XMLSchema"

#: ``personCreate`` / ``personUpdate`` fields and their schema types (docs.pynter.nl order, then the two
#: the HelloID connector adds).
PERSON_RECORD_FIELDS: tuple[tuple[str, str], ...] = (
    ("ExternalIdentifier", "s:string"), ("FirstName", "s:string"), ("Insertion", "s:string"),
    ("FamilyName", "s:string"), ("Email", "s:string"), ("AccountLevel", "tns:AccountLevel"),
    ("IsManager", "s:boolean"), ("FunctionName", "s:string"), ("DivisionName", "s:string"),
    ("CostCentre", "s:string"), ("PhoneNumber", "s:string"), ("ContractStartTime", "s:dateTime"),
    ("ContractEndTime", "s:dateTime"), ("ManagerExternalIdentifier", "s:string"), ("Blocked", "s:boolean"),
)  # fmt: skip

#: ``AccountLevel`` values (pynter-params.md section 3; ``USER`` is the default).
ACCOUNT_LEVELS = ("USER", "ADMIN", "TRAINER", "PLANNER", "MANAGER", "TEST", "EXTERN", "EXTERNAL_TRAINER")

_COMPLEX_TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "PersonCreate": PERSON_RECORD_FIELDS,
    "PersonUpdate": PERSON_RECORD_FIELDS,
    "Employee": PERSON_RECORD_FIELDS,
    "GroupClass": (
        ("ModuleId", "s:int"), ("Name", "s:string"), ("StartDate", "s:dateTime"), ("EndDate", "s:dateTime"),
        ("Location", "s:string"), ("MaxParticipants", "s:int"),
    ),
}  # fmt: skip

#: Method -> its parameters (the double's own names, before renames) and their schema types.
SIGNATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "CompletedCourses": (("startDate", "s:dateTime"), ("endDate", "s:dateTime")),
    "GetAllFinishedModules": (("startDate", "s:dateTime"),),
    "Qualifications": (("externalId", "s:string"),),
    "QualificationsByCodes": (("externalId", "s:string"), ("codes", "tns:ArrayOfString")),
    "StartedCourses": (("externalId", "s:string"),),
    "CourseDatesWithStatus": (("startDate", "s:dateTime"), ("endDate", "s:dateTime")),
    "CoursesOverview": (("externalId", "s:string"),),
    "GetPersonCertificates": (("externalId", "s:string"),),
    "GetPersonTraining": (("externalId", "s:string"),),
    "GetPersonProgress": (("externalId", "s:string"),),
    "GetMandatoryPlanning": (("moduleId", "s:int"),),
    "GetPersonByExternalId": (("externalId", "s:string"),),
    "GetPersonByPynterId": (("pynterPersonId", "s:int"),),
    "CreatePerson": (("personCreate", "tns:PersonCreate"),),
    "UpdatePerson": (("pynterPersonId", "s:int"), ("personUpdate", "tns:PersonUpdate")),
    "UpdateEmployee": (("employee", "tns:Employee"),),
    "GetClassesFilteredByTraining": (("trainingId", "s:int"),),
    "InsertClass": (("groupClass", "tns:GroupClass"),),
    "ValidateEticket": (("hash", "s:string"),),
    "UpdateEticketAttendance": (("hash", "s:string"),),
    "HealthCheck": (),
}


def _element(name: str, xs_type: str) -> str:
    # Value types (int, boolean, dateTime) are minOccurs=1 in ASMX's schemas, strings and records 0..1.
    required = xs_type in ("s:int", "s:boolean", "s:dateTime")
    occurs = 'minOccurs="1" maxOccurs="1"' if required else 'minOccurs="0" maxOccurs="1"'
    return f'<s:element {occurs} name="{name}" type="{xs_type}" />'


def _sequence(items: tuple[tuple[str, str], ...]) -> str:
    return f"<s:sequence>{''.join(_element(n, t) for n, t in items)}</s:sequence>"


def render_wsdl(namespace: str, location: str, renames: Mapping[str, Mapping[str, str]]) -> str:
    """The WSDL: every method of :data:`SIGNATURES` with its parameters under their (renamed) names.

    :param namespace: the service's target namespace.
    :param location: the endpoint URL for ``soap12:address``.
    :param renames: per method, the double's parameter name -> the name this "tenant" uses.
    """
    ns = quoteattr(namespace)
    schema: list[str] = []
    messages: list[str] = []
    operations: list[str] = []
    bindings: list[str] = []
    for method, params in SIGNATURES.items():
        names = renames.get(method, {})
        wire = tuple((names.get(n, n), t) for n, t in params)
        schema.append(
            f'<s:element name="{method}"><s:complexType>'
            f"{_sequence((('username', 's:string'), ('password', 's:string'), *wire))}</s:complexType></s:element>"
            f'<s:element name="{method}Response"><s:complexType>'
            f"{_sequence(((f'{method}Result', 'tns:ApiResult'),))}</s:complexType></s:element>"
        )
        messages.append(
            f'<wsdl:message name="{method}SoapIn"><wsdl:part name="parameters" element="tns:{method}" /></wsdl:message>'
            f'<wsdl:message name="{method}SoapOut"><wsdl:part name="parameters" element="tns:{method}Response" />'
            "</wsdl:message>"
        )
        operations.append(
            f'<wsdl:operation name="{method}"><wsdl:input message="tns:{method}SoapIn" />'
            f'<wsdl:output message="tns:{method}SoapOut" /></wsdl:operation>'
        )
        action = f"{namespace}{method}" if namespace.endswith("/") else f"{namespace}/{method}"
        bindings.append(
            f'<wsdl:operation name="{method}"><soap12:operation soapAction={quoteattr(action)} style="document" />'
            '<wsdl:input><soap12:body use="literal" /></wsdl:input>'
            '<wsdl:output><soap12:body use="literal" /></wsdl:output></wsdl:operation>'
        )
    types = "".join(
        f'<s:complexType name="{name}">{_sequence(fields)}</s:complexType>' for name, fields in _COMPLEX_TYPES.items()
    )
    types += (
        '<s:complexType name="ArrayOfString"><s:sequence>'
        '<s:element minOccurs="0" maxOccurs="unbounded" name="string" nillable="true" type="s:string" />'
        "</s:sequence></s:complexType>"
        '<s:simpleType name="AccountLevel"><s:restriction base="s:string">'
        + "".join(f'<s:enumeration value="{level}" />' for level in ACCOUNT_LEVELS)
        + "</s:restriction></s:simpleType>"
        '<s:complexType name="ApiResult"><s:sequence>'
        '<s:element minOccurs="1" maxOccurs="1" name="Success" type="s:boolean" />'
        '<s:element minOccurs="0" maxOccurs="1" name="Contents" />'
        '<s:element minOccurs="0" maxOccurs="1" name="Error" type="s:string" />'
        "</s:sequence></s:complexType>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<wsdl:definitions xmlns:wsdl="{_WSDL_NS}" xmlns:soap12="{_SOAP12_BINDING_NS}" xmlns:s="{_XS_NS}" '
        f"xmlns:tns={ns} targetNamespace={ns}>"
        f'<wsdl:types><s:schema elementFormDefault="qualified" targetNamespace={ns}>{"".join(schema)}{types}'
        "</s:schema></wsdl:types>"
        f"{''.join(messages)}"
        f'<wsdl:portType name="ApiServiceSoap">{"".join(operations)}</wsdl:portType>'
        '<wsdl:binding name="ApiServiceSoap12" type="tns:ApiServiceSoap">'
        f'<soap12:binding transport="http://schemas.xmlsoap.org/soap/http" />{"".join(bindings)}</wsdl:binding>'
        '<wsdl:service name="ApiService"><wsdl:port name="ApiServiceSoap12" binding="tns:ApiServiceSoap12">'
        f"<soap12:address location={quoteattr(location)} /></wsdl:port></wsdl:service>"
        "</wsdl:definitions>"
    )

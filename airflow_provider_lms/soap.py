"""SOAP 1.2 envelopes out, hardened parsing in: the wire format of Pynter (and its sandbox double).

Out: :func:`build_envelope` writes the method element in the service namespace (default
``http://tempuri.org/``, see :data:`DEFAULT_NAMESPACE`) with the credentials as its first children
(``username``, ``password``) and then the parameters, in the order given. Every value is XML-escaped;
booleans are ``xsi:type="xsd:boolean"`` in lower case and dateTimes ``yyyy-MM-ddTHH:mm:ss`` (FACTS.md, as
the public HelloID Pynter connector sends them). :func:`content_type` carries the SOAP 1.2 ``action``.

In: :func:`parse_xml` refuses any DTD, so neither entity expansion ("billion laughs") nor external
entities can happen: the answer is rejected before a single entity is expanded. :func:`parse_answer`
then reads ``Success`` / ``Contents`` / ``Error`` or a SOAP ``Fault``. :func:`parse_wsdl` reads a tenant's
WSDL (``apiservice.asmx?WSDL``) with the same parser: each method's parameter names, in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import pendulum
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring

from airflow_provider_lms.http.errors import LmsError, LmsInputError

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_NAMESPACE",
    "SOAP12_NS",
    "TEMPURI_NS",
    "SoapAnswer",
    "SoapFault",
    "UnsafeXmlError",
    "WsdlDescription",
    "as_list",
    "build_envelope",
    "check_namespace",
    "content_type",
    "element_to_python",
    "escape_text",
    "format_datetime",
    "local_name",
    "parse_answer",
    "parse_fault",
    "parse_wsdl",
    "parse_xml",
    "soap_action",
]

SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
TEMPURI_NS = "http://tempuri.org/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
#: ASSUMPTION: the service namespace of a tenant that does not say otherwise. The sources disagree: the
#: working HelloID connector (and FACTS.md) use ``http://tempuri.org/``, docs.pynter.nl's examples write
#: ``xmlns="/service/ApiService.asmx"``. The connector's value is the one proven on a live tenant; the
#: connection extra ``namespace`` (or the tenant's WSDL) overrides it.
DEFAULT_NAMESPACE = TEMPURI_NS
#: The longest namespace accepted (a URI; real ones are a few dozen characters).
_NAMESPACE_MAX = 512

# XML 1.0 names (ASCII subset is enough for ASMX method and parameter names).
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
# Characters XML 1.0 cannot carry at all, escaped or not.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: Deepest nesting of parameters we write (a guard against accidental recursion, not a Pynter rule).
_MAX_DEPTH = 8


class UnsafeXmlError(LmsError):
    """An answer carried a DTD (entity declarations, external entities): rejected without expanding it.

    Never retried: the same request would get the same hostile answer.
    """


class SoapFault(LmsError):
    """A SOAP 1.2 ``Fault``; ``code`` is its ``Code/Value`` (e.g. ``soap:Sender``)."""


@dataclass
class SoapAnswer:
    """A parsed Pynter answer.

    :param method: the method the answer belongs to (from ``<Method>Response``).
    :param success: the ``Success`` flag; ``None`` when the answer has none (e.g. HealthCheck).
    :param contents: the ``Contents`` element converted by :func:`element_to_python`.
    :param error: the ``Error`` text, when the answer carries one.
    :param result: the whole ``<Method>Result`` converted, for answers without ``Contents``.
    """

    method: str | None
    success: bool | None
    contents: Any
    error: str | None
    result: Any


# -- writing ------------------------------------------------------------------------------------------
def escape_text(value: str, field: str = "value") -> str:
    """Escape text content so that it reads back unchanged.

    ``&``, ``<`` and ``>`` become entities (so ``]]>`` cannot close anything); a carriage return becomes
    ``&#13;`` because parsers normalize a literal CR to LF. Characters XML 1.0 cannot carry (most
    control characters, lone surrogates) are refused rather than silently dropped.
    """
    bad = _INVALID_XML_CHARS.search(value)
    if bad:
        raise LmsInputError(field, f"contains a character XML cannot carry (U+{ord(bad.group()):04X})")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def format_datetime(value: datetime | date, tz: str = "Europe/Amsterdam") -> str:
    """``yyyy-MM-ddTHH:mm:ss``, the form Pynter expects (no zone, no fraction).

    ASSUMPTION: Pynter reads zone-less times as its local (Dutch) time, so an aware datetime is first
    converted to ``tz``; a naive one is sent as it is; a date becomes midnight.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = pendulum.instance(value).in_timezone(tz)
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return datetime.combine(value, time()).strftime("%Y-%m-%dT%H:%M:%S")


def _check_name(name: str, field: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise LmsInputError(field, f"{name!r} is not a valid SOAP element name")
    return name


def _element(name: str, value: Any, field: str, tz: str, depth: int) -> str:
    _check_name(name, field)
    if depth > _MAX_DEPTH:
        raise LmsInputError(field, f"is nested deeper than {_MAX_DEPTH} levels")
    if value is None:
        return f'<{name} xsi:nil="true" />'
    if isinstance(value, bool):  # before int: bool is an int
        return f'<{name} xsi:type="xsd:boolean">{"true" if value else "false"}</{name}>'
    if isinstance(value, datetime | date):
        return f'<{name} xsi:type="xsd:dateTime">{format_datetime(value, tz)}</{name}>'
    if isinstance(value, int | Decimal):
        return f"<{name}>{value}</{name}>"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise LmsInputError(field, f"{value!r} cannot be sent")
        return f"<{name}>{value!r}</{name}>"
    if isinstance(value, str):
        return f"<{name}>{escape_text(value, field)}</{name}>"
    if isinstance(value, Mapping):
        inner = "".join(_element(k, v, f"{field}.{k}", tz, depth + 1) for k, v in value.items())
        return f"<{name}>{inner}</{name}>"
    if isinstance(value, list | tuple):
        # ASSUMPTION: arrays as ASMX serializes them: one child per item named after the item type
        # (ArrayOfString -> <string>, ArrayOfInt -> <int>).
        items = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise LmsInputError(f"{field}[{i}]", "array items must be strings or integers")
            items.append(_element("int" if isinstance(item, int) else "string", item, f"{field}[{i}]", tz, depth + 1))
        return f"<{name}>{''.join(items)}</{name}>"
    raise LmsInputError(field, f"cannot send a {type(value).__name__} in a SOAP envelope")


def build_envelope(
    method: str,
    username: str,
    password: str,
    params: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
    *,
    tz: str = "Europe/Amsterdam",
    namespace: str = DEFAULT_NAMESPACE,
) -> bytes:
    """A SOAP 1.2 request: credentials first, then ``params`` in order; UTF-8 bytes.

    ``None`` values are sent as ``xsi:nil``; leave a parameter out to send nothing at all.

    :param namespace: the service namespace the method element (and so its children) is in.
    """
    _check_name(method, "method")
    namespace = check_namespace(namespace)
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    for name, _ in pairs:
        if name in ("username", "password"):
            raise LmsInputError(name, "credentials come from the connection; do not pass them as parameters")
    children = [
        f"<username>{escape_text(username, 'connection login')}</username>",
        f"<password>{escape_text(password, 'connection password')}</password>",
    ]
    children += [_element(name, value, name, tz, 1) for name, value in pairs]
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap12:Envelope xmlns:soap12="{SOAP12_NS}" xmlns:xsi="{XSI_NS}" xmlns:xsd="{XSD_NS}">'
        f'<soap12:Body><{method} xmlns="{_attribute(namespace)}">{"".join(children)}</{method}></soap12:Body>'
        "</soap12:Envelope>"
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # pragma: no cover - surrogates are refused by escape_text already
        raise LmsInputError("params", "contains text that is not valid unicode") from None


def check_namespace(value: Any, field: str = "namespace") -> str:
    """A service namespace fit for an ``xmlns`` attribute and the ``action`` parameter.

    Any non-empty text without blanks, control characters, quotes, ``<``, ``>`` or ``\\``, up to 512
    characters: an absolute URI (``http://tempuri.org/``) or the relative reference docs.pynter.nl shows
    (``/service/ApiService.asmx``). Refused with :class:`LmsInputError` naming ``field``.
    """
    if not isinstance(value, str) or not value:
        raise LmsInputError(field, f"must be a non-empty namespace URI, got {value!r:.60}")
    if len(value) > _NAMESPACE_MAX:
        raise LmsInputError(field, f"is longer than {_NAMESPACE_MAX} characters")
    for i, char in enumerate(value):
        if char.isspace() or not char.isprintable() or char in '"<>\\`{}|^':
            raise LmsInputError(field, f"has a character a namespace URI cannot hold at position {i + 1}")
    return value


def _attribute(value: str) -> str:
    return escape_text(value, "namespace").replace('"', "&quot;")


def soap_action(namespace: str, method: str) -> str:
    """The action of ``method``: ASMX's rule, the namespace and the method name joined by one ``/``.

    ASSUMPTION: ``http://tempuri.org/`` + ``GetCatalog`` -> ``http://tempuri.org/GetCatalog`` (as ASMX
    documents it); a namespace without a trailing slash gets one in between.
    """
    return f"{namespace}{method}" if namespace.endswith("/") else f"{namespace}/{method}"


def content_type(namespace: str, method: str) -> str:
    """The SOAP 1.2 ``Content-Type`` with its ``action`` parameter (SOAP 1.2's successor of ``SOAPAction``)."""
    return f'{CONTENT_TYPE}; action="{soap_action(check_namespace(namespace), method)}"'


# -- reading ------------------------------------------------------------------------------------------
def local_name(tag: str) -> str:
    """``{namespace}Name`` -> ``Name``."""
    return tag.rsplit("}", 1)[-1]


def parse_xml(content: bytes | str) -> Element:
    """Parse an answer with entity expansion and external entities made impossible.

    Any DTD is refused (``forbid_dtd``): that is where entities are declared, so nothing is ever
    expanded or fetched. Raises :class:`UnsafeXmlError` for such a document and ``ValueError`` for
    XML that is not well-formed (the HTTP core treats that as a malformed answer).
    """
    try:
        return _defused_fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXmlError(f"answer rejected: it declares a DTD or entities ({type(exc).__name__})") from None
    except ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None


def _is_nil(element: Element) -> bool:
    return element.get(f"{{{XSI_NS}}}nil") in ("true", "1")


def element_to_python(element: Element) -> Any:
    """An element as plain Python: text for a leaf (``None`` if ``xsi:nil``), a dict for a record.

    A tag that occurs more than once becomes a list; a leaf's text is kept exactly (no stripping), so
    values come back as they were sent.
    """
    if _is_nil(element):
        return None
    children = list(element)
    if not children:
        return element.text or ""
    record: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in children:
        name = local_name(child.tag)
        value = element_to_python(child)
        if name not in record:
            record[name] = value
            continue
        if name not in repeated:
            record[name] = [record[name]]
            repeated.add(name)
        record[name].append(value)
    return record


def as_list(contents: Any) -> list[Any]:
    """The records of a list answer, however ASMX wrapped them.

    ``<Contents><Row/>...</Contents>`` converts to ``{"Row": [...]}`` with several rows but to
    ``{"Row": {...}}`` with one, and to ``""`` with none; this undoes that.
    """
    if contents in (None, ""):
        return []
    if isinstance(contents, list):
        return contents
    if isinstance(contents, dict) and len(contents) == 1:
        (value,) = contents.values()
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            return [value]
    return [contents]


def _body(root: Element) -> Element:
    if root.tag != f"{{{SOAP12_NS}}}Envelope":
        raise ValueError(f"not a SOAP 1.2 envelope (root element {root.tag!r})")
    body = root.find(f"{{{SOAP12_NS}}}Body")
    if body is None:
        raise ValueError("SOAP envelope without a Body")
    return body


def _fault_of(body: Element) -> tuple[str | None, str] | None:
    fault = body.find(f"{{{SOAP12_NS}}}Fault")
    if fault is None:
        return None
    code = fault.findtext(f"{{{SOAP12_NS}}}Code/{{{SOAP12_NS}}}Value")
    reason = fault.findtext(f"{{{SOAP12_NS}}}Reason/{{{SOAP12_NS}}}Text") or "SOAP fault without a reason"
    return (code.strip() if code else None), reason.strip()


def parse_fault(content: bytes | str) -> tuple[str | None, str] | None:
    """``(code, reason)`` of a SOAP 1.2 fault answer, or None when it is not one (or not XML)."""
    try:
        return _fault_of(_body(parse_xml(content)))
    except ValueError:
        return None


def _find(element: Element, name: str) -> Element | None:
    return next((e for e in element.iter() if local_name(e.tag) == name), None)


def answered_hint(body: Element) -> str:
    """The method name a Body answers, for messages."""
    first = next(iter(body), None)
    return local_name(first.tag).removesuffix("Response") if first is not None else "SOAP call"


def parse_answer(content: bytes | str, *, platform: str = "Pynter", method: str | None = None) -> SoapAnswer:
    """Read ``Success``, ``Contents`` and ``Error`` from an answer; raise :class:`SoapFault` on a fault.

    A success flag that is neither ``true`` nor ``false`` is a malformed answer (``ValueError``).
    """
    body = _body(parse_xml(content))
    fault = _fault_of(body)
    if fault is not None:
        code, reason = fault
        raise SoapFault(
            f"{method or answered_hint(body)}: SOAP fault", code=code, platform_message=reason, platform=platform
        )
    response = next(iter(body), None)
    if response is None:
        raise ValueError("SOAP Body is empty")
    name = local_name(response.tag)
    answered = name[: -len("Response")] if name.endswith("Response") else name
    if method is not None and answered != method:
        raise ValueError(f"answer is for {answered!r}, not {method!r}")
    success_el = _find(response, "Success")
    success: bool | None = None
    if success_el is not None:
        flag = (success_el.text or "").strip().lower()
        if flag not in ("true", "false"):
            raise ValueError(f"Success is {flag!r}, not true or false")
        success = flag == "true"
    contents_el = _find(response, "Contents")
    error_el = _find(response, "Error")
    error = (error_el.text or "").strip() or None if error_el is not None and not _is_nil(error_el) else None
    result_el = next(iter(response), None)
    return SoapAnswer(
        method=answered,
        success=success,
        contents=element_to_python(contents_el) if contents_el is not None else None,
        error=error,
        result=element_to_python(result_el) if result_el is not None else None,
    )


# -- the WSDL -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WsdlDescription:
    """What a tenant's WSDL says about the methods (ASMX document/literal, "wrapped" style).

    :param target_namespace: the ``definitions``' ``targetNamespace`` (the service namespace).
    :param methods: method name -> its parameters ``(name, type local name)`` in the order of the
        request element's ``sequence``, the credentials (``username``, ``password``) left out.
    :param types: complex type name -> its element names in order (the fields of a record parameter).
    """

    target_namespace: str | None
    methods: Mapping[str, tuple[tuple[str, str | None], ...]]
    types: Mapping[str, tuple[str, ...]]

    def params(self, method: str) -> tuple[str, ...] | None:
        """The parameter names of ``method`` in order, or None when the WSDL has no such method."""
        entry = self.methods.get(method)
        return None if entry is None else tuple(name for name, _ in entry)

    def complex_params(self, method: str) -> frozenset[str]:
        """The parameters of ``method`` whose type is a complex type of the WSDL (records, arrays)."""
        return frozenset(name for name, type_name in self.methods.get(method, ()) if type_name in self.types)

    def record_fields(self, method: str, param: str) -> tuple[str, ...] | None:
        """The field names of a record parameter, when the WSDL describes its type."""
        for name, type_name in self.methods.get(method, ()):
            if name == param and type_name is not None:
                return self.types.get(type_name)
        return None


_XS_NS = XSD_NS


def _sequence_names(complex_type: Element) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for seq in complex_type.iter(f"{{{_XS_NS}}}sequence"):
        for el in seq.findall(f"{{{_XS_NS}}}element"):
            name = el.get("name")
            if name:
                type_name = el.get("type")
                out.append((name, type_name.rpartition(":")[2] if type_name else None))
        break  # the outer sequence only: a nested anonymous type is not a parameter list
    return out


def parse_wsdl(content: bytes | str) -> WsdlDescription:
    """Read a WSDL 1.1 document with the hardened parser (no DTD, no entities: :func:`parse_xml`).

    The methods are the ``portType`` operations; each one's parameters are the children of the schema
    element its input message names (ASMX names it after the method). Raises ``ValueError`` for a
    document that is not a WSDL.
    """
    root = parse_xml(content)
    if root.tag != f"{{{WSDL_NS}}}definitions":
        raise ValueError(f"not a WSDL 1.1 document (root element {root.tag!r})")
    elements: dict[str, Element] = {}
    types: dict[str, tuple[str, ...]] = {}
    for schema in root.iter(f"{{{_XS_NS}}}schema"):
        for child in schema:
            name = child.get("name")
            if not name:
                continue
            if child.tag == f"{{{_XS_NS}}}element":
                elements.setdefault(name, child)
            elif child.tag == f"{{{_XS_NS}}}complexType":
                types.setdefault(name, tuple(n for n, _ in _sequence_names(child)))
    messages: dict[str, str] = {}
    for message_el in root.findall(f"{{{WSDL_NS}}}message"):
        part = message_el.find(f"{{{WSDL_NS}}}part")
        if message_el.get("name") and part is not None and part.get("element"):
            messages[str(message_el.get("name"))] = str(part.get("element")).rpartition(":")[2]
    methods: dict[str, tuple[tuple[str, str | None], ...]] = {}
    for port_type in root.findall(f"{{{WSDL_NS}}}portType"):
        for operation in port_type.findall(f"{{{WSDL_NS}}}operation"):
            name = operation.get("name")
            if not name or name in methods:
                continue
            given = operation.find(f"{{{WSDL_NS}}}input")
            message = str(given.get("message") or "").rpartition(":")[2] if given is not None else ""
            element = elements.get(messages.get(message, name)) or elements.get(name)
            params: list[tuple[str, str | None]] = []
            if element is not None:
                inner = element.find(f"{{{_XS_NS}}}complexType")
                if inner is not None:
                    params = _sequence_names(inner)
            methods[name] = tuple(p for p in params if p[0] not in ("username", "password"))
    return WsdlDescription(target_namespace=root.get("targetNamespace"), methods=methods, types=types)

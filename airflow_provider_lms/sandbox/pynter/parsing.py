"""Reading a request: the SOAP 1.2 envelope parsed with defusedxml (DTDs and entities refused), then the
method element's credentials and parameters, with Pynter's typing rules for booleans and dateTimes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from airflow_provider_lms.sandbox.pynter.errors import Fault
from airflow_provider_lms.sandbox.pynter.soap import SOAP12_NS, TEMPURI_NS, XSI_NS, local_name

__all__ = ["SoapCall", "parse_call"]

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
#: Record fields that are booleans: an untyped ``true``/``false`` in one is refused, as Pynter does.
_BOOLEAN_FIELDS = frozenset({"Blocked", "IsManager"})


@dataclass(frozen=True)
class SoapCall:
    """One parsed request: the method, the credentials its first two children carry, and the parameters.

    :param method: The method element's local name.
    :param username: The ``username`` child's text.
    :param password: The ``password`` child's text.
    :param params: The other children as Python values (see :func:`_param_value`).
    """

    method: str
    username: str
    password: str
    params: dict[str, Any]


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


def _method_element(body: bytes, namespace: str) -> Element:
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
    if not method_el.tag.startswith(f"{{{namespace}}}"):
        raise Fault(f"The method element must be in namespace {namespace}.")
    return method_el


def parse_call(body: bytes, namespace: str = TEMPURI_NS) -> SoapCall:
    """A request body as a :class:`SoapCall`; anything malformed is a :class:`~.errors.Fault`.

    :param namespace: the service namespace the method element and its children must be in.
    """
    method_el = _method_element(body, namespace)
    children = list(method_el)
    names = [local_name(c.tag) for c in children[:2]]
    if names != ["username", "password"]:
        raise Fault("The first children of the method element must be username and password.")
    params: dict[str, Any] = {}
    for child in children[2:]:
        if not child.tag.startswith(f"{{{namespace}}}"):
            raise Fault(f"Parameter {local_name(child.tag)} must be in namespace {namespace}.")
        params[local_name(child.tag)] = _param_value(child)
    return SoapCall(local_name(method_el.tag), children[0].text or "", children[1].text or "", params)

"""Pynter's WSDL reader, name mapping, namespace and connection extras, without a network (respx)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.pynter import PynterHook, wsdl_names
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.soap import SOAP12_NS, UnsafeXmlError, element_to_python, parse_wsdl, parse_xml

BASE = "https://acme.pynter.test"
URL = f"{BASE}/service/apiservice.asmx"

WSDL = b"""<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:s="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="https://acme.pynter.test/api/" targetNamespace="https://acme.pynter.test/api/">
  <wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="https://acme.pynter.test/api/">
    <s:element name="GetPersonByExternalId"><s:complexType><s:sequence>
      <s:element minOccurs="0" maxOccurs="1" name="username" type="s:string"/>
      <s:element minOccurs="0" maxOccurs="1" name="password" type="s:string"/>
      <s:element minOccurs="0" maxOccurs="1" name="ExternalID" type="s:string"/>
    </s:sequence></s:complexType></s:element>
    <s:element name="UpdatePerson"><s:complexType><s:sequence>
      <s:element minOccurs="0" maxOccurs="1" name="username" type="s:string"/>
      <s:element minOccurs="0" maxOccurs="1" name="password" type="s:string"/>
      <s:element minOccurs="0" maxOccurs="1" name="person" type="tns:Person"/>
      <s:element minOccurs="1" maxOccurs="1" name="id" type="s:int"/>
    </s:sequence></s:complexType></s:element>
    <s:complexType name="Person"><s:sequence>
      <s:element name="Email" type="s:string"/><s:element name="ExternalIdentifier" type="s:string"/>
      <s:element name="FirstName" type="s:string"/><s:element name="FamilyName" type="s:string"/>
    </s:sequence></s:complexType>
  </s:schema></wsdl:types>
  <wsdl:message name="GetPersonByExternalIdSoapIn">
    <wsdl:part name="parameters" element="tns:GetPersonByExternalId"/></wsdl:message>
  <wsdl:message name="UpdatePersonSoapIn"><wsdl:part name="parameters" element="tns:UpdatePerson"/></wsdl:message>
  <wsdl:portType name="ApiServiceSoap">
    <wsdl:operation name="GetPersonByExternalId">
      <wsdl:input message="tns:GetPersonByExternalIdSoapIn"/></wsdl:operation>
    <wsdl:operation name="UpdatePerson"><wsdl:input message="tns:UpdatePersonSoapIn"/></wsdl:operation>
  </wsdl:portType>
</wsdl:definitions>"""


def person_answer() -> httpx.Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body><GetPersonByExternalIdResponse '
        'xmlns="https://acme.pynter.test/api/"><GetPersonByExternalIdResult><Success>true</Success><Contents>'
        "<Id>7</Id><ExternalIdentifier>E1</ExternalIdentifier><FirstName>Jan</FirstName>"
        "<FamilyName>Jansen</FamilyName><Email>jan@acme.nl</Email><AccountLevel>ADMIN</AccountLevel>"
        "</Contents><Error /></GetPersonByExternalIdResult></GetPersonByExternalIdResponse></soap:Body>"
        "</soap:Envelope>"
    )
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/soap+xml"})


def update_answer() -> httpx.Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body><UpdatePersonResponse xmlns="x">'
        "<UpdatePersonResult><Success>true</Success><Contents /><Error /></UpdatePersonResult>"
        "</UpdatePersonResponse></soap:Body></soap:Envelope>"
    )
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/soap+xml"})


def connect(monkeypatch: pytest.MonkeyPatch, **extra: object) -> str:
    conn = {"conn_type": "pynter", "login": "api", "password": "unit-pw-5521", "extra": {"base_url": BASE, **extra}}
    monkeypatch.setenv("AIRFLOW_CONN_PYN_WSDL", json.dumps(conn))
    return "pyn_wsdl"


def test_the_wsdl_reader_gives_each_methods_parameters_in_order():
    wsdl = parse_wsdl(WSDL)
    assert wsdl.target_namespace == "https://acme.pynter.test/api/"
    assert wsdl.params("UpdatePerson") == ("person", "id")
    assert wsdl.record_fields("UpdatePerson", "person") == ("Email", "ExternalIdentifier", "FirstName", "FamilyName")
    assert wsdl.params("GetCatalog") is None


def test_the_wsdl_reader_is_the_hardened_one():
    hostile = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><wsdl:definitions>&a;</wsdl:definitions>'
    with pytest.raises(UnsafeXmlError):
        parse_wsdl(hostile)
    with pytest.raises(ValueError, match="not a WSDL"):
        parse_wsdl(b"<html><body>help page</body></html>")


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        (("externalId",), ("externalId",), {"externalId": "externalId"}),
        (("externalId",), ("ExternalID",), {"externalId": "ExternalID"}),
        (("externalId",), ("employeeNumber",), {"externalId": "employeeNumber"}),
        # Matched names stay; the rest pair up in order, within their kind (here: plain values).
        (("startDate", "endDate"), ("endDate", "from", "to"), {"endDate": "endDate"}),
        (("startDate", "endDate"), ("from", "to"), {"startDate": "from", "endDate": "to"}),
        # A record has no plain value to pair with.
        (("personCreate",), ("person",), {}),
        # Nothing to pair with: left unmapped (and then refused before sending, never guessed).
        (("startDate", "endDate"), ("period",), {}),
    ],
)  # fmt: skip
def test_assumed_names_map_onto_the_wsdls(ours, theirs, expected):
    assert wsdl_names(ours, theirs) == expected


def test_a_record_is_never_mapped_onto_a_number_when_the_order_differs():
    wsdl = parse_wsdl(WSDL)
    names = wsdl_names(
        ("pynterPersonId", "personUpdate"), wsdl.params("UpdatePerson") or (), wsdl.complex_params("UpdatePerson")
    )
    assert names == {"pynterPersonId": "id", "personUpdate": "person"}


@respx.mock
def test_a_wsdl_connection_sends_the_wsdls_names_order_and_namespace(monkeypatch: pytest.MonkeyPatch):
    wsdl_route = respx.get(f"{URL}?WSDL").mock(return_value=httpx.Response(200, content=WSDL))
    post = respx.post(URL).mock(return_value=update_answer())
    hook = PynterHook(connect(monkeypatch, param_names="wsdl"))
    hook.update_person(7, {"ExternalIdentifier": "E1", "FirstName": "Jan", "FamilyName": "Jansen", "Email": "j@a.nl"})
    request = post.calls[0].request
    method_el = parse_xml(request.content).find(f"{{{SOAP12_NS}}}Body")[0]  # type: ignore[index]
    assert method_el.tag == "{https://acme.pynter.test/api/}UpdatePerson"
    sent = element_to_python(method_el)
    # The WSDL's names, in the WSDL's order (person before id), and the record's fields in its type's order.
    assert list(sent) == ["username", "password", "person", "id"]
    assert list(sent["person"]) == ["Email", "ExternalIdentifier", "FirstName", "FamilyName"]
    assert request.headers["content-type"].endswith('action="https://acme.pynter.test/api/UpdatePerson"')
    with pytest.raises(LmsInputError, match=r"UpdatePerson\.person\.AccountLevel"):
        hook.update_person(
            7, {"ExternalIdentifier": "E1", "FirstName": "J", "FamilyName": "J", "Email": "j@a.nl", "AccountLevel": "X"}
        )
    assert wsdl_route.call_count == 1


@respx.mock
def test_bulk_threads_read_the_wsdl_once(monkeypatch: pytest.MonkeyPatch):
    wsdl_route = respx.get(f"{URL}?WSDL").mock(return_value=httpx.Response(200, content=WSDL))
    respx.post(URL).mock(side_effect=lambda request: person_answer())
    hook = PynterHook(connect(monkeypatch, param_names="wsdl"))
    with ThreadPoolExecutor(8) as pool:
        people = list(pool.map(lambda _: hook.get_person("E1"), range(16)))
    assert {p.FirstName for p in people} == {"Jan"} and wsdl_route.call_count == 1


@respx.mock
def test_an_explicit_namespace_wins_over_the_wsdls(monkeypatch: pytest.MonkeyPatch):
    respx.get(f"{URL}?WSDL").mock(return_value=httpx.Response(200, content=WSDL))
    post = respx.post(URL).mock(return_value=person_answer())
    PynterHook(connect(monkeypatch, param_names="wsdl", namespace="/service/ApiService.asmx")).get_person("E1")
    method_el = parse_xml(post.calls.last.request.content).find(f"{{{SOAP12_NS}}}Body")[0]  # type: ignore[index]
    assert method_el.tag == "{/service/ApiService.asmx}GetPersonByExternalId"
    assert list(element_to_python(method_el)) == ["username", "password", "ExternalID"]


@pytest.mark.parametrize("bad", ["  ", "http://x y/", "urn:<x>", 'a"b', 17])
def test_a_namespace_that_cannot_be_sent_is_refused_naming_the_extra(monkeypatch: pytest.MonkeyPatch, bad):
    hook = PynterHook(connect(monkeypatch, namespace=bad))
    with pytest.raises(LmsInputError, match="namespace"):
        hook.connection_config  # noqa: B018 - reading the connection is the check


def test_a_blank_namespace_field_is_no_setting(monkeypatch: pytest.MonkeyPatch):
    # The connection form stores a field left empty as "": that means the default, not an error.
    hook = PynterHook(connect(monkeypatch, namespace=""))
    assert hook.connection_config.namespace is None and hook.namespace() == "http://tempuri.org/"

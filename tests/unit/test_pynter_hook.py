"""PynterHook against respx: requests sent, answers mapped onto typed errors, reads retried, writes not."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.http.errors import (
    LmsAuthenticationError,
    LmsInputError,
    LmsNotFoundError,
    LmsServerError,
    LmsTransportError,
    LmsValidationError,
)
from airflow_provider_lms.models.pynter import PynterEmployee
from airflow_provider_lms.models.state import EnrollmentState, completion_verdict
from airflow_provider_lms.soap import SOAP12_NS, TEMPURI_NS, UnsafeXmlError, element_to_python, parse_xml

BASE = "https://acme.pynter.test"
URL = f"{BASE}/service/apiservice.asmx"
PASSWORD = "unit-pynter-pw-31d9"


@pytest.fixture
def conn(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PYN",
        json.dumps(
            {
                "conn_type": "pynter",
                "login": "api-user",
                "password": PASSWORD,
                "extra": {"base_url": BASE, "backoff_base": 0.001},
            }
        ),
    )
    return "pyn"


def answer(method: str, contents: str = "", *, success: bool = True, error: str = "") -> httpx.Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body><{method}Response xmlns="{TEMPURI_NS}"><{method}Result>'
        f"<Success>{'true' if success else 'false'}</Success><Contents>{contents}</Contents>"
        f"<Error>{error}</Error></{method}Result></{method}Response></soap:Body></soap:Envelope>"
    )
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/soap+xml; charset=utf-8"})


def fault(code: str, reason: str, status: int = 500) -> httpx.Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body><soap:Fault><soap:Code><soap:Value>{code}</soap:Value>'
        f"</soap:Code><soap:Reason><soap:Text>{reason}</soap:Text></soap:Reason></soap:Fault></soap:Body>"
        "</soap:Envelope>"
    )
    return httpx.Response(status, content=body.encode())


def sent(request: httpx.Request) -> tuple[str, dict]:
    method_el = parse_xml(request.content).find(f"{{{SOAP12_NS}}}Body")[0]  # type: ignore[index]
    return method_el.tag.split("}")[1], element_to_python(method_el)


RESULTS = (
    "<Result><Id>1</Id><ModuleId>7</ModuleId><FinishDate>2023-03-01T10:00:00</FinishDate></Result>"
    "<Result><Id>2</Id><ModuleId>7</ModuleId><FinishDate>2025-03-01T10:00:00</FinishDate></Result>"
    "<Result><Id>3</Id><ModuleId>8</ModuleId><FinishDate>2025-06-01T10:00:00</FinishDate></Result>"
)


@respx.mock
def test_a_read_posts_a_soap12_envelope_with_credentials_first(conn):
    route = respx.post(URL).mock(return_value=answer("Qualifications", RESULTS))
    results = PynterHook(conn).qualifications("E1")
    request = route.calls.last.request
    # SOAP 1.2 carries the action as a Content-Type parameter: the namespace joined with the method.
    assert request.headers["content-type"] == (
        'application/soap+xml; charset=utf-8; action="http://tempuri.org/Qualifications"'
    )
    method, params = sent(request)
    assert method == "Qualifications"
    assert list(params) == ["username", "password", "externalId"]
    assert params["username"] == "api-user" and params["externalId"] == "E1"
    assert PASSWORD not in str(request.headers) and PASSWORD not in str(request.url)
    assert [r.Id for r in results] == [1, 2, 3]


@respx.mock
def test_the_latest_result_is_the_current_status_and_fills_completed_at(conn):
    respx.post(URL).mock(return_value=answer("Qualifications", RESULTS))
    state = PynterHook(conn).get_enrollment_state(EnrollmentRef(learner_id="E1", course_id="7"))
    assert state.state is EnrollmentState.PASSED
    assert state.completed_at == "2025-03-01T10:00:00+01:00"
    assert [r["Id"] for r in state.raw["results"]] == [1, 2]
    # Re-certification: a completion before the cut-off does not count, a later one does.
    assert completion_verdict(state, completed_since="2025-06-01")[0] == "wait"
    assert completion_verdict(state, completed_since="2025-01-01")[0] == "done"


@respx.mock
def test_the_async_state_agrees_with_the_sync_one(conn):
    def handler(request: httpx.Request) -> httpx.Response:
        method, _ = sent(request)
        if method == "Qualifications":
            return answer(method, "")
        if method == "StartedCourses":
            return answer(method, "<Course><ModuleId>7</ModuleId><Progress>30</Progress></Course>")
        return answer(method, "")

    respx.post(URL).mock(side_effect=handler)
    ref = EnrollmentRef(learner_id="E1", course_id="7")
    hook = PynterHook(conn)
    sync_state = hook.get_enrollment_state(ref)
    async_state = asyncio.run(PynterHook(conn).aget_enrollment_state(ref))
    assert sync_state.state is async_state.state is EnrollmentState.IN_PROGRESS


@respx.mock
def test_person_not_found_means_not_enrolled(conn):
    respx.post(URL).mock(return_value=answer("Qualifications", success=False, error="Person not found."))
    state = PynterHook(conn).get_enrollment_state(EnrollmentRef(learner_id="E404", course_id="7"))
    assert state.state is EnrollmentState.NOT_ENROLLED


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (answer("GetMandatoryPlanning", success=False, error="Person not found."), LmsNotFoundError),
        (answer("GetMandatoryPlanning", success=False, error="Invalid username or password."), LmsAuthenticationError),
        (answer("GetMandatoryPlanning", success=False, error="moduleId is invalid."), LmsValidationError),
        (fault("soap:Sender", "Cannot convert 'x' to System.Int32."), LmsValidationError),
        (fault("soap:Receiver", "Object reference not set to an instance of an object."), LmsServerError),
    ],
)
@respx.mock
def test_success_false_error_texts_and_faults_become_typed_errors(conn, response, error):
    respx.post(URL).mock(return_value=response)
    with pytest.raises(error) as err:
        PynterHook(conn).get_mandatory_planning()
    assert PASSWORD not in str(err.value)
    assert err.value.platform_message


@respx.mock
def test_reads_are_retried_after_a_lost_answer_but_writes_are_not(conn):
    route = respx.post(URL).mock(
        side_effect=[httpx.ReadTimeout("lost"), answer("GetMandatoryPlanning", ""), httpx.ReadTimeout("lost")]
    )
    hook = PynterHook(conn)
    assert hook.get_mandatory_planning() == []
    assert route.call_count == 2
    with pytest.raises(LmsTransportError):
        hook.update_eticket_attendance("ET-1")
    assert route.call_count == 3  # sent once: a write is never resent blindly


@respx.mock
def test_an_entity_payload_in_an_answer_is_rejected_and_not_retried(conn):
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        b'<QualificationsResponse xmlns="http://tempuri.org/"><QualificationsResult><Success>true</Success>'
        b"<Contents>&b;</Contents></QualificationsResult></QualificationsResponse></soap:Body></soap:Envelope>"
    )
    route = respx.post(URL).mock(return_value=httpx.Response(200, content=payload))
    with pytest.raises(UnsafeXmlError):
        PynterHook(conn).qualifications("E1")
    assert route.call_count == 1


@respx.mock
def test_upsert_looks_first_and_leaves_a_matching_employee_alone(conn):
    person = (
        "<Id>5</Id><ExternalIdentifier>E5</ExternalIdentifier><FirstName>Jan</FirstName>"
        "<FamilyName>Smit</FamilyName><Email>jan@x.nl</Email><Blocked>false</Blocked>"
    )
    route = respx.post(URL).mock(return_value=answer("GetPersonByExternalId", person))
    employee = PynterEmployee(external_id="E5", first_name="Jan", family_name="Smit", email="jan@x.nl", blocked=False)
    outcome = PynterHook(conn).upsert_employee(employee)
    assert outcome.status.value == "already_done"
    assert [sent(c.request)[0] for c in route.calls] == ["GetPersonByExternalId"]


@respx.mock
def test_upsert_sends_typed_fields_and_verifies_after_an_ambiguous_failure(conn):
    calls: list[str] = []
    stored: dict = {}
    wire: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        method, params = sent(request)
        calls.append(method)
        if method == "GetPersonByExternalId":
            if not stored:
                return answer(method, success=False, error="Person not found.")
            inner = "".join(f"<{k}>{v}</{k}>" for k, v in stored.items())
            return answer(method, f"<Id>9</Id>{inner}")
        stored.update(params["employee"])
        wire.append(request.content)
        raise httpx.ReadTimeout("answer lost after the write")

    respx.post(URL).mock(side_effect=handler)
    employee = PynterEmployee(
        external_id="E9", first_name="Ada", family_name="Lovelace", email="ada@x.nl", blocked=True
    )
    outcome = PynterHook(conn).upsert_employee(employee)
    assert outcome.status.value == "done" and outcome.result["person_id"] == 9
    assert calls == ["GetPersonByExternalId", "UpdateEmployee", "GetPersonByExternalId"]
    assert b'<Blocked xsi:type="xsd:boolean">true</Blocked>' in wire[0]


@respx.mock
def test_generic_call_sends_any_method_and_unknown_methods_count_as_writes(conn):
    route = respx.post(URL).mock(side_effect=[httpx.ReadTimeout("lost")])
    with pytest.raises(LmsTransportError):
        PynterHook(conn).call("SomeNewMethod", anything="x")
    assert route.call_count == 1
    route = respx.post(URL).mock(return_value=answer("GetCatalog", "<Item><Id>1</Id></Item>"))
    assert PynterHook(conn).call("GetCatalog", filter="a & b") == {"Item": {"Id": "1"}}
    assert sent(route.calls.last.request)[1]["filter"] == "a & b"


@respx.mock
def test_param_names_can_be_renamed_on_the_connection(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_PYN2",
        json.dumps(
            {
                "conn_type": "pynter",
                "login": "u",
                "password": "p",
                "extra": {"base_url": BASE, "param_names": {"Qualifications": {"externalId": "identifier"}}},
            }
        ),
    )
    route = respx.post(URL).mock(return_value=answer("Qualifications", ""))
    PynterHook("pyn2").qualifications("E1")
    assert list(sent(route.calls.last.request)[1]) == ["username", "password", "identifier"]


@respx.mock
def test_test_connection_accepts_person_not_found_and_reports_bad_credentials(conn):
    respx.post(URL).mock(return_value=answer("GetPersonByExternalId", success=False, error="Person not found."))
    assert PynterHook(conn).test_connection()[0] is True
    respx.post(URL).mock(
        return_value=answer("GetPersonByExternalId", success=False, error="Invalid username or password.")
    )
    ok, message = PynterHook(conn).test_connection()
    assert ok is False and "Invalid username or password" in message and PASSWORD not in message


def test_ids_are_checked_before_any_request(conn):
    hook = PynterHook(conn)
    with pytest.raises(LmsInputError):
        hook.parse_course_id("course_id", "BHV")
    with pytest.raises(LmsInputError):
        hook.parse_enrollment_id("enrollment_id", "no-colon")
    assert hook.parse_enrollment_id("enrollment_id", "E1:7") == "E1:7"

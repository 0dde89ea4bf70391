"""The Pynter double over real HTTP: its envelope rules, and the hook and operators against it."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.http.errors import LmsAuthenticationError, LmsInputError, LmsNotFoundError
from airflow_provider_lms.models.state import EnrollmentState
from airflow_provider_lms.operators.pynter import (
    PynterRecordEticketAttendanceOperator,
    PynterSyncCompletionsOperator,
    PynterUpsertEmployeesOperator,
)
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.pynter import MOUNT, PYNTER_SANDBOX_PASSWORD
from airflow_provider_lms.soap import build_envelope, parse_answer, parse_fault
from tests.task_context import ctx

SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}


@pytest.fixture
def conn_id(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> str:
    conn = MOUNT.connection_factory(sandbox.url)  # type: ignore[misc]
    conn["extra"]["backoff_base"] = 0.001
    monkeypatch.setenv("AIRFLOW_CONN_PYNTER_SBX", json.dumps(conn))
    return "pynter_sbx"


@pytest.fixture
def service(sandbox: SandboxServer) -> str:
    return f"{sandbox.url}/pynter/service/apiservice.asmx"


def test_every_call_checks_the_credentials(service: str):
    body = build_envelope("GetMandatoryPlanning", "sandbox-pynter-user", "wrong")
    answer = parse_answer(httpx.post(service, content=body, headers=SOAP).content)
    assert answer.success is False and answer.error == "Invalid username or password."


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (build_envelope("GetMandatoryPlanning", "u", "p"), {"Content-Type": "text/xml"}, "application/soap+xml"),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
            SOAP,
            "SOAP 1.2",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
            SOAP,
            "DTD",
        ),
        (
            build_envelope("GetMandatoryPlanning", "u", "p")
            .replace(b"<username>", b"<user>")
            .replace(b"</username>", b"</user>"),
            SOAP,
            "username and password",
        ),
        (build_envelope("NoSuchMethod", "u", "p"), SOAP, "Unknown method"),
    ],
)
def test_malformed_requests_get_soap12_faults(service: str, body: bytes, headers: dict, reason: str):
    response = httpx.post(service, content=body, headers=headers)
    assert response.status_code >= 400
    fault = parse_fault(response.content)
    assert fault is not None and reason in fault[1]


def test_an_untyped_boolean_is_refused(service: str):
    body = build_envelope(
        "UpdateEmployee",
        "sandbox-pynter-user",
        PYNTER_SANDBOX_PASSWORD,
        {"employee": {"ExternalIdentifier": "E7", "FirstName": "A", "FamilyName": "B", "Email": "a@b.nl",
                      "Blocked": True}},
    ).replace(b' xsi:type="xsd:boolean"', b"")  # fmt: skip
    fault = parse_fault(httpx.post(service, content=body, headers=SOAP).content)
    assert fault is not None and "xsd:boolean" in fault[1]


def test_hook_reads_planning_results_and_states(conn_id: str):
    hook = PynterHook(conn_id)
    assert hook.test_connection() == (True, "Connected to Pynter: the API username and password were accepted")
    overdue = {(r.ExternalId, r.ModuleId) for r in hook.get_mandatory_planning() if r.Status == "Verlopen"}
    assert overdue == {("E1001", 1), ("E1003", 1), ("E1003", 2)}
    anna = hook.get_enrollment_state(EnrollmentRef(learner_id="E1001", course_id="1"))
    assert anna.state is EnrollmentState.PASSED and len(anna.raw["results"]) == 2
    assert (
        hook.get_enrollment_state(EnrollmentRef(learner_id="E1003", course_id="3")).state is EnrollmentState.IN_PROGRESS
    )
    assert hook.get_enrollment_state(EnrollmentRef(learner_id="E1004", course_id="3")).state is EnrollmentState.ENROLLED
    assert (
        hook.get_enrollment_state(EnrollmentRef(learner_id="E1004", course_id="2")).state
        is EnrollmentState.NOT_ENROLLED
    )
    assert [r.ModuleCode for r in hook.qualifications_by_codes("E1001", ["VCA"])] == ["VCA"]
    assert hook.get_person_certificates("E1001")[0].Name == "EHBO-diploma"
    assert hook.get_person_training("E1002")[0].Institution == "Hogeschool Utrecht"
    assert hook.get_person_progress("E1003")[0].Status == "Gestart"
    assert hook.started_courses("E1003")[0].Progress == 40
    assert {o.ModuleId for o in hook.courses_overview("E1004")} == {1, 3}
    assert len(hook.course_dates_with_status(date(2000, 1, 1), date(2100, 1, 1))) == 2
    assert len(hook.get_all_finished_modules()) == 8
    with pytest.raises(LmsNotFoundError):
        hook.get_person("E404")


def test_a_new_result_moves_the_latest_and_the_sensor_verdict(conn_id: str, sandbox: SandboxServer):
    from airflow_provider_lms.models.state import completion_verdict

    hook = PynterHook(conn_id)
    ref = EnrollmentRef(learner_id="E1003", course_id="1")
    since = sandbox.state.now().replace(microsecond=0).isoformat()  # Pynter keeps whole seconds
    assert completion_verdict(hook.get_enrollment_state(ref), completed_since=since)[0] == "wait"
    httpx.post(
        f"{sandbox.control_url}/pynter/results", json={"external_id": "E1003", "module_id": 1}
    ).raise_for_status()
    assert completion_verdict(hook.get_enrollment_state(ref), completed_since=since)[0] == "done"


def test_wrong_password_is_an_authentication_error(conn_id: str, sandbox: SandboxServer):
    sandbox.state.pynter.password = "changed"
    with pytest.raises(LmsAuthenticationError):
        PynterHook(conn_id).get_mandatory_planning()
    ok, message = PynterHook(conn_id).test_connection()
    assert ok is False and "changed" not in message and PYNTER_SANDBOX_PASSWORD not in message


def test_upsert_employees_in_bulk_then_a_rerun_changes_nothing(conn_id: str, sandbox: SandboxServer):
    employees = [
        {"external_id": "E1001", "first_name": "Anna", "insertion": "de", "family_name": "Vries",
         "email": "anna.vries@sandbox.example", "function_name": "Verpleegkundige <senior> & co ]]>"},
        {"external_id": "E2001", "first_name": "Özlem", "family_name": "Öztürk-Ĳzerman",
         "email": "ozlem@sandbox.example", "blocked": False, "contract_start": "2026-02-01T00:00:00"},
    ]  # fmt: skip
    op = PynterUpsertEmployeesOperator(task_id="upsert", lms_conn_id=conn_id, employees=employees)
    first = op.execute(ctx())
    assert (first["done"], first["failed"]) == (2, 0)
    persons = sandbox.state.pynter.persons
    assert persons["E1001"]["FunctionName"] == "Verpleegkundige <senior> & co ]]>"
    assert persons["E2001"]["FamilyName"] == "Öztürk-Ĳzerman" and persons["E2001"]["Blocked"] is False
    again = PynterUpsertEmployeesOperator(task_id="upsert", lms_conn_id=conn_id, employees=employees)
    second = again.execute(ctx())
    assert (second["done"], second["already_done"]) == (0, 2)
    assert sandbox.state.pynter.calls.count("UpdateEmployee") == 2


def test_upsert_validates_every_record_before_any_request(conn_id: str, sandbox: SandboxServer):
    op = PynterUpsertEmployeesOperator(
        task_id="upsert", lms_conn_id=conn_id, employees=[{"external_id": "E1", "first_name": "A", "email": "x"}]
    )
    with pytest.raises(Exception, match=r"employees\[0\]"):
        op.execute(ctx())
    assert sandbox.state.pynter.calls == []


def test_eticket_attendance_once_and_an_unknown_ticket_fails_alone(conn_id: str, sandbox: SandboxServer):
    op = PynterRecordEticketAttendanceOperator(
        task_id="attend", lms_conn_id=conn_id, ticket_hashes=["ET-7F3A-0001", "ET-NOPE"], fail_on_item_error=False
    )
    summary = op.execute(ctx())
    assert (summary["done"], summary["failed"]) == (1, 1)
    assert "E-ticket not found" in summary["items"][1]["error"]
    assert sandbox.state.pynter.etickets["ET-7F3A-0001"]["Attended"] is True
    strict = PynterRecordEticketAttendanceOperator(
        task_id="attend", lms_conn_id=conn_id, ticket_hashes=["ET-7F3A-0001"]
    )
    assert strict.execute(ctx())["already_done"] == 1
    assert sandbox.state.pynter.calls.count("UpdateEticketAttendance") == 1


def test_ensure_class_inserts_once(conn_id: str, sandbox: SandboxServer):
    hook = PynterHook(conn_id)
    first = hook.ensure_class(2, "Herhaling VCA", date(2026, 6, 1), date(2026, 6, 1))
    second = hook.ensure_class(2, "Herhaling VCA", date(2026, 6, 1))
    assert first.status.value == "done" and second.status.value == "already_done"
    assert first.result["class_id"] == second.result["class_id"]
    # An empty name is refused before the request now (issue 16: bad input never reaches the wire).
    with pytest.raises(LmsInputError, match="name"):
        hook.insert_class(1, "", date(2026, 6, 1))


def test_sync_completions_to_csv_and_xcom(conn_id: str, tmp_path):
    path = tmp_path / "out" / "completions.csv"
    op = PynterSyncCompletionsOperator(task_id="sync", lms_conn_id=conn_id, since="2000-01-01", csv_path=str(path))
    out = op.execute(ctx())
    # Anna has two BHV results: only the latest, her current status, is synced.
    assert out["count"] == 7
    anna_bhv = [r for r in out["rows"] if r["learner_id"] == "E1001" and r["course_id"] == "1"]
    assert len(anna_bhv) == 1
    assert path.read_text(encoding="utf-8").splitlines()[0].startswith("learner_id,course_id")


def test_the_sync_operator_refuses_another_platform(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDU_X", json.dumps({"conn_type": "eduframe", "password": "k"}))
    op = PynterSyncCompletionsOperator(task_id="sync", lms_conn_id="edu_x", since="2000-01-01")
    with pytest.raises((AirflowException, Exception), match="Pynter only"):
        op.execute(ctx())


def test_injected_faults_answer_in_soap_and_reads_survive_them(conn_id: str, sandbox: SandboxServer):
    httpx.put(
        f"{sandbox.control_url}/faults",
        json={"fault_rate": 1.0, "kinds": ["503"], "path_prefix": "/pynter", "max_faults": 2},
    ).raise_for_status()
    assert len(PynterHook(conn_id).get_mandatory_planning()) == 8

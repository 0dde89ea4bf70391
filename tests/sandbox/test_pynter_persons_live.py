"""Pynter's person lifecycle, namespace and WSDL over real HTTP against the sandbox.

``ensure_learners``: ``GetPersonByExternalId``, then ``CreatePerson`` or a read-merge-write ``UpdatePerson``
(which replaces the whole record); blocking as the "disable"; the service namespace as a connection
setting; parameter names read from the tenant's WSDL; every value of a generic call checked before sending.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.http.errors import LmsInputError, LmsNotFoundError, LmsValidationError
from airflow_provider_lms.models.inputs import LearnerSpec
from airflow_provider_lms.models.state import EnrollmentState
from airflow_provider_lms.operators.learners import LmsEnsureLearnersOperator
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.pynter import MOUNT, PYNTER_SANDBOX_PASSWORD, PYNTER_SANDBOX_USERNAME
from airflow_provider_lms.soap import build_envelope, parse_answer, parse_fault
from tests.task_context import ctx

SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}
DOCS_NAMESPACE = "/service/ApiService.asmx"


def connect(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, name: str = "pynter_persons", **extra: Any) -> str:
    conn = MOUNT.connection_factory(sandbox.url)  # type: ignore[misc]
    conn["extra"] = {**conn["extra"], "backoff_base": 0.001, **extra}
    monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps(conn))
    return name


@pytest.fixture
def conn_id(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> str:
    return connect(sandbox, monkeypatch)


def state(sandbox: SandboxServer) -> dict[str, Any]:
    response = httpx.get(f"{sandbox.control_url}/pynter/state", timeout=10)
    response.raise_for_status()
    return response.json()


def persons(sandbox: SandboxServer) -> dict[str, dict[str, Any]]:
    return {p["ExternalIdentifier"]: p for p in state(sandbox)["persons"]}


def filled(person: dict[str, Any], *leave_out: str) -> dict[str, Any]:
    """A person's fields that hold a value (the sandbox stores every field after a whole-record write)."""
    return {k: v for k, v in person.items() if v is not None and k not in leave_out}


def writes(sandbox: SandboxServer) -> list[str]:
    return [c for c in sandbox.state.pynter.calls if c in ("CreatePerson", "UpdatePerson", "UpdateEmployee")]


def service(sandbox: SandboxServer, **body: Any) -> None:
    httpx.put(f"{sandbox.control_url}/pynter/service", json=body, timeout=10).raise_for_status()


HR_ROWS = [
    # E1002 exists with a job, a division, a manager flag and level MANAGER: her new e-mail and first name
    # are written, all the rest must survive the whole-record UpdatePerson.
    {
        "external_id": "E1002",
        "email": "farah.elamrani@zorg.example",
        "first_name": "Farah N.",
        "last_name": "El Amrani",
    },
    # E1001 matches already (family name given with its prefix "de", which Pynter keeps as Insertion).
    {"external_id": "E1001", "email": "Anna.Vries@sandbox.example", "first_name": "Anna", "last_name": "de Vries"},
    # E3001 is new.
    {"external_id": "E3001", "email": "noor.visser@sandbox.example", "first_name": "Noor", "last_name": "Visser"},
]


def test_ensure_learners_creates_merges_and_sends_nothing_for_identical_data(conn_id: str, sandbox: SandboxServer):
    before = persons(sandbox)
    context = ctx()
    op = LmsEnsureLearnersOperator(task_id="hr_sync", lms_conn_id=conn_id, learners=HR_ROWS)
    summary = op.execute(context)
    assert (summary["done"], summary["already_done"], summary["failed"]) == (2, 1, 0)
    actions = {i["result"]["learner_id"]: i["result"]["action"] for i in summary["items"]}
    assert actions == {"E1002": "updated", "E1001": "none", "E3001": "created"}
    assert context["ti"].pushed["learner_ids"] == ["E1002", "E1001", "E3001"]
    assert writes(sandbox) == ["UpdatePerson", "CreatePerson"] or writes(sandbox) == ["CreatePerson", "UpdatePerson"]

    after = persons(sandbox)
    farah = after["E1002"]
    assert (farah["FirstName"], farah["Email"]) == ("Farah N.", "farah.elamrani@zorg.example")
    # Untouched by the HR row, kept through the whole-record replace:
    for name in ("AccountLevel", "IsManager", "FunctionName", "DivisionName", "CostCentre", "PhoneNumber",
                 "ContractStartTime", "Blocked", "Id"):  # fmt: skip
        assert farah[name] == before["E1002"][name], name
    assert farah["AccountLevel"] == "MANAGER" and farah["IsManager"] is True
    assert after["E1001"] == before["E1001"]
    noor = after["E3001"]
    assert (noor["FirstName"], noor["FamilyName"], noor["Blocked"], noor["AccountLevel"]) == (
        "Noor",
        "Visser",
        False,
        "USER",
    )
    assert summary["items"][2]["result"]["person_id"] == noor["Id"]

    # The re-run: every learner already matches, nothing is written and the sandbox state is the same.
    calls_before = len(sandbox.state.pynter.calls)
    again = LmsEnsureLearnersOperator(task_id="hr_sync", lms_conn_id=conn_id, learners=HR_ROWS).execute(ctx())
    assert (again["done"], again["already_done"]) == (0, 3)
    new_calls = sandbox.state.pynter.calls[calls_before:]
    assert new_calls == ["GetPersonByExternalId"] * 3
    assert persons(sandbox) == after
    assert state(sandbox)["person_revisions"] == {"E1002": 1, "E3001": 1}


def test_a_learner_pynter_cannot_identify_is_refused_before_any_request(conn_id: str, sandbox: SandboxServer):
    hook = PynterHook(conn_id)
    nameless = LearnerSpec(email="x@sandbox.example", first_name="X", last_name="Y")
    with pytest.raises(LmsInputError, match=r"learners\[4\]\.external_id.*required on Pynter"):
        hook.check_learner("learners[4]", nameless)
    with pytest.raises(LmsInputError, match=r"learner\.external_id"):
        hook.ensure_learner(nameless)
    # LearnerSpec takes 256 characters; a Pynter external id (our assumption: as the employee record) 100.
    too_long = LearnerSpec(email="x@sandbox.example", first_name="X", last_name="Y", external_id="E" * 101)
    with pytest.raises(LmsInputError, match=r"external_id.*100"):
        hook.ensure_learner(too_long)
    with pytest.raises(LmsInputError, match=r"platform_options\.send_invite"):
        LmsEnsureLearnersOperator(
            task_id="t", lms_conn_id=conn_id, learners=HR_ROWS, platform_options={"send_invite": True}
        ).execute(ctx())
    with pytest.raises(LmsInputError, match=r"platform_options\.blocked"):
        LmsEnsureLearnersOperator(
            task_id="t", lms_conn_id=conn_id, learners=HR_ROWS, platform_options={"blocked": "yes"}
        ).execute(ctx())
    # The operator checks every row before the first request: one row without an external id stops the run.
    rows = [*HR_ROWS, {"email": "late@sandbox.example", "first_name": "L", "last_name": "Z"}]
    with pytest.raises(LmsInputError, match=rf"learners\[{len(HR_ROWS)}\]\.external_id"):
        LmsEnsureLearnersOperator(task_id="t", lms_conn_id=conn_id, learners=rows).execute(ctx())
    # One external id is one person: two rows for it with different e-mails are refused, not raced.
    twins = [{**HR_ROWS[0]}, {**HR_ROWS[0], "email": "other@sandbox.example"}]
    with pytest.raises(LmsInputError, match=r"learners\[1\].*same learner as learners\[0\]"):
        LmsEnsureLearnersOperator(task_id="t", lms_conn_id=conn_id, learners=twins).execute(ctx())
    assert sandbox.state.pynter.calls == []


def test_blocking_is_the_disable_and_keeps_the_record(conn_id: str, sandbox: SandboxServer):
    hook = PynterHook(conn_id)
    before = persons(sandbox)["E1002"]
    assert hook.block_person("E1002").status.value == "done"
    blocked = persons(sandbox)["E1002"]
    assert blocked["Blocked"] is True
    assert filled(blocked, "Blocked") == filled(before, "Blocked")
    assert hook.block_person("E1002").status.value == "already_done"
    assert writes(sandbox) == ["UpdatePerson"]
    # ensure_learners with the option unblocks; without it, a blocked person stays blocked.
    row = {"external_id": "E1002", "email": before["Email"], "first_name": "Farah", "last_name": "El Amrani"}
    kept = LmsEnsureLearnersOperator(task_id="t", lms_conn_id=conn_id, learners=[row]).execute(ctx())
    assert kept["already_done"] == 1 and persons(sandbox)["E1002"]["Blocked"] is True
    LmsEnsureLearnersOperator(
        task_id="t", lms_conn_id=conn_id, learners=[row], platform_options={"blocked": False}
    ).execute(ctx())
    assert filled(persons(sandbox)["E1002"]) == filled(before)
    with pytest.raises(LmsNotFoundError):
        hook.block_person("E404")


def test_the_sandbox_replaces_the_whole_record_on_update(sandbox: SandboxServer):
    url = f"{sandbox.url}/pynter/service/apiservice.asmx"
    body = build_envelope(
        "UpdatePerson",
        PYNTER_SANDBOX_USERNAME,
        PYNTER_SANDBOX_PASSWORD,
        [
            ("pynterPersonId", 2),
            ("personUpdate", {"ExternalIdentifier": "E1002", "FirstName": "F", "FamilyName": "E", "Email": "f@e.nl"}),
        ],
    )
    answer = parse_answer(httpx.post(url, content=body, headers=SOAP).content)
    assert answer.success is True
    farah = persons(sandbox)["E1002"]
    # What a partial update does to a real tenant (pynter-params.md): the level falls back, the rest is gone.
    assert farah["AccountLevel"] == "USER" and farah["FunctionName"] is None and farah["IsManager"] is None


def test_a_generic_call_checks_every_value_before_sending(conn_id: str, sandbox: SandboxServer):
    hook = PynterHook(conn_id)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"filter": "a\x00b"}, r"GetCatalog\.filter.*U\+0000"),
        ({"filter": "half \ud800"}, r"GetCatalog\.filter.*surrogate"),
        ({"filter": "x" * 10_001}, r"GetCatalog\.filter"),
        ({"filter": "right-to-left \u202e"}, r"GetCatalog\.filter"),
        ({"record": {"Name": "ok", "Note": "bell \x07"}}, r"GetCatalog\.record\.Note"),
        ({"record": {"bad key": 1}}, r"GetCatalog\.record"),
        ({"codes": ["A", 1.5]}, r"GetCatalog\.codes\[1\]"),
        ({"amount": float("nan")}, r"GetCatalog\.amount"),
        ({"big": 2**64}, r"GetCatalog\.big"),
        ({"blob": b"bytes"}, r"GetCatalog\.blob"),
    ]
    for params, pattern in bad:
        with pytest.raises(LmsInputError, match=pattern):
            hook.call("GetCatalog", **params)
    assert sandbox.state.pynter.calls == []
    # Multi-line free text is fine: XML carries tab, line feed and carriage return.
    with pytest.raises(LmsValidationError, match="not available in the sandbox"):
        hook.call("GetCatalog", note="line one\r\nline two\ttabbed")


def test_mandatory_planning_with_a_module_that_is_no_number_is_a_sender_fault(conn_id: str, sandbox: SandboxServer):
    url = f"{sandbox.url}/pynter/service/apiservice.asmx"
    body = build_envelope("GetMandatoryPlanning", PYNTER_SANDBOX_USERNAME, PYNTER_SANDBOX_PASSWORD, {"moduleId": "abc"})
    response = httpx.post(url, content=body, headers=SOAP)
    assert response.status_code == 500  # ASMX answers every fault with 500; the code says whose fault
    fault = parse_fault(response.content)
    assert fault == ("soap:Sender", "Cannot convert 'abc' of parameter moduleId to System.Int32.")
    with pytest.raises(LmsValidationError, match="SOAP fault"):
        PynterHook(conn_id).call("GetMandatoryPlanning", moduleId="abc")


def test_the_namespace_is_a_connection_setting(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    service(sandbox, namespace=DOCS_NAMESPACE)
    default = PynterHook(connect(sandbox, monkeypatch, "pynter_tempuri"))
    with pytest.raises(LmsValidationError) as refused:
        default.get_mandatory_planning()
    assert DOCS_NAMESPACE in str(refused.value)
    docs = PynterHook(connect(sandbox, monkeypatch, "pynter_docs_ns", namespace=DOCS_NAMESPACE))
    assert len(docs.get_mandatory_planning()) == 8
    assert docs.find_person("E1001") is not None

    # The action parameter follows the namespace; one that names another service is refused by the tenant.
    url = f"{sandbox.url}/pynter/service/apiservice.asmx"
    body = build_envelope("HealthCheck", PYNTER_SANDBOX_USERNAME, PYNTER_SANDBOX_PASSWORD, namespace=DOCS_NAMESPACE)
    wrong = {"Content-Type": 'application/soap+xml; charset=utf-8; action="http://tempuri.org/HealthCheck"'}
    fault = parse_fault(httpx.post(url, content=body, headers=wrong).content)
    assert fault is not None and "SOAPAction" in fault[1]
    right = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{DOCS_NAMESPACE}/HealthCheck"'}
    assert parse_answer(httpx.post(url, content=body, headers=right).content).success is True

    # A namespace that cannot be written into the envelope is refused when the connection is read.
    calls = len(sandbox.state.pynter.calls)
    bad = PynterHook(connect(sandbox, monkeypatch, "pynter_bad_ns", namespace='http://x/" onload="'))
    with pytest.raises(LmsInputError, match="namespace"):
        bad.get_mandatory_planning()
    assert len(sandbox.state.pynter.calls) == calls


TENANT_NAMES = {
    "GetPersonByExternalId": {"externalId": "externalIdentifier"},
    "CreatePerson": {"personCreate": "person"},
    "UpdatePerson": {"pynterPersonId": "personId", "personUpdate": "person"},
    "Qualifications": {"externalId": "employeeNumber"},
    "StartedCourses": {"externalId": "employeeNumber"},
    "CoursesOverview": {"externalId": "employeeNumber"},
}


def test_parameter_names_come_from_the_tenants_wsdl(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    # A tenant whose names differ from the assumed ones, and whose namespace is docs.pynter.nl's.
    service(sandbox, namespace=DOCS_NAMESPACE, param_names=TENANT_NAMES)
    assumed = PynterHook(connect(sandbox, monkeypatch, "pynter_assumed", namespace=DOCS_NAMESPACE))
    with pytest.raises(LmsValidationError) as refused:
        assumed.get_person("E1001")
    assert "Parameter externalIdentifier is required" in str(refused.value)

    hook = PynterHook(connect(sandbox, monkeypatch, "pynter_wsdl", param_names="wsdl"))
    # The WSDL's targetNamespace is used (no namespace extra), its names are sent: reads and the lifecycle.
    assert hook.get_person("E1001").FirstName == "Anna"
    assert [r.ModuleId for r in hook.qualifications("E1001")] == [1, 1, 2]
    created = hook.ensure_learner(
        LearnerSpec(email="wsdl@sandbox.example", first_name="Wil", last_name="Dekker", external_id="E4001")
    )
    updated = hook.ensure_learner(
        LearnerSpec(email="wsdl@sandbox.example", first_name="Willem", last_name="Dekker", external_id="E4001")
    )
    assert (created.result["action"], updated.result["action"]) == ("created", "updated")
    assert persons(sandbox)["E4001"]["FirstName"] == "Willem"
    assert state(sandbox)["wsdl_reads"] == 1, "the WSDL is read once per hook"
    # A parameter the WSDL does not list is refused before sending, not guessed.
    calls = len(sandbox.state.pynter.calls)
    with pytest.raises(LmsInputError, match=r"Qualifications\.personNumber.*it has: employeeNumber"):
        hook.call("Qualifications", personNumber="E1001")
    with pytest.raises(LmsInputError, match="not a method of the tenant's WSDL"):
        hook.call("GetCatalog")
    assert len(sandbox.state.pynter.calls) == calls

    # The triggerer's async path reads the WSDL the same way.
    async def read() -> EnrollmentState:
        fresh = PynterHook("pynter_wsdl")
        try:
            return (await fresh.aget_enrollment_state(EnrollmentRef(learner_id="E1003", course_id="3"))).state
        finally:
            await fresh.aclose()

    assert asyncio.run(read()) is EnrollmentState.IN_PROGRESS


def test_the_sandbox_serves_a_wsdl_describing_its_methods(sandbox: SandboxServer):
    from airflow_provider_lms.soap import parse_wsdl

    url = f"{sandbox.url}/pynter/service/apiservice.asmx"
    response = httpx.get(f"{url}?WSDL")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    wsdl = parse_wsdl(response.content)
    assert wsdl.target_namespace == "http://tempuri.org/"
    assert wsdl.params("UpdatePerson") == ("pynterPersonId", "personUpdate")
    assert wsdl.params("GetPersonByExternalId") == ("externalId",)
    fields = wsdl.record_fields("CreatePerson", "personCreate")
    assert fields is not None and fields[:5] == ("ExternalIdentifier", "FirstName", "Insertion", "FamilyName", "Email")
    assert "GetCatalog" not in wsdl.methods  # the sandbox describes only what it implements

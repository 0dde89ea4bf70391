"""Pynter's read-merge-write of persons, without a network: the record sent back, and a create that loses a race."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.pynter import PynterHook
from airflow_provider_lms.models.inputs import LearnerSpec
from airflow_provider_lms.models.pynter import person_differs, person_for_write
from airflow_provider_lms.soap import SOAP12_NS, TEMPURI_NS, element_to_python, parse_xml

BASE = "https://acme.pynter.test"
URL = f"{BASE}/service/apiservice.asmx"

READ = {
    "Id": "41", "ExternalIdentifier": "E9", "FirstName": "Jan", "Insertion": "van", "FamilyName": "Dijk",
    "Email": "Jan@Acme.nl", "AccountLevel": "PLANNER", "IsManager": "true", "FunctionName": "Planner",
    "ContractStartTime": "2020-01-01T00:00:00", "Blocked": "false", "CustomField": "kept", "PhoneNumber": None,
}  # fmt: skip


def test_the_record_written_back_keeps_every_field_typed_again():
    record = person_for_write(READ, {"FirstName": "Johan"})
    assert "Id" not in record and "PhoneNumber" not in record  # the id travels apart; empty values are left out
    assert record["FirstName"] == "Johan" and record["AccountLevel"] == "PLANNER"
    assert record["IsManager"] is True and record["Blocked"] is False
    assert record["ContractStartTime"] == datetime(2020, 1, 1)
    assert list(record)[:5] == ["ExternalIdentifier", "FirstName", "Insertion", "FamilyName", "Email"]
    assert list(record)[-1] == "CustomField"  # a tenant's own field, kept in the order read
    only = person_for_write(READ, {}, allowed=("Email", "ExternalIdentifier", "FirstName", "FamilyName"))
    assert list(only) == ["Email", "ExternalIdentifier", "FirstName", "FamilyName"]


@pytest.mark.parametrize(
    ("changes", "differs"),
    [
        ({"Email": "jan@acme.nl"}, False),  # case only
        ({"Blocked": False, "IsManager": True}, False),
        ({"ContractStartTime": datetime(2020, 1, 1)}, False),
        ({"Blocked": True}, True),
        ({"FamilyName": "Dijkstra"}, True),
        ({"PhoneNumber": "+31 6"}, True),
    ],
)
def test_what_counts_as_a_change(changes, differs):
    assert person_differs(READ, changes) is differs


def _answer(method: str, contents: str = "", *, success: bool = True, error: str = "") -> httpx.Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body><{method}Response xmlns="{TEMPURI_NS}"><{method}Result>'
        f"<Success>{'true' if success else 'false'}</Success><Contents>{contents}</Contents>"
        f"<Error>{error}</Error></{method}Result></{method}Response></soap:Body></soap:Envelope>"
    )
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/soap+xml"})


def _method(request: httpx.Request) -> tuple[str, dict]:
    element = parse_xml(request.content).find(f"{{{SOAP12_NS}}}Body")[0]  # type: ignore[index]
    return element.tag.rpartition("}")[2], element_to_python(element)


@respx.mock
def test_a_create_that_lost_a_race_updates_the_person_the_other_writer_made(monkeypatch: pytest.MonkeyPatch):
    conn = {"conn_type": "pynter", "login": "api", "password": "unit-pw-8841", "extra": {"base_url": BASE}}
    monkeypatch.setenv("AIRFLOW_CONN_PYN_RACE", json.dumps(conn))
    person = "<Id>41</Id><ExternalIdentifier>E9</ExternalIdentifier><FirstName>J</FirstName>" \
             "<FamilyName>Dijk</FamilyName><Email>j@acme.nl</Email><AccountLevel>PLANNER</AccountLevel>"  # fmt: skip
    answers = iter([
        _answer("GetPersonByExternalId", success=False, error="Person not found."),
        _answer("CreatePerson", success=False, error="A person with this ExternalIdentifier already exists."),
        _answer("GetPersonByExternalId", person),
        _answer("UpdatePerson"),
    ])  # fmt: skip
    route = respx.post(URL).mock(side_effect=lambda request: next(answers))
    outcome = PynterHook("pyn_race").ensure_learner(
        LearnerSpec(email="jan@acme.nl", first_name="Jan", last_name="Dijk", external_id="E9")
    )
    assert outcome.result["action"] == "updated" and outcome.result["person_id"] == 41
    method, params = _method(route.calls[3].request)
    assert method == "UpdatePerson" and params["pynterPersonId"] == "41"
    assert params["personUpdate"]["FirstName"] == "Jan" and params["personUpdate"]["AccountLevel"] == "PLANNER"

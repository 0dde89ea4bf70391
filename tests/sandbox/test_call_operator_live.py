"""LmsCallOperator over real HTTP against the sandbox: one operator for every platform's generic call.

Run as other operator tests are, through ``execute(context)`` with a stand-in task instance; templating is
shown with Airflow's own ``render_template_fields``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_lms.http.errors import LmsCapabilityError, LmsInputError
from airflow_provider_lms.http.ratelimit import _registry
from airflow_provider_lms.operators import LmsCallOperator
from airflow_provider_lms.operators.call import read_call_result
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.app import PLATFORMS
from airflow_provider_lms.sandbox.eduframe import EduframeSeed
from tests.openapi_helpers import validate_logged_eduframe_exchanges
from tests.task_context import FakeTI, ctx


def connect(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, platform: str) -> str:
    mount = next(m for m in PLATFORMS if m.name == platform)
    assert mount.connection_factory is not None
    conn = mount.connection_factory(sandbox.url)
    conn["extra"] = {**conn.get("extra", {}), "backoff_base": 0.01, "backoff_max": 0.05}
    conn_id = f"call_{platform}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def control(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{sandbox.control_url}{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response.json()


@pytest.fixture(autouse=True)
def _limits(sandbox: SandboxServer):
    _registry.clear()
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})


def test_eduframe_call_returns_json_for_xcom_and_writes_through(monkeypatch, sandbox: SandboxServer):
    conn = connect(monkeypatch, sandbox, "eduframe")
    users = LmsCallOperator(task_id="u", lms_conn_id=conn, operation="get_users", query={"per_page": 2}).execute(ctx())
    assert [u["id"] for u in users] == [1, 2, 3, 4, 5, 6]  # three pages, one list
    json.dumps(users)  # XCom-safe as it is

    order = LmsCallOperator(
        task_id="o",
        lms_conn_id=conn,
        operation="create_order",
        body={
            "catalog_variant_id": EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID,
            "creator_id": EduframeSeed.ADMIN_USER_ID,
            "student_ids": [2],
            "approve": False,
        },
    ).execute(ctx())
    assert order["status"] == "requested"
    approved = LmsCallOperator(
        task_id="a", lms_conn_id=conn, operation="approve_order_by_id", path={"id": str(order["id"])}
    ).execute(ctx())
    assert approved["status"] == "active"
    denied = LmsCallOperator(task_id="d", lms_conn_id=conn, operation="deny_order_by_id", path={"id": order["id"]})
    with pytest.raises(Exception, match="422"):
        denied.execute(ctx())  # the sandbox refuses to deny an approved order

    log = control(sandbox, "GET", "/requests")
    assert validate_logged_eduframe_exchanges(log, sandbox.url) == len(log)


def test_a_templated_eduframe_call_renders_its_fields(monkeypatch, sandbox: SandboxServer):
    conn = connect(monkeypatch, sandbox, "eduframe")
    op = LmsCallOperator(
        task_id="t",
        lms_conn_id="{{ params.conn }}",
        operation="get_{{ params.what }}",
        path={"id": "{{ params.user }}"},
    )
    context: dict[str, Any] = {"params": {"conn": conn, "what": "user_by_id", "user": 3}, "ti": FakeTI()}
    op.render_template_fields(context)
    assert (op.operation, op.path) == ("get_user_by_id", {"id": "3"})
    assert op.execute(context)["email"] == "bram.jansen@sandbox.example"


def test_a_large_eduframe_list_streams_to_a_jsonl_file_and_xcom_names_it(monkeypatch, sandbox: SandboxServer, tmp_path):
    conn = connect(monkeypatch, sandbox, "eduframe")
    control(sandbox, "POST", "/eduframe/seed_enrollments", json={"count": 2345, "planned_course_id": 3})
    target = tmp_path / "out" / "enrollments.jsonl"
    summary = LmsCallOperator(
        task_id="big",
        lms_conn_id=conn,
        operation="get_enrollments",
        query={"planned_course_id": 3},
        output_path=str(target),
    ).execute(ctx())
    assert summary == {
        "platform": "Eduframe",
        "operation": "get_enrollments",
        "count": 2345,
        "output_path": str(target),
        "format": "jsonl",
    }
    lines = target.read_text().splitlines()
    assert len(lines) == 2345 and len({json.loads(line)["id"] for line in lines}) == 2345
    assert [e["id"] for e in read_call_result(summary)][:3] == [json.loads(line)["id"] for line in lines[:3]]
    assert len(json.dumps(summary)) < 300
    requests = [e for e in control(sandbox, "GET", "/requests") if e["path"].endswith("/enrollments")]
    assert len(requests) == 24  # 2,345 records at 100 a page


def test_the_byte_limit_also_sends_a_list_to_the_default_file(monkeypatch, sandbox: SandboxServer, tmp_path):
    conn = connect(monkeypatch, sandbox, "eduframe")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    summary = LmsCallOperator(task_id="bytes", lms_conn_id=conn, operation="get_users", max_xcom_bytes=500).execute(
        ctx()
    )
    expected = tmp_path / "lms_results" / "call_dag" / "manual__2026-12-02T06_00_00_00_00" / "call.try1.jsonl"
    assert summary["output_path"] == str(expected) and summary["count"] == 6
    assert len(Path(summary["output_path"]).read_text().splitlines()) == 6


def test_pynter_call_with_parameters_and_its_large_list_to_file(monkeypatch, sandbox: SandboxServer, tmp_path):
    conn = connect(monkeypatch, sandbox, "pynter")
    answer = LmsCallOperator(task_id="p", lms_conn_id=conn, operation="GetMandatoryPlanning").execute(ctx())
    planning = answer["Planning"]
    assert len(planning) == 8 and planning[0]["ModuleCode"] == "BHV"
    json.dumps(answer)
    summary = LmsCallOperator(
        task_id="p2",
        lms_conn_id=conn,
        operation="GetMandatoryPlanning",
        max_xcom_items=5,
        output_path=str(tmp_path / "planning.jsonl"),
    ).execute(ctx())
    assert (summary["count"], summary["platform"], summary["list_at"]) == (8, "Pynter", "Planning")
    assert [json.loads(line) for line in (tmp_path / "planning.jsonl").read_text().splitlines()] == planning
    assert list(read_call_result(summary)) == list(read_call_result(answer)) == planning  # either form
    with pytest.raises(LmsInputError, match=r"query.*Pynter's generic call"):
        LmsCallOperator(task_id="p3", lms_conn_id=conn, operation="GetCatalog", query={"a": 1}).execute(ctx())


def test_lara_call_with_a_body(monkeypatch, sandbox: SandboxServer):
    conn = connect(monkeypatch, sandbox, "lara")
    answer = LmsCallOperator(task_id="l", lms_conn_id=conn, operation="cycle/getlist", body={}).execute(ctx())
    json.dumps(answer)
    cycles = answer if isinstance(answer, list) else answer.get("data") or answer.get("result")
    assert cycles, answer
    with pytest.raises(LmsInputError, match="path"):
        LmsCallOperator(task_id="l2", lms_conn_id=conn, operation="cycle/getlist", path={"id": 1}).execute(ctx())


def test_pluvo_query_with_variables(monkeypatch, sandbox: SandboxServer, tmp_path):
    conn = connect(monkeypatch, sandbox, "pluvo")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    document = "query Users($first: Int) { paginatedUsers(first: $first) { edges { node { id email } } } }"
    data = LmsCallOperator(task_id="q", lms_conn_id=conn, operation=document, variables={"first": 2}).execute(ctx())
    edges = data["paginatedUsers"]["edges"]
    assert len(edges) == 2 and all("@" in e["node"]["email"] for e in edges)
    summary = LmsCallOperator(
        task_id="q3", lms_conn_id=conn, operation=document, variables={"first": 3}, max_xcom_items=2
    ).execute(ctx())
    assert (summary["count"], summary["list_at"]) == (3, "paginatedUsers.edges")
    assert [e["node"]["id"] for e in read_call_result(summary)][:2] == [e["node"]["id"] for e in edges]
    with pytest.raises(LmsInputError, match="query"):
        LmsCallOperator(task_id="q2", lms_conn_id=conn, operation="query { users( }").execute(ctx())


def test_anewspring_is_refused_clearly(monkeypatch, sandbox: SandboxServer):
    conn = connect(monkeypatch, sandbox, "anewspring")
    with pytest.raises(LmsCapabilityError, match="aNewSpring has no generic call"):
        LmsCallOperator(task_id="n", lms_conn_id=conn, operation="getUser").execute(ctx())
    with pytest.raises(LmsCapabilityError, match="aNewSpring has no generic call"):
        LmsCallOperator(task_id="n", lms_conn_id=conn, operation="getUser", body={"a": 1}).execute(ctx())
    assert control(sandbox, "GET", "/requests") == []

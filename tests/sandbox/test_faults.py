"""Fault injection as an httpx client experiences it, and whether the platform processed the request.

The split matters for a client's retry safety: 429/5xx are answered before the platform sees the request
(a retry is safe), ``drop``/``timeout``/``truncate``/``notjson`` after it processed it (a blind retry of
a POST would order twice).
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY, EduframeSeed

ORDER = {
    "catalog_variant_id": EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID,
    "creator_id": EduframeSeed.ADMIN_USER_ID,
    "student_ids": [EduframeSeed.LEARNER_IDS[0]],
    "approve": True,
}


def _faults(control: httpx.Client, **config: object) -> None:
    response = control.put("/faults", json=config)
    assert response.status_code == 200, response.text


def _orders(control: httpx.Client) -> list[dict]:
    return control.get("/eduframe/state").json()["orders"]


def _injected(control: httpx.Client) -> dict[str, int]:
    return control.get("/faults").json()["injected"]


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "504"])
def test_error_statuses_are_answered_without_processing_the_request(
    eduframe: httpx.Client, control: httpx.Client, kind: str
) -> None:
    _faults(control, fault_rate=1.0, kinds=[kind])
    response = eduframe.post("/orders", json=ORDER)

    assert response.status_code == int(kind)
    body = response.json()
    assert body["code"] == int(kind) and body["errors"] == {} and body["message"]
    if kind == "429":
        assert response.headers["Retry-After"] == "1"
    assert _orders(control) == []  # not processed: safe to retry
    assert _injected(control)[kind] == 1


def test_drop_processes_the_request_then_cuts_the_connection(eduframe: httpx.Client, control: httpx.Client) -> None:
    _faults(control, fault_rate=1.0, kinds=["drop"])
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        eduframe.post("/orders", json=ORDER)
    # The order exists although the client never saw the answer: exactly why it must look before retrying.
    assert len(_orders(control)) == 1
    assert _injected(control)["drop"] == 1

    control.delete("/faults").raise_for_status()
    assert eduframe.get("/orders").status_code == 200  # the client recovers on a new connection


def test_timeout_processes_the_request_then_holds_the_answer(
    sandbox: SandboxServer, eduframe: httpx.Client, control: httpx.Client
) -> None:
    _faults(control, fault_rate=1.0, kinds=["timeout"], timeout_sleep_s=5)
    with pytest.raises(httpx.ReadTimeout):
        eduframe.post("/orders", json=ORDER, timeout=httpx.Timeout(5.0, read=0.3))
    assert len(_orders(control)) == 1

    # With a short hold the answer does arrive, late.
    _faults(control, fault_rate=1.0, kinds=["timeout"], timeout_sleep_s=0.3)
    started = time.monotonic()
    response = eduframe.get("/educators/current")
    assert response.status_code == 200 and time.monotonic() - started >= 0.3


def test_truncate_cuts_the_body_in_half(eduframe: httpx.Client, control: httpx.Client) -> None:
    full = eduframe.get("/users").content
    _faults(control, fault_rate=1.0, kinds=["truncate"])
    response = eduframe.post("/orders", json=ORDER)
    assert response.status_code == 201
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert len(_orders(control)) == 1

    cut = eduframe.get("/users").content
    assert cut == full[: len(full) // 2]


def test_notjson_answers_an_html_page_with_status_200(eduframe: httpx.Client, control: httpx.Client) -> None:
    _faults(control, fault_rate=1.0, kinds=["notjson"])
    response = eduframe.post("/orders", json=ORDER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith("<!doctype html>")
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert len(_orders(control)) == 1


def test_latency_is_added_to_every_platform_request(eduframe: httpx.Client, control: httpx.Client) -> None:
    _faults(control, latency_ms=200)
    started = time.monotonic()
    assert eduframe.get("/educators/current").status_code == 200
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    assert control.get("/faults").status_code == 200  # the control API is never slowed down
    assert time.monotonic() - started < 0.2


def test_path_prefix_limits_faults_and_control_api_stays_reachable(
    eduframe: httpx.Client, control: httpx.Client
) -> None:
    _faults(control, fault_rate=1.0, kinds=["503"], path_prefix="/eduframe/api/v1/orders")
    assert eduframe.get("/users").status_code == 200
    assert eduframe.get("/orders").status_code == 503
    assert control.get("/eduframe/state").status_code == 200


def test_max_faults_fails_a_few_times_then_lets_requests_through(eduframe: httpx.Client, control: httpx.Client) -> None:
    _faults(control, fault_rate=1.0, kinds=["503"], max_faults=2)
    statuses = [eduframe.get("/educators/current").status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    faults = control.get("/faults").json()
    assert faults["injected_total"] == 2 and faults["max_faults"] == 2


def test_same_seed_gives_the_same_faults(eduframe: httpx.Client, control: httpx.Client) -> None:
    def run() -> list[int]:
        _faults(control, fault_rate=0.5, kinds=["500", "503"], seed=1234)
        return [eduframe.get("/educators/current").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert {200, 500, 503} <= set(first)


def test_delete_faults_switches_off_but_keeps_counts(eduframe: httpx.Client, control: httpx.Client) -> None:
    _faults(control, fault_rate=1.0, kinds=["502"])
    eduframe.get("/users")
    after_delete = control.delete("/faults").json()
    assert after_delete["fault_rate"] == 0 and after_delete["injected"]["502"] == 1
    assert eduframe.get("/users").status_code == 200


def test_invalid_fault_config_is_rejected(control: httpx.Client) -> None:
    assert control.put("/faults", json={"fault_rate": 2}).status_code == 422
    assert control.put("/faults", json={"fault_rate": 0.5, "kinds": ["teapot"]}).status_code == 422
    assert control.put("/faults", json={"fault_rate": 0.5}).status_code == 422  # no kinds to pick from


# -- request log -------------------------------------------------------------------------------------


def test_request_log_records_requests_but_never_credentials(
    sandbox: SandboxServer, eduframe: httpx.Client, control: httpx.Client
) -> None:
    eduframe.post("/orders", json=ORDER)
    eduframe.get("/enrollments", params={"student_id": 2, "status": ["confirmed", "active"]})
    httpx.get(f"{sandbox.platform_url('eduframe')}/users", params={"_key": "query-secret"})  # a key in the query string
    _faults(control, fault_rate=1.0, kinds=["503"])
    eduframe.post("/users", json={"email": "f@sandbox.example", "first_name": "F", "last_name": "F"})
    control.get("/eduframe/state")  # control calls are not logged

    log = control.get("/requests")
    entries = log.json()
    assert log.headers["X-Sandbox-Log-Evicted"] == "0"
    assert [(e["method"], e["path"], e["status"], e["fault"]) for e in entries] == [
        ("POST", "/eduframe/api/v1/orders", 201, None),
        ("GET", "/eduframe/api/v1/enrollments", 200, None),
        ("GET", "/eduframe/api/v1/users", 401, None),
        ("POST", "/eduframe/api/v1/users", 503, "503"),
    ]
    assert entries[0]["json"] == ORDER and entries[0]["content_type"] == "application/json"
    assert entries[0]["response_content_type"] == "application/json"
    assert json.loads(entries[0]["response_body"])["order_items"][0]["student_id"] == ORDER["student_ids"][0]
    assert entries[1]["query"] == "student_id=2&status=confirmed&status=active"
    assert "query-secret" not in entries[2]["query"]
    assert entries[3]["json"]["email"] == "f@sandbox.example"  # logged although never processed
    assert EDUFRAME_SANDBOX_API_KEY not in log.text
    assert all("authorization" not in (key.lower() for key in entry) and "headers" not in entry for entry in entries)

    assert [e["path"] for e in control.get("/requests", params={"method": "post"}).json()] == [
        "/eduframe/api/v1/orders",
        "/eduframe/api/v1/users",
    ]
    control.delete("/requests").raise_for_status()
    assert control.get("/requests").json() == []

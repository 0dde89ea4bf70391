"""Every Eduframe endpoint the sandbox serves answers as ``eduframe-openapi-v1.json`` says.

One walk through all routes (success and error answers), each exchange validated with openapi-core:
the request against the published document, the response (status, headers, body) against the relaxed
copy. A last check makes sure the walk covered every route the sandbox registers, so a route added later
without a conformance call fails here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_PREFIX, EduframeSeed
from airflow_provider_lms.specs import load_eduframe_openapi
from tests.openapi_helpers import validate_eduframe_exchange


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


class Walker:
    """Calls endpoints by their path template, validates each exchange and remembers what it covered."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.covered: set[tuple[str, str]] = set()

    def call(
        self,
        method: str,
        template: str,
        *,
        expect: int,
        validate_request: bool = True,
        path_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        url = template.format(**(path_params or {}))
        response = self.client.request(method, url, **kwargs)
        assert response.status_code == expect, f"{method} {url}: {response.status_code} {response.text}"
        validate_eduframe_exchange(response.request, response, validate_request=validate_request)
        self.covered.add((method, _shape(template)))
        return response


def test_every_endpoint_conforms_to_the_openapi_document(sandbox: SandboxServer, eduframe: httpx.Client) -> None:
    w = Walker(eduframe)
    learner = EduframeSeed.LEARNER_IDS[0]

    w.call("GET", "/educators/current", expect=200)

    # users
    w.call("GET", "/users", expect=200, params={"per_page": 2})
    w.call("GET", "/users", expect=200, params={"email": EduframeSeed.ADMIN_EMAIL})
    created = w.call(
        "POST",
        "/users",
        expect=201,
        json={"email": "conform@sandbox.example", "first_name": "Con", "last_name": "Form", "locale": "nl"},
    ).json()
    w.call(
        "POST",
        "/users",
        expect=422,
        json={"email": "CONFORM@sandbox.example", "first_name": "Dup", "last_name": "Licate"},
    )
    w.call("GET", "/users/{id}", expect=200, path_params={"id": created["id"]})
    w.call("GET", "/users/{id}", expect=404, path_params={"id": 99999})
    w.call(
        "PATCH",
        "/users/{id}",
        expect=200,
        path_params={"id": created["id"]},
        json={
            "middle_name": "van",
            "address_attributes": {"address": "Kade 1", "postal_code": "1011 AA", "city": "Amsterdam", "country": "NL"},
        },
    )

    # planned courses and catalog
    w.call("GET", "/planned_courses", expect=200, params={"status": ["planned", "active"], "course_id": [1, 2]})
    w.call("GET", "/planned_courses/{id}", expect=200, path_params={"id": 1})
    w.call("PATCH", "/planned_courses/{id}", expect=200, path_params={"id": 2}, json={"max_participants": 14})
    w.call("GET", "/catalog/variants", expect=200, params={"variantable_type": "planned_course", "variantable_id": 1})
    w.call("GET", "/catalog/variants/{id}", expect=200, path_params={"id": EduframeSeed.PROGRAM_VARIANT_ID})

    # orders create enrollments and program enrollments
    order = w.call(
        "POST",
        "/orders",
        expect=201,
        json={
            "catalog_variant_id": EduframeSeed.PROGRAM_VARIANT_ID,
            "creator_id": EduframeSeed.ADMIN_USER_ID,
            "student_ids": [learner],
            "approve": True,
        },
    ).json()
    w.call("POST", "/orders", expect=422, json={"catalog_variant_id": 999, "creator_id": 1, "student_ids": [learner]})
    w.call("GET", "/orders", expect=200, params={"creator_id": EduframeSeed.ADMIN_USER_ID})
    w.call("GET", "/orders/{id}", expect=200, path_params={"id": order["id"]})

    enrollments = w.call(
        "GET", "/enrollments", expect=200, params={"student_id": learner, "status": ["confirmed", "active"]}
    ).json()
    enrollment_id = enrollments[0]["id"]
    w.call("GET", "/enrollments/{id}", expect=200, path_params={"id": enrollment_id})
    w.call("PATCH", "/enrollments/{id}", expect=200, path_params={"id": enrollment_id}, json={"end_date": "2099-01-01"})

    # grades
    grade = w.call(
        "POST",
        "/grades",
        expect=201,
        json={"grade": None, "score": 8.5, "gradeable_id": enrollment_id, "gradeable_type": "Enrollment"},
    ).json()
    w.call(
        "POST",
        "/grades",
        expect=422,
        json={"grade": "A", "score": None, "gradeable_id": enrollment_id, "gradeable_type": "Enrollment"},
    )
    w.call("GET", "/grades/{id}", expect=200, path_params={"id": grade["id"]})
    w.call("PATCH", "/grades/{id}", expect=200, path_params={"id": grade["id"]}, json={"comment": "well done"})
    w.call("GET", "/enrollments/{id}", expect=200, path_params={"id": enrollment_id})  # embedded grade
    w.call("DELETE", "/grades/{id}", expect=204, path_params={"id": grade["id"]})

    # program enrollments
    program_enrollment = w.call("GET", "/program/enrollments", expect=200, params={"student_id": learner}).json()[0]
    pe = {"id": program_enrollment["id"]}
    w.call("GET", "/program/enrollments/{id}", expect=200, path_params=pe)
    body = {"certificate_template_id": EduframeSeed.CERTIFICATE_TEMPLATE_ID}
    w.call("PUT", "/program/enrollments/{id}/award_certificate", expect=200, path_params=pe, json=body)
    w.call(
        "PUT",
        "/program/enrollments/{id}/award_certificate",
        expect=422,
        path_params=pe,
        json={"certificate_template_id": 9},
    )
    w.call("POST", "/program/enrollments/{id}/delete_certificate", expect=200, path_params=pe)
    w.call("PUT", "/program/enrollments/{id}/cancel", expect=200, path_params=pe)
    w.call("PUT", "/enrollments/{id}/cancel", expect=200, path_params={"id": enrollment_id})
    # revoke and withdraw: a certificate no longer there, records that do not exist, a cancel repeated
    w.call("POST", "/program/enrollments/{id}/delete_certificate", expect=422, path_params=pe)
    w.call("POST", "/program/enrollments/{id}/delete_certificate", expect=404, path_params={"id": 99999})
    w.call("PUT", "/enrollments/{id}/cancel", expect=200, path_params={"id": enrollment_id})
    w.call("PUT", "/enrollments/{id}/cancel", expect=404, path_params={"id": 99999})
    w.call("PATCH", "/users/{id}", expect=200, path_params={"id": created["id"]}, json={"first_name": "Conny"})
    w.call("PATCH", "/users/{id}", expect=422, path_params={"id": created["id"]}, json={"last_name": " "})
    w.call("PATCH", "/users/{id}", expect=404, path_params={"id": 99999}, json={"first_name": "Nobody"})

    # credits and webhooks
    w.call("GET", "/credits", expect=200, params={"student_id": learner})
    hook = w.call(
        "POST", "/webhooks", expect=201, json={"url": "https://hooks.example/lms", "events": ["enrollment.updated"]}
    ).json()
    w.call("GET", "/webhooks", expect=200)
    w.call("GET", "/webhooks/{id}", expect=200, path_params={"id": hook["id"]})
    w.call("PATCH", "/webhooks/{id}", expect=200, path_params={"id": hook["id"]}, json={"active": False})
    w.call("DELETE", "/webhooks/{id}", expect=200, path_params={"id": hook["id"]})
    w.call("GET", "/webhooks/{id}", expect=404, path_params={"id": hook["id"]})

    # admin operations (sandbox/eduframe/admin_routes.py): orders placed with approve=false, meetings,
    # attendance, credit categories, webhook notifications
    unapproved = {
        "catalog_variant_id": EduframeSeed.WORKPLACE_SAFETY_VARIANT_ID,
        "creator_id": EduframeSeed.ADMIN_USER_ID,
        "approve": False,
    }
    to_approve = w.call("POST", "/orders", expect=201, json={**unapproved, "student_ids": [3]}).json()
    to_deny = w.call("POST", "/orders", expect=201, json={**unapproved, "student_ids": [4]}).json()
    w.call("PUT", "/orders/{id}/approve", expect=200, path_params={"id": to_approve["id"]})
    w.call("PUT", "/orders/{id}/deny", expect=422, path_params={"id": to_approve["id"]})
    w.call("PUT", "/orders/{id}/deny", expect=204, path_params={"id": to_deny["id"]})
    w.call("PUT", "/orders/{id}/approve", expect=422, path_params={"id": to_deny["id"]})
    w.call("PUT", "/orders/{id}/cancel", expect=422, path_params={"id": to_deny["id"]})
    w.call("PUT", "/orders/{id}/approve", expect=404, path_params={"id": 99999})
    w.call("GET", "/meetings", expect=200, params={"planned_course_id": 1, "per_page": 1})
    w.call("GET", "/meetings", expect=200, params={"start": "2000-01-01T00:00:00Z", "end": "2999-01-01T00:00:00Z"})
    w.call("GET", "/meetings/{id}", expect=200, path_params={"id": 1})
    w.call("GET", "/meetings/{id}", expect=404, path_params={"id": 99999})
    w.call("GET", "/planned_courses/{id}/meetings", expect=200, path_params={"id": 1}, params={"sort": "name:desc"})
    w.call("GET", "/planned_courses/{id}/meetings", expect=404, path_params={"id": 99999})
    attending = w.call("GET", "/enrollments", expect=200, params={"student_id": 3, "planned_course_id": 1}).json()[0]
    mark = {"meeting_id": 1, "enrollment_id": attending["id"], "state": "attended"}
    w.call("POST", "/attendances/upsert", expect=200, json=mark)
    w.call("POST", "/attendances/upsert", expect=200, json={**mark, "state": "late", "comment": "train delay"})
    w.call("POST", "/attendances/upsert", expect=422, json={**mark, "meeting_id": 3})
    w.call("GET", "/attendances", expect=200, params={"meeting_id": 1})
    w.call("GET", "/credit_categories", expect=200, params={"per_page": 1})
    w.call("PUT", "/orders/{id}/cancel", expect=200, path_params={"id": to_approve["id"]})
    hook = w.call("POST", "/webhooks", expect=201, json={"url": "https://hooks.example/n", "events": ["order.created"]})
    hook_id = hook.json()["id"]
    seed = f"{sandbox.control_url}/eduframe/webhooks/{hook_id}/notifications"
    httpx.post(seed, json={"status": "failed", "count": 3}).raise_for_status()
    httpx.post(seed, json={"status": "succeeded"}).raise_for_status()
    w.call("GET", "/webhooks/{id}/notifications", expect=200, path_params={"id": hook_id})
    failed = "/webhooks/{id}/notifications/failed"
    w.call("GET", failed, expect=200, path_params={"id": hook_id}, params={"per_page": 2})
    w.call("GET", "/webhooks/{id}/notifications/failed", expect=404, path_params={"id": "no-such-hook"})

    # error answers that are deliberately bad requests (so only the response is validated)
    w.call("GET", "/users", expect=401, validate_request=False, headers={"Authorization": "Bearer wrong"})
    w.call("GET", "/users", expect=400, validate_request=False, params={"per_page": 0})
    w.call("POST", "/users", expect=422, validate_request=False, json={"email": "x@sandbox.example"})

    eduframe_routes = {
        (method, _shape(route.path.removeprefix(EDUFRAME_PREFIX)))
        for route in sandbox.app.routes
        if isinstance(route, APIRoute) and route.path.startswith(EDUFRAME_PREFIX)
        for method in route.methods
    }
    assert eduframe_routes - w.covered == set(), "routes without a conformance call"


def test_sandbox_serves_only_documented_operations(sandbox: SandboxServer) -> None:
    spec_operations = {
        (method.upper(), _shape(path))
        for path, item in load_eduframe_openapi()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    served = {
        (method, _shape(route.path.removeprefix(EDUFRAME_PREFIX)))
        for route in sandbox.app.routes
        if isinstance(route, APIRoute) and route.path.startswith(EDUFRAME_PREFIX)
        for method in route.methods
    }
    assert served - spec_operations == set()


def test_rate_limited_answer_conforms(sandbox: SandboxServer, eduframe: httpx.Client, control: httpx.Client) -> None:
    control.put("/eduframe/rate_limit", json={"max_requests": 1, "per_seconds": 60}).raise_for_status()
    assert eduframe.get("/educators/current").status_code == 200
    limited = eduframe.get("/educators/current")
    assert limited.status_code == 429
    validate_eduframe_exchange(limited.request, limited)


@pytest.mark.parametrize("path", ["/users/abc", "/no/such/path"])
def test_not_found_answers_conform(eduframe: httpx.Client, path: str) -> None:
    response = eduframe.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == 404
    if path == "/users/abc":  # only documented paths can be validated
        validate_eduframe_exchange(response.request, response, validate_request=False)


def test_exchanges_replayed_from_the_request_log_validate(
    sandbox: SandboxServer, eduframe: httpx.Client, control: httpx.Client
) -> None:
    """The log keeps enough of each exchange (request body, status, answer) to validate it afterwards."""
    eduframe.post("/users", json={"email": "log@sandbox.example", "first_name": "Log", "last_name": "Ged"})
    eduframe.get("/users", params={"email": "log@sandbox.example"})
    eduframe.delete("/grades/12345")
    entries = control.get("/requests").json()
    assert [e["status"] for e in entries] == [201, 200, 404]
    for entry in entries:
        url = f"{sandbox.url}{entry['path']}" + (f"?{entry['query']}" if entry["query"] else "")
        headers = {"Authorization": "Bearer from-the-log"}
        content = None
        if entry["json"] is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(entry["json"]).encode()
        request = httpx.Request(entry["method"], url, headers=headers, content=content)
        response = httpx.Response(
            entry["status"],
            headers={"Content-Type": entry["response_content_type"]},
            content=entry["response_body"].encode(),
            request=request,
        )
        validate_eduframe_exchange(request, response)

"""EduframeHook.call() and the typed admin methods over real HTTP against the sandbox.

Every exchange is afterwards replayed from the sandbox's request log and validated against
eduframe-openapi-v1.json, so what call() sends is held to the published document, not to our sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.hooks.eduframe_openapi import eduframe_operations
from airflow_provider_lms.http import BulkRunner, ItemStatus, LmsNotFoundError, LmsValidationError
from airflow_provider_lms.http.ratelimit import _registry
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY, EduframeSeed
from tests.openapi_helpers import validate_logged_eduframe_exchanges

S = EduframeSeed


def control(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.request(method, f"{sandbox.control_url}{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response


@pytest.fixture
def hook(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EduframeHook]:
    _registry.clear()
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    monkeypatch.setenv(
        "AIRFLOW_CONN_EDU_CALL",
        json.dumps(
            {
                "conn_type": "eduframe",
                "password": EDUFRAME_SANDBOX_API_KEY,
                "extra": {"base_url": sandbox.platform_url("eduframe"), "backoff_base": 0.02},
            }
        ),
    )
    h = EduframeHook("edu_call")
    yield h
    h.close()


class Recorder:
    """Calls through ``hook.call`` and remembers which operations (and tags) were exercised."""

    def __init__(self, hook: EduframeHook) -> None:
        self.hook = hook
        self.called: set[str] = set()

    def __call__(self, operation: str, **kwargs: Any) -> Any:
        answer = self.hook.call(operation, **kwargs)
        self.called.add(operation)
        return answer

    def tags(self) -> set[str]:
        ops = eduframe_operations().operations
        return {tag for name in self.called for tag in ops[name].tags}


def test_call_reaches_operations_of_every_served_tag_and_each_request_matches_the_document(
    hook: EduframeHook, sandbox: SandboxServer
):
    call = Recorder(hook)
    assert call("get_current_educator")["name"] == "Sandbox Academy"

    # users
    created = call("create_user", body={"email": "call@sandbox.example", "first_name": "Cal", "last_name": "L"})
    assert call("get_user_by_id", path={"id": created["id"]})["email"] == "call@sandbox.example"
    assert (
        call("update_user_by_id", path={"id": str(created["id"])}, body={"middle_name": "van"})["middle_name"] == "van"
    )
    assert [u["id"] for u in call("get_users", query={"email": "call@sandbox.example"})] == [created["id"]]

    # courses and catalog
    planned = call("get_planned_courses", query={"status": ["planned"], "course_id": [1, 2]})
    assert [p["id"] for p in planned] == [1, 2]
    assert call("get_planned_course_by_id", path={"id": 1})["course_id"] == 1
    call("update_planned_course_by_id", path={"id": 2}, body={"max_participants": 15})
    variants = call("get_catalog_variants", query={"variantable_type": "planned_course", "variantable_id": 1})
    assert [v["id"] for v in variants] == [S.WORKPLACE_SAFETY_VARIANT_ID]
    assert (
        call("get_catalog_variant_by_id", path={"id": S.PROGRAM_VARIANT_ID})["variantable_type"] == "Program::Edition"
    )

    # an order placed with approve=false, then approved through call()
    order = call(
        "create_order",
        body={
            "catalog_variant_id": S.WORKPLACE_SAFETY_VARIANT_ID,
            "creator_id": S.ADMIN_USER_ID,
            "student_ids": [created["id"]],
            "approve": False,
        },
    )
    assert order["status"] == "requested"
    assert call("approve_order_by_id", path={"id": order["id"]})["status"] == "active"
    assert call("get_order_by_id", path={"id": order["id"]})["status"] == "active"
    assert order["id"] in [o["id"] for o in call("get_orders", query={"creator_id": S.ADMIN_USER_ID})]

    # enrollments and grades
    enrollment = call("get_enrollments", query={"student_id": created["id"], "with_canceled": False})[0]
    assert call("get_enrollment_by_id", path={"id": enrollment["id"]})["planned_course_id"] == 1
    call("update_enrollment_by_id", path={"id": enrollment["id"]}, body={"end_date": "2099-01-01"})
    grade = call(
        "create_grade",
        body={"grade": None, "score": 7.5, "gradeable_id": enrollment["id"], "gradeable_type": "Enrollment"},
    )
    assert call("get_grade_by_id", path={"id": grade["id"]})["score"] == "7.5"
    call("update_grade_by_id", path={"id": grade["id"]}, body={"comment": "ok"})
    assert call("delete_grade_by_id", path={"id": grade["id"]}) is None  # 204: no body

    # meetings and attendance
    meetings = call("get_meetings", query={"planned_course_id": 1})
    assert [m["id"] for m in meetings] == [1, 2]
    assert call("get_meeting_by_id", path={"id": 1})["name"] == "Day 1"
    ordered = call("get_meetings_by_planned_course_id", path={"planned_course_id": 1}, query={"sort": ["name:desc"]})
    assert [m["name"] for m in ordered] == ["Day 2", "Day 1"]
    mark = {"meeting_id": 1, "enrollment_id": enrollment["id"], "state": "attended"}
    assert call("set_attendance", body=mark)["state"] == "attended"
    assert [a["state"] for a in call("get_attendances", query={"meeting_id": 1})] == ["attended"]

    # program enrollments and certificates
    call(
        "create_order",
        body={
            "catalog_variant_id": S.PROGRAM_VARIANT_ID,
            "creator_id": S.ADMIN_USER_ID,
            "student_ids": [created["id"]],
        },
    )
    pe = call("get_program_enrollments", query={"student_id": created["id"]})[0]
    template = {"certificate_template_id": S.CERTIFICATE_TEMPLATE_ID}
    call("award_certificate_to_program_enrollment_by_id", path={"id": pe["id"]}, body=template)
    call("delete_certificate_from_program_enrollment_by_id", path={"id": pe["id"]})
    assert call("cancel_program_enrollment_by_id", path={"id": pe["id"]})["state"] == "canceled"
    assert call("get_program_enrollment_by_id", path={"id": pe["id"]})["state"] == "canceled"

    # credits, credit categories, webhooks and their notifications
    assert sum(float(c["credits"]) for c in call("get_credits", query={"student_id": 2})) == pytest.approx(3.5)
    assert [c["name"] for c in call("get_credit_categories")] == ["Accreditation points", "Continuing education"]
    webhook = call("create_webhook", body={"url": "https://hooks.example/call", "events": ["order.created"]})
    assert call("get_webhook_by_id", path={"id": webhook["id"]})["url"] == "https://hooks.example/call"
    call("update_webhook_by_id", path={"id": webhook["id"]}, body={"active": False})
    control(sandbox, "POST", f"/eduframe/webhooks/{webhook['id']}/notifications", json={"count": 2})
    assert len(call("get_webhook_notifications_by_webhook_id", path={"webhook_id": webhook["id"]})) == 2
    assert len(call("get_webhook_notifications_failed", path={"webhook_id": webhook["id"]})) == 2
    assert [w["id"] for w in call("get_webhooks")] == [webhook["id"]]
    call("delete_webhook_by_id", path={"id": webhook["id"]})
    assert call("cancel_enrollment_by_id", path={"id": enrollment["id"]})["status"] == "canceled"

    assert len(call.called) >= 40
    assert len(call.tags()) >= 14  # every tag the sandbox serves
    log = control(sandbox, "GET", "/requests").json()
    eduframe_calls = [e for e in log if e["path"].startswith("/eduframe/")]
    assert validate_logged_eduframe_exchanges(log, sandbox.url) == len(eduframe_calls) >= 40


def test_a_list_is_paged_through_link_across_several_pages(hook: EduframeHook, sandbox: SandboxServer):
    for i in range(9):
        hook.call("create_user", body={"email": f"page{i}@sandbox.example", "first_name": "P", "last_name": str(i)})
    users = hook.call("get_users", query={"per_page": 4})
    assert len(users) == 6 + 9 and len({u["id"] for u in users}) == 15
    lazily = hook.iter_call("get_users", query={"per_page": 4})
    assert next(lazily)["id"] == 1  # the first page only, so far
    pages = list(hook.iter_call_pages("get_users", query={"per_page": 4}))
    assert [len(p) for p in pages] == [4, 4, 4, 3]
    log = control(sandbox, "GET", "/requests").json()
    listed = [e for e in log if e["path"].endswith("/users") and e["method"] == "GET"]
    assert len(listed) == 4 + 1 + 4 and all("per_page=4" in e["query"] for e in listed)
    assert validate_logged_eduframe_exchanges(log, sandbox.url) == len(log)


def test_orders_approve_deny_cancel_are_idempotent_and_refuse_what_cannot_be(
    hook: EduframeHook, sandbox: SandboxServer
):
    def unapproved(student: int) -> int:
        body = {
            "catalog_variant_id": S.FIRST_AID_VARIANT_ID,
            "creator_id": S.ADMIN_USER_ID,
            "student_ids": [student],
            "approve": False,
        }
        return int(hook.call("create_order", body=body)["id"])

    to_approve, to_deny, to_cancel = unapproved(2), unapproved(3), unapproved(4)
    assert hook.get_order_record(to_approve).status == "requested"

    assert hook.approve_order(to_approve).status is ItemStatus.DONE
    assert hook.approve_order(to_approve).status is ItemStatus.ALREADY_DONE
    assert hook.deny_order(to_deny).status is ItemStatus.DONE
    again = hook.deny_order(to_deny)
    assert again.status is ItemStatus.ALREADY_DONE and again.result == {"order_id": str(to_deny), "status": "denied"}
    assert hook.cancel_order(to_cancel).status is ItemStatus.DONE
    assert hook.cancel_order(to_cancel).status is ItemStatus.ALREADY_DONE
    assert hook.cancel_order(to_approve).result["status"] == "canceled"  # an approved order can be canceled

    with pytest.raises(LmsValidationError, match="denied"):
        hook.approve_order(to_deny)
    with pytest.raises(LmsValidationError, match="denied"):
        hook.cancel_order(to_deny)
    with pytest.raises(LmsNotFoundError):
        hook.approve_order(99999)

    statuses = {o.id: o.status for o in hook.list_order_records(creator_id=S.ADMIN_USER_ID)}
    assert statuses == {to_approve: "canceled", to_deny: "denied", to_cancel: "canceled"}
    # The denied and canceled orders took their enrollments with them.
    enrollments = hook.call("get_enrollments", query={"planned_course_id": 2})
    assert {e["student_id"]: e["status"] for e in enrollments} == {2: "canceled", 3: "canceled", 4: "canceled"}
    log = control(sandbox, "GET", "/requests").json()
    writes = [e for e in log if e["method"] == "PUT"]
    assert len(writes) == 4  # approve, deny, cancel, cancel: every re-run only looked
    assert validate_logged_eduframe_exchanges(log, sandbox.url) == len(log)


def test_webhooks_update_delete_and_failed_notifications(hook: EduframeHook, sandbox: SandboxServer):
    created = hook.create_webhook("https://hooks.example/admin", ["enrollment.updated"])
    assert hook.update_webhook(created.id, active=False).status is ItemStatus.DONE
    assert hook.update_webhook(created.id, active=False).status is ItemStatus.ALREADY_DONE
    changed = hook.update_webhook(created.id, events=["enrollment.updated", "order.created"])
    assert changed.result["changed"] == ["events"]
    assert hook.get_webhook_record(created.id)["events"] == ["enrollment.updated", "order.created"]

    seed = f"/eduframe/webhooks/{created.id}/notifications"
    control(sandbox, "POST", seed, json={"status": "failed", "count": 3, "event": "order.created"})
    control(sandbox, "POST", seed, json={"status": "succeeded", "count": 2})
    everything = hook.list_webhook_notifications(created.id)
    assert sorted(n.status for n in everything) == ["failed"] * 3 + ["succeeded"] * 2
    failed = hook.list_failed_webhook_notifications(created.id, start="2000-01-01T00:00:00Z")
    assert len(failed) == 3 and {n.webhook_id for n in failed} == {created.id}
    assert all(n.data["event"] == "order.created" for n in failed)  # what a DAG would process itself
    assert hook.list_failed_webhook_notifications(created.id, end="2000-01-01T00:00:00Z") == []

    assert hook.delete_webhook(created.id).status is ItemStatus.DONE
    assert hook.delete_webhook(created.id).status is ItemStatus.ALREADY_DONE
    assert list(hook.list_webhooks()) == []
    log = control(sandbox, "GET", "/requests").json()
    assert [e["method"] for e in log].count("PATCH") == 2 and [e["method"] for e in log].count("DELETE") == 1
    assert validate_logged_eduframe_exchanges(log, sandbox.url) == len(log)


def test_meetings_attendance_and_credit_categories(hook: EduframeHook, sandbox: SandboxServer):
    learner = S.LEARNER_IDS[0]
    hook.subscribe_learner("1", str(learner))
    enrollment = hook.find_enrollment(learner, 1)
    assert enrollment is not None

    meetings = hook.list_meetings(planned_course_id=1)
    assert [m.name for m in meetings] == ["Day 1", "Day 2"]
    assert [m.id for m in hook.list_meetings()] == [1, 2, 3]
    window = hook.list_meetings(start=meetings[1].start_date_time)
    assert [m.id for m in window] == [2, 3]
    assert hook.get_meeting(3).planned_course_id == 2
    first_last = hook.list_planned_course_meetings(1, sort=["start_date_time:desc"])
    assert [m.id for m in first_last] == [2, 1]

    assert hook.set_attendance(1, enrollment.id, "attended").status is ItemStatus.DONE
    assert hook.set_attendance(1, enrollment.id, "attended").status is ItemStatus.ALREADY_DONE
    assert hook.set_attendance(2, enrollment.id, "late", comment="train").status is ItemStatus.DONE
    assert hook.set_attendance(2, enrollment.id, "absent").status is ItemStatus.DONE
    assert {a.meeting_id: a.state for a in hook.list_attendances()} == {1: "attended", 2: "absent"}
    with pytest.raises(LmsValidationError):
        hook.set_attendance(3, enrollment.id, "attended")  # meeting 3 belongs to another course

    categories = hook.list_credit_categories()
    assert [(c.name, [t.name for t in c.types]) for c in categories] == [
        ("Accreditation points", ["CPD points", "Ethics points"]),
        ("Continuing education", ["Hours"]),
    ]
    log = control(sandbox, "GET", "/requests").json()
    assert validate_logged_eduframe_exchanges(log, sandbox.url) == len(log)


def test_approvals_and_attendance_survive_a_30_percent_fault_storm_each_item_done_once(
    hook: EduframeHook, sandbox: SandboxServer
):
    body = {"catalog_variant_id": S.FIRST_AID_VARIANT_ID, "creator_id": S.ADMIN_USER_ID, "approve": False}
    orders = [str(hook.call("create_order", body={**body, "student_ids": [2 + i % 5]})["id"]) for i in range(20)]
    seeded = control(sandbox, "POST", "/eduframe/seed_enrollments", json={"count": 20, "planned_course_id": 1})
    enrollment_ids = [str(i) for i in range(seeded.json()["first_id"], seeded.json()["last_id"] + 1)]
    faults = {"fault_rate": 0.3, "kinds": ["429", "500", "502", "503", "504", "drop", "truncate", "notjson"]}
    control(sandbox, "PUT", "/faults", json={**faults, "seed": 7, "path_prefix": "/eduframe"})

    runner = BulkRunner(concurrency=4, progress_interval=60)
    approved = runner.run("approve", orders, hook.approve_order, key=str)
    attended = runner.run("attend", enrollment_ids, lambda e: hook.set_attendance(1, int(e), "attended"), key=str)
    injected = control(sandbox, "GET", "/faults").json()["injected_total"]
    control(sandbox, "DELETE", "/faults")
    assert injected > 0

    # The retry of the task: only what failed is done now; nothing done before is done again.
    again = runner.run("approve", orders, hook.approve_order, key=str)
    failed_first = {o.key for o in approved.items if o.status is ItemStatus.FAILED}
    assert {o.key for o in again.items if o.status is ItemStatus.DONE} <= failed_first
    assert again.failed == 0
    attended_again = runner.run("attend", enrollment_ids, lambda e: hook.set_attendance(1, int(e), "attended"), key=str)
    assert attended_again.failed == 0

    assert {o.status for o in hook.list_order_records()} == {"active"}
    records = hook.list_attendances(meeting_id=1)
    assert sorted(a.enrollment_id for a in records) == sorted(map(int, enrollment_ids))  # one record each, none twice
    assert {a.state for a in records} == {"attended"}
    assert attended.total == 20

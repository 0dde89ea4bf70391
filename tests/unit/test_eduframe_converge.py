"""Eduframe subscribe converges on one enrollment when an overlapping attempt ordered too (respx).

The race itself, two processes over HTTP, is ``tests/faults/test_overlapping_attempts.py``; these pin down
each interleaving's outcome one at a time.
"""

from __future__ import annotations

import httpx
import respx

from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.http import ItemStatus

from .conftest import EDUFRAME_URL

U = EDUFRAME_URL
VARIANT = [{"id": 7, "variantable_type": "PlannedCourse", "variantable_id": 1}]


def enrollment(eid: int, order_id: int | None, status: str = "confirmed") -> dict[str, object]:
    return {
        "id": eid,
        "student_id": 5,
        "planned_course_id": 1,
        "order_id": order_id,
        "status": status,
        "graduation_state": "awaiting_judgement",
        "start_date": "2026-12-01",
        "end_date": None,
        "updated_at": "2026-11-22T10:00:00.000Z",
        "created_at": "2026-11-22T10:00:00.000Z",
    }


def _mock(readback: list[dict[str, object]], order_id: int = 30) -> tuple[respx.Route, respx.Route]:
    respx.get(f"{U}/catalog/variants").mock(return_value=httpx.Response(200, json=VARIANT))
    respx.get(f"{U}/enrollments").mock(side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=readback)])
    orders = respx.post(f"{U}/orders").mock(return_value=httpx.Response(201, json={"id": order_id}))
    cancel = respx.put(url__regex=rf"{U}/enrollments/\d+/cancel").mock(
        side_effect=lambda request: httpx.Response(200, json=enrollment(int(request.url.path.split("/")[-2]), 1))
    )
    return orders, cancel


@respx.mock
def test_our_order_was_the_duplicate_it_is_canceled_and_the_item_says_already_done(eduframe_conn: str) -> None:
    # The other attempt's order (20, enrollment 41) landed first; ours (30, enrollment 42) is the duplicate.
    orders, cancel = _mock([enrollment(42, 30), enrollment(41, 20)])
    result = EduframeHook(eduframe_conn).subscribe_learner("1", "5")
    assert orders.call_count == 1
    assert [c.request.url.path for c in cancel.calls] == ["/api/v1/enrollments/42/cancel"]
    assert result.status is ItemStatus.ALREADY_DONE
    assert result.result["enrollment_id"] == "41"
    assert result.result["canceled_duplicates"] == ["42"]
    assert "this attempt's duplicate was canceled" in result.result["note"]


@respx.mock
def test_our_order_was_first_the_other_attempts_duplicate_is_canceled_and_the_item_is_done(eduframe_conn: str) -> None:
    _orders, cancel = _mock([enrollment(41, 30), enrollment(42, 20), enrollment(40, 10, status="canceled")])
    result = EduframeHook(eduframe_conn).subscribe_learner("1", "5")
    assert [c.request.url.path for c in cancel.calls] == ["/api/v1/enrollments/42/cancel"]
    assert result.status is ItemStatus.DONE
    assert result.result["enrollment_id"] == "41"
    assert result.result["canceled_duplicates"] == ["42"]


@respx.mock
def test_a_look_that_finds_two_keeps_the_oldest_and_orders_nothing(eduframe_conn: str) -> None:
    # A process killed between its order and its read-back left a second enrollment: the next look cancels it.
    respx.get(f"{U}/catalog/variants").mock(return_value=httpx.Response(200, json=VARIANT))
    respx.get(f"{U}/enrollments").mock(return_value=httpx.Response(200, json=[enrollment(43, 31), enrollment(41, 20)]))
    orders = respx.post(f"{U}/orders").mock(return_value=httpx.Response(201, json={"id": 99}))
    cancel = respx.put(f"{U}/enrollments/43/cancel").mock(return_value=httpx.Response(200, json=enrollment(43, 31)))
    result = EduframeHook(eduframe_conn).subscribe_learner("1", "5")
    assert orders.call_count == 0 and cancel.call_count == 1
    assert result.status is ItemStatus.ALREADY_DONE
    assert result.result["enrollment_id"] == "41"
    assert result.result["canceled_duplicates"] == ["43"]


@respx.mock
def test_a_cancel_refused_because_the_other_attempt_canceled_it_first_is_fine(eduframe_conn: str) -> None:
    respx.get(f"{U}/catalog/variants").mock(return_value=httpx.Response(200, json=VARIANT))
    respx.get(f"{U}/enrollments").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[enrollment(41, 20), enrollment(42, 30)])]
    )
    respx.post(f"{U}/orders").mock(return_value=httpx.Response(201, json={"id": 30}))
    refused = {"errors": {"status": ["already canceled"]}, "code": 422, "message": "Invalid"}
    respx.put(f"{U}/enrollments/42/cancel").mock(return_value=httpx.Response(422, json=refused))
    reread = respx.get(f"{U}/enrollments/42").mock(
        return_value=httpx.Response(200, json=enrollment(42, 30, status="canceled"))
    )
    result = EduframeHook(eduframe_conn).subscribe_learner("1", "5")
    assert reread.call_count == 1
    assert result.status is ItemStatus.ALREADY_DONE and result.result["enrollment_id"] == "41"


@respx.mock
def test_a_single_enrollment_is_left_alone(eduframe_conn: str) -> None:
    orders, cancel = _mock([enrollment(41, 30)])
    result = EduframeHook(eduframe_conn).subscribe_learner("1", "5")
    assert orders.call_count == 1 and cancel.call_count == 0
    assert result.status is ItemStatus.DONE
    assert "canceled_duplicates" not in result.result and "note" not in result.result

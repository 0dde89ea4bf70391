"""EduframeCompletedEnrollmentsTrigger: new completions once each, behind a watermark."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.triggers.events import EduframeCompletedEnrollmentsTrigger
from tests.unit.conftest import EDUFRAME_URL


def _enrollment(eid: int, updated: str, status: str = "completed") -> dict:
    return {
        "id": eid,
        "student_id": 10 + eid,
        "planned_course_id": 1,
        "status": status,
        "graduation_state": "passed",
        "updated_at": updated,
    }


async def test_each_completion_is_emitted_once(eduframe_conn):
    trigger = EduframeCompletedEnrollmentsTrigger(eduframe_conn, completed_after="2026-01-01T00:00:00Z")
    hook = EduframeHook(eduframe_conn)
    with respx.mock:
        route = respx.get(f"{EDUFRAME_URL}/enrollments").mock(
            side_effect=[
                httpx.Response(
                    200,
                    json=[
                        _enrollment(1, "2025-12-31T23:59:59.000Z"),  # before the watermark
                        _enrollment(3, "2026-01-02T10:00:00.000Z"),
                        _enrollment(2, "2026-01-02T09:00:00.000Z"),
                    ],
                ),
                httpx.Response(
                    200,
                    json=[
                        _enrollment(3, "2026-01-05T10:00:00.000Z"),  # updated again (a grade): not new
                        _enrollment(2, "2026-01-02T09:00:00.000Z"),
                        _enrollment(4, "2026-01-02T10:00:00.000Z"),  # same moment as the watermark, new id
                    ],
                ),
            ]
        )
        first = await trigger.poll(hook)
        second = await trigger.poll(hook)
    assert [e.id for e in first] == [2, 3]
    assert [e.id for e in second] == [4]
    params = route.calls[0].request.url.params
    assert params.get_list("status") == ["completed"]


async def test_run_yields_trigger_events_and_serializes_json_safe(eduframe_conn):
    trigger = EduframeCompletedEnrollmentsTrigger(
        eduframe_conn, poll_interval=0.01, completed_after="2026-01-01T00:00:00Z"
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_lms.triggers.events.EduframeCompletedEnrollmentsTrigger"
    assert kwargs == {
        "lms_conn_id": eduframe_conn,
        "poll_interval": 0.01,
        "completed_after": "2026-01-01T00:00:00Z",
        "planned_course_id": None,
    }
    with respx.mock:
        answers = iter(
            [
                httpx.Response(503),  # a failing poll is logged, not fatal
                httpx.Response(200, json=[_enrollment(7, "2026-02-01T00:00:00Z")]),
                httpx.Response(200, json=[_enrollment(7, "2026-02-01T00:00:00Z")]),
            ]
        )
        # After those, nothing new however often it polls (a fast machine polls far more than 50 times).
        respx.get(f"{EDUFRAME_URL}/enrollments").mock(
            side_effect=lambda request: next(answers, None) or httpx.Response(200, json=[])
        )
        events = []

        async def collect():
            async for event in trigger.run():
                events.append(event)

        task = asyncio.create_task(collect())
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(events) == 1
    assert events[0].payload["enrollment_id"] == 7 and events[0].payload["graduation_state"] == "passed"


def test_it_is_an_event_trigger_usable_in_an_asset_watcher():
    from airflow.sdk import Asset, AssetWatcher

    asset = Asset(
        "lms://eduframe/enrollment.completed",
        watchers=[AssetWatcher(name="w", trigger=EduframeCompletedEnrollmentsTrigger())],
    )
    assert asset.watchers[0].trigger is not None


async def test_a_planned_course_id_that_is_no_id_ends_the_watch_with_one_error_event(eduframe_conn):
    # A setting that cannot heal must not be retried on every poll for ever: one error event, no request.
    trigger = EduframeCompletedEnrollmentsTrigger(eduframe_conn, poll_interval=0.01, planned_course_id="abc")  # type: ignore[arg-type]
    with respx.mock:
        route = respx.get(f"{EDUFRAME_URL}/enrollments").mock(return_value=httpx.Response(200, json=[]))
        events = [event async for event in trigger.run()]
    assert len(events) == 1
    assert events[0].payload["status"] == "error"
    assert "planned_course_id" in events[0].payload["message"]
    assert route.call_count == 0

"""Generic operators, the sensor and its trigger, with respx standing in for Eduframe."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import respx
from airflow.sdk.exceptions import AirflowException, TaskDeferred

from airflow_provider_lms.http import LmsCapabilityError, LmsInputError
from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsScoreExternalActivityOperator,
    LmsSubscribeOperator,
)
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from airflow_provider_lms.triggers.enrollment import EnrollmentCompletedTrigger
from tests.task_context import ctx

from .conftest import EDUFRAME_URL, conn_json
from .test_eduframe_hook import enrollment

U = EDUFRAME_URL


def variants():
    return respx.get(f"{U}/catalog/variants").mock(
        return_value=httpx.Response(200, json=[{"id": 7, "variantable_type": "PlannedCourse", "variantable_id": 1}])
    )


@respx.mock
def test_subscribe_operator_returns_a_json_summary_and_pushes_enrollment_ids(eduframe_conn):
    variants()
    existing = {5: enrollment(eid=50, student=5)}
    created: list[int] = []

    def list_enrollments(request: httpx.Request) -> httpx.Response:
        sid = int(request.url.params["student_id"])
        return httpx.Response(200, json=[existing[sid]] if sid in existing else [])

    def order(request: httpx.Request) -> httpx.Response:
        sid = json.loads(request.content)["student_ids"][0]
        created.append(sid)
        # As on Eduframe, the enrollment an order makes names that order.
        existing[sid] = {**enrollment(eid=100 + sid, student=sid), "order_id": len(created)}
        return httpx.Response(201, json={"id": len(created)})

    respx.get(f"{U}/enrollments").mock(side_effect=list_enrollments)
    respx.post(f"{U}/orders").mock(side_effect=order)
    op = LmsSubscribeOperator(task_id="s", lms_conn_id=eduframe_conn, course_id=1, learner_ids=[5, 6, "7", 6])
    context = ctx()
    result = op.execute(context)
    assert json.loads(json.dumps(result))["total"] == 3  # duplicate 6 dropped
    assert (result["done"], result["already_done"], result["failed"]) == (2, 1, 0)
    assert sorted(created) == [6, 7]
    assert context["ti"].pushed["enrollment_ids"] == ["50", "106", "107"]
    # A re-run orders nothing.
    again = op.execute(ctx())
    assert (again["done"], again["already_done"]) == (0, 3)
    assert sorted(created) == [6, 7]


@respx.mock
def test_item_failures_are_recorded_then_fail_the_task(eduframe_conn):
    variants()
    respx.get(f"{U}/enrollments").mock(return_value=httpx.Response(200, json=[]))
    respx.post(f"{U}/orders").mock(
        return_value=httpx.Response(422, json={"errors": {"student_ids": ["unknown"]}, "code": 422, "message": "x"})
    )
    context = ctx()
    op = LmsSubscribeOperator(task_id="s", lms_conn_id=eduframe_conn, course_id=1, learner_ids=[5, 6])
    with pytest.raises(AirflowException, match="2 of 2 items failed"):
        op.execute(context)
    summary = context["ti"].pushed["summary"]
    assert [i["status"] for i in summary["items"]] == ["failed", "failed"]
    assert "unknown" in summary["items"][0]["error"]


BAD_SUBSCRIBE_INPUTS = [
    ({"course_id": "", "learner_ids": [1]}, "course_id"),
    ({"course_id": "abc", "learner_ids": [1]}, "course_id"),
    ({"course_id": -3, "learner_ids": [1]}, "course_id"),
    ({"course_id": 1, "learner_ids": []}, "learner_ids"),
    ({"course_id": 1, "learner_ids": "5"}, "learner_ids"),
    ({"course_id": 1, "learner_ids": [1, "x/../2"]}, r"learner_ids\[1\]"),
    ({"course_id": 1, "learner_ids": [None]}, r"learner_ids\[0\]"),
    ({"course_id": 1, "learner_ids": [1], "platform_options": {"approve": "yes"}}, "approve"),
    ({"course_id": 1, "learner_ids": [1], "concurrency": 0}, "concurrency"),
]


@pytest.mark.parametrize(("kwargs", "field"), BAD_SUBSCRIBE_INPUTS)
def test_bad_subscribe_input_fails_before_any_request(eduframe_conn, kwargs, field):
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(return_value=httpx.Response(200, json=[]))
        op = LmsSubscribeOperator(task_id="s", lms_conn_id=eduframe_conn, **kwargs)
        with pytest.raises(LmsInputError, match=field):
            op.execute(ctx())
        assert router.calls.call_count == 0


BAD_SCORES = [
    ([{"learner_id": 1, "course_id": 1, "score": -1}], r"scores\[0\]\.score"),
    ([{"learner_id": 1, "course_id": 1}], r"scores\[0\]"),
    ([{"learner_id": 1, "course_id": 1, "score": "NaN"}], r"scores\[0\]\.score"),
    ([{"learner_id": "", "course_id": 1, "score": 1}], r"scores\[0\]\.learner_id"),
    ([{"learner_id": 1, "course_id": "x", "score": 1}], r"scores\[0\]\.course_id"),
    ([{"learner_id": 1, "course_id": 1, "score": 1, "colour": "red"}], r"scores\[0\]\.colour"),
    ([], "scores"),
    ("not a list", "scores"),
]


@pytest.mark.parametrize(("scores", "field"), BAD_SCORES)
def test_bad_scores_fail_before_any_request(eduframe_conn, scores, field):
    with respx.mock(assert_all_called=False) as router:
        op = LmsScoreExternalActivityOperator(task_id="g", lms_conn_id=eduframe_conn, scores=scores)
        with pytest.raises(LmsInputError, match=field):
            op.execute(ctx())
        assert router.calls.call_count == 0


@pytest.mark.parametrize(
    ("learners", "field"),
    [
        ([{"email": "not-an-email", "first_name": "a", "last_name": "b"}], r"learners\[0\]\.email"),
        ([{"email": "a@b.test", "first_name": "", "last_name": "b"}], r"learners\[0\]\.first_name"),
        ([{"email": "a@b.test", "last_name": "b"}], r"learners\[0\]\.first_name"),
    ],
)
def test_bad_learners_fail_before_any_request(eduframe_conn, learners, field):
    with respx.mock(assert_all_called=False) as router:
        op = LmsEnsureLearnersOperator(task_id="l", lms_conn_id=eduframe_conn, learners=learners)
        with pytest.raises(LmsInputError, match=field):
            op.execute(ctx())
        assert router.calls.call_count == 0


def test_award_needs_a_certificate_template_on_eduframe(eduframe_conn):
    with respx.mock(assert_all_called=False) as router:
        op = LmsAwardCertificateOperator(task_id="c", lms_conn_id=eduframe_conn, program_id=1, learner_ids=[5])
        with pytest.raises(LmsInputError, match="certificate_template_id"):
            op.execute(ctx())
        assert router.calls.call_count == 0


def test_a_platform_without_the_capability_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_PY", conn_json("pynter", login="u", base_url="https://x.pynter.test"))
    op = LmsSubscribeOperator(task_id="s", lms_conn_id="py", course_id=1, learner_ids=[1])
    with pytest.raises(LmsCapabilityError, match=r"Pynter cannot subscribe.*platforms that can: Eduframe"):
        op.execute(ctx())


def test_a_non_lms_connection_is_refused_readably(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_PG", json.dumps({"conn_type": "postgres", "host": "db"}))
    op = LmsSubscribeOperator(task_id="s", lms_conn_id="pg", course_id=1, learner_ids=[1])
    with pytest.raises(LmsInputError, match="not an LMS connection"):
        op.execute(ctx())


def test_operators_template_their_ids_and_connection():
    assert {"lms_conn_id", "course_id", "learner_ids"} <= set(LmsSubscribeOperator.template_fields)
    assert {"lms_conn_id", "scores"} <= set(LmsScoreExternalActivityOperator.template_fields)
    assert {"lms_conn_id", "program_id", "learner_ids"} <= set(LmsAwardCertificateOperator.template_fields)
    assert {"lms_conn_id", "enrollment_id", "learner_id", "course_id"} <= set(EnrollmentCompletedSensor.template_fields)


# -- sensor --------------------------------------------------------------------------------------------------
@respx.mock
def test_sensor_pokes_until_completed(eduframe_conn):
    respx.get(f"{U}/enrollments/11").mock(
        side_effect=[
            httpx.Response(200, json=enrollment(status="active")),
            httpx.Response(200, json=enrollment(status="completed", graduation="passed")),
        ]
    )
    sensor = EnrollmentCompletedSensor(task_id="w", lms_conn_id=eduframe_conn, enrollment_id=11)
    assert sensor.poke(ctx()).is_done is False
    done = sensor.poke(ctx())
    assert done.is_done is True and done.xcom_value["state"] == "passed"


@respx.mock
def test_sensor_require_passed_waits_for_judgement_and_fails_on_failed(eduframe_conn):
    respx.get(f"{U}/enrollments/11").mock(
        side_effect=[
            httpx.Response(200, json=enrollment(status="completed", graduation="awaiting_judgement")),
            httpx.Response(200, json=enrollment(status="completed", graduation="failed")),
        ]
    )
    sensor = EnrollmentCompletedSensor(task_id="w", lms_conn_id=eduframe_conn, enrollment_id=11, require_passed=True)
    assert sensor.poke(ctx()).is_done is False
    with pytest.raises(AirflowException, match="did not pass"):
        sensor.poke(ctx())


@respx.mock
def test_sensor_fails_fast_on_a_canceled_enrollment(eduframe_conn):
    respx.get(f"{U}/enrollments/11").mock(return_value=httpx.Response(200, json=enrollment(status="canceled")))
    sensor = EnrollmentCompletedSensor(task_id="w", lms_conn_id=eduframe_conn, enrollment_id=11)
    with pytest.raises(AirflowException, match="canceled; it can never complete"):
        sensor.poke(ctx())


def test_sensor_needs_an_enrollment_or_a_learner_and_course(eduframe_conn):
    with respx.mock(assert_all_called=False) as router:
        sensor = EnrollmentCompletedSensor(task_id="w", lms_conn_id=eduframe_conn, learner_id=5)
        with pytest.raises(LmsInputError, match="enrollment_id"):
            sensor.poke(ctx())
        assert router.calls.call_count == 0


@respx.mock
def test_deferrable_sensor_pokes_once_then_defers_with_json_safe_kwargs(eduframe_conn):
    respx.get(f"{U}/enrollments/11").mock(return_value=httpx.Response(200, json=enrollment(status="active")))
    sensor = EnrollmentCompletedSensor(
        task_id="w", lms_conn_id=eduframe_conn, enrollment_id="11", deferrable=True, poke_interval=5, timeout=600
    )
    with pytest.raises(TaskDeferred) as info:
        sensor.execute(ctx())
    trigger = info.value.trigger
    assert isinstance(trigger, EnrollmentCompletedTrigger)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_lms.triggers.enrollment.EnrollmentCompletedTrigger"
    assert json.loads(json.dumps(kwargs))["enrollment"] == {
        "enrollment_id": "11",
        "learner_id": None,
        "course_id": None,
    }
    assert kwargs["poll_interval"] == 5.0
    assert info.value.method_name == "execute_complete"


@respx.mock
def test_deferrable_sensor_returns_at_once_when_already_complete(eduframe_conn):
    respx.get(f"{U}/enrollments/11").mock(
        return_value=httpx.Response(200, json=enrollment(status="completed", graduation="passed"))
    )
    sensor = EnrollmentCompletedSensor(task_id="w", lms_conn_id=eduframe_conn, enrollment_id=11, deferrable=True)
    assert sensor.execute(ctx())["state"] == "passed"


def test_execute_complete_raises_on_error_events():
    sensor = EnrollmentCompletedSensor(task_id="w", lms_conn_id="x", enrollment_id=1)
    assert sensor.execute_complete(ctx(), {"status": "success", "enrollment": {"state": "completed"}}) == {
        "state": "completed"
    }
    for status in ("failed", "error", "timeout"):
        with pytest.raises(AirflowException, match=status):
            sensor.execute_complete(ctx(), {"status": status, "message": "m"})


# -- trigger ---------------------------------------------------------------------------------------------------
@respx.mock
async def test_trigger_polls_through_the_async_client_until_done(eduframe_conn):
    route = respx.get(f"{U}/enrollments/11").mock(
        side_effect=[
            httpx.Response(200, json=enrollment(status="active")),
            httpx.Response(200, json=enrollment(status="completed")),
        ]
    )
    trigger = EnrollmentCompletedTrigger(eduframe_conn, {"enrollment_id": "11"}, poll_interval=0.01)
    events = [e async for e in trigger.run()]
    assert len(events) == 1
    assert events[0].payload["status"] == "success"
    assert events[0].payload["enrollment"]["state"] == "completed"
    assert route.call_count == 2


@respx.mock
async def test_trigger_rides_out_a_platform_that_is_down_until_its_end_time(eduframe_conn):
    # A 503 can heal: the trigger waits it out (issue 16) and ends at its own end_time, naming the outage.
    respx.get(f"{U}/enrollments/11").mock(return_value=httpx.Response(503))
    trigger = EnrollmentCompletedTrigger(
        eduframe_conn, {"enrollment_id": "11"}, poll_interval=0.01, end_time=time.time() + 1.5
    )
    started = time.monotonic()
    events = [e async for e in trigger.run()]
    assert [e.payload["status"] for e in events] == ["timeout"]
    assert "unavailable" in events[0].payload["message"] and "503" in events[0].payload["message"]
    assert 1.0 <= time.monotonic() - started < 5


@respx.mock
@pytest.mark.parametrize(("status", "outcome"), [(401, "error"), (403, "error"), (404, "failed")])
async def test_trigger_ends_at_once_on_an_error_that_cannot_heal(eduframe_conn, status, outcome):
    # 404: the hook reads it as "not enrolled", which can never complete.
    route = respx.get(f"{U}/enrollments/11").mock(return_value=httpx.Response(status))
    trigger = EnrollmentCompletedTrigger(
        eduframe_conn, {"enrollment_id": "11"}, poll_interval=0.01, end_time=time.time() + 60
    )
    started = time.monotonic()
    events = [e async for e in trigger.run()]
    assert [e.payload["status"] for e in events] == [outcome]
    assert outcome == "failed" or str(status) in events[0].payload["message"]
    assert route.call_count == 1 and time.monotonic() - started < 2


@respx.mock
async def test_trigger_stops_on_a_canceled_enrollment(eduframe_conn):
    respx.get(f"{U}/enrollments/11").mock(return_value=httpx.Response(200, json=enrollment(status="canceled")))
    events = [e async for e in EnrollmentCompletedTrigger(eduframe_conn, {"enrollment_id": "11"}).run()]
    assert [e.payload["status"] for e in events] == ["failed"]


@respx.mock
async def test_trigger_honours_its_end_time(eduframe_conn):
    respx.get(f"{U}/enrollments/11").mock(return_value=httpx.Response(200, json=enrollment(status="active")))
    trigger = EnrollmentCompletedTrigger(
        eduframe_conn, {"enrollment_id": "11"}, poll_interval=0.05, end_time=time.time() + 0.2
    )
    events = [e async for e in trigger.run()]
    assert [e.payload["status"] for e in events] == ["timeout"]


@respx.mock
def test_completed_since_ignores_an_older_completion(eduframe_conn):
    old = {**enrollment(status="completed", graduation="passed"), "updated_at": "2025-03-01T10:00:00.000Z"}
    new = {**old, "updated_at": "2026-11-20T10:00:00.000Z"}
    respx.get(f"{U}/enrollments/11").mock(side_effect=[httpx.Response(200, json=old), httpx.Response(200, json=new)])
    sensor = EnrollmentCompletedSensor(
        task_id="w", lms_conn_id=eduframe_conn, enrollment_id=11, completed_since="2026-01-01"
    )
    assert sensor.poke(ctx()).is_done is False
    assert sensor.poke(ctx()).is_done is True


def test_completed_since_must_be_a_date(eduframe_conn):
    with respx.mock(assert_all_called=False) as router:
        sensor = EnrollmentCompletedSensor(
            task_id="w", lms_conn_id=eduframe_conn, enrollment_id=11, completed_since="last tuesday"
        )
        with pytest.raises(LmsInputError, match="completed_since"):
            sensor.poke(ctx())
        assert router.calls.call_count == 0

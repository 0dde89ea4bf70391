"""EduframeHook against respx: the requests it sends and what it makes of the answers."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.http import ItemStatus, LmsAuthenticationError, LmsInputError, LmsValidationError
from airflow_provider_lms.models.inputs import LearnerSpec, ScoreRow
from airflow_provider_lms.models.state import EnrollmentState

from .conftest import EDUFRAME_URL, SECRET

U = EDUFRAME_URL


def enrollment(eid=11, student=5, pc=1, status="confirmed", graduation="awaiting_judgement", grade=None):
    return {
        "id": eid,
        "student_id": student,
        "planned_course_id": pc,
        "order_id": 3,
        "status": status,
        "graduation_state": graduation,
        "start_date": "2026-12-01",
        "end_date": None,
        "updated_at": "2026-11-22T10:00:00.000Z",
        "created_at": "2026-11-22T10:00:00.000Z",
        "grade": grade,
    }


@respx.mock
def test_bearer_key_and_accept_header(eduframe_conn):
    route = respx.get(f"{U}/educators/current").mock(return_value=httpx.Response(200, json={"id": 1, "name": "Demo"}))
    ok, message = EduframeHook(eduframe_conn).test_connection()
    assert ok and "Demo" in message
    assert route.calls[0].request.headers["Authorization"] == f"Bearer {SECRET}"
    assert route.calls[0].request.headers["Accept"] == "application/json"


@respx.mock
def test_test_connection_reports_a_bad_key_readably(eduframe_conn):
    respx.get(f"{U}/educators/current").mock(
        return_value=httpx.Response(401, json={"errors": {}, "code": 401, "message": "Invalid token"})
    )
    ok, message = EduframeHook(eduframe_conn).test_connection()
    assert not ok
    assert "Invalid token" in message and "401" in message
    assert SECRET not in message


@respx.mock
def test_subscribe_skips_a_learner_already_enrolled(eduframe_conn):
    respx.get(f"{U}/catalog/variants").mock(
        return_value=httpx.Response(200, json=[{"id": 7, "variantable_type": "PlannedCourse", "variantable_id": 1}])
    )
    respx.get(f"{U}/enrollments").mock(return_value=httpx.Response(200, json=[enrollment()]))
    orders = respx.post(f"{U}/orders").mock(return_value=httpx.Response(201, json={"id": 1}))
    result = EduframeHook(eduframe_conn).subscribe_learner("1", "5")
    assert result.status is ItemStatus.ALREADY_DONE
    assert result.result["enrollment_id"] == "11"
    assert orders.call_count == 0


@respx.mock
def test_subscribe_orders_on_the_catalog_variant_then_reads_the_enrollment(eduframe_conn):
    respx.get(f"{U}/catalog/variants").mock(
        return_value=httpx.Response(200, json=[{"id": 7, "variantable_type": "PlannedCourse", "variantable_id": 1}])
    )
    enrollments = respx.get(f"{U}/enrollments").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[enrollment(eid=42)])]
    )
    orders = respx.post(f"{U}/orders").mock(return_value=httpx.Response(201, json={"id": 3}))
    result = EduframeHook(eduframe_conn).subscribe_learner("1", "5")
    assert result.status is ItemStatus.DONE and result.result["enrollment_id"] == "42"
    body = json.loads(orders.calls[0].request.content)
    assert body == {"catalog_variant_id": 7, "creator_id": 5, "student_ids": [5], "approve": True}
    params = enrollments.calls[0].request.url.params
    assert params["student_id"] == "5" and params["planned_course_id"] == "1" and params["per_page"] == "100"


@respx.mock
def test_subscribe_after_a_dropped_order_answer_does_not_order_twice(eduframe_conn):
    respx.get(f"{U}/catalog/variants").mock(
        return_value=httpx.Response(200, json=[{"id": 7, "variantable_type": "PlannedCourse", "variantable_id": 1}])
    )
    respx.get(f"{U}/enrollments").mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[enrollment(eid=42)])]
    )
    orders = respx.post(f"{U}/orders").mock(side_effect=httpx.RemoteProtocolError("peer closed connection"))
    result = EduframeHook(eduframe_conn).subscribe_learner("1", "5")
    assert result.result["enrollment_id"] == "42"
    assert orders.call_count == 1


@respx.mock
def test_ensure_learner_creates_only_missing_users(eduframe_conn):
    respx.get(f"{U}/users", params={"email": "new@x.test"}).mock(return_value=httpx.Response(200, json=[]))
    respx.get(f"{U}/users", params={"email": "old@x.test"}).mock(
        return_value=httpx.Response(200, json=[{"id": 9, "email": "Old@X.test"}])
    )
    create = respx.post(f"{U}/users").mock(return_value=httpx.Response(201, json={"id": 10, "email": "new@x.test"}))
    hook = EduframeHook(eduframe_conn)
    old = hook.ensure_learner(LearnerSpec(email="old@x.test", first_name="O", last_name="L"))
    new = hook.ensure_learner(LearnerSpec(email="New@x.test", first_name="N", last_name="W"))
    assert old.status is ItemStatus.ALREADY_DONE and old.result["learner_id"] == "9"
    assert new.status is ItemStatus.DONE and new.result["learner_id"] == "10"
    assert create.call_count == 1
    assert json.loads(create.calls[0].request.content) == {"email": "new@x.test", "first_name": "N", "last_name": "W"}


@respx.mock
def test_grade_is_created_then_updated_then_left_alone(eduframe_conn):
    grade = {"id": 77, "grade": None, "score": "8.5", "gradeable_id": 11, "gradeable_type": "Enrollment"}
    respx.get(f"{U}/enrollments").mock(
        side_effect=[
            httpx.Response(200, json=[enrollment()]),
            httpx.Response(200, json=[enrollment(grade=grade)]),
            httpx.Response(200, json=[enrollment(grade={**grade, "score": "9.0"})]),
        ]
    )
    create = respx.post(f"{U}/grades").mock(return_value=httpx.Response(201, json=grade))
    patch = respx.patch(f"{U}/grades/77").mock(return_value=httpx.Response(200, json={**grade, "score": "9.0"}))
    hook = EduframeHook(eduframe_conn)
    first = hook.score_activity(ScoreRow(learner_id=5, course_id=1, score=8.5))
    second = hook.score_activity(ScoreRow(learner_id=5, course_id=1, score=9))
    third = hook.score_activity(ScoreRow(learner_id=5, course_id=1, score=9))
    assert [first.status, second.status, third.status] == [ItemStatus.DONE, ItemStatus.DONE, ItemStatus.ALREADY_DONE]
    assert json.loads(create.calls[0].request.content) == {
        "grade": None,
        "score": 8.5,
        "gradeable_id": 11,
        "gradeable_type": "Enrollment",
    }
    assert json.loads(patch.calls[0].request.content)["score"] == 9.0
    assert create.call_count == 1 and patch.call_count == 1


@respx.mock
def test_award_certificate_uses_put_and_skips_certified(eduframe_conn):
    pe = {"id": 4, "student_id": 5, "edition_id": 1, "state": "confirmed", "graduation_state": "awaiting_judgement"}
    respx.get(f"{U}/program/enrollments").mock(
        side_effect=[
            httpx.Response(200, json=[pe]),
            httpx.Response(200, json=[{**pe, "graduation_state": "passed", "graduation_date": "2026-11-22"}]),
        ]
    )
    award = respx.put(f"{U}/program/enrollments/4/award_certificate").mock(return_value=httpx.Response(200, json=pe))
    hook = EduframeHook(eduframe_conn)
    assert hook.award_certificate("5", "1", certificate_template_id=2).status is ItemStatus.DONE
    assert hook.award_certificate("5", "1", certificate_template_id=2).status is ItemStatus.ALREADY_DONE
    assert award.call_count == 1
    assert json.loads(award.calls[0].request.content) == {"certificate_template_id": 2}


@pytest.mark.parametrize(
    ("status", "graduation", "expected"),
    [
        ("confirmed", "awaiting_judgement", EnrollmentState.ENROLLED),
        ("active", "awaiting_judgement", EnrollmentState.IN_PROGRESS),
        ("completed", "awaiting_judgement", EnrollmentState.COMPLETED),
        ("completed", "passed", EnrollmentState.PASSED),
        ("completed", "failed", EnrollmentState.FAILED),
        ("canceled", "awaiting_judgement", EnrollmentState.CANCELED),
    ],
)
@respx.mock
def test_normalized_state(eduframe_conn, status, graduation, expected):
    respx.get(f"{U}/enrollments/11").mock(
        return_value=httpx.Response(200, json=enrollment(status=status, graduation=graduation))
    )
    state = EduframeHook(eduframe_conn).get_enrollment_state(EnrollmentRef(enrollment_id="11"))
    assert state.state is expected
    assert state.raw["status"] == status


@respx.mock
def test_only_canceled_enrollments_report_canceled_not_missing(eduframe_conn):
    respx.get(f"{U}/enrollments").mock(return_value=httpx.Response(200, json=[enrollment(status="canceled")]))
    state = EduframeHook(eduframe_conn).get_enrollment_state(EnrollmentRef(learner_id="5", course_id="1"))
    assert state.state is EnrollmentState.CANCELED


@respx.mock
def test_validation_errors_carry_the_field_errors(eduframe_conn):
    respx.post(f"{U}/users").mock(
        return_value=httpx.Response(
            422, json={"errors": {"email": ["has already been taken"]}, "code": 422, "message": "Invalid"}
        )
    )
    with pytest.raises(LmsValidationError) as info:
        EduframeHook(eduframe_conn).create_user("a@b.test", "A", "B")
    assert info.value.field_errors == {"email": ["has already been taken"]}
    assert "has already been taken" in str(info.value)


@pytest.mark.parametrize("bad", ["", "abc", "-1", 0, -5, "1.5", True, None, "1/../2"])
def test_eduframe_ids_must_be_positive_integers(eduframe_conn, bad):
    with respx.mock(assert_all_called=False) as router:
        with pytest.raises(LmsInputError, match="learner_id"):
            EduframeHook(eduframe_conn).subscribe_learner("1", bad)
        assert router.calls.call_count == 0


def test_base_url_without_scheme_names_the_field(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_BADURL",
        json.dumps({"conn_type": "eduframe", "password": "k", "extra": {"base_url": "api.eduframe.nl/api/v1"}}),
    )
    with pytest.raises(LmsInputError, match=r"base_url.*scheme"):
        EduframeHook("badurl").get_conn()


def test_empty_api_key_is_refused_before_any_request(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_NOKEY", json.dumps({"conn_type": "eduframe", "extra": {}}))
    with pytest.raises(LmsInputError, match="API key"):
        EduframeHook("nokey").get_conn()


def test_default_rate_limit_is_eduframes_documented_one(eduframe_conn, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_PLAIN", json.dumps({"conn_type": "eduframe", "password": "k"}))
    client = EduframeHook("plain").get_conn()
    assert client.settings.rate_limit_requests == 500 and client.settings.rate_limit_period == 300
    assert str(client.base_url) == "https://api.eduframe.nl/api/v1/"


@respx.mock
def test_authentication_error_type(eduframe_conn):
    respx.get(f"{U}/users/3").mock(return_value=httpx.Response(401, json={"errors": {}, "code": 401, "message": "x"}))
    with pytest.raises(LmsAuthenticationError):
        EduframeHook(eduframe_conn).get_user(3)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda h: list(h.list_enrollments(status=["finished"])), "status"),
        (lambda h: list(h.list_enrollments(status="Active")), "status"),
        (lambda h: list(h.list_planned_courses(status=["running"])), "status"),
        (lambda h: h.validate_options("subscribe", {"target": "program"}), "platform_options.target"),
    ],
)
def test_unknown_enum_values_fail_before_any_request(eduframe_conn, call, field):
    with respx.mock(assert_all_called=False) as router:
        with pytest.raises(LmsInputError, match=field):
            call(EduframeHook(eduframe_conn))
        assert router.calls.call_count == 0

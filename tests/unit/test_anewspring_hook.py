"""The aNewSpring hook and models against respx mocks: requests sent, answers parsed, errors mapped."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from airflow_provider_lms.hooks.anewspring import ANewSpringHook, encode_path_segment, parse_anewspring_error
from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.http import LmsConflictError, LmsInputError, LmsNotFoundError
from airflow_provider_lms.models.anewspring import (
    ACTIVITY_TYPES,
    ANewSpringCourseResult,
    activity_label,
    parse_percent,
    parse_progress,
)
from airflow_provider_lms.models.inputs import ScoreRow
from airflow_provider_lms.models.state import EnrollmentState

from .conftest import SECRET, conn_json

BASE = "https://academy.test/api"

# The getResults example of the document (the elided first attempt filled in).
DOC_RESULT = {
    "active": True,
    "completeDate": "2020-02-13",
    "completeDateTime": "2020-02-13T16:23:55Z",
    "completed": True,
    "efficiency": 0.5,
    "expired": False,
    "finished": False,
    "grade": "67%",
    "id": "VOORBEELD-0001",
    "knowledgeIntake": 0.4,
    "name": "Voorbeeldcursus",
    "objectives": [{"knowledgeIntake": 0.5, "name": "Voorbeeldleerdoel", "target": 0.8, "value": 0.3}],
    "objectivesProgress": 0.375,
    "parts": [
        {
            "attempts": [
                {
                    "attemptNr": -1,
                    "completed": True,
                    "criteria": [{"id": "VOORBEELDCRI-001", "maxScore": 100, "name": "Criterium 1", "score": 100}],
                    "passed": True,
                    "progress": None,
                    "score": "100%",
                    "terms": [],
                }
            ],
            "blockName": "Blok 1",
            "completed": True,
            "id": None,
            "name": "Voorbeeld inleveropdracht",
            "partId": 118,
            "passed": True,
            "score": "100%",
            "subType": "SkillAssignment",
            "type": "SkillAssignment",
            "uid": "8e28909d-ff9d-4813-9007-dc7c785c62b0",
        },
        {
            "attempts": [
                {
                    "attemptNr": 2,
                    "completed": True,
                    "criteria": [],
                    "passed": True,
                    "progress": "3/3",
                    "score": "67%",
                    "terms": [{"maxScore": 1, "name": "Examenterm 1", "score": 1, "threshold": 0}],
                }
            ],
            "completed": True,
            "id": None,
            "partId": 223,
            "passed": True,
            "score": "67%",
            "subType": "Assessment",
            "type": "Assessment",
        },
    ],
    "progress": "2/2",
    "uid": "a62b0793-7682-11eb-b67e-06575dd7e8c5",
}


@pytest.fixture
def ans(monkeypatch: pytest.MonkeyPatch) -> ANewSpringHook:
    monkeypatch.setenv("AIRFLOW_CONN_ANS", conn_json("anewspring", base_url=BASE, backoff_base=0.001))
    return ANewSpringHook("ans")


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a/b", "a%2Fb"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("x y", "x%20y"),
        ("100%", "100%25"),
        ("q?x#y", "q%3Fx%23y"),
        ("Jürgen", "J%C3%BCrgen"),
        ("a.b", "a.b"),
    ],
)
def test_an_id_becomes_exactly_one_path_segment(raw: str, encoded: str):
    assert encode_path_segment(raw) == encoded


@respx.mock
def test_requests_carry_the_key_header_accept_json_format_errors_and_form_bodies(ans: ANewSpringHook):
    route = respx.post(f"{BASE}/subscribeGroups/C%2F1").mock(return_value=httpx.Response(200))
    ans.subscribe_groups("C/1", ["G1", "G2"])
    request = route.calls.last.request
    assert request.headers["X-API-Key"] == SECRET and request.headers["Accept"] == "application/json"
    assert request.url.params["_formatErrors"] == "true"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.content == b"groupID=G1&groupID=G2"


@respx.mock
def test_the_uid_form_puts_uids_in_the_query(ans: ANewSpringHook):
    route = respx.post(f"{BASE}/scoreExternalActivity").mock(return_value=httpx.Response(200))
    ans.score_external_activity("u-uid", "c-uid", "ACT/1", score=66.5, passed=True, address_by="uid")
    request = route.calls.last.request
    assert dict(request.url.params) == {
        "_formatErrors": "true",
        "userUID": "u-uid",
        "courseUID": "c-uid",
        "activityID": "ACT/1",
    }
    assert parse_qs(request.content.decode()) == {"score": ["66.5"], "passed": ["true"]}


@respx.mock
def test_field_names_can_be_overridden_per_call(ans: ANewSpringHook):
    route = respx.post(f"{BASE}/updateSubscription/u/c").mock(return_value=httpx.Response(200))
    ans.update_subscription("u", "c", expiry_date="2026-12-31", expired=False, field_names={"expiry_date": "endDate"})
    assert parse_qs(route.calls.last.request.content.decode()) == {"endDate": ["2026-12-31"], "expired": ["false"]}


@respx.mock
def test_subscribe_counts_409_and_is_subscribed_as_already_done(ans: ANewSpringHook):
    respx.get(f"{BASE}/isSubscribed/u1/c").mock(return_value=httpx.Response(200, json={"result": True}))
    assert ans.subscribe_learner("c", "u1").status.value == "already_done"
    respx.post(f"{BASE}/subscribe/u2/c").mock(return_value=httpx.Response(409, text="Conflict: duplicate"))
    assert ans.subscribe_learner("c", "u2", check_first=False).status.value == "already_done"


@respx.mock
def test_a_lost_subscribe_answer_is_checked_not_resent(ans: ANewSpringHook):
    post = respx.post(f"{BASE}/subscribe/u/c").mock(side_effect=httpx.ReadTimeout("lost"))
    respx.get(f"{BASE}/isSubscribed/u/c").mock(return_value=httpx.Response(200, json={"result": True}))
    assert ans.subscribe_learner("c", "u", check_first=False).status.value == "done"
    assert post.call_count == 1


@respx.mock
def test_errors_map_to_the_documented_meanings(ans: ANewSpringHook):
    respx.post(f"{BASE}/subscribe/u/c").mock(return_value=httpx.Response(409, text="already subscribed"))
    with pytest.raises(LmsConflictError, match="already subscribed"):
        ans.subscribe("u", "c")
    respx.get(f"{BASE}/getResults/u/c").mock(
        return_value=httpx.Response(404, json={"code": 404, "error": "Not Found", "message": "not subscribed"})
    )
    with pytest.raises(LmsNotFoundError, match="not subscribed"):
        ans.get_course_results("u", "c")
    assert ans.get_enrollment_state(EnrollmentRef(learner_id="u", course_id="c")).state is EnrollmentState.NOT_ENROLLED


def test_error_parser_reads_plain_and_formatted_bodies():
    assert parse_anewspring_error(httpx.Response(404, text="User not found")).message == "User not found"
    nested = httpx.Response(409, json={"error": {"code": 409, "message": "duplicate"}})
    assert parse_anewspring_error(nested).message == "duplicate" and parse_anewspring_error(nested).code == 409


@respx.mock
def test_test_connection_never_shows_the_key(ans: ANewSpringHook):
    respx.get(f"{BASE}/getSubscriptions/airflow-connection-test").mock(return_value=httpx.Response(401, text="nope"))
    ok, message = ans.test_connection()
    assert not ok and SECRET not in message and "401" in message


def test_input_is_checked_before_any_request(ans: ANewSpringHook):
    with pytest.raises(LmsInputError, match="score"):
        ans.score_form(150, None, None)
    with pytest.raises(LmsInputError, match="start_date"):
        ans.update_form("tomorrow", None, None)
    with pytest.raises(LmsInputError, match="activity_id"):
        ans.score_activity(ScoreRow(learner_id="u", course_id="c", score=5))
    with pytest.raises(LmsInputError, match=r"platform_options\.nope"):
        ans.validate_options("subscribe", {"nope": 1})
    with pytest.raises(LmsInputError, match="enrollment"):
        ans.parse_enrollment_id("enrollment_id", "1")


def test_the_documents_example_parses_into_numbers_with_the_raw_text_kept():
    result = ANewSpringCourseResult.model_validate(DOC_RESULT)
    assert (result.grade, result.grade_percent) == ("67%", 67.0)
    assert (result.progress, result.progress_done, result.progress_total) == ("2/2", 2, 2)
    skill, assessment = result.parts
    assert skill.label == "Inleveropdracht" and skill.attempts[0].criteria[0].max_score == 100
    assert assessment.attempts[0].terms[0].threshold == 0 and assessment.attempts[0].progress_done == 3
    assert result.objectives[0].knowledge_intake == 0.5
    assert result.state() is EnrollmentState.PASSED  # no Certificate part: every judged activity passed
    dumped = result.model_dump(by_alias=True)
    assert dumped["completeDateTime"] == "2020-02-13T16:23:55Z" and dumped["grade_percent"] == 67.0


@pytest.mark.parametrize(
    ("flags", "parts", "state"),
    [
        ({"active": False}, [], EnrollmentState.ENROLLED),
        ({"active": True}, [], EnrollmentState.IN_PROGRESS),
        ({"expired": True, "finished": True}, [], EnrollmentState.EXPIRED),
        ({"finished": True}, [], EnrollmentState.CANCELED),
        ({"completed": True}, [{"type": "Certificate", "passed": False}], EnrollmentState.COMPLETED),
        ({"completed": True, "expired": True}, [{"type": "Certificate", "passed": True}], EnrollmentState.PASSED),
        ({"completed": True}, [{"type": "External", "completed": True, "passed": False}], EnrollmentState.FAILED),
        ({"completed": True}, [{"type": "Lesson", "completed": True, "passed": False}], EnrollmentState.COMPLETED),
    ],
)
def test_normalized_state_follows_the_documents_flags(flags: dict, parts: list, state: EnrollmentState):
    result = ANewSpringCourseResult.model_validate({**flags, "parts": parts})
    assert result.state() is state
    assert result.normalized("u").certified is (state is EnrollmentState.PASSED and bool(parts))


def test_scores_progress_and_activity_types_from_the_document():
    assert parse_percent("67%") == 67.0 and parse_percent("67,5%") == 67.5 and parse_percent(None) is None
    assert parse_progress("11/16") == (11, 16) and parse_progress(None) is None
    assert activity_label("External", "LTI-2p0") == "Externe activiteit met LTI"
    assert activity_label("Evaluation", "360-degrees") == "360° feedback"
    assert sum(len(s) for s in ACTIVITY_TYPES.values()) == 17
    assert json.dumps(ANewSpringCourseResult.model_validate(DOC_RESULT).normalized("u").model_dump(mode="json"))

"""The aNewSpring hook, operators and sensor over real HTTP against the sandbox's aNewSpring double."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx
import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred

from airflow_provider_lms.hooks.anewspring import ANewSpringHook
from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.http import LmsCapabilityError, LmsConflictError, LmsInputError, LmsNotFoundError
from airflow_provider_lms.models.inputs import ScoreRow
from airflow_provider_lms.models.state import EnrollmentState
from airflow_provider_lms.operators import LmsScoreExternalActivityOperator, LmsSubscribeOperator
from airflow_provider_lms.operators.subscriptions import (
    LmsSubscribeGroupsOperator,
    LmsUnsubscribeOperator,
    LmsUpdateSubscriptionOperator,
)
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.anewspring import ANEWSPRING_SANDBOX_API_KEY
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from tests.task_context import ctx

COURSE = "VEILIG-2026"
EXAM = "EXAMEN-PRAKTIJK"
KEY = {"X-API-Key": ANEWSPRING_SANDBOX_API_KEY}


@pytest.fixture
def conn(anewspring_conn: str) -> str:
    return anewspring_conn


@pytest.fixture
def hook(anewspring_hook: ANewSpringHook) -> ANewSpringHook:
    return anewspring_hook


def control(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{sandbox.control_url}/anewspring{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json()


def subs(sandbox: SandboxServer) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["user_id"], s["course_id"]): s for s in control(sandbox, "GET", "/state")["subscriptions"]}


# -- ids that try to escape their path segment -------------------------------------------------------------

NASTY_USERS = ["a/b", "..", ".", "x y", "Jürgen-Ωμέγα-学生", "100%", "50%2Fx", "q?x=1", "h#frag", "../getResults"]
NASTY_COURSES = ["C/1", "..", "Cursus ë 2026", "30%"]


def test_ids_with_slashes_dots_spaces_unicode_and_percent_reach_the_intended_endpoint_intact(
    sandbox: SandboxServer, hook: ANewSpringHook
):
    # Decoys: if an id leaked out of its segment, these would be what the request hit instead.
    control(sandbox, "POST", "/users", json={"users": [{"id": u} for u in [*NASTY_USERS, "a", "b", "x", "getResults"]]})
    for course in NASTY_COURSES:
        control(sandbox, "POST", "/courses", json={"id": course, "template": COURSE})
    for user in NASTY_USERS:
        for course in NASTY_COURSES:
            assert hook.subscribe_learner(course, user).status.value == "done"
            assert hook.is_subscribed(user, course)
            row = ScoreRow(learner_id=user, course_id=course, activity_id=EXAM, score=70)
            assert hook.score_activity(row).status.value == "done"
            assert hook.get_activity_results(user, course, EXAM).score == "70%"
            assert hook.get_course_results(user, course).id == course
            assert hook.update_learner_subscription(course, user, start_date="2026-05-01").status.value == "done"
    calls = control(sandbox, "GET", "/calls")
    assert calls, "the sandbox logged no calls"
    expected_functions = {
        "isSubscribed",
        "subscribe",
        "getResults",
        "scoreExternalActivity",
        "getSubscriptions",
        "updateSubscription",
    }
    assert {c["function"] for c in calls} == expected_functions
    for call in calls:
        assert call["user"] in NASTY_USERS, call
        assert call["course"] in (None, *NASTY_COURSES), call
        # One segment per id: the raw path has exactly as many slashes as the call has ids.
        ids = [i for i in (call["user"], call["course"], call["activity"]) if i is not None]
        assert call["raw_path"].count("/") == 3 + len(ids), call
    state = subs(sandbox)
    assert {k for k in state} == {(u, c) for u in NASTY_USERS for c in NASTY_COURSES}
    assert all(s["times_subscribed"] == 1 and s["external_scores"] == {EXAM: 70.0} for s in state.values())
    assert all(s["start_date"] == "2026-05-01" for s in state.values())


def test_the_uid_form_addresses_by_query_and_reaches_the_same_records(sandbox: SandboxServer, hook: ANewSpringHook):
    user = control(sandbox, "POST", "/users", json={"users": [{"id": "learner-001"}]})["users"][0]
    # The course's uid comes from the platform itself: subscribe by id once, read it back.
    hook.subscribe("learner-002", COURSE)
    course_uid = hook.get_subscriptions("learner-002")[0].uid
    assert course_uid
    opts = {"address_by": "uid"}
    assert hook.subscribe_learner(course_uid, user["uid"], **opts).status.value == "done"
    assert hook.subscribe_learner(course_uid, user["uid"], **opts).status.value == "already_done"
    row = ScoreRow(learner_id=user["uid"], course_id=course_uid, activity_id=EXAM, score=90, passed=True)
    assert hook.score_activity(row, **opts).status.value == "done"
    assert hook.get_course_results(user["uid"], course_uid, address_by="uid").part(EXAM).score_percent == 90.0
    assert hook.unsubscribe_learner(course_uid, user["uid"], **opts).status.value == "done"
    calls = [c for c in control(sandbox, "GET", "/calls") if c["address_by"] == "uid"]
    assert calls and all(c["raw_path"].count("/") == 3 for c in calls)  # /anewspring/api/<function> only
    assert not subs(sandbox)[("learner-001", COURSE)]["subscribed"]


# -- the platform's dialect --------------------------------------------------------------------------------------


def test_errors_are_plain_text_unless_formatted_and_404_409_mean_what_the_document_says(sandbox: SandboxServer):
    base = f"{sandbox.url}/anewspring/api"
    plain = httpx.get(f"{base}/isSubscribed/nobody/{COURSE}", headers=KEY)
    assert plain.status_code == 404 and plain.headers["content-type"].startswith("text/plain")
    assert "nobody" in plain.text
    formatted = httpx.get(f"{base}/isSubscribed/nobody/{COURSE}", params={"_formatErrors": "true"}, headers=KEY)
    assert formatted.status_code == 404 and formatted.json()["code"] == 404
    assert httpx.post(f"{base}/subscribe/learner-001/{COURSE}", headers=KEY).status_code == 200
    assert httpx.post(f"{base}/subscribe/learner-001/{COURSE}", headers=KEY).status_code == 409
    assert httpx.get(f"{base}/getResults/learner-002/{COURSE}", headers=KEY).status_code == 404  # not subscribed
    assert httpx.get(f"{base}/isSubscribed/learner-001/{COURSE}").status_code == 401
    key_in_query = httpx.get(f"{base}/isSubscribed/learner-001/{COURSE}", params={"_key": ANEWSPRING_SANDBOX_API_KEY})
    assert key_in_query.json() == {"result": True}
    json_body = httpx.post(f"{base}/updateSubscription/learner-001/{COURSE}", json={"expired": True}, headers=KEY)
    assert json_body.status_code == 415  # POST bodies are form-encoded
    assert httpx.get(f"{base}/subscribe/learner-001/{COURSE}", headers=KEY).status_code == 405
    ok = httpx.post(f"{base}/subscribe/learner-002/{COURSE}", headers=KEY)
    assert ok.status_code == 200 and ok.content == b""


def test_subscribe_groups_sends_repeated_group_ids_and_the_documents_uid_spellings_work(
    sandbox: SandboxServer, hook: ANewSpringHook
):
    hook.subscribe_groups(COURSE, ["COHORT-2026-A", "COHORT-2026-B"])
    logged = [r for r in httpx.get(f"{sandbox.control_url}/requests").json() if "subscribeGroups" in r["path"]]
    assert logged[0]["form"] == {"groupID": ["COHORT-2026-A", "COHORT-2026-B"]}
    assert logged[0]["content_type"].startswith("application/x-www-form-urlencoded")
    assert len(subs(sandbox)) == 5
    hook.subscribe_groups(COURSE, ["COHORT-2026-A"])  # again: nobody twice
    assert all(s["times_subscribed"] == 1 for s in subs(sandbox).values())
    # The document writes the UID forms as /subscribe?courseUID= and /updateSubscriptions?userUID=.
    base = f"{sandbox.url}/anewspring/api"
    hook.subscribe("learner-001", "EHBO-2026")
    ehbo_uid = next(s.uid for s in hook.get_subscriptions("learner-001") if s.id == "EHBO-2026")
    r = httpx.post(f"{base}/subscribe", params={"courseUID": ehbo_uid}, data={"groupID": "COHORT-2026-B"}, headers=KEY)
    assert r.status_code == 200 and ("learner-004", "EHBO-2026") in subs(sandbox)
    user_uid = control(sandbox, "POST", "/users", json={"users": [{"id": "learner-004"}]})["users"][0]["uid"]
    r = httpx.post(
        f"{base}/updateSubscriptions",
        params={"userUID": user_uid, "courseUID": ehbo_uid},
        data={"expireDate": "2027-01-31"},
        headers=KEY,
    )
    assert r.status_code == 200 and subs(sandbox)[("learner-004", "EHBO-2026")]["expire_date"] == "2027-01-31"


def test_results_move_forward_when_told_and_the_state_follows(sandbox: SandboxServer, hook: ANewSpringHook):
    ref = EnrollmentRef(learner_id="learner-003", course_id=COURSE)
    assert hook.get_enrollment_state(ref).state is EnrollmentState.NOT_ENROLLED
    hook.subscribe("learner-003", COURSE)
    assert hook.get_enrollment_state(ref).state is EnrollmentState.ENROLLED
    steps = []
    for _ in range(3):
        steps.append(
            control(sandbox, "POST", "/advance", json={"user_id": "learner-003", "course_id": COURSE})["stage"]
        )
        steps.append(hook.get_enrollment_state(ref).state)
    assert steps == [
        "activity_scored",
        EnrollmentState.IN_PROGRESS,
        "course_completed",
        EnrollmentState.COMPLETED,
        "certificate_passed",
        EnrollmentState.PASSED,
    ]
    final = hook.get_enrollment_state(ref)
    assert final.certified is True and final.completed_at and final.raw["progress"] == "5/5"
    result = hook.get_course_results("learner-003", COURSE)
    assessment = result.part("TOETS-KENNIS")
    assert assessment and [a.attempt_nr for a in assessment.attempts] == [1, 2]
    assert assessment.attempts[1].score_percent == 67.0 and assessment.attempts[1].progress_total == 3
    assert len(assessment.attempts[1].terms) == 3
    assert [p.label for p in result.parts] == ["Les", "Toets", "Externe activiteit", "Vragenlijst", "Certificaat"]
    evaluation = next(p for p in result.parts if p.type == "Evaluation")
    assert evaluation.passed is None and evaluation.score is None
    # Expired after completion: still passed; expired before completion: expired.
    hook.subscribe("learner-004", COURSE)
    hook.update_subscription("learner-004", COURSE, expired=True)
    assert hook.get_enrollment_state(EnrollmentRef(learner_id="learner-004", course_id=COURSE)).state is (
        EnrollmentState.EXPIRED
    )


def test_unsubscribe_update_and_conflicts_through_the_hook(sandbox: SandboxServer, hook: ANewSpringHook):
    hook.subscribe("learner-001", COURSE)
    with pytest.raises(LmsConflictError):
        hook.subscribe("learner-001", COURSE)
    with pytest.raises(LmsNotFoundError) as err:
        hook.unsubscribe("learner-002", COURSE)
    assert "not subscribed" in str(err.value)  # the formatted error's message reaches the exception
    hook.unsubscribe("learner-001", COURSE)
    assert not hook.is_subscribed("learner-001", COURSE)
    finished = next(s for s in hook.get_subscriptions("learner-001") if s.id == COURSE)
    assert finished.finished and not finished.expired and finished.unsubscribed
    hook.subscribe("learner-001", COURSE)  # a fresh subscription after an unsubscription
    with pytest.raises(LmsInputError, match="score"):
        hook.score_external_activity("learner-001", COURSE, EXAM, score=101)
    with pytest.raises(LmsInputError, match="address_by"):
        hook.is_subscribed("learner-001", COURSE, address_by="email")  # type: ignore[arg-type]


def test_test_connection_reports_a_bad_key_without_showing_it(conn: str, monkeypatch: pytest.MonkeyPatch):
    assert ANewSpringHook(conn).test_connection()[0] is True
    bad = json.loads(os.environ["AIRFLOW_CONN_ANS"])
    bad["password"] = "wrong-key-123456"
    monkeypatch.setenv("AIRFLOW_CONN_ANS", json.dumps(bad))
    ok, message = ANewSpringHook(conn).test_connection()
    assert not ok and "401" in message and "wrong-key-123456" not in message


# -- generic operators ---------------------------------------------------------------------------------------------


def test_operators_subscribe_score_update_and_unsubscribe_and_reruns_change_nothing(sandbox: SandboxServer, conn: str):
    learners = ["learner-001", "learner-002", "learner-003"]
    subscribe = LmsSubscribeOperator(task_id="s", lms_conn_id=conn, course_id=COURSE, learner_ids=learners)
    first = subscribe.execute(ctx())
    assert (first["done"], first["already_done"]) == (3, 0)
    again = LmsSubscribeOperator(task_id="s", lms_conn_id=conn, course_id=COURSE, learner_ids=learners).execute(ctx())
    assert (again["done"], again["already_done"]) == (0, 3)

    rows = [
        {"learner_id": u, "course_id": COURSE, "activity_id": EXAM, "score": 60 + i} for i, u in enumerate(learners)
    ]
    scored = LmsScoreExternalActivityOperator(task_id="x", lms_conn_id=conn, scores=rows).execute(ctx())
    assert scored["done"] == 3
    rescored = LmsScoreExternalActivityOperator(task_id="x", lms_conn_id=conn, scores=rows).execute(ctx())
    assert rescored["already_done"] == 3
    assert {k[0]: v["score_posts"] for k, v in subs(sandbox).items()} == dict.fromkeys(learners, 1)

    update = LmsUpdateSubscriptionOperator(
        task_id="u",
        lms_conn_id=conn,
        course_id=COURSE,
        learner_ids=learners[:2],
        start_date="2026-06-01",
        expired=False,
    )
    assert update.execute(ctx())["done"] == 2
    assert (
        LmsUpdateSubscriptionOperator(
            task_id="u",
            lms_conn_id=conn,
            course_id=COURSE,
            learner_ids=learners[:2],
            start_date="2026-06-01",
            expired=False,
        ).execute(ctx())["already_done"]
        == 2
    )
    renamed = LmsUpdateSubscriptionOperator(
        task_id="u",
        lms_conn_id=conn,
        course_id=COURSE,
        learner_ids=["learner-003"],
        expiry_date="2026-12-31",
        platform_options={"field_names": {"expiry_date": "expiryDate"}},
        fail_on_item_error=False,
    ).execute(ctx())
    assert renamed["failed"] == 1 and "expiryDate" in renamed["items"][0]["error"]  # the override is what is sent

    unsub = LmsUnsubscribeOperator(task_id="d", lms_conn_id=conn, course_id=COURSE, learner_ids=["learner-003"])
    assert unsub.execute(ctx())["done"] == 1
    assert (
        LmsUnsubscribeOperator(task_id="d", lms_conn_id=conn, course_id=COURSE, learner_ids=["learner-003"]).execute(
            ctx()
        )["already_done"]
        == 1
    )

    groups = LmsSubscribeGroupsOperator(
        task_id="g", lms_conn_id=conn, course_id="EHBO-2026", group_ids=["COHORT-2026-B"]
    )
    assert groups.execute(ctx())["done"] == 1
    assert {k for k in subs(sandbox) if k[1] == "EHBO-2026"} == {
        ("learner-004", "EHBO-2026"),
        ("learner-005", "EHBO-2026"),
    }


def test_operators_validate_before_any_request(sandbox: SandboxServer, conn: str):
    with pytest.raises(LmsInputError, match=r"platform_options\.address_by"):
        LmsSubscribeOperator(
            task_id="s", lms_conn_id=conn, course_id=COURSE, learner_ids=["a"], platform_options={"address_by": "x"}
        ).execute(ctx())
    with pytest.raises(LmsInputError, match="expiry_date"):
        LmsUpdateSubscriptionOperator(
            task_id="u", lms_conn_id=conn, course_id=COURSE, learner_ids=["a"], expiry_date="next week"
        ).execute(ctx())
    assert control(sandbox, "GET", "/calls") == []


def test_operators_on_a_platform_without_the_capability_fail_at_once(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIRFLOW_CONN_EDU", json.dumps({"conn_type": "eduframe", "password": "k"}))
    # Eduframe gains unsubscribe (issue 15); subscribing learner groups stays aNewSpring's (and Pluvo's).
    with pytest.raises(LmsCapabilityError, match="platforms that can: aNewSpring"):
        LmsSubscribeGroupsOperator(task_id="g", lms_conn_id="edu", course_id=1, group_ids=["G"]).execute(ctx())


# -- the sensor in every mode -----------------------------------------------------------------------------------


def test_sensor_pokes_defers_and_its_trigger_completes(sandbox: SandboxServer, hook: ANewSpringHook, conn: str):
    hook.subscribe("learner-005", COURSE)
    sensor = EnrollmentCompletedSensor(
        task_id="w", lms_conn_id=conn, learner_id="learner-005", course_id=COURSE, deferrable=True, poke_interval=0.2
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(ctx())
    poke = EnrollmentCompletedSensor(task_id="p", lms_conn_id=conn, learner_id="learner-005", course_id=COURSE)
    assert poke.poke(ctx()).is_done is False

    trigger = deferred.value.trigger
    control(sandbox, "PUT", "/auto_progress", json={"complete_after_seconds": 0.3})
    hook.score_external_activity("learner-005", COURSE, EXAM, score=88)

    async def first_event() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    payload = asyncio.run(asyncio.wait_for(first_event(), timeout=20))
    assert payload["status"] == "success" and payload["enrollment"]["state"] == "passed"
    assert sensor.execute_complete(ctx(), payload)["certified"] is True
    done = poke.poke(ctx())
    assert done.is_done and done.xcom_value["state"] == "passed"

    # Expired and never completed: the sensor stops waiting at once.
    hook.subscribe("learner-004", COURSE)
    hook.update_subscription("learner-004", COURSE, expired=True)
    with pytest.raises(AirflowException, match="expired"):
        EnrollmentCompletedSensor(task_id="e", lms_conn_id=conn, learner_id="learner-004", course_id=COURSE).poke(ctx())

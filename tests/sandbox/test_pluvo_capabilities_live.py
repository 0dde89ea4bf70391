"""The generic operators and the sensor on Pluvo, over real HTTP against the sandbox, checked in its state.

Each capability once and again (a re-run changes nothing: no second user, enrollment or certificate), mails
only when asked, the learner linked through a group reported as such, the sensor in poke, reschedule and
deferrable mode (its trigger outliving a token expiry), and every document the run sent valid for the schema.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred
from graphql import build_schema, parse, validate

import airflow_provider_lms.sandbox.pluvo as sandbox_pluvo
from airflow_provider_lms.hooks.pluvo_documents import DOCUMENTS
from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.operators import LmsSubscribeOperator
from airflow_provider_lms.operators.enrollment import LmsAwardCertificateOperator
from airflow_provider_lms.operators.learners import LmsEnsureLearnersOperator
from airflow_provider_lms.operators.subscriptions import LmsSubscribeGroupsOperator, LmsUnsubscribeOperator
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from tests.sandbox.test_pluvo_hook_live import CERT, EVENT, G1, T1, T5, U1, control, pluvo_conn, state
from tests.task_context import ctx

LEARNERS = [
    {"email": "learner1@example.org", "first_name": "Learner", "last_name": "1"},  # already in the seed
    {"email": "new.one@example.org", "first_name": "New", "last_name": "One", "external_id": "HR-001"},
    {"email": "new.two@example.org", "first_name": "New", "last_name": "Two", "external_id": "HR-002"},
]


@pytest.fixture
def conn(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> str:
    return pluvo_conn(monkeypatch, sandbox, "pluvo_ops")


def statuses(summary: dict[str, Any]) -> list[str]:
    return [i["status"] for i in summary["items"]]


def ensure(conn: str) -> tuple[dict[str, Any], list[str]]:
    context = ctx()
    summary = LmsEnsureLearnersOperator(task_id="e", lms_conn_id=conn, learners=LEARNERS).execute(context)
    return summary, context["ti"].pushed["learner_ids"]


def test_ensure_learners_creates_once_keeps_refs_and_sends_no_invitation(sandbox: SandboxServer, conn: str):
    first, ids = ensure(conn)
    assert statuses(first) == ["already_done", "done", "done"] and ids[0] == U1
    again, same = ensure(conn)
    assert statuses(again) == ["already_done"] * 3 and same == ids
    users = sandbox.state.pluvo.users.values()
    by_email = Counter(u.email for u in users)
    assert all(by_email[spec["email"]] == 1 for spec in LEARNERS)
    assert {u.ref for u in users if u.email.startswith("new.")} == {"HR-001", "HR-002"}
    assert state(sandbox)["mails"] == []


def test_subscribe_to_a_training_and_to_an_offer_event_reruns_change_nothing(sandbox: SandboxServer, conn: str):
    _, ids = ensure(conn)
    training = LmsSubscribeOperator(task_id="s", lms_conn_id=conn, course_id=T1, learner_ids=ids)
    assert statuses(training.execute(ctx())) == ["done"] * 3
    assert statuses(training.execute(ctx())) == ["already_done"] * 3
    assert set(state(sandbox)["participants"][T1]) == set(ids)

    event = LmsSubscribeOperator(
        task_id="o", lms_conn_id=conn, course_id=EVENT, learner_ids=ids, platform_options={"target": "offer_event"}
    )
    context = ctx()
    assert statuses(event.execute(context)) == ["done"] * 3
    assert len(context["ti"].pushed["enrollment_ids"]) == 3
    assert statuses(event.execute(ctx())) == ["already_done"] * 3
    per_learner = Counter(e["user_id"] for e in state(sandbox)["enrollments"] if e["offer_event_id"] == EVENT)
    assert per_learner == dict.fromkeys(ids, 1)
    assert state(sandbox)["mails"] == []  # neither sendInvites nor sendMail unless asked


def test_invitations_go_out_only_when_asked(sandbox: SandboxServer, conn: str):
    LmsSubscribeOperator(
        task_id="s", lms_conn_id=conn, course_id=T1, learner_ids=[U1], platform_options={"send_invites": True}
    ).execute(ctx())
    assert [m["user_id"] for m in state(sandbox)["mails"]] == [U1]


def test_an_invitation_goes_out_on_ensure_learners_only_when_asked(sandbox: SandboxServer, conn: str):
    invited = [{"email": "invited@example.org", "first_name": "In", "last_name": "Vited"}]
    LmsEnsureLearnersOperator(
        task_id="e", lms_conn_id=conn, learners=invited, platform_options={"send_invite": True}
    ).execute(ctx())
    assert [m["to"] for m in state(sandbox)["mails"]] == ["invited@example.org"]


def test_a_group_is_subscribed_through_its_members_once(sandbox: SandboxServer, conn: str):
    op = LmsSubscribeGroupsOperator(task_id="g", lms_conn_id=conn, course_id=T1, group_ids=[G1])
    first = op.execute(ctx())
    assert statuses(first) == ["done"] and first["items"][0]["result"]["members"] == 5
    assert statuses(op.execute(ctx())) == ["already_done"]
    assert set(state(sandbox)["participants"][T1]) == set(state(sandbox)["groups"][G1]["user_ids"])


def test_unsubscribe_says_when_a_learner_is_linked_through_a_group(sandbox: SandboxServer, conn: str):
    LmsSubscribeOperator(task_id="s", lms_conn_id=conn, course_id=T1, learner_ids=[U1]).execute(ctx())
    direct = LmsUnsubscribeOperator(task_id="u", lms_conn_id=conn, course_id=T1, learner_ids=[U1])
    assert statuses(direct.execute(ctx())) == ["done"]
    assert statuses(direct.execute(ctx())) == ["already_done"]
    assert T1 not in state(sandbox)["participants"]
    via_group = "00000000-0000-4000-8000-000000000002"  # reaches training 5 through group 2
    linked = LmsUnsubscribeOperator(
        task_id="l", lms_conn_id=conn, course_id=T5, learner_ids=[via_group], fail_on_item_error=False
    ).execute(ctx())
    assert statuses(linked) == ["failed"]
    assert "through a group or an offer-event enrollment" in linked["items"][0]["error"]
    assert "removeUsersFromGroup" in linked["items"][0]["error"]


def test_a_certificate_is_awarded_once_whatever_the_reruns(sandbox: SandboxServer, conn: str):
    _, ids = ensure(conn)
    op = LmsAwardCertificateOperator(
        task_id="c", lms_conn_id=conn, program_id=T1, learner_ids=ids, certificate_template_id=CERT
    )
    assert statuses(op.execute(ctx())) == ["done"] * 3
    assert statuses(op.execute(ctx())) == ["already_done"] * 3
    held = Counter(i["user_id"] for i in state(sandbox)["portfolio_items"] if i["certificate_id"] == CERT)
    assert held == dict.fromkeys(ids, 1)
    assert {i["training_id"] for i in state(sandbox)["portfolio_items"]} == {T1}


def test_bad_input_fails_before_any_request(sandbox: SandboxServer, conn: str):
    control(sandbox, "DELETE", "/requests")
    cases = [
        (LmsSubscribeOperator, {"course_id": T1, "learner_ids": ["user-1"]}, r"learner_ids\[0\]"),
        (LmsSubscribeOperator, {"course_id": "training-1", "learner_ids": [U1]}, "course_id"),
        (
            LmsSubscribeOperator,
            {"course_id": T1, "learner_ids": [U1], "platform_options": {"target": "group"}},
            "platform_options.target",
        ),
        (LmsAwardCertificateOperator, {"program_id": T1, "learner_ids": [U1]}, "certificate_template_id"),
        (LmsSubscribeGroupsOperator, {"course_id": T1, "group_ids": ["group-1"]}, r"group_ids\[0\]"),
        (
            LmsEnsureLearnersOperator,
            {"learners": LEARNERS, "platform_options": {"send_invites": True}},
            "platform_options.send_invites",
        ),
    ]
    for cls, kwargs, field in cases:
        with pytest.raises(LmsInputError, match=field):
            cls(task_id="x", lms_conn_id=conn, **kwargs).execute(ctx())
    assert control(sandbox, "GET", "/requests") == []


# -- the sensor in every mode --------------------------------------------------------------------------------------
def test_the_sensor_pokes_reschedules_and_defers_through_a_token_expiry(sandbox: SandboxServer, conn: str):
    LmsSubscribeOperator(task_id="s", lms_conn_id=conn, course_id=T1, learner_ids=[U1]).execute(ctx())
    kwargs = {"lms_conn_id": conn, "learner_id": U1, "course_id": T1, "poke_interval": 0.2}
    poke = EnrollmentCompletedSensor(task_id="p", **kwargs)
    reschedule = EnrollmentCompletedSensor(task_id="r", mode="reschedule", **kwargs)
    assert poke.poke(ctx()).is_done is False
    control(sandbox, "POST", "/pluvo/progress", json={"user_id": U1, "training_id": T1, "progress": 0.4})
    assert reschedule.poke(ctx()).is_done is False

    deferrable = EnrollmentCompletedSensor(task_id="d", deferrable=True, **kwargs)
    with pytest.raises(TaskDeferred) as deferred:
        deferrable.execute(ctx())
    trigger = deferred.value.trigger
    # Tokens the trigger holds expire on the sandbox while it waits (longer than the hook's refresh margin).
    control(sandbox, "PUT", "/pluvo/token_lifetime", json={"seconds": 400})
    control(sandbox, "PUT", "/pluvo/settings", json={"auth_failure": "graphql_error"})

    async def wait_for_event() -> Any:
        async def run() -> Any:
            async for event in trigger.run():
                return event.payload
            return None

        task = asyncio.ensure_future(run())
        await asyncio.sleep(0.6)
        await asyncio.to_thread(httpx.post, f"{sandbox.control_url}/clock/advance", json={"seconds": 500})
        await asyncio.sleep(0.6)
        await asyncio.to_thread(
            httpx.post, f"{sandbox.control_url}/pluvo/complete_training", json={"user_id": U1, "training_id": T1}
        )
        return await asyncio.wait_for(task, timeout=20)

    issued = state(sandbox)["tokens_issued"]
    payload = asyncio.run(wait_for_event())
    assert payload["status"] == "success", payload
    assert payload["enrollment"]["state"] == "completed" and payload["enrollment"]["completed_at"]
    assert state(sandbox)["tokens_issued"] >= issued + 2  # one for the trigger, one after the expiry
    assert deferrable.execute_complete(ctx(), payload)["raw"]["progress"] == 1.0
    for sensor in (poke, reschedule):
        done = sensor.poke(ctx())
        assert done.is_done and done.xcom_value["state"] == "completed"


def test_the_sensor_refuses_to_wait_for_a_pass_pluvo_never_reports(sandbox: SandboxServer, conn: str):
    control(sandbox, "DELETE", "/requests")
    sensor = EnrollmentCompletedSensor(task_id="x", lms_conn_id=conn, learner_id=U1, course_id=T1, require_passed=True)
    with pytest.raises(LmsInputError, match="require_passed"):
        sensor.poke(ctx())
    assert control(sandbox, "GET", "/requests") == []


def test_the_sensor_stops_at_once_for_a_learner_not_in_the_training(conn: str):
    sensor = EnrollmentCompletedSensor(task_id="n", lms_conn_id=conn, learner_id=U1, course_id=T5)
    with pytest.raises(AirflowException, match="not_enrolled"):
        sensor.poke(ctx())


# -- what went over the wire -----------------------------------------------------------------------------------------
def test_every_document_sent_is_registered_and_valid_and_no_page_is_over_50(sandbox: SandboxServer, conn: str):
    _, ids = ensure(conn)
    LmsSubscribeOperator(task_id="s", lms_conn_id=conn, course_id=T1, learner_ids=ids).execute(ctx())
    LmsSubscribeOperator(
        task_id="o", lms_conn_id=conn, course_id=EVENT, learner_ids=ids, platform_options={"target": "offer_event"}
    ).execute(ctx())
    LmsSubscribeGroupsOperator(task_id="g", lms_conn_id=conn, course_id=T1, group_ids=[G1]).execute(ctx())
    LmsAwardCertificateOperator(
        task_id="c", lms_conn_id=conn, program_id=T1, learner_ids=ids, certificate_template_id=CERT
    ).execute(ctx())
    EnrollmentCompletedSensor(task_id="p", lms_conn_id=conn, learner_id=ids[1], course_id=T1).poke(ctx())
    schema = build_schema((Path(sandbox_pluvo.__file__).parent / "schema.graphql").read_text(encoding="utf-8"))
    sent = [r["json"] for r in control(sandbox, "GET", "/requests", params={"path_prefix": "/pluvo/graphql"})]
    assert len(sent) > 10
    for body in sent:
        assert body["query"] in DOCUMENTS.values()
        assert validate(schema, parse(body["query"])) == []
        assert (body.get("variables") or {}).get("first", 0) <= 50

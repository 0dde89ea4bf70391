"""No API key, password, client secret, OAuth token or webhook secret shows up anywhere a person can see.

One run drives every platform with the sandbox's credentials through faults and through wrong
credentials, then greps everything it produced for every secret:

* the captured log records (every logger, DEBUG and up, including exception text);
* XCom (the return values and everything pushed);
* the exceptions raised, their ``repr`` and their ``__cause__`` chain;
* the operators' rendered template fields (``render_template_fields``);
* test_connection messages;
* the webhook receiver's answers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from airflow_provider_lms.hooks.registry import get_lms_hook
from airflow_provider_lms.operators import LmsSubscribeOperator
from airflow_provider_lms.operators.lara import LaraChangeCurrentMemberStatusOperator
from airflow_provider_lms.operators.pynter import PynterUpsertEmployeesOperator
from airflow_provider_lms.operators.subscriptions import LmsUnsubscribeOperator
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.anewspring import ANEWSPRING_SANDBOX_API_KEY
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY
from airflow_provider_lms.sandbox.lara import LARA_CREDENTIALS
from airflow_provider_lms.sandbox.pluvo import PLUVO_SANDBOX_CLIENT_SECRET
from airflow_provider_lms.sandbox.pynter import PYNTER_SANDBOX_PASSWORD
from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from airflow_provider_lms.webhooks.receiver import create_webhook_app
from tests.faults.conftest import FIGURES, STORM_EXTRAS, FakeTI, connect, control

WEBHOOK_SECRETS = {
    "pluvo": "pluvo-wh-secret-91f3e",
    "anewspring": "ans-wh-secret-0d7c2",
    "eduframe": "edu-wh-token-6ab19",
}
WRONG = {
    "eduframe": "wrong-eduframe-key-4411",
    "anewspring": "wrong-anewspring-key-8823",
    "pynter": "wrong-pynter-pass-1177",
    "pluvo": "wrong-pluvo-secret-5590",
}


def _secrets(sandbox: SandboxServer) -> set[str]:
    found = {
        EDUFRAME_SANDBOX_API_KEY,
        ANEWSPRING_SANDBOX_API_KEY,
        PYNTER_SANDBOX_PASSWORD,
        PLUVO_SANDBOX_CLIENT_SECRET,
        *LARA_CREDENTIALS.values(),
        *WEBHOOK_SECRETS.values(),
        *WRONG.values(),
    }
    # OAuth tokens the sandbox's Pluvo issued during the run: obtained at run time, so masked by us.
    found |= set(sandbox.state.pluvo.tokens)
    return {s for s in found if s}


def _run(what: list[Any], sink: list[str], fn: Any) -> Any:
    try:
        result = fn()
    except Exception as exc:  # every exception is part of what is scanned
        chain: list[str] = []
        current: BaseException | None = exc
        while current is not None:
            chain += [str(current), repr(current), repr(getattr(current, "args", ""))]
            current = current.__cause__ or current.__context__
        sink.extend(chain)
        return None
    what.append(result)
    return result


def test_no_secret_in_logs_xcom_exceptions_templates_or_webhook_answers(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    conns = {
        p: connect(monkeypatch, sandbox, p, **STORM_EXTRAS)
        for p in ("eduframe", "anewspring", "lara", "pynter", "pluvo")
    }
    results: list[Any] = []
    errors: list[str] = []
    rendered: list[str] = []
    tis: list[FakeTI] = []
    messages: list[str] = []

    def execute(op: Any) -> None:
        ti = FakeTI()
        tis.append(ti)
        # Templates render from the context the way Airflow does it, then the operator runs.
        op.render_template_fields({"ti": ti, "ds": "2026-01-01", "params": {}})
        rendered.extend(json.dumps(getattr(op, f), default=str) for f in op.template_fields)
        _run(results, errors, lambda: op.execute({"ti": ti}))

    with caplog.at_level(logging.DEBUG):
        control(
            sandbox, "PUT", "/faults", json={"fault_rate": 0.3, "kinds": ["429", "503", "drop", "notjson"], "seed": 3}
        )
        execute(
            LmsSubscribeOperator(
                task_id="s", lms_conn_id=conns["eduframe"], course_id="{{ 1 }}", learner_ids=["2", "3"]
            )
        )
        execute(
            LmsUnsubscribeOperator(
                task_id="u", lms_conn_id=conns["anewspring"], course_id="VEILIG-2026", learner_ids=["learner-001"]
            )
        )
        members = [m["userId"] for m in control(sandbox, "GET", "/lara/state").json()["members"]][:2]
        execute(
            LaraChangeCurrentMemberStatusOperator(
                task_id="l", lms_conn_id=conns["lara"], members=members, status="Membre"
            )
        )
        # Pluvo: a token fetched at run time, GraphQL under faults (a mutation and the queries around it).
        execute(
            LmsSubscribeOperator(
                task_id="pl",
                lms_conn_id=conns["pluvo"],
                course_id="10000000-0000-4000-8000-000000000001",
                learner_ids=["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"],
            )
        )
        execute(
            EnrollmentCompletedSensorProbe(
                conns["pluvo"], "00000000-0000-4000-8000-000000000001", "10000000-0000-4000-8000-000000000001"
            )
        )
        execute(
            PynterUpsertEmployeesOperator(
                task_id="p",
                lms_conn_id=conns["pynter"],
                employees=[{"external_id": "S1", "first_name": "S", "family_name": "T", "email": "s@sandbox.example"}],
            )
        )
        control(sandbox, "DELETE", "/faults")
        for conn in conns.values():
            hook = get_lms_hook(conn)
            messages.append(str(hook.test_connection()))
        # Wrong credentials: the errors and the test_connection messages must not show what was tried.
        for platform, wrong in WRONG.items():
            login_conn = connect(monkeypatch, sandbox, platform, **STORM_EXTRAS)
            env = f"AIRFLOW_CONN_{login_conn.upper()}"
            conn_json = json.loads(__import__("os").environ[env])
            conn_json["password"] = wrong
            monkeypatch.setenv(env, json.dumps(conn_json))
            hook = get_lms_hook(login_conn)
            messages.append(str(hook.test_connection()))
            _run(results, errors, lambda hook=hook: hook.check_connection())
        # The webhook receiver, right and wrong.
        client = TestClient(create_webhook_app(secrets=WEBHOOK_SECRETS.get, recorder=_Recorder()))
        answers = []
        for platform in ("pluvo", "anewspring"):
            for secret in (WEBHOOK_SECRETS[platform], "forged"):
                d = WebhookSender(platform, secret).sign("http://x", {"event": "X_Y", "id": "1", "userID": "u"})
                answers.append(client.post(f"/{platform}", content=d.body, headers=d.headers))
        answers.append(client.post(f"/eduframe/{WEBHOOK_SECRETS['eduframe']}", json={"event": "enrollment.updated"}))
        answers.append(client.post("/eduframe/not-it", json={"event": "enrollment.updated"}))

    secrets = _secrets(sandbox)
    assert len(secrets) >= 12 and sandbox.state.pluvo.tokens, "the run must have used every kind of secret"
    haystacks = {
        "logs": "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records),
        "xcom": json.dumps([results, [ti.pushed for ti in tis]], default=str),
        "exceptions": "\n".join(errors),
        "rendered templates": "\n".join(rendered),
        "test_connection": "\n".join(messages),
        "webhook answers": "\n".join(f"{a.status_code} {a.headers} {a.text}" for a in answers),
    }
    assert "HTTP Request" in haystacks["logs"] or "retry" in haystacks["logs"], "the logs saw real traffic"
    assert errors, "the wrong credentials produced errors to scan"
    leaks = {(where, s[:6] + "...") for where, text in haystacks.items() for s in secrets if s in text}
    assert not leaks, leaks
    FIGURES["secrets checked"] = len(secrets)
    FIGURES["text scanned for secrets (chars)"] += sum(len(t) for t in haystacks.values())


class EnrollmentCompletedSensorProbe:
    """One poke of the sensor on Pluvo, shaped like an operator for ``execute`` above."""

    template_fields = ("lms_conn_id",)

    def __init__(self, lms_conn_id: str, learner_id: str, course_id: str) -> None:
        self.lms_conn_id = lms_conn_id
        self.sensor = EnrollmentCompletedSensor(
            task_id="w", lms_conn_id=lms_conn_id, learner_id=learner_id, course_id=course_id
        )

    def render_template_fields(self, context: dict[str, Any]) -> None:
        self.sensor.render_template_fields(context)

    def execute(self, context: dict[str, Any]) -> Any:
        return self.sensor.poke(context).xcom_value


class _Recorder:
    def record(self, platform: str, key: str, uri: str, extra: dict[str, Any]) -> str:
        return "recorded"


def test_a_runtime_oauth_token_is_masked(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Pluvo token is obtained at run time: Airflow does not know it, so the hook must mask it."""
    masked: list[str | None] = []
    monkeypatch.setattr("airflow_provider_lms.http.auth.mask", masked.append)
    conn = connect(monkeypatch, sandbox, "pluvo", **STORM_EXTRAS)
    ok, _ = get_lms_hook(conn).test_connection()
    assert ok
    issued = set(sandbox.state.pluvo.tokens)
    assert issued and issued <= set(masked)

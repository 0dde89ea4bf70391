"""EduframeHook and the generic operators over real HTTP against the sandbox.

Every exchange a test makes is afterwards validated against eduframe-openapi-v1.json, so the hook's
requests are held to the published document, not just to our own sandbox.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_lms.hooks.base import EnrollmentRef
from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.http import BulkRunner, ItemStatus, LmsAuthenticationError
from airflow_provider_lms.http.ratelimit import _registry
from airflow_provider_lms.models.inputs import LearnerSpec, ScoreRow
from airflow_provider_lms.models.state import EnrollmentState
from airflow_provider_lms.operators import LmsSubscribeOperator
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY
from tests.openapi_helpers import validate_logged_eduframe_exchanges


def _connect(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer, conn_id: str, key: str, **extra) -> str:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps(
            {"conn_type": "eduframe", "password": key, "extra": {"base_url": sandbox.platform_url("eduframe"), **extra}}
        ),
    )
    return conn_id


@pytest.fixture
def hook(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EduframeHook]:
    _registry.clear()
    # These tests make thousands of requests; Eduframe's 500 per 5 minutes is tested on its own below.
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    conn = _connect(
        monkeypatch, sandbox, "live_edu", EDUFRAME_SANDBOX_API_KEY, backoff_base=0.02, rate_limit_requests=10**6
    )
    h = EduframeHook(conn)
    yield h
    h.close()


def control(sandbox: SandboxServer, method: str, path: str, **kwargs) -> httpx.Response:
    response = httpx.request(method, f"{sandbox.control_url}{path}", **kwargs)
    response.raise_for_status()
    return response


def state(sandbox: SandboxServer) -> dict:
    return control(sandbox, "GET", "/eduframe/state").json()


def test_the_whole_hook_surface_speaks_the_documented_api(hook: EduframeHook, sandbox: SandboxServer):
    ok, message = hook.test_connection()
    assert ok and "Sandbox Academy" in message

    anna = hook.ensure_learner(LearnerSpec(email="anna.devries@sandbox.example", first_name="A", last_name="V"))
    new = hook.ensure_learner(LearnerSpec(email="new.learner@sandbox.example", first_name="N", last_name="L"))
    assert anna.status is ItemStatus.ALREADY_DONE and anna.result["learner_id"] == "2"
    assert new.status is ItemStatus.DONE
    learner = new.result["learner_id"]

    first = hook.subscribe_learner("1", learner)
    again = hook.subscribe_learner("1", learner)
    assert first.status is ItemStatus.DONE and again.status is ItemStatus.ALREADY_DONE
    assert first.result["enrollment_id"] == again.result["enrollment_id"]
    program = hook.subscribe_learner("1", learner, target="program_edition")
    assert program.status is ItemStatus.DONE

    ref = EnrollmentRef(enrollment_id=first.result["enrollment_id"])
    assert hook.get_enrollment_state(ref).state is EnrollmentState.ENROLLED
    control(
        sandbox,
        "POST",
        f"/eduframe/enrollments/{first.result['enrollment_id']}/complete",
        json={"graduation_state": "passed"},
    )
    assert hook.get_enrollment_state(ref).state is EnrollmentState.PASSED
    assert (
        hook.get_enrollment_state(EnrollmentRef(learner_id=learner, course_id="2")).state
        is EnrollmentState.NOT_ENROLLED
    )

    row = ScoreRow(learner_id=learner, course_id=1, score=7.5, comment="exam")
    assert hook.score_activity(row).status is ItemStatus.DONE
    assert hook.score_activity(row).status is ItemStatus.ALREADY_DONE
    assert hook.score_activity(row.model_copy(update={"score": 8.0})).status is ItemStatus.DONE

    assert hook.award_certificate(learner, "1", certificate_template_id=1).status is ItemStatus.DONE
    assert hook.award_certificate(learner, "1", certificate_template_id=1).status is ItemStatus.ALREADY_DONE

    assert sum(c.credits for c in hook.list_credits(student_id=2)) == pytest.approx(3.5)
    hook.create_webhook("https://hooks.example/lms", ["enrollment.updated"])
    hook.create_webhook("https://hooks.example/lms", ["enrollment.updated"])
    assert [w.url for w in hook.list_webhooks()] == ["https://hooks.example/lms"]
    assert [p.id for p in hook.list_planned_courses(status=["planned"])] == [1, 2]

    after = state(sandbox)
    enrollment = next(e for e in after["enrollments"] if e["student_id"] == int(learner))
    assert enrollment["grade"]["score"] == "8.0"
    assert len([e for e in after["enrollments"] if e["student_id"] == int(learner)]) == 1
    certified = [p for p in after["program_enrollments"] if p["student_id"] == int(learner)]
    assert len(certified) == 1 and certified[0]["certificate_awarded"]

    log = control(sandbox, "GET", "/requests").json()
    assert validate_logged_eduframe_exchanges(log, sandbox.url) >= 25


def test_a_wrong_key_is_a_readable_failure_without_the_key(sandbox: SandboxServer, monkeypatch):
    wrong = "wrong-key-3b8e1d"
    hook = EduframeHook(_connect(monkeypatch, sandbox, "bad_edu", wrong))
    ok, message = hook.test_connection()
    assert not ok and "401" in message and wrong not in message
    with pytest.raises(LmsAuthenticationError) as info:
        hook.get_user(2)
    assert wrong not in str(info.value)


def test_pages_are_followed_lazily_with_per_page_100(hook: EduframeHook, sandbox: SandboxServer):
    specs = [LearnerSpec(email=f"p{i}@sandbox.example", first_name="P", last_name=str(i)) for i in range(230)]
    summary = BulkRunner(concurrency=8).run("setup", specs, hook.ensure_learner, key=lambda s: s.email)
    learners = [i.result["learner_id"] for i in summary.items]
    BulkRunner(concurrency=8).run("subscribe", learners, lambda lid: hook.subscribe_learner("3", lid), key=str)
    control(sandbox, "DELETE", "/requests")
    seen = [e.student_id for e in hook.list_enrollments(planned_course_id=3)]
    assert sorted(seen) == sorted(int(i) for i in learners)
    pages = [r for r in control(sandbox, "GET", "/requests").json() if r["path"].endswith("/enrollments")]
    assert len(pages) == 3
    assert "per_page=100" in pages[0]["query"]


class _TI:
    def __init__(self) -> None:
        self.xcom: dict = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value


def test_bulk_enrollment_under_30_percent_faults_enrolls_everyone_exactly_once(hook, sandbox, monkeypatch):
    # 200 learners: enough for every fault kind to hit dozens of times (the fault tier storms every operator).
    specs = [LearnerSpec(email=f"f{i}@sandbox.example", first_name="F", last_name=str(i)) for i in range(200)]
    made = BulkRunner(concurrency=16).run("setup", specs, hook.ensure_learner, key=lambda s: s.email)
    learners = [i.result["learner_id"] for i in made.items]
    control(sandbox, "PUT", "/faults", json={"fault_rate": 0.3, "kinds": ["429", "503", "drop"], "seed": 7})

    operator = LmsSubscribeOperator(
        task_id="enroll", lms_conn_id=hook.lms_conn_id, course_id=1, learner_ids=learners, concurrency=16
    )
    summary = operator.execute({"ti": _TI()})  # type: ignore[arg-type]

    injected = control(sandbox, "GET", "/faults").json()["injected"]
    control(sandbox, "DELETE", "/faults")
    per_learner = Counter(e["student_id"] for e in state(sandbox)["enrollments"] if e["planned_course_id"] == 1)
    assert summary["failed"] == 0, [i for i in summary["items"] if i["error"]][:3]
    assert summary["done"] == len(learners) == 200
    assert all(per_learner[int(lid)] == 1 for lid in learners)
    assert sum(per_learner.values()) == len(learners)
    # The faults really happened, and the summary says what was retried.
    assert injected["429"] > 20 and injected["503"] > 20 and injected["drop"] > 20
    assert summary["retries"]["429"] > 0 and summary["retries"]["503"] > 0
    assert summary["retries"].get("transport", 0) + summary["retries"].get("verify-after-failure", 0) > 0
    # A re-run after the storm finds everyone enrolled and orders nothing.
    orders = len(state(sandbox)["orders"])
    rerun = operator.execute({"ti": _TI()})  # type: ignore[arg-type]
    assert rerun["already_done"] == len(learners) and len(state(sandbox)["orders"]) == orders


def test_the_client_side_limit_keeps_a_large_job_free_of_429(sandbox: SandboxServer, monkeypatch):
    _registry.clear()
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 20, "per_seconds": 2})
    hook = EduframeHook(
        _connect(monkeypatch, sandbox, "limited", EDUFRAME_SANDBOX_API_KEY, rate_limit_requests=20, rate_limit_period=2)
    )
    started = time.monotonic()
    BulkRunner(concurrency=8).run("read", list(range(50)), lambda _: hook.get_user(2) and _ok(), key=str)
    elapsed = time.monotonic() - started
    statuses = Counter(r["status"] for r in control(sandbox, "GET", "/requests").json() if "/users/" in r["path"])
    assert statuses == {200: 50}
    assert elapsed >= 4.0  # 50 requests at 20 per 2 s need at least two full windows


def _ok():
    from airflow_provider_lms.http import ItemResult

    return ItemResult()


def test_no_log_line_or_error_carries_the_key(sandbox: SandboxServer, monkeypatch, caplog):
    key = "sbx-log-scan-key-91d0"
    sandbox.state.eduframe.api_keys.add(key)
    hook = EduframeHook(_connect(monkeypatch, sandbox, "scan", key, backoff_base=0.01))
    control(sandbox, "PUT", "/faults", json={"fault_rate": 0.3, "kinds": ["429", "503", "drop"], "seed": 3})
    with caplog.at_level(logging.DEBUG):
        for n in range(20):
            try:
                hook.subscribe_learner("2", str(2 + n % 5))
            except Exception as exc:  # errors are part of what we scan
                logging.getLogger("scan").error("failed: %s %r", exc, exc)
        hook.get_conn().close()
    control(sandbox, "DELETE", "/faults")
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "HTTP Request" in text or "retry" in text  # the scan saw real traffic logs
    assert key not in text

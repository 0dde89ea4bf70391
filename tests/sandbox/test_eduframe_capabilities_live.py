"""Eduframe's withdrawal and HR-sync capabilities over real HTTP against the sandbox.

Unsubscribe (``PUT /enrollments/{id}/cancel``), revoke a program certificate
(``POST /program/enrollments/{id}/delete_certificate``) and learner updates (``PATCH /users/{id}`` behind
``update_existing``), each through its generic operator: what changes in the sandbox, that a re-run changes
nothing, that bad input is refused before any request, and that every exchange the hook made validates
against eduframe-openapi-v1.json. Also the two issue-18 fixes of the subscribe path: one catalog lookup per
task whatever the concurrency, and ``done`` for an item whose read-back after the order failed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_provider_lms.hooks.eduframe import EduframeHook
from airflow_provider_lms.http import LmsInputError
from airflow_provider_lms.http.errors import LmsCapabilityError, LmsServerError
from airflow_provider_lms.http.ratelimit import _registry
from airflow_provider_lms.operators import (
    LmsAwardCertificateOperator,
    LmsEnsureLearnersOperator,
    LmsRevokeCertificateOperator,
    LmsSubscribeOperator,
    LmsUnsubscribeOperator,
)
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.eduframe import EDUFRAME_SANDBOX_API_KEY, EduframeSeed
from tests.openapi_helpers import validate_logged_eduframe_exchanges

ANNA, BRAM, CHLOE, DAAN, EVA = EduframeSeed.LEARNER_IDS
COURSE = EduframeSeed.WORKPLACE_SAFETY_PLANNED_COURSE_ID
EDITION = EduframeSeed.PROGRAM_EDITION_ID
TEMPLATE = EduframeSeed.CERTIFICATE_TEMPLATE_ID
CONN = "caps_edu"


class _TI:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value


def ctx() -> Any:
    return {"ti": _TI()}


def control(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.request(method, f"{sandbox.control_url}{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response


def requests_log(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in control(sandbox, "GET", "/requests").json() if r["path"].startswith("/eduframe/")]


def writes(sandbox: SandboxServer) -> Counter[str]:
    """Method and path shape of every write the sandbox received (ids replaced by ``{}``)."""
    seen: Counter[str] = Counter()
    for r in requests_log(sandbox):
        if r["method"] != "GET":
            path = "/".join("{}" if part.isdigit() else part for part in r["path"].split("/api/v1", 1)[1].split("/"))
            seen[f"{r['method']} {path}"] += 1
    return seen


@pytest.fixture
def conn(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    _registry.clear()
    control(sandbox, "PUT", "/eduframe/rate_limit", json={"max_requests": 10**6, "per_seconds": 1})
    extra = {"base_url": sandbox.platform_url("eduframe"), "backoff_base": 0.01, "rate_limit_requests": 10**6}
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN.upper()}",
        json.dumps({"conn_type": "eduframe", "password": EDUFRAME_SANDBOX_API_KEY, "extra": extra}),
    )
    yield CONN


def subscribe(learners: list[int], course: int = COURSE, **options: Any) -> dict[str, Any]:
    op = LmsSubscribeOperator(
        task_id="subscribe", lms_conn_id=CONN, course_id=course, learner_ids=learners, platform_options=options
    )
    return op.execute(ctx())


def by_key(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in summary["items"]}


# -- unsubscribe -----------------------------------------------------------------------------------------


def test_unsubscribe_cancels_each_enrollment_once_and_a_rerun_changes_nothing(conn: str, sandbox: SandboxServer):
    subscribe([ANNA, BRAM])
    control(sandbox, "DELETE", "/requests")
    op = LmsUnsubscribeOperator(task_id="withdraw", lms_conn_id=conn, course_id=COURSE, learner_ids=[ANNA, BRAM, CHLOE])

    first = op.execute(ctx())

    items = by_key(first)
    assert (first["done"], first["already_done"], first["failed"]) == (2, 1, 0)
    assert items[str(ANNA)]["status"] == "done" and items[str(ANNA)]["result"]["status"] == "canceled"
    assert items[str(CHLOE)]["status"] == "already_done" and items[str(CHLOE)]["result"]["status"] == "not_enrolled"
    enrollments = sandbox.state.eduframe.enrollments.values()
    mine = {e.student_id: e for e in enrollments if e.planned_course_id == COURSE}
    assert set(mine) == {ANNA, BRAM}
    assert all(e.status == "canceled" and e.times_canceled == 1 for e in mine.values())
    assert writes(sandbox) == {"PUT /enrollments/{}/cancel": 2}
    assert validate_logged_eduframe_exchanges(requests_log(sandbox), sandbox.url) >= 5

    control(sandbox, "DELETE", "/requests")
    again = LmsUnsubscribeOperator(
        task_id="withdraw", lms_conn_id=conn, course_id=COURSE, learner_ids=[ANNA, BRAM, CHLOE]
    ).execute(ctx())
    assert (again["done"], again["already_done"]) == (0, 3)
    assert by_key(again)[str(ANNA)]["result"]["status"] == "canceled"
    assert writes(sandbox) == {}  # looked, wrote nothing
    assert all(e.times_canceled == 1 for e in mine.values())


def test_unsubscribe_from_a_program_edition_cancels_the_program_enrollment(conn: str, sandbox: SandboxServer):
    subscribe([DAAN], course=EDITION, target="program_edition")
    op = LmsUnsubscribeOperator(
        task_id="withdraw",
        lms_conn_id=conn,
        course_id=EDITION,
        learner_ids=[DAAN],
        platform_options={"target": "program_edition"},
    )
    assert op.execute(ctx())["done"] == 1
    (pe,) = [p for p in sandbox.state.eduframe.program_enrollments.values() if p.student_id == DAAN]
    assert pe.state == "canceled"
    assert op.execute(ctx())["already_done"] == 1
    assert validate_logged_eduframe_exchanges(requests_log(sandbox), sandbox.url) > 0


def test_a_completed_enrollment_the_platform_refuses_to_cancel_fails_that_item_with_the_reason(
    conn: str, sandbox: SandboxServer
):
    enrolled = subscribe([EVA, ANNA])
    eva = by_key(enrolled)[str(EVA)]["result"]["enrollment_id"]
    control(sandbox, "POST", f"/eduframe/enrollments/{eva}/complete", json={"graduation_state": "passed"})
    op = LmsUnsubscribeOperator(
        task_id="withdraw", lms_conn_id=conn, course_id=COURSE, learner_ids=[EVA, ANNA], fail_on_item_error=False
    )
    summary = op.execute(ctx())
    items = by_key(summary)
    assert items[str(ANNA)]["status"] == "done"
    assert items[str(EVA)]["status"] == "failed" and "422" in items[str(EVA)]["error"]
    assert sandbox.state.eduframe.enrollments[int(eva)].status == "completed"


# -- revoke certificate ------------------------------------------------------------------------------------


def _certify(learners: list[int]) -> None:
    LmsAwardCertificateOperator(
        task_id="award", lms_conn_id=CONN, program_id=EDITION, learner_ids=learners, certificate_template_id=TEMPLATE
    ).execute(ctx())


def test_revoke_deletes_each_certificate_once_and_a_rerun_changes_nothing(conn: str, sandbox: SandboxServer):
    subscribe([ANNA, BRAM, CHLOE], course=EDITION, target="program_edition")
    _certify([ANNA, BRAM])
    control(sandbox, "DELETE", "/requests")
    # Daan has no program enrollment at all: nothing to revoke, which is not an error.
    learners = [ANNA, BRAM, CHLOE, DAAN]
    first = LmsRevokeCertificateOperator(
        task_id="revoke", lms_conn_id=conn, program_id=EDITION, learner_ids=learners
    ).execute(ctx())

    items = by_key(first)
    assert (first["done"], first["already_done"], first["failed"]) == (2, 2, 0)
    assert items[str(ANNA)]["status"] == "done" and items[str(ANNA)]["result"]["program_enrollment_ids"]
    assert items[str(DAAN)]["result"]["program_enrollment_ids"] == []
    pes = {p.student_id: p for p in sandbox.state.eduframe.program_enrollments.values()}
    assert [pes[s].certificates_deleted for s in (ANNA, BRAM, CHLOE)] == [1, 1, 0]
    assert not any(p.certificate_awarded for p in pes.values())
    assert all(pes[s].graduation_date is None for s in (ANNA, BRAM))
    assert writes(sandbox) == {"POST /program/enrollments/{}/delete_certificate": 2}
    assert validate_logged_eduframe_exchanges(requests_log(sandbox), sandbox.url) >= 6

    control(sandbox, "DELETE", "/requests")
    again = LmsRevokeCertificateOperator(
        task_id="revoke", lms_conn_id=conn, program_id=EDITION, learner_ids=learners
    ).execute(ctx())
    assert (again["done"], again["already_done"]) == (0, 4)
    assert writes(sandbox) == {}
    assert [pes[s].certificates_deleted for s in (ANNA, BRAM)] == [1, 1]


def test_a_revoked_certificate_can_be_awarded_again(conn: str, sandbox: SandboxServer):
    subscribe([EVA], course=EDITION, target="program_edition")
    _certify([EVA])
    LmsRevokeCertificateOperator(task_id="r", lms_conn_id=conn, program_id=EDITION, learner_ids=[EVA]).execute(ctx())
    _certify([EVA])
    (pe,) = [p for p in sandbox.state.eduframe.program_enrollments.values() if p.student_id == EVA]
    assert pe.certificate_awarded and pe.certificates_deleted == 1


# -- ensure learners with updates ------------------------------------------------------------------------


def _ensure(learners: list[dict[str, str]], **options: Any) -> dict[str, Any]:
    op = LmsEnsureLearnersOperator(
        task_id="hr_sync", lms_conn_id=CONN, learners=learners, platform_options=options or None
    )
    return op.execute(ctx())


HR = [
    # Anna married: new family name. Her stored name is "Anna" "de" "Vries" (middle name "de").
    {"email": EduframeSeed.LEARNER_EMAILS[0], "first_name": "Anna", "last_name": "de Jong"},
    # Bram's data is what Eduframe holds.
    {"email": EduframeSeed.LEARNER_EMAILS[1], "first_name": "Bram", "last_name": "Jansen"},
    # Daan goes by his full first name now; the e-mail's case differs in HR, the address does not.
    {"email": EduframeSeed.LEARNER_EMAILS[3].upper(), "first_name": "Daniël", "last_name": "Visser"},
    # New hire.
    {"email": "farah.elamrani@sandbox.example", "first_name": "Farah", "last_name": "El Amrani"},
]


def test_update_existing_patches_only_what_differs_and_a_rerun_sends_nothing(conn: str, sandbox: SandboxServer):
    control(sandbox, "DELETE", "/requests")
    first = _ensure(HR, update_existing=True)

    items = by_key(first)
    anna, bram, daan, farah = (items[h["email"].lower()] for h in HR)
    assert (first["done"], first["already_done"], first["failed"]) == (3, 1, 0)
    assert anna["status"] == "done" and anna["result"]["updated_fields"] == ["last_name"]
    assert bram["status"] == "already_done" and bram["result"]["updated_fields"] == []
    assert daan["status"] == "done" and daan["result"]["updated_fields"] == ["first_name"]
    assert farah["status"] == "done" and farah["result"]["updated_fields"] == []  # created, not updated
    users = {u.email: u for u in sandbox.state.eduframe.users.values()}
    # The middle name "de" stays, so the family name is stored without it: "Anna de Jong" as before.
    a = users[EduframeSeed.LEARNER_EMAILS[0]]
    assert (a.first_name, a.middle_name, a.last_name, a.times_updated) == ("Anna", "de", "Jong", 1)
    assert users[EduframeSeed.LEARNER_EMAILS[3]].first_name == "Daniël"
    assert users[EduframeSeed.LEARNER_EMAILS[1]].times_updated == 0
    assert writes(sandbox) == {"PATCH /users/{}": 2, "POST /users": 1}
    assert validate_logged_eduframe_exchanges(requests_log(sandbox), sandbox.url) >= 7

    control(sandbox, "DELETE", "/requests")
    again = _ensure(HR, update_existing=True)
    assert (again["done"], again["already_done"]) == (0, 4)
    assert writes(sandbox) == {}
    assert [u.times_updated for u in users.values() if u.email in (a.email, EduframeSeed.LEARNER_EMAILS[3])] == [1, 1]


def test_without_the_option_existing_learners_are_left_as_they_are(conn: str, sandbox: SandboxServer):
    control(sandbox, "DELETE", "/requests")
    summary = _ensure(HR[:1])
    assert summary["already_done"] == 1 and "updated_fields" not in summary["items"][0]["result"]
    assert writes(sandbox) == {}
    assert sandbox.state.eduframe.users[ANNA].last_name == "Vries"


# -- bad input and other platforms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (
            lambda: LmsEnsureLearnersOperator(
                task_id="t", lms_conn_id=CONN, learners=HR, platform_options={"update_existing": "yes"}
            ),
            "platform_options.update_existing",
        ),
        (
            lambda: LmsEnsureLearnersOperator(
                task_id="t", lms_conn_id=CONN, learners=HR, platform_options={"update": True}
            ),
            "platform_options.update",
        ),
        (
            lambda: LmsUnsubscribeOperator(task_id="t", lms_conn_id=CONN, course_id=COURSE, learner_ids=[ANNA, "٣"]),
            "learner_ids[1]",
        ),
        (lambda: LmsUnsubscribeOperator(task_id="t", lms_conn_id=CONN, course_id=0, learner_ids=[ANNA]), "course_id"),
        (
            lambda: LmsUnsubscribeOperator(
                task_id="t",
                lms_conn_id=CONN,
                course_id=COURSE,
                learner_ids=[ANNA],
                platform_options={"target": "course"},
            ),
            "platform_options.target",
        ),
        (
            lambda: LmsUnsubscribeOperator(
                task_id="t", lms_conn_id=CONN, course_id=COURSE, learner_ids=[ANNA], platform_options={"approve": True}
            ),
            "platform_options.approve",
        ),
        (
            lambda: LmsRevokeCertificateOperator(task_id="t", lms_conn_id=CONN, program_id="1.5", learner_ids=[ANNA]),
            "program_id",
        ),
        (
            lambda: LmsRevokeCertificateOperator(task_id="t", lms_conn_id=CONN, program_id=EDITION, learner_ids=[]),
            "learner_ids",
        ),
        (
            lambda: LmsRevokeCertificateOperator(
                task_id="t",
                lms_conn_id=CONN,
                program_id=EDITION,
                learner_ids=[ANNA],
                platform_options={"certificate_template_id": 1},
            ),
            "platform_options.certificate_template_id",
        ),
    ],
)
def test_bad_input_is_refused_before_any_request(conn: str, sandbox: SandboxServer, make: Any, field: str):
    control(sandbox, "DELETE", "/requests")
    with pytest.raises(LmsInputError) as info:
        make().execute(ctx())
    assert info.value.field == field, str(info.value)
    assert requests_log(sandbox) == []


def test_revoke_on_a_platform_without_it_names_the_platforms_that_can(sandbox: SandboxServer, monkeypatch):
    from airflow_provider_lms.sandbox.app import PLATFORMS

    mount = next(m for m in PLATFORMS if m.name == "pynter")
    assert mount.connection_factory is not None
    monkeypatch.setenv("AIRFLOW_CONN_CAPS_PYNTER", json.dumps(mount.connection_factory(sandbox.url)))
    op = LmsRevokeCertificateOperator(task_id="t", lms_conn_id="caps_pynter", program_id="1", learner_ids=["1"])
    with pytest.raises(LmsCapabilityError, match="Eduframe"):
        op.execute(ctx())


# -- issue 18: the subscribe path --------------------------------------------------------------------------


def test_eight_threads_look_up_the_catalog_variant_once(conn: str, sandbox: SandboxServer):
    made = _ensure([{"email": f"sf{i}@sandbox.example", "first_name": "S", "last_name": str(i)} for i in range(16)])
    learners = [i["result"]["learner_id"] for i in made["items"]]
    control(sandbox, "DELETE", "/requests")
    # 30 ms per request, so that all eight threads ask for the variant while the first lookup is under way.
    control(sandbox, "PUT", "/faults", json={"latency_ms": 30})
    try:
        summary = LmsSubscribeOperator(
            task_id="subscribe", lms_conn_id=conn, course_id=COURSE, learner_ids=learners, concurrency=8
        ).execute(ctx())
    finally:
        control(sandbox, "DELETE", "/faults")
    assert summary["done"] == 16
    lookups = [r for r in requests_log(sandbox) if r["path"].endswith("/catalog/variants")]
    assert len(lookups) == 1


def test_an_item_whose_read_back_failed_is_done_not_already_done(
    conn: str, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
):
    op = LmsSubscribeOperator(task_id="subscribe", lms_conn_id=conn, course_id=COURSE, learner_ids=[BRAM])
    hook = op.hook
    assert isinstance(hook, EduframeHook)
    placed: list[int] = []
    failures_left = [2]  # the read after the order, and the look again after that failure
    real_order, real_find = hook.create_order, hook.list_enrollments

    def create_order(*args: Any, **kwargs: Any) -> Any:
        placed.append(1)
        return real_order(*args, **kwargs)

    def list_enrollments(*args: Any, **kwargs: Any) -> Any:
        if placed and failures_left[0]:
            failures_left[0] -= 1
            raise LmsServerError("HTTP 503 after retries", status=503, platform="Eduframe")
        return real_find(*args, **kwargs)

    monkeypatch.setattr(hook, "create_order", create_order)
    monkeypatch.setattr(hook, "list_enrollments", list_enrollments)
    summary = op.execute(ctx())

    (item,) = summary["items"]
    assert item["status"] == "done", item
    assert item["retries"].get("item") == 1  # the bulk runner's second pass found the enrollment
    assert len(placed) == 1
    assert [e.student_id for e in sandbox.state.eduframe.enrollments.values()] == [BRAM]

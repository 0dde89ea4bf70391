"""A corpus of malformed inputs: every one is refused before any request, naming the field.

Operators and sensors run with every HTTP request intercepted by respx (no route is defined, so any
request that got out would be recorded and the test would fail); webhook payloads go to the receiver
app in-process. What is checked for each input:

* operators and sensors raise :class:`LmsInputError` (never an error from inside httpx, pydantic or
  the SOAP builder), its message names the field, and no request was sent;
* the receiver answers 4xx with a detail naming what is wrong, and records nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import respx
from fastapi.testclient import TestClient

from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.operators import LmsScoreExternalActivityOperator, LmsSubscribeOperator
from airflow_provider_lms.operators.enrollment import LmsAwardCertificateOperator
from airflow_provider_lms.operators.lara import LaraChangeCurrentMemberStatusOperator, LaraUpdateMemberStatusesOperator
from airflow_provider_lms.operators.learners import LmsEnsureLearnersOperator
from airflow_provider_lms.operators.pynter import (
    PynterRecordEticketAttendanceOperator,
    PynterSyncCompletionsOperator,
    PynterUpsertEmployeesOperator,
)
from airflow_provider_lms.operators.subscriptions import (
    LmsSubscribeGroupsOperator,
    LmsUnsubscribeOperator,
    LmsUpdateSubscriptionOperator,
)
from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.sensors.enrollment import EnrollmentCompletedSensor
from airflow_provider_lms.webhooks.receiver import create_webhook_app
from tests.faults.conftest import FIGURES, connect, ctx

HUGE = "9" * 5000
TRAVERSAL = ["../../admin", "..", "1/../../users", "%2e%2e%2fusers", "..\\..\\x", "1/2"]
SOAP_INJECTION = ["</Id><Password>x</Password><Id>", "<![CDATA[x]]>", "&xxe;", '"><soap:Body>']
GRAPHQL_INJECTION = ["1) { users { email } } #", '"}) { __schema { types { name } } }', "query { viewer { token } }"]
JSON_INJECTION = ['1", "admin": true, "x": "', '{"$ne": null}', "1\u0000"]
UNICODE = ["\u202e1", "\u0661\u0662\u0663", "\ud83d\ude00", "\u00a0", "\ufeff1", "\uff11\uff12\uff13"]
WRONG_TYPES: list[Any] = [None, True, 1.5, {"id": 1}, ["1"], b"1", float("nan")]
EMPTY: list[Any] = ["", "   ", [], {}]
BAD_DATES = ["0000-00-00", "2026-13-01", "2026-02-30", "99999-01-01", "yesterday", "1e9", "2026-01-01T25:00"]

#: Lower-case words one of which the error message must contain: the field's own name.
Case = tuple[str, Callable[[dict[str, str]], Any], str]


def _edu_cases() -> list[Case]:
    cases: list[Case] = []
    ids = [*TRAVERSAL, *GRAPHQL_INJECTION[:1], *JSON_INJECTION, *UNICODE, HUGE, "-1", "0x10", "1.0", "1e3"]
    for i, bad in enumerate([*ids, *WRONG_TYPES, *EMPTY]):
        cases.append(
            (
                f"eduframe-subscribe-learner-{i}",
                lambda c, bad=bad: LmsSubscribeOperator(
                    task_id="t", lms_conn_id=c["eduframe"], course_id=1, learner_ids=[bad]
                ),
                "learner_ids",
            )
        )
    for i, bad in enumerate([*TRAVERSAL[:3], HUGE, None, "", True, "1; DROP TABLE"]):
        cases.append(
            (
                f"eduframe-subscribe-course-{i}",
                lambda c, bad=bad: LmsSubscribeOperator(
                    task_id="t", lms_conn_id=c["eduframe"], course_id=bad, learner_ids=[2]
                ),
                "course_id",
            )
        )
    learners: list[tuple[Any, str]] = [
        ([{"email": "not-an-email", "first_name": "a", "last_name": "b"}], "email"),
        ([{"email": "a@b.example", "first_name": "", "last_name": "b"}], "first_name"),
        ([{"email": "a@b.example", "first_name": "x" * 5000, "last_name": "b"}], "first_name"),
        ([{"first_name": "a", "last_name": "b"}], "email"),
        ("a@b.example", "learners"),
        ([], "learners"),
        ([None], "learners[0]"),
    ]
    for i, (bad, field) in enumerate(learners):
        cases.append(
            (
                f"eduframe-ensure-{i}",
                lambda c, bad=bad: LmsEnsureLearnersOperator(task_id="t", lms_conn_id=c["eduframe"], learners=bad),
                field,
            )
        )
    scores: list[tuple[Any, str]] = [
        ([{"learner_id": 2, "course_id": 1, "score": -1}], "score"),
        ([{"learner_id": 2, "course_id": 1, "score": "ten"}], "score"),
        ([{"learner_id": 2, "course_id": 1, "score": float("inf")}], "score"),
        ([{"learner_id": 2, "course_id": 1}], "scores[0]"),
        ([{"learner_id": "../2", "course_id": 1, "score": 5}], "learner_id"),
        ([{"learner_id": 2, "course_id": "1/../2", "score": 5}], "course_id"),
        ({"learner_id": 2}, "scores"),
    ]
    for i, (bad, field) in enumerate(scores):
        cases.append(
            (
                f"eduframe-score-{i}",
                lambda c, bad=bad: LmsScoreExternalActivityOperator(task_id="t", lms_conn_id=c["eduframe"], scores=bad),
                field,
            )
        )
    for i, (kwargs, field) in enumerate(
        [
            ({"program_id": "../1", "certificate_template_id": 1}, "program_id"),
            ({"program_id": 1, "certificate_template_id": "x/y"}, "certificate_template_id"),
            ({"program_id": None, "certificate_template_id": 1}, "program_id"),
        ]
    ):
        cases.append(
            (
                f"eduframe-award-{i}",
                lambda c, kwargs=kwargs: LmsAwardCertificateOperator(
                    task_id="t", lms_conn_id=c["eduframe"], learner_ids=[2], **kwargs
                ),
                field,
            )
        )
    cases.append(
        (
            "eduframe-concurrency",
            lambda c: LmsSubscribeOperator(
                task_id="t", lms_conn_id=c["eduframe"], course_id=1, learner_ids=[2], concurrency=0
            ),
            "concurrency",
        )
    )
    cases.append(
        (
            "eduframe-options-type",
            lambda c: LmsSubscribeOperator(
                task_id="t", lms_conn_id=c["eduframe"], course_id=1, learner_ids=[2], platform_options="approve"
            ),
            "platform_options",
        )
    )
    return cases


def _ans_cases() -> list[Case]:
    cases: list[Case] = []
    for i, bad in enumerate([*EMPTY[:1], None, HUGE, "\x00", "a\nb", *WRONG_TYPES[1:4]]):
        cases.append(
            (
                f"anewspring-subscribe-learner-{i}",
                lambda c, bad=bad: LmsSubscribeOperator(
                    task_id="t", lms_conn_id=c["anewspring"], course_id="C", learner_ids=[bad]
                ),
                "learner_ids",
            )
        )
    for i, bad in enumerate(["", None, HUGE, "\x00"]):
        cases.append(
            (
                f"anewspring-groups-{i}",
                lambda c, bad=bad: LmsSubscribeGroupsOperator(
                    task_id="t", lms_conn_id=c["anewspring"], course_id="C", group_ids=[bad]
                ),
                "group_ids",
            )
        )
    for i, bad in enumerate(["", None, HUGE]):
        cases.append(
            (
                f"anewspring-unsubscribe-course-{i}",
                lambda c, bad=bad: LmsUnsubscribeOperator(
                    task_id="t", lms_conn_id=c["anewspring"], course_id=bad, learner_ids=["u"]
                ),
                "course_id",
            )
        )
    for i, (kwargs, field) in enumerate(
        [({"start_date": d}, "start_date") for d in BAD_DATES]
        + [
            ({"expiry_date": "2026-02-30"}, "expiry_date"),
            ({"expired": "yes"}, "expired"),
            ({}, "start_date"),
        ]
    ):
        cases.append(
            (
                f"anewspring-update-{i}",
                lambda c, kwargs=kwargs: LmsUpdateSubscriptionOperator(
                    task_id="t", lms_conn_id=c["anewspring"], course_id="C", learner_ids=["u"], **kwargs
                ),
                field,
            )
        )
    for i, (row, field) in enumerate(
        [
            ({"learner_id": "u", "course_id": "C", "score": 70}, "activity_id"),
            ({"learner_id": "u", "course_id": "C", "activity_id": "A", "score": 101}, "score"),
        ]
    ):
        cases.append(
            (
                f"anewspring-score-{i}",
                lambda c, row=row: LmsScoreExternalActivityOperator(
                    task_id="t", lms_conn_id=c["anewspring"], scores=[row]
                ),
                field,
            )
        )
    return cases


def _lara_cases() -> list[Case]:
    cases: list[Case] = []
    for i, bad in enumerate(["", None, HUGE, 12, {"field": "x"}]):
        cases.append(
            (
                f"lara-change-member-{i}",
                lambda c, bad=bad: LaraChangeCurrentMemberStatusOperator(
                    task_id="t", lms_conn_id=c["lara"], members=[bad], status="Membre"
                ),
                "members",
            )
        )
    for i, bad in enumerate(["", None, 5, {"status": ""}]):
        cases.append(
            (
                f"lara-change-status-{i}",
                lambda c, bad=bad: LaraChangeCurrentMemberStatusOperator(
                    task_id="t", lms_conn_id=c["lara"], members=["a"], status=bad
                ),
                "status",
            )
        )
    for i, bad in enumerate(BAD_DATES[:4]):
        cases.append(
            (
                f"lara-change-start-{i}",
                lambda c, bad=bad: LaraChangeCurrentMemberStatusOperator(
                    task_id="t", lms_conn_id=c["lara"], members=["a"], status="Membre", status_start_date=bad
                ),
                "status_start_date",
            )
        )
    for i, bad in enumerate([[], "Membre", None, [{"status": "X", "startDate": "2026-02-30"}]]):
        cases.append(
            (
                f"lara-update-statuses-{i}",
                lambda c, bad=bad: LaraUpdateMemberStatusesOperator(
                    task_id="t", lms_conn_id=c["lara"], members=["a"], statuses=bad
                ),
                "statuses",
            )
        )
    return cases


def _pynter_cases() -> list[Case]:
    base = {"external_id": "E1", "first_name": "A", "family_name": "B", "email": "a@b.example"}
    cases: list[Case] = []
    for i, (change, field) in enumerate(
        [
            ({"external_id": ""}, "external_id"),
            ({"first_name": "A\x01B"}, "first_name"),
            ({"email": "nope"}, "email"),
            ({"contract_start": "2026-02-30"}, "contract_start"),
            ({"blocked": "maybe"}, "blocked"),
            ({"family_name": "x" * 5000}, "family_name"),
        ]
    ):
        cases.append(
            (
                f"pynter-upsert-{i}",
                lambda c, change=change: PynterUpsertEmployeesOperator(
                    task_id="t", lms_conn_id=c["pynter"], employees=[{**base, **change}]
                ),
                field,
            )
        )
    cases.append(
        (
            "pynter-upsert-twice",
            lambda c: PynterUpsertEmployeesOperator(task_id="t", lms_conn_id=c["pynter"], employees=[base, base]),
            "external_id",
        )
    )
    for i, bad in enumerate(["", None, HUGE, "ET\x00"]):
        cases.append(
            (
                f"pynter-eticket-{i}",
                lambda c, bad=bad: PynterRecordEticketAttendanceOperator(
                    task_id="t", lms_conn_id=c["pynter"], ticket_hashes=[bad]
                ),
                "ticket_hashes",
            )
        )
    for i, bad in enumerate(BAD_DATES[:4]):
        cases.append(
            (
                f"pynter-sync-since-{i}",
                lambda c, bad=bad: PynterSyncCompletionsOperator(task_id="t", lms_conn_id=c["pynter"], since=bad),
                "since",
            )
        )
    return cases


def _sensor_cases() -> list[Case]:
    cases: list[Case] = []
    for i, (kwargs, field) in enumerate(
        [
            ({"enrollment_id": "../1"}, "enrollment_id"),
            ({"learner_id": "../2", "course_id": 1}, "learner_id"),
            ({"learner_id": 2, "course_id": "1/../2"}, "course_id"),
            ({"learner_id": 2}, "course_id"),
            ({"enrollment_id": 1, "completed_since": "2026-02-30"}, "completed_since"),
            ({"enrollment_id": 1, "completed_since": "last week"}, "completed_since"),
            ({"enrollment_id": HUGE}, "enrollment_id"),
            ({"enrollment_id": GRAPHQL_INJECTION[0]}, "enrollment_id"),
        ]
    ):
        cases.append(
            (
                f"sensor-{i}",
                lambda c, kwargs=kwargs: EnrollmentCompletedSensor(
                    task_id="s", lms_conn_id=c["eduframe"], poke_interval=1, timeout=5, **kwargs
                ),
                field,
            )
        )
    return cases


CASES = _edu_cases() + _ans_cases() + _lara_cases() + _pynter_cases() + _sensor_cases()


@pytest.fixture
def conns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    class _Nowhere:
        url = "http://lms-bad-input.invalid"

    return {p: connect(monkeypatch, _Nowhere(), p) for p in ("eduframe", "anewspring", "lara", "pynter")}  # type: ignore[arg-type]


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) + len(WEBHOOK_CASES) >= 100
    assert len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("make", "field"), [(m, f) for _, m, f in CASES], ids=[n for n, _, _ in CASES])
def test_bad_input_is_refused_before_any_request_naming_the_field(
    make: Callable[[dict[str, str]], Any], field: str, conns: dict[str, str]
) -> None:
    with respx.mock(assert_all_called=False) as router:
        with pytest.raises(LmsInputError) as info:
            make(conns).execute(ctx())
        assert router.calls.call_count == 0, [str(c.request.url) for c in router.calls]
    message = str(info.value)
    assert field.lower() in message.lower(), message
    FIGURES["bad inputs tried"] += 1


# -- webhook payloads ---------------------------------------------------------------------------------------

SECRETS = {"pluvo": "pluvo-corpus-secret", "anewspring": "ans-corpus-secret", "eduframe": "edu-corpus-token"}


class _Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def record(self, platform: str, key: str, uri: str, extra: dict[str, Any]) -> str:
        self.events.append((platform, uri))
        return "recorded"


def _pluvo(**changes: Any) -> dict[str, Any]:
    event = {
        "id": "e1",
        "score": None,
        "user": {"id": "u1", "email": "a@example.org"},
        "training": {"id": "t1", "title": "T"},
        "sentDate": "2023-08-07T12:43:00.976Z",
        "event": "TRAINING_FINISHED",
    }
    return {**event, **changes}


#: (platform, body, what the 4xx detail must mention)
WEBHOOK_CASES: list[tuple[str, bytes, str]] = [
    ("pluvo", b"", "json"),
    ("pluvo", b"null", "object"),
    ("pluvo", b"[]", "object"),
    ("pluvo", b'"TRAINING_FINISHED"', "object"),
    ("pluvo", b"\xff\xfe\x00", "json"),
    ("pluvo", b'{"event": ', "json"),
    ("pluvo", json.dumps(_pluvo(user=None)).encode(), "user"),
    ("pluvo", json.dumps(_pluvo(user={"email": "a@example.org"})).encode(), "user"),
    ("pluvo", json.dumps(_pluvo(training="t1")).encode(), "training"),
    ("pluvo", json.dumps(_pluvo(sentDate="2026-02-30T00:00:00Z")).encode(), "sentdate"),
    ("pluvo", json.dumps(_pluvo(score="high")).encode(), "score"),
    ("pluvo", json.dumps(_pluvo(event="../../etc/passwd")).encode(), "event"),
    ("pluvo", json.dumps(_pluvo(event=None)).encode(), "event"),
    ("anewspring", b'{"userID": "u"}', "event"),
    ("anewspring", json.dumps({"event": "x" * 500}).encode(), "event"),
    ("anewspring", json.dumps({"event": "RESULT/../x"}).encode(), "event"),
    ("anewspring", json.dumps({"event": "\u202eRESULT"}).encode(), "event"),
    ("anewspring", json.dumps({"event": 5}).encode(), "event"),
    ("anewspring", b"1e999", "object"),
    ("eduframe", json.dumps({"event": "enrollment.updated\n{}"}).encode(), "event"),
    ("eduframe", json.dumps({"event": ""}).encode(), "event"),
    ("eduframe", json.dumps({"event": ["enrollment.updated"]}).encode(), "event"),
]


@pytest.mark.parametrize(("platform", "body", "mention"), WEBHOOK_CASES)
def test_malformed_webhook_payloads_are_4xx_naming_the_problem(platform: str, body: bytes, mention: str) -> None:
    recorder = _Recorder()
    client = TestClient(create_webhook_app(secrets=SECRETS.get, recorder=recorder, body_limit=64 * 1024))
    if platform == "eduframe":
        answer = client.post("/eduframe", content=body, headers={"X-LMS-Webhook-Token": SECRETS["eduframe"]})
    else:
        delivery = WebhookSender(platform, SECRETS[platform]).sign("http://x", None, body=body)
        answer = client.post(f"/{platform}", content=delivery.body, headers=delivery.headers)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert mention in answer.json()["detail"].lower(), answer.text
    assert recorder.events == []
    FIGURES["bad inputs tried"] += 1

"""A corpus of malformed inputs: every one is refused before any request, naming the field.

Every public entry point but Pluvo's (being rewritten) is tried: the generic operators, the platform
operators, the sensors, the hooks' public methods, and connections (secrets, header names, base URLs,
unreadable or misspelt extras). The cases, by class of problem, are in ``bad_input_cases.py`` and
``bad_input_cases_more.py``. Each runs against the real sandbox, with every other host caught by respx, and
for each input the test checks:

* an :class:`LmsInputError` is raised (never an error from inside httpx, pydantic or the SOAP builder) and
  its message names the field;
* the sandbox's request log shows no request, and no request went to any other host (a connection whose
  extras cannot be read must not fall back to a production URL);
* no message shows a secret of the connection, and every message encodes as UTF-8 (a lone surrogate in
  the input must not break a log line);
* a connection's Test-button answer (``test_connection``) is a failure naming the field, with no secret.

Webhook payloads go to the receiver app in-process: it answers 4xx with a detail naming what is wrong, and
records nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import respx
from fastapi.testclient import TestClient

from airflow_provider_lms.http.errors import LmsInputError
from airflow_provider_lms.operators import LmsScoreExternalActivityOperator, LmsSubscribeOperator
from airflow_provider_lms.operators.pynter import PynterSyncCompletionsOperator
from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.webhooks.receiver import create_webhook_app
from tests.faults.bad_input_cases import Case, Env, anewspring_cases, eduframe_cases
from tests.faults.bad_input_cases_more import connection_cases, lara_cases, pynter_cases
from tests.faults.bad_input_cases_pluvo import pluvo_cases
from tests.faults.conftest import FIGURES, control, ctx

CASES: list[Case] = eduframe_cases() + anewspring_cases() + lara_cases() + pynter_cases() + pluvo_cases()
CONNECTION_CASES: list[Case] = connection_cases()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer) -> Env:
    return Env(monkeypatch, sandbox)


@pytest.fixture
def no_request(sandbox: SandboxServer) -> Iterator[respx.Route]:
    """Requests to the sandbox go through (and are logged there); any other host is caught here."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host=urlsplit(sandbox.url).hostname).pass_through()
        yield router.route().respond(599)
    assert control(sandbox, "GET", "/requests").json() == [], "a request reached the sandbox"


def _run(target: Any) -> Any:
    return target.execute(ctx()) if hasattr(target, "execute") else target()


def _assert_clean(message: str, field: str, env: Env) -> None:
    assert field.lower() in message.lower(), message
    message.encode("utf-8")  # a lone surrogate from the input must not make the message unprintable
    for secret in env.hidden:
        assert secret not in message, f"the message shows a secret: {message!r}"


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) + len(CONNECTION_CASES) >= 300
    names = [name for name, _, _ in CASES + CONNECTION_CASES]
    assert len(set(names)) == len(names)
    # Every class of problem has its cases, on every platform (Pluvo aside, being rewritten).
    for prefix in (
        "edu-",
        "ans-",
        "lara-",
        "pynter-",
        "conn-eduframe-",
        "conn-anewspring-",
        "conn-lara-",
        "conn-pynter-",
    ):
        assert sum(n.startswith(prefix) for n in names) >= 20, prefix
    for word in (
        "surrogate",
        "nel",
        "line-sep",
        "bytes",
        "true",
        "huge-int",
        "conflict",
        "before",
        "userinfo",
        "extra-",
    ):
        assert any(word in n for n in names), word


@pytest.mark.parametrize(("make", "field"), [(m, f) for _, m, f in CASES], ids=[n for n, _, _ in CASES])
def test_bad_input_is_refused_before_any_request_naming_the_field(
    make: Callable[[Env], Any], field: str, env: Env, no_request: respx.Route
) -> None:
    with pytest.raises(LmsInputError) as info:
        _run(make(env))
    assert not no_request.called, [str(c.request.url) for c in no_request.calls]
    _assert_clean(str(info.value), field, env)
    FIGURES["bad inputs tried"] += 1


@pytest.mark.parametrize(
    ("make", "field"), [(m, f) for _, m, f in CONNECTION_CASES], ids=[n for n, _, _ in CONNECTION_CASES]
)
def test_bad_connections_fail_when_the_hook_is_built_naming_the_field(
    make: Callable[[Env], Any], field: str, env: Env, no_request: respx.Route
) -> None:
    with pytest.raises(LmsInputError) as info:
        _run(make(env))
    assert not no_request.called, [str(c.request.url) for c in no_request.calls]
    _assert_clean(str(info.value), field, env)
    # The UI's Test button says the same, and shows no secret either.
    check = make(env)
    ok, message = check.__self__.test_connection()
    assert not ok
    _assert_clean(message, field, env)
    FIGURES["bad inputs tried"] += 1


def test_the_harness_sees_a_request_that_gets_out(env: Env, sandbox: SandboxServer) -> None:
    """The no-request check is not vacuous: a valid input under the same interception reaches the sandbox log."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host=urlsplit(sandbox.url).hostname).pass_through()
        elsewhere = router.route().respond(599)
        LmsSubscribeOperator(task_id="t", lms_conn_id=env.conns["eduframe"], course_id=1, learner_ids=[6]).execute(
            ctx()
        )
    assert not elsewhere.called
    assert control(sandbox, "GET", "/requests").json() != []


def test_ids_are_merged_after_the_platforms_rule_and_the_summary_says_so(env: Env, sandbox: SandboxServer) -> None:
    """[6, "06", "006"] is one Eduframe learner: one order, one item, and the merge is in the return value."""
    op = LmsSubscribeOperator(task_id="t", lms_conn_id=env.conns["eduframe"], course_id=1, learner_ids=[6, "06", "006"])
    result = op.execute(ctx())
    assert (result["total"], result["done"]) == (1, 1)
    assert result["merged"] == {"06": "6", "006": "6"}
    posts = control(sandbox, "GET", "/requests", params={"method": "POST"}).json()
    assert [p["path"] for p in posts] == ["/eduframe/api/v1/orders"]


def test_two_identical_score_rows_are_sent_once(env: Env, sandbox: SandboxServer) -> None:
    conn_id = env.conns["eduframe"]
    LmsSubscribeOperator(task_id="s", lms_conn_id=conn_id, course_id=1, learner_ids=[6]).execute(ctx())
    control(sandbox, "DELETE", "/requests")
    row = {"learner_id": 6, "course_id": 1, "score": 7.5}
    scores = [row, {**row, "learner_id": "06"}]
    op = LmsScoreExternalActivityOperator(task_id="t", lms_conn_id=conn_id, scores=scores)
    result = op.execute(ctx())
    assert (result["total"], result["done"]) == (1, 1)
    assert result["merged"] == {"scores[1]": "scores[0]"}
    posts = control(sandbox, "GET", "/requests", params={"method": "POST"}).json()
    assert [p["path"] for p in posts].count("/eduframe/api/v1/grades") == 1


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
    ("anewspring", b"1e999", "out of range"),
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


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (dt.date(2000, 1, 1), None),
        (dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1)),  # naive: read as UTC
        ("2000-01-01", dt.date(2100, 1, 1)),
    ],
)
def test_pynter_sync_takes_naive_datetimes_and_dates(env: Env, since: Any, until: Any) -> None:
    """Naive datetimes and dates were a TypeError (issue 16); now they are UTC moments, and the sync runs."""
    op = PynterSyncCompletionsOperator(task_id="t", lms_conn_id=env.conns["pynter"], since=since, until=until)
    assert op.execute(ctx())["count"] == 7

"""Moving a learner through a training with the Pluvo double's control API, and the signed webhooks it sends.

The webhooks go over real HTTP to our own receiver app (``webhooks.receiver``) on a loopback port, which
checks Pluvo's signature before it records an event: an event in the recorder is a delivered, correctly
signed event.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

from airflow_provider_lms.sandbox import SandboxServer
from airflow_provider_lms.sandbox.pluvo import PluvoSeed
from airflow_provider_lms.sandbox.server import bind_socket
from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.webhooks.receiver import create_webhook_app
from tests.sandbox.test_pluvo_sandbox import Pluvo, advance
from tests.unit.test_webhook_receiver_app import MemoryRecorder

SECRET = "sbx-whsec"
ADD = """
mutation Add($training: String, $refs: [String!]) {
  addUsersToTraining(trainingRef: $training, userRefs: $refs, sendInvites: false) { addedRefs }
}
"""
REPORT = """
query($users: [UUID], $trainings: [UUID]) {
  portfolioReport(userIds: $users, relatedObjectIds: $trainings) {
    edges { node { user { ref } title progress score completionDate timeSpent { days seconds } } }
  }
}
"""


class _Receiver:
    """A receiver app on a loopback port, in a thread."""

    def __init__(self, app: FastAPI) -> None:
        sock = bind_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def __enter__(self) -> _Receiver:
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture
def pluvo(sandbox: SandboxServer) -> Iterator[Pluvo]:
    with Pluvo(sandbox) as client:
        yield client


@pytest.fixture
def recorder(pluvo: Pluvo) -> Iterator[MemoryRecorder]:
    """Our receiver, with the double's webhook pointed at it."""
    recorder = MemoryRecorder()
    with _Receiver(create_webhook_app(secrets={"pluvo": SECRET}.get, recorder=recorder)) as running:
        pluvo.put("/webhook", {"url": f"{running.url}/pluvo", "secret": SECRET})
        yield recorder


def _report(pluvo: Pluvo, user: int, training: int) -> dict[str, Any]:
    variables = {"users": [PluvoSeed.user_id(user)], "trainings": [PluvoSeed.training_id(training)]}
    [edge] = pluvo.data(REPORT, variables)["portfolioReport"]["edges"]
    node: dict[str, Any] = edge["node"]
    return node


def _events(recorder: MemoryRecorder) -> list[tuple[str, dict[str, Any]]]:
    return [(uri.rsplit("/", 1)[-1], extra["payload"]) for uri, extra in recorder.events]


def _clock(sandbox: SandboxServer) -> str:
    now: str = httpx.get(f"{sandbox.control_url}/clock").json()["now"]
    return now


# -- progress ------------------------------------------------------------------------------------------------
def test_progress_moves_forward_and_shows_in_the_portfolio_report(pluvo: Pluvo) -> None:
    pluvo.data(ADD, {"training": "training-1", "refs": ["user-12"]})
    body = {"user_id": PluvoSeed.user_id(12), "training_id": PluvoSeed.training_id(1), "progress": 0.4, "score": 0.25}
    answer = pluvo.control.post("/progress", json={**body, "time_spent_seconds": 90000})
    assert answer.status_code == 200 and answer.json()["deliveries"] == []
    node = _report(pluvo, 12, 1)
    assert node["progress"] == 0.4 and node["score"] == 0.25 and node["completionDate"] is None
    assert node["timeSpent"] == {"days": 1, "seconds": 3600}
    # Forward only: a lower progress leaves it where it was.
    pluvo.control.post("/progress", json={**body, "progress": 0.1}).raise_for_status()
    assert _report(pluvo, 12, 1)["progress"] == 0.4


def test_progress_needs_a_learner_of_the_training(pluvo: Pluvo) -> None:
    body = {"user_id": PluvoSeed.user_id(12), "training_id": PluvoSeed.training_id(1), "progress": 0.4}
    assert pluvo.control.post("/progress", json=body).status_code == 409
    assert pluvo.control.post("/progress", json={**body, "progress": 1.5}).status_code == 422
    unknown = pluvo.control.post("/progress", json={**body, "user_id": "99999999-0000-4000-8000-000000000000"})
    assert unknown.status_code == 404


# -- completion ----------------------------------------------------------------------------------------------
def test_completing_a_training_sends_a_signed_training_finished(
    pluvo: Pluvo, recorder: MemoryRecorder, sandbox: SandboxServer
) -> None:
    pluvo.data(ADD, {"training": "training-2", "refs": ["user-7"]})
    advance(sandbox, 3600)  # the completion date follows the sandbox clock, not the wall clock
    body = {"user_id": PluvoSeed.user_id(7), "training_id": PluvoSeed.training_id(2), "score": 0.8}
    answer = pluvo.control.post("/complete_training", json=body).json()
    assert [(d["event"], d["delivered"], d["statuses"]) for d in answer["deliveries"]] == [
        ("TRAINING_FINISHED", True, [200])
    ]
    [(name, payload)] = _events(recorder)
    assert name == "TRAINING_FINISHED"
    assert payload["user"]["email"] == "learner7@example.org" and payload["training"]["title"] == "Training 2"
    assert payload["score"] == 0.8
    node = _report(pluvo, 7, 2)
    assert node["progress"] == 1.0 and node["score"] == 0.8
    assert abs(_seconds(node["completionDate"]) - _seconds(_clock(sandbox))) < 60
    # Completing again changes nothing and sends nothing.
    assert pluvo.control.post("/complete_training", json=body).json()["deliveries"] == []
    assert len(recorder.events) == 1


def _seconds(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


def test_completing_a_training_with_a_certificate_issues_it_and_sends_certificate_achieved(
    pluvo: Pluvo, recorder: MemoryRecorder
) -> None:
    # Seeded: user 4 reaches training 5 through group-2; training 5 issues certificate-1.
    body = {"user_id": PluvoSeed.user_id(4), "training_id": PluvoSeed.training_id(5)}
    answer = pluvo.control.post("/complete_training", json=body).json()
    assert [d["event"] for d in answer["deliveries"]] == ["TRAINING_FINISHED", "EVENT_CERTIFICATE_ACHIEVED"]
    assert all(d["delivered"] for d in answer["deliveries"])
    [(_, finished), (name, achieved)] = _events(recorder)
    assert name == "EVENT_CERTIFICATE_ACHIEVED" and achieved["user"]["id"] == PluvoSeed.user_id(4)
    assert achieved["training"]["id"] == PluvoSeed.training_id(5) and finished["score"] is None
    items = pluvo.data("query($u: UUID) { portfolioItems(userId: $u) { id title files } }", {"u": PluvoSeed.user_id(4)})
    [item] = items["portfolioItems"]
    assert item["title"] == "Certificate of completion" and achieved["id"] == item["id"]
    assert achieved["file"] == item["files"][0]


def test_progress_to_one_completes_the_training(pluvo: Pluvo, recorder: MemoryRecorder) -> None:
    pluvo.data(ADD, {"training": "training-3", "refs": ["user-15"]})
    body = {"user_id": PluvoSeed.user_id(15), "training_id": PluvoSeed.training_id(3), "progress": 1.0, "score": 1.0}
    assert [d["event"] for d in pluvo.control.post("/progress", json=body).json()["deliveries"]] == [
        "TRAINING_FINISHED"
    ]
    assert _report(pluvo, 15, 3)["completionDate"] is not None


def test_without_a_webhook_a_completion_still_happens(pluvo: Pluvo) -> None:
    pluvo.data(ADD, {"training": "training-3", "refs": ["user-16"]})
    body = {"user_id": PluvoSeed.user_id(16), "training_id": PluvoSeed.training_id(3)}
    [delivery] = pluvo.control.post("/complete_training", json=body).json()["deliveries"]
    assert delivery["delivered"] is False and delivery["url"] is None
    assert _report(pluvo, 16, 3)["progress"] == 1.0


def test_finish_training_sends_the_event_without_changing_progress(pluvo: Pluvo, recorder: MemoryRecorder) -> None:
    body = {"user_id": PluvoSeed.user_id(7), "training_id": PluvoSeed.training_id(2)}
    answer = pluvo.control.post("/finish_training", json=body, timeout=30).json()
    assert answer["delivered"] and answer["statuses"] == [200]
    [(name, payload)] = _events(recorder)
    assert name == "TRAINING_FINISHED" and payload["training"]["title"] == "Training 2"
    assert pluvo.state()["progress"] == []


# -- auto-progress -------------------------------------------------------------------------------------------
def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_auto_progress_completes_learners_added_afterwards(
    pluvo: Pluvo, recorder: MemoryRecorder, sandbox: SandboxServer
) -> None:
    pluvo.data(ADD, {"training": "training-1", "refs": ["user-50"]})  # before: never completes by itself
    assert pluvo.put("/auto_progress", {"complete_after_seconds": 30, "score": 0.9})["complete_after_seconds"] == 30
    pluvo.data(ADD, {"training": "training-1", "refs": ["user-51"]})
    enroll = 'mutation { createOfferEventEnrollments(offerEventRef: "offer-event-1", userRefs: ["user-52"]) { id } }'
    pluvo.data(enroll)
    assert {(p["user_id"], p["training_id"]) for p in pluvo.state()["pending"]} == {
        (PluvoSeed.user_id(51), PluvoSeed.training_id(1)), (PluvoSeed.user_id(52), PluvoSeed.training_id(4))
    }  # fmt: skip
    assert _report(pluvo, 51, 1)["completionDate"] is None
    advance(sandbox, 31)
    done = _report(pluvo, 51, 1)
    assert done["progress"] == 1.0 and done["score"] == 0.9 and done["completionDate"] is not None
    assert _report(pluvo, 52, 4)["progress"] == 1.0
    assert _report(pluvo, 50, 1)["progress"] == 0.0
    _wait_for(lambda: len(recorder.events) == 2)  # sent from a background thread
    assert sorted(p["user"]["ref"] for _, p in _events(recorder)) == ["user-51", "user-52"]
    assert all(d["delivered"] for d in pluvo.state()["deliveries"])


def test_auto_progress_covers_group_links_and_can_be_switched_off(pluvo: Pluvo, sandbox: SandboxServer) -> None:
    pluvo.put("/auto_progress", {"complete_after_seconds": 5})
    link = {"group_id": PluvoSeed.group_id(1), "training_id": PluvoSeed.training_id(2)}
    assert pluvo.control.post("/group_trainings", json=link).status_code == 201
    assert len(pluvo.state()["pending"]) == 5  # group-1's five members
    pluvo.put("/auto_progress", {"complete_after_seconds": None})
    pluvo.data(ADD, {"training": "training-2", "refs": ["user-70"]})
    advance(sandbox, 6)
    assert _report(pluvo, 1, 2)["progress"] == 1.0  # armed before the switch-off
    assert _report(pluvo, 70, 2)["progress"] == 0.0


# -- the sender itself ---------------------------------------------------------------------------------------
def _flaky(statuses: list[int]) -> tuple[FastAPI, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> JSONResponse:
        seen.append({"body": await request.body(), "headers": dict(request.headers)})
        status = statuses[min(len(seen), len(statuses)) - 1]
        return JSONResponse({}, status_code=status)

    return app, seen


@pytest.mark.parametrize(
    ("platform", "statuses", "attempts", "delivered"),
    [
        ("pluvo", [503, 400, 200], 3, True),  # Pluvo retries 5xx and 4xx...
        ("pluvo", [500, 410], 2, False),  # ...but not 410 Gone
        ("anewspring", [500, 404, 200], 3, True),
    ],
)
def test_the_sender_retries_failed_deliveries_with_the_same_signed_bytes(
    platform: str, statuses: list[int], attempts: int, delivered: bool
) -> None:
    app, seen = _flaky(statuses)
    with _Receiver(app) as running, WebhookSender(platform, "s", backoff=0.01) as sender:
        result = sender.send(f"{running.url}/hook", {"event": "X", "id": "1"})
    assert result.attempts == attempts and result.delivered is delivered
    assert result.gone is (410 in statuses and platform == "pluvo")
    assert len({s["body"] for s in seen}) == 1
    assert json.loads(seen[0]["body"]) == {"event": "X", "id": "1"}
    header = "x-signature" if platform == "pluvo" else "x-webhook-signature"
    assert len({s["headers"][header] for s in seen}) == 1

"""The sandbox's aNewSpring webhook signing and retry rule, against the Node vectors in tests/fixtures/webhooks."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from airflow_provider_lms.sandbox.anewspring import MOUNT
from airflow_provider_lms.sandbox.anewspring.signing import SIGNATURE_HEADER, signature
from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.webhooks.signatures import verify_anewspring
from tests.sandbox.scripted_webhooks import scripted_sender

VECTORS = json.loads((Path(__file__).parents[1] / "fixtures" / "webhooks" / "signature_vectors.json").read_text())
CASES = [c for c in VECTORS["cases"] if c["platform"] == "anewspring"]


def _body(case: dict) -> bytes:
    return base64.b64decode(case["body_b64"])


def test_there_are_anewspring_vectors() -> None:
    assert len(CASES) >= 2


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['secret']!r}/{len(c['body_b64'])}")
def test_the_sandbox_signs_as_the_node_reference(case: dict) -> None:
    assert signature(_body(case), case["secret"]) == case["signature"]
    assert MOUNT.webhook_scheme is not None
    assert MOUNT.webhook_scheme.sign(_body(case), case["secret"]) == {"X-WebHook-Signature": case["signature"]}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['secret']!r}/{len(c['body_b64'])}")
def test_a_delivery_carries_the_signature_of_its_exact_bytes_and_our_receiver_accepts_it(case: dict) -> None:
    with WebhookSender("anewspring", case["secret"]) as sender:
        delivery = sender.sign("http://receiver.invalid/anewspring", body=_body(case))
    assert delivery.body == _body(case)
    assert delivery.headers[SIGNATURE_HEADER] == case["signature"]
    assert verify_anewspring(delivery.body, delivery.headers[SIGNATURE_HEADER], case["secret"])


def test_without_a_secret_the_delivery_is_unsigned() -> None:
    with WebhookSender("anewspring", None) as sender:
        delivery = sender.sign("http://receiver.invalid/anewspring", {"event": "RESULT_UPDATED"})
    assert SIGNATURE_HEADER not in delivery.headers


@pytest.mark.parametrize("failure", [None, 301, 400, 401, 404, 410, 429, 500, 503])
def test_every_non_2xx_and_no_answer_is_retried_and_nothing_ends_the_subscription(failure: int | None) -> None:
    sender, sleeps = scripted_sender("anewspring", [failure, failure, 204])
    with sender:
        result = sender.send("http://receiver.invalid/anewspring", {"event": "RESULT_UPDATED"})
    assert result.delivered and not result.gone
    assert result.statuses == [failure, failure, 204]
    assert len(sleeps) == 2


def test_out_of_attempts_it_gives_up_without_calling_the_receiver_gone() -> None:
    sender, _ = scripted_sender("anewspring", [410] * 5)
    with sender:
        result = sender.send("http://receiver.invalid/anewspring", {"event": "RESULT_UPDATED"})
    assert not result.delivered and not result.gone
    assert result.attempts == 5

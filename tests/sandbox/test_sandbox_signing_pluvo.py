"""The sandbox's Pluvo webhook signing and retry rule, against the Node vectors in tests/fixtures/webhooks."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from airflow_provider_lms.sandbox.pluvo import MOUNT
from airflow_provider_lms.sandbox.pluvo.signing import SALT_HEADER, SIGNATURE_HEADER, signature
from airflow_provider_lms.sandbox.webhook_sender import WebhookSender
from airflow_provider_lms.webhooks.signatures import verify_pluvo
from tests.sandbox.scripted_webhooks import scripted_sender

VECTORS = json.loads((Path(__file__).parents[1] / "fixtures" / "webhooks" / "signature_vectors.json").read_text())
CASES = [c for c in VECTORS["cases"] if c["platform"] == "pluvo"]


def _body(case: dict) -> bytes:
    return base64.b64decode(case["body_b64"])


def _id(case: dict) -> str:
    return f"{case['salt']}/{case['secret']!r}/{len(case['body_b64'])}"


def test_there_are_pluvo_vectors_with_base64url_characters() -> None:
    assert len(CASES) >= 2
    assert any("-" in c["signature"] or "_" in c["signature"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_sandbox_signs_as_the_node_reference(case: dict) -> None:
    assert signature(_body(case), case["salt"], case["secret"]) == case["signature"]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_scheme_draws_a_fresh_salt_and_signs_with_it(case: dict) -> None:
    assert MOUNT.webhook_scheme is not None
    first = MOUNT.webhook_scheme.sign(_body(case), case["secret"])
    second = MOUNT.webhook_scheme.sign(_body(case), case["secret"])
    assert set(first) == {SIGNATURE_HEADER, SALT_HEADER}
    assert first[SALT_HEADER] != second[SALT_HEADER]
    for headers in (first, second):
        assert headers[SIGNATURE_HEADER] == signature(_body(case), headers[SALT_HEADER], case["secret"])
        assert verify_pluvo(_body(case), headers[SIGNATURE_HEADER], headers[SALT_HEADER], case["secret"])


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_delivery_carries_the_signature_of_its_exact_bytes_and_our_receiver_accepts_it(case: dict) -> None:
    with WebhookSender("pluvo", case["secret"]) as sender:
        delivery = sender.sign("http://receiver.invalid/pluvo", body=_body(case))
    assert delivery.body == _body(case)
    headers = delivery.headers
    assert verify_pluvo(delivery.body, headers[SIGNATURE_HEADER], headers[SALT_HEADER], case["secret"])


def test_without_a_secret_the_delivery_is_unsigned() -> None:
    with WebhookSender("pluvo", None) as sender:
        delivery = sender.sign("http://receiver.invalid/pluvo", {"event": "TRAINING_FINISHED"})
    assert SIGNATURE_HEADER not in delivery.headers and SALT_HEADER not in delivery.headers


@pytest.mark.parametrize("failure", [None, 400, 401, 404, 409, 429, 500, 503])
def test_no_answer_and_every_4xx_or_5xx_but_410_is_retried(failure: int | None) -> None:
    sender, sleeps = scripted_sender("pluvo", [failure, failure, 200])
    with sender:
        result = sender.send("http://receiver.invalid/pluvo", {"event": "TRAINING_FINISHED"})
    assert result.delivered and not result.gone
    assert result.statuses == [failure, failure, 200]
    assert len(sleeps) == 2


def test_410_gone_ends_the_subscription_without_a_retry() -> None:
    sender, sleeps = scripted_sender("pluvo", [500, 410])
    with sender:
        result = sender.send("http://receiver.invalid/pluvo", {"event": "TRAINING_FINISHED"})
    assert result.gone and not result.delivered
    assert result.statuses == [500, 410]
    assert len(sleeps) == 1


def test_a_3xx_is_not_retried() -> None:
    # Pluvo names 4xx and 5xx as retried; a redirect is neither, and the sender does not follow it.
    sender, sleeps = scripted_sender("pluvo", [301])
    with sender:
        result = sender.send("http://receiver.invalid/pluvo", {"event": "TRAINING_FINISHED"})
    assert not result.delivered and not result.gone
    assert result.statuses == [301] and sleeps == []

"""Signatures against vectors computed independently with Node's crypto (tests/fixtures/webhooks)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from unittest import mock

import pytest

from airflow_provider_lms.webhooks import signatures
from airflow_provider_lms.webhooks.signatures import (
    anewspring_signature,
    pluvo_signature,
    tokens_match,
    verify_anewspring,
    verify_pluvo,
)

VECTORS = json.loads((Path(__file__).parents[1] / "fixtures" / "webhooks" / "signature_vectors.json").read_text())
CASES = VECTORS["cases"]


def _body(case: dict) -> bytes:
    return base64.b64decode(case["body_b64"])


@pytest.mark.parametrize("case", [c for c in CASES if c["platform"] == "pluvo"])
def test_pluvo_signature_matches_node_reference(case):
    assert pluvo_signature(_body(case), case["salt"], case["secret"]) == case["signature"]
    assert verify_pluvo(_body(case), case["signature"], case["salt"], case["secret"])


@pytest.mark.parametrize("case", [c for c in CASES if c["platform"] == "anewspring"])
def test_anewspring_signature_matches_node_reference(case):
    assert anewspring_signature(_body(case), case["secret"]) == case["signature"]
    assert verify_anewspring(_body(case), case["signature"], case["secret"])


def test_the_vectors_cover_base64url_characters_and_non_ascii():
    pluvo = [c["signature"] for c in CASES if c["platform"] == "pluvo"]
    assert any("-" in s or "_" in s for s in pluvo)
    assert all("=" not in s and "+" not in s and "/" not in s for s in pluvo)
    assert any(not _body(c).isascii() for c in CASES)


@pytest.mark.parametrize("case", [c for c in CASES if c["platform"] == "pluvo"][:2])
def test_pluvo_rejects_tampering(case):
    body, sig, salt, secret = _body(case), case["signature"], case["salt"], case["secret"]
    assert not verify_pluvo(body + b" ", sig, salt, secret)
    assert not verify_pluvo(body, sig, salt + "0", secret)
    assert not verify_pluvo(body, sig, salt, secret + "x")
    assert not verify_pluvo(body, None, salt, secret)
    assert not verify_pluvo(body, sig, None, secret)
    # Standard base64 of the same digest is not what Pluvo sends.
    assert not verify_pluvo(body, sig.replace("-", "+").replace("_", "/") + "=", salt, secret) or (
        "-" not in sig and "_" not in sig
    )


def test_anewspring_rejects_tampering():
    case = next(c for c in CASES if c["platform"] == "anewspring")
    assert not verify_anewspring(_body(case) + b"x", case["signature"], case["secret"])
    assert not verify_anewspring(_body(case), "", case["secret"])
    assert not verify_anewspring(_body(case), case["signature"], "other")


def test_every_comparison_is_constant_time():
    case = next(c for c in CASES if c["platform"] == "pluvo")
    with mock.patch.object(signatures.hmac, "compare_digest", wraps=signatures.hmac.compare_digest) as cmp:
        verify_pluvo(_body(case), case["signature"], case["salt"], case["secret"])
        verify_anewspring(b"{}", "abc", "secret")
        tokens_match("token", "token")
    assert cmp.call_count == 3


def test_tokens_match():
    assert tokens_match("s3cret", "s3cret")
    assert not tokens_match("s3cre", "s3cret")
    assert not tokens_match(None, "s3cret")
    assert not tokens_match("", "")

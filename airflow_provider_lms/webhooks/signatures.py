"""Webhook signature checks, each compared in constant time.

- Pluvo (FACTS.md, developers.pluvo.co "Webhooks security"): headers ``X-Signature`` and
  ``X-Signature-Salt``; key = SHA1(salt + secret) as raw bytes; signature = base64url without padding of
  HMAC-SHA1(key, raw body).
- aNewSpring (FACTS.md, support article 70426): ``X-WebHook-Signature`` = Base64(HMAC-SHA1(raw body, secret)).
- Eduframe documents no signature: the receiver URL carries a secret token of our own (in the path or
  the ``X-LMS-Webhook-Token`` header), compared in constant time.

The tests check these against vectors computed with Node's ``crypto`` (tests/fixtures/webhooks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = [
    "anewspring_signature",
    "pluvo_signature",
    "tokens_match",
    "verify_anewspring",
    "verify_pluvo",
]


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def pluvo_signature(body: bytes, salt: str, secret: str) -> str:
    """The ``X-Signature`` Pluvo sends for ``body`` signed with ``salt`` and the webhook ``secret``."""
    key = hashlib.sha1(_bytes(salt) + _bytes(secret)).digest()  # noqa: S324 - Pluvo's documented scheme
    digest = base64.b64encode(hmac.new(key, body, hashlib.sha1).digest()).decode("ascii")
    return digest.replace("+", "-").replace("/", "_").rstrip("=")


def anewspring_signature(body: bytes, secret: str) -> str:
    """The ``X-WebHook-Signature`` aNewSpring sends for ``body`` with the webhook ``secret``."""
    return base64.b64encode(hmac.new(_bytes(secret), body, hashlib.sha1).digest()).decode("ascii")


def tokens_match(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the expected one (False when absent)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(_bytes(given), _bytes(expected))


def verify_pluvo(body: bytes, signature: str | None, salt: str | None, secret: str) -> bool:
    """Whether ``signature`` (``X-Signature``) and ``salt`` (``X-Signature-Salt``) sign ``body``."""
    if not signature or salt is None:
        return False
    return tokens_match(signature.strip(), pluvo_signature(body, salt, secret))


def verify_anewspring(body: bytes, signature: str | None, secret: str) -> bool:
    """Whether ``signature`` (``X-WebHook-Signature``) signs ``body``."""
    if not signature:
        return False
    return tokens_match(signature.strip(), anewspring_signature(body, secret))

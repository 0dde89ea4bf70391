"""How Pluvo signs the webhooks it sends and which answers make it try again.

From Pluvo's "Webhooks security" page (developers.pluvo.co, reference Node.js code; FACTS.md): every
delivery carries a fresh random salt in ``X-Signature-Salt``; the key is SHA1(salt + webhook secret) as raw
bytes, and ``X-Signature`` is Base64(HMAC-SHA1(key, raw body)) made URL-safe (``+`` to ``-``, ``/`` to
``_``, trailing ``=`` removed). Deliveries without an answer, or answered with 4xx or 5xx, are retried with
backoff, except ``410 Gone``, which ends the subscription. Written here from the document, not taken from
the client's verifier, so that the tests compare two independent readings (and both against the Node
vectors in ``tests/fixtures/webhooks``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from airflow_provider_lms.sandbox._common import WebhookScheme

__all__ = ["GONE_STATUS", "SALT_HEADER", "SIGNATURE_HEADER", "WEBHOOK_SCHEME", "retryable", "sign", "signature"]

SIGNATURE_HEADER = "X-Signature"
SALT_HEADER = "X-Signature-Salt"
#: The answer with which a receiver ends its subscription.
GONE_STATUS = 410


def signature(body: bytes, salt: str, secret: str) -> str:
    """base64url, unpadded, of HMAC-SHA1(key=SHA1(salt + secret) raw bytes, msg=body)."""
    # SHA-1 because Pluvo's scheme uses it; not our choice of hash.
    key = hashlib.sha1((salt + secret).encode("utf-8")).digest()  # noqa: S324
    digest = hmac.new(key, body, hashlib.sha1).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign(body: bytes, secret: str) -> dict[str, str]:
    """The headers of one delivery of ``body``: a new random salt and the signature made with it."""
    # ASSUMPTION: the document does not say how long the salt is or which characters it uses; any string
    # works for the receiver, which only concatenates it. 16 hex characters.
    salt = secrets.token_hex(8)
    return {SIGNATURE_HEADER: signature(body, salt, secret), SALT_HEADER: salt}


def retryable(status: int | None) -> bool:
    """No answer (``None``) and every 4xx or 5xx except 410 are tried again."""
    return status is None or (status >= 400 and status != GONE_STATUS)


WEBHOOK_SCHEME = WebhookScheme(sign=sign, retryable=retryable, gone_status=GONE_STATUS)

"""How aNewSpring signs the webhooks it sends and which answers make it try again.

From aNewSpring's webhook article (support article 70426, see FACTS.md): the header ``X-WebHook-Signature``
carries Base64(HMAC-SHA1) of the raw request body with the webhook's secret as the key. Every answer that
is not a 2xx, and no answer at all, is tried again; aNewSpring has no status that ends a subscription.
Written here from the document, not taken from the client's verifier, so that the tests compare two
independent readings (and both against the Node vectors in ``tests/fixtures/webhooks``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from airflow_provider_lms.sandbox._common import WebhookScheme

__all__ = ["SIGNATURE_HEADER", "WEBHOOK_SCHEME", "retryable", "sign", "signature"]

SIGNATURE_HEADER = "X-WebHook-Signature"


def signature(body: bytes, secret: str) -> str:
    """Base64(HMAC-SHA1(key=secret as UTF-8, msg=body))."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()).decode("ascii")


def sign(body: bytes, secret: str) -> dict[str, str]:
    """The headers that carry the signature of ``body``."""
    return {SIGNATURE_HEADER: signature(body, secret)}


def retryable(status: int | None) -> bool:
    """Every non-2xx answer, and no answer (``None``), is tried again."""
    return status is None or not 200 <= status < 300


WEBHOOK_SCHEME = WebhookScheme(sign=sign, retryable=retryable, gone_status=None)
